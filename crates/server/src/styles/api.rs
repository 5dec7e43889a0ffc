//! The style management calls (put, get, list, delete), read by the
//! calling cloud's `style_api` in `pixgate_api` and served on the bucket's
//! style store.
//! Signed requests only; answers and errors in the calling cloud's shape.

use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::request::Parts;
use http::{Response, StatusCode};
use pixgate_api::Query;
use pixgate_api::dialect::style_api::{
    self, MAX_STYLES, StyleApi, StyleCall, StyleErrorKind, StyleRequest,
};
use pixgate_origin::ByteStream;

use super::stored::StoredStyle;
use crate::access;
use crate::body::{self, Body};
use crate::error::{ApiError, Code};
use crate::route::Target;
use crate::state::AppState;

/// The largest style call body read (a style is a process string).
const BODY_CAP: usize = 64 << 10;

/// A style call to a bucket pixgate serves, answered; any other request is
/// handed back with its body untouched.
pub async fn route(
    state: &AppState,
    parts: &Parts,
    target: Option<&Target>,
    query: &Query,
    body: ByteStream,
) -> Result<Result<Response<Body>, ApiError>, ByteStream> {
    let Some(target) = target.filter(|t| t.key.is_empty()) else {
        return Err(body);
    };
    let req = StyleRequest {
        method: parts.method.as_str(),
        query,
        authorization: parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    };
    let Some(api) = style_api::pick(&req) else {
        return Err(body);
    };
    let answer = serve(state, parts, &target.bucket, api, &req, body).await;
    Ok(answer.map_err(|mut e| {
        e.shape.get_or_insert(api.dialect());
        e
    }))
}

async fn serve(
    state: &AppState,
    parts: &Parts,
    bucket_name: &str,
    api: &dyn StyleApi,
    req: &StyleRequest<'_>,
    body: ByteStream,
) -> Result<Response<Body>, ApiError> {
    // Read first, even to refuse: an unread body closes the connection.
    let body = crate::body::read_capped(body, BODY_CAP, "A style call's body").await?;
    let bucket = state
        .buckets
        .get(bucket_name)
        .ok_or_else(|| ApiError::new(Code::NoSuchBucket, "The bucket is not served here."))?;
    let principal = access::principal(parts, bucket_name, "", &state.keys)?;
    if principal == access::Principal::Anonymous {
        return Err(ApiError::new(
            Code::AccessDenied,
            "Style calls need a signed request; anonymous ones are refused.",
        ));
    }
    let call = api.parse(req, &body).map_err(|e| {
        let code = match e.kind {
            StyleErrorKind::InvalidArgument => Code::InvalidArgument,
            StyleErrorKind::MalformedXml => Code::MalformedXML,
        };
        ApiError::new(code, e.message)
    })?;
    let styles = &bucket.styles;
    match &call {
        StyleCall::List => {
            let snap = styles.current().await;
            let (xml, ty) = api.render_list(&styles.records(&snap));
            xml_response(xml, ty)
        }
        StyleCall::Get { name } => {
            let snap = styles.current().await;
            let record = styles
                .records(&snap)
                .into_iter()
                .find(|r| &r.name == name)
                .ok_or_else(|| no_such_style(name))?;
            let (xml, ty) = api.render_one(&record);
            xml_response(xml, ty)
        }
        StyleCall::Put { name, content } => {
            refuse_configured(styles, name)?;
            // A style that could never run is refused now, not on every
            // request that names it.
            crate::config::style_plan(content, styles.dialects()).map_err(|e| {
                ApiError::new(
                    Code::InvalidArgument,
                    format!("Style content is invalid: {e}"),
                )
            })?;
            let limit = MAX_STYLES.saturating_sub(styles.configured_count());
            let now = httpdate::fmt_http_date(std::time::SystemTime::now());
            styles
                .update(|stored: &mut Vec<StoredStyle>| {
                    if let Some(s) = stored.iter_mut().find(|s| &s.name == name) {
                        s.content = content.clone();
                        s.modified = now;
                        return Ok(());
                    }
                    if stored.len() >= limit {
                        return Err(ApiError::new(
                            Code::InvalidArgument,
                            format!(
                                "The bucket already has {MAX_STYLES} styles, the most it may have; delete one first."
                            ),
                        ));
                    }
                    stored.push(StoredStyle {
                        name: name.clone(),
                        content: content.clone(),
                        created: now.clone(),
                        modified: now,
                    });
                    Ok(())
                })
                .await?;
            empty(api.written_status(&call))
        }
        StyleCall::Delete { name } => {
            refuse_configured(styles, name)?;
            styles
                .update(|stored: &mut Vec<StoredStyle>| {
                    let before = stored.len();
                    stored.retain(|s| &s.name != name);
                    if stored.len() == before {
                        return Err(no_such_style(name));
                    }
                    Ok(())
                })
                .await?;
            empty(api.written_status(&call))
        }
    }
}

fn no_such_style(name: &str) -> ApiError {
    ApiError::new(
        Code::NoSuchStyle,
        format!("The style '{name}' does not exist."),
    )
}

/// Configured styles win over stored ones: changing them through the API
/// would look like it worked and change nothing.
fn refuse_configured(styles: &super::Styles, name: &str) -> Result<(), ApiError> {
    if styles.is_configured(name) {
        return Err(ApiError::new(
            Code::AccessDenied,
            format!(
                "The style '{name}' is defined in pixgate's configuration file; change it there."
            ),
        ));
    }
    Ok(())
}

impl From<super::StoreError> for ApiError {
    fn from(e: super::StoreError) -> ApiError {
        match e {
            super::StoreError::Read(message) => {
                tracing::warn!(error = %message, "could not read the styles object");
                ApiError::new(
                    Code::UpstreamError,
                    "The bucket's styles could not be read from the upstream.",
                )
            }
            super::StoreError::Write(e) => e.into(),
        }
    }
}

fn xml_response(xml: String, content_type: &'static str) -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, content_type)
        .header(CONTENT_LENGTH, xml.len())
        .body(body::full(xml))
        .map_err(ApiError::internal)
}

fn empty(status: u16) -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(status)
        .header(CONTENT_LENGTH, 0)
        .body(body::empty())
        .map_err(ApiError::internal)
}
