//! Start-up validation: a configuration that would misbehave later is refused
//! now, with the offending key named.

use std::collections::HashSet;

use pixgate_api::Plan;
use pixgate_api::dialect::Dialect;

use super::{BucketConfig, Config, OriginSpec};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid configuration at `{key}`: {message}")]
pub struct ConfigError {
    /// The key as written in the file (`buckets[0].styles.thumb`) or the
    /// environment variable that set it.
    pub key: String,
    pub message: String,
}

/// Paths the proxy answers itself; a bucket of that name would be unreachable
/// in path style.
pub const RESERVED_NAMES: &[&str] = &["healthz", "readyz", "metrics"];
/// Style separators a bucket may enable: the clouds' own, together.
pub const SEPARATORS: &[&str] = &["@!", "-", "_", "/", "!"];
pub const MAX_STYLES: usize = 50;

fn err(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        message: message.into(),
    }
}

impl Config {
    /// The first problem of [`Config::problems`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Every problem of a typed configuration, in the order of its keys.
    pub fn problems(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        if self.buckets.is_empty() {
            out.push(err("buckets", "at least one [[buckets]] entry is needed"));
        }
        let mut names = HashSet::new();
        for (i, bucket) in self.buckets.iter().enumerate() {
            bucket.problems(&format!("buckets[{i}]"), &mut out);
            if !names.insert(bucket.name.as_str()) {
                out.push(err(
                    format!("buckets[{i}].name"),
                    format!("bucket '{}' is defined twice", bucket.name),
                ));
            }
        }
        if let Some(default) = &self.server.default_bucket
            && !names.contains(default.as_str())
        {
            out.push(err(
                "server.default_bucket",
                format!("'{default}' is not the name of a configured bucket"),
            ));
        }
        if let Some(domain) = &self.server.domain
            && !is_host_name(domain)
        {
            out.push(err(
                "server.domain",
                format!("'{domain}' is not a host name (no scheme, port or path)"),
            ));
        }
        if self.server.shutdown_timeout_ms == 0 {
            out.push(err("server.shutdown_timeout_ms", "must be at least 1"));
        }
        if let Some(admin) = self.server.admin_listen {
            let listen = self.server.listen;
            // Port 0 picks a free port for each; any other shared port would
            // fail to bind at start.
            let overlap = admin.ip() == listen.ip()
                || admin.ip().is_unspecified()
                || listen.ip().is_unspecified();
            if admin.port() != 0 && admin.port() == listen.port() && overlap {
                out.push(err(
                    "server.admin_listen",
                    format!("{admin} is the public address too (server.listen = {listen}); give the admin endpoints another port"),
                ));
            }
        }
        check_cache_control(
            "server.cache_control",
            Some(&self.server.cache_control),
            &mut out,
        );
        check_cache_control(
            "server.original_cache_control",
            self.server.original_cache_control.as_deref(),
            &mut out,
        );
        if let Some(endpoint) = &self.telemetry.otlp_endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                out.push(err(
                    "telemetry.otlp_endpoint",
                    format!("'{endpoint}' is not an http(s) URL"),
                ));
            } else if !cfg!(feature = "otlp") {
                out.push(err(
                    "telemetry.otlp_endpoint",
                    "this build has no OTLP export (build with the 'otlp' feature)",
                ));
            }
        }
        let l = &self.limits;
        for (key, value) in [
            ("limits.max_source_bytes", l.max_source_bytes),
            ("limits.max_source_side", u64::from(l.max_source_side)),
            ("limits.max_source_pixels", l.max_source_pixels),
            ("limits.max_output_side", u64::from(l.max_output_side)),
            ("limits.max_output_pixels", l.max_output_pixels),
            ("limits.max_rotate_side", u64::from(l.max_rotate_side)),
            ("limits.max_request_bytes", l.max_request_bytes),
        ] {
            if value == 0 {
                out.push(err(key, "must be at least 1"));
            }
        }
        if self.server.max_connections == 0 {
            out.push(err("server.max_connections", "must be at least 1"));
        }
        for (key, value) in [
            (
                "server.header_read_timeout_ms",
                self.server.header_read_timeout_ms,
            ),
            ("server.idle_timeout_ms", self.server.idle_timeout_ms),
            ("server.send_timeout_ms", self.server.send_timeout_ms),
            ("server.styles_refresh_ms", self.server.styles_refresh_ms),
            (
                "admission.request_timeout_ms",
                self.admission.request_timeout_ms,
            ),
            (
                "upstream.connect_timeout_ms",
                self.upstream.connect_timeout_ms,
            ),
            ("upstream.read_timeout_ms", self.upstream.read_timeout_ms),
        ] {
            if value == 0 {
                out.push(err(key, "must be at least 1"));
            }
        }
        let mut key_ids = HashSet::new();
        for (i, key) in self.keys.iter().enumerate() {
            if key.access_key_id.is_empty() {
                out.push(err(format!("keys[{i}].access_key_id"), "must not be empty"));
            } else if !key_ids.insert(key.access_key_id.as_str()) {
                out.push(err(
                    format!("keys[{i}].access_key_id"),
                    "this access key id is listed twice",
                ));
            }
            if key.secret_access_key.is_empty() {
                out.push(err(
                    format!("keys[{i}].secret_access_key"),
                    "must not be empty",
                ));
            }
        }
        out
    }
}

/// A Cache-Control value must be a valid header value (it is sent as is).
fn check_cache_control(key: &str, value: Option<&str>, out: &mut Vec<ConfigError>) {
    if let Some(v) = value
        && http::HeaderValue::from_str(v).is_err()
    {
        out.push(err(
            key,
            "is not a valid header value (printable ASCII, no line breaks)",
        ));
    }
}

impl BucketConfig {
    fn problems(&self, at: &str, out: &mut Vec<ConfigError>) {
        if !is_bucket_name(&self.name) {
            out.push(err(
                format!("{at}.name"),
                format!(
                    "'{}' is not a bucket name: 3-63 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or digit",
                    self.name
                ),
            ));
        } else if RESERVED_NAMES.contains(&self.name.as_str()) {
            out.push(err(
                format!("{at}.name"),
                format!("'{}' is reserved for the proxy's own endpoints", self.name),
            ));
        }
        match self.origin_spec() {
            Some(OriginSpec::S3 { bucket }) => {
                if bucket.is_empty() || bucket.contains('/') {
                    out.push(err(
                        format!("{at}.origin"),
                        "an S3 origin is written s3://<bucket-name>",
                    ));
                }
                if let Some(endpoint) = &self.endpoint
                    && let Err(m) = check_endpoint(endpoint)
                {
                    out.push(err(format!("{at}.endpoint"), m));
                }
            }
            Some(OriginSpec::Dir { path }) => {
                if !path.is_absolute() {
                    out.push(err(
                        format!("{at}.origin"),
                        "a directory origin is written file:///absolute/path",
                    ));
                } else if !path.is_dir() {
                    out.push(err(
                        format!("{at}.origin"),
                        format!("{} is not an existing directory", path.display()),
                    ));
                }
                if self.endpoint.is_some() {
                    out.push(err(
                        format!("{at}.endpoint"),
                        "only S3 origins have an endpoint",
                    ));
                }
            }
            None => {
                out.push(err(
                    format!("{at}.origin"),
                    format!(
                        "'{}' is neither s3://<bucket> nor file:///<dir>",
                        self.origin
                    ),
                ));
            }
        }
        if self.region.is_empty() {
            out.push(err(format!("{at}.region"), "must not be empty"));
        }
        match (&self.access_key_id, &self.secret_access_key) {
            (Some(_), None) => {
                out.push(err(
                    format!("{at}.secret_access_key"),
                    "access_key_id is set, so secret_access_key is needed too",
                ));
            }
            (None, Some(_)) => {
                out.push(err(
                    format!("{at}.access_key_id"),
                    "secret_access_key is set, so access_key_id is needed too",
                ));
            }
            _ => {}
        }
        for (i, sep) in self.separators.iter().enumerate() {
            if !SEPARATORS.contains(&sep.as_str()) {
                out.push(err(
                    format!("{at}.separators[{i}]"),
                    format!("'{sep}' is not one of {SEPARATORS:?}"),
                ));
            }
        }
        for (i, suffix) in self.protect.suffixes.iter().enumerate() {
            if suffix.is_empty() || suffix.contains('.') || suffix.contains('/') {
                out.push(err(
                    format!("{at}.protect.suffixes[{i}]"),
                    format!("'{suffix}' is not a file suffix (write 'jpg', not '.jpg')"),
                ));
            }
        }
        check_cache_control(
            &format!("{at}.cache_control"),
            self.cache_control.as_deref(),
            out,
        );
        check_cache_control(
            &format!("{at}.original_cache_control"),
            self.original_cache_control.as_deref(),
            out,
        );
        if self.styles.len() > MAX_STYLES {
            out.push(err(
                format!("{at}.styles"),
                format!(
                    "{} styles are defined; a bucket may have at most {MAX_STYLES}",
                    self.styles.len()
                ),
            ));
        }
        if let Err(m) = pixgate_origin::validate_key(&self.styles_object) {
            out.push(err(
                format!("{at}.styles_object"),
                format!("'{}' is not an object key: {m}", self.styles_object),
            ));
        }
        if let Err(m) = self.negotiate_formats() {
            out.push(err(format!("{at}.negotiate"), m));
        }
        match self.dialect_set() {
            Err(m) => out.push(err(format!("{at}.dialects"), m)),
            // Styles are read by the bucket's dialects: checked once those are known.
            Ok(dialects) => {
                for (name, content) in &self.styles {
                    if let Err(m) = check_style(name, content, &dialects) {
                        out.push(err(format!("{at}.styles.{name}"), m));
                    }
                }
            }
        }
    }
}

fn is_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|_| format!("'{endpoint}' is not an URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(format!("'{endpoint}' must start with http:// or https://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("'{endpoint}' has no host"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(format!("'{endpoint}' must not have a path or query"));
    }
    Ok(())
}

/// Style rules: names 1-63 of `[A-Za-z0-9_.-]` (the strictest of the
/// clouds' rules); content a process string one of the bucket's dialects
/// reads (each dialect checks its own content rules).
fn check_style(name: &str, content: &str, dialects: &[&'static dyn Dialect]) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 63
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
    {
        return Err(format!(
            "style name '{name}' must be 1-63 characters of A-Z, a-z, 0-9, '_', '.' and '-'"
        ));
    }
    // A style that could never run is refused now, not on every request.
    style_plan(content, dialects)
        .map(|_| ())
        .map_err(|e| format!("style content is not a valid process string: {e}"))
}

/// A style's plan in the first of the bucket's dialects that reads it; the
/// error of the first dialect that has styles when none does.
pub fn style_plan(content: &str, dialects: &[&'static dyn Dialect]) -> Result<Plan, String> {
    let mut first_error = None;
    for d in dialects {
        match d.style_plan(content) {
            Ok(plan) => return Ok(plan),
            Err(e) if d.style_hint().is_some() => {
                first_error.get_or_insert(e.message);
            }
            Err(_) => {}
        }
    }
    Err(first_error.unwrap_or_else(|| "none of the bucket's dialects has styles".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Vec::new())
    }

    const BASE: &str = "[[buckets]]\nname = \"photos\"\norigin = \"s3://photos\"\n";

    #[test]
    fn a_minimal_s3_config_is_valid() {
        let c = parse(BASE).unwrap();
        assert_eq!(c.buckets[0].region, "us-east-1");
        assert!(c.buckets[0].path_style);
        assert_eq!(c.server.listen.port(), 8080);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            ("[server]\nlisten = \"nope\"\n", "server.listen"),
            ("[server]\nlisten2 = 1\n", "server.listen2"),
            (
                "[[buckets]]\nname = \"Photos\"\norigin = \"s3://p\"\n",
                "buckets[0].name",
            ),
            (
                "[[buckets]]\nname = \"metrics\"\norigin = \"s3://p\"\n",
                "buckets[0].name",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"ftp://p\"\n",
                "buckets[0].origin",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"file://rel\"\n",
                "buckets[0].origin",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nendpoint = \"127.0.0.1:9000\"\n",
                "buckets[0].endpoint",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nacl = \"public\"\n",
                "buckets[0].acl",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\naccess_key_id = \"a\"\n",
                "buckets[0].secret_access_key",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nseparators = [\"#\"]\n",
                "buckets[0].separators[0]",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\ndialects = [\"flickr\"]\n",
                "buckets[0].dialects",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\ndialects = []\n",
                "buckets[0].dialects",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nnegotiate = [\"gif\"]\n",
                "buckets[0].negotiate",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nnegotiate = [\"webp\", \"webp\"]\n",
                "buckets[0].negotiate",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nstyles = { t = \"resize,w_1\" }\n",
                "buckets[0].styles.t",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nstyles = { \"bad name\" = \"image/resize,w_1\" }\n",
                "buckets[0].styles.bad name",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nstyles = { t = \"image/resize,w_1;\" }\n",
                "buckets[0].styles.t",
            ),
            (
                "[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\nstyles = { t = \"image/resize,w_0\" }\n",
                "buckets[0].styles.t",
            ),
            (
                "[limits]\nmax_source_bytes = 0\n[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\n",
                "limits.max_source_bytes",
            ),
            (
                "[server]\ndefault_bucket = \"x\"\n[[buckets]]\nname = \"abc\"\norigin = \"s3://p\"\n",
                "server.default_bucket",
            ),
            ("", "buckets"),
        ];
        for (text, key) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(e.key, key, "{text}: {e}");
        }
    }

    #[test]
    fn root_mode_takes_the_environment_like_a_file() {
        let dir = std::env::temp_dir();
        let vars = [
            ("PIXGATE__SERVER__CACHE_CONTROL", "no-cache"),
            ("PIXGATE__CACHE__RESULT_BYTES", "1048576"),
            ("PIXGATE__BUCKETS__0__ACL", "private"),
            ("HOME", "/ignored"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let c = Config::embedded(&dir, vars).unwrap();
        assert_eq!(c.server.cache_control, "no-cache");
        assert_eq!(c.cache.result_bytes, 1_048_576);
        assert_eq!(c.server.default_bucket.as_deref(), Some("local"));
        assert_eq!(c.buckets[0].acl, super::super::Acl::Private);
        let root = std::fs::canonicalize(&dir).unwrap();
        assert_eq!(c.buckets[0].origin, format!("file://{}", root.display()));
        // A bad override is refused, naming the key it set.
        let bad = [("PIXGATE__SERVER__LISTEN".to_owned(), "nope".to_owned())];
        assert_eq!(
            Config::embedded(&dir, bad).unwrap_err().key,
            "server.listen"
        );
        // Without overrides: the embedded defaults.
        let plain = Config::embedded(&dir, Vec::new()).unwrap();
        assert_eq!(plain.buckets.len(), 1);
        assert_eq!(plain.buckets[0].acl, super::super::Acl::PublicRead);
    }

    #[test]
    fn more_than_fifty_styles_are_refused() {
        let mut text = BASE.to_owned();
        text.push_str("[buckets.styles]\n");
        for i in 0..51 {
            text.push_str(&format!("s{i} = \"image/resize,w_{}\"\n", i + 1));
        }
        let e = parse(&text).unwrap_err();
        assert_eq!(e.key, "buckets[0].styles");
        assert!(e.message.contains("at most 50"), "{e}");
    }

    #[test]
    fn environment_overrides_are_validated_too() {
        let e = Config::from_toml(
            BASE,
            [("PIXGATE__BUCKETS__0__ACL".to_owned(), "everyone".to_owned())],
        )
        .unwrap_err();
        assert_eq!(e.key, "buckets[0].acl");
        let c = Config::from_toml(
            BASE,
            [(
                "PIXGATE__SERVER__LISTEN".to_owned(),
                "127.0.0.1:9999".to_owned(),
            )],
        )
        .unwrap();
        assert_eq!(c.server.listen.port(), 9999);
    }

    /// check-config's promise: every problem at once, each at its line or
    /// variable, none reported twice for one bad key.
    #[test]
    fn every_problem_is_reported_with_its_line_or_variable() {
        use super::super::Origin;
        let text = "\
[server]
listen = \"nope\"
listn = 1
shutdown_timeout_ms = 0
default_bucket = \"ghost\"

[[buckets]]
name = \"Photos\"
origin = \"s3://p\"
acl = \"everyone\"
separators = [\"@!\", 5]

[[buckets]]
origin = \"ftp://x\"

[[keys]]
access_key_id = \"a\"
";
        let vars = [
            ("PIXGATE__CACHE__RESULT_BYTES", "lots"),
            ("PIXGATE__BUCKETS__7__NAME", "x"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let problems = Config::check(text, vars, true).unwrap_err();
        let got: Vec<(String, Origin)> = problems
            .iter()
            .map(|p| (p.error.key.clone(), p.origin.clone()))
            .collect();
        let line = |key: &str, n: usize| (key.to_owned(), Origin::Line(n));
        let var = |key: &str, name: &str| (key.to_owned(), Origin::Var(name.to_owned()));
        let expected = vec![
            line("server.listen", 2),
            line("server.listn", 3),
            line("server.shutdown_timeout_ms", 4),
            line("server.default_bucket", 5),
            line("buckets[0].name", 8),
            line("buckets[0].acl", 10),
            line("buckets[0].separators[1]", 11),
            line("buckets[1].name", 13),
            line("buckets[1].origin", 14),
            line("keys[0].secret_access_key", 16),
            var("PIXGATE__BUCKETS__7__NAME", "PIXGATE__BUCKETS__7__NAME"),
            var("cache.result_bytes", "PIXGATE__CACHE__RESULT_BYTES"),
        ];
        assert_eq!(got, expected, "{problems:#?}");
        // The first problem is what from_toml reports.
        let first = Config::from_toml(text, Vec::new()).unwrap_err();
        assert_eq!(first.key, "server.listen");
    }

    #[test]
    fn admin_port_and_cache_control_are_checked() {
        let e = parse(&format!(
            "[server]\nlisten = \"0.0.0.0:8080\"\nadmin_listen = \"127.0.0.1:8080\"\n{BASE}"
        ))
        .unwrap_err();
        assert_eq!(e.key, "server.admin_listen");
        parse(&format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n{BASE}"
        ))
        .unwrap();
        let e = parse(&format!("{BASE}cache_control = \"public\\nx\"\n")).unwrap_err();
        assert_eq!(e.key, "buckets[0].cache_control");
    }
}
