//! Huawei OBS: its V2-style scheme (`Authorization: OBS ak:sig`, and the
//! `AccessKeyId` / `Expires` / `Signature` URL) and the AWS V2 form
//! esdk-obs-python signs with on an IP endpoint or path style
//! (`Authorization: AWS ak:sig`, `AWSAccessKeyId`). One algorithm,
//! Base64(HMAC-SHA1(SK, string to sign)) over OBS's sub-resource list, which
//! covers `x-image-process` (reference §4.2). OBS's V4 mode is SigV4 with a
//! `Date` header (aws.rs).
//!
//! `AWS ak:sig` is also plain S3 Signature V2 (boto's, s3cmd's): OBS's
//! sub-resource list holds S3's, so S3 V2 reads verify here too. Such a
//! request answers in its own dialect's shape (S3's XML, as OSS answers),
//! unless it carries one of OBS's image parameters, which only Huawei's SDK
//! signs: then in OBS's.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use percent_encoding::percent_decode_str;

use super::crypto::{hmac_sha1, uri_encode};
use super::*;

/// The OBS dialect's name: its XML error shape.
const SHAPE: &str = "obs";

/// Longest validity of an OBS signed URL: one year (URL中携带签名.md).
const MAX_URL_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// Query parameters signed as sub-resources, lower-case (matched without
/// case): esdk-obs-python's `ALLOWED_RESOURCE_PARAMTER_NAMES` and the
/// documentation's list (reference §4.2: accept the union).
pub(super) const SUBRESOURCES: &[&str] = &[
    "acl",
    "append",
    "attname",
    "backtosource",
    "bucketstatus",
    "cdnnotifyconfiguration",
    "cors",
    "customdomain",
    "delete",
    "deletebucket",
    "directcoldaccess",
    "dispolicy",
    "encryption",
    "fileinterface",
    "inventory",
    "length",
    "lifecycle",
    "location",
    "logging",
    "metadata",
    "modify",
    "name",
    "notification",
    "obsalias",
    "obsbucketalias",
    "obscompresspolicy",
    "obsworkflowtriggerpolicy",
    "object-lock",
    "orchestration",
    "partnumber",
    "policy",
    "policystatus",
    "position",
    "publicaccessblock",
    "quota",
    "rename",
    "replication",
    "requestpayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "storageclass",
    "storageinfo",
    "storagepolicy",
    "tagging",
    "torrent",
    "truncate",
    "uploadid",
    "uploads",
    "versionid",
    "versioning",
    "versions",
    "website",
    "x-image-process",
    "x-image-save-bucket",
    "x-image-save-object",
    "x-obs-accesslabel",
    "x-obs-security-token",
    "x-oss-process",
    "x-workflow-execution-state",
    "x-workflow-execution-type",
    "x-workflow-graph-name",
    "x-workflow-limit",
    "x-workflow-next-marker",
    "x-workflow-prefix",
    "x-workflow-start",
    "x-workflow-template-name",
];

/// Parameters only Huawei's image service reads: an `AWS`-signed request
/// carrying one is Huawei's SDK talking, and answers in OBS's shape.
const OBS_IMAGE_PARAMS: &[&str] = &[
    "x-image-process",
    "x-image-save-bucket",
    "x-image-save-object",
];

/// The two spellings of the one scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    /// `OBS ak:sig`, `AccessKeyId`, `x-obs-*` headers.
    Obs,
    /// `AWS ak:sig`, `AWSAccessKeyId`, `x-amz-*` headers.
    Aws,
}

impl Form {
    /// Headers (and query parameters) with this prefix are signed.
    fn prefix(self) -> &'static str {
        match self {
            Form::Obs => "x-obs-",
            Form::Aws => "x-amz-",
        }
    }

    /// The header that replaces `Date` (which is then signed empty).
    fn date_header(self) -> &'static str {
        match self {
            Form::Obs => "x-obs-date",
            Form::Aws => "x-amz-date",
        }
    }
}

/// One query parameter: its decoded name, and its value decoded and as on
/// the wire (`None`: a bare flag, no `=`).
struct Param<'a> {
    name: String,
    value: Option<(String, &'a str)>,
}

fn params(raw_query: &str) -> Vec<Param<'_>> {
    let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => Param {
                name: dec(k),
                value: Some((dec(v), v)),
            },
            None => Param {
                name: dec(p),
                value: None,
            },
        })
        .collect()
}

/// Where the refusal answers: OBS's shape for its own form, and for the AWS
/// form when the request carries OBS's image parameters; else (plain S3 V2)
/// the request's own dialect.
fn shape(form: Form, query: &[Param]) -> Option<&'static str> {
    let obs_params = query
        .iter()
        .any(|p| OBS_IMAGE_PARAMS.contains(&p.name.to_ascii_lowercase().as_str()));
    (form == Form::Obs || obs_params).then_some(SHAPE)
}

fn shaped(e: Denied, shape: Option<&'static str>) -> Denied {
    match shape {
        Some(s) => e.in_shape(s),
        None => e,
    }
}

/// `Authorization: OBS ak:sig` or `AWS ak:sig` (`rest` follows the prefix).
pub(super) fn header_form(
    form: Form,
    r: &Signed,
    rest: &str,
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let query = params(r.raw_query);
    let shape = shape(form, &query);
    header_check(form, r, rest, &query, keys, now).map_err(|e| shaped(e, shape))
}

fn header_check(
    form: Form,
    r: &Signed,
    rest: &str,
    query: &[Param],
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let (key_id, signature) = rest
        .trim()
        .split_once(':')
        .filter(|(k, s)| !k.is_empty() && !s.is_empty())
        .ok_or_else(|| denied(Code::AccessDenied, "The Authorization header is malformed."))?;
    // The request time: `x-obs-date` / `x-amz-date` when present (the Date
    // line is then signed empty), else `Date`.
    let own_date = header(r.headers, form.date_header());
    let date = header(r.headers, "date");
    let t = own_date
        .or(date)
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .ok_or_else(|| {
            denied(
                Code::AccessDenied,
                "The request has no valid Date (or x-obs-date) header.",
            )
        })?;
    check_skew(t, now)?;
    let date_line = if own_date.is_some() {
        ""
    } else {
        date.unwrap_or("")
    };
    check(form, r, key_id, signature, date_line, query, keys)
}

/// `?AccessKeyId=…&Expires=…&Signature=…` (or `AWSAccessKeyId`).
pub(super) fn url_form(
    form: Form,
    r: &Signed,
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let query = params(r.raw_query);
    let shape = shape(form, &query);
    url_check(form, r, &query, shape, keys, now).map_err(|e| shaped(e, shape))
}

fn url_check(
    form: Form,
    r: &Signed,
    query: &[Param],
    shape: Option<&'static str>,
    keys: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Principal, Denied> {
    let q = |name: &str| {
        query
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.as_ref())
            .map(|(v, _)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let malformed = || denied(Code::AccessDenied, "The signed URL is malformed.");
    let key_id = q(match form {
        Form::Obs => "AccessKeyId",
        Form::Aws => "AWSAccessKeyId",
    })
    .ok_or_else(malformed)?;
    let signature = q("Signature").ok_or_else(malformed)?;
    let expires = q("Expires").ok_or_else(malformed)?;
    let end = expires
        .parse::<u64>()
        .ok()
        .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
        .ok_or_else(malformed)?;
    if now > end {
        // OBS answers RequestTimeTooSkewed "Request has expired." (its
        // wire maps RequestExpired so); S3 answers AccessDenied.
        let code = match shape {
            Some(_) => Code::RequestExpired,
            None => Code::AccessDenied,
        };
        return Err(denied(code, "Request has expired."));
    }
    if end > now + MAX_URL_VALIDITY {
        return Err(denied(
            Code::AccessDenied,
            "The signed URL's Expires is more than a year away.",
        ));
    }
    check(form, r, key_id, signature, expires, query, keys)
}

/// The canonical headers: the form's prefixed headers, lower-case, sorted,
/// repeated names joined with `,`, `x-*-meta-` values trimmed.
fn canonical_headers(form: Form, r: &Signed) -> String {
    let prefix = form.prefix();
    let meta = format!("{prefix}meta-");
    let mut names: Vec<&str> = r
        .headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with(prefix))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .iter()
        .map(|name| {
            let values: Vec<String> = r
                .headers
                .get_all(*name)
                .iter()
                .map(|v| {
                    let v = String::from_utf8_lossy(v.as_bytes());
                    if name.starts_with(&meta) {
                        v.trim().to_owned()
                    } else {
                        v.into_owned()
                    }
                })
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect()
}

/// `?a&b=v…`: the signed sub-resources, sorted by name; values decoded
/// (what the SDK signs) or as on the wire (the documentation's Java demo
/// encodes them).
fn subresources(form: Form, query: &[Param], wire_values: bool) -> String {
    let prefix = form.prefix();
    let mut subs: Vec<&Param> = query
        .iter()
        .filter(|p| {
            let lower = p.name.to_ascii_lowercase();
            SUBRESOURCES.contains(&lower.as_str()) || lower.starts_with(prefix)
        })
        .collect();
    subs.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = String::new();
    for (i, p) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&uri_encode(&p.name, true));
        if let Some((decoded, wire)) = &p.value {
            out.push('=');
            out.push_str(if wire_values { wire } else { decoded });
        }
    }
    out
}

/// The resources the request may have been signed for: `/<bucket>/<key>`
/// (virtual host and path style alike), `/<bucket>` or `/<bucket>/` with no
/// key, or `/<host>/<key>` for a custom domain (`is_cname`). The key as the
/// SDK encodes it (`/` and `~` kept), and as the wire carried it.
fn resources(r: &Signed) -> Vec<String> {
    let mut keys = vec![uri_encode(r.key, true)];
    let dec = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let wire_key = [format!("/{}/", r.bucket), "/".to_owned()]
        .iter()
        .filter_map(|p| r.raw_path.strip_prefix(p.as_str()))
        .find(|k| dec(k) == r.key);
    if let Some(k) = wire_key
        && !keys.iter().any(|e| e == k)
    {
        keys.push(k.to_owned());
    }
    let mut bases = vec![r.bucket.to_owned()];
    if let Some(host) = header(r.headers, "host") {
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        if !host.is_empty() && host != r.bucket {
            bases.push(host.to_owned());
        }
    }
    let mut out = Vec::new();
    for base in &bases {
        if r.key.is_empty() {
            out.push(format!("/{base}"));
            out.push(format!("/{base}/"));
        } else {
            for k in &keys {
                out.push(format!("/{base}/{k}"));
            }
        }
    }
    out
}

fn check(
    form: Form,
    r: &Signed,
    key_id: &str,
    signature: &str,
    date_line: &str,
    query: &[Param],
    keys: &HashMap<String, String>,
) -> Result<Principal, Denied> {
    let secret = secret(keys, key_id)?;
    let head = format!(
        "{}\n{}\n{}\n{}\n{}",
        r.method,
        header(r.headers, "content-md5").unwrap_or(""),
        header(r.headers, "content-type").unwrap_or(""),
        date_line,
        canonical_headers(form, r)
    );
    let mut tails = vec![subresources(form, query, false)];
    let wire = subresources(form, query, true);
    if wire != tails[0] {
        tails.push(wire);
    }
    let mut candidates = Vec::new();
    for resource in resources(r) {
        for tail in &tails {
            let string_to_sign = format!("{head}{resource}{tail}");
            candidates.push(
                base64::engine::general_purpose::STANDARD
                    .encode(hmac_sha1(secret.as_bytes(), string_to_sign.as_bytes())),
            );
        }
    }
    if matches_any(candidates, signature) {
        Ok(Principal::Key(key_id.to_owned()))
    } else {
        Err(mismatch())
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

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

    /// reference §4.4: `getObject(…, imageProcess='image/resize,w_100')`,
    /// virtual host, OBS form; the IP-endpoint run (path style, AWS form)
    /// gives the same signature.
    #[test]
    fn sdk_header_examples_verify() {
        let date = "Mon, 15 Jan 2024 08:00:00 GMT";
        let q = "x-image-process=image/resize%2Cw_100";
        let h = headers(&[
            ("host", "examplebucket.obs.test:8080"),
            ("date", date),
            (
                "authorization",
                "OBS AKIDEXAMPLE:5eWvZZy3tSlkgdI+DcG9AUj2mUE=",
            ),
        ]);
        let r = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(
            verify(&r, &keys(), at(T + 60)),
            Ok(Principal::Key(AK.into()))
        );

        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("date", date),
            (
                "authorization",
                "AWS AKIDEXAMPLE:5eWvZZy3tSlkgdI+DcG9AUj2mUE=",
            ),
        ]);
        let r = signed("/examplebucket/photos/cat%201.jpg", q, &h);
        assert_eq!(verify(&r, &keys(), at(T)), Ok(Principal::Key(AK.into())));

        // The process string is signed: a changed one no longer verifies,
        // and (AWS form, OBS's parameter) answers in OBS's shape.
        let r2 = Signed {
            raw_query: "x-image-process=image/resize%2Cw_101",
            ..r
        };
        let e = verify(&r2, &keys(), at(T)).unwrap_err();
        assert_eq!(
            (e.code, e.shape),
            (Code::SignatureDoesNotMatch, Some("obs"))
        );
    }

    /// reference §4.4: `createSignedUrl('GET', …, expires=3600,
    /// queryParams={'x-image-process': …})`, both endpoints.
    #[test]
    fn sdk_signed_url_examples_verify() {
        let h = headers(&[("host", "examplebucket.obs.test:8080")]);
        let q = "x-image-process=image/resize%2Cw_100&Expires=1705309200&AccessKeyId=AKIDEXAMPLE&Signature=r6KYN3Lna4FaL/b1Mbu2bBKhFgE%3D";
        let r = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(verify(&r, &keys(), at(T)), Ok(Principal::Key(AK.into())));
        // An hour and a second later it has expired: OBS's code, its shape.
        let e = verify(&r, &keys(), at(T + 3601)).unwrap_err();
        assert_eq!((e.code, e.shape), (Code::RequestExpired, Some("obs")));

        let h = headers(&[("host", "127.0.0.1:8080")]);
        let q = "x-image-process=image/resize%2Cw_100&Expires=1705309200&AWSAccessKeyId=AKIDEXAMPLE&Signature=r6KYN3Lna4FaL/b1Mbu2bBKhFgE%3D";
        let r = signed("/examplebucket/photos/cat%201.jpg", q, &h);
        assert_eq!(verify(&r, &keys(), at(T)), Ok(Principal::Key(AK.into())));
        // One character changed in the key, the process string, the
        // signature: refused.
        for (path, query) in [
            ("/examplebucket/photos/cat%202.jpg", q.to_owned()),
            (
                "/examplebucket/photos/cat%201.jpg",
                q.replace("w_100", "w_200"),
            ),
            (
                "/examplebucket/photos/cat%201.jpg",
                q.replace("r6KYN", "r7KYN"),
            ),
        ] {
            let key = if path.contains("cat%202") {
                "photos/cat 2.jpg"
            } else {
                "photos/cat 1.jpg"
            };
            let r = Signed {
                raw_path: path,
                raw_query: &query,
                key,
                ..r
            };
            let e = verify(&r, &keys(), at(T)).unwrap_err();
            assert_eq!(
                (e.code, e.shape),
                (Code::SignatureDoesNotMatch, Some("obs"))
            );
        }
    }

    #[test]
    fn refusals_name_their_cause_in_obs_shape() {
        let date = "Mon, 15 Jan 2024 08:00:00 GMT";
        let q = "x-image-process=image/resize%2Cw_100";
        let auth = |a: &str| {
            headers(&[
                ("host", "examplebucket.obs.test:8080"),
                ("date", date),
                ("authorization", a),
            ])
        };
        let code = |h: &HeaderMap, now: u64| {
            let e = verify(&signed("/photos/cat%201.jpg", q, h), &keys(), at(now)).unwrap_err();
            assert_eq!(e.shape, Some("obs"), "{e:?}");
            e.code
        };
        let good = auth("OBS AKIDEXAMPLE:5eWvZZy3tSlkgdI+DcG9AUj2mUE=");
        // Tampered, unknown key, clock skew (15 minutes either way).
        assert_eq!(
            code(&auth("OBS AKIDEXAMPLE:5eWvZZy3tSlkgdI+DcG9AUj2mUF="), T),
            Code::SignatureDoesNotMatch
        );
        assert_eq!(
            code(&auth("OBS NOBODY:5eWvZZy3tSlkgdI+DcG9AUj2mUE="), T),
            Code::InvalidAccessKeyId
        );
        assert_eq!(code(&good, T + 901), Code::RequestTimeTooSkewed);
        assert_eq!(code(&good, T - 901), Code::RequestTimeTooSkewed);
        // Malformed: refused, never anonymous.
        for bad in ["OBS ", "OBS AKIDEXAMPLE", "OBS :sig", "OBS AKIDEXAMPLE:"] {
            assert_eq!(code(&auth(bad), T), Code::AccessDenied, "{bad}");
        }
        let no_date = headers(&[("authorization", "OBS AKIDEXAMPLE:x")]);
        assert_eq!(code(&no_date, T), Code::AccessDenied);
        // A malformed URL of the scheme is an error too.
        let h = HeaderMap::new();
        for q in [
            "AccessKeyId=AKIDEXAMPLE&Signature=x",
            "AccessKeyId=AKIDEXAMPLE&Signature=x&Expires=soon",
            "AccessKeyId=AKIDEXAMPLE&Signature=x&Expires=99999999999999999999",
            "AccessKeyId=&Signature=x&Expires=1705309200",
        ] {
            let e = verify(&signed("/photos/cat%201.jpg", q, &h), &keys(), at(T)).unwrap_err();
            assert_eq!((e.code, e.shape), (Code::AccessDenied, Some("obs")), "{q}");
        }
        // More than a year ahead is refused.
        let q = "AccessKeyId=AKIDEXAMPLE&Signature=x&Expires=1805309200";
        let e = verify(&signed("/photos/cat%201.jpg", q, &h), &keys(), at(T)).unwrap_err();
        assert_eq!(e.code, Code::AccessDenied);
    }

    /// Plain S3 V2 (no OBS parameter) verifies with the same algorithm and
    /// answers in the request's own shape; an expired URL is S3's
    /// AccessDenied.
    #[test]
    fn plain_s3_v2_answers_in_the_requests_own_shape() {
        let secret = "SECRETEXAMPLE";
        let sts = "GET\n\n\n1705309200\n/examplebucket/photos/cat%201.jpg?versionId=3";
        let sig = base64::engine::general_purpose::STANDARD
            .encode(hmac_sha1(secret.as_bytes(), sts.as_bytes()));
        let sig = uri_encode(&sig, false);
        let q =
            format!("versionId=3&AWSAccessKeyId=AKIDEXAMPLE&Expires=1705309200&Signature={sig}");
        let h = HeaderMap::new();
        let r = signed("/examplebucket/photos/cat%201.jpg", &q, &h);
        assert_eq!(verify(&r, &keys(), at(T)), Ok(Principal::Key(AK.into())));
        let e = verify(&r, &keys(), at(T + 3601)).unwrap_err();
        assert_eq!((e.code, e.shape), (Code::AccessDenied, None));
        let q = q.replace("versionId=3", "versionId=4");
        let e = verify(&Signed { raw_query: &q, ..r }, &keys(), at(T)).unwrap_err();
        assert_eq!((e.code, e.shape), (Code::SignatureDoesNotMatch, None));

        // Header form with x-amz-date: the Date line is signed empty.
        let sts = "GET\n\n\n\nx-amz-date:Mon, 15 Jan 2024 08:00:00 GMT\n/examplebucket/photos/cat%201.jpg";
        let sig = base64::engine::general_purpose::STANDARD
            .encode(hmac_sha1(secret.as_bytes(), sts.as_bytes()));
        let h = headers(&[
            ("x-amz-date", "Mon, 15 Jan 2024 08:00:00 GMT"),
            ("authorization", &format!("AWS AKIDEXAMPLE:{sig}")),
        ]);
        let r = signed("/examplebucket/photos/cat%201.jpg", "", &h);
        assert_eq!(verify(&r, &keys(), at(T)), Ok(Principal::Key(AK.into())));
        let e = verify(&r, &keys(), at(T + 3600)).unwrap_err();
        assert_eq!((e.code, e.shape), (Code::RequestTimeTooSkewed, None));
    }

    /// A custom domain (`is_cname`) signs `/<host>/<key>`.
    #[test]
    fn custom_domain_resource() {
        let secret = "SECRETEXAMPLE";
        let sts = "GET\n\n\n1705309200\n/img.example.com/photos/cat%201.jpg";
        let sig = base64::engine::general_purpose::STANDARD
            .encode(hmac_sha1(secret.as_bytes(), sts.as_bytes()));
        let q = format!(
            "Expires=1705309200&AccessKeyId=AKIDEXAMPLE&Signature={}",
            uri_encode(&sig, false)
        );
        let h = headers(&[("host", "img.example.com:8080")]);
        let r = signed("/photos/cat%201.jpg", &q, &h);
        assert_eq!(verify(&r, &keys(), at(T)), Ok(Principal::Key(AK.into())));
    }

    /// reference §4.4, V4 mode: SigV4 with `Date` (RFC 1123) and no
    /// `x-amz-date`; AWS's own V4 (aws.rs) verifies it.
    #[test]
    fn sdk_v4_example_verifies_with_the_date_header() {
        let mut h = headers(&[
            ("host", "examplebucket.obs.test:8080"),
            ("date", "Mon, 15 Jan 2024 08:00:00 GMT"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240115/region/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256,Signature=8d059b0f1fdb3354e0206e61f76e0a414e52e5f2ad86d17e27a2ef4787c8e1b7",
            ),
        ]);
        let q = "x-image-process=image/resize%2Cw_100";
        let r = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(
            verify(&r, &keys(), at(T + 5)),
            Ok(Principal::Key(AK.into()))
        );
        assert_eq!(
            verify(&r, &keys(), at(T + 3600)).unwrap_err().code,
            Code::RequestTimeTooSkewed
        );
        // x-amz-date, when present, is the request time, as AWS has it.
        h.insert("x-amz-date", "20240115T080001Z".parse().unwrap());
        let r = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(
            verify(&r, &keys(), at(T)).unwrap_err().code,
            Code::SignatureDoesNotMatch
        );
        // A Date that is not a date, or of another day than the scope.
        h.remove("x-amz-date");
        h.insert("date", "yesterday".parse().unwrap());
        let r = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(
            verify(&r, &keys(), at(T)).unwrap_err().code,
            Code::AccessDenied
        );
        h.insert("date", "Tue, 16 Jan 2024 08:00:00 GMT".parse().unwrap());
        let r = signed("/photos/cat%201.jpg", q, &h);
        assert_eq!(
            verify(&r, &keys(), at(T)).unwrap_err().code,
            Code::AccessDenied
        );
    }
}
