//! Signature parsing and verification (SigV4, OSS V1/V4, header and URL
//! forms): arbitrary headers and queries are refused or accepted, never a
//! panic. The input is split into an Authorization header, a query string
//! and a path.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use pixgate::access::{Signed, verify};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let auth = parts.next().unwrap_or("");
    let query = parts.next().unwrap_or("");
    let path = parts.next().unwrap_or("/k");
    let date = parts.next().unwrap_or("");
    let mut headers = HeaderMap::new();
    for (name, value) in [
        ("authorization", auth),
        ("x-amz-date", date),
        ("x-oss-date", date),
        ("date", date),
    ] {
        if let Ok(v) = value.parse() {
            headers.insert(name, v);
        }
    }
    let keys: HashMap<String, String> = [("AK".to_owned(), "SK".to_owned())].into();
    let r = Signed {
        method: "GET",
        raw_path: path,
        raw_query: query,
        headers: &headers,
        bucket: "b",
        key: "k",
    };
    let _ = verify(&r, &keys, UNIX_EPOCH + Duration::from_secs(1_764_000_000));
});
