//! The process-string parser: never panics, and whatever it accepts, its
//! canonical form parses back to the same plan (the cache key is stable).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pixgate_api::{Incoming, Plan, Query, classify, dialect};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = Plan::parse(text) {
        let canonical = plan.canonical();
        let again = Plan::from_canonical(canonical.strip_prefix("image/").unwrap_or(&canonical))
            .expect("a canonical string parses");
        assert_eq!(again.canonical(), canonical);
        // Layout maths on a few sizes must not panic either.
        for (w, h) in [(1, 1), (400, 267), (30000, 2)] {
            for step in &plan.steps {
                if let pixgate_api::Step::Resize(r) = step {
                    let _ = r.layout(w, h);
                }
            }
        }
    }
    // Every dialect's detection and parsing, with the text in the query and
    // in every processing header.
    let headers: Vec<(&str, &str)> = dialect::process_headers().map(|n| (n, text)).collect();
    let query = Query::parse(text);
    let incoming = Incoming {
        query: &query,
        headers: &headers,
    };
    // Every dialect in turn (a bucket may answer any one alone), and the
    // layout maths of whatever plan it builds.
    for d in dialect::DIALECTS {
        if let Ok(pixgate_api::Operation::Process { plan: Ok(plan), .. }) = d.parse(&incoming) {
            let _ = plan.canonical();
            for (w, h) in [(1, 1), (400, 267), (30000, 2)] {
                for step in &plan.steps {
                    if let pixgate_api::Step::Resize(r) = step {
                        let _ = r.layout(w, h);
                    }
                }
            }
        }
        let _ = d.style_plan(text);
    }
    let _ = classify(&incoming);
});
