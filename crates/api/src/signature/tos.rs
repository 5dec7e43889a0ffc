//! Volcengine TOS: `TOS4-HMAC-SHA256` (header and `X-Tos-*` URL). SigV4's
//! shape with its own constants: the key chain starts from the bare secret,
//! the scope ends `tos/request`, and every query parameter is signed, so
//! `x-tos-process` is covered (reference §5).

use std::collections::HashMap;
use std::time::SystemTime;

use http::HeaderMap;
use percent_encoding::percent_decode_str;

use super::crypto::uri_encode;
use super::*;

/// The TOS dialect's name: its JSON error shape.
const SHAPE: &str = "tos";

const ALGORITHM: &str = "TOS4-HMAC-SHA256";

/// `X-Tos-Expires` must lie in [1, 604800] (volcengine.com/docs/6349/1188927).
const MAX_EXPIRES: u64 = 604_800;

/// The parts both forms carry.
struct V4<'a> {
    key_id: &'a str,
    scope: String,
    date: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn credential(c: &str) -> Option<(&str, String, &str)> {
    let (key_id, scope, day) = parse_scoped_credential(c, "request")?;
    (!key_id.is_empty()).then_some((key_id, scope, day))
}

fn signed_headers(list: &str) -> Option<Vec<&str>> {
    let names: Vec<&str> = list.split(';').collect();
    (!names.iter().any(|n| n.is_empty())).then_some(names)
}

/// `Authorization: TOS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
pub(super) fn header_form(
    r: &Signed,
    rest: &str,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    header_check(r, rest, query, keys, now).map_err(|e| e.in_shape(SHAPE))
}

fn header_check(
    r: &Signed,
    rest: &str,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let malformed = || denied(Code::AccessDenied, "The Authorization header is malformed.");
    let (key_id, scope, day) = auth_field(rest, "Credential")
        .and_then(credential)
        .ok_or_else(malformed)?;
    // The SDK sends the time twice, as `x-tos-date` and as `Date`, both in
    // ISO basic form (not an HTTP date).
    let date = header(r.headers, "x-tos-date")
        .or_else(|| header(r.headers, "date"))
        .ok_or_else(|| denied(Code::AccessDenied, "The request has no x-tos-date header."))?;
    let t = amz_time(date)
        .filter(|_| date.starts_with(day))
        .ok_or_else(malformed)?;
    check_skew(t, now)?;
    let v = V4 {
        key_id,
        scope,
        date,
        signed_headers: auth_field(rest, "SignedHeaders")
            .and_then(signed_headers)
            .ok_or_else(malformed)?,
        signature: auth_field(rest, "Signature")
            .filter(|s| !s.is_empty())
            .ok_or_else(malformed)?,
    };
    let payload = header(r.headers, "x-tos-content-sha256").unwrap_or("UNSIGNED-PAYLOAD");
    check(r, &v, query, payload, keys)
}

/// `?X-Tos-Algorithm=…&X-Tos-Credential=…&X-Tos-Date=…&X-Tos-Expires=…
/// &X-Tos-SignedHeaders=…&X-Tos-Signature=…`.
pub(super) fn url_form(
    r: &Signed,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    url_check(r, query, keys, now).map_err(|e| e.in_shape(SHAPE))
}

fn url_check(
    r: &Signed,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let q = |name: &str| param(query, name);
    let malformed = || denied(Code::AccessDenied, "The signed URL is malformed.");
    if q("X-Tos-Algorithm") != Some(ALGORITHM) {
        return Err(denied(
            Code::AccessDenied,
            "X-Tos-Algorithm must be TOS4-HMAC-SHA256.",
        ));
    }
    let (key_id, scope, day) = q("X-Tos-Credential")
        .and_then(credential)
        .ok_or_else(malformed)?;
    let date = q("X-Tos-Date").ok_or_else(malformed)?;
    let t = amz_time(date)
        .filter(|_| date.starts_with(day))
        .ok_or_else(malformed)?;
    let expires = q("X-Tos-Expires")
        .and_then(|e| e.parse::<u64>().ok())
        .filter(|e| (1..=MAX_EXPIRES).contains(e))
        .ok_or_else(|| {
            denied(
                Code::AccessDenied,
                "X-Tos-Expires must be a number of seconds from 1 to 604800.",
            )
        })?;
    check_window(t, expires, now)?;
    let v = V4 {
        key_id,
        scope,
        date,
        signed_headers: q("X-Tos-SignedHeaders")
            .and_then(signed_headers)
            .ok_or_else(malformed)?,
        signature: q("X-Tos-Signature")
            .filter(|s| !s.is_empty())
            .ok_or_else(malformed)?,
    };
    check(r, &v, query, "UNSIGNED-PAYLOAD", keys)
}

/// Every parameter but the signature, `enc(k)=enc(v)`, sorted by the
/// decoded name (so `X-Tos-*` sorts before `x-tos-process`).
fn canonical_query(query: &[(String, String)]) -> String {
    let mut pairs: Vec<&(String, String)> = query
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("X-Tos-Signature"))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `name:value\n` per signed header, in the listed order; `host` as given.
fn canonical_headers(h: &HeaderMap, names: &[&str], host: &str) -> Option<String> {
    let mut out = String::new();
    for name in names {
        let lower = name.to_ascii_lowercase();
        let value = if lower == "host" {
            host.to_owned()
        } else {
            let values: Vec<String> = h
                .get_all(lower.as_str())
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
                .collect();
            if values.is_empty() {
                return None;
            }
            values.join(",")
        };
        out.push_str(&format!("{name}:{value}\n"));
    }
    Some(out)
}

fn check(
    r: &Signed,
    v: &V4,
    query: &[(String, String)],
    payload: &str,
    keys: &HashMap<String, String>,
) -> Result<Principal, Denied> {
    let secret = secret(keys, v.key_id)?;
    let path = percent_decode_str(r.raw_path).decode_utf8_lossy();
    let query = canonical_query(query);
    let (uri, signed) = (uri_encode(&path, true), v.signed_headers.join(";"));
    // The SDK signs `host:port`; a client that signs the bare host is
    // accepted too.
    let mut candidates = Vec::new();
    for host in host_readings(r.headers) {
        let Some(headers) = canonical_headers(r.headers, &v.signed_headers, host) else {
            return Err(mismatch());
        };
        candidates.push(v4_signature(
            secret,
            &V4Request {
                algorithm: ALGORITHM,
                date: v.date,
                scope: &v.scope,
                method: r.method,
                uri: &uri,
                query: &query,
                headers: &headers,
                signed: &signed,
                payload,
            },
        ));
    }
    if matches_any(candidates, v.signature) {
        Ok(Principal::Key(v.key_id.to_owned()))
    } else {
        Err(mismatch())
    }
}

#[cfg(test)]
mod tests {

    use super::super::crypto::sha256_hex;
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

    /// tos `tests/test_base_func.py::test_sign_req` [official]: path `key`
    /// (no leading slash), `versionId=test`, an STS token, content-type.
    #[test]
    fn the_sdks_own_test_vector_verifies() {
        let h = headers(&[
            ("content-type", "application/json"),
            ("host", "zzz.com"),
            ("x-tos-date", "20210101T000000Z"),
            ("x-tos-security-token", "sts"),
            (
                "authorization",
                "TOS4-HMAC-SHA256 Credential=ak/20210101/region/tos/request, SignedHeaders=content-type;host;x-tos-date;x-tos-security-token, Signature=ca8eb8987663e61e740bc5be9078d6d4f716990573a56c86a6602d42faf3af7e",
            ),
        ]);
        let keys: HashMap<String, String> = [("ak".to_owned(), "sk".to_owned())].into();
        let r = Signed {
            raw_path: "key",
            key: "key",
            ..signed("key", "versionId=test", &h)
        };
        assert_eq!(
            verify(&r, &keys, at(1_609_459_200)),
            Ok(Principal::Key("ak".into()))
        );
    }

    /// reference §5.3 [SDK-run]: `get_object(…, process='image/resize,w_100')`.
    #[test]
    fn sdk_header_example_verifies() {
        let auth = "TOS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/cn-beijing/tos/request, SignedHeaders=host;x-tos-content-sha256;x-tos-date, Signature=40694aed971b61f54f4e80c491e89b8d6b80eed8bc9505315f9b4bf9cce4b484";
        let mut h = headers(&[
            ("host", "examplebucket.tos.test:8080"),
            ("date", "20240115T080000Z"),
            ("x-tos-date", "20240115T080000Z"),
            ("x-tos-content-sha256", "UNSIGNED-PAYLOAD"),
            ("authorization", auth),
        ]);
        let q = "x-tos-process=image%2Fresize%2Cw_100";
        let r = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(
            verify(&r, &keys(), at(T + 30)),
            Ok(Principal::Key(AK.into()))
        );
        let code = |r: &Signed, now: u64| {
            let e = verify(r, &keys(), at(now)).unwrap_err();
            assert_eq!(e.shape, Some("tos"), "{e:?}");
            e.code
        };
        // The process string is signed.
        let r2 = signed(
            "/photos/cat%201.jpg",
            "x-tos-process=image%2Fresize%2Cw_101",
            &h,
        );
        assert_eq!(code(&r2, T), Code::SignatureDoesNotMatch);
        // Clock skew, both ways.
        assert_eq!(code(&r, T + 901), Code::RequestTimeTooSkewed);
        assert_eq!(code(&r, T - 901), Code::RequestTimeTooSkewed);
        // Only `Date` (ISO basic, as the SDK also sends it): still the time.
        h.remove("x-tos-date");
        let r3 = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(code(&r3, T), Code::SignatureDoesNotMatch);
        h.remove("date");
        let r3 = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(code(&r3, T), Code::AccessDenied);
        // Unknown key, tampered signature, malformed headers.
        let with = |a: &str| {
            headers(&[
                ("host", "examplebucket.tos.test:8080"),
                ("x-tos-date", "20240115T080000Z"),
                ("x-tos-content-sha256", "UNSIGNED-PAYLOAD"),
                ("authorization", a),
            ])
        };
        let h = with(&auth.replace("AKIDEXAMPLE", "NOBODY"));
        assert_eq!(
            code(&signed("/photos/cat%201.jpg", q, &h), T),
            Code::InvalidAccessKeyId
        );
        let h = with(&auth.replace("Signature=4069", "Signature=4169"));
        assert_eq!(
            code(&signed("/photos/cat%201.jpg", q, &h), T),
            Code::SignatureDoesNotMatch
        );
        for bad in [
            "TOS4-HMAC-SHA256 ",
            "TOS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/cn-beijing/tos/request",
            "TOS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/cn-beijing/tos/aws4_request, SignedHeaders=host, Signature=00",
            "TOS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240116/cn-beijing/tos/request, SignedHeaders=host, Signature=00",
            "TOS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/cn-beijing/tos/request, SignedHeaders=host;;x, Signature=00",
            "TOS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/cn-beijing/tos/request, SignedHeaders=host, Signature=",
        ] {
            let h = with(bad);
            assert_eq!(
                code(&signed("/photos/cat%201.jpg", q, &h), T),
                Code::AccessDenied,
                "{bad}"
            );
        }
        // A signed header the request lacks: no match.
        let h = with(&auth.replace("host;", "host;range;"));
        assert_eq!(
            code(&signed("/photos/cat%201.jpg", q, &h), T),
            Code::SignatureDoesNotMatch
        );
    }

    const URL_QUERY: &str = "x-tos-process=image%2Fresize%2Cw_100&X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Credential=AKIDEXAMPLE%2F20240115%2Fcn-beijing%2Ftos%2Frequest&X-Tos-Date=20240115T080000Z&X-Tos-Expires=3600&X-Tos-SignedHeaders=host&X-Tos-Signature=c0bdd1bedc5177d2df8a51fff4abeb48e39ede5c6ddf15aa4adde776105ac919";

    /// reference §5.3 [SDK-run]: `pre_signed_url(…, expires=3600,
    /// query={'x-tos-process': …})`.
    #[test]
    fn sdk_presigned_example_verifies() {
        let h = headers(&[("host", "examplebucket.tos.test:8080")]);
        let r = signed("/photos/cat%201.jpg", URL_QUERY, &h);
        assert_eq!(
            verify(&r, &keys(), at(T + 3600)),
            Ok(Principal::Key(AK.into()))
        );
        let code = |q: &str, path: &str, now: u64| {
            let e = verify(&signed(path, q, &h), &keys(), at(now)).unwrap_err();
            assert_eq!(e.shape, Some("tos"), "{e:?}");
            e.code
        };
        let path = "/photos/cat%201.jpg";
        // Expired: TOS's wire answers AccessDenied.
        assert_eq!(code(URL_QUERY, path, T + 3601), Code::AccessDenied);
        // One character changed in the process, the key, the signature.
        assert_eq!(
            code(&URL_QUERY.replace("w_100", "w_200"), path, T),
            Code::SignatureDoesNotMatch
        );
        assert_eq!(
            code(URL_QUERY, "/photos/cat%202.jpg", T),
            Code::SignatureDoesNotMatch
        );
        assert_eq!(
            code(
                &URL_QUERY.replace("Signature=c0bd", "Signature=c1bd"),
                path,
                T
            ),
            Code::SignatureDoesNotMatch
        );
        // An added parameter is signed too.
        assert_eq!(
            code(&format!("{URL_QUERY}&x-tos-extra=1"), path, T),
            Code::SignatureDoesNotMatch
        );
        assert_eq!(
            code(&URL_QUERY.replace("AKIDEXAMPLE", "NOBODY"), path, T),
            Code::InvalidAccessKeyId
        );
        // Malformed: out-of-range expiry, other algorithm, missing parts.
        for bad in [
            URL_QUERY.replace("Expires=3600", "Expires=0"),
            URL_QUERY.replace("Expires=3600", "Expires=604801"),
            URL_QUERY.replace("Expires=3600", "Expires=-1"),
            URL_QUERY.replace("TOS4-HMAC-SHA256", "HMAC-SHA256"),
            URL_QUERY.replace("X-Tos-Date=20240115T080000Z&", ""),
            URL_QUERY.replace("X-Tos-SignedHeaders=host&", ""),
            URL_QUERY.replace("%2Frequest", "%2Fother"),
        ] {
            assert_eq!(code(&bad, path, T), Code::AccessDenied, "{bad}");
        }
    }

    /// The bare host (without the port) is accepted as the signed host.
    #[test]
    fn host_without_port() {
        let q = "X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Credential=AKIDEXAMPLE%2F20240115%2Fcn-beijing%2Ftos%2Frequest&X-Tos-Date=20240115T080000Z&X-Tos-Expires=60&X-Tos-SignedHeaders=host";
        let canonical = format!(
            "GET\n/photos/cat%201.jpg\n{}\nhost:img.test\n\nhost\nUNSIGNED-PAYLOAD",
            canonical_query(&query_pairs(q))
        );
        let sts = format!(
            "TOS4-HMAC-SHA256\n20240115T080000Z\n20240115/cn-beijing/tos/request\n{}",
            sha256_hex(canonical.as_bytes())
        );
        let sig = scoped_signature("SECRETEXAMPLE", "20240115/cn-beijing/tos/request", &sts);
        let q = format!("{q}&X-Tos-Signature={sig}");
        let h = headers(&[("host", "img.test:8080")]);
        let r = signed("/photos/cat%201.jpg", &q, &h);
        assert_eq!(verify(&r, &keys(), at(T)), Ok(Principal::Key(AK.into())));
    }
}
