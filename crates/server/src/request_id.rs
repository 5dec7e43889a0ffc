//! Request ids: 24 upper-case hex digits (the clouds' usual shape), unique per
//! request and unlikely to repeat across restarts or replicas.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn process_salt() -> u64 {
    static SALT: OnceLock<u64> = OnceLock::new();
    // RandomState is seeded from the OS's randomness: a per-process salt
    // without another dependency.
    *SALT.get_or_init(|| RandomState::new().hash_one(std::process::id()))
}

/// `SSSSSSSS` seconds since the epoch, then 16 digits of a salted counter.
pub fn next() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // A bijective mix keeps ids of one process distinct while hiding the count.
    let mixed = (n ^ process_salt()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{:08X}{:016X}", secs as u32, mixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_hex_digits_and_distinct() {
        let a = next();
        let b = next();
        assert_eq!(a.len(), 24);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_ne!(a, b);
    }
}
