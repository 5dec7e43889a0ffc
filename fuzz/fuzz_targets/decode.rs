//! Every decoder entry point, through the same path a request takes: probe,
//! limits, decode (with shrink-on-load), a small resize and encode, and the
//! metadata readers. Limits are small so a fuzzed header cannot make the
//! fuzzer itself run out of memory.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use pixgate_api::{Incoming, Operation, Plan, Query, classify};
use pixgate_codec::{Limits, read_metadata};
use pixgate_ops::{Settings, Stop, metadata, process};

static RESTORE_HOOK: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // libfuzzer-sys aborts on any panic, even one the code under test
    // catches on purpose (codec's `guarded` turns a decoder bug into a 400).
    // Restore the default hook: an uncaught panic still aborts the run.
    RESTORE_HOOK.call_once(|| drop(std::panic::take_hook()));
    let settings = Settings::new(
        Limits {
            max_source_side: 4096,
            max_source_pixels: 4_000_000,
            ..Limits::default()
        },
        true,
        Stop::never(),
    );
    // WebP output keeps an animation: every frame of a GIF, WebP, APNG or
    // AVIF sequence is decoded (and the APNG path is PNG → PNG).
    for p in [
        "resize,w_32/format,png",
        "rotate,90/format,jpg",
        "resize,w_16/format,webp",
    ] {
        let plan = Plan::parse(p).expect("a valid plan");
        let _ = process(data, &plan, &settings);
    }
    // The progressive DC-scan decoder, directly (a request reaches it only
    // for large downscales, which the small plans above rarely make).
    if let Ok(p) = pixgate_codec::probe(data) {
        let _ = pixgate_codec::decode_dc(data, (p.width, p.height));
    }
    let _ = read_metadata(data);
    // Every header-reading metadata answer a dialect offers by query.
    for q in ["exif", "image&action=info"] {
        let query = Query::parse(q);
        let (_, op) = classify(&Incoming {
            query: &query,
            headers: &[],
        });
        if let Ok(Operation::Metadata(kind)) = op {
            let _ = metadata(data, &kind, &settings);
        }
    }
});
