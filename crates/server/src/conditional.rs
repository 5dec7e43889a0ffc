//! `If-None-Match` / `If-Modified-Since` evaluated by the proxy itself, from
//! the validators the origin returned: not every upstream honours them
//! (s3s-fs ignores them), and a CDN in front relies on 304s.

use std::time::SystemTime;

use http::HeaderMap;
use http::header::{IF_MODIFIED_SINCE, IF_NONE_MATCH};

/// RFC 9110 §13.2.2: `If-None-Match` decides when present; `If-Modified-Since`
/// only counts without it.
pub fn not_modified(headers: &HeaderMap, etag: Option<&str>, last_modified: Option<&str>) -> bool {
    if let Some(inm) = headers.get(IF_NONE_MATCH) {
        let Ok(inm) = inm.to_str() else {
            return false;
        };
        return etag.is_some_and(|etag| none_match_hits(inm, etag));
    }
    if let Some(ims) = headers.get(IF_MODIFIED_SINCE) {
        let since = ims.to_str().ok().and_then(parse_date);
        let modified = last_modified.and_then(parse_date);
        if let (Some(since), Some(modified)) = (since, modified) {
            return modified <= since;
        }
    }
    false
}

/// Weak comparison (W/ prefixes ignored) against a list or `*`.
fn none_match_hits(list: &str, etag: &str) -> bool {
    let etag = opaque(etag);
    list.split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || (!candidate.is_empty() && opaque(candidate) == etag))
}

fn opaque(tag: &str) -> &str {
    tag.trim().strip_prefix("W/").unwrap_or(tag.trim())
}

fn parse_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    const LM: &str = "Tue, 24 Nov 2026 10:00:00 GMT";

    #[test]
    fn etags() {
        let e = Some("\"abc\"");
        assert!(not_modified(
            &headers(&[("if-none-match", "\"abc\"")]),
            e,
            None
        ));
        assert!(not_modified(
            &headers(&[("if-none-match", "\"x\", W/\"abc\"")]),
            e,
            None
        ));
        assert!(not_modified(&headers(&[("if-none-match", "*")]), e, None));
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"abd\"")]),
            e,
            None
        ));
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"abc\"")]),
            None,
            None
        ));
    }

    #[test]
    fn dates_and_precedence() {
        let lm = Some(LM);
        assert!(not_modified(
            &headers(&[("if-modified-since", LM)]),
            None,
            lm
        ));
        assert!(not_modified(
            &headers(&[("if-modified-since", "Wed, 25 Nov 2026 10:00:00 GMT")]),
            None,
            lm
        ));
        assert!(!not_modified(
            &headers(&[("if-modified-since", "Mon, 23 Nov 2026 10:00:00 GMT")]),
            None,
            lm
        ));
        assert!(!not_modified(
            &headers(&[("if-modified-since", "garbage")]),
            None,
            lm
        ));
        // A non-matching If-None-Match overrides a matching If-Modified-Since.
        assert!(!not_modified(
            &headers(&[("if-none-match", "\"x\""), ("if-modified-since", LM)]),
            Some("\"abc\""),
            lm
        ));
    }
}
