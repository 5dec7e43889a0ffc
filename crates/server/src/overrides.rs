//! The download overrides S3 and the clouds' object services honour on
//! signed requests (`?response-content-disposition=attachment…`): a signed URL can name how
//! the browser saves the bytes. Anonymous requests cannot (S3 refuses them,
//! the proxy ignores them), so a public URL cannot rewrite what a CDN caches.

use http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_TYPE, EXPIRES,
    HeaderName,
};
use http::{HeaderValue, Response};
use pixgate_api::Query;

use crate::body::Body;
use crate::error::{ApiError, Code};

const OVERRIDES: [(&str, HeaderName); 6] = [
    ("response-content-type", CONTENT_TYPE),
    ("response-content-language", CONTENT_LANGUAGE),
    ("response-expires", EXPIRES),
    ("response-cache-control", CACHE_CONTROL),
    ("response-content-disposition", CONTENT_DISPOSITION),
    ("response-content-encoding", CONTENT_ENCODING),
];

/// Checks the overrides before any work: a value that cannot be a header
/// is the client's mistake.
pub fn parse(query: &Query) -> Result<Vec<(HeaderName, HeaderValue)>, ApiError> {
    OVERRIDES
        .iter()
        .filter_map(|(param, header)| Some((param, header, query.get(param)?)))
        .map(|(param, header, value)| {
            HeaderValue::from_str(value)
                .map(|v| (header.clone(), v))
                .map_err(|_| {
                    ApiError::new(
                        Code::InvalidArgument,
                        format!("The value of {param} cannot be sent as a header."),
                    )
                })
        })
        .collect()
}

/// Sets them on a successful answer (errors and 304s keep their own).
pub fn apply(response: &mut Response<Body>, overrides: Vec<(HeaderName, HeaderValue)>) {
    if !response.status().is_success() {
        return;
    }
    for (name, value) in overrides {
        response.headers_mut().insert(name, value);
    }
}
