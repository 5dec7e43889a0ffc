//! A bucket's styles: those of the configuration file, and those put
//! through the style API (`api.rs`), stored in the bucket (`stored.rs`) so
//! that every replica serves the same ones. Each replica re-reads the
//! styles object at most once per `server.styles_refresh_ms`, with one
//! conditional GET; a configured style wins over a stored one of the same
//! name.

pub mod api;
pub mod reserved;
pub mod stored;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use pixgate_api::Plan;
use pixgate_api::dialect::Dialect;
use pixgate_origin::Origin;

use stored::{Loaded, StoredStyle};

/// Where a bucket keeps its stored styles unless configured otherwise.
pub const DEFAULT_OBJECT: &str = ".pixgate/styles.json";

/// Why the styles object could not be changed.
#[derive(Debug)]
pub enum StoreError {
    /// Reading it failed (the message is for the log).
    Read(String),
    Write(pixgate_origin::OriginError),
}

/// The styles a request sees.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// name -> content, configured and stored (style separators look names
    /// up here).
    pub contents: BTreeMap<String, String>,
    /// name -> plan of every style that parses.
    pub plans: BTreeMap<String, Plan>,
    /// The stored styles as read, and the styles object's ETag.
    pub stored: Vec<StoredStyle>,
    pub etag: Option<String>,
}

#[derive(Debug)]
pub struct Styles {
    /// name -> (content, plan), parsed when the configuration loaded.
    configured: BTreeMap<String, (String, Plan)>,
    /// When the configuration was loaded: the configured styles' times.
    loaded_at: String,
    object: String,
    refresh: Duration,
    dialects: Vec<&'static dyn Dialect>,
    /// The origin beneath the reserved-key guard.
    origin: Arc<dyn Origin>,
    current: RwLock<Arc<Snapshot>>,
    /// When the styles object was last read; held while it is read, so
    /// concurrent requests wait for one GET instead of each sending one.
    checked: tokio::sync::Mutex<Option<Instant>>,
    /// One style write at a time in this process (read, change, write).
    writing: tokio::sync::Mutex<()>,
}

impl Styles {
    pub fn new(
        configured: BTreeMap<String, (String, Plan)>,
        object: String,
        refresh: Duration,
        dialects: Vec<&'static dyn Dialect>,
        origin: Arc<dyn Origin>,
    ) -> Styles {
        let styles = Styles {
            configured,
            loaded_at: httpdate::fmt_http_date(std::time::SystemTime::now()),
            object,
            refresh,
            dialects,
            origin,
            current: RwLock::default(),
            checked: tokio::sync::Mutex::new(None),
            writing: tokio::sync::Mutex::new(()),
        };
        let first = styles.merge(Vec::new(), None);
        *styles.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(first);
        styles
    }

    /// The styles object's key.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The styles as of at most one refresh interval ago.
    pub async fn current(&self) -> Arc<Snapshot> {
        let mut checked = self.checked.lock().await;
        if checked.is_some_and(|t| t.elapsed() < self.refresh) {
            return self.snapshot();
        }
        self.reload().await;
        *checked = Some(Instant::now());
        self.snapshot()
    }

    /// A style's plan: `None` when the bucket has no such style.
    pub async fn plan(&self, name: &str) -> Option<Plan> {
        self.current().await.plans.get(name).cloned()
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn publish(&self, snapshot: Snapshot) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
    }

    /// One conditional GET; on failure the styles already known stay.
    async fn reload(&self) {
        let old = self.snapshot();
        match stored::load(&*self.origin, &self.object, old.etag.as_deref()).await {
            Ok(Loaded::Unchanged) => {}
            Ok(Loaded::Found { etag, styles }) => self.publish(self.merge(styles, etag)),
            Err(e) => tracing::warn!(
                object = %self.object,
                error = %e,
                "could not read the bucket's styles object; keeping the styles known"
            ),
        }
    }

    /// The configured styles over the stored ones.
    fn merge(&self, stored: Vec<StoredStyle>, etag: Option<String>) -> Snapshot {
        let mut snap = Snapshot {
            etag,
            ..Snapshot::default()
        };
        for s in &stored {
            if self.configured.contains_key(&s.name) {
                continue;
            }
            match crate::config::style_plan(&s.content, &self.dialects) {
                Ok(plan) => {
                    snap.plans.insert(s.name.clone(), plan);
                }
                // Written by a replica whose buckets read other dialects:
                // listed, but answered NoSuchStyle here.
                Err(e) => {
                    tracing::warn!(style = %s.name, error = %e, "a stored style does not parse here");
                }
            }
            snap.contents.insert(s.name.clone(), s.content.clone());
        }
        for (name, (content, plan)) in &self.configured {
            snap.contents.insert(name.clone(), content.clone());
            snap.plans.insert(name.clone(), plan.clone());
        }
        snap.stored = stored;
        snap
    }

    /// Every style as the style API reports it: stored ones with their
    /// times, configured ones with the time the configuration was loaded.
    pub fn records(&self, snap: &Snapshot) -> Vec<pixgate_api::dialect::style_api::StyleRecord> {
        let mut out: BTreeMap<&str, pixgate_api::dialect::style_api::StyleRecord> = BTreeMap::new();
        for s in &snap.stored {
            out.insert(
                &s.name,
                pixgate_api::dialect::style_api::StyleRecord {
                    name: s.name.clone(),
                    content: s.content.clone(),
                    created: s.created.clone(),
                    modified: s.modified.clone(),
                },
            );
        }
        for (name, (content, _)) in &self.configured {
            out.insert(
                name,
                pixgate_api::dialect::style_api::StyleRecord {
                    name: name.clone(),
                    content: content.clone(),
                    created: self.loaded_at.clone(),
                    modified: self.loaded_at.clone(),
                },
            );
        }
        out.into_values().collect()
    }

    pub fn is_configured(&self, name: &str) -> bool {
        self.configured.contains_key(name)
    }

    pub fn configured_count(&self) -> usize {
        self.configured.len()
    }

    pub fn dialects(&self) -> &[&'static dyn Dialect] {
        &self.dialects
    }

    /// Changes the stored styles: reads the object fresh, applies `change`
    /// to its list, writes it back, and serves the result at once.
    pub async fn update<E>(
        &self,
        change: impl FnOnce(&mut Vec<StoredStyle>) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<StoreError>,
    {
        let _one = self.writing.lock().await;
        // Unconditional: another replica may have written since.
        let loaded = stored::load(&*self.origin, &self.object, None)
            .await
            .map_err(StoreError::Read)?;
        let mut styles = match loaded {
            Loaded::Found { styles, .. } => styles,
            Loaded::Unchanged => self.snapshot().stored.clone(),
        };
        change(&mut styles)?;
        let etag = stored::save(&*self.origin, &self.object, &styles)
            .await
            .map_err(StoreError::Write)?;
        self.publish(self.merge(styles, etag));
        *self.checked.lock().await = Some(Instant::now());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use futures_util::future::BoxFuture;
    use pixgate_origin::{
        Copied, CopyObject, Fetched, ListRequest, Listing, Object, ObjectMeta, ObjectRequest,
        OriginError, PutObject, Written,
    };
    use std::sync::Mutex;

    /// One object in memory; counts fetches and what they sent.
    #[derive(Debug, Default)]
    struct Memory {
        object: Mutex<Option<(String, Vec<u8>)>>,
        fetches: Mutex<Vec<Option<String>>>,
    }

    impl Origin for Memory {
        fn fetch<'a>(
            &'a self,
            req: &'a ObjectRequest,
        ) -> BoxFuture<'a, Result<Object, OriginError>> {
            Box::pin(async move {
                self.fetches.lock().unwrap().push(req.if_none_match.clone());
                let Some((etag, bytes)) = self.object.lock().unwrap().clone() else {
                    return Err(OriginError::NoSuchKey);
                };
                let meta = ObjectMeta {
                    etag: Some(etag.clone()),
                    ..ObjectMeta::default()
                };
                if req.if_none_match.as_deref() == Some(etag.as_str()) {
                    return Ok(Object {
                        fetched: Fetched::NotModified,
                        meta,
                        body: None,
                    });
                }
                let body: pixgate_origin::ByteStream =
                    Box::pin(futures_util::stream::once(async move {
                        Ok(bytes::Bytes::from(bytes))
                    }));
                Ok(Object {
                    fetched: Fetched::Full,
                    meta,
                    body: Some(body),
                })
            })
        }

        fn check(&self) -> BoxFuture<'_, Result<(), OriginError>> {
            Box::pin(async { Ok(()) })
        }

        fn put(&self, mut req: PutObject) -> BoxFuture<'_, Result<Written, OriginError>> {
            Box::pin(async move {
                let mut bytes = Vec::new();
                while let Some(chunk) = req.body.next().await {
                    bytes.extend_from_slice(&chunk.unwrap());
                }
                let mut object = self.object.lock().unwrap();
                let n = object.as_ref().map_or(0, |o| o.0.len());
                let etag = format!("\"{}\"", "e".repeat(n + 1));
                *object = Some((etag.clone(), bytes));
                Ok(Written {
                    etag: Some(etag),
                    ..Written::default()
                })
            })
        }

        fn delete<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, Result<(), OriginError>> {
            Box::pin(async { Ok(()) })
        }

        fn list<'a>(
            &'a self,
            _req: &'a ListRequest,
        ) -> BoxFuture<'a, Result<Listing, OriginError>> {
            Box::pin(async { Ok(Listing::default()) })
        }

        fn copy<'a>(&'a self, _req: &'a CopyObject) -> BoxFuture<'a, Result<Copied, OriginError>> {
            Box::pin(async { Err(OriginError::Unsupported("no copies")) })
        }
    }

    fn store(origin: Arc<Memory>, refresh: Duration) -> Styles {
        let dialects = pixgate_api::dialect::default_set().to_vec();
        let configured = [("cfg", "image/resize,w_5")]
            .into_iter()
            .map(|(n, c)| {
                let plan = crate::config::style_plan(c, &dialects).unwrap();
                (n.to_owned(), (c.to_owned(), plan))
            })
            .collect();
        Styles::new(configured, DEFAULT_OBJECT.into(), refresh, dialects, origin)
    }

    fn put(
        name: &str,
        content: &str,
    ) -> impl FnOnce(&mut Vec<StoredStyle>) -> Result<(), StoreError> {
        let style = StoredStyle {
            name: name.into(),
            content: content.into(),
            created: String::new(),
            modified: String::new(),
        };
        move |styles| {
            styles.push(style);
            Ok(())
        }
    }

    /// Within an interval, however many requests need styles, the object
    /// is read once.
    #[tokio::test]
    async fn one_read_per_interval_however_many_requests() {
        let origin = Arc::new(Memory::default());
        let styles = store(origin.clone(), Duration::from_secs(3600));
        let all = futures_util::future::join_all((0..20).map(|_| styles.current())).await;
        assert!(all.iter().all(|s| s.plans.contains_key("cfg")));
        assert_eq!(origin.fetches.lock().unwrap().len(), 1);
    }

    /// After the interval, the read is conditional on the ETag last seen,
    /// and a change another replica wrote is picked up.
    #[tokio::test]
    async fn rereads_are_conditional_and_see_other_writers() {
        let origin = Arc::new(Memory::default());
        let a = store(origin.clone(), Duration::ZERO);
        let b = store(origin.clone(), Duration::ZERO);
        a.update(put("one", "image/resize,w_10")).await.unwrap();
        let etag = origin.object.lock().unwrap().clone().unwrap().0;
        assert!(b.current().await.plans.contains_key("one"));
        origin.fetches.lock().unwrap().clear();
        assert!(b.current().await.plans.contains_key("one"));
        assert_eq!(*origin.fetches.lock().unwrap(), [Some(etag)]);
        // The configured style wins over a stored one of its name.
        a.update(put("cfg", "image/resize,w_99")).await.unwrap();
        let snap = b.current().await;
        assert_eq!(snap.contents["cfg"], "image/resize,w_5");
        assert_eq!(snap.plans.len(), 2);
    }

    /// A stored object that is not the styles JSON keeps the styles known.
    #[tokio::test]
    async fn an_unreadable_object_keeps_the_known_styles() {
        let origin = Arc::new(Memory::default());
        let styles = store(origin.clone(), Duration::ZERO);
        styles
            .update(put("one", "image/resize,w_10"))
            .await
            .unwrap();
        *origin.object.lock().unwrap() = Some(("\"x\"".into(), b"not json".to_vec()));
        assert!(styles.current().await.plans.contains_key("one"));
    }
}
