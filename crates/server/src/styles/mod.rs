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
