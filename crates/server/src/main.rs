fn main() -> std::process::ExitCode {
    steady_allocator();
    pixgate::cli::main()
}

/// Fixes glibc's mmap and trim thresholds, which it otherwise moves with
/// the largest block freed so far. In a fresh process each picture-sized
/// buffer went back to the kernel when freed and was faulted in again by
/// the next request (120–500 page faults a request); when and whether that
/// stopped depended on which sizes had come by first. At 16 MB / 32 MB
/// (inside glibc's own range: up to 32 MB / 64 MB) the faults are gone:
/// b-png +6 % req/s, b-webp and the 12 MP thumbnails +1–2 %, peak RSS at 16
/// concurrent thumbnails unchanged (docs/decisions.md). Thresholds a user
/// set (GLIBC_TUNABLES, or glibc's older MALLOC_*_THRESHOLD_) are left alone.
#[allow(unsafe_code)] // mallopt, below
fn steady_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var_os("GLIBC_TUNABLES").unwrap_or_default();
        let tunables = tunables.to_string_lossy();
        let legacy = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"];
        if tunables.contains("malloc.mmap_threshold")
            || tunables.contains("malloc.trim_threshold")
            || legacy.iter().any(|name| std::env::var_os(name).is_some())
        {
            return;
        }
        // SAFETY: mallopt only sets allocator parameters; nothing else runs
        // yet, and a refusal (0) leaves glibc's defaults in place.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 16 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 32 << 20);
        }
    }
}
