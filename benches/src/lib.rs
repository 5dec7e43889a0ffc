//! Benchmarks live in `benches/`, examples in `examples/`; this library
//! holds what they share.

use std::path::PathBuf;

/// The shared corpus: `PIXGATE_CORPUS`, else `../shared/corpus` beside the
/// checkout (found at run time: a target dir may be shared between
/// checkouts).
pub fn corpus_dir() -> PathBuf {
    let beside = || {
        let krate = std::env::var_os("CARGO_MANIFEST_DIR");
        let krate = krate.unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        PathBuf::from(krate).join("../../shared/corpus")
    };
    std::env::var_os("PIXGATE_CORPUS").map_or_else(beside, Into::into)
}
