//! Originals: the stored object, streamed, with S3's HTTP semantics
//! (Range, conditional requests, validators) (SPEC §1).

use http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
};
use http::{HeaderMap, Method, Response, StatusCode};
use pixgate_origin::{Fetched, ObjectRequest};

use crate::body::{self, Body};
use crate::conditional;
use crate::error::ApiError;
use crate::state::Bucket;

pub async fn serve(
    bucket: &Bucket,
    key: String,
    method: &Method,
    headers: &HeaderMap,
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
    if let Some(ct) = &meta.content_type {
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
    let body = match object.body {
        Some(stream) => body::stream(stream),
        None => body::empty(),
    };
    response.body(body).map_err(ApiError::internal)
}
