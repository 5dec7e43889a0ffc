//! Saves (issue 19): processing whose result is written to a bucket, read
//! by the bucket's dialects (each in its own folder) into a neutral
//! [`SaveRequest`].
//!
//! A save is a write: it needs a proven signature, and that signature must
//! cover the save itself (the method, and the parameter or header that
//! names the target; [`Needs`]), so a URL signed for a read can never be
//! replayed as a write. The source is processed through the read path's
//! pipeline ([`process::serve`]), each result is written through the target
//! bucket's origin, and the caches drop what they held for the keys written.

use std::time::Instant;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt;
use pixgate_api::dialect::{self, Dialect, Incoming};
use pixgate_api::save::{Form, Needs, SaveRequest, SaveWork, Saved, SavedObject};
use pixgate_api::signature::coverage;
use pixgate_api::{DialectError, Query};
use pixgate_origin::{ByteStream, ObjectRequest, Payload, PutObject, validate_key};

use crate::access;
use crate::body::{self, Body};
use crate::error::{ApiError, Code};
use crate::process::{self, Work};
use crate::route::Target;
use crate::state::{AppState, Bucket};
use crate::write::{content_length, header, invalidate};

/// The largest save form read from a body (a process string is far
/// smaller).
const FORM_CAP: usize = 64 << 10;
/// What is read of an original to describe it (its header is at the start).
const DESCRIBE_BYTES: u64 = 1 << 20;

/// A request one of its bucket's dialects reads as a save.
#[derive(Debug)]
pub struct Claim {
    pub bucket: String,
    pub key: String,
    dialect: &'static dyn Dialect,
    save: Result<SaveRequest, DialectError>,
}

/// Whether the request is a save, in which dialect.
pub fn claim(state: &AppState, parts: &Parts, target: &Target, query: &Query) -> Option<Claim> {
    if target.key.is_empty() {
        return None;
    }
    let bucket = state.buckets.get(&target.bucket)?;
    let headers: Vec<(&str, &str)> = dialect::save_headers()
        .filter_map(|name| Some((name, parts.headers.get(name)?.to_str().ok()?)))
        .collect();
    let incoming = Incoming {
        query,
        headers: &headers,
    };
    let (dialect, save) = dialect::pick_save(
        parts.method.as_str(),
        &incoming,
        &target.key,
        &bucket.dialects,
    )?;
    Some(Claim {
        bucket: target.bucket.clone(),
        key: target.key.clone(),
        dialect,
        save,
    })
}

/// Serves a claimed save; errors answer in the save's dialect.
pub async fn serve(
    state: &AppState,
    parts: &Parts,
    claim: Claim,
    body: ByteStream,
    deadline: Instant,
) -> Result<Response<Body>, ApiError> {
    let dialect = claim.dialect;
    run(state, parts, claim, body, deadline)
        .await
        .map_err(|mut e| {
            e.shape = e.shape.or(Some(dialect.name()));
            e
        })
}

async fn run(
    state: &AppState,
    parts: &Parts,
    claim: Claim,
    body: ByteStream,
    deadline: Instant,
) -> Result<Response<Body>, ApiError> {
    let Claim {
        bucket: bucket_name,
        key,
        dialect,
        save,
    } = claim;
    let bucket = state
        .buckets
        .get(&bucket_name)
        .ok_or_else(|| ApiError::new(Code::NoSuchBucket, "The bucket is not served here."))?;
    let principal = access::principal(parts, &bucket_name, &key, &state.keys)?;
    if principal == access::Principal::Anonymous {
        return Err(ApiError::new(
            Code::AccessDenied,
            "Saving a processed result writes to a bucket: it needs a signed request.",
        ));
    }
    let mut save = save?;
    check_coverage(parts, &bucket_name, &key, &save.needs)?;
    let mut body = Some(body);
    if save.form == Form::Body {
        let form = crate::body::read_capped(body.take(), FORM_CAP, "A save form").await?;
        save = dialect.save_body(save, &form)?;
    }
    // Every target is settled before anything is written.
    let mut targets = Vec::new();
    for out in &save.outputs {
        validate_key(&out.key)?;
        let target = match out.bucket.as_slice() {
            [] => bucket,
            names => names
                .iter()
                .find_map(|n| state.buckets.get(n))
                .ok_or_else(|| {
                    ApiError::new(
                        Code::AccessDenied,
                        format!(
                            "The bucket '{}' is not served here: results are saved only to buckets this proxy serves.",
                            names[0]
                        ),
                    )
                })?,
        };
        let plan = match &out.work {
            SaveWork::Plan(plan) => plan.clone()?,
            SaveWork::Style(name) => bucket.styles.plan(name).await.ok_or_else(|| {
                ApiError::new(
                    Code::NoSuchStyle,
                    format!("The style '{name}' does not exist."),
                )
            })?,
        };
        targets.push((target, plan, out));
    }
    let host = crate::write::host(parts).to_owned();
    let mut original = None;
    if save.upload {
        let length = content_length(&parts.headers)?;
        // Its type, and its MD5 for the upstream to check the body by.
        let headers = ["content-type", "content-md5"]
            .iter()
            .filter_map(|n| Some(((*n).to_owned(), header(&parts.headers, n)?.to_owned())))
            .collect();
        let written = bucket
            .origin
            .put(PutObject {
                key: key.clone(),
                body: body
                    .take()
                    .unwrap_or_else(|| Box::pin(futures_util::stream::empty())),
                length,
                payload: Payload::Unsigned,
                headers,
            })
            .await;
        invalidate(state, &bucket_name, &key).await;
        written?;
    }
    if save.upload || save.original_info {
        original = Some(describe(bucket, &key).await?);
    }
    let mut outputs = Vec::new();
    let mut first_image = None;
    for (target, plan, out) in targets {
        let response = process::serve(
            state,
            bucket,
            key.clone(),
            Work::Plan(plan),
            &Method::GET,
            &HeaderMap::new(),
            deadline,
        )
        .await?;
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| {
                ApiError::new(
                    Code::InternalError,
                    format!("The processed result could not be read ({e})."),
                )
            })?
            .to_bytes();
        let (format, width, height) = dims(&bytes);
        let size = bytes.len() as u64;
        let chunk = bytes.clone();
        let written = target
            .origin
            .put(PutObject {
                key: out.key.clone(),
                body: Box::pin(futures_util::stream::once(async move { Ok(chunk) })),
                length: size,
                payload: Payload::Unsigned,
                headers: vec![("content-type".to_owned(), content_type.clone())],
            })
            .await;
        invalidate(state, &target.name, &out.key).await;
        let written = written?;
        outputs.push(SavedObject {
            requested_bucket: out.bucket.first().cloned(),
            bucket: target.name.clone(),
            key: out.key.clone(),
            size,
            format,
            width,
            height,
            etag: written.etag,
        });
        if first_image.is_none() {
            first_image = Some((bytes, content_type));
        }
    }
    if save.answer_image
        && let Some((bytes, content_type)) = first_image
    {
        return Response::builder()
            .status(StatusCode::OK)
            .header(CONTENT_TYPE, content_type)
            .header(CONTENT_LENGTH, bytes.len())
            .body(body::full(bytes))
            .map_err(ApiError::internal);
    }
    let saved = Saved {
        original,
        outputs,
        original_info: save.original_info,
        host,
    };
    let (text, content_type) = dialect.render_saved(&saved);
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, HeaderValue::from_static(content_type))
        .header(CONTENT_LENGTH, text.len())
        .body(body::full(text))
        .map_err(ApiError::internal)
}

/// Refuses a save whose signature does not cover it (a read's signature
/// with a save added, a header the signature does not list).
fn check_coverage(parts: &Parts, bucket: &str, key: &str, needs: &Needs) -> Result<(), ApiError> {
    let c = coverage(&crate::access::signed(parts, bucket, key));
    let refuse = |what: String| {
        Err(ApiError::new(
            Code::AccessDenied,
            format!("The request's signature does not cover {what}: a save must be signed as one."),
        ))
    };
    if !c.method() {
        return refuse("its method".into());
    }
    if needs.header_form && !c.header_form {
        return refuse("the save (only a header signature may save here)".into());
    }
    if let Some(p) = needs.params.iter().find(|p| !c.param(p)) {
        return refuse(format!("the query parameter '{p}'"));
    }
    if let Some(h) = needs.headers.iter().find(|h| !c.header(h)) {
        return refuse(format!("the header '{h}'"));
    }
    Ok(())
}

/// The stored object's ETag, format and size (from its first bytes).
async fn describe(bucket: &Bucket, key: &str) -> Result<SavedObject, ApiError> {
    let object = bucket
        .origin
        .fetch(&ObjectRequest {
            key: key.to_owned(),
            range: Some(format!("bytes=0-{}", DESCRIBE_BYTES - 1)),
            ..ObjectRequest::default()
        })
        .await?;
    let size = object
        .meta
        .content_range
        .as_deref()
        .and_then(|r| r.rsplit_once('/')?.1.parse().ok())
        .or(object.meta.content_length)
        .unwrap_or(0);
    let head = crate::body::read_capped(
        object.body,
        DESCRIBE_BYTES as usize,
        "The saved object's head",
    )
    .await?;
    let (format, width, height) = dims(&head);
    Ok(SavedObject {
        requested_bucket: None,
        bucket: bucket.name.clone(),
        key: key.to_owned(),
        size,
        format,
        width,
        height,
        etag: object.meta.etag,
    })
}

/// Format and displayed size of encoded bytes (empty when unreadable).
fn dims(bytes: &[u8]) -> (&'static str, u32, u32) {
    match pixgate_codec::probe(bytes) {
        Ok(p) => {
            let (w, h) = p.oriented_size();
            (p.format.as_str(), w, h)
        }
        Err(_) => ("", 0, 0),
    }
}
