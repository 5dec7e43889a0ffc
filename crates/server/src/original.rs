//! Originals: the stored object, streamed, with S3's HTTP semantics
//! (Range, conditional requests, validators) (SPEC §1).

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
};
use http::{HeaderMap, Method, Response, StatusCode};
use pixgate_codec::Format;
use pixgate_origin::{ByteStream, Fetched, ObjectRequest};

use crate::body::{self, Body};
use crate::conditional;
use crate::error::ApiError;
use crate::state::Bucket;

pub async fn serve(
    bucket: &Bucket,
    key: String,
    method: &Method,
    headers: &HeaderMap,
    mapped: bool,
) -> Result<Response<Body>, ApiError> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request = ObjectRequest {
        key,
        head: method == Method::HEAD,
        range: header(RANGE),
        if_range: header(IF_RANGE),
        if_none_match: header(IF_NONE_MATCH),
        if_modified_since: header(IF_MODIFIED_SINCE),
        mapped,
    };
    let object = bucket.origin.fetch(&request).await?;
    let meta = &object.meta;

    let mut response = Response::builder();
    if let Some(etag) = &meta.etag {
        response = response.header(ETAG, etag);
    }
    if let Some(lm) = &meta.last_modified {
        response = response.header(LAST_MODIFIED, lm);
    }
    if object.fetched == Fetched::NotModified
        || conditional::not_modified(headers, meta.etag.as_deref(), meta.last_modified.as_deref())
    {
        // Dropping the body here abandons the upstream transfer.
        return response
            .status(StatusCode::NOT_MODIFIED)
            .body(body::empty())
            .map_err(ApiError::internal);
    }

    let status = match object.fetched {
        Fetched::Partial => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    response = response.status(status).header(ACCEPT_RANGES, "bytes");
    let mut body = object.body;
    let content_type = match &meta.content_type {
        Some(ct) if !is_generic(ct) => Some(ct.clone()),
        stored => {
            let starts_at_zero = meta
                .content_range
                .as_deref()
                .is_none_or(|r| r.starts_with("bytes 0-"));
            let sniffed = if !starts_at_zero {
                None
            } else if let Some(stream) = body.take() {
                let (head, stream) = peek(stream).await;
                body = Some(stream);
                pixgate_codec::sniff(&head)
            } else {
                sniff_stored(bucket, &request.key).await
            };
            sniffed
                .map(|f| f.mime().to_owned())
                .or_else(|| stored.clone())
        }
    };
    if let Some(ct) = content_type {
        response = response.header(CONTENT_TYPE, ct);
    }
    if let Some(len) = meta.content_length {
        response = response.header(CONTENT_LENGTH, len);
    }
    if let Some(cr) = &meta.content_range {
        response = response.header(CONTENT_RANGE, cr);
    }
    if let Some(cc) = bucket
        .original_cache_control
        .as_ref()
        .or(meta.cache_control.as_ref())
    {
        response = response.header(CACHE_CONTROL, cc);
    }
    let body = match body {
        Some(stream) => body::stream(stream),
        None => body::empty(),
    };
    response.body(body).map_err(ApiError::internal)
}

/// A stored type that says nothing: S3 stores `binary/octet-stream` or
/// `application/octet-stream` when the uploader named none.
fn is_generic(content_type: &str) -> bool {
    let t = content_type.trim();
    t.is_empty()
        || t.eq_ignore_ascii_case("application/octet-stream")
        || t.eq_ignore_ascii_case("binary/octet-stream")
}

/// The stream's first chunk, and the stream with it still at the front.
async fn peek(mut stream: ByteStream) -> (Bytes, ByteStream) {
    match stream.next().await {
        Some(Ok(first)) => {
            let head = first.clone();
            let again = futures_util::stream::once(async move { Ok(first) }).chain(stream);
            (head, Box::pin(again))
        }
        Some(Err(e)) => (
            Bytes::new(),
            Box::pin(futures_util::stream::once(async move { Err(e) }).chain(stream)),
        ),
        None => (Bytes::new(), stream),
    }
}

/// For a HEAD of an object stored without a type: its first bytes, read
/// with a small ranged GET, name it (a HEAD answers what a GET would).
async fn sniff_stored(bucket: &Bucket, key: &str) -> Option<Format> {
    let request = ObjectRequest {
        key: key.to_owned(),
        head: false,
        range: Some("bytes=0-31".to_owned()),
        if_range: None,
        if_none_match: None,
        if_modified_since: None,
        mapped: false,
    };
    let object = bucket.origin.fetch(&request).await.ok()?;
    let (head, _) = peek(object.body?).await;
    pixgate_codec::sniff(&head)
}
