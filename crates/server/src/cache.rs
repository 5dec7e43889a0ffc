//! The result cache and the source cache (SPEC §8, issue "Speed").
//!
//! Three maps, all in memory and bounded:
//! - `known`: per (bucket, key), the source's validators and when the
//!   upstream last confirmed them. Within `source_fresh` they are trusted
//!   without asking; later one conditional GET (`If-None-Match`) per key
//!   revalidates them while concurrent requests for that key wait for it.
//! - `sources`: source bytes per (bucket, key, ETag), bounded in bytes, so
//!   several sizes of one image cost one upstream GET.
//! - `results`: rendered bytes per (bucket, key, source ETag, canonical
//!   process string), bounded in bytes; identical concurrent misses compute
//!   once and a failed computation is returned to its waiters, never stored.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::future::Cache;
use moka::ops::compute::{CompResult, Op};

use crate::config::CacheConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;

/// One object of one bucket.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct SourceId {
    pub bucket: String,
    pub key: String,
}

/// A source's validators as the upstream last confirmed them.
#[derive(Debug)]
pub struct Known {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    checked: Instant,
    /// Set when the validator cache lets go of this entry (replaced by a
    /// revalidation, invalidated by a write, evicted): what was made under
    /// it is no longer known to be current. A remembered answer reads this
    /// flag instead of looking its key up again (`hits.rs`).
    dropped: AtomicBool,
}

impl Known {
    pub fn new(etag: Option<String>, last_modified: Option<String>) -> Known {
        Known {
            etag,
            last_modified,
            checked: Instant::now(),
            dropped: AtomicBool::new(false),
        }
    }

    /// Whether these validators are trusted without asking at `now`.
    fn fresh_at(&self, fresh_for: Duration, now: Instant) -> bool {
        now.saturating_duration_since(self.checked) < fresh_for
    }
}

/// What a revalidation found out.
#[derive(Debug)]
pub enum Revalidated {
    /// The source is the one already known.
    Same,
    /// A new (or first) version, with the bytes read to learn it.
    New(Known, Bytes),
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct ResultKey {
    pub source: SourceId,
    pub etag: String,
    pub canonical: String,
}

/// A processed response body and its type, with what making it cost.
#[derive(Debug)]
pub struct Rendered {
    pub bytes: Bytes,
    pub content_type: &'static str,
    pub timing: Timing,
}

/// Where a request's time went, for its log line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    pub upstream: Duration,
    /// Waiting for admission and for a worker.
    pub queue: Duration,
    pub processing: Duration,
}

/// How the result cache answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    /// Computed by this request.
    Miss,
    /// Computed by an identical request this one waited for.
    Shared,
    /// The result cache is off (or the source has no ETag).
    Bypass,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Miss => "miss",
            Outcome::Shared => "shared",
            Outcome::Bypass => "-",
        }
    }
}

#[derive(Debug)]
pub struct Caches {
    /// Keys being revalidated and results being rendered right now: a
    /// request finding its key here will wait for another's work, so it
    /// must take a place in line first.
    revalidating: Leaders<SourceId>,
    rendering: Leaders<ResultKey>,
    known: Cache<SourceId, Arc<Known>>,
    sources: Option<Cache<(SourceId, String), Bytes>>,
    results: Option<Cache<ResultKey, Arc<Rendered>>>,
    fresh_for: Duration,
    metrics: Arc<Metrics>,
    /// Writes through the proxy so far: a remembered answer (`hits.rs`)
    /// made before the last one is not served.
    writes: AtomicU64,
}

/// Validators remembered (one small entry per recently seen key).
const KNOWN_ENTRIES: u64 = 100_000;

fn weight(len: usize, extra: usize) -> u32 {
    u32::try_from(len + extra).unwrap_or(u32::MAX)
}

impl Caches {
    pub fn new(c: &CacheConfig, metrics: Arc<Metrics>) -> Caches {
        let fresh_for = Duration::from_millis(c.source_fresh_ms);
        let sources = (c.source_bytes > 0).then(|| {
            let m = metrics.clone();
            Cache::builder()
                .max_capacity(c.source_bytes)
                .weigher(|(id, _): &(SourceId, String), v: &Bytes| weight(v.len(), id.key.len()))
                .time_to_idle(Duration::from_secs(600))
                // A write drops every version of its key (`invalidate`).
                .support_invalidation_closures()
                .eviction_listener(move |_, _, cause| {
                    if cause.was_evicted() {
                        m.cache_evicted("source");
                    }
                })
                .build()
        });
        let results = (c.result_bytes > 0).then(|| {
            let m = metrics.clone();
            Cache::builder()
                .max_capacity(c.result_bytes)
                .weigher(|k: &ResultKey, v: &Arc<Rendered>| {
                    weight(v.bytes.len(), k.canonical.len() + k.source.key.len())
                })
                .time_to_live(Duration::from_secs(c.result_ttl_secs.max(1)))
                .support_invalidation_closures()
                .eviction_listener(move |_, _, cause| {
                    if cause.was_evicted() {
                        m.cache_evicted("result");
                    }
                })
                .build()
        });
        Caches {
            revalidating: Leaders::default(),
            rendering: Leaders::default(),
            known: Cache::builder()
                .max_capacity(KNOWN_ENTRIES)
                // Never shorter than their freshness: remembered answers
                // read validators without touching the cache, so an entry
                // must not idle out while still fresh.
                .time_to_idle(fresh_for.max(Duration::from_secs(3600)))
                // Every way out (replaced, invalidated, expired, evicted);
                // moka calls this as it replaces or invalidates.
                .eviction_listener(|_, known: Arc<Known>, _| {
                    known.dropped.store(true, Ordering::Release);
                })
                .build(),
            sources,
            results,
            fresh_for,
            metrics,
            writes: AtomicU64::new(0),
        }
    }

    /// Whether answers may be remembered (`hits.rs`): results are held,
    /// and validators trusted for a while.
    pub fn remembers(&self) -> bool {
        self.results.is_some() && !self.fresh_for.is_zero()
    }

    /// Writes through the proxy so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    /// Whether `known` is still the source's trusted validators at `now`:
    /// the very entry the validator cache holds, and still fresh. No
    /// lookup: the cache flags what it lets go of (a remembered answer
    /// asks this on every hit).
    pub fn still_current(&self, known: &Known, now: Instant) -> bool {
        !known.dropped.load(Ordering::Acquire) && known.fresh_at(self.fresh_for, now)
    }

    /// Counts a result served from memory without a lookup here.
    pub fn count_hit(&self) {
        self.metrics.cache_lookup("result", true);
    }

    /// The source's current validators, and its bytes if finding them out
    /// meant reading them. `check(previous)` asks the upstream; it runs at
    /// most once at a time per key, and not at all while the known
    /// validators are fresh.
    pub async fn validators<F, Fut>(
        &self,
        id: &SourceId,
        check: F,
    ) -> Result<(Arc<Known>, Option<Bytes>), ApiError>
    where
        F: FnOnce(Option<Arc<Known>>) -> Fut,
        Fut: Future<Output = Result<Revalidated, ApiError>>,
    {
        // Callers look at `fresh` first (they decide whether to take a place
        // in line on it); a key that turned fresh meanwhile is a `Nop` below.
        let mut read = None;
        let fresh_for = self.fresh_for;
        let outcome = self
            .known
            .entry_by_ref(id)
            .and_try_compute_with(|current| {
                let current = current.map(|e| e.into_value());
                let read = &mut read;
                async move {
                    // Another request revalidated while this one waited.
                    if let Some(k) = &current
                        && k.fresh_at(fresh_for, Instant::now())
                    {
                        return Ok::<_, ApiError>(Op::Nop);
                    }
                    let _leading = self.revalidating.lead(id);
                    Ok(match check(current.clone()).await? {
                        Revalidated::Same => {
                            let (etag, last_modified) = current
                                .map(|k| (k.etag.clone(), k.last_modified.clone()))
                                .unwrap_or_default();
                            Op::Put(Arc::new(Known::new(etag, last_modified)))
                        }
                        Revalidated::New(known, bytes) => {
                            *read = Some(bytes);
                            Op::Put(Arc::new(known))
                        }
                    })
                }
            })
            .await?;
        let known = match outcome {
            CompResult::Inserted(e) | CompResult::ReplacedWith(e) | CompResult::Unchanged(e) => {
                e.into_value()
            }
            // `check` never asks for removal.
            CompResult::StillNone(_) | CompResult::Removed(_) => Arc::new(Known::new(None, None)),
        };
        if let (Some(bytes), Some(etag), Some(sources)) = (&read, &known.etag, &self.sources) {
            sources
                .insert((id.clone(), etag.clone()), bytes.clone())
                .await;
        }
        Ok((known, read))
    }

    /// Forgets everything held for one object, at once: after a write
    /// through the proxy, the next request asks the upstream again, and no
    /// source or result of an older version is served (moka hides entries
    /// a predicate matches from reads before it removes them).
    pub async fn invalidate(&self, id: &SourceId) {
        self.writes.fetch_add(1, Ordering::AcqRel);
        self.known.invalidate(id).await;
        if let Some(sources) = &self.sources {
            let id = id.clone();
            if let Err(e) = sources.invalidate_entries_if(move |(k, _), _| *k == id) {
                tracing::warn!(error = %e, "cannot drop cached sources");
            }
        }
        if let Some(results) = &self.results {
            let id = id.clone();
            if let Err(e) = results.invalidate_entries_if(move |k, _| k.source == id) {
                tracing::warn!(error = %e, "cannot drop cached results");
            }
        }
    }

    /// The source's validators if they are trusted without asking.
    pub async fn fresh(&self, id: &SourceId) -> Option<Arc<Known>> {
        self.known
            .get(id)
            .await
            .filter(|k| k.fresh_at(self.fresh_for, Instant::now()))
    }

    /// The result if it is held (counted as a hit); a miss is counted by
    /// [`Caches::result`], which the caller goes on to.
    pub async fn held_result(&self, key: &ResultKey) -> Option<Arc<Rendered>> {
        let hit = self.results.as_ref()?.get(key).await?;
        self.count_hit();
        Some(hit)
    }

    /// Whether another request is revalidating this source now.
    pub fn revalidating(&self, id: &SourceId) -> bool {
        self.revalidating.contains(id)
    }

    /// Whether another request is rendering this result now.
    pub fn rendering(&self, key: &ResultKey) -> bool {
        self.rendering.contains(key)
    }

    /// Whether the bytes of this version are held.
    pub fn has_source(&self, id: &SourceId, etag: &str) -> bool {
        match &self.sources {
            Some(s) => s.contains_key(&(id.clone(), etag.to_owned())),
            None => false,
        }
    }

    /// The source's bytes: from the cache, or from `fetch` (once for
    /// concurrent callers) and kept.
    pub async fn source<Fut>(
        &self,
        id: &SourceId,
        etag: Option<&str>,
        fetch: Fut,
    ) -> Result<Bytes, ApiError>
    where
        Fut: Future<Output = Result<Bytes, ApiError>>,
    {
        let (Some(sources), Some(etag)) = (&self.sources, etag) else {
            return fetch.await;
        };
        let key = (id.clone(), etag.to_owned());
        if let Some(bytes) = sources.get(&key).await {
            self.metrics.cache_lookup("source", true);
            return Ok(bytes);
        }
        self.metrics.cache_lookup("source", false);
        sources
            .try_get_with(key, fetch)
            .await
            .map_err(|e| ApiError::clone(&e))
    }

    /// The rendered result: from the cache, or computed by `render` once for
    /// concurrent identical requests and kept if it succeeded.
    ///
    /// `render` makes the work's future only on a miss, and that future is
    /// boxed: the whole render path's state is large, and a hit (the common
    /// case) would otherwise copy it several times as the futures that
    /// carry it are built and moved.
    pub async fn result<Fut>(
        &self,
        key: Option<ResultKey>,
        render: impl FnOnce() -> Fut,
    ) -> Result<(Arc<Rendered>, Outcome), ApiError>
    where
        Fut: Future<Output = Result<Arc<Rendered>, ApiError>>,
    {
        let (Some(results), Some(key)) = (&self.results, key) else {
            return Ok((Box::pin(render()).await?, Outcome::Bypass));
        };
        if let Some(hit) = results.get(&key).await {
            self.metrics.cache_lookup("result", true);
            return Ok((hit, Outcome::Hit));
        }
        self.metrics.cache_lookup("result", false);
        let ran = AtomicBool::new(false);
        let leading = key.clone();
        let render = Box::pin(async {
            ran.store(true, Ordering::Relaxed);
            let _leading = self.rendering.lead(&leading);
            render().await
        });
        let rendered = results
            .try_get_with(key, render)
            .await
            .map_err(|e| ApiError::clone(&e))?;
        let outcome = if ran.load(Ordering::Relaxed) {
            Outcome::Miss
        } else {
            Outcome::Shared
        };
        Ok((rendered, outcome))
    }

    /// Bytes held by each cache, for `/metrics` (pending bookkeeping is
    /// settled first so the figures are current).
    pub async fn sizes(&self) -> [(&'static str, u64); 2] {
        let mut out = [("source", 0), ("result", 0)];
        if let Some(c) = &self.sources {
            c.run_pending_tasks().await;
            out[0].1 = c.weighted_size();
        }
        if let Some(c) = &self.results {
            c.run_pending_tasks().await;
            out[1].1 = c.weighted_size();
        }
        out
    }
}

/// Keys some request is working on; an entry lives as long as its guard.
#[derive(Debug)]
struct Leaders<K>(std::sync::Mutex<std::collections::HashSet<K>>);

impl<K> Default for Leaders<K> {
    fn default() -> Self {
        Leaders(std::sync::Mutex::new(std::collections::HashSet::new()))
    }
}

impl<K: std::hash::Hash + Eq + Clone> Leaders<K> {
    fn set(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<K>> {
        // A set of keys stays valid whatever panicked.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn contains(&self, key: &K) -> bool {
        self.set().contains(key)
    }

    fn lead(&self, key: &K) -> Leading<'_, K> {
        self.set().insert(key.clone());
        Leading {
            leaders: self,
            key: key.clone(),
        }
    }
}

/// Removes its key when the work ends, however it ends.
struct Leading<'a, K: std::hash::Hash + Eq + Clone> {
    leaders: &'a Leaders<K>,
    key: K,
}

impl<K: std::hash::Hash + Eq + Clone> Drop for Leading<'_, K> {
    fn drop(&mut self) {
        self.leaders.set().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caches(fresh_ms: u64) -> Caches {
        let config = CacheConfig {
            source_fresh_ms: fresh_ms,
            ..CacheConfig::default()
        };
        Caches::new(&config, Arc::new(Metrics::new()))
    }

    fn id() -> SourceId {
        SourceId {
            bucket: "photos".into(),
            key: "a.jpg".into(),
        }
    }

    async fn learn(c: &Caches, etag: &str) -> Arc<Known> {
        let known = Known::new(Some(etag.into()), None);
        let (known, _) = c
            .validators(&id(), |_| async move {
                Ok(Revalidated::New(known, Bytes::from_static(b"x")))
            })
            .await
            .unwrap();
        known
    }

    #[tokio::test]
    async fn validators_let_go_of_are_no_longer_current() {
        let c = caches(60_000);
        let first = learn(&c, "\"v1\"").await;
        assert!(c.still_current(&first, Instant::now()));
        // Past its freshness it is not current, though still held.
        assert!(!c.still_current(&first, Instant::now() + Duration::from_secs(61)));
        // A write through the proxy forgets it.
        c.invalidate(&id()).await;
        assert!(!c.still_current(&first, Instant::now()));

        // A revalidation that finds a new version replaces it.
        let c = caches(1);
        let old = learn(&c, "\"v1\"").await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        let new = learn(&c, "\"v2\"").await;
        assert_eq!(new.etag.as_deref(), Some("\"v2\""));
        assert!(old.dropped.load(Ordering::Acquire));
        assert!(!new.dropped.load(Ordering::Acquire));
    }
}
