//! Signature parsing and verification (every scheme: SigV4, OSS V1/V4,
//! COS, Qiniu, QingStor, OBS, TOS, BOS; header and URL forms): arbitrary
//! headers and queries are refused or accepted, never a panic. The input is
//! split into an Authorization header, a query string, a path and a date.
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
    // An HTTP date (it has a comma) goes in `Date` only, so SigV4's
    // `Date` fallback (Huawei's SDK) is reached too.
    let amz_date = if date.contains(',') { "" } else { date };
    for (name, value) in [
        ("authorization", auth),
        ("x-amz-date", amz_date),
        ("x-oss-date", date),
        ("x-tos-date", date),
        ("x-bce-date", date),
        ("x-qs-date", date),
        ("date", date),
        ("host", "127.0.0.1:8080"),
    ] {
        if value.is_empty() {
            continue;
        }
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
