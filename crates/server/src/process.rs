//! Processed responses: fetch the source (bounded), run the plan on the
//! blocking pool, answer with validators derived from the source and the
//! canonical plan (SPEC §8).

use std::time::Instant;

use futures_util::StreamExt;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LAST_MODIFIED};
use http::{HeaderMap, Method, Response, StatusCode};
use pixgate_api::Plan;
use pixgate_ops::{MetadataRequest, Product, Settings};
use pixgate_origin::{Object, ObjectRequest};

use crate::body::{self, Body};
use crate::conditional;
use crate::error::{ApiError, Code};
use crate::state::{AppState, Bucket};

/// What to compute from the source.
#[derive(Debug)]
pub enum Work {
    Plan(Plan),
    Metadata(MetadataRequest),
}

impl Work {
    /// The cache key / ETag input: the canonical process string.
    fn canonical(&self) -> String {
        match self {
            Work::Plan(p) => p.canonical(),
            Work::Metadata(m) => m.canonical().to_owned(),
        }
    }
}

pub async fn serve(
    state: &AppState,
    bucket: &Bucket,
    key: String,
    work: Work,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    // The slot covers the fetch too: a waiting request holds no source bytes.
    let _slot = state.admission.enter().await?;
    let deadline = Instant::now() + state.admission.timeout;
    let request = ObjectRequest {
        key,
        ..ObjectRequest::default()
    };
    let object = bucket.origin.fetch(&request).await?;
    let etag = object
        .meta
        .etag
        .as_deref()
        .map(|source| derived_etag(source, &work.canonical()));
    let last_modified = object.meta.last_modified.clone();

    let mut response = Response::builder().header(CACHE_CONTROL, &state.cache_control);
    if let Some(etag) = &etag {
        response = response.header(ETAG, etag);
    }
    if let Some(lm) = &last_modified {
        response = response.header(LAST_MODIFIED, lm);
    }
    // The source's validators decide before any byte is read or decoded.
    if conditional::not_modified(headers, etag.as_deref(), last_modified.as_deref()) {
        return response
            .status(StatusCode::NOT_MODIFIED)
            .body(body::empty())
            .map_err(ApiError::internal);
    }

    let bytes = read_capped(object, state.limits.max_source_bytes).await?;
    let settings = Settings {
        limits: state.limits,
        auto_orient: bucket.auto_orient,
        deadline: Some(deadline),
    };
    // Pixel work never runs on the async runtime.
    let product = tokio::task::spawn_blocking(move || match work {
        Work::Plan(plan) => pixgate_ops::process(&bytes, &plan, &settings),
        Work::Metadata(request) => pixgate_ops::metadata(&bytes, request, &settings),
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "processing task failed");
        ApiError::new(Code::InternalError, "The image could not be processed.")
    })??;

    let (content, content_type) = match product {
        Product::Image { bytes, format } => (bytes, format.mime()),
        Product::Json(text) => (text.into_bytes(), "application/json"),
    };
    response = response
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, content_type)
        .header(CONTENT_LENGTH, content.len());
    let body = if method == Method::HEAD {
        body::empty()
    } else {
        body::full(content)
    };
    response.body(body).map_err(ApiError::internal)
}

/// Reads the whole source, refusing (without reading on) anything past `cap`.
async fn read_capped(object: Object, cap: u64) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            Code::ImageTooLarge,
            format!("The source object is larger than {cap} bytes, the most this proxy processes."),
        )
    };
    if object.meta.content_length.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let Some(mut stream) = object.body else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(object.meta.content_length.unwrap_or(0) as usize);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                Code::UpstreamError,
                format!(
                    "The source object could not be read completely ({}).",
                    e.kind()
                ),
            )
        })?;
        if (out.len() + chunk.len()) as u64 > cap {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A strong ETag for (source version, canonical plan, engine version): it
/// changes whenever the output could.
fn derived_etag(source_etag: &str, canonical: &str) -> String {
    let input = format!("{source_etag}\n{canonical}\n{}", env!("CARGO_PKG_VERSION"));
    format!(
        "\"{:016x}{:016x}\"",
        fnv1a(&input, 0xcbf2_9ce4_8422_2325),
        fnv1a(&input, 0x84222325_cbf29ce4)
    )
}

fn fnv1a(s: &str, seed: u64) -> u64 {
    s.bytes().fold(seed, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_follow_source_and_plan() {
        let a = derived_etag("\"abc\"", "image/resize,m_lfit,w_100,limit_1");
        assert_eq!(
            a,
            derived_etag("\"abc\"", "image/resize,m_lfit,w_100,limit_1")
        );
        assert_ne!(
            a,
            derived_etag("\"abd\"", "image/resize,m_lfit,w_100,limit_1")
        );
        assert_ne!(
            a,
            derived_etag("\"abc\"", "image/resize,m_lfit,w_101,limit_1")
        );
        assert_eq!(a.len(), 34);
    }
}
