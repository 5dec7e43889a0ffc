//! Writes and bucket calls passed through to the origin (issue 19):
//! PutObject, CopyObject, DeleteObject, HeadBucket, ListObjects V1/V2.
//!
//! Every one needs a proven signature (anonymous → 403, nothing written);
//! the signature covers the method, so a URL presigned for a GET cannot be
//! replayed as a PUT. Other clouds' S3-like clients too: their headers are
//! mapped to S3's names and the answer shape chosen by
//! `pixgate_origin::clients`.

use std::fmt::Write as _;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, HOST};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use pixgate_origin::clients::{
    BUCKET_SUBRESOURCES, OBJECT_SUBRESOURCES, s3_header_name, wants_plain_xml,
};
use pixgate_origin::{
    ByteStream, CopyObject, ListRequest, Listing, Payload, PutObject, UploadPart, validate_key,
    xml_escape,
};

use crate::access;
use crate::body::{self, Body};
use crate::cache::SourceId;
use crate::error::{ApiError, Code};
use crate::state::AppState;
use crate::styles::reserved::{PREFIX, is_reserved};
use std::sync::{Arc, Mutex};

/// A write or bucket call, told apart by method, key and sub-resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put,
    Copy,
    Delete,
    HeadBucket,
    List {
        v2: bool,
    },
    /// `POST ?uploads`.
    Initiate,
    /// `PUT ?partNumber&uploadId`.
    UploadPart,
    /// `POST ?uploadId`.
    Complete,
    /// `DELETE ?uploadId`.
    Abort,
}

/// The largest CompleteMultipartUpload body read (10 000 parts with
/// checksums stay well under it).
const COMPLETE_BODY_CAP: usize = 4 << 20;

/// Bytes kept raw in `encoding-type=url` listings (S3 keeps `/` too).
const LIST_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn query_pairs(raw: &str) -> Vec<(String, String)> {
    let dec = |s: &str| {
        percent_decode_str(&s.replace('+', "%20"))
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (dec(k), dec(v)),
            None => (dec(p), String::new()),
        })
        .collect()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn has(q: &[(String, String)], names: &[&str]) -> bool {
    q.iter().any(|(k, _)| names.contains(&k.as_str()))
}

pub(crate) fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Which write or bucket call the request is, if any (`key` empty: the
/// request names a bucket). `None` leaves it to the read path.
pub fn classify(method: &Method, key: &str, raw_query: &str, headers: &HeaderMap) -> Option<Op> {
    let q = query_pairs(raw_query);
    let upload = param(&q, "uploadId").is_some();
    if key.is_empty() {
        return match *method {
            Method::HEAD if q.is_empty() => Some(Op::HeadBucket),
            Method::HEAD => None,
            Method::GET if has(&q, BUCKET_SUBRESOURCES) => None,
            Method::GET => Some(Op::List {
                v2: param(&q, "list-type") == Some("2"),
            }),
            _ => None,
        };
    }
    match *method {
        Method::POST if has(&q, &["uploads"]) => Some(Op::Initiate),
        Method::POST if upload => Some(Op::Complete),
        Method::PUT if upload && param(&q, "partNumber").is_some() => Some(Op::UploadPart),
        Method::DELETE if upload => Some(Op::Abort),
        // ListParts and other upload calls are not passed through.
        _ if upload => None,
        Method::PUT | Method::DELETE if has(&q, OBJECT_SUBRESOURCES) => None,
        Method::PUT if s3_header(headers, "x-amz-copy-source").is_some() => Some(Op::Copy),
        Method::PUT => Some(Op::Put),
        Method::DELETE => Some(Op::Delete),
        _ => None,
    }
}

/// The most of an unread request body read before answering a refusal:
/// a small body read to its end keeps the connection open for the client's
/// next request (SDKs reuse connections); a larger one is left unread and
/// the connection closes.
const DRAIN_CAP: u64 = 1 << 20;

/// How long a refused request's body may take to arrive.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves one write or bucket call; `body` is the request's, streamed.
pub async fn serve(
    state: &AppState,
    parts: &Parts,
    bucket_name: &str,
    key: &str,
    op: Op,
    body: ByteStream,
) -> Result<Response<Body>, ApiError> {
    let left = Arc::new(Mutex::new(None));
    let body: ByteStream = Box::pin(Unread {
        inner: Some(body),
        left: left.clone(),
    });
    let answer = serve_call(state, parts, bucket_name, key, op, body).await;
    if answer.is_err() {
        let unread = left.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(unread) = unread {
            drain(unread, &parts.headers).await;
        }
    }
    answer
}

/// A request body that, dropped before its end, leaves the rest in `left`
/// (so a refusal can read it out).
struct Unread {
    inner: Option<ByteStream>,
    left: Arc<Mutex<Option<ByteStream>>>,
}

impl futures_util::Stream for Unread {
    type Item = std::io::Result<bytes::Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        let next = inner.as_mut().poll_next(cx);
        if let std::task::Poll::Ready(None) = next {
            self.inner = None;
        }
        next
    }
}

impl Drop for Unread {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            *self.left.lock().unwrap_or_else(|e| e.into_inner()) = Some(inner);
        }
    }
}

/// Reads a small unread body to its end (bounded in size and time).
async fn drain(mut body: ByteStream, headers: &HeaderMap) {
    use futures_util::StreamExt;
    let small = header(headers, CONTENT_LENGTH.as_str())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n <= DRAIN_CAP);
    if !small {
        return;
    }
    let read = async {
        let mut seen = 0u64;
        while let Some(Ok(chunk)) = body.next().await {
            seen += chunk.len() as u64;
            if seen > DRAIN_CAP {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, read).await;
}

async fn serve_call(
    state: &AppState,
    parts: &Parts,
    bucket_name: &str,
    key: &str,
    op: Op,
    body: ByteStream,
) -> Result<Response<Body>, ApiError> {
    let bucket = state
        .buckets
        .get(bucket_name)
        .ok_or_else(|| ApiError::new(Code::NoSuchBucket, "The bucket is not served here."))?;
    let principal = access::principal(parts, bucket_name, key, &state.keys)?;
    if principal == access::Principal::Anonymous {
        return Err(ApiError::new(
            Code::AccessDenied,
            "Writes and bucket calls need a signed request; anonymous ones are refused.",
        ));
    }
    if is_reserved(key, bucket.styles.object()) {
        return Err(ApiError::new(
            Code::AccessDenied,
            format!(
                "Keys under {PREFIX} (and the styles object) are reserved for pixgate's own use; manage styles with the style calls."
            ),
        ));
    }
    let headers = &parts.headers;
    let query = query_pairs(parts.uri.query().unwrap_or(""));
    let origin = &bucket.origin;
    let plain = wants_plain_xml(
        header(headers, "authorization"),
        query.iter().map(|(k, _)| k.as_str()),
    );
    let xmlns = if plain {
        ""
    } else {
        " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""
    };
    match op {
        Op::Put => {
            let length = content_length(headers)?;
            let payload = payload(headers)?;
            let forwarded = upstream_headers(headers, &payload);
            let written = origin
                .put(PutObject {
                    key: key.to_owned(),
                    body,
                    length,
                    payload,
                    headers: forwarded,
                })
                .await;
            // Whatever happened upstream, what was cached may be stale now.
            invalidate(state, bucket_name, key).await;
            let written = written?;
            written_response(&written)
        }
        Op::Copy => {
            let source = copy_source(headers, bucket_name)?;
            let mut forwarded = metadata_headers(headers);
            let directive = s3_header(headers, "x-amz-metadata-directive");
            if let Some(d) = directive {
                forwarded.push(("x-amz-metadata-directive".into(), d.to_owned()));
            }
            let copied = origin
                .copy(&CopyObject {
                    source_key: source,
                    key: key.to_owned(),
                    headers: forwarded,
                })
                .await;
            invalidate(state, bucket_name, key).await;
            let copied = copied?;
            let xml = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult{xmlns}><LastModified>{}</LastModified><ETag>{}</ETag></CopyObjectResult>",
                xml_escape(&copied.last_modified),
                xml_escape(copied.etag.as_deref().unwrap_or(""))
            );
            xml_response(xml)
        }
        Op::Delete => {
            let deleted = origin.delete(key).await;
            invalidate(state, bucket_name, key).await;
            deleted?;
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(body::empty())
                .map_err(ApiError::internal)
        }
        Op::HeadBucket => {
            origin.check().await?;
            Response::builder()
                .status(StatusCode::OK)
                .header(CONTENT_LENGTH, 0)
                .body(body::empty())
                .map_err(ApiError::internal)
        }
        Op::List { v2 } => list(origin.as_ref(), bucket_name, &query, v2, xmlns).await,
        Op::Initiate => {
            let mut forwarded = metadata_headers(headers);
            forwarded.extend(
                headers
                    .iter()
                    .filter(|(n, _)| n.as_str().starts_with("x-amz-checksum-"))
                    .filter_map(|(n, v)| {
                        Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned()))
                    }),
            );
            let id = origin.create_multipart(key, &forwarded).await?;
            xml_response(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult{xmlns}><Bucket>{}</Bucket><Key>{}</Key><UploadId>{}</UploadId></InitiateMultipartUploadResult>",
                xml_escape(bucket_name),
                xml_escape(key),
                xml_escape(&id)
            ))
        }
        Op::UploadPart => {
            let part_number = param(&query, "partNumber")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| {
                    ApiError::new(
                        Code::InvalidArgument,
                        "Part number must be an integer between 1 and 10000, inclusive.",
                    )
                })?;
            let length = content_length(headers)?;
            let payload = payload(headers)?;
            let mut forwarded = upstream_headers(headers, &payload);
            // A part keeps no object headers; only its integrity ones.
            forwarded.retain(|(n, _)| {
                n == "content-md5"
                    || n.starts_with("x-amz-checksum-")
                    || n == "x-amz-sdk-checksum-algorithm"
                    || n == "x-amz-decoded-content-length"
                    || n == "x-amz-trailer"
                    || (n == "content-encoding" && payload == Payload::StreamingUnsignedTrailer)
            });
            let written = origin
                .upload_part(UploadPart {
                    key: key.to_owned(),
                    upload_id: param(&query, "uploadId").unwrap_or("").to_owned(),
                    part_number,
                    body,
                    length,
                    payload,
                    headers: forwarded,
                })
                .await?;
            written_response(&written)
        }
        Op::Complete => {
            let parts_xml =
                crate::body::read_capped(body, COMPLETE_BODY_CAP, "The part list").await?;
            if let Payload::Sha256(expected) = payload(headers)? {
                use sha2::Digest;
                let got: String = sha2::Sha256::digest(&parts_xml)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                if got != expected {
                    return Err(ApiError::new(
                        Code::XAmzContentSHA256Mismatch,
                        "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    ));
                }
            }
            let upload_id = param(&query, "uploadId").unwrap_or("");
            let done = origin.complete_multipart(key, upload_id, parts_xml).await;
            invalidate(state, bucket_name, key).await;
            let done = done?;
            let location = format!(
                "http://{}/{}/{}",
                host(parts),
                bucket_name,
                pixgate_origin::encode_path(key)
            );
            xml_response(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult{xmlns}><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>{}</ETag></CompleteMultipartUploadResult>",
                xml_escape(&location),
                xml_escape(bucket_name),
                xml_escape(key),
                xml_escape(done.etag.as_deref().unwrap_or(""))
            ))
        }
        Op::Abort => {
            let upload_id = param(&query, "uploadId").unwrap_or("");
            origin.abort_multipart(key, upload_id).await?;
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(body::empty())
                .map_err(ApiError::internal)
        }
    }
}

/// A small request body, whole; refused past `cap` bytes.
/// The body length a PUT must announce (bodies stream; none is buffered).
pub(crate) fn content_length(headers: &HeaderMap) -> Result<u64, ApiError> {
    header(headers, "content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            ApiError::new(
                Code::MissingContentLength,
                "You must provide the Content-Length HTTP header.",
            )
        })
}

/// PutObject's and UploadPart's answer: the stored ETag and the upstream's
/// integrity headers, no body.
fn written_response(written: &pixgate_origin::Written) -> Result<Response<Body>, ApiError> {
    let mut response = Response::builder().status(StatusCode::OK);
    if let Some(etag) = &written.etag {
        response = response.header(ETAG, etag);
    }
    for (name, value) in &written.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    response
        .header(CONTENT_LENGTH, 0)
        .body(body::empty())
        .map_err(ApiError::internal)
}

/// A header by its S3 name, or by another cloud's name for it.
fn s3_header<'a>(h: &'a HeaderMap, s3: &str) -> Option<&'a str> {
    header(h, s3).or_else(|| {
        h.iter()
            .find(|(n, _)| s3_header_name(n.as_str()).as_deref() == Some(s3))
            .and_then(|(_, v)| v.to_str().ok())
    })
}

/// Drops the cached source and results of a key just written.
pub(crate) async fn invalidate(state: &AppState, bucket: &str, key: &str) {
    state
        .caches
        .invalidate(&SourceId {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
        .await;
}

/// What the client's `x-amz-content-sha256` says of the body.
fn payload(headers: &HeaderMap) -> Result<Payload, ApiError> {
    match header(headers, "x-amz-content-sha256") {
        None | Some("UNSIGNED-PAYLOAD") => Ok(Payload::Unsigned),
        Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER") => Ok(Payload::StreamingUnsignedTrailer),
        Some(v) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Payload::Sha256(v.to_ascii_lowercase()))
        }
        // Signed chunks chain from the client's own signature: they cannot
        // be re-signed for the upstream.
        Some(v) if v.starts_with("STREAMING-") => Err(ApiError::new(
            Code::NotImplemented,
            format!(
                "The payload mode {v} is not supported; send a plain or an unsigned-trailer body."
            ),
        )),
        Some(_) => Err(ApiError::new(
            Code::InvalidArgument,
            "x-amz-content-sha256 must be a SHA-256 in hex, UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER.",
        )),
    }
}

/// Standard headers an object keeps (S3 stores them with it).
const KEPT: &[&str] = &[
    "content-type",
    "cache-control",
    "content-disposition",
    "content-language",
    "expires",
];

/// The object's own headers; user metadata under another cloud's prefix
/// takes its `x-amz-meta-*` name.
fn metadata_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in headers {
        let Ok(value) = value.to_str() else { continue };
        let name = name.as_str();
        if KEPT.contains(&name) || name.starts_with("x-amz-meta-") {
            out.push((name.to_owned(), value.to_owned()));
        } else if let Some(s3) = s3_header_name(name).filter(|n| n.starts_with("x-amz-meta-")) {
            out.push((s3, value.to_owned()));
        }
    }
    out
}

/// What a PutObject forwards: the object's headers, its integrity headers,
/// and for an `aws-chunked` body the framing headers the upstream decodes
/// it with. ACLs, storage classes and tags are the upstream owner's
/// business, not a client's of the proxy: dropped.
fn upstream_headers(headers: &HeaderMap, payload: &Payload) -> Vec<(String, String)> {
    let mut out = metadata_headers(headers);
    for (name, value) in headers {
        let Ok(value) = value.to_str() else { continue };
        let name = name.as_str();
        let integrity = name == "content-md5"
            || name.starts_with("x-amz-checksum-")
            || name == "x-amz-sdk-checksum-algorithm";
        let chunked = *payload == Payload::StreamingUnsignedTrailer
            && matches!(
                name,
                "content-encoding" | "x-amz-decoded-content-length" | "x-amz-trailer"
            );
        let encoding = name == "content-encoding" && *payload != Payload::StreamingUnsignedTrailer;
        if integrity || chunked || encoding {
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

/// The key a copy reads: `x-amz-copy-source: [/]bucket/key` (percent-encoded),
/// which must name this bucket.
fn copy_source(headers: &HeaderMap, bucket: &str) -> Result<String, ApiError> {
    let raw = s3_header(headers, "x-amz-copy-source").unwrap_or("");
    let invalid = |m: &str| ApiError::new(Code::InvalidArgument, m.to_owned());
    if raw.contains("?versionId=") {
        return Err(ApiError::new(
            Code::NotImplemented,
            "Copying a version of an object is not supported.",
        ));
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| invalid("The copy source is not valid UTF-8 once percent-decoded."))?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (source_bucket, key) = decoded
        .split_once('/')
        .ok_or_else(|| invalid("The copy source must be /bucket/key."))?;
    if source_bucket != bucket {
        return Err(ApiError::new(
            Code::NotImplemented,
            "Copies between buckets are not supported; copy within one bucket.",
        ));
    }
    validate_key(key)?;
    Ok(key.to_owned())
}

async fn list(
    origin: &dyn pixgate_origin::Origin,
    bucket: &str,
    q: &[(String, String)],
    v2: bool,
    xmlns: &str,
) -> Result<Response<Body>, ApiError> {
    let max_keys = match param(q, "max-keys") {
        None => 1000,
        Some(v) => v.parse::<u32>().map_err(|_| {
            ApiError::new(
                Code::InvalidArgument,
                "max-keys must be a non-negative integer.",
            )
        })?,
    }
    .min(1000);
    let url = match param(q, "encoding-type") {
        None => false,
        Some("url") => true,
        Some(_) => {
            return Err(ApiError::new(
                Code::InvalidArgument,
                "Invalid Encoding Method specified in Request",
            ));
        }
    };
    let prefix = param(q, "prefix").unwrap_or("").to_owned();
    let delimiter = param(q, "delimiter").filter(|d| !d.is_empty());
    let (token, start_after) = if v2 {
        (
            param(q, "continuation-token").filter(|t| !t.is_empty()),
            param(q, "start-after").filter(|t| !t.is_empty()),
        )
    } else {
        (None, param(q, "marker").filter(|t| !t.is_empty()))
    };
    let listing = if max_keys == 0 {
        Listing::default()
    } else {
        let mut listing = origin
            .list(&ListRequest {
                prefix: prefix.clone(),
                delimiter: delimiter.map(str::to_owned),
                max_keys,
                continuation_token: token.map(str::to_owned),
                start_after: start_after.map(str::to_owned),
            })
            .await?;
        // V1's marker may be a common prefix the last page ended on; an
        // upstream asked with `start-after` lists it again.
        if let Some(marker) = start_after.filter(|_| !v2) {
            listing.common_prefixes.retain(|p| p != marker);
        }
        listing
    };
    let enc = |s: &str| {
        if url {
            xml_escape(&utf8_percent_encode(s, LIST_KEEP).to_string())
        } else {
            xml_escape(s)
        }
    };
    let mut xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult{xmlns}>");
    // Writing to a String cannot fail.
    let _ = write!(
        xml,
        "<Name>{}</Name><Prefix>{}</Prefix><MaxKeys>{max_keys}</MaxKeys>",
        xml_escape(bucket),
        enc(&prefix)
    );
    if let Some(d) = delimiter {
        let _ = write!(xml, "<Delimiter>{}</Delimiter>", enc(d));
    }
    if url {
        xml.push_str("<EncodingType>url</EncodingType>");
    }
    let _ = write!(xml, "<IsTruncated>{}</IsTruncated>", listing.truncated);
    if v2 {
        let _ = write!(
            xml,
            "<KeyCount>{}</KeyCount>",
            listing.entries.len() + listing.common_prefixes.len()
        );
        if let Some(t) = token {
            let _ = write!(
                xml,
                "<ContinuationToken>{}</ContinuationToken>",
                xml_escape(t)
            );
        }
        if let Some(t) = &listing.next_token {
            let _ = write!(
                xml,
                "<NextContinuationToken>{}</NextContinuationToken>",
                xml_escape(t)
            );
        }
        if let Some(s) = start_after {
            let _ = write!(xml, "<StartAfter>{}</StartAfter>", enc(s));
        }
    } else {
        let _ = write!(xml, "<Marker>{}</Marker>", enc(start_after.unwrap_or("")));
        if listing.truncated {
            // The last key or prefix of this page: where the next one starts.
            let last = listing
                .entries
                .last()
                .map(|e| e.key.as_str())
                .into_iter()
                .chain(listing.common_prefixes.last().map(String::as_str))
                .max();
            if let Some(last) = last {
                let _ = write!(xml, "<NextMarker>{}</NextMarker>", enc(last));
            }
        }
    }
    for e in &listing.entries {
        let _ = write!(
            xml,
            "<Contents><Key>{}</Key><LastModified>{}</LastModified><ETag>{}</ETag><Size>{}</Size><StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents>",
            enc(&e.key),
            xml_escape(&e.last_modified),
            xml_escape(e.etag.as_deref().unwrap_or("")),
            e.size
        );
    }
    for p in &listing.common_prefixes {
        let _ = write!(
            xml,
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            enc(p)
        );
    }
    xml.push_str("</ListBucketResult>");
    xml_response(xml)
}

fn xml_response(xml: String) -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/xml"))
        .header(CONTENT_LENGTH, xml.len())
        .body(body::full(xml))
        .map_err(ApiError::internal)
}

/// The `Host` a request names (HTTP/2 carries it in the URI).
pub fn host(parts: &Parts) -> &str {
    parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn calls_are_told_apart() {
        let none = HeaderMap::new();
        assert_eq!(classify(&Method::PUT, "a.jpg", "", &none), Some(Op::Put));
        assert_eq!(
            classify(
                &Method::PUT,
                "a.jpg",
                "",
                &h(&[("x-amz-copy-source", "/b/c")])
            ),
            Some(Op::Copy)
        );
        assert_eq!(
            classify(&Method::DELETE, "a.jpg", "", &none),
            Some(Op::Delete)
        );
        assert_eq!(classify(&Method::PUT, "a.jpg", "acl", &none), None);
        assert_eq!(
            classify(&Method::POST, "a.jpg", "uploads", &none),
            Some(Op::Initiate)
        );
        assert_eq!(
            classify(&Method::PUT, "a.jpg", "partNumber=1&uploadId=x", &none),
            Some(Op::UploadPart)
        );
        assert_eq!(
            classify(&Method::POST, "a.jpg", "uploadId=x", &none),
            Some(Op::Complete)
        );
        assert_eq!(
            classify(&Method::DELETE, "a.jpg", "uploadId=x", &none),
            Some(Op::Abort)
        );
        assert_eq!(classify(&Method::GET, "a.jpg", "uploadId=x", &none), None);
        assert_eq!(classify(&Method::GET, "a.jpg", "", &none), None);
        assert_eq!(classify(&Method::HEAD, "", "", &none), Some(Op::HeadBucket));
        assert_eq!(
            classify(&Method::GET, "", "list-type=2&prefix=a", &none),
            Some(Op::List { v2: true })
        );
        assert_eq!(
            classify(&Method::GET, "", "prefix=a", &none),
            Some(Op::List { v2: false })
        );
        assert_eq!(classify(&Method::GET, "", "acl", &none), None);
        assert_eq!(classify(&Method::PUT, "", "", &none), None);
    }

    #[test]
    fn payload_modes() {
        assert_eq!(payload(&none_headers()).unwrap(), Payload::Unsigned);
        let hex = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        let mut m = HeaderMap::new();
        m.insert("x-amz-content-sha256", HeaderValue::from_static(hex));
        assert_eq!(
            payload(&m).unwrap(),
            Payload::Sha256(hex.to_ascii_lowercase())
        );
        let m = h(&[("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")]);
        assert_eq!(payload(&m).unwrap_err().code, Code::NotImplemented);
        let m = h(&[("x-amz-content-sha256", "nope")]);
        assert_eq!(payload(&m).unwrap_err().code, Code::InvalidArgument);
    }

    fn none_headers() -> HeaderMap {
        HeaderMap::new()
    }

    #[test]
    fn acls_and_classes_are_not_forwarded() {
        let m = h(&[
            ("x-amz-meta-author", "me"),
            ("content-type", "image/png"),
            ("x-amz-acl", "public-read"),
            ("x-amz-storage-class", "GLACIER"),
            ("content-md5", "abc"),
        ]);
        let mut got = upstream_headers(&m, &Payload::Unsigned);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("content-md5".to_owned(), "abc".to_owned()),
                ("content-type".to_owned(), "image/png".to_owned()),
                ("x-amz-meta-author".to_owned(), "me".to_owned()),
            ]
        );
    }

    #[test]
    fn copy_sources_name_this_bucket() {
        let m = h(&[("x-amz-copy-source", "/pics/a%20b.jpg")]);
        assert_eq!(copy_source(&m, "pics").unwrap(), "a b.jpg");
        let m = h(&[("x-amz-copy-source", "pics/a.jpg")]);
        assert_eq!(copy_source(&m, "pics").unwrap(), "a.jpg");
        let m = h(&[("x-amz-copy-source", "/other/a.jpg")]);
        assert_eq!(
            copy_source(&m, "pics").unwrap_err().code,
            Code::NotImplemented
        );
        let m = h(&[("x-amz-copy-source", "/pics/../x")]);
        assert_eq!(
            copy_source(&m, "pics").unwrap_err().code,
            Code::InvalidObjectName
        );
    }
}
