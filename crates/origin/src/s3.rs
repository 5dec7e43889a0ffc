//! An S3-compatible bucket (AWS S3, MinIO, …) reached with reqwest and signed
//! with AWS Signature V4.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use aws_smithy_runtime_api::client::identity::Identity;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode, Uri};

use crate::key::encode_path;
use crate::sigv4::sign_headers_streaming;
use crate::{Fetched, Object, ObjectMeta, ObjectRequest, Origin, OriginError, validate_key};

/// At most this much of an upstream error body is read to find its `<Code>`.
/// SHA-256 of no bytes: the signed payload hash of a request without a body.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const ERROR_BODY_CAP: usize = 16 * 1024;

#[derive(Clone)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Credentials {
    // Never print the secret, not even in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct S3Settings {
    /// `http(s)://host[:port]`, no path.
    pub endpoint: Uri,
    pub region: String,
    /// The bucket's name upstream.
    pub bucket: String,
    /// `endpoint/bucket/key` when true, `bucket.endpoint/key` when false.
    pub path_style: bool,
    /// `None`: anonymous, unsigned requests (public buckets).
    pub credentials: Option<S3Credentials>,
    pub connect_timeout: Duration,
    /// Longest wait for any read, headers included, before giving up.
    pub read_timeout: Duration,
    pub pool_max_idle_per_host: usize,
    /// Connect here instead of resolving the endpoint's host name (like curl's
    /// `--resolve`); the signed and sent `Host` stays the endpoint's.
    pub resolve: Option<SocketAddr>,
}

#[derive(Debug)]
pub struct S3Origin {
    pub(crate) settings: S3Settings,
    pub(crate) identity: Option<Identity>,
    /// `scheme://authority` requests go to (bucket prefix included for
    /// virtual-host addressing), without a trailing slash.
    pub(crate) base: String,
    /// Path prefix before the key: `/bucket/` or `/`.
    pub(crate) prefix: String,
    pub(crate) client: reqwest::Client,
}

impl S3Origin {
    pub fn new(settings: S3Settings) -> Result<S3Origin, String> {
        let scheme = settings.endpoint.scheme_str().unwrap_or("https").to_owned();
        let authority = settings
            .endpoint
            .authority()
            .ok_or("the endpoint has no host")?
            .to_string();
        let (base, prefix) = if settings.path_style {
            (
                format!("{scheme}://{authority}"),
                format!("/{}/", settings.bucket),
            )
        } else {
            (
                format!("{scheme}://{}.{authority}", settings.bucket),
                "/".to_owned(),
            )
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .pool_max_idle_per_host(settings.pool_max_idle_per_host)
            .tcp_nodelay(true)
            // Objects are streamed as stored: no transparent decompression,
            // no redirects to somewhere the signature was not made for.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(addr) = settings.resolve {
            let host = base
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or(&base);
            let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
            builder = builder.resolve(host, addr);
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        let identity = settings.credentials.as_ref().map(S3Credentials::identity);
        Ok(S3Origin {
            settings,
            identity,
            base,
            prefix,
            client,
        })
    }

    /// Signs `request` for `method url` when the origin has credentials:
    /// `headers` are signed along, `payload` is the `x-amz-content-sha256`
    /// value. Without credentials it is returned as it was.
    pub(crate) fn sign(
        &self,
        mut request: reqwest::RequestBuilder,
        method: &Method,
        url: &str,
        headers: &[(String, String)],
        payload: &str,
    ) -> Result<reqwest::RequestBuilder, OriginError> {
        let Some(identity) = &self.identity else {
            return Ok(request);
        };
        let signed = sign_headers_streaming(
            method.as_str(),
            url,
            headers,
            payload,
            identity,
            &self.settings.region,
            SystemTime::now(),
        )
        .map_err(|e| {
            tracing::error!(error = %e, "cannot sign the upstream request");
            OriginError::InvalidKey("it cannot be signed as part of an URI")
        })?;
        for (name, value) in signed {
            request = request.header(name, value);
        }
        Ok(request)
    }

    /// Builds, signs and sends one request; `extra` headers are sent unsigned.
    async fn send(
        &self,
        method: Method,
        path: &str,
        extra: &[(&'static str, &str)],
    ) -> Result<reqwest::Response, OriginError> {
        let url = format!("{}{}", self.base, path);
        let mut request = self.sign(
            self.client.request(method.clone(), &url),
            &method,
            &url,
            &[],
            EMPTY_SHA256,
        )?;
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        request.send().await.map_err(transport_error)
    }
}

impl Origin for S3Origin {
    fn fetch<'a>(&'a self, req: &'a ObjectRequest) -> BoxFuture<'a, Result<Object, OriginError>> {
        Box::pin(async move {
            validate_key(&req.key)?;
            let path = format!("{}{}", self.prefix, encode_path(&req.key));
            let method = if req.head { Method::HEAD } else { Method::GET };
            let mut extra = Vec::new();
            let forwarded = [
                ("range", &req.range),
                ("if-range", &req.if_range),
                ("if-none-match", &req.if_none_match),
                ("if-modified-since", &req.if_modified_since),
            ];
            for (name, value) in forwarded {
                if let Some(v) = value {
                    extra.push((name, v.as_str()));
                }
            }
            let response = self.send(method, &path, &extra).await?;
            let status = response.status();
            let fetched = match status {
                StatusCode::OK => Fetched::Full,
                StatusCode::PARTIAL_CONTENT => Fetched::Partial,
                StatusCode::NOT_MODIFIED => Fetched::NotModified,
                _ => return Err(status_error(response, req.head).await),
            };
            let meta = meta_of(response.headers(), fetched);
            let body = if req.head || fetched == Fetched::NotModified {
                None
            } else {
                Some(
                    response
                        .bytes_stream()
                        .map(|chunk| chunk.map_err(body_error))
                        .boxed(),
                )
            };
            Ok(Object {
                fetched,
                meta,
                body,
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<(), OriginError>> {
        Box::pin(async move {
            // HeadBucket: path-style `/bucket`, virtual-host `/`.
            let path = self.prefix.trim_end_matches('/');
            let path = if path.is_empty() { "/" } else { path };
            let response = self.send(Method::HEAD, path, &[]).await?;
            match response.status() {
                s if s.is_success() => Ok(()),
                // The bucket answers but this key may not list it: reachable.
                StatusCode::FORBIDDEN => Ok(()),
                StatusCode::NOT_FOUND => Err(OriginError::NoSuchBucket),
                s => Err(OriginError::UpstreamStatus {
                    status: s.as_u16(),
                    code: None,
                }),
            }
        })
    }

    fn put(&self, req: crate::PutObject) -> BoxFuture<'_, Result<crate::Written, OriginError>> {
        Box::pin(self.put_object(req))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), OriginError>> {
        Box::pin(self.delete_object(key))
    }

    fn list<'a>(
        &'a self,
        req: &'a crate::ListRequest,
    ) -> BoxFuture<'a, Result<crate::Listing, OriginError>> {
        Box::pin(self.list_objects(req))
    }

    fn copy<'a>(
        &'a self,
        req: &'a crate::CopyObject,
    ) -> BoxFuture<'a, Result<crate::Copied, OriginError>> {
        Box::pin(self.copy_object(req))
    }

    fn create_multipart<'a>(
        &'a self,
        key: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<String, OriginError>> {
        Box::pin(self.create_multipart_upload(key, headers))
    }

    fn upload_part(
        &self,
        req: crate::UploadPart,
    ) -> BoxFuture<'_, Result<crate::Written, OriginError>> {
        Box::pin(self.upload_one_part(req))
    }

    fn complete_multipart<'a>(
        &'a self,
        key: &'a str,
        upload_id: &'a str,
        parts: bytes::Bytes,
    ) -> BoxFuture<'a, Result<crate::Written, OriginError>> {
        Box::pin(self.complete_multipart_upload(key, upload_id, parts))
    }

    fn abort_multipart<'a>(
        &'a self,
        key: &'a str,
        upload_id: &'a str,
    ) -> BoxFuture<'a, Result<(), OriginError>> {
        Box::pin(self.abort_multipart_upload(key, upload_id))
    }
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn meta_of(headers: &HeaderMap, fetched: Fetched) -> ObjectMeta {
    ObjectMeta {
        content_length: match fetched {
            Fetched::NotModified => None,
            _ => header(headers, "content-length").and_then(|v| v.parse().ok()),
        },
        content_type: header(headers, "content-type"),
        cache_control: header(headers, "cache-control"),
        etag: header(headers, "etag"),
        last_modified: header(headers, "last-modified"),
        content_range: header(headers, "content-range"),
    }
}

/// Maps an upstream failure status (and the S3 `<Code>` of its XML body) to
/// what the proxy tells its client.
async fn status_error(response: reqwest::Response, head: bool) -> OriginError {
    let status = response.status().as_u16();
    let size = header(response.headers(), "content-range")
        .and_then(|v| v.rsplit_once('/').and_then(|(_, n)| n.parse().ok()));
    let code = if head {
        None
    } else {
        error_code(&read_capped(response).await)
    };
    error_for(status, code, size)
}

pub(crate) fn error_for(status: u16, code: Option<String>, size: Option<u64>) -> OriginError {
    match (status, code.as_deref()) {
        (404, Some("NoSuchBucket")) => OriginError::NoSuchBucket,
        (404, _) => OriginError::NoSuchKey,
        (403, code) => {
            tracing::warn!(
                upstream_code = code.unwrap_or("-"),
                "upstream refused access"
            );
            OriginError::AccessDenied
        }
        (416, _) => OriginError::RangeNotSatisfiable { size },
        (504 | 408, _) => OriginError::Timeout,
        (status, _) => OriginError::UpstreamStatus { status, code },
    }
}

/// At most `ERROR_BODY_CAP` bytes of an error body.
pub(crate) async fn read_capped(response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk);
        if body.len() >= ERROR_BODY_CAP {
            break;
        }
    }
    body
}

/// The `<Code>` of an S3 error document, if it is a plain identifier (only
/// those are trusted to be echoed anywhere).
pub(crate) fn error_code(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    let code = &text[start..end];
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| code.to_owned())
}

/// Transport failures, described without the URL (it may carry a signature).
pub(crate) fn transport_error(e: reqwest::Error) -> OriginError {
    if e.is_timeout() {
        return OriginError::Timeout;
    }
    if e.is_connect() {
        let text = error_chain(&e);
        let kind = if text.contains("refused") {
            "connection refused"
        } else if text.contains("dns") || text.contains("resolve") {
            "host name not resolved"
        } else {
            "connection failed"
        };
        return OriginError::Unreachable(kind.to_owned());
    }
    OriginError::Unreachable("the connection failed".to_owned())
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string().to_ascii_lowercase();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string().to_ascii_lowercase());
        source = s.source();
    }
    text
}

/// A body read that went silent past the read timeout says so (`TimedOut`),
/// so the caller can answer 504 rather than a generic upstream error.
fn body_error(e: reqwest::Error) -> std::io::Error {
    if e.is_timeout() {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    } else {
        std::io::Error::other(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_error_documents_are_read_for_their_code() {
        let doc =
            b"<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>x</Message></Error>";
        assert_eq!(error_code(doc).as_deref(), Some("NoSuchBucket"));
        assert_eq!(error_code(b"<Error><Code><script></Code></Error>"), None);
        assert_eq!(error_code(b"not xml"), None);
    }

    #[test]
    fn statuses_map_to_what_clients_are_told() {
        assert_eq!(
            error_for(404, Some("NoSuchBucket".into()), None),
            OriginError::NoSuchBucket
        );
        assert_eq!(
            error_for(404, Some("NoSuchKey".into()), None),
            OriginError::NoSuchKey
        );
        assert_eq!(error_for(404, None, None), OriginError::NoSuchKey);
        assert_eq!(
            error_for(403, Some("SignatureDoesNotMatch".into()), None),
            OriginError::AccessDenied
        );
        assert_eq!(
            error_for(416, None, Some(10)),
            OriginError::RangeNotSatisfiable { size: Some(10) }
        );
        assert_eq!(error_for(504, None, None), OriginError::Timeout);
        assert_eq!(
            error_for(500, Some("InternalError".into()), None),
            OriginError::UpstreamStatus {
                status: 500,
                code: Some("InternalError".into())
            }
        );
    }

    #[test]
    fn addressing_styles_build_the_right_base() {
        let settings = |path_style| S3Settings {
            endpoint: "http://s3.example.test:9000".parse().unwrap(),
            region: "us-east-1".into(),
            bucket: "pics".into(),
            path_style,
            credentials: None,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
            pool_max_idle_per_host: 1,
            resolve: None,
        };
        let o = S3Origin::new(settings(true)).unwrap();
        assert_eq!(
            (o.base.as_str(), o.prefix.as_str()),
            ("http://s3.example.test:9000", "/pics/")
        );
        let o = S3Origin::new(settings(false)).unwrap();
        assert_eq!(
            (o.base.as_str(), o.prefix.as_str()),
            ("http://pics.s3.example.test:9000", "/")
        );
    }
}
