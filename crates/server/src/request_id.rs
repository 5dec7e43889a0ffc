//! Request ids: 24 upper-case hex digits (the clouds' usual shape), unique per
//! request and unlikely to repeat across restarts or replicas.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn process_salt() -> u64 {
    static SALT: OnceLock<u64> = OnceLock::new();
    // RandomState is seeded from the OS's randomness: a per-process salt
    // without another dependency.
    *SALT.get_or_init(|| RandomState::new().hash_one(std::process::id()))
}

/// Seconds since the epoch at `now`, counted on the monotonic clock from
/// one wall-clock reading: an id needs them only roughly, and the request
/// has read the monotonic clock already.
fn epoch_secs(now: Instant) -> u64 {
    static BASE: OnceLock<(Instant, u64)> = OnceLock::new();
    let (at, secs) = BASE.get_or_init(|| {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        (Instant::now(), secs)
    });
    secs + now.saturating_duration_since(*at).as_secs()
}

/// The id of a request that arrived at `now`: `SSSSSSSS` seconds since
/// the epoch, then 16 digits of a salted counter.
pub fn next(now: Instant) -> String {
    let secs = epoch_secs(now);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // A bijective mix keeps ids of one process distinct while hiding the count.
    let mixed = (n ^ process_salt()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // By hand: `format!` costs as much as the rest of a cached answer's
    // headers.
    let mut id = String::with_capacity(24);
    push_hex(&mut id, u64::from(secs as u32), 8);
    push_hex(&mut id, mixed, 16);
    id
}

/// The low `digits` hex digits of `n`, upper case, zero-padded.
fn push_hex(out: &mut String, n: u64, digits: u32) {
    for i in (0..digits).rev() {
        let nibble = (n >> (4 * i)) & 0xF;
        out.push(char::from(b"0123456789ABCDEF"[nibble as usize]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_hex_digits_and_distinct() {
        let now = Instant::now();
        let a = next(now);
        let b = next(now);
        assert_eq!(a.len(), 24);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn ids_start_with_the_arrival_second() {
        let secs = |id: &str| u32::from_str_radix(&id[..8], 16).unwrap();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as u32;
        let now = Instant::now();
        let id = next(now);
        assert!(secs(&id).abs_diff(wall) <= 2, "{id} vs {wall}");
        let later = next(now + std::time::Duration::from_secs(100));
        assert_eq!(secs(&later) - secs(&id), 100);
    }

    #[test]
    fn hex_digits_match_format() {
        for n in [0, 1, 0xABC, u64::MAX, 0x0123_4567_89AB_CDEF] {
            let mut out = String::new();
            push_hex(&mut out, n, 16);
            assert_eq!(out, format!("{n:016X}"));
            let mut short = String::new();
            push_hex(&mut short, n, 8);
            assert_eq!(short, format!("{:08X}", n as u32));
        }
    }
}
