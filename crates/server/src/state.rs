//! Everything a request needs, built once from the configuration at start.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use pixgate_api::Plan;
use pixgate_api::dialect::Dialect;
use pixgate_codec::Limits;
use pixgate_origin::{LocalDir, Origin, S3Credentials, S3Origin, S3Settings};

use crate::admission::Admission;
use crate::cache::Caches;
use crate::config::{Acl, BucketConfig, Config, ConfigError, OriginSpec, ProtectConfig};
use crate::metrics::Metrics;
use crate::route::Addressing;
use crate::styles::Styles;
use crate::styles::reserved::Reserved;
use pixgate_ops::Fonts;

#[derive(Debug)]
pub struct Bucket {
    pub name: String,
    pub origin: Arc<dyn Origin>,
    pub acl: Acl,
    pub protect: ProtectConfig,
    pub auto_orient: bool,
    /// What a wide-gamut source becomes (`wide_gamut`).
    pub gamut: pixgate_codec::Gamut,
    pub separators: Vec<String>,
    /// Configured and stored styles (`styles/`).
    pub styles: Styles,
    /// The URL grammars it answers, in detection order.
    pub dialects: Vec<&'static dyn Dialect>,
    /// `Cache-Control` of processed results.
    pub cache_control: String,
    /// `Cache-Control` of originals; `None`: the upstream's passes through.
    pub original_cache_control: Option<String>,
    /// Accept negotiation's formats in order of preference; empty: off.
    pub negotiate: Vec<pixgate_api::Format>,
}

#[derive(Debug)]
pub struct AppState {
    pub addressing: Addressing,
    pub buckets: HashMap<String, Bucket>,
    pub limits: Limits,
    /// Access key id -> secret, for verifying client signatures.
    pub keys: HashMap<String, String>,
    pub admission: Admission,
    pub caches: Caches,
    /// Answers to repeated anonymous process URLs (`hits.rs`).
    pub hits: crate::hits::Hits,
    /// Fonts for text watermarks, found once at start.
    pub fonts: Arc<Fonts>,
    pub metrics: Arc<Metrics>,
    /// Set when the server stops waiting for in-flight work at shutdown:
    /// pixel work still running stops at its next check.
    pub cancel: Arc<AtomicBool>,
    /// Set at SIGTERM: readiness fails while the listener still accepts.
    pub draining: AtomicBool,
    /// `/metrics` and `/readyz` are on the admin listener, not the public one.
    pub admin_apart: bool,
}

impl AppState {
    /// `env` looks up process environment variables (the `AWS_*` credentials);
    /// passed in so tests never depend on the caller's environment.
    pub fn build(
        config: &Config,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AppState, ConfigError> {
        let metrics = Arc::new(Metrics::new());
        let mut buckets = HashMap::new();
        for (i, b) in config.buckets.iter().enumerate() {
            let raw = build_origin(config, b, &env).map_err(|message| ConfigError {
                key: format!("buckets[{i}]"),
                message,
            })?;
            // Clients never reach pixgate's own objects; the style store does.
            let origin: Arc<dyn Origin> = Arc::new(Reserved {
                inner: raw.clone(),
                styles_object: b.styles_object.clone(),
            });
            let dialects = b.dialect_set().map_err(|message| ConfigError {
                key: format!("buckets[{i}].dialects"),
                message,
            })?;
            buckets.insert(
                b.name.clone(),
                Bucket {
                    name: b.name.clone(),
                    origin,
                    acl: b.acl,
                    protect: b.protect.clone(),
                    auto_orient: b.auto_orient,
                    gamut: match b.wide_gamut {
                        crate::config::WideGamut::Srgb => pixgate_codec::Gamut::Srgb,
                        crate::config::WideGamut::Keep => pixgate_codec::Gamut::KeepWide,
                    },
                    separators: b.separators.clone(),
                    styles: Styles::new(
                        parse_styles(&b.styles, &dialects).map_err(|message| ConfigError {
                            key: format!("buckets[{i}].styles"),
                            message,
                        })?,
                        b.styles_object.clone(),
                        Duration::from_millis(config.server.styles_refresh_ms),
                        dialects.clone(),
                        raw,
                    ),
                    dialects,
                    negotiate: b.negotiate_formats().map_err(|message| ConfigError {
                        key: format!("buckets[{i}].negotiate"),
                        message,
                    })?,
                    cache_control: b
                        .cache_control
                        .clone()
                        .unwrap_or_else(|| config.server.cache_control.clone()),
                    original_cache_control: b
                        .original_cache_control
                        .clone()
                        .or_else(|| config.server.original_cache_control.clone()),
                },
            );
        }
        Ok(AppState {
            addressing: Addressing {
                domain: config
                    .server
                    .domain
                    .as_ref()
                    .map(|d| d.to_ascii_lowercase()),
                default_bucket: config.server.default_bucket.clone(),
                buckets: buckets.keys().cloned().collect(),
            },
            buckets,
            limits: config.limits,
            keys: config
                .keys
                .iter()
                .map(|k| (k.access_key_id.clone(), k.secret_access_key.clone()))
                .collect(),
            admission: Admission::new(&config.admission),
            caches: Caches::new(&config.cache, metrics.clone()),
            hits: Default::default(),
            fonts: Arc::new(config.watermark.fonts()),
            metrics,
            cancel: Arc::new(AtomicBool::new(false)),
            draining: AtomicBool::new(false),
            admin_apart: config.server.admin_listen.is_some(),
        })
    }
}

/// Each style's content and plan, in the first of the bucket's dialects
/// that reads it; validation has already refused bad ones, so an error
/// here only names the style.
fn parse_styles(
    styles: &BTreeMap<String, String>,
    dialects: &[&'static dyn Dialect],
) -> Result<BTreeMap<String, (String, Plan)>, String> {
    styles
        .iter()
        .map(|(name, content)| {
            let plan = crate::config::style_plan(content, dialects)
                .map_err(|e| format!("style '{name}': {e}"))?;
            Ok((name.clone(), (content.clone(), plan)))
        })
        .collect()
}

fn build_origin(
    config: &Config,
    b: &BucketConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Origin>, String> {
    match b.origin_spec() {
        Some(OriginSpec::Dir { path }) => LocalDir::new(&path)
            .map(|d| Arc::new(d) as Arc<dyn Origin>)
            .map_err(|e| format!("{}: {e}", path.display())),
        Some(OriginSpec::S3 { bucket }) => {
            let endpoint = b
                .endpoint
                .clone()
                .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", b.region));
            let credentials = match (&b.access_key_id, &b.secret_access_key) {
                (Some(id), Some(secret)) => Some(S3Credentials {
                    access_key_id: id.clone(),
                    secret_access_key: secret.clone(),
                    session_token: b.session_token.clone(),
                }),
                _ => match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
                    (Some(id), Some(secret)) => Some(S3Credentials {
                        access_key_id: id,
                        secret_access_key: secret,
                        session_token: env("AWS_SESSION_TOKEN"),
                    }),
                    _ => None,
                },
            };
            let up = &config.upstream;
            let settings = S3Settings {
                endpoint: endpoint
                    .parse()
                    .map_err(|_| format!("endpoint '{endpoint}' is not an URL"))?,
                region: b.region.clone(),
                bucket,
                path_style: b.path_style,
                credentials,
                connect_timeout: Duration::from_millis(up.connect_timeout_ms),
                read_timeout: Duration::from_millis(up.read_timeout_ms),
                pool_max_idle_per_host: up.pool_max_idle_per_host,
                resolve: b.resolve,
            };
            S3Origin::new(settings).map(|o| Arc::new(o) as Arc<dyn Origin>)
        }
        None => Err(format!("origin '{}' is not understood", b.origin)),
    }
}
