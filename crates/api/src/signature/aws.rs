//! AWS Signature V4: the Authorization header and the presigned URL
//! (boto3, minio-py, and Huawei's SDK in its V4 mode).

use std::collections::HashMap;
use std::time::SystemTime;

use percent_encoding::percent_decode_str;

use super::crypto::uri_encode;
use super::*;

// ---- AWS Signature V4 -------------------------------------------------------

struct V4<'a> {
    key_id: &'a str,
    scope: String,
    date: &'a str,
    signed_headers: Vec<String>,
    signature: &'a str,
}

/// `AK/YYYYMMDD/region/service/<terminator>`; the key id itself has no '/'.
fn parse_credential(c: &str) -> Option<(&str, String, &str)> {
    parse_scoped_credential(c, "aws4_request")
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
    let expected = v4_signature(
        &format!("AWS4{secret}"),
        &V4Request {
            algorithm: "AWS4-HMAC-SHA256",
            date: v.date,
            scope: &v.scope,
            method: r.method,
            uri: &uri_encode(&path, true),
            query: canonical_query,
            headers: &headers,
            signed: &v.signed_headers.join(";"),
            payload,
        },
    );
    proven(&expected, v.signature, v.key_id)
}

pub(super) fn header_form(
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
    let (date, t) = request_time(r).ok_or_else(malformed)?;
    if !date.starts_with(day) {
        return Err(malformed());
    }
    check_skew(t, now)?;
    let v = V4 {
        key_id,
        scope,
        date: &date,
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

/// The request time as the string to sign writes it (`yyyymmddTHHMMSSZ`):
/// `x-amz-date`, else the `Date` header (RFC 1123), which is all Huawei's
/// SDK sends in its V4 mode (reference §4.1).
fn request_time(r: &Signed) -> Option<(String, SystemTime)> {
    if let Some(date) = header(r.headers, "x-amz-date") {
        return Some((date.to_owned(), amz_time(date)?));
    }
    let t = httpdate::parse_http_date(header(r.headers, "date")?).ok()?;
    // IMF-fixdate, fixed width: "Mon, 15 Jan 2024 08:00:00 GMT".
    let f = httpdate::fmt_http_date(t);
    let month = match f.get(8..11)? {
        "Jan" => "01",
        "Feb" => "02",
        "Mar" => "03",
        "Apr" => "04",
        "May" => "05",
        "Jun" => "06",
        "Jul" => "07",
        "Aug" => "08",
        "Sep" => "09",
        "Oct" => "10",
        "Nov" => "11",
        "Dec" => "12",
        _ => return None,
    };
    let long = format!(
        "{}{month}{}T{}{}{}Z",
        f.get(12..16)?,
        f.get(5..7)?,
        f.get(17..19)?,
        f.get(20..22)?,
        f.get(23..25)?
    );
    // Read back: the derived string must name the same instant.
    (amz_time(&long)? == t).then_some((long, t))
}

pub(super) fn presigned(
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
