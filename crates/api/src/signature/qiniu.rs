//! Qiniu Kodo private download URLs (qiniu `Auth.private_download_url`):
//! `<url>?[fop&]e=<deadline>&token=<ak>:<urlsafe b64 HMAC-SHA1(sk, url up
//! to e=<deadline>)>`. The signed data is the URL exactly as the client
//! wrote it: `scheme://Host` + the raw path + `?` + the raw query up to
//! (not including) `&token=`, so the processing spec before `e=` is signed.
//!
//! Qiniu ignores anything after the token; the proxy refuses it instead,
//! because its dialect would read a processing spec there that no
//! signature covers. Refusals are Qiniu's own texts (401).
//!
//! The management-API header schemes (`QBox `, `Qiniu `) are not download
//! credentials and stay unverified (anonymous).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use percent_encoding::percent_decode_str;

use super::crypto::hmac_sha1;
use super::*;

const SHAPE: &str = "qiniu";

/// Whether the query carries a Qiniu download token (complete or not): a
/// `token` of the form `<ak>:<sig>`, or a `token` beside an `e` deadline.
pub(super) fn in_query(query: &[(String, String)]) -> bool {
    param(query, "token").is_some_and(|t| t.contains(':') || param(query, "e").is_some())
}

fn refused(code: Code, message: &str) -> Denied {
    denied(code, message).in_shape(SHAPE)
}

/// A token Qiniu could not read (`bad token`, 401 like every token failure).
fn bad_token(why: &str) -> Denied {
    refused(Code::SignatureDoesNotMatch, &format!("bad token: {why}"))
}

pub(super) fn url_form(
    r: &Signed,
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    // The token is the last parameter: everything before `&token=` is signed.
    let (signed_query, token) = match r.raw_query.rsplit_once("&token=") {
        Some(split) => split,
        None => return Err(bad_token("the token must follow the e= deadline")),
    };
    if token.contains('&') {
        return Err(bad_token("the token must be the last parameter of the URL"));
    }
    let token = percent_decode_str(token).decode_utf8_lossy();
    let (ak, signature) = token
        .split_once(':')
        .ok_or_else(|| bad_token("the token is not <AccessKey>:<signature>"))?;
    // The deadline is the signed query's own `e=` (its last one).
    let deadline = signed_query
        .rsplit('&')
        .find_map(|p| p.strip_prefix("e="))
        .ok_or_else(|| bad_token("the URL has no e= deadline"))?;
    let deadline = deadline
        .parse::<u64>()
        .ok()
        .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
        .ok_or_else(|| bad_token("the e= deadline is not a Unix time"))?;
    if now > deadline {
        return Err(refused(Code::RequestExpired, "token out of date"));
    }
    let secret = secret(keys, ak)
        .map_err(|e| refused(e.code, "download token auth failed: unknown access key"))?;
    let host = header(r.headers, "host").unwrap_or("");
    let given = signature.trim_end_matches('=');
    let candidates = schemes(r.headers).into_iter().map(|scheme| {
        let url = format!("{scheme}://{host}{}?{signed_query}", r.raw_path);
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(hmac_sha1(secret.as_bytes(), url.as_bytes()))
    });
    if matches_any(candidates, given) {
        Ok(Principal::Key(ak.to_owned()))
    } else {
        Err(refused(
            Code::SignatureDoesNotMatch,
            "download token auth failed",
        ))
    }
}

/// The scheme the client wrote: `X-Forwarded-Proto` behind a proxy that
/// terminates TLS, else either (the proxy cannot know).
fn schemes(h: &HeaderMap) -> Vec<&str> {
    match header(h, "x-forwarded-proto")
        .and_then(|p| p.split(',').next())
        .map(str::trim)
    {
        Some(p) if p.eq_ignore_ascii_case("https") => vec!["https"],
        Some(p) if p.eq_ignore_ascii_case("http") => vec!["http"],
        _ => vec!["http", "https"],
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    const PATH: &str = "/photos/cat%201.jpg";
    const QUERY: &str =
        "imageView2/1/w/100/h/100&e=1705309200&token=AKIDEXAMPLE:gTImfuQNJjdUCrbDcHEu84KA7nI=";

    fn host(h: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert("host", h.parse().unwrap());
        m
    }

    fn get<'a>(query: &'a str, h: &'a HeaderMap) -> Signed<'a> {
        Signed {
            method: "GET",
            raw_path: PATH,
            raw_query: query,
            headers: h,
            bucket: "photos",
            key: "cat 1.jpg",
        }
    }

    fn refusal(query: &str, h: &HeaderMap, now: u64) -> (Code, String) {
        let e = verify(&get(query, h), &keys(), at(now)).unwrap_err();
        assert_eq!(e.shape, Some("qiniu"), "{query}");
        (e.code, e.message)
    }

    /// [SDK-run] `private_download_url('http://127.0.0.1:8080/photos/cat%201.jpg?imageView2/1/w/100/h/100', 3600)`.
    #[test]
    fn the_sdk_private_url_verifies() {
        let h = host("127.0.0.1:8080");
        assert_eq!(
            verify(&get(QUERY, &h), &keys(), at(T)),
            Ok(Principal::Key("AKIDEXAMPLE".into()))
        );
        // Behind a TLS terminator that says the client used http.
        let mut fwd = h.clone();
        fwd.insert("x-forwarded-proto", "http".parse().unwrap());
        assert!(verify(&get(QUERY, &fwd), &keys(), at(T)).is_ok());
        fwd.insert("x-forwarded-proto", "https".parse().unwrap());
        assert!(verify(&get(QUERY, &fwd), &keys(), at(T)).is_err());
    }

    /// [SDK-run] the same call on `https://cdn.example.com/…`.
    #[test]
    fn the_sdk_https_url_verifies() {
        let h = host("cdn.example.com");
        let q =
            "imageView2/1/w/100/h/100&e=1705309200&token=AKIDEXAMPLE:mCUwpEmSJQ8A3wHWJvre9tXdAVM=";
        assert!(verify(&get(q, &h), &keys(), at(T)).is_ok());
        // The same token without its padding, or with the `=` encoded.
        let q2 = q.trim_end_matches('=');
        assert!(verify(&get(q2, &h), &keys(), at(T)).is_ok());
        let q3 = q.replace("AVM=", "AVM%3D");
        assert!(verify(&get(&q3, &h), &keys(), at(T)).is_ok());
    }

    #[test]
    fn refusals_are_qiniu_texts() {
        let h = host("127.0.0.1:8080");
        // The spec, the key, the deadline or the signature changed.
        for q in [
            QUERY.replace("w/100", "w/101"),
            QUERY.replace("e=1705309200", "e=1705309201"),
            QUERY.replace("gTImfuQ", "gTImfuR"),
        ] {
            assert_eq!(
                refusal(&q, &h, T),
                (
                    Code::SignatureDoesNotMatch,
                    "download token auth failed".into()
                ),
                "{q}"
            );
        }
        let other = Signed {
            raw_path: "/photos/cat%202.jpg",
            ..get(QUERY, &h)
        };
        assert_eq!(
            verify(&other, &keys(), at(T)).unwrap_err().code,
            Code::SignatureDoesNotMatch
        );
        // Another host or port is another URL.
        assert_eq!(
            refusal(QUERY, &host("127.0.0.1:8081"), T).0,
            Code::SignatureDoesNotMatch
        );
        // Past the deadline (no skew: the deadline is the client's choice).
        assert!(verify(&get(QUERY, &h), &keys(), at(1_705_309_200)).is_ok());
        assert_eq!(
            refusal(QUERY, &h, 1_705_309_201),
            (Code::RequestExpired, "token out of date".into())
        );
        // A key the proxy does not hold.
        let q = QUERY.replace("token=AKIDEXAMPLE", "token=AKIDother");
        assert_eq!(refusal(&q, &h, T).0, Code::InvalidAccessKeyId);
    }

    #[test]
    fn malformed_tokens_are_errors_not_anonymous() {
        let h = host("127.0.0.1:8080");
        for q in [
            // Something after the token (an unsigned spec, say).
            format!("{QUERY}&imageView2/1/w/1000"),
            "e=1705309200&token=AKIDEXAMPLE".to_owned(),
            "token=AKIDEXAMPLE:abc".to_owned(),
            "imageView2/1/w/100&token=AKIDEXAMPLE:abc".to_owned(),
            "e=soon&token=AKIDEXAMPLE:abc".to_owned(),
            "e=99999999999999999999&token=AKIDEXAMPLE:abc".to_owned(),
            "e=18446744073709551615&token=AKIDEXAMPLE:abc".to_owned(),
            "e=1&token=".to_owned(),
            "e=1705309200&token=:".to_owned(),
        ] {
            let (code, message) = refusal(&q, &h, T);
            assert_ne!(code, Code::AccessDenied, "{q}");
            assert!(!message.is_empty());
        }
        // No token at all is an anonymous request.
        assert_eq!(
            verify(&get("e=1705309200", &h), &keys(), at(T)),
            Ok(Principal::Anonymous)
        );
    }
}
