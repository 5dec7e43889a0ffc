//! Configuration: one struct per component, each with its defaults and its
//! `validate()`, layered defaults -> TOML file -> `PIXGATE__…` environment.

mod env;
mod locate;
mod validate;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use pixgate_api::Format;
use pixgate_api::dialect::{self, Dialect};
use serde::Deserialize;

pub use env::PREFIX as ENV_PREFIX;
pub use locate::{Origin, Problem, Problems};
pub use validate::{ConfigError, style_plan};

/// The whole configuration (`deploy/pixgate.example.toml` documents every key).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub upstream: UpstreamConfig,
    pub admission: AdmissionConfig,
    pub cache: CacheConfig,
    pub watermark: WatermarkConfig,
    pub telemetry: TelemetryConfig,
    /// SPEC §6: what one request may make the proxy read and allocate.
    pub limits: pixgate_codec::Limits,
    pub buckets: Vec<BucketConfig>,
    pub keys: Vec<KeyConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Virtual-host addressing: `<bucket>.<domain>`.
    pub domain: Option<String>,
    /// Single-bucket mode: `GET /<key>` reads this bucket.
    pub default_bucket: Option<String>,
    /// How long in-flight requests may finish after SIGTERM.
    pub shutdown_timeout_ms: u64,
    /// After SIGTERM, how long the listener keeps accepting (readiness
    /// already false) so load balancers stop sending first.
    pub pre_stop_ms: u64,
    /// `/metrics` and `/readyz` on this address only (not the public port).
    pub admin_listen: Option<SocketAddr>,
    /// `Cache-Control` of processed results.
    pub cache_control: String,
    /// `Cache-Control` of originals; unset: the upstream's passes through.
    pub original_cache_control: Option<String>,
    /// Open client connections at most; past it, the oldest idle one is
    /// closed to make room (503 when every one is working).
    pub max_connections: usize,
    /// From accept to a complete first request header (silent sockets, slow
    /// headers, HTTP/1 and h2c alike); later headers get as long.
    pub header_read_timeout_ms: u64,
    /// A keep-alive connection with nothing in progress is closed after this.
    pub idle_timeout_ms: u64,
    /// A client that takes no bytes of its response for this long is cut off.
    pub send_timeout_ms: u64,
    /// How often each bucket's styles object (styles put through the API)
    /// is re-read: one conditional GET per bucket per interval.
    pub styles_refresh_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            domain: None,
            default_bucket: None,
            shutdown_timeout_ms: 10_000,
            pre_stop_ms: 0,
            admin_listen: None,
            cache_control: "public, max-age=31536000".to_owned(),
            original_cache_control: None,
            max_connections: 4096,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            send_timeout_ms: 30_000,
            styles_refresh_ms: 10_000,
        }
    }
}

/// Admission control for processed requests: a bounded number are admitted
/// (each may hold its source bytes and pixels), of which `max_concurrent` do
/// pixel work at once; a bounded number wait, the rest get `503` with
/// `Retry-After`. Cached hits, originals and health checks never wait here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdmissionConfig {
    /// Worker slots for pixel work; 0 = the number of CPU cores.
    pub max_concurrent: usize,
    /// Requests admitted beyond the workers, which download their sources
    /// while every worker is busy; unset = as many as workers, 0 = none.
    pub prefetch: Option<usize>,
    /// Processed requests waiting for a slot.
    pub max_queued: usize,
    /// A processed request that takes longer is abandoned (503).
    pub request_timeout_ms: u64,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            max_concurrent: 0,
            prefetch: None,
            max_queued: 64,
            request_timeout_ms: 30_000,
        }
    }
}

/// The result cache (processed bytes) and the source cache (upstream bytes
/// and validators), both in memory and bounded in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Processed results kept, in bytes; 0 turns the result cache off.
    pub result_bytes: u64,
    /// A processed result is recomputed at the latest after this long.
    pub result_ttl_secs: u64,
    /// Source objects kept, in bytes; 0 turns the source cache off.
    pub source_bytes: u64,
    /// For this long after the upstream confirmed a source's ETag, the proxy
    /// trusts it without asking again; later it revalidates (`If-None-Match`).
    pub source_fresh_ms: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            result_bytes: 256 << 20,
            result_ttl_secs: 86_400,
            source_bytes: 128 << 20,
            source_fresh_ms: 5_000,
        }
    }
}

/// Text watermarks: where the font files are.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatermarkConfig {
    /// Directories searched (a few levels deep) for the fonts the service
    /// names: wqy-zenhei.ttc, wqy-microhei.ttc, DroidSansFallbackFull.ttf,
    /// NotoSans-Regular.ttf.
    pub font_dirs: Vec<PathBuf>,
    /// Fonts tried, in order, for characters the requested font lacks
    /// (known names, font file names under `font_dirs`, or absolute paths).
    pub fallback_fonts: Vec<String>,
}

impl Default for WatermarkConfig {
    fn default() -> Self {
        WatermarkConfig {
            font_dirs: vec![PathBuf::from("/usr/share/fonts")],
            fallback_fonts: pixgate_ops::DEFAULT_FALLBACKS
                .iter()
                .map(|f| (*f).to_owned())
                .collect(),
        }
    }
}

impl WatermarkConfig {
    /// The fonts it names, found once.
    pub fn fonts(&self) -> pixgate_ops::Fonts {
        pixgate_ops::Fonts::with_fallbacks(&self.font_dirs, &self.fallback_fonts)
    }
}

/// Trace export (OpenTelemetry over OTLP/HTTP); off unless an endpoint is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// e.g. `http://otel-collector:4318/v1/traces`; unset = no export.
    pub otlp_endpoint: Option<String>,
    /// The `service.name` resource attribute of exported spans.
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            otlp_endpoint: None,
            service_name: "pixgate".to_owned(),
        }
    }
}

/// How the proxy talks to S3 upstreams (shared by every S3 bucket).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    pub connect_timeout_ms: u64,
    /// Longest silence while waiting for response headers or body bytes.
    pub read_timeout_ms: u64,
    /// Idle keep-alive connections kept per upstream host.
    pub pool_max_idle_per_host: usize,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            connect_timeout_ms: 3_000,
            read_timeout_ms: 30_000,
            pool_max_idle_per_host: 64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Acl {
    #[default]
    PublicRead,
    Private,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtectConfig {
    pub enabled: bool,
    /// Lower-case suffixes without the dot.
    pub suffixes: Vec<String>,
}

impl Default for ProtectConfig {
    fn default() -> Self {
        ProtectConfig {
            enabled: false,
            suffixes: [
                "jpg", "jpeg", "png", "webp", "gif", "bmp", "tiff", "heic", "avif", "jxl", "svg",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// The name clients use (path style, virtual host, default bucket).
    pub name: String,
    /// `s3://<upstream bucket>` or `file:///absolute/dir`.
    pub origin: String,
    /// S3 endpoint `http(s)://host[:port]`; AWS's regional endpoint when absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default = "yes")]
    pub path_style: bool,
    /// Both or neither; when neither, `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
    /// (and `AWS_SESSION_TOKEN`) are used if set, else requests go unsigned.
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub secret_access_key: Option<String>,
    #[serde(default)]
    pub session_token: Option<String>,
    /// Connect to this address instead of resolving the endpoint's host.
    #[serde(default)]
    pub resolve: Option<SocketAddr>,
    #[serde(default)]
    pub acl: Acl,
    #[serde(default = "yes")]
    pub auto_orient: bool,
    #[serde(default = "default_separators")]
    pub separators: Vec<String>,
    #[serde(default)]
    pub protect: ProtectConfig,
    #[serde(default)]
    pub styles: BTreeMap<String, String>,
    /// The object in the bucket that keeps styles put through the style API
    /// (never served as an ordinary object).
    #[serde(default = "default_styles_object")]
    pub styles_object: String,
    /// The URL grammars the bucket answers, by dialect name; absent: every
    /// dialect whose requests cannot be mistaken for another's.
    #[serde(default)]
    pub dialects: Option<Vec<String>>,
    /// This bucket's `Cache-Control` of processed results (else the server's).
    #[serde(default)]
    pub cache_control: Option<String>,
    /// This bucket's `Cache-Control` of originals (else the server's).
    #[serde(default)]
    pub original_cache_control: Option<String>,
    /// Accept negotiation: formats (`avif`, `webp`) that replace the
    /// source's format when a processed request names none and the client's
    /// `Accept` lists them, in this order of preference. Empty: off.
    #[serde(default)]
    pub negotiate: Vec<String>,
    /// What happens to a wide-gamut source (Display P3, Adobe RGB…).
    #[serde(default)]
    pub wide_gamut: WideGamut,
}

/// `wide_gamut`: convert to sRGB (what the clouds answer and what viewers
/// without colour management expect), or keep the samples with their ICC
/// profile embedded in JPEG, PNG, WebP, AVIF, HEIC and TIFF outputs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WideGamut {
    #[default]
    Srgb,
    Keep,
}

fn default_styles_object() -> String {
    crate::styles::DEFAULT_OBJECT.to_owned()
}

/// Formats a bucket may negotiate: the ones browsers announce in `Accept`
/// and that are worth converting to.
pub const NEGOTIABLE: [Format; 2] = [Format::Avif, Format::Webp];

impl BucketConfig {
    /// The `negotiate` list as formats, refusing unknown names and repeats.
    pub fn negotiate_formats(&self) -> Result<Vec<Format>, String> {
        let mut out = Vec::new();
        for name in &self.negotiate {
            let f = Format::parse(name)
                .filter(|f| NEGOTIABLE.contains(f) && f.as_str() == name)
                .ok_or_else(|| {
                    format!("'{name}' cannot be negotiated; use some of \"avif\", \"webp\"")
                })?;
            if out.contains(&f) {
                return Err(format!("'{name}' is listed twice"));
            }
            out.push(f);
        }
        Ok(out)
    }

    /// The bucket's dialects, in detection order.
    pub fn dialect_set(&self) -> Result<Vec<&'static dyn Dialect>, String> {
        match &self.dialects {
            None => Ok(dialect::default_set().to_vec()),
            Some(names) if names.is_empty() => {
                Err("names no dialect; leave it out for the default set".to_owned())
            }
            Some(names) => dialect::named_set(names).map_err(|unknown| {
                let known: Vec<_> = dialect::DIALECTS.iter().map(|d| d.name()).collect();
                format!("'{unknown}' is not a dialect; use some of {known:?}")
            }),
        }
    }
}

impl std::fmt::Debug for BucketConfig {
    // Secrets never reach a log line, even at debug level.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BucketConfig")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .field("access_key_id", &self.access_key_id)
            .field("acl", &self.acl)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyConfig")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

fn yes() -> bool {
    true
}

fn default_separators() -> Vec<String> {
    vec!["@!".to_owned()]
}

/// Where a bucket's objects live, parsed from `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginSpec {
    S3 { bucket: String },
    Dir { path: PathBuf },
}

impl BucketConfig {
    pub fn origin_spec(&self) -> Option<OriginSpec> {
        if let Some(bucket) = self.origin.strip_prefix("s3://") {
            return Some(OriginSpec::S3 {
                bucket: bucket.trim_end_matches('/').to_owned(),
            });
        }
        self.origin
            .strip_prefix("file://")
            .map(|path| OriginSpec::Dir {
                path: PathBuf::from(path),
            })
    }
}

impl Config {
    /// `serve --root DIR`: DIR is the public-read bucket `local`, served in
    /// single-bucket mode and path style (SPEC §9). The same layering as a
    /// file: defaults, this configuration, then `PIXGATE__…` from `vars`
    /// (so a container is configured from its environment alone).
    pub fn embedded(
        root: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        Config::embedded_all(root, vars).map_err(first)
    }

    /// [`Config::embedded`] with every problem, each naming the variable
    /// that caused it where one did.
    pub fn embedded_all(
        root: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Problems> {
        let source = "--root".to_owned();
        let root = std::fs::canonicalize(root).map_err(|e| {
            Problems::one(
                source.clone(),
                ConfigError {
                    key: "--root".to_owned(),
                    message: format!("{}: {e}", root.display()),
                },
            )
        })?;
        let origin = toml::Value::String(format!("file://{}", root.display()));
        let text = format!(
            "[server]\ndefault_bucket = \"local\"\n[[buckets]]\nname = \"local\"\norigin = {origin}\n"
        );
        // The built-in text's lines mean nothing to the user: only the
        // variables are pointed at.
        Config::check(&text, vars, false).map_err(|list| Problems { file: source, list })
    }

    /// Reads a TOML file, applies `PIXGATE__…` overrides from `vars`,
    /// validates; the first problem.
    pub fn load(
        path: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        Config::load_all(path, vars).map_err(first)
    }

    /// [`Config::load`] with every problem, each with its line in the file
    /// or the variable that set it.
    pub fn load_all(
        path: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Problems> {
        let source = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Problems::one(
                source.clone(),
                ConfigError {
                    key: source.clone(),
                    message: format!("cannot read the configuration file: {e}"),
                },
            )
        })?;
        Config::check(&text, vars, true).map_err(|list| Problems { file: source, list })
    }

    /// A configuration from `PIXGATE__…` variables alone (no file): what a
    /// container configured only by its environment runs.
    pub fn from_env_all(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, Problems> {
        Config::check("", vars, false).map_err(|list| Problems {
            file: "the environment".to_owned(),
            list,
        })
    }

    /// A configuration from TOML text and `PIXGATE__…` variables; the first
    /// problem (the one a serde error message would name).
    pub fn from_toml(
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        Config::check(text, vars, true).map_err(|mut list| list.remove(0).error)
    }

    /// Every problem at once: the TOML syntax (one: parsing stops there),
    /// then each unusable variable, each key serde refuses, and each rule
    /// the typed configuration breaks. `lines`: point at lines of `text`.
    ///
    /// serde stops at the first bad key, so a refused key is taken out
    /// (its default applies) or a missing one filled with a placeholder,
    /// and typing is tried again; rules about a key that was repaired are
    /// not reported on top of its own problem.
    pub fn check(
        text: &str,
        vars: impl IntoIterator<Item = (String, String)>,
        lines: bool,
    ) -> Result<Config, Vec<Problem>> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| {
            let origin = match e.span() {
                Some(span) if lines => Origin::Line(
                    text.get(..span.start)
                        .map_or(0, |b| b.matches('\n').count())
                        + 1,
                ),
                _ => Origin::Unknown,
            };
            vec![Problem {
                error: ConfigError {
                    key: "(file)".to_owned(),
                    message: format!(
                        "not valid TOML: {}",
                        e.message().trim().lines().collect::<Vec<_>>().join("; ")
                    ),
                },
                origin,
            }]
        })?;
        let (env_problems, origins) = env::apply_overrides(&mut value, vars);
        let locator = match lines {
            true => locate::Locator::new(text),
            false => locate::Locator::default(),
        }
        .with_vars(origins);
        let mut problems: Vec<Problem> = env_problems
            .into_iter()
            .map(|error| Problem {
                origin: Origin::Var(error.key.clone()),
                error,
            })
            .collect();
        let mut repaired: Vec<String> = Vec::new();
        // Each round repairs one key; a file has far fewer bad keys.
        let mut typed = None;
        for _ in 0..256 {
            match serde_path_to_error::deserialize::<_, Config>(value.clone()) {
                Ok(config) => {
                    typed = Some(config);
                    break;
                }
                Err(e) => {
                    let path: Vec<serde_path_to_error::Segment> =
                        e.path().iter().cloned().collect();
                    // Without toml's own "in `key`" suffix: the key is named anyway.
                    let message = e.inner().message().to_owned();
                    let Some((key, error)) = repair(&mut value, &path, &message) else {
                        problems.push(locator.locate(ConfigError {
                            key: e.path().to_string(),
                            message,
                        }));
                        break;
                    };
                    problems.push(locator.locate(error));
                    repaired.push(key);
                }
            }
        }
        if let Some(config) = &typed {
            let covered = |key: &str| {
                repaired.iter().any(|r| {
                    key == r
                        || key
                            .strip_prefix(r.as_str())
                            .is_some_and(|rest| rest.starts_with(['.', '[']))
                })
            };
            problems.extend(
                config
                    .problems()
                    .into_iter()
                    .filter(|e| !covered(&e.key))
                    .map(|e| locator.locate(e)),
            );
        }
        // In the file's order, then the environment's, then the rest.
        problems.sort_by_key(|p| match &p.origin {
            Origin::Line(n) => (0, *n),
            Origin::Var(_) => (1, 0),
            Origin::Unknown => (2, 0),
        });
        match (typed, problems.is_empty()) {
            (Some(config), true) => Ok(config),
            _ => Err(problems),
        }
    }
}

fn first(mut problems: Problems) -> ConfigError {
    problems.list.remove(0).error
}

/// Makes the key serde refused at `path` acceptable: a missing field gets
/// a placeholder, anything else is removed (the nearest table key holding
/// it, so array indices of other elements do not shift). Returns the
/// repaired key and the problem to report; `None` when nothing changed.
fn repair(
    value: &mut toml::Value,
    path: &[serde_path_to_error::Segment],
    message: &str,
) -> Option<(String, ConfigError)> {
    use serde_path_to_error::Segment;
    let key_of = |segments: &[Segment]| {
        let mut key = String::new();
        for s in segments {
            match s {
                Segment::Seq { index } => key.push_str(&format!("[{index}]")),
                other => {
                    if !key.is_empty() {
                        key.push('.');
                    }
                    key.push_str(&other.to_string());
                }
            }
        }
        key
    };
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        let table = walk_mut(value, path)?.as_table_mut()?;
        if table.contains_key(field) {
            return None;
        }
        let key = match key_of(path) {
            k if k.is_empty() => field.to_owned(),
            k => format!("{k}.{field}"),
        };
        // Unique per key, and a valid bucket name should it become one.
        let placeholder: String = key
            .chars()
            .map(|c| match c {
                'a'..='z' | '0'..='9' => c,
                _ => '-',
            })
            .collect();
        table.insert(
            field.to_owned(),
            toml::Value::String(format!("missing-{}", placeholder.trim_matches('-'))),
        );
        let error = ConfigError {
            key: key.clone(),
            message: "is required and missing".to_owned(),
        };
        return Some((key, error));
    }
    let error = ConfigError {
        key: key_of(path),
        message: message.to_owned(),
    };
    // The nearest key that is a table entry: removing it lets its default apply.
    let end = path
        .iter()
        .rposition(|s| matches!(s, Segment::Map { .. }))?;
    let Segment::Map { key: name } = &path[end] else {
        return None;
    };
    walk_mut(value, &path[..end])?
        .as_table_mut()?
        .remove(name)?;
    Some((key_of(&path[..=end]), error))
}

fn walk_mut<'v>(
    value: &'v mut toml::Value,
    path: &[serde_path_to_error::Segment],
) -> Option<&'v mut toml::Value> {
    use serde_path_to_error::Segment;
    let mut node = value;
    for s in path {
        node = match (s, node) {
            (Segment::Map { key }, toml::Value::Table(t)) => t.get_mut(key)?,
            (Segment::Seq { index }, toml::Value::Array(a)) => a.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(node)
}
