//! The request path, in order: reserved endpoints -> dialect -> method ->
//! addressing -> access -> operation; every failure leaves through
//! [`error_response`] in the dialect's format.

use std::sync::Arc;
use std::time::Instant;

use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HOST, RETRY_AFTER, VARY,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use pixgate_api::dialect::{self, Dialect, Incoming};
use pixgate_api::{Operation, Query};

use crate::body::{self, Body, End};
use crate::connections::Busy;
use crate::error::{ApiError, Code};
use crate::process::{Trace, Work};
use crate::route::{self, Endpoint, Target};
use crate::state::{AppState, Bucket};
use crate::{access, health, original, overrides, process, request_id, save, write};
use futures_util::TryStreamExt;
use tracing::Instrument;

/// What the log line tells about a request besides method and status.
#[derive(Debug, Default)]
struct Outcome {
    bucket: Option<String>,
    key: Option<String>,
    error: Option<&'static str>,
    /// A processed answer of a bucket that negotiates formats by `Accept`.
    vary_accept: bool,
}

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    Public,
    /// `server.admin_listen`: the probes and metrics, nothing else.
    Admin,
}

/// Serves one request. `busy` marks its connection as working until the
/// response body has ended; the request's log line is written then too, so
/// it tells how the body ended (sent, broken upstream, client gone).
pub async fn handle<B>(
    state: Arc<AppState>,
    req: Request<B>,
    busy: Busy,
    port: Port,
) -> Response<Body>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    // One deadline from the first byte to the answer: queueing, the
    // upstream and pixel work all draw on it.
    let deadline = started + state.admission.timeout;
    let in_flight = state.metrics.enter();
    let id = request_id::next(started);
    let (parts, body) = req.into_parts();
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("");
    let head = parts.method == Method::HEAD;
    // A repeated anonymous process URL whose answer is still held.
    if port == Port::Public
        && let Some(hit) = state.hits.answer(&state, &parts, host, started)
    {
        let span = request_span(&id, &parts);
        let dialect = hit.entry.dialect;
        let mut log = LogLine::new(&state, span, id, started, dialect, hit.entry.kind);
        log.hit = Some(hit.entry);
        return finish(
            hit.response,
            dialect,
            log,
            Vary::Present,
            head,
            busy,
            in_flight,
        );
    }
    // With an admin listener, the public port answers only `/healthz` of
    // the proxy's own paths; the others are ordinary paths there.
    let endpoint = route::endpoint(parts.uri.path())
        .filter(|e| port == Port::Admin || !state.admin_apart || *e == Endpoint::Health);
    if port == Port::Admin && endpoint.is_none() {
        return health::not_found();
    }

    // The bucket first (its configuration says which dialects it answers),
    // then the dialect, chosen here once: it parses the request and renders
    // its errors.
    let target = if endpoint.is_some() {
        None
    } else {
        Some(state.addressing.resolve(host, parts.uri.path()))
    };
    let allowed = match &target {
        Some(Ok(t)) => state.buckets.get(&t.bucket).map(|b| b.dialects.as_slice()),
        _ => None,
    };
    let query = Query::parse(parts.uri.query().unwrap_or(""));
    let process_headers: Vec<(&str, &str)> = dialect::process_headers()
        .filter_map(|name| Some((name, parts.headers.get(name)?.to_str().ok()?)))
        .collect();
    let incoming = Incoming {
        query: &query,
        headers: &process_headers,
    };
    let dialect = match allowed {
        Some(allowed) => dialect::pick_among(&incoming, allowed),
        None => dialect::pick_among(&incoming, dialect::default_set()),
    };
    let operation = dialect.parse(&incoming);
    let kind = match &operation {
        Ok(op) => dialect.label(op),
        Err(_) => "invalid",
    };

    // Read only by writes, as they stream it upstream; a read drops it.
    let body: pixgate_origin::ByteStream = Box::pin(
        http_body_util::BodyDataStream::new(body).map_err(|e| std::io::Error::other(e.into())),
    );
    let span = request_span(&id, &parts);
    // Written when the response ends, or now if the client leaves first.
    let mut log = LogLine::new(&state, span.clone(), id, started, dialect, kind);
    log.probe = target.is_none();
    // Boxed: the full path's future is kilobytes, and inline it made every
    // request's future (a remembered answer's too) that large to set up
    // and move.
    let result = Box::pin(dispatch(
        &state,
        &parts,
        (host, kind),
        &query,
        endpoint,
        target,
        dialect,
        operation,
        &mut log.outcome,
        deadline,
        body,
    ))
    .instrument(span.clone())
    .await;
    let response = match result {
        Ok(response) => response,
        Err(e) => {
            log.outcome.error = Some(e.code.as_str());
            let shape = e.shape.and_then(dialect::by_name).unwrap_or(dialect);
            error_response(shape, &e, &log.id, host, head)
        }
    };
    let vary = Vary::Add {
        endpoint: endpoint.is_some(),
    };
    finish(response, dialect, log, vary, head, busy, in_flight)
}

/// One span per request: the unit an OTLP collector receives.
fn request_span(id: &str, parts: &http::request::Parts) -> tracing::Span {
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %parts.method,
        path = parts.uri.path(),
        status = tracing::field::Empty,
    )
}

/// Whether [`finish`] adds an answer's `Vary` ([`add_vary`]), or a
/// remembered answer's headers hold it already.
enum Vary {
    Add { endpoint: bool },
    Present,
}

/// The names an answer's request id goes out under: the default
/// dialect's, which every response has always carried, and the
/// dialect's own.
pub(crate) fn request_id_headers(dialect: &dyn Dialect) -> impl Iterator<Item = http::HeaderName> {
    let (default, own) = (
        dialect::default_dialect().request_id_header(),
        dialect.request_id_header(),
    );
    let default = (own != default).then_some(default);
    default.into_iter().chain([own])
}

/// An answer's `Vary`: `Accept` when its format follows it, and the
/// process headers unless it is one of the proxy's own endpoints.
pub(crate) fn add_vary(headers: &mut http::HeaderMap, vary_accept: bool, endpoint: bool) {
    if vary_accept {
        // The format may follow `Accept`: a CDN keeps one copy per value.
        // Originals never do (they are not converted), so they stay one copy.
        headers.append(VARY, HeaderValue::from_static("Accept"));
    }
    if !endpoint {
        // The bytes depend on these headers as well as on the URL (they may
        // carry a process string): a CDN must not serve one for the other.
        for name in dialect::process_headers() {
            headers.append(VARY, HeaderValue::from_static(name));
        }
    }
}

/// Every answer's last steps: request ids, `Vary`, and the body watched
/// so the log line is written when it ends.
fn finish(
    mut response: Response<Body>,
    dialect: &'static dyn Dialect,
    mut log: LogLine,
    vary: Vary,
    head: bool,
    busy: Busy,
    in_flight: crate::metrics::InFlight,
) -> Response<Body> {
    log.status = response.status().as_u16();
    log.span.record("status", log.status);
    if let Ok(v) = HeaderValue::from_str(&log.id) {
        let headers = response.headers_mut();
        for name in request_id_headers(dialect) {
            headers.insert(name, v.clone());
        }
    }
    if let Vary::Add { endpoint } = vary {
        add_vary(response.headers_mut(), log.outcome.vary_accept, endpoint);
    }
    log.trace = response.extensions_mut().remove::<Trace>();
    let length = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .filter(|_| !head);
    response.map(|b| {
        body::watched(b, length, busy, move |end, now| {
            log.write(&end, now);
            drop(in_flight);
        })
    })
}

/// A request's log line and metrics, written once its response has ended.
struct LogLine {
    state: Arc<AppState>,
    span: tracing::Span,
    id: String,
    started: Instant,
    outcome: Outcome,
    dialect: &'static str,
    kind: &'static str,
    /// 0 until a response exists.
    status: u16,
    trace: Option<Trace>,
    /// A remembered answer: its bucket, key and process are the entry's.
    hit: Option<Arc<crate::hits::Entry>>,
    /// `/healthz`, `/readyz`, `/metrics`: polled every few seconds, so
    /// logged at debug level, not info.
    probe: bool,
}

impl LogLine {
    fn new(
        state: &Arc<AppState>,
        span: tracing::Span,
        id: String,
        started: Instant,
        dialect: &dyn Dialect,
        kind: &'static str,
    ) -> LogLine {
        LogLine {
            state: state.clone(),
            span,
            id,
            started,
            outcome: Outcome::default(),
            dialect: dialect.name(),
            kind,
            status: 0,
            trace: None,
            hit: None,
            probe: false,
        }
    }

    fn write(&mut self, end: &End, now: Instant) {
        let seconds = now.saturating_duration_since(self.started).as_secs_f64();
        let ended = match end {
            End::Complete => "-",
            End::Failed(_) => "upstream-body-broke",
            End::Abandoned => "client-gone",
        };
        match &self.hit {
            Some(h) if self.status == 200 => h.series.request(seconds),
            _ if self.status != 0 => {
                self.state
                    .metrics
                    .request(self.dialect, self.kind, self.status, seconds);
            }
            _ => {}
        }
        if let End::Failed(e) = end {
            self.state.metrics.upstream_error("body");
            tracing::warn!(request_id = %self.id, error = %e, "the upstream body broke while streaming");
        }
        let _entered = self.span.enter();
        let trace = self.trace.as_ref();
        let ms = |d: Option<std::time::Duration>| d.map_or(0.0, millis);
        let error = match (end, self.outcome.error) {
            (End::Failed(_), _) => "UpstreamBodyError",
            (_, Some(code)) => code,
            _ => "-",
        };
        let (bucket, key, process, cache) = match self.hit.as_deref() {
            Some(h) => (
                h.source.bucket.as_str(),
                h.source.key.as_str(),
                h.process.as_str(),
                crate::cache::Outcome::Hit.as_str(),
            ),
            None => (
                self.outcome.bucket.as_deref().unwrap_or("-"),
                self.outcome.key.as_deref().unwrap_or("-"),
                trace.map_or("-", |t| t.process.as_str()),
                trace.map_or("-", |t| t.cache.as_str()),
            ),
        };
        // The path only: query strings may carry signatures.
        macro_rules! request_line {
            ($level:ident) => {
                // request_id, method, path and status are the span's.
                tracing::$level!(
                    bucket,
                    key,
                    process,
                    error,
                    ended,
                    cache,
                    ms = millis(std::time::Duration::from_secs_f64(seconds)),
                    upstream_ms = ms(trace.map(|t| t.timing.upstream)),
                    queue_ms = ms(trace.map(|t| t.timing.queue)),
                    processing_ms = ms(trace.map(|t| t.timing.processing)),
                    "request"
                )
            };
        }
        if self.probe {
            request_line!(debug);
        } else {
            request_line!(info);
        }
    }
}

/// Milliseconds to the microsecond, so a log line says `2.464`, not
/// `2.4641260000000003`.
fn millis(d: std::time::Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

impl Drop for LogLine {
    /// The handler was dropped before answering: the client went away.
    fn drop(&mut self) {
        if self.status == 0 {
            self.write(&End::Abandoned, Instant::now());
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn dispatch(
    state: &AppState,
    parts: &http::request::Parts,
    (host, kind): (&str, &'static str),
    query: &Query,
    endpoint: Option<Endpoint>,
    target: Option<Result<Target, ApiError>>,
    dialect: &'static dyn Dialect,
    operation: Result<Operation, pixgate_api::DialectError>,
    outcome: &mut Outcome,
    deadline: Instant,
    body: pixgate_origin::ByteStream,
) -> Result<Response<Body>, ApiError> {
    let method = &parts.method;
    // Bucket calls and writes also address a bare bucket (an empty key),
    // which `target` refuses: resolved once here for the three paths below.
    let addressed = state
        .addressing
        .resolve_bucket(write::host(parts), parts.uri.path())
        .ok();
    // Style management calls (issue 19) are bucket calls of their own.
    let body = match crate::styles::api::route(state, parts, addressed.as_ref(), query, body).await
    {
        Ok(answer) => return answer,
        Err(body) => body,
    };
    let addressed = addressed.filter(|_| endpoint.is_none());
    // Saves (issue 19): processing whose result is written to a bucket.
    if let Some(t) = &addressed
        && let Some(claim) = save::claim(state, parts, t, query)
    {
        outcome.bucket = Some(claim.bucket.clone());
        outcome.key = Some(claim.key.clone());
        return save::serve(state, parts, claim, body, deadline).await;
    }
    // Writes and bucket calls (issue 19) take their own path.
    if let Some(t) = &addressed
        && let Some(op) = write::classify(
            method,
            &t.key,
            parts.uri.query().unwrap_or(""),
            &parts.headers,
        )
    {
        outcome.bucket = Some(t.bucket.clone());
        outcome.key = Some(t.key.clone()).filter(|k| !k.is_empty());
        return write::serve(state, parts, &t.bucket, &t.key, op, body).await;
    }
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::new(
            Code::MethodNotAllowed,
            format!("The method {method} is not allowed; this proxy serves GET and HEAD."),
        ));
    }
    let Some(target) = target else {
        return match endpoint {
            Some(Endpoint::Health) => Ok(health::healthz()),
            Some(Endpoint::Ready) => Ok(health::readyz(state).await),
            Some(Endpoint::Metrics) => {
                let sizes = state.caches.sizes().await;
                Ok(state.metrics.render(&sizes, state.admission.load()))
            }
            // `handle` resolves a target for every path that is not an endpoint.
            None => Err(ApiError::new(
                Code::InternalError,
                "The request has no target.",
            )),
        };
    };
    let target = target?;
    outcome.bucket = Some(target.bucket.clone());
    outcome.key = Some(target.key.clone());
    let mut operation = operation?;
    let bucket = state
        .buckets
        .get(&target.bucket)
        .ok_or_else(|| ApiError::new(Code::NoSuchBucket, "The bucket is not served here."))?;
    // The signature covers the path as the client wrote it (styles included).
    let principal = access::principal(parts, &target.bucket, &target.key, &state.keys)?;
    let mut key = target.key;
    // Styles are looked up (and re-read when due) only for a key that
    // contains a separator.
    if operation == Operation::Original
        && bucket.separators.iter().any(|s| key.contains(s.as_str()))
        && let Some((styled, real_key)) = dialect.style_in_key(
            &key,
            &bucket.separators,
            &bucket.styles.current().await.contents,
        )
    {
        operation = styled;
        key = real_key.to_owned();
        outcome.key = Some(key.clone());
    }
    let hint = dialect::style_hint(dialect);
    access::check(bucket, &key, &operation, &principal, hint)?;
    let overrides = match principal {
        access::Principal::Key(_) => overrides::parse(query)?,
        access::Principal::Anonymous => Vec::new(),
    };
    let headers = &parts.headers;
    // Every processed URL of a negotiating bucket varies, explicit formats
    // and metadata answers included: one rule a CDN can be configured by;
    // an answer that does not follow `Accept` takes a few extra CDN copies.
    outcome.vary_accept = !bucket.negotiate.is_empty() && operation != Operation::Original;
    // An anonymous explicit plan of a bucket that does not negotiate: its
    // answer depends on the URL alone (`hits.rs` checks the headers).
    let rememberable = matches!(operation, Operation::Process { .. })
        && matches!(principal, access::Principal::Anonymous)
        && bucket.negotiate.is_empty();
    let mut response = match operation {
        Operation::Original => serve_original(bucket, key, parts, deadline).await,
        Operation::Process { plan, .. } => {
            let plan = plan?;
            let ignore_error = plan.ignore_error;
            let work = Work::Plan(plan);
            let answer =
                process::serve(state, bucket, key.clone(), work, method, headers, deadline);
            match answer.await {
                // `ignore-error/1`: a source the work cannot be done on (its
                // size, its pixels, a limit) is answered as stored; a
                // missing object, a busy proxy or a broken upstream is not.
                Err(e) if ignore_error && e.code.is_about_the_image() => {
                    outcome.error = Some(e.code.as_str());
                    serve_original(bucket, key, parts, deadline).await
                }
                answer => answer,
            }
        }
        Operation::Style { name, .. } => {
            // Configured or stored (`styles/`).
            let plan = bucket.styles.plan(&name).await.ok_or_else(|| {
                ApiError::new(
                    Code::NoSuchStyle,
                    format!("The style '{name}' does not exist."),
                )
            })?;
            let work = Work::Plan(plan);
            process::serve(state, bucket, key, work, method, headers, deadline).await
        }
        Operation::Metadata(kind) => {
            let work = Work::Metadata(kind);
            process::serve(state, bucket, key, work, method, headers, deadline).await
        }
        Operation::NotImplemented(message) => Err(ApiError::new(Code::NotImplemented, message)),
    }?;
    overrides::apply(&mut response, overrides);
    if rememberable {
        state
            .hits
            .remember(state, parts, host, &response, (dialect, kind));
    }
    Ok(response)
}

/// The stored bytes. The deadline covers the upstream's answer; the body
/// then streams as fast as the client reads (the upstream read timeout
/// bounds a stall).
async fn serve_original(
    bucket: &Bucket,
    key: String,
    parts: &http::request::Parts,
    deadline: Instant,
) -> Result<Response<Body>, ApiError> {
    // HTTP/1 bodies go to the socket as they are (`socket.rs`), which
    // sends a file's map with `sendfile`; h2 frames copy them.
    let mapped = parts.version <= http::Version::HTTP_11;
    let answer = original::serve(bucket, key, &parts.method, &parts.headers, mapped);
    tokio::time::timeout_at(deadline.into(), answer)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                Code::UpstreamTimeout,
                "The upstream storage did not answer within the request deadline.",
            ))
        })
}

/// The single place an [`ApiError`] becomes a response.
pub fn error_response(
    dialect: &dyn Dialect,
    e: &ApiError,
    request_id: &str,
    host: &str,
    head: bool,
) -> Response<Body> {
    let (text, content_type) = dialect.render_error(e.code.as_str(), &e.message, request_id, host);
    let status = dialect.status(e.code.as_str(), e.code.status());
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(body::empty());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(text.len()));
    // An error is about this moment (busy, a deadline, a missing object):
    // no cache may keep it.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if e.code == Code::MethodNotAllowed {
        headers.insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    if e.code == Code::ServiceUnavailable {
        headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if let Some(size) = e.range_size
        && let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}"))
    {
        headers.insert(CONTENT_RANGE, v);
    }
    if !head {
        *response.body_mut() = body::full(text);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_milliseconds_are_read_as_written() {
        let d = std::time::Duration::from_nanos(2_464_126_000);
        assert_eq!(millis(d).to_string(), "2464.126");
        let d = std::time::Duration::from_secs_f64(0.0024641260000000003);
        assert_eq!(millis(d).to_string(), "2.464");
    }
}
