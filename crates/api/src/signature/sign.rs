//! The client side of the URL schemes [`verify`](super::verify) checks: AWS
//! SigV4 presigned URLs and OSS V1 / V4 signed URLs, for `pixgate sign`.
//! Written from the schemes, not from the verifier's code paths, and tested
//! against URLs the official SDKs signed.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use http::HeaderMap;

use super::crypto::{hmac_sha1, uri_encode};
use super::oss::oss_resource;
use super::{MAX_PRESIGN, Signed, V4Request, canonical_query, v4_signature};

/// The query parameter `pixgate sign --process` fills: the default
/// dialect's process string.
pub const PROCESS_PARAM: &str = "x-oss-process";

/// A URL signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `OSSAccessKeyId`, `Expires`, `Signature` (HMAC-SHA1).
    OssV1,
    /// `x-oss-signature-version=OSS4-HMAC-SHA256` and friends.
    OssV4,
    /// AWS `X-Amz-Algorithm=AWS4-HMAC-SHA256` presigned URL.
    SigV4,
}

impl Scheme {
    pub const NAMES: [&'static str; 3] = ["oss-v1", "oss-v4", "sigv4"];

    pub fn parse(name: &str) -> Option<Scheme> {
        Some(match name {
            "oss-v1" => Scheme::OssV1,
            "oss-v4" => Scheme::OssV4,
            "sigv4" => Scheme::SigV4,
            _ => return None,
        })
    }
}

/// What a signed URL will request.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub method: &'a str,
    /// The `Host` header clients will send: the host, and the port unless
    /// it is the scheme's default (SigV4 signs it).
    pub host: &'a str,
    /// The path as it will be sent (percent-encoded or not: both schemes
    /// sign it decoded).
    pub raw_path: &'a str,
    /// The bucket and key pixgate resolves the path to (OSS signs
    /// `/bucket/key`).
    pub bucket: &'a str,
    pub key: &'a str,
    /// Decoded query parameters the URL carries besides the signature's
    /// (e.g. `x-oss-process`); all of them are signed.
    pub query: &'a [(String, String)],
}

/// The signing key and when the URL is valid.
#[derive(Debug, Clone, Copy)]
pub struct Signer<'a> {
    pub key_id: &'a str,
    pub secret: &'a str,
    /// The region in the V4 credential scope (pixgate does not check it).
    pub region: &'a str,
    pub now: SystemTime,
    /// Seconds the URL stays valid from `now`.
    pub expires: u64,
}

/// The URL's whole query string: the target's parameters, then the
/// signature's, each side percent-encoded (RFC 3986).
pub fn presign(scheme: Scheme, t: &Target, s: &Signer) -> Result<String, String> {
    if s.expires == 0 {
        return Err("the expiry must be at least one second".to_owned());
    }
    let mut params = t.query.to_vec();
    match scheme {
        Scheme::OssV1 => {
            let at = unix_secs(s.now)?
                .checked_add(s.expires)
                .ok_or("the expiry is too far in the future")?;
            let signed = Signed {
                method: t.method,
                raw_path: t.raw_path,
                raw_query: "",
                headers: &HeaderMap::new(),
                bucket: t.bucket,
                key: t.key,
            };
            // A URL carries no Content-MD5, Content-Type or x-oss- header.
            let string_to_sign =
                format!("{}\n\n\n{at}\n{}", t.method, oss_resource(&signed, t.query));
            let signature = base64::engine::general_purpose::STANDARD
                .encode(hmac_sha1(s.secret.as_bytes(), string_to_sign.as_bytes()));
            params.push(("OSSAccessKeyId".to_owned(), s.key_id.to_owned()));
            params.push(("Expires".to_owned(), at.to_string()));
            params.push(("Signature".to_owned(), signature));
        }
        Scheme::OssV4 | Scheme::SigV4 => {
            if s.expires > MAX_PRESIGN {
                return Err(format!(
                    "a V4 signed URL is valid for at most {MAX_PRESIGN} seconds (7 days)"
                ));
            }
            if s.key_id.contains('/') || s.region.contains('/') || s.region.is_empty() {
                return Err(
                    "a V4 credential scope needs a key id and a region without '/'".to_owned(),
                );
            }
            let date = amz_date(s.now)?;
            let day = &date[..8];
            let (service, terminator, prefix) = match scheme {
                Scheme::OssV4 => ("oss", "aliyun_v4_request", "aliyun_v4"),
                _ => ("s3", "aws4_request", "AWS4"),
            };
            let scope = format!("{day}/{}/{service}/{terminator}", s.region);
            let credential = format!("{}/{scope}", s.key_id);
            let (uri, query, headers, signed, algorithm, signature_param) =
                if scheme == Scheme::OssV4 {
                    params.push((
                        "x-oss-signature-version".to_owned(),
                        "OSS4-HMAC-SHA256".to_owned(),
                    ));
                    params.push(("x-oss-credential".to_owned(), credential));
                    params.push(("x-oss-date".to_owned(), date.clone()));
                    params.push(("x-oss-expires".to_owned(), s.expires.to_string()));
                    // No headers are signed: a URL's requester sends none that count.
                    (
                        uri_encode(&format!("/{}/{}", t.bucket, t.key), true),
                        canonical_query(&params, "", true),
                        String::new(),
                        "",
                        "OSS4-HMAC-SHA256",
                        "x-oss-signature",
                    )
                } else {
                    params.push(("X-Amz-Algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()));
                    params.push(("X-Amz-Credential".to_owned(), credential));
                    params.push(("X-Amz-Date".to_owned(), date.clone()));
                    params.push(("X-Amz-Expires".to_owned(), s.expires.to_string()));
                    params.push(("X-Amz-SignedHeaders".to_owned(), "host".to_owned()));
                    let path = percent_encoding::percent_decode_str(t.raw_path).decode_utf8_lossy();
                    (
                        uri_encode(&path, true),
                        canonical_query(&params, "", false),
                        format!("host:{}\n", t.host.trim()),
                        "host",
                        "AWS4-HMAC-SHA256",
                        "X-Amz-Signature",
                    )
                };
            let signature = v4_signature(
                &format!("{prefix}{}", s.secret),
                &V4Request {
                    algorithm,
                    date: &date,
                    scope: &scope,
                    method: t.method,
                    uri: &uri,
                    query: &query,
                    headers: &headers,
                    signed,
                    payload: "UNSIGNED-PAYLOAD",
                },
            );
            params.push((signature_param.to_owned(), signature));
        }
    }
    Ok(params
        .iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k, false), uri_encode(v, false)))
        .collect::<Vec<_>>()
        .join("&"))
}

fn unix_secs(t: SystemTime) -> Result<u64, String> {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| "the clock is before 1970".to_owned())
}

/// `YYYYMMDDTHHMMSSZ` (UTC), the V4 schemes' timestamp.
fn amz_date(t: SystemTime) -> Result<String, String> {
    let secs = unix_secs(t)?;
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since the epoch (proleptic Gregorian).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    if y > 9999 {
        return Err("the clock is past the year 9999".to_owned());
    }
    Ok(format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::super::{Code, Principal, amz_time, verify};
    use super::*;

    const AK: &str = "AKPIXGATETEST";
    const SK: &str = "secret/key+for=tests";
    /// 2026-01-01T01:02:03Z, the time the SDK vectors below were signed at.
    const T: u64 = 1_767_229_323;

    fn signer(region: &'static str) -> Signer<'static> {
        Signer {
            key_id: AK,
            secret: SK,
            region,
            now: UNIX_EPOCH + Duration::from_secs(T),
            expires: 300,
        }
    }

    fn params(query: &str) -> HashMap<String, String> {
        super::super::query_pairs(query).into_iter().collect()
    }

    fn process() -> Vec<(String, String)> {
        vec![("x-oss-process".to_owned(), "image/resize,w_100".to_owned())]
    }

    /// What boto3 1.43 / botocore printed for `generate_presigned_url(
    /// "get_object", Bucket="photos", Key="dir/a b+c.jpg", ExpiresIn=300)`
    /// against `http://127.0.0.1:8080` (path style) at time `T`.
    #[test]
    fn sigv4_matches_boto3() {
        let t = Target {
            method: "GET",
            host: "127.0.0.1:8080",
            raw_path: "/photos/dir/a%20b%2Bc.jpg",
            bucket: "photos",
            key: "dir/a b+c.jpg",
            query: &[],
        };
        let q = presign(Scheme::SigV4, &t, &signer("us-east-1")).unwrap();
        assert_eq!(
            params(&q)["X-Amz-Signature"],
            "ea162b4802344dcd477a3f42c50756d4f05271cfa101f9848f2f00c2a8863381"
        );
        assert_eq!(params(&q)["X-Amz-Date"], "20260101T010203Z");
    }

    /// oss2 2.19 `Bucket(Auth(AK, SK), …, "photos").sign_url("GET",
    /// "dir/a b+c.jpg", 300, params={"x-oss-process": "image/resize,w_100"})`.
    #[test]
    fn oss_v1_matches_oss2() {
        let query = process();
        let t = Target {
            method: "GET",
            host: "127.0.0.1:8080",
            raw_path: "/photos/dir%2Fa%20b%2Bc.jpg",
            bucket: "photos",
            key: "dir/a b+c.jpg",
            query: &query,
        };
        let q = presign(Scheme::OssV1, &t, &signer("us-east-1")).unwrap();
        let p = params(&q);
        assert_eq!(p["Expires"], "1767229623");
        assert_eq!(p["Signature"], "DCr7qVgoO7FbLGn5KvHlYNQShd0=");
        assert_eq!(p["x-oss-process"], "image/resize,w_100");
    }

    /// The same with `AuthV4` and `region="cn-hangzhou"`.
    #[test]
    fn oss_v4_matches_oss2() {
        let query = process();
        let t = Target {
            method: "GET",
            host: "127.0.0.1:8080",
            raw_path: "/photos/dir%2Fa%20b%2Bc.jpg",
            bucket: "photos",
            key: "dir/a b+c.jpg",
            query: &query,
        };
        let q = presign(Scheme::OssV4, &t, &signer("cn-hangzhou")).unwrap();
        assert_eq!(
            params(&q)["x-oss-signature"],
            "8af8b5a0925e876efab560139144372850d3b41138e1c15c729ffb3fb553e879"
        );
    }

    /// Each scheme's URL passes the verifier; a changed parameter, another
    /// secret or a later clock does not.
    #[test]
    fn signed_urls_verify_and_tampered_ones_do_not() {
        let keys: HashMap<String, String> = [(AK.to_owned(), SK.to_owned())].into();
        let query = process();
        for scheme in Scheme::NAMES.map(|n| Scheme::parse(n).unwrap()) {
            let t = Target {
                method: "GET",
                host: "img.example.com",
                raw_path: "/photos/a%2Bb.jpg",
                bucket: "photos",
                key: "a+b.jpg",
                query: &query,
            };
            let now = SystemTime::now();
            let s = Signer {
                now,
                ..signer("us-east-1")
            };
            let q = presign(scheme, &t, &s).unwrap();
            let mut headers = HeaderMap::new();
            headers.insert("host", "img.example.com".parse().unwrap());
            let signed = |query: &str| {
                let r = Signed {
                    method: "GET",
                    raw_path: t.raw_path,
                    raw_query: query,
                    headers: &headers,
                    bucket: "photos",
                    key: "a+b.jpg",
                };
                verify(&r, &keys, now)
            };
            assert_eq!(signed(&q), Ok(Principal::Key(AK.to_owned())), "{scheme:?}");
            let tampered = q.replace("w_100", "w_101");
            assert_ne!(tampered, q);
            assert_eq!(
                signed(&tampered).unwrap_err().code,
                Code::SignatureDoesNotMatch,
                "{scheme:?}"
            );
            let late = {
                let r = Signed {
                    method: "GET",
                    raw_path: t.raw_path,
                    raw_query: &q,
                    headers: &headers,
                    bucket: "photos",
                    key: "a+b.jpg",
                };
                verify(&r, &keys, now + Duration::from_secs(301))
            };
            assert_eq!(late.unwrap_err().code, Code::AccessDenied, "{scheme:?}");
        }
    }

    #[test]
    fn the_process_parameter_is_the_default_dialects() {
        let default = crate::dialect::default_dialect();
        assert!(default.process_headers().contains(&PROCESS_PARAM));
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let t = Target {
            method: "GET",
            host: "h",
            raw_path: "/b/k",
            bucket: "b",
            key: "k",
            query: &[],
        };
        let mut s = signer("us-east-1");
        s.expires = 0;
        assert!(presign(Scheme::OssV1, &t, &s).is_err());
        s.expires = MAX_PRESIGN + 1;
        assert!(presign(Scheme::SigV4, &t, &s).is_err());
        assert!(presign(Scheme::OssV1, &t, &s).is_ok());
        s.expires = u64::MAX;
        assert!(presign(Scheme::OssV1, &t, &s).is_err());
        let s = Signer {
            key_id: "a/b",
            ..signer("us-east-1")
        };
        assert!(presign(Scheme::OssV4, &t, &s).is_err());
        assert_eq!(Scheme::parse("v2"), None);
    }

    #[test]
    fn dates_round_trip_with_the_verifiers_parser() {
        for secs in [
            0,
            951_782_400,
            1_369_353_600,
            T,
            4_102_444_799,
            253_402_300_799,
        ] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            let text = amz_date(t).unwrap();
            assert_eq!(amz_time(&text), Some(t), "{text}");
        }
        assert!(amz_date(UNIX_EPOCH + Duration::from_secs(253_402_300_800)).is_err());
    }
}
