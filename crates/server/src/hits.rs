//! Repeated anonymous process URLs answered from what the last answer
//! learned: a table from the request's host and target to the held
//! result, its headers and its log fields. A hit costs one table lookup
//! and a look at its validators' flag instead of routing, dialect
//! parsing, plan parsing, access checks and the result key's hashing
//! (about 10 µs of the ~25 µs a held result cost;
//! `benches/peers/run.py --cheap-paths`).
//!
//! Only what cannot answer differently is remembered: a `GET` whose every
//! header is on [`PASSIVE_HEADERS`] (no credentials, conditions, ranges or
//! process headers), answered 200 by an explicit process plan, anonymously,
//! from a bucket that does not negotiate formats, with no watermark
//! objects. A hit still checks that the source's validators are the ones
//! the validator cache holds now (same version, still fresh) and that no
//! write went through the proxy since; the result's bytes are held weakly,
//! so the result cache alone decides what stays in memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use http::{Method, Response, StatusCode};
use pixgate_api::dialect::Dialect;

use crate::body::{self, Body};
use crate::cache::{Known, Rendered, SourceId};
use crate::metrics::HitSeries;
use crate::process::Trace;
use crate::state::AppState;

/// Entries kept; past it one is dropped per new one. With keys of at most
/// [`KEY_BYTES`], the table stays within a few MB: the bytes themselves
/// are the result cache's.
const ENTRIES: usize = 4096;

/// Longer host + target pairs are not remembered (the table's memory is
/// not the client's to choose).
const KEY_BYTES: usize = 1024;

/// Headers that change nothing in a processed answer — browsers', CDNs'
/// and proxies' usual ones; a request carrying any other header takes the
/// full path. (Only a signature reads one of these, `x-forwarded-proto`,
/// and signed requests are never remembered; `tests/it/hits.rs` checks
/// that no other code names them.)
pub const PASSIVE_HEADERS: &[&str] = &[
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "connection",
    "keep-alive",
    "cache-control",
    "pragma",
    "referer",
    "cookie",
    "dnt",
    "priority",
    "upgrade-insecure-requests",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-user",
    "sec-ch-ua",
    "sec-ch-ua-mobile",
    "sec-ch-ua-platform",
    "sec-gpc",
    "via",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-real-ip",
    "true-client-ip",
    "cdn-loop",
    "cf-connecting-ip",
    "cf-ipcountry",
    "cf-ray",
    "cf-visitor",
    "x-amz-cf-id",
    "x-amzn-trace-id",
    "x-request-id",
    "traceparent",
    "tracestate",
];

/// What answering a URL again needs.
#[derive(Debug)]
pub struct Entry {
    rendered: Weak<Rendered>,
    /// The validators the answer was made under, and whose they are.
    known: Arc<Known>,
    /// The answer's bucket and key (its log line names them too).
    pub source: SourceId,
    /// `Caches::writes` when the answer was made.
    writes: u64,
    /// The headers `process::serve` answered with, the `Vary` the
    /// handler adds to them, and room for its request ids (see
    /// [`Hits::remember`]).
    headers: http::HeaderMap,
    pub dialect: &'static dyn Dialect,
    pub kind: &'static str,
    pub process: String,
    /// Where a hit counts itself (a 200 of this dialect and kind).
    pub series: HitSeries,
}

#[derive(Debug, Default)]
pub struct Hits {
    table: RwLock<HashMap<String, Arc<Entry>>>,
}

/// A remembered answer, served: its headers are final but for the
/// request ids (`handler::finish` writes them).
#[derive(Debug)]
pub struct Hit {
    pub entry: Arc<Entry>,
    pub response: Response<Body>,
}

/// The table's key: the host (virtual-hosted buckets share paths) and the
/// request target as sent, written into `key`.
fn key_into(key: &mut String, host: &str, parts: &http::request::Parts) -> Option<()> {
    let target = parts.uri.path_and_query()?.as_str();
    if host.len() + target.len() >= KEY_BYTES {
        return None;
    }
    key.clear();
    key.push_str(host);
    key.push(' ');
    key.push_str(target);
    Some(())
}

thread_local! {
    /// Where a lookup's key is written: a hit allocates no key.
    static LOOKUP_KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Whether the request is one a remembered answer may serve: a plan is
/// in its query, and it carries nothing that could change the answer.
fn passive(parts: &http::request::Parts) -> bool {
    parts.method == Method::GET
        && parts.uri.query().is_some()
        && parts
            .headers
            .keys()
            .all(|name| PASSIVE_HEADERS.contains(&name.as_str()))
}

impl Hits {
    /// The remembered answer to this request arriving at `now`, if it is
    /// still the answer.
    pub fn answer(
        &self,
        state: &AppState,
        parts: &http::request::Parts,
        host: &str,
        now: std::time::Instant,
    ) -> Option<Hit> {
        if !state.caches.remembers() || !passive(parts) {
            return None;
        }
        let entry = {
            let table = self.table.read().ok()?;
            if table.is_empty() {
                return None;
            }
            LOOKUP_KEY.with_borrow_mut(|key| {
                key_into(key, host, parts)?;
                table.get(key.as_str()).cloned()
            })?
        };
        let rendered = entry.rendered.upgrade()?;
        if entry.writes != state.caches.writes() || !state.caches.still_current(&entry.known, now) {
            return None;
        }
        entry.series.count_hit();
        state.metrics.sent(rendered.bytes.len());
        let mut response = Response::new(body::full(rendered.bytes.clone()));
        *response.status_mut() = StatusCode::OK;
        *response.headers_mut() = entry.headers.clone();
        Some(Hit { entry, response })
    }

    /// Remembers a 200 answer of an anonymous process plan (the caller
    /// knows those); declines anything else.
    pub fn remember(
        &self,
        state: &AppState,
        parts: &http::request::Parts,
        host: &str,
        response: &Response<Body>,
        (dialect, kind): (&'static dyn Dialect, &'static str),
    ) {
        if response.status() != StatusCode::OK || !state.caches.remembers() || !passive(parts) {
            return;
        }
        let Some(trace) = response.extensions().get::<Trace>() else {
            return;
        };
        let Some(held) = &trace.held else {
            return;
        };
        let mut table_key = String::new();
        if key_into(&mut table_key, host, parts).is_none() {
            return;
        }
        // As `process::serve` made them, with what the handler adds to
        // every such answer: its `Vary`, and its request ids — here
        // placeholders it overwrites, so that a hit's copy of the map
        // never grows.
        let mut headers = response.headers().clone();
        crate::handler::add_vary(&mut headers, false, false);
        for name in crate::handler::request_id_headers(dialect) {
            headers.insert(name, http::HeaderValue::from_static(""));
        }
        let entry = Arc::new(Entry {
            rendered: held.rendered.clone(),
            known: held.known.clone(),
            source: held.source.clone(),
            writes: held.writes,
            headers,
            dialect,
            kind,
            process: trace.process.clone(),
            series: state.metrics.hit_series(dialect.name(), kind),
        });
        if let Ok(mut table) = self.table.write() {
            if table.len() >= ENTRIES
                && !table.contains_key(&table_key)
                && let Some(old) = table.keys().next().cloned()
            {
                table.remove(&old);
            }
            table.insert(table_key, entry);
        }
    }
}

/// What `process::serve` tells [`Hits::remember`] about a held result.
#[derive(Debug, Clone)]
pub struct Held {
    pub rendered: Weak<Rendered>,
    pub known: Arc<Known>,
    pub source: SourceId,
    pub writes: u64,
}
