//! Verifying the signatures the official SDKs send (SPEC §5): AWS Signature
//! V4 (header and presigned URL) and OSS V1 and V4 (header and signed URL),
//! against the proxy's own keys. Pure: the server hands in the request's
//! parts and the clock. A request signed in one of these schemes is either
//! proven or refused, never treated as anonymous; the other clouds' schemes
//! (not verified yet) count as anonymous, never as proven.
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use http::HeaderMap;
use percent_encoding::percent_decode_str;

mod crypto;

use crypto::{hex, hmac_sha1, hmac_sha256, same, sha256_hex, uri_encode};

/// Why a signature does not prove its key, as the services name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    AccessDenied,
    SignatureDoesNotMatch,
    InvalidAccessKeyId,
    RequestTimeTooSkewed,
}

/// A refused signature: its code and a message for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub code: Code,
    pub message: String,
}

/// Largest difference allowed between a request's date and the proxy's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// Longest validity of an AWS presigned URL (7 days, as S3).
const MAX_PRESIGN: u64 = 7 * 24 * 3600;

/// The parts of a request a signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub method: &'a str,
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    /// Bucket and key the request resolved to (OSS signs `/bucket/key`).
    pub bucket: &'a str,
    pub key: &'a str,
}

/// Who a request proved to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    Key(String),
}

fn denied(code: Code, message: &str) -> Denied {
    Denied {
        code,
        message: message.to_owned(),
    }
}

fn mismatch() -> Denied {
    denied(
        Code::SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Decoded (name, value) pairs of the raw query, in order; flags get "".
fn query_pairs(raw: &str) -> Vec<(String, String)> {
    let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (dec(k), dec(v)),
            None => (dec(p), String::new()),
        })
        .collect()
}

/// The first value of a decoded query parameter.
fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A signed request's own date must be near the proxy's clock.
fn check_skew(t: SystemTime, now: SystemTime) -> Result<(), Denied> {
    if within_skew(t, now) {
        Ok(())
    } else {
        Err(denied(
            Code::RequestTimeTooSkewed,
            "The difference between the request time and the current time is too large.",
        ))
    }
}

/// A presigned URL is valid from its signing time (give or take the skew)
/// for `expires` seconds.
fn check_window(signed_at: SystemTime, expires: u64, now: SystemTime) -> Result<(), Denied> {
    if signed_at > now + MAX_SKEW {
        return Err(denied(Code::AccessDenied, "Request is not valid yet."));
    }
    if signed_at
        .checked_add(Duration::from_secs(expires))
        .is_none_or(|end| now > end)
    {
        return Err(denied(Code::AccessDenied, "Request has expired."));
    }
    Ok(())
}

/// Checks whatever signature the request carries.
/// `Authorization` schemes of the other clouds' SDKs (QingStor, Huawei OBS,
/// Volcengine TOS, Baidu BOS, Tencent COS, Qiniu) that this proxy does not
/// verify yet: such a request counts as anonymous, never as signed.
const UNVERIFIED_SCHEMES: &[&str] = &[
    "QS ",
    "OBS ",
    "TOS4-HMAC-SHA256 ",
    "bce-auth-v1/",
    "q-sign-algorithm=",
    "Qiniu ",
    "QBox ",
];

pub fn verify(
    r: &Signed,
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let query = query_pairs(r.raw_query);
    let q = |name: &str| param(&query, name);
    // An empty header claims nothing (the COS SDK sends one when anonymous).
    if let Some(auth) = header(r.headers, "authorization").filter(|a| !a.trim().is_empty()) {
        if let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 ") {
            return sigv4_header(r, rest, &query, keys, now);
        }
        if let Some(rest) = auth.strip_prefix("OSS ") {
            return oss_v1_header(r, rest, &query, keys, now);
        }
        if let Some(rest) = auth.strip_prefix("OSS4-HMAC-SHA256 ") {
            return oss_v4_header(r, rest, &query, keys, now);
        }
        if UNVERIFIED_SCHEMES.iter().any(|s| auth.starts_with(s)) {
            // Another cloud's SDK signing a read: no more than anonymous
            // until its scheme is verified (public buckets answer, private
            // ones refuse as they refuse anonymous requests).
            return Ok(Principal::Anonymous);
        }
        return Err(denied(
            Code::AccessDenied,
            "The Authorization header uses a signing scheme this proxy does not accept.",
        ));
    }
    if q("X-Amz-Signature").is_some() {
        return sigv4_presigned(r, &query, keys, now);
    }
    if q("Signature").is_some() || q("OSSAccessKeyId").is_some() {
        return oss_v1_url(r, &query, keys, now);
    }
    if q("x-oss-signature").is_some() {
        return oss_v4_url(r, &query, keys, now);
    }
    Ok(Principal::Anonymous)
}

fn secret<'a>(keys: &'a HashMap<String, String>, id: &str) -> Result<&'a str, Denied> {
    keys.get(id).map(String::as_str).ok_or_else(|| {
        denied(
            Code::InvalidAccessKeyId,
            "The access key ID you provided does not exist in our records.",
        )
    })
}

// ---- AWS Signature V4 -------------------------------------------------------

struct V4<'a> {
    key_id: &'a str,
    scope: String,
    date: &'a str,
    signed_headers: Vec<String>,
    signature: &'a str,
}

/// `AK/YYYYMMDD/region/service/<terminator>`; the key id itself has no '/'.
fn parse_scoped_credential<'a>(c: &'a str, terminator: &str) -> Option<(&'a str, String, &'a str)> {
    let (key_id, scope) = c.split_once('/')?;
    let day = scope.split('/').next()?;
    (scope.split('/').count() == 4 && scope.rsplit('/').next() == Some(terminator))
        .then(|| (key_id, scope.to_owned(), day))
}

fn parse_credential(c: &str) -> Option<(&str, String, &str)> {
    parse_scoped_credential(c, "aws4_request")
}

/// The HMAC-SHA256 chain both V4 schemes use: the secret (with its scheme
/// prefix) signs each part of the scope `date/region/service/terminator` in
/// turn; the result signs the string.
fn scoped_signature(prefixed_secret: &str, scope: &str, string_to_sign: &str) -> String {
    let mut k = prefixed_secret.as_bytes().to_vec();
    for part in scope.split('/') {
        k = hmac_sha256(&k, part.as_bytes());
    }
    hex(&hmac_sha256(&k, string_to_sign.as_bytes()))
}

fn amz_time(s: &str) -> Option<SystemTime> {
    // 20261128T010203Z
    if s.len() != 16 || !s.ends_with('Z') || s.as_bytes()[8] != b'T' {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b)?.parse::<u64>().ok();
    let (y, mo, d) = (n(0, 4)?, n(4, 6)?, n(6, 8)?);
    let (h, mi, se) = (n(9, 11)?, n(11, 13)?, n(13, 15)?);
    // Before 1970 cannot be a request time (and would underflow below).
    if y < 1970 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60
    {
        return None;
    }
    // Days since the epoch (civil calendar, proleptic Gregorian).
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2 / 400;
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + mi * 60 + se))
}

fn within_skew(t: SystemTime, now: SystemTime) -> bool {
    match t.duration_since(now) {
        Ok(ahead) => ahead <= MAX_SKEW,
        Err(e) => e.duration() <= MAX_SKEW,
    }
}

fn canonical_headers(h: &HeaderMap, names: &[String]) -> Option<String> {
    let mut out = String::new();
    for name in names {
        let values: Vec<String> = h
            .get_all(name.as_str())
            .iter()
            .map(|v| {
                let s = String::from_utf8_lossy(v.as_bytes());
                s.split_whitespace().collect::<Vec<_>>().join(" ")
            })
            .collect();
        if values.is_empty() {
            return None;
        }
        out.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    Some(out)
}

/// The canonical query both V4 schemes sign: every parameter but `skip`,
/// each side URI-encoded, sorted. AWS writes a flag as `k=`, OSS as `k`.
fn canonical_query(query: &[(String, String)], skip: &str, bare_flags: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| k != skip)
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| {
            if bare_flags && v.is_empty() {
                k.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The signature the request should carry against the one it does.
fn proven(expected: &str, given: &str, key_id: &str) -> Result<Principal, Denied> {
    if same(expected.as_bytes(), given.as_bytes()) {
        Ok(Principal::Key(key_id.to_owned()))
    } else {
        Err(mismatch())
    }
}

/// One `Name=value` field of a V4 Authorization header (`Credential=…,
/// SignedHeaders=…, Signature=…`).
fn auth_field<'a>(rest: &'a str, name: &str) -> Option<&'a str> {
    rest.split(',')
        .filter_map(|part| part.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn v4_check(
    r: &Signed,
    v: &V4,
    canonical_query: &str,
    payload: &str,
    keys: &HashMap<String, String>,
) -> Result<Principal, Denied> {
    let secret = secret(keys, v.key_id)?;
    let path = percent_decode_str(r.raw_path).decode_utf8_lossy();
    let headers = canonical_headers(r.headers, &v.signed_headers).ok_or_else(mismatch)?;
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        r.method,
        uri_encode(&path, true),
        canonical_query,
        headers,
        v.signed_headers.join(";"),
        payload
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{}\n{}",
        v.date,
        v.scope,
        sha256_hex(canonical.as_bytes())
    );
    let expected = scoped_signature(&format!("AWS4{secret}"), &v.scope, &string_to_sign);
    proven(&expected, v.signature, v.key_id)
}

fn sigv4_header(
    r: &Signed,
    rest: &str,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let malformed = || denied(Code::AccessDenied, "The Authorization header is malformed.");
    let credential = auth_field(rest, "Credential");
    let signed = auth_field(rest, "SignedHeaders");
    let signature = auth_field(rest, "Signature");
    let (key_id, scope, day) = credential
        .and_then(parse_credential)
        .ok_or_else(malformed)?;
    let date = header(r.headers, "x-amz-date").ok_or_else(malformed)?;
    let t = amz_time(date).ok_or_else(malformed)?;
    if !date.starts_with(day) {
        return Err(malformed());
    }
    check_skew(t, now)?;
    let v = V4 {
        key_id,
        scope,
        date,
        signed_headers: signed
            .ok_or_else(malformed)?
            .split(';')
            .map(str::to_owned)
            .collect(),
        signature: signature.ok_or_else(malformed)?,
    };
    let payload = header(r.headers, "x-amz-content-sha256")
        .unwrap_or("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    v4_check(r, &v, &canonical_query(query, "", false), payload, keys)
}

fn sigv4_presigned(
    r: &Signed,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let q = |name: &str| param(query, name);
    let malformed = || denied(Code::AccessDenied, "The presigned URL is malformed.");
    if q("X-Amz-Algorithm") != Some("AWS4-HMAC-SHA256") {
        return Err(malformed());
    }
    let (key_id, scope, day) = q("X-Amz-Credential")
        .and_then(parse_credential)
        .ok_or_else(malformed)?;
    let date = q("X-Amz-Date").ok_or_else(malformed)?;
    let t = amz_time(date)
        .filter(|_| date.starts_with(day))
        .ok_or_else(malformed)?;
    let expires: u64 = q("X-Amz-Expires")
        .and_then(|e| e.parse().ok())
        .ok_or_else(malformed)?;
    if expires > MAX_PRESIGN {
        return Err(malformed());
    }
    check_window(t, expires, now)?;
    let v = V4 {
        key_id,
        scope,
        date,
        signed_headers: q("X-Amz-SignedHeaders")
            .ok_or_else(malformed)?
            .split(';')
            .map(str::to_owned)
            .collect(),
        signature: q("X-Amz-Signature").ok_or_else(malformed)?,
    };
    v4_check(
        r,
        &v,
        &canonical_query(query, "X-Amz-Signature", false),
        "UNSIGNED-PAYLOAD",
        keys,
    )
}

// ---- OSS V1 -----------------------------------------------------------------

/// Query parameters OSS V1 signs as sub-resources (the official SDKs' list,
/// the ones that can reach a GET or HEAD).
const OSS_SUBRESOURCES: &[&str] = &[
    "acl",
    "objectMeta",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "security-token",
    "stat",
    "style",
    "styleName",
    "symlink",
    "tagging",
    "versionId",
    "x-oss-process",
    "x-oss-request-payer",
    "x-oss-traffic-limit",
];

fn oss_resource(r: &Signed, query: &[(String, String)]) -> String {
    let mut subs: Vec<&(String, String)> = query
        .iter()
        .filter(|(k, _)| OSS_SUBRESOURCES.contains(&k.as_str()))
        .collect();
    subs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = format!("/{}/{}", r.bucket, r.key);
    for (i, (k, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

fn oss_headers(h: &HeaderMap) -> String {
    let mut pairs: Vec<(String, String)> = h
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-oss-"))
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

fn oss_v1_check(
    r: &Signed,
    key_id: &str,
    signature_b64: &str,
    date_or_expires: &str,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
) -> Result<Principal, Denied> {
    let secret = secret(keys, key_id)?;
    let string_to_sign = format!(
        "{}\n{}\n{}\n{}\n{}{}",
        r.method,
        header(r.headers, "content-md5").unwrap_or(""),
        header(r.headers, "content-type").unwrap_or(""),
        date_or_expires,
        oss_headers(r.headers),
        oss_resource(r, query)
    );
    let expected = base64::engine::general_purpose::STANDARD
        .encode(hmac_sha1(secret.as_bytes(), string_to_sign.as_bytes()));
    proven(&expected, signature_b64, key_id)
}

fn oss_v1_header(
    r: &Signed,
    rest: &str,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let (key_id, signature) = rest
        .trim()
        .split_once(':')
        .ok_or_else(|| denied(Code::AccessDenied, "The Authorization header is malformed."))?;
    let date = header(r.headers, "date").unwrap_or("");
    let t = httpdate::parse_http_date(date).map_err(|_| {
        denied(
            Code::AccessDenied,
            "The Date header is missing or malformed.",
        )
    })?;
    check_skew(t, now)?;
    oss_v1_check(r, key_id, signature, date, query, keys)
}

fn oss_v1_url(
    r: &Signed,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let q = |name: &str| param(query, name);
    let malformed = || denied(Code::AccessDenied, "The signed URL is malformed.");
    let key_id = q("OSSAccessKeyId").ok_or_else(malformed)?;
    let expires = q("Expires").ok_or_else(malformed)?;
    let signature = q("Signature").ok_or_else(malformed)?;
    let at: u64 = expires.parse().map_err(|_| malformed())?;
    // A time past what the clock can hold is malformed, not "never expires".
    let end = UNIX_EPOCH
        .checked_add(Duration::from_secs(at))
        .ok_or_else(malformed)?;
    if now > end {
        return Err(denied(Code::AccessDenied, "Request has expired."));
    }
    oss_v1_check(r, key_id, signature, expires, query, keys)
}

// ---- OSS V4 -----------------------------------------------------------------

/// Headers OSS V4 always signs besides `x-oss-*` ones.
const OSS_V4_DEFAULT_SIGNED: &[&str] = &["content-type", "content-md5"];

/// The parts of an OSS V4 signature, from the header or the URL.
struct OssV4<'a> {
    credential: &'a str,
    date: &'a str,
    additional: &'a str,
    signature: &'a str,
}

fn oss_v4_check(
    r: &Signed,
    v: &OssV4,
    canonical_query: &str,
    keys: &HashMap<String, String>,
) -> Result<Principal, Denied> {
    let malformed = || denied(Code::AccessDenied, "The OSS V4 credential is malformed.");
    let (key_id, scope, day) =
        parse_scoped_credential(v.credential, "aliyun_v4_request").ok_or_else(malformed)?;
    if !v.date.starts_with(day) {
        return Err(malformed());
    }
    let secret = secret(keys, key_id)?;
    let extra: Vec<&str> = v.additional.split(';').filter(|h| !h.is_empty()).collect();
    let mut headers: Vec<(String, String)> = r
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.as_str();
            k.starts_with("x-oss-") || OSS_V4_DEFAULT_SIGNED.contains(&k) || extra.contains(&k)
        })
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let payload = header(r.headers, "x-oss-content-sha256").unwrap_or("UNSIGNED-PAYLOAD");
    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        r.method,
        uri_encode(&format!("/{}/{}", r.bucket, r.key), true),
        canonical_query,
        canonical_headers,
        v.additional,
        payload
    );
    let string_to_sign = format!(
        "OSS4-HMAC-SHA256\n{}\n{scope}\n{}",
        v.date,
        sha256_hex(canonical.as_bytes())
    );
    let expected = scoped_signature(&format!("aliyun_v4{secret}"), &scope, &string_to_sign);
    proven(&expected, v.signature, key_id)
}

fn oss_v4_header(
    r: &Signed,
    rest: &str,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let malformed = || denied(Code::AccessDenied, "The Authorization header is malformed.");
    let credential = auth_field(rest, "Credential");
    let signature = auth_field(rest, "Signature");
    let additional = auth_field(rest, "AdditionalHeaders").unwrap_or("");
    let date = header(r.headers, "x-oss-date").ok_or_else(malformed)?;
    let t = amz_time(date).ok_or_else(malformed)?;
    check_skew(t, now)?;
    let v = OssV4 {
        credential: credential.ok_or_else(malformed)?,
        date,
        additional,
        signature: signature.ok_or_else(malformed)?,
    };
    oss_v4_check(r, &v, &canonical_query(query, "", true), keys)
}

fn oss_v4_url(
    r: &Signed,
    query: &[(String, String)],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let q = |name: &str| param(query, name);
    let malformed = || denied(Code::AccessDenied, "The signed URL is malformed.");
    if q("x-oss-signature-version") != Some("OSS4-HMAC-SHA256") {
        return Err(malformed());
    }
    let date = q("x-oss-date").ok_or_else(malformed)?;
    let t = amz_time(date).ok_or_else(malformed)?;
    let expires: u64 = q("x-oss-expires")
        .and_then(|e| e.parse().ok())
        .ok_or_else(malformed)?;
    check_window(t, expires, now)?;
    let v = OssV4 {
        credential: q("x-oss-credential").ok_or_else(malformed)?,
        date,
        additional: q("x-oss-additional-headers").unwrap_or(""),
        signature: q("x-oss-signature").ok_or_else(malformed)?,
    };
    oss_v4_check(
        r,
        &v,
        &canonical_query(query, "x-oss-signature", true),
        keys,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates() {
        assert_eq!(amz_time("19700101T000000Z"), Some(UNIX_EPOCH));
        assert_eq!(
            amz_time("20130524T000000Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_369_353_600))
        );
        assert_eq!(amz_time("2013-05-24"), None);
        // Found by the signature fuzz target: a year before 1970 underflowed.
        assert_eq!(amz_time("10261128T080000Z"), None);
        assert_eq!(amz_time("20131324T000000Z"), None);
    }

    /// The fuzz target's first crash: a SigV4 header dated in the year 1026.
    #[test]
    fn regression_year_before_the_epoch_is_refused_not_a_panic() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AK/20261128/us-e-1/s3/aws4_request, Sieadz-tate, Signture=00"
                .parse()
                .unwrap(),
        );
        h.insert("x-amz-date", "10261128T080000Z".parse().unwrap());
        let keys: HashMap<String, String> = [("AK".to_owned(), "SK".to_owned())].into();
        let r = Signed {
            method: "GET",
            raw_path: "/b/k",
            raw_query: "",
            headers: &h,
            bucket: "b",
            key: "k",
        };
        assert!(verify(&r, &keys, SystemTime::now()).is_err());
        // Presigned with an expiry that overflows the clock: refused, no panic.
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F99991231%2Fr%2Fs3%2Faws4_request&X-Amz-Date=99991231T235959Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=00";
        let empty = HeaderMap::new();
        let r = Signed {
            raw_query: q,
            headers: &empty,
            ..r
        };
        assert!(verify(&r, &keys, SystemTime::now()).is_err());
        // An OSS V1 URL whose Expires is past what SystemTime can hold.
        let q = "OSSAccessKeyId=AK&Expires=18446744073709551615&Signature=AAAA";
        let r = Signed { raw_query: q, ..r };
        assert_eq!(
            verify(&r, &keys, SystemTime::now()).unwrap_err().code,
            Code::AccessDenied
        );
    }

    /// The AWS documentation's GetObject example (examplebucket, test.txt,
    /// Range: bytes=0-9): signature f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41.
    #[test]
    fn the_aws_documentation_example_verifies() {
        let mut h = HeaderMap::new();
        h.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
        h.insert("range", "bytes=0-9".parse().unwrap());
        h.insert(
            "x-amz-content-sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse()
                .unwrap(),
        );
        h.insert("x-amz-date", "20130524T000000Z".parse().unwrap());
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
                .parse()
                .unwrap(),
        );
        let keys: HashMap<String, String> = [(
            "AKIAIOSFODNN7EXAMPLE".to_owned(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
        )]
        .into();
        let r = Signed {
            method: "GET",
            raw_path: "/test.txt",
            raw_query: "",
            headers: &h,
            bucket: "examplebucket",
            key: "test.txt",
        };
        let now = UNIX_EPOCH + Duration::from_secs(1_369_353_600 + 60);
        assert_eq!(
            verify(&r, &keys, now),
            Ok(Principal::Key("AKIAIOSFODNN7EXAMPLE".into()))
        );
        // A day later the clock skew refuses it; a wrong key id is unknown.
        let later = now + Duration::from_secs(86_400);
        assert_eq!(
            verify(&r, &keys, later).unwrap_err().code,
            Code::RequestTimeTooSkewed
        );
        let mut h2 = h.clone();
        h2.insert("range", "bytes=0-10".parse().unwrap());
        let r2 = Signed { headers: &h2, ..r };
        assert_eq!(
            verify(&r2, &keys, now).unwrap_err().code,
            Code::SignatureDoesNotMatch
        );
        let empty = HashMap::new();
        assert_eq!(
            verify(&r, &empty, now).unwrap_err().code,
            Code::InvalidAccessKeyId
        );
    }
}
