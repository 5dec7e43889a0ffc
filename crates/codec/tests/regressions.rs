//! Inputs that once broke a decoder (found by `fuzz/`): each must now give
//! a clean error through every entry point, never a panic.

// Test code: a panic with the failed call is the clearest report.
#![allow(clippy::unwrap_used)]
use pixgate_codec::{Limits, decode, decode_animation, probe, read_metadata};

fn each_fixture() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("tests/regressions");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

#[test]
fn fuzz_crashes_are_clean_errors() {
    let limits = Limits::default();
    for (name, bytes) in each_fixture() {
        let _ = read_metadata(&bytes);
        if let Ok(p) = probe(&bytes) {
            for shrink in [1, 8] {
                assert!(
                    decode(&bytes, &p, shrink, &limits).is_err(),
                    "{name} decoded"
                );
            }
            if p.frames > 1 {
                assert!(
                    decode_animation(&bytes, &p, &limits).is_err(),
                    "{name} animated"
                );
            }
        }
    }
}
