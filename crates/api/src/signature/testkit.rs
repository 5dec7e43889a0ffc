//! What the schemes' tests share: the reference's frozen SDK runs
//! (AKIDEXAMPLE / SECRETEXAMPLE at 2024-01-15T08:00:00Z) and small builders.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

pub const AK: &str = "AKIDEXAMPLE";
/// 2024-01-15T08:00:00Z, when the reference's SDK runs were frozen.
pub const T: u64 = 1_705_305_600;

pub fn keys() -> HashMap<String, String> {
    keys_of(AK, "SECRETEXAMPLE")
}

/// A key set of one pair.
pub fn keys_of(ak: &str, sk: &str) -> HashMap<String, String> {
    [(ak.to_owned(), sk.to_owned())].into()
}

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, v.parse().unwrap());
    }
    h
}
