//! Processed responses: fetch the source (bounded), run the plan on the
//! blocking pool, answer with validators derived from the source and the
//! canonical plan (SPEC §8).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, LAST_MODIFIED};
use http::{HeaderMap, Method, Response, StatusCode};
use pixgate_api::{Deliver, MetadataKind, Plan};
use pixgate_ops::{Product, Settings, Stop};
use pixgate_origin::{Fetched, Object, ObjectRequest, Whole, WholeError};

use crate::accept;
use crate::admission::{Place, Ticket};
use crate::body::{self, Body};
use crate::cache::{Known, Outcome, Rendered, ResultKey, Revalidated, SourceId, Timing};
use crate::conditional;
use crate::error::{ApiError, Code};
use crate::hits::Held;
use crate::state::{AppState, Bucket};

/// What to compute from the source.
#[derive(Debug)]
pub enum Work {
    Plan(Plan),
    Metadata(MetadataKind),
}

impl Work {
    /// The cache key / ETag input: the canonical process string.
    fn canonical(&self) -> String {
        match self {
            Work::Plan(p) => p.canonical(),
            Work::Metadata(m) => m.canonical.to_owned(),
        }
    }
}

impl Work {
    /// Action names, for `/metrics`.
    fn actions(&self) -> Vec<&'static str> {
        match self {
            Work::Plan(p) => {
                let mut names: Vec<_> = p.steps.iter().map(|s| s.name()).collect();
                match p.deliver {
                    Deliver::Metadata(_) => names.push("info"),
                    Deliver::Average(body) => names.push(body.canonical),
                    Deliver::Placeholder(p) => names.push(p.name()),
                    Deliver::Image => {}
                }
                if p.output.format.is_some() {
                    names.push("format");
                }
                names
            }
            Work::Metadata(_) => vec!["info"],
        }
    }
}

/// Answers `work` on `key` by `deadline`: past it, whatever the request was
/// waiting for is dropped (its worker slot and place freed) and the client
/// gets 504 if the upstream was the holdup, 503 otherwise.
pub async fn serve(
    state: &AppState,
    bucket: &Bucket,
    key: String,
    work: Work,
    method: &Method,
    headers: &HeaderMap,
    deadline: Instant,
) -> Result<Response<Body>, ApiError> {
    let phase = Phase::default();
    let work = negotiate(work, bucket, headers);
    let serving = serve_by(state, bucket, key, work, method, headers, deadline, &phase);
    match tokio::time::timeout_at(deadline.into(), serving).await {
        Ok(answer) => answer,
        Err(_) => Err(phase.timed_out(state.admission.timeout)),
    }
}

/// Accept negotiation (a bucket's `negotiate`): an image plan that names no
/// output format gets the formats the client admits, best first; pixel
/// code picks among them on the source. They are part of the canonical
/// plan, so the result cache and the ETag tell the answers apart.
fn negotiate(mut work: Work, bucket: &Bucket, headers: &HeaderMap) -> Work {
    if let Work::Plan(plan) = &mut work
        && !bucket.negotiate.is_empty()
        && plan.output.format.is_none()
        && plan.deliver == Deliver::Image
    {
        plan.output.prefer = accept::preferred(headers, &bucket.negotiate);
    }
    work
}

/// What a request was doing, so that a missed deadline can say whose fault
/// it was.
#[derive(Debug, Default)]
struct Phase(AtomicU8);

impl Phase {
    const QUEUE: u8 = 0;
    const UPSTREAM: u8 = 1;
    const PROCESSING: u8 = 2;

    fn set(&self, phase: u8) {
        self.0.store(phase, Ordering::Relaxed);
    }

    fn timed_out(&self, timeout: Duration) -> ApiError {
        let ms = timeout.as_millis();
        match self.0.load(Ordering::Relaxed) {
            Phase::UPSTREAM => ApiError::new(
                Code::UpstreamTimeout,
                format!(
                    "The upstream storage did not deliver the source within the request deadline ({ms} ms)."
                ),
            ),
            Phase::PROCESSING => ApiError::new(
                Code::ServiceUnavailable,
                format!(
                    "The request took longer than the proxy allows ({ms} ms) and was abandoned."
                ),
            ),
            _ => ApiError::new(
                Code::ServiceUnavailable,
                format!(
                    "The proxy is busy: the request waited longer than its deadline ({ms} ms); retry shortly."
                ),
            ),
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve_by(
    state: &AppState,
    bucket: &Bucket,
    key: String,
    work: Work,
    method: &Method,
    headers: &HeaderMap,
    deadline: Instant,
    phase: &Phase,
) -> Result<Response<Body>, ApiError> {
    let started = Instant::now();
    // Before anything is read: a write from now on makes this answer old.
    let writes = state.caches.writes();
    // Taken as soon as the request has to wait for anything (admission,
    // another request's revalidation or result); working needs none.
    let mut place: Option<Place> = None;
    let mut canonical = work.canonical();
    let mut trace = Trace {
        process: canonical.clone(),
        cache: Outcome::Bypass,
        timing: Timing::default(),
        held: None,
    };
    let id = SourceId {
        bucket: bucket.name.clone(),
        key,
    };
    // Watermark objects are sources too: their versions are part of the
    // result's identity, so a replaced watermark is never served stale.
    let marks = watermark_sources(state, bucket, &work, &mut place, phase).await?;
    let no_marks = marks.is_empty();
    for mark in &marks {
        canonical.push('\n');
        canonical.push_str(mark.known.etag.as_deref().unwrap_or("-"));
    }
    let (known, read) = current(state, bucket, &id, &mut place, phase).await?;
    // Validators come from the cache or one conditional upstream request.
    trace.timing.upstream = started.elapsed();
    let etag = known
        .etag
        .as_deref()
        .map(|source| derived_etag(source, &canonical));

    let mut response = Response::builder().header(CACHE_CONTROL, &bucket.cache_control);
    if let Some(etag) = &etag {
        response = response.header(ETAG, etag);
    }
    if let Some(lm) = &known.last_modified {
        response = response.header(LAST_MODIFIED, lm);
    }
    // The source's validators decide before any byte is read or decoded.
    if conditional::not_modified(headers, etag.as_deref(), known.last_modified.as_deref()) {
        return response
            .status(StatusCode::NOT_MODIFIED)
            .extension(trace)
            .body(body::empty())
            .map_err(ApiError::internal);
    }

    let result_key = known.etag.clone().map(|etag| ResultKey {
        source: id.clone(),
        etag,
        canonical,
    });
    // A held result is answered at once: no line, no job.
    let held = match &result_key {
        Some(k) => state.caches.held_result(k).await,
        None => None,
    };
    let (rendered, outcome) = match held {
        Some(hit) => (hit, Outcome::Hit),
        None => {
            // Waiting for an identical request's result is waiting in line.
            if result_key
                .as_ref()
                .is_some_and(|k| state.caches.rendering(k))
            {
                state.admission.wait_in_line(&mut place)?;
            }
            phase.set(Phase::QUEUE);
            let job = Job {
                state,
                bucket,
                id: &id,
                known: &known,
                deadline,
                phase,
                place: &mut place,
            };
            state
                .caches
                .result(result_key, || job.render(read, marks, work))
                .await?
        }
    };

    trace.cache = outcome;
    // A held result of this version, with no watermark object in its
    // identity, may be answered again from `hits.rs`.
    if outcome != Outcome::Bypass && no_marks && state.caches.remembers() {
        trace.held = Some(Held {
            rendered: Arc::downgrade(&rendered),
            known: known.clone(),
            source: id.clone(),
            writes,
        });
    }
    if outcome != Outcome::Hit && outcome != Outcome::Shared {
        trace.timing.upstream += rendered.timing.upstream;
        trace.timing.queue = rendered.timing.queue;
        trace.timing.processing = rendered.timing.processing;
    }
    response = response
        .status(StatusCode::OK)
        .extension(trace)
        .header(CONTENT_TYPE, rendered.content_type)
        .header(CONTENT_LENGTH, rendered.bytes.len());
    let body = if method == Method::HEAD {
        body::empty()
    } else {
        state.metrics.sent(rendered.bytes.len());
        body::full(rendered.bytes.clone())
    };
    response.body(body).map_err(ApiError::internal)
}

/// Asks the upstream whether `previous` is still the current version
/// (`If-None-Match`); reads the body only when it is not, or when the
/// upstream ignored the condition and the bytes are not held.
async fn revalidate(
    state: &AppState,
    bucket: &Bucket,
    id: &SourceId,
    previous: Option<Arc<Known>>,
    admitted: &mut Option<Ticket>,
    place: &mut Option<Place>,
    phase: &Phase,
) -> Result<Revalidated, ApiError> {
    let previous_etag = previous.and_then(|k| k.etag.clone());
    let request = ObjectRequest {
        key: id.key.clone(),
        if_none_match: previous_etag.clone(),
        ..ObjectRequest::default()
    };
    let started = Instant::now();
    phase.set(Phase::UPSTREAM);
    let object = fetch(state, bucket, &request).await?;
    if object.fetched == Fetched::NotModified {
        return Ok(Revalidated::Same);
    }
    let etag = object.meta.etag.clone();
    if let Some(e) = &etag
        && previous_etag.as_ref() == Some(e)
        && state.caches.has_source(id, e)
    {
        // Dropping the body abandons the transfer.
        return Ok(Revalidated::Same);
    }
    let last_modified = object.meta.last_modified.clone();
    // Only admitted requests hold source bytes. The transfer has begun, so
    // a deadline missed while waiting here (every admission held by slow
    // downloads) is still the upstream's: the phase stays UPSTREAM.
    let ticket = state.admission.admit(place).await?;
    let whole = object.into_whole(state.limits.max_source_bytes).await;
    let bytes = fetched_whole(state, whole, started)?;
    *admitted = Some(ticket);
    Ok(Revalidated::New(Known::new(etag, last_modified), bytes))
}

/// The source's current validators (cached, or from one revalidation), and
/// its bytes with their admission when learning them meant reading them.
async fn current(
    state: &AppState,
    bucket: &Bucket,
    id: &SourceId,
    place: &mut Option<Place>,
    phase: &Phase,
) -> Result<(Arc<Known>, Option<(Bytes, Ticket)>), ApiError> {
    if let Some(known) = state.caches.fresh(id).await {
        return Ok((known, None));
    }
    // Waiting for another request's revalidation is waiting in line.
    if state.caches.revalidating(id) {
        state.admission.wait_in_line(place)?;
    }
    let mut ticket = None;
    let (known, read) = state
        .caches
        .validators(id, |previous| {
            revalidate(state, bucket, id, previous, &mut ticket, place, phase)
        })
        .await?;
    Ok((known, read.zip(ticket)))
}

/// What the request's log line tells about the processing (carried to the
/// handler as a response extension).
#[derive(Debug, Clone)]
pub struct Trace {
    /// The canonical process string (never the raw query: it may be signed).
    pub process: String,
    pub cache: Outcome,
    pub timing: Timing,
    /// The result as held, for answering the URL again (`hits.rs`).
    pub held: Option<Held>,
}

/// An image watermark's object: its validators, and its bytes if learning
/// them meant reading them.
struct Mark {
    id: SourceId,
    known: Arc<Known>,
    read: Option<Bytes>,
}

async fn watermark_sources(
    state: &AppState,
    bucket: &Bucket,
    work: &Work,
    place: &mut Option<Place>,
    phase: &Phase,
) -> Result<Vec<Mark>, ApiError> {
    let Work::Plan(plan) = work else {
        return Ok(Vec::new());
    };
    let mut marks: Vec<Mark> = Vec::new();
    for key in plan.watermark_keys() {
        if marks.iter().any(|m| m.id.key == key) {
            continue;
        }
        let id = SourceId {
            bucket: bucket.name.clone(),
            key: key.to_owned(),
        };
        // The admission a body read takes ends here: watermarks are small,
        // and the main source's admission bounds the request.
        let (known, read) = current(state, bucket, &id, place, phase)
            .await
            .map_err(|e| missing_mark(e, key))?;
        let read = read.map(|(bytes, _admission)| bytes);
        marks.push(Mark { id, known, read });
    }
    Ok(marks)
}

/// A watermark object that does not exist is the request's fault (400).
fn missing_mark(e: ApiError, key: &str) -> ApiError {
    match e.code {
        Code::NoSuchKey | Code::InvalidObjectName | Code::AccessDenied => ApiError::new(
            Code::WatermarkError,
            format!("The watermark image '{key}' does not exist in this bucket."),
        ),
        _ => e,
    }
}

/// What rendering one request's result needs besides the work itself.
struct Job<'a> {
    state: &'a AppState,
    bucket: &'a Bucket,
    id: &'a SourceId,
    known: &'a Known,
    deadline: Instant,
    phase: &'a Phase,
    /// The request's place in line, if it holds one.
    place: &'a mut Option<Place>,
}

impl Job<'_> {
    /// Gets the source (unless `read` brought it, with its admission) and
    /// runs the work on the blocking pool under a worker slot.
    async fn render(
        self,
        read: Option<(Bytes, Ticket)>,
        marks: Vec<Mark>,
        work: Work,
    ) -> Result<Arc<Rendered>, ApiError> {
        let Job {
            state,
            bucket,
            id,
            known,
            deadline,
            phase,
            place,
        } = self;
        let mut timing = Timing::default();
        let admitting = Instant::now();
        let (bytes, ticket) = match read {
            Some(read) => read,
            None => {
                let ticket = state.admission.admit(place).await?;
                timing.queue = admitting.elapsed();
                let fetching = Instant::now();
                phase.set(Phase::UPSTREAM);
                let bytes = state
                    .caches
                    .source(id, known.etag.as_deref(), download(state, bucket, id))
                    .await?;
                timing.upstream = fetching.elapsed();
                (bytes, ticket)
            }
        };
        let stop = Stop::new(Some(deadline), Some(state.cancel.clone()));
        let mut settings = Settings::new(state.limits, bucket.auto_orient, stop);
        settings.gamut = bucket.gamut;
        settings.fonts = Some(state.fonts.clone());
        let fetching = Instant::now();
        phase.set(Phase::UPSTREAM);
        for mark in marks {
            let bytes = match mark.read {
                Some(bytes) => bytes,
                None => {
                    let fetch = download(state, bucket, &mark.id);
                    state
                        .caches
                        .source(&mark.id, mark.known.etag.as_deref(), fetch)
                        .await
                        .map_err(|e| missing_mark(e, &mark.id.key))?
                }
            };
            settings.marks.insert(mark.id.key, bytes);
        }
        timing.upstream += fetching.elapsed();
        // The sources are in hand; the worker slot is only for the pixel work.
        let waiting = Instant::now();
        phase.set(Phase::QUEUE);
        let worker = state.admission.work(&ticket).await?;
        timing.queue += waiting.elapsed();
        state.metrics.stage("queue", timing.queue.as_secs_f64());
        for action in work.actions() {
            state.metrics.action(action);
        }
        let started = Instant::now();
        phase.set(Phase::PROCESSING);
        // Pixel work never runs on the async runtime. The worker slot goes
        // with it: if this request is dropped at its deadline, the slot is
        // free when the work stops (at its next deadline check).
        let product = tokio::task::spawn_blocking(move || {
            let _worker = worker;
            match work {
                Work::Plan(plan) => pixgate_ops::process(&bytes, &plan, &settings),
                Work::Metadata(kind) => pixgate_ops::metadata(&bytes, &kind, &settings),
            }
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "processing task failed");
            ApiError::new(Code::InternalError, "The image could not be processed.")
        })??;
        state.metrics.rendered();
        timing.processing = started.elapsed();
        state
            .metrics
            .stage("processing", timing.processing.as_secs_f64());
        let (bytes, content_type) = match product {
            Product::Image { bytes, format } => (bytes, format.mime()),
            Product::Json(text) => (text.into_bytes(), "application/json"),
        };
        Ok(Arc::new(Rendered {
            bytes: Bytes::from(bytes),
            content_type,
            timing,
        }))
    }
}

/// A plain GET of the whole source.
async fn download(state: &AppState, bucket: &Bucket, id: &SourceId) -> Result<Bytes, ApiError> {
    let request = ObjectRequest {
        key: id.key.clone(),
        ..ObjectRequest::default()
    };
    let started = Instant::now();
    let whole = bucket
        .origin
        .fetch_whole(&request, state.limits.max_source_bytes)
        .await;
    fetched_whole(state, whole, started)
}

async fn fetch(
    state: &AppState,
    bucket: &Bucket,
    request: &ObjectRequest,
) -> Result<Object, ApiError> {
    bucket.origin.fetch(request).await.map_err(|e| {
        state.metrics.upstream_error(e.kind());
        ApiError::from(e)
    })
}

/// The source's bytes, read whole into one buffer by the origin (which
/// refuses, without reading on, anything past the byte cap), or the error
/// in the client's terms.
fn fetched_whole(
    state: &AppState,
    whole: Result<Whole, WholeError>,
    started: Instant,
) -> Result<Bytes, ApiError> {
    let cap = state.limits.max_source_bytes;
    let body = whole.map_err(|e| {
        let (kind, error) = match e {
            WholeError::Origin(e) => (e.kind(), ApiError::from(e)),
            WholeError::TooLarge => {
                return ApiError::new(
                    Code::ImageTooLarge,
                    format!(
                        "The source object is larger than {cap} bytes, the most this proxy processes."
                    ),
                );
            }
            WholeError::Body(e) if e.kind() == std::io::ErrorKind::TimedOut => (
                "timeout",
                ApiError::new(
                    Code::UpstreamTimeout,
                    "The upstream storage stopped sending the source object.",
                ),
            ),
            WholeError::Body(e) => (
                "body",
                ApiError::new(
                    Code::UpstreamError,
                    format!(
                        "The source object could not be read completely ({}).",
                        e.kind()
                    ),
                ),
            ),
            e @ (WholeError::Longer | WholeError::Shorter) => (
                "body",
                ApiError::new(
                    Code::UpstreamError,
                    format!("The source object could not be read: {e}."),
                ),
            ),
        };
        state.metrics.upstream_error(kind);
        error
    })?
    .body;
    state.metrics.fetched(body.len());
    state
        .metrics
        .stage("upstream", started.elapsed().as_secs_f64());
    Ok(body)
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
