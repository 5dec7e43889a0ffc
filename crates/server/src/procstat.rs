//! The standard `process_*` series Prometheus client libraries export
//! (CPU seconds, resident memory, file descriptors, start time), read from
//! `/proc/self` on Linux; elsewhere they are left out.

/// One reading of the process's own counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcStat {
    pub cpu_seconds: f64,
    pub resident_bytes: i64,
    pub open_fds: i64,
    pub max_fds: Option<i64>,
    pub start_time_seconds: Option<f64>,
}

/// Linux's USER_HZ, which `/proc/self/stat` counts CPU time in: 100 on
/// every architecture the kernel supports today.
const TICKS_PER_SECOND: f64 = 100.0;
/// Linux's page size on the platforms this runs on.
const PAGE_BYTES: i64 = 4096;

pub fn read() -> Option<ProcStat> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which may hold spaces and parentheses.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15, starttime 22 and rss 24 of the
    // whole line (1-based); `fields` starts at field 3.
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let cpu_seconds = (field(14)? + field(15)?) as f64 / TICKS_PER_SECOND;
    let resident_bytes = field(24)? as i64 * PAGE_BYTES;
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as i64;
    Some(ProcStat {
        cpu_seconds,
        resident_bytes,
        open_fds,
        max_fds: max_fds(),
        start_time_seconds: boot_time()
            .zip(field(22))
            .map(|(boot, ticks)| boot + ticks as f64 / TICKS_PER_SECOND),
    })
}

/// The soft limit on open files.
fn max_fds() -> Option<i64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Seconds since the epoch at which the machine booted.
fn boot_time() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let Some(s) = read() else {
            // Not Linux: nothing to read.
            return;
        };
        assert!(s.resident_bytes > 1 << 20, "{s:?}");
        assert!(s.open_fds >= 3, "{s:?}");
        assert!(s.max_fds.unwrap() >= s.open_fds, "{s:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let started = s.start_time_seconds.unwrap();
        assert!(started <= now + 1.0 && started > now - 86_400.0, "{s:?}");
    }
}
