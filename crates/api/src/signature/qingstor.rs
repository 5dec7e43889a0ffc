//! QingStor request signatures (qingstor-sdk `Request.sign` /
//! `sign_query`; qingstor-sdk-go `request/signer/qingstor.go`):
//! `Authorization: QS <ak>:<b64 HMAC-SHA256(sk, StringToSign)>`, or the
//! query parameters `signature`, `access_key_id` and `expires` (absolute).
//!
//! `StringToSign = Verb\nContent-MD5\nContent-Type\nDate\n[x-qs-* headers]
//! <path as sent>[?<sorted sub-resources>]`. The sub-resources are a fixed
//! list that includes `image` but not `action`: the SDKs leave the
//! processing string unsigned, so the proxy cannot require it signed (a
//! signed image request's action can be changed; its key, its `image`
//! flag, its dates cannot).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use percent_encoding::percent_decode_str;

use super::crypto::hmac_sha256;
use super::*;

const SHAPE: &str = "qingstor";

/// The query parameters the SDKs sign (Python's list; Go's lacks `cname`
/// and `replication`, which no GET carries).
pub(super) const SUBRESOURCES: &[&str] = &[
    "acl",
    "append",
    "cname",
    "cors",
    "delete",
    "image",
    "lifecycle",
    "logging",
    "mirror",
    "notification",
    "part_number",
    "policy",
    "position",
    "replication",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "stats",
    "upload_id",
    "uploads",
];

fn malformed(what: &str) -> Denied {
    denied(
        Code::AccessDenied,
        &format!("The QingStor signature is malformed: {what}."),
    )
}

/// Whether the query carries a QingStor signature (complete or not).
pub(super) fn in_query(query: &[(String, String)]) -> bool {
    param(query, "access_key_id").is_some()
        || (param(query, "signature").is_some() && param(query, "expires").is_some())
}

/// `Authorization: QS <ak>:<signature>`; `rest` follows `QS `.
pub(super) fn header_form(
    r: &Signed,
    rest: &str,
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    header_check(r, rest, keys, now).map_err(|e| e.in_shape(SHAPE))
}

fn header_check(
    r: &Signed,
    rest: &str,
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let (ak, signature) = rest
        .trim()
        .split_once(':')
        .ok_or_else(|| malformed("the Authorization header is not QS <AccessKey>:<signature>"))?;
    // With x-qs-date the Date line is empty and x-qs-date (a signed
    // header) carries the time.
    let (date_line, date) = match header(r.headers, "x-qs-date") {
        Some(d) => ("", d),
        None => {
            let d = header(r.headers, "date")
                .ok_or_else(|| malformed("the request has neither Date nor X-QS-Date"))?;
            (d, d)
        }
    };
    let t = httpdate::parse_http_date(date.trim())
        .map_err(|_| malformed("the request's date is not an HTTP date"))?;
    check_skew(t, now)?;
    let secret = secret(keys, ak)?;
    // The Python SDK signs the Content-Type it guessed from the key, even
    // on a GET: the header as received is what was signed.
    let content_type = header(r.headers, "content-type").unwrap_or("");
    check(r, secret, ak, signature, content_type, date_line)
}

/// `?…&signature=…&access_key_id=…&expires=<unix seconds>`.
pub(super) fn query_form(
    r: &Signed,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    query_check(r, query, keys, now).map_err(|e| e.in_shape(SHAPE))
}

fn query_check(
    r: &Signed,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let q = |name: &'static str| {
        param(query, name).ok_or_else(|| malformed(&format!("the URL has no {name}")))
    };
    let (ak, signature, expires) = (q("access_key_id")?, q("signature")?, q("expires")?);
    let end = expires
        .parse::<u64>()
        .ok()
        .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
        .ok_or_else(|| malformed("expires is not a Unix time"))?;
    if now > end {
        return Err(denied(Code::RequestExpired, "The signed URL has expired."));
    }
    let secret = secret(keys, ak)?;
    // Python signs an empty Content-Type line here, Go the request's own.
    let received = header(r.headers, "content-type").unwrap_or("");
    check(r, secret, ak, signature, "", expires).or_else(|e| match received {
        "" => Err(e),
        ct => check(r, secret, ak, signature, ct, expires),
    })
}

/// Tries every reading of the resource (path style or virtual host;
/// sub-resource values as sent or decoded) against the signature.
fn check(
    r: &Signed,
    secret: &str,
    ak: &str,
    signature: &str,
    content_type: &str,
    date_line: &str,
) -> Result<Principal, Denied> {
    let head = format!(
        "{}\n{}\n{content_type}\n{date_line}\n{}",
        r.method,
        header(r.headers, "content-md5").unwrap_or(""),
        qs_headers(r.headers)
    );
    let candidates = resources(r).into_iter().map(|resource| {
        base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
            secret.as_bytes(),
            format!("{head}{resource}").as_bytes(),
        ))
    });
    if matches_any(candidates, signature.trim()) {
        Ok(Principal::Key(ak.to_owned()))
    } else {
        Err(denied(
            Code::SignatureDoesNotMatch,
            "The signature you provided does not match the one calculated by the server.",
        ))
    }
}

/// Every `x-qs-*` header as `name:value\n`, sorted by name.
fn qs_headers(h: &HeaderMap) -> String {
    let mut pairs: Vec<(String, String)> = h
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-qs-"))
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).trim().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}:{v}\n")).collect()
}

/// The canonicalized resources the request may have been signed with.
fn resources(r: &Signed) -> Vec<String> {
    // Sub-resources as they appear in the URL (Python) or decoded (Go).
    let mut raw: Vec<String> = Vec::new();
    let mut decoded: Vec<String> = Vec::new();
    for part in r.raw_query.split('&') {
        let (k, v) = match part.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (part, None),
        };
        if !SUBRESOURCES.contains(&k) {
            continue;
        }
        match v {
            Some(v) => {
                raw.push(format!("{k}={v}"));
                decoded.push(format!("{k}={}", percent_decode_str(v).decode_utf8_lossy()));
            }
            None => {
                raw.push(k.to_owned());
                decoded.push(k.to_owned());
            }
        }
    }
    raw.sort();
    decoded.sort();
    let mut subs = vec![raw.join("&")];
    if decoded != raw {
        subs.push(decoded.join("&"));
    }
    // Path style signs the path as sent; a virtual-host request signs it
    // behind `/<bucket>`.
    let mut paths = vec![r.raw_path.to_owned()];
    let bucket = format!("/{}", r.bucket);
    if !r.bucket.is_empty()
        && r.raw_path != bucket
        && !r.raw_path.starts_with(&format!("{bucket}/"))
    {
        paths.push(format!("{bucket}{}", r.raw_path));
    }
    let mut out = Vec::new();
    for path in &paths {
        for s in &subs {
            out.push(if s.is_empty() {
                path.clone()
            } else {
                format!("{path}?{s}")
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;

    fn get<'a>(path: &'a str, query: &'a str, h: &'a HeaderMap) -> Signed<'a> {
        Signed {
            method: "GET",
            raw_path: path,
            raw_query: query,
            headers: h,
            bucket: "examplebucket",
            key: "photos/cat 1.jpg",
        }
    }

    /// [official] qingstor-sdk-go `qingstor_test.go`: the header form, the
    /// same with X-QS-Date, and the query form. Its date is year 1, so the
    /// header forms are checked below the clock check.
    #[test]
    fn the_go_sdk_vectors_verify() {
        let h = headers(&[
            ("date", "Mon, 01 Jan 0001 00:00:00 GMT"),
            ("x-qs-test-1", "Test 1"),
            ("x-qs-test-2", "Test 2"),
        ]);
        let mut r = get(
            "/",
            "acl&upload_id=fde133b5f6d932cd9c79bac3c7318da1&part_number=0&other=abc",
            &h,
        );
        r.bucket = "";
        let sk = "ENV_SECRET_ACCESS_KEY";
        let ok = |r: &Signed, date_line: &str, want: &str| {
            assert_eq!(
                check(r, sk, "AK", want, "", date_line),
                Ok(Principal::Key("AK".into())),
                "{want}"
            );
        };
        ok(
            &r,
            "Mon, 01 Jan 0001 00:00:00 GMT",
            "bvglZF9iMOv1RaCTxPYWxexmt1UN2m5WKngYnhDEp2c=",
        );
        ok(&r, "3600", "GRL3p3NOgHR9CQygASvyo344vdnO1hFke6ZvQ5mDVHM=");
        let mut h2 = h.clone();
        h2.insert(
            "x-qs-date",
            "Mon, 01 Jan 0001 00:00:00 GMT".parse().unwrap(),
        );
        let r2 = Signed { headers: &h2, ..r };
        ok(&r2, "", "qkY+tOMdqfDAVv+ZBtlWeEBxlbyIKaQmj5lQlylENzo=");
        // The path as sent, percent-encoded.
        let h = headers(&[("date", "Mon, 01 Jan 0001 00:00:00 GMT")]);
        let r3 = Signed {
            bucket: "bucket-name",
            ..get("/bucket-name/%E4%B8%AD%E6%96%87", "", &h)
        };
        ok(
            &r3,
            "Mon, 01 Jan 0001 00:00:00 GMT",
            "XsTXX50kzqBf92zLG1aIUIJmZ0hqIHoaHgkumwnV3fs=",
        );
    }

    const PATH: &str = "/examplebucket/photos/cat%201.jpg";
    const ACTION: &str = "action=resize%3Aw_100%2Ch_100&image";

    fn sdk_header(auth: &str) -> HeaderMap {
        headers(&[
            ("host", "127.0.0.1:8080"),
            ("date", "Mon, 15 Jan 2024 08:00:00 GMT"),
            ("content-type", "image/jpeg"),
            ("authorization", auth),
        ])
    }

    /// [SDK-run] `image_process('photos/cat 1.jpg', action='resize:w_100,h_100')`.
    #[test]
    fn the_python_sdk_image_process_verifies() {
        let k = keys_of("AKIDEXAMPLE", "SECRETEXAMPLE");
        let h = sdk_header("QS AKIDEXAMPLE:+j0gxG0cENytK4Pzf0vxvStLbGXU9CN1mkpMnw4VC4c=");
        let r = get(PATH, ACTION, &h);
        assert_eq!(
            verify(&r, &k, at(T)),
            Ok(Principal::Key("AKIDEXAMPLE".into()))
        );
        // `action` is not signed by the SDKs…
        let other_action = get(PATH, "action=resize%3Aw_200&image", &h);
        assert!(verify(&other_action, &k, at(T)).is_ok());
        // …`image`, the key and the Content-Type are.
        for r2 in [
            get(PATH, "action=resize%3Aw_100%2Ch_100", &h),
            get("/examplebucket/photos/cat%202.jpg", ACTION, &h),
        ] {
            let e = verify(&r2, &k, at(T)).unwrap_err();
            assert_eq!(
                (e.code, e.shape),
                (Code::SignatureDoesNotMatch, Some("qingstor"))
            );
        }
        let mut no_ct = h.clone();
        no_ct.remove("content-type");
        assert!(verify(&get(PATH, ACTION, &no_ct), &k, at(T)).is_err());
    }

    /// [SDK-run] `sign_query(1705309200)` of the same request.
    #[test]
    fn the_python_sdk_signed_url_verifies() {
        let k = keys_of("AKIDEXAMPLE", "SECRETEXAMPLE");
        let q = "action=resize%3Aw_100%2Ch_100&image&signature=dOARldxmdQ9n2LvIQJpmbK%2BdMxFInvXXseBq6e4CW58%3D&access_key_id=AKIDEXAMPLE&expires=1705309200";
        let h = headers(&[("host", "127.0.0.1:8080")]);
        let r = get(PATH, q, &h);
        assert_eq!(
            verify(&r, &k, at(T)),
            Ok(Principal::Key("AKIDEXAMPLE".into()))
        );
        assert!(verify(&r, &k, at(1_705_309_200)).is_ok());
        let e = verify(&r, &k, at(1_705_309_201)).unwrap_err();
        assert_eq!((e.code, e.shape), (Code::RequestExpired, Some("qingstor")));
        // The expiry is signed: a later one does not match.
        let later = q.replace("expires=1705309200", "expires=1705309300");
        let e = verify(&get(PATH, &later, &h), &k, at(T)).unwrap_err();
        assert_eq!(e.code, Code::SignatureDoesNotMatch);
        // A Content-Type header sent with the URL does not break it.
        let ct = headers(&[("content-type", "image/png")]);
        assert!(verify(&get(PATH, q, &ct), &k, at(T)).is_ok());
    }

    #[test]
    fn virtual_host_requests_sign_the_bucket_too() {
        // `/<bucket>` + the path, as the SDK's virtual-host mode signs.
        let k = keys_of("AKIDEXAMPLE", "SECRETEXAMPLE");
        let h = sdk_header("QS AKIDEXAMPLE:+j0gxG0cENytK4Pzf0vxvStLbGXU9CN1mkpMnw4VC4c=");
        let r = get("/photos/cat%201.jpg", ACTION, &h);
        assert!(verify(&r, &k, at(T)).is_ok());
    }

    #[test]
    fn refusals_answer_in_the_qingstor_shape() {
        let k = keys_of("AKIDEXAMPLE", "SECRETEXAMPLE");
        let h = sdk_header("QS AKIDEXAMPLE:+j0gxG0cENytK4Pzf0vxvStLbGXU9CN1mkpMnw4VC4c=");
        let r = get(PATH, ACTION, &h);
        let code = |r: &Signed, k: &HashMap<String, String>, now: u64| {
            let e = verify(r, k, at(now)).unwrap_err();
            assert_eq!(e.shape, Some("qingstor"));
            e.code
        };
        assert_eq!(
            code(&r, &keys_of("other", "x"), T),
            Code::InvalidAccessKeyId
        );
        // The Date more than 15 minutes from the proxy's clock.
        assert_eq!(code(&r, &k, T + 16 * 60), Code::RequestTimeTooSkewed);
        assert!(verify(&r, &k, at(T + 14 * 60)).is_ok());
        let bad = sdk_header("QS AKIDEXAMPLE:+j0gxG0cENytK4Pzf0vxvStLbGXU9CN1mkpMnw4VC4d=");
        assert_eq!(
            code(&get(PATH, ACTION, &bad), &k, T),
            Code::SignatureDoesNotMatch
        );
    }

    #[test]
    fn malformed_signatures_are_errors_not_anonymous() {
        let k = keys_of("AKIDEXAMPLE", "SECRETEXAMPLE");
        for auth in ["QS ", "QS AKIDEXAMPLE", "QS :", "QS AKIDEXAMPLE:"] {
            let h = sdk_header(auth);
            let e = verify(&get(PATH, ACTION, &h), &k, at(T)).unwrap_err();
            assert_eq!(e.shape, Some("qingstor"), "{auth}");
        }
        // No date at all, or one that is not an HTTP date.
        let mut h = sdk_header("QS AKIDEXAMPLE:x");
        h.remove("date");
        assert!(verify(&get(PATH, ACTION, &h), &k, at(T)).is_err());
        h.insert("x-qs-date", "yesterday".parse().unwrap());
        assert!(verify(&get(PATH, ACTION, &h), &k, at(T)).is_err());
        let empty = HeaderMap::new();
        for q in [
            "access_key_id=AKIDEXAMPLE",
            "signature=abc&expires=1",
            "access_key_id=AKIDEXAMPLE&signature=abc&expires=soon",
            "access_key_id=AKIDEXAMPLE&signature=abc&expires=18446744073709551615",
            "access_key_id=&signature=&expires=",
        ] {
            let e = verify(&get(PATH, q, &empty), &k, at(T)).unwrap_err();
            assert_eq!(e.shape, Some("qingstor"), "{q}");
        }
    }
}
