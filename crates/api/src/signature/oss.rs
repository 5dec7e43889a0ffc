//! Alibaba OSS V1 (header and signed URL) and V4 (header and signed URL).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use http::HeaderMap;

use super::crypto::{hmac_sha1, uri_encode};
use super::*;

// ---- OSS V1 -----------------------------------------------------------------

/// Query parameters OSS V1 signs as sub-resources (the official SDKs' list,
/// the ones that can reach a GET or HEAD).
pub(super) const OSS_SUBRESOURCES: &[&str] = &[
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

pub(super) fn oss_resource(r: &Signed, query: &[(String, String)]) -> String {
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

pub(super) fn v1_header(
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

pub(super) fn v1_url(
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
    let expected = v4_signature(
        &format!("aliyun_v4{secret}"),
        &V4Request {
            algorithm: "OSS4-HMAC-SHA256",
            date: v.date,
            scope: &scope,
            method: r.method,
            uri: &uri_encode(&format!("/{}/{}", r.bucket, r.key), true),
            query: canonical_query,
            headers: &canonical_headers,
            signed: v.additional,
            payload,
        },
    );
    proven(&expected, v.signature, key_id)
}

pub(super) fn v4_header(
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

pub(super) fn v4_url(
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
