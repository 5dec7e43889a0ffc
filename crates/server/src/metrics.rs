//! Prometheus metrics, one registry per server instance (so tests running
//! several servers in one process each see their own counts), served as text
//! on `/metrics`.

use std::borrow::Cow;
use std::sync::atomic::{AtomicI64, AtomicU64};

use http::{Response, StatusCode};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::admission::Load;
use crate::body::{self, Body};

type Labels<const N: usize> = [(&'static str, String); N];
/// Label sets of fixed values: counted per request without allocating.
type Static<const N: usize> = [(&'static str, &'static str); N];
type Timing = Family<Static<1>, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    // 1 ms … ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<[(&'static str, Cow<'static, str>); 3], Counter>,
    duration: Timing,
    stage: Timing,
    actions: Family<Labels<1>, Counter>,
    cache_lookups: Family<Static<2>, Counter>,
    cache_evictions: Family<Labels<1>, Counter>,
    cache_bytes: Family<Labels<1>, Gauge>,
    upstream_errors: Family<Labels<1>, Counter>,
    renders: Counter,
    upstream_fetches: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
    in_flight: Gauge,
    workers_busy: Gauge,
    workers_queued: Gauge,
    admitted: Gauge,
    resident: Gauge,
    cpu_seconds: Counter<f64, AtomicU64>,
    open_fds: Gauge,
    max_fds: Gauge,
    start_time: Gauge<f64, AtomicU64>,
    connections: Gauge,
    connections_closed: Family<Labels<1>, Counter>,
}

/// A remembered answer's series (see [`Metrics::hit_series`]): clones
/// that count into the same families as the lookups would.
#[derive(Debug, Clone)]
pub struct HitSeries {
    result_hit: Counter,
    requests: Counter,
    duration: Histogram,
}

impl HitSeries {
    /// A result-cache hit, as `cache_lookup("result", true)` counts it.
    pub fn count_hit(&self) {
        self.result_hit.inc();
    }

    /// A 200 answer that took `seconds`, as `request` counts it.
    pub fn request(&self, seconds: f64) {
        self.requests.inc();
        self.duration.observe(seconds);
    }
}

/// Decrements the in-flight gauge when a request ends, however it ends.
#[derive(Debug)]
pub struct InFlight(Gauge<i64, AtomicI64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut root = Registry::default();
        let mut m = Metrics {
            requests: Family::default(),
            duration: Family::new_with_constructor(seconds),
            stage: Family::new_with_constructor(seconds),
            actions: Family::default(),
            cache_lookups: Family::default(),
            cache_evictions: Family::default(),
            cache_bytes: Family::default(),
            upstream_errors: Family::default(),
            renders: Counter::default(),
            upstream_fetches: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            in_flight: Gauge::default(),
            workers_busy: Gauge::default(),
            workers_queued: Gauge::default(),
            connections: Gauge::default(),
            connections_closed: Family::default(),
            admitted: Gauge::default(),
            resident: Gauge::default(),
            cpu_seconds: Counter::default(),
            open_fds: Gauge::default(),
            max_fds: Gauge::default(),
            start_time: Gauge::default(),
            registry: Registry::default(),
        };
        let r = root.sub_registry_with_prefix("pixgate");
        r.register(
            "build_info",
            "The running build: version and optional features (always 1)",
            build_info(),
        );
        r.register(
            "requests",
            "Requests by dialect, operation and status",
            m.requests.clone(),
        );
        r.register(
            "request_duration_seconds",
            "Whole-request latency by operation",
            m.duration.clone(),
        );
        r.register(
            "stage_duration_seconds",
            "Time spent per stage: upstream, queue (waiting for a worker), processing",
            m.stage.clone(),
        );
        r.register(
            "actions",
            "Processing steps run, by action",
            m.actions.clone(),
        );
        r.register(
            "cache_lookups",
            "Cache lookups by cache (result, source) and outcome (hit, miss)",
            m.cache_lookups.clone(),
        );
        r.register(
            "cache_evictions",
            "Entries evicted for room or age, by cache",
            m.cache_evictions.clone(),
        );
        r.register("cache_bytes", "Bytes held, by cache", m.cache_bytes.clone());
        r.register(
            "upstream_errors",
            "Failed upstream fetches by kind",
            m.upstream_errors.clone(),
        );
        r.register(
            "renders",
            "Images decoded and processed (cache misses that ran the pipeline)",
            m.renders.clone(),
        );
        r.register(
            "upstream_fetches",
            "GET requests sent to origins for processing",
            m.upstream_fetches.clone(),
        );
        r.register(
            "upstream_bytes",
            "Source bytes read from origins",
            m.bytes_in.clone(),
        );
        r.register(
            "response_bytes",
            "Body bytes of processed and error responses",
            m.bytes_out.clone(),
        );
        r.register(
            "in_flight_requests",
            "Requests being served",
            m.in_flight.clone(),
        );
        r.register(
            "workers_busy",
            "Processing slots in use",
            m.workers_busy.clone(),
        );
        r.register(
            "workers_queued",
            "Processed requests waiting to be admitted",
            m.workers_queued.clone(),
        );
        r.register(
            "admitted_requests",
            "Processed requests admitted: downloading, waiting for a worker or working",
            m.admitted.clone(),
        );
        r.register(
            "open_connections",
            "Client connections open",
            m.connections.clone(),
        );
        r.register(
            "connections_closed",
            "Client connections the server closed, by reason: silent (no request within the header timeout), idle, stalled (not reading its response), evicted (room made at the connection cap), refused (503 at the cap)",
            m.connections_closed.clone(),
        );
        // The standard names, unprefixed, as every client library exports
        // them (dashboards and alerts expect these).
        root.register(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            m.resident.clone(),
        );
        root.register(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            m.cpu_seconds.clone(),
        );
        root.register(
            "process_open_fds",
            "Number of open file descriptors",
            m.open_fds.clone(),
        );
        root.register(
            "process_max_fds",
            "Maximum number of open file descriptors",
            m.max_fds.clone(),
        );
        root.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds",
            m.start_time.clone(),
        );
        // Every series of a known label set exists from the start (at 0),
        // so a rate() over it works before its first event.
        for cache in ["source", "result"] {
            m.cache_evictions
                .get_or_create(&[("cache", cache.to_owned())])
                .inc_by(0);
            for outcome in ["hit", "miss"] {
                m.cache_lookups
                    .get_or_create(&[("cache", cache), ("outcome", outcome)])
                    .inc_by(0);
            }
        }
        for reason in ["silent", "idle", "stalled", "evicted", "refused"] {
            m.connections_closed
                .get_or_create(&[("reason", reason.to_owned())])
                .inc_by(0);
        }
        for kind in UPSTREAM_ERROR_KINDS {
            m.upstream_errors
                .get_or_create(&[("kind", kind.to_owned())])
                .inc_by(0);
        }
        m.registry = root;
        m
    }

    pub fn enter(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    pub fn request(
        &self,
        dialect: &'static str,
        operation: &'static str,
        status: u16,
        seconds: f64,
    ) {
        self.requests
            .get_or_create(&request_labels(dialect, operation, status))
            .inc();
        self.duration
            .get_or_create(&[("operation", operation)])
            .observe(seconds);
    }

    /// `stage`: `upstream`, `queue` or `processing`.
    pub fn stage(&self, stage: &'static str, seconds: f64) {
        self.stage
            .get_or_create(&[("stage", stage)])
            .observe(seconds);
    }

    pub fn action(&self, name: &str) {
        self.actions
            .get_or_create(&[("action", name.to_owned())])
            .inc();
    }

    /// The series a 200 answer of `dialect`'s `operation` served from the
    /// result cache counts in, resolved once (a `Family` lookup hashes its
    /// labels under a lock: three of them were a tenth of a hit's own work).
    pub fn hit_series(&self, dialect: &'static str, operation: &'static str) -> HitSeries {
        HitSeries {
            result_hit: (*self
                .cache_lookups
                .get_or_create(&lookup_labels("result", true)))
            .clone(),
            requests: (*self
                .requests
                .get_or_create(&request_labels(dialect, operation, 200)))
            .clone(),
            duration: (*self.duration.get_or_create(&[("operation", operation)])).clone(),
        }
    }

    pub fn cache_lookup(&self, cache: &'static str, hit: bool) {
        self.cache_lookups
            .get_or_create(&lookup_labels(cache, hit))
            .inc();
    }

    pub fn cache_evicted(&self, cache: &'static str) {
        self.cache_evictions
            .get_or_create(&[("cache", cache.to_owned())])
            .inc();
    }

    pub fn upstream_error(&self, kind: &str) {
        self.upstream_errors
            .get_or_create(&[("kind", kind.to_owned())])
            .inc();
    }

    pub fn connection_opened(&self) {
        self.connections.inc();
    }

    pub fn connection_ended(&self) {
        self.connections.dec();
    }

    /// The server closed a connection: `silent`, `idle`, `stalled`,
    /// `evicted` or `refused`.
    pub fn connection_closed(&self, reason: &'static str) {
        self.connections_closed
            .get_or_create(&[("reason", reason.to_owned())])
            .inc();
    }

    pub fn rendered(&self) {
        self.renders.inc();
    }

    pub fn fetched(&self, bytes: usize) {
        self.upstream_fetches.inc();
        self.bytes_in.inc_by(bytes as u64);
    }

    pub fn sent(&self, bytes: usize) {
        self.bytes_out.inc_by(bytes as u64);
    }

    /// The text exposition, with the point-in-time gauges read now.
    pub fn render(&self, cache_sizes: &[(&'static str, u64)], load: Load) -> Response<Body> {
        for (cache, bytes) in cache_sizes {
            self.cache_bytes
                .get_or_create(&[("cache", (*cache).to_owned())])
                .set(i64::try_from(*bytes).unwrap_or(i64::MAX));
        }
        self.workers_busy.set(load.workers_busy as i64);
        self.workers_queued.set(load.queued as i64);
        self.admitted.set(load.admitted as i64);
        if let Some(p) = crate::procstat::read() {
            self.resident.set(p.resident_bytes);
            // A counter only goes up: add what was spent since the last read.
            let spent = p.cpu_seconds - self.cpu_seconds.get();
            if spent > 0.0 {
                self.cpu_seconds.inc_by(spent);
            }
            self.open_fds.set(p.open_fds);
            if let Some(max) = p.max_fds {
                self.max_fds.set(max);
            }
            if let Some(t) = p.start_time_seconds {
                self.start_time.set(t);
            }
        }
        let mut text = String::new();
        let status = match encode(&mut text, &self.registry) {
            Ok(()) => StatusCode::OK,
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Response::builder()
            .status(status)
            .header(
                http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )
            .header(http::header::CACHE_CONTROL, "no-store")
            .body(body::full(text))
            .unwrap_or_default()
    }
}

/// `pixgate_requests_total`'s labels (`request` and `hit_series` alike).
fn request_labels(
    dialect: &'static str,
    operation: &'static str,
    status: u16,
) -> [(&'static str, Cow<'static, str>); 3] {
    [
        ("dialect", Cow::Borrowed(dialect)),
        ("operation", Cow::Borrowed(operation)),
        ("status", status_label(status)),
    ]
}

/// `pixgate_cache_lookups_total`'s labels.
fn lookup_labels(cache: &'static str, hit: bool) -> Static<2> {
    [
        ("cache", cache),
        ("outcome", if hit { "hit" } else { "miss" }),
    ]
}

/// The status as a label, without allocating for the usual ones.
fn status_label(status: u16) -> Cow<'static, str> {
    Cow::Borrowed(match status {
        200 => "200",
        204 => "204",
        206 => "206",
        304 => "304",
        400 => "400",
        403 => "403",
        404 => "404",
        416 => "416",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => return Cow::Owned(status.to_string()),
    })
}

/// Every kind `upstream_error` is called with (`OriginError::kind`, plus
/// a body cut short and a deadline).
const UPSTREAM_ERROR_KINDS: [&str; 10] = [
    "no_such_key",
    "no_such_bucket",
    "access_denied",
    "invalid_key",
    "range",
    "unreachable",
    "timeout",
    "status",
    "io",
    "body",
];

/// `pixgate_build_info{version, otlp}` 1.
fn build_info() -> Family<Labels<2>, Gauge> {
    let info = Family::<Labels<2>, Gauge>::default();
    info.get_or_create(&[
        ("version", env!("CARGO_PKG_VERSION").to_owned()),
        ("otlp", cfg!(feature = "otlp").to_string()),
    ])
    .set(1);
    info
}
