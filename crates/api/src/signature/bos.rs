//! Baidu BOS: `bce-auth-v1/<AK>/<timestamp>/<expiration>/<signedHeaders>/<sig>`,
//! in the `Authorization` header or URL-encoded in an `authorization=` query
//! parameter. The signing key is hex(HMAC-SHA256(SK, the first four parts));
//! every query parameter but `authorization` is signed, so `x-bce-process`
//! is covered (reference §6).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use percent_encoding::percent_decode_str;

use super::crypto::{hex, hmac_sha256, uri_encode};
use super::*;

/// The BOS dialect's name: its JSON error shape.
const SHAPE: &str = "bos";

const VERSION: &str = "bce-auth-v1";

/// Headers signed when the authorization names none (besides `x-bce-*`).
const DEFAULT_SIGNED: &[&str] = &["host", "content-md5", "content-length", "content-type"];

/// The parts of an authorization string.
struct Auth<'a> {
    /// `bce-auth-v1/AK/timestamp/expiration`: what the signing key signs.
    prefix: &'a str,
    key_id: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

/// `Authorization: bce-auth-v1/…`.
pub(super) fn header_form(
    r: &Signed,
    auth: &str,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    check(r, auth, query, false, keys, now).map_err(|e| e.in_shape(SHAPE))
}

/// `?authorization=bce-auth-v1%2F…` (a presigned URL).
pub(super) fn url_form(
    r: &Signed,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let auth = param(query, "authorization").unwrap_or("");
    check(r, auth, query, true, keys, now).map_err(|e| e.in_shape(SHAPE))
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC), the only form the SDKs write.
fn bce_time(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let basic: String = s.chars().filter(|c| *c != '-' && *c != ':').collect();
    amz_time(&basic)
}

fn parse(auth: &str, now: SystemTime) -> Result<Auth<'_>, Denied> {
    let malformed = || {
        denied(
            Code::AccessDenied,
            "The authorization string is malformed: expected bce-auth-v1/<AK>/<timestamp>/<expiration>/<signedHeaders>/<signature>.",
        )
    };
    let parts: Vec<&str> = auth.split('/').collect();
    let [version, key_id, timestamp, expiration, signed, signature] = parts.as_slice() else {
        return Err(malformed());
    };
    if *version != VERSION || key_id.is_empty() || signature.is_empty() {
        return Err(malformed());
    }
    let t = bce_time(timestamp).ok_or_else(malformed)?;
    // `-1`: never expires (documented for presigned URLs).
    let lifetime = match *expiration {
        "-1" => None,
        e => Some(e.parse::<u64>().map_err(|_| malformed())?),
    };
    if t > now + MAX_SKEW {
        // BOS names a timestamp too far ahead as it names an expired one.
        return Err(denied(
            Code::RequestTimeTooSkewed,
            &format!("The request is not valid yet. Timestamp date is {timestamp}."),
        ));
    }
    if let Some(secs) = lifetime
        && t.checked_add(Duration::from_secs(secs))
            .is_none_or(|end| now > end)
    {
        return Err(denied(
            Code::RequestExpired,
            &format!("Request has expired. Timestamp date is {timestamp}."),
        ));
    }
    let signed_headers = if signed.is_empty() {
        Vec::new()
    } else {
        let names: Vec<&str> = signed.split(';').collect();
        if names.iter().any(|n| n.is_empty()) {
            return Err(malformed());
        }
        names
    };
    // The first four parts, as signed.
    let prefix_len = version.len() + key_id.len() + timestamp.len() + expiration.len() + 3;
    Ok(Auth {
        prefix: auth.get(..prefix_len).ok_or_else(malformed)?,
        key_id,
        signed_headers,
        signature,
    })
}

/// `N(k)=N(v)` for every parameter but `authorization`, the whole strings
/// sorted.
fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<String> = query
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("authorization"))
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    pairs.join("&")
}

/// The headers a signature may cover: the listed ones, or (none listed)
/// the default set and every `x-bce-*` header. `also_bce`: add `x-bce-*`
/// to a non-empty list, as the Python SDK does when it signs.
fn header_set(h: &HeaderMap, listed: &[&str], also_bce: bool) -> Vec<String> {
    let mut names: Vec<String> = if listed.is_empty() {
        DEFAULT_SIGNED.iter().map(|n| (*n).to_owned()).collect()
    } else {
        listed.iter().map(|n| n.to_ascii_lowercase()).collect()
    };
    if listed.is_empty() || also_bce {
        for k in h.keys() {
            if k.as_str().starts_with("x-bce-") && !names.iter().any(|n| n == k.as_str()) {
                names.push(k.as_str().to_owned());
            }
        }
    }
    names
}

/// `N(name):N(trim(value))` lines, sorted, empty values skipped; `host`
/// as given.
fn canonical_headers(h: &HeaderMap, names: &[String], host: &str) -> String {
    let mut lines: Vec<String> = names
        .iter()
        .filter_map(|name| {
            let value = if name == "host" {
                host.trim().to_owned()
            } else {
                let values: Vec<String> = h
                    .get_all(name.as_str())
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
                    .collect();
                values.join(",")
            };
            (!value.is_empty())
                .then(|| format!("{}:{}", uri_encode(name, false), uri_encode(&value, false)))
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

fn check(
    r: &Signed,
    auth: &str,
    query: &[(String, String)],
    presigned: bool,
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let a = parse(auth, now)?;
    let secret = secret(keys, a.key_id)?;
    let signing_key = hex(&hmac_sha256(secret.as_bytes(), a.prefix.as_bytes()));
    let path = percent_decode_str(r.raw_path).decode_utf8_lossy();
    let head = format!(
        "{}\n{}\n{}\n",
        r.method,
        uri_encode(&path, true),
        canonical_query(query)
    );
    // Which headers: as listed (or the default set); with the SDK's extra
    // `x-bce-*`; for a presigned URL with none listed, the host alone (the
    // SDK signs only the host there; the client fetching it may send more).
    let mut sets = vec![header_set(r.headers, &a.signed_headers, false)];
    if !a.signed_headers.is_empty() {
        sets.push(header_set(r.headers, &a.signed_headers, true));
    }
    if presigned && a.signed_headers.is_empty() {
        sets.push(vec!["host".to_owned()]);
    }
    // The SDK signs `host:port`; a client signing the bare host passes too.
    let hosts = host_readings(r.headers);
    let mut candidates: Vec<String> = Vec::new();
    for set in &sets {
        for host in &hosts {
            let c = format!("{head}{}", canonical_headers(r.headers, set, host));
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    let expected = candidates
        .iter()
        .map(|canonical| hex(&hmac_sha256(signing_key.as_bytes(), canonical.as_bytes())));
    if matches_any(expected, a.signature) {
        Ok(Principal::Key(a.key_id.to_owned()))
    } else {
        Err(mismatch())
    }
}

#[cfg(test)]
mod tests {

    use super::super::testkit::*;
    use super::*;

    fn signed<'a>(path: &'a str, query: &'a str, h: &'a HeaderMap) -> Signed<'a> {
        Signed {
            method: "GET",
            raw_path: path,
            raw_query: query,
            headers: h,
            bucket: "examplebucket",
            key: "photos/cat 1.jpg",
        }
    }

    fn code(r: &Signed, now: u64) -> Code {
        let e = verify(r, &keys(), at(now)).unwrap_err();
        assert_eq!(e.shape, Some("bos"), "{e:?}");
        e.code
    }

    /// cloud.baidu.com/doc/Reference/s/wjwvz1xt2 [official]: a PUT of a
    /// part, default header set.
    #[test]
    fn the_documentation_example_verifies() {
        let h = headers(&[
            ("host", "bj.bcebos.com"),
            ("content-type", "text/plain"),
            ("content-length", "8"),
            ("content-md5", "NFzcPqhviddjRNnSOGo4rw=="),
            ("x-bce-date", "2015-04-27T08:23:49Z"),
            (
                "authorization",
                "bce-auth-v1/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/2015-04-27T08:23:49Z/1800//d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e",
            ),
        ]);
        let keys: HashMap<String, String> = [(
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_owned(),
            "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".to_owned(),
        )]
        .into();
        let r = Signed {
            method: "PUT",
            key: "myfolder/readme.txt",
            bucket: "test",
            ..signed(
                "/v1/test/myfolder/readme.txt",
                "partNumber=9&uploadId=a44cc9bab11cbd156984767aad637851",
                &h,
            )
        };
        assert_eq!(
            verify(&r, &keys, at(1_430_123_029 + 60)),
            Ok(Principal::Key("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()))
        );
    }

    const SDK_AUTH: &str = "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/1800//93968201e566d6eb3384e1fa50372fbca403f7d1245b6ecbd6fe518106f859ff";

    fn sdk_headers(auth: &str) -> HeaderMap {
        headers(&[
            ("host", "127.0.0.1:8080"),
            ("content-length", "0"),
            ("x-bce-date", "2024-01-15T08:00:00Z"),
            ("authorization", auth),
        ])
    }

    /// reference §6.3 [SDK-run]: `get_object('examplebucket', 'photos/cat 1.jpg')`.
    #[test]
    fn sdk_header_example_verifies() {
        let h = sdk_headers(SDK_AUTH);
        let path = "/examplebucket/photos/cat%201.jpg";
        let r = signed(path, "", &h);
        assert_eq!(
            verify(&r, &keys(), at(T + 1800)),
            Ok(Principal::Key(AK.into()))
        );
        // Past its 1800 s: BOS's RequestExpired; too far ahead: refused.
        assert_eq!(code(&r, T + 1801), Code::RequestExpired);
        assert_eq!(code(&r, T - 901), Code::RequestTimeTooSkewed);
        // A process string the header did not sign, another key.
        assert_eq!(
            code(&signed(path, "x-bce-process=image/resize,w_100", &h), T),
            Code::SignatureDoesNotMatch
        );
        assert_eq!(
            code(&signed("/examplebucket/photos/cat%202.jpg", "", &h), T),
            Code::SignatureDoesNotMatch
        );
        // A default-set header changed: signed.
        let mut h2 = h.clone();
        h2.insert("x-bce-date", "2024-01-15T08:00:01Z".parse().unwrap());
        assert_eq!(code(&signed(path, "", &h2), T), Code::SignatureDoesNotMatch);
        let h = sdk_headers(&SDK_AUTH.replace("AKIDEXAMPLE", "NOBODY"));
        assert_eq!(code(&signed(path, "", &h), T), Code::InvalidAccessKeyId);
        let h = sdk_headers(&SDK_AUTH.replace("//9396", "//9496"));
        assert_eq!(code(&signed(path, "", &h), T), Code::SignatureDoesNotMatch);
    }

    #[test]
    fn malformed_authorizations_are_refused() {
        for bad in [
            "bce-auth-v1/",
            "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/1800/",
            "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/1800//",
            "bce-auth-v1//2024-01-15T08:00:00Z/1800//00",
            "bce-auth-v1/AKIDEXAMPLE/2024-01-15 08:00:00/1800//00",
            "bce-auth-v1/AKIDEXAMPLE/20240115T080000Z/1800//00",
            "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/soon//00",
            "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/-2//00",
            "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/1800/host;;x/00",
            "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/1800//00/extra",
            "bce-auth-v1/AKIDEXAMPLE/2024-13-15T08:00:00Z/1800//00",
            "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/99999999999999999999//00",
        ] {
            let h = sdk_headers(bad);
            assert_eq!(
                code(&signed("/b/k", "", &h), T),
                Code::AccessDenied,
                "{bad}"
            );
            let q = format!("authorization={}", uri_encode(bad, false));
            let empty = HeaderMap::new();
            assert_eq!(
                code(&signed("/b/k", &q, &empty), T),
                Code::AccessDenied,
                "{bad}"
            );
        }
        // An expiry that overflows the clock is expired, never a panic.
        let h =
            sdk_headers("bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/18446744073709551615//00");
        assert_eq!(code(&signed("/b/k", "", &h), T), Code::RequestExpired);
    }

    const SDK_URL_QUERY: &str = "authorization=bce-auth-v1%2FAKIDEXAMPLE%2F2024-01-15T08%3A00%3A00Z%2F3600%2F%2F7b4b492d78129677dc6714ab1dba43d9e60446e94ff4247e5c0ca3f0d6f7d5e9&x-bce-process=image%2Fresize%2Cw_100";

    /// reference §6.3 [SDK-run]: `generate_pre_signed_url(…, 3600,
    /// params={'x-bce-process': 'image/resize,w_100'})`.
    #[test]
    fn sdk_presigned_example_verifies() {
        let path = "/examplebucket/photos/cat%201.jpg";
        let h = headers(&[("host", "127.0.0.1:8080")]);
        let r = signed(path, SDK_URL_QUERY, &h);
        assert_eq!(
            verify(&r, &keys(), at(T + 3600)),
            Ok(Principal::Key(AK.into()))
        );
        // A client that sends more headers than the SDK signed (a default-
        // set one) still passes: the host alone is tried.
        let h2 = headers(&[("host", "127.0.0.1:8080"), ("content-length", "0")]);
        assert_eq!(
            verify(&signed(path, SDK_URL_QUERY, &h2), &keys(), at(T)),
            Ok(Principal::Key(AK.into()))
        );
        assert_eq!(code(&r, T + 3601), Code::RequestExpired);
        for (p, q) in [
            (path, SDK_URL_QUERY.replace("w_100", "w_200")),
            (path, format!("{SDK_URL_QUERY}&x-bce-extra")),
            (
                "/examplebucket/photos/cat%202.jpg",
                SDK_URL_QUERY.to_owned(),
            ),
            (path, SDK_URL_QUERY.replace("%2F7b4b", "%2F7c4b")),
        ] {
            assert_eq!(
                code(&signed(p, &q, &h), T),
                Code::SignatureDoesNotMatch,
                "{q}"
            );
        }
    }

    /// `-1`: a URL that never expires.
    #[test]
    fn minus_one_never_expires() {
        let prefix = "bce-auth-v1/AKIDEXAMPLE/2024-01-15T08:00:00Z/-1";
        let key = hex(&hmac_sha256(b"SECRETEXAMPLE", prefix.as_bytes()));
        let canonical = "GET\n/examplebucket/photos/cat%201.jpg\n\nhost:127.0.0.1%3A8080";
        let sig = hex(&hmac_sha256(key.as_bytes(), canonical.as_bytes()));
        let q = format!(
            "authorization={}",
            uri_encode(&format!("{prefix}//{sig}"), false)
        );
        let h = headers(&[("host", "127.0.0.1:8080")]);
        let r = signed("/examplebucket/photos/cat%201.jpg", &q, &h);
        let ten_years = T + 10 * 365 * 24 * 3600;
        assert_eq!(
            verify(&r, &keys(), at(ten_years)),
            Ok(Principal::Key(AK.into()))
        );
    }
}
