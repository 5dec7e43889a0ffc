//! The command line (SPEC §9): `serve`, `process`, `sign`, `health`,
//! `check-config`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use clap::{Args, Parser, Subcommand};

use pixgate_api::signature::sign::{self, Scheme};
use pixgate_api::{Deliver, Format, Plan};
use pixgate_codec::Limits;
use pixgate_ops::{Product, Settings};

use crate::config::{BucketConfig, Config, Problems};
use crate::error::ApiError;
use crate::server::Server;
use crate::state::AppState;

/// The one-line description, naming the dialects the proxy speaks.
fn about() -> String {
    let names: Vec<_> = pixgate_api::DIALECTS.iter().map(|d| d.name()).collect();
    format!(
        "An image-processing proxy for S3-compatible storage, speaking the {} image URL dialects",
        names.join(", ")
    )
}

#[derive(Debug, Parser)]
#[command(
    name = "pixgate",
    version,
    about = about()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve HTTP, in one of two modes: `--root DIR` (a local directory) or
    /// `--config FILE` (a TOML configuration).
    Serve(ServeArgs),
    /// Run a process string on a local file, offline: the server's pipeline.
    Process(ProcessArgs),
    /// Print a signed URL, in one of the URL signature schemes pixgate
    /// verifies, made with a key of the configuration's [[keys]].
    Sign(SignArgs),
    /// Exit 0 when a URL answers 2xx, 1 otherwise with the reason (for
    /// container health checks without curl).
    Health(HealthArgs),
    /// Validate a configuration file and its `PIXGATE__…` overrides: every
    /// problem, each with its line or variable.
    CheckConfig { file: PathBuf },
}

const SERVE_MODES: &str = "\
Modes (give one):
  --root DIR      serve DIR as the public-read bucket `local`: GET /<key> and
                  /local/<key>; no configuration file needed
  --config FILE   serve what a TOML configuration describes (S3 upstreams,
                  several buckets, styles, [[keys]]); see
                  deploy/pixgate.example.toml
In both modes PIXGATE__SECTION__KEY variables override any key
(PIXGATE__SERVER__LISTEN=0.0.0.0:8080, PIXGATE__BUCKETS__0__ACL=private);
with neither, those variables alone are the configuration
(PIXGATE__BUCKETS__0__NAME=photos PIXGATE__BUCKETS__0__ORIGIN=s3://photos …).";

#[derive(Debug, Args)]
#[command(after_help = SERVE_MODES)]
pub struct ServeArgs {
    /// Serve this directory as the public-read bucket `local` (no S3, no file).
    #[arg(long, value_name = "DIR", conflicts_with = "config")]
    pub root: Option<PathBuf>,
    /// Serve this TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen address, overriding the configuration (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
Without a format in the process string, OUTPUT's extension picks one (out.webp:
WebP; jpg, jpeg, png, webp, gif, bmp, tif, tiff, avif, heic, heif, jxl); `-` or a
name without an extension keeps the source's format.")]
pub struct ProcessArgs {
    /// The source image; `-` reads standard input.
    pub input: PathBuf,
    /// `image/…` (e.g. `image/resize,w_300/format,webp`), or `style/NAME`
    /// with --config.
    pub process: String,
    /// Where to write the result (an image, or JSON for info/average-hue);
    /// `-` writes standard output.
    pub output: PathBuf,
    /// A configuration: its styles, limits and fonts, and the bucket's
    /// auto-orient default.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The bucket whose styles `style/NAME` reads (default: the
    /// configuration's server.default_bucket, else its only bucket).
    #[arg(long, value_name = "NAME", requires = "config")]
    pub bucket: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = "\
TARGET is a URL as clients will request it (http://img.example.com/photos/a.jpg,
query parameters included), or BUCKET/KEY for http://<server.listen>/BUCKET/KEY.")]
pub struct SignArgs {
    /// The configuration whose [[keys]] sign (and whose buckets and
    /// addressing resolve TARGET).
    #[arg(long, value_name = "FILE")]
    pub config: PathBuf,
    /// The signature scheme.
    #[arg(long, default_value = Scheme::NAMES[0], value_parser = Scheme::NAMES)]
    pub scheme: String,
    /// Seconds the URL stays valid (V4 schemes: at most 604800, 7 days).
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub expires: u64,
    /// The access key id to sign with (default: the first of [[keys]]).
    #[arg(long, value_name = "ID")]
    pub key_id: Option<String>,
    /// Adds STRING as the URL's process parameter (signed with it).
    #[arg(long, value_name = "STRING")]
    pub process: Option<String>,
    /// The region in a V4 credential scope (pixgate does not check it).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// A URL, or BUCKET/KEY.
    pub target: String,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// An http:// URL, e.g. http://127.0.0.1:8080/healthz.
    pub url: String,
    /// Give up after this many seconds (connecting, sending and reading
    /// the status line together).
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub timeout: u64,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // `serve` sets logging up itself, once its configuration says how.
    let _guard = match &cli.command {
        Command::Serve(_) => None,
        _ => init_tracing(),
    };
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Process(args) => process_file(&args),
        Command::Sign(args) => sign_url(&args),
        Command::Health(args) => health(&args),
        Command::CheckConfig { file } => check_config(&file),
    }
}

/// Prints every problem of a configuration, one per line, and a count.
fn report(problems: &Problems) -> ExitCode {
    eprintln!("{problems}");
    let n = problems.list.len();
    eprintln!(
        "pixgate: {} in {}",
        if n == 1 {
            "1 problem".to_owned()
        } else {
            format!("{n} problems")
        },
        problems.file
    );
    ExitCode::from(2)
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("pixgate: {message}");
    ExitCode::from(1)
}

// ---- process ------------------------------------------------------------

/// The offline pipeline; a failure prints the message the server would put
/// in its error body.
fn process_file(args: &ProcessArgs) -> ExitCode {
    let config = match &args.config {
        Some(path) => match Config::load_all(path, std::env::vars()) {
            Ok(c) => Some(c),
            Err(problems) => return report(&problems),
        },
        None => None,
    };
    let bucket = match &config {
        Some(c) => match pick_bucket(c, args.bucket.as_deref()) {
            Ok(b) => b,
            Err(m) => return fail(m),
        },
        None => None,
    };
    let (mut plan, names_format) = match plan_for(&args.process, config.is_some(), bucket) {
        Ok(p) => p,
        Err(m) => return fail(m),
    };
    let to_stdout = args.output.as_os_str() == "-";
    // The output file's extension picks the format the string does not name.
    let wanted = match args.output.extension() {
        Some(ext) if !to_stdout => match Format::parse(&ext.to_string_lossy().to_lowercase()) {
            Some(f) => Some(f),
            None if plan.deliver != Deliver::Image => None,
            None if names_format => None,
            None => {
                return fail(format!(
                    "cannot tell an output format from '{}': name one in the process string (…/format,png) or use an extension among {}",
                    args.output.display(),
                    "jpg, jpeg, png, webp, gif, bmp, tif, tiff, avif, heic, heif, jxl"
                ));
            }
        },
        _ => None,
    };
    if !names_format
        && plan.deliver == Deliver::Image
        && plan.output.format.is_none()
        && let Some(f) = wanted
    {
        plan.output.format = Some(f);
    }

    let from_stdin = args.input.as_os_str() == "-";
    let bytes = if from_stdin {
        let mut b = Vec::new();
        match std::io::stdin().lock().read_to_end(&mut b) {
            Ok(_) => b,
            Err(e) => return fail(format!("reading standard input: {e}")),
        }
    } else {
        match std::fs::read(&args.input) {
            Ok(b) => b,
            Err(e) => return fail(format!("{}: {e}", args.input.display())),
        }
    };

    let limits = config.as_ref().map_or_else(Limits::default, |c| c.limits);
    let auto_orient = bucket.is_none_or(|b| b.auto_orient);
    let mut settings = Settings::new(limits, auto_orient, pixgate_ops::Stop::never());
    let fonts = config
        .as_ref()
        .map_or_else(crate::config::WatermarkConfig::default, |c| {
            c.watermark.clone()
        })
        .fonts();
    settings.fonts = Some(std::sync::Arc::new(fonts));
    // Watermark images are objects of the input's own directory (the
    // working directory for standard input).
    let dir = match args.input.parent() {
        Some(p) if !from_stdin && !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    for key in plan.watermark_keys() {
        match std::fs::read(dir.join(key)) {
            Ok(b) => {
                settings.marks.insert(key.to_owned(), b.into());
            }
            Err(_) => {
                return fail(format!(
                    "WatermarkError: The watermark image '{key}' does not exist in {}.",
                    dir.display()
                ));
            }
        }
    }
    let bytes = match pixgate_ops::process(&bytes, &plan, &settings) {
        Ok(Product::Image { bytes, format, .. }) => {
            if let Some(w) = wanted.filter(|w| *w != format) {
                // The string's own format, or the dialect's output rules
                // (GIF only from a GIF source).
                eprintln!(
                    "pixgate: note: the result is {}, written to {} despite its .{} extension",
                    format.as_str(),
                    args.output.display(),
                    w.as_str()
                );
            }
            bytes
        }
        Ok(Product::Json(text)) => text.into_bytes(),
        Err(e) => {
            let e = ApiError::from(e);
            return fail(format!("{}: {}", e.code.as_str(), e.message));
        }
    };
    let written = if to_stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes).and_then(|()| out.flush())
    } else {
        std::fs::write(&args.output, bytes)
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{}: {e}", args.output.display())),
    }
}

/// The bucket whose styles and settings `process` uses: the named one,
/// else the default bucket, else the only one; `None` when the choice is
/// open (a plain `image/…` string needs none).
fn pick_bucket<'c>(
    config: &'c Config,
    name: Option<&str>,
) -> Result<Option<&'c BucketConfig>, String> {
    let find = |n: &str| config.buckets.iter().find(|b| b.name == n);
    match name {
        Some(n) => find(n).map(Some).ok_or_else(|| {
            format!(
                "the configuration has no bucket '{n}' (it has {})",
                bucket_names(config)
            )
        }),
        None => Ok(
            match (&config.server.default_bucket, config.buckets.as_slice()) {
                (Some(d), _) => find(d),
                (None, [only]) => Some(only),
                _ => None,
            },
        ),
    }
}

fn bucket_names(config: &Config) -> String {
    let names: Vec<&str> = config.buckets.iter().map(|b| b.name.as_str()).collect();
    names.join(", ")
}

/// The plan of `image/…` or `style/NAME`, and whether the string (or the
/// style) names an output format itself.
fn plan_for(
    process: &str,
    has_config: bool,
    bucket: Option<&BucketConfig>,
) -> Result<(Plan, bool), String> {
    let api = |e: ApiError| format!("{}: {}", e.code.as_str(), e.message);
    if let Some(steps) = process.strip_prefix("image/") {
        let plan = Plan::parse(steps).map_err(|e| api(ApiError::from(e)))?;
        return Ok((plan, names_format(steps)));
    }
    let Some(name) = process.strip_prefix("style/") else {
        return Err(format!(
            "InvalidArgument: The process string '{process}' starts with neither 'image/' (e.g. image/resize,w_300) nor 'style/' (style/NAME, with --config)."
        ));
    };
    if !has_config {
        return Err(format!(
            "'{process}' names a style, and styles are defined in a configuration: add --config FILE (and --bucket NAME when it has several buckets)."
        ));
    }
    let Some(bucket) = bucket else {
        return Err(
            "the configuration has several buckets and no server.default_bucket: name the one whose styles to use with --bucket NAME".to_owned(),
        );
    };
    let Some(content) = bucket.styles.get(name) else {
        let styles: Vec<&str> = bucket.styles.keys().map(String::as_str).collect();
        return Err(format!(
            "bucket '{}' has no style '{name}' ({})",
            bucket.name,
            if styles.is_empty() {
                "it has no styles".to_owned()
            } else {
                format!("its styles: {}", styles.join(", "))
            }
        ));
    };
    let dialects = bucket
        .dialect_set()
        .map_err(|m| format!("bucket '{}': dialects {m}", bucket.name))?;
    let plan = crate::config::style_plan(content, &dialects)
        .map_err(|m| format!("style '{name}' of bucket '{}': {m}", bucket.name))?;
    Ok((plan, names_format(content)))
}

/// Whether a process string has a format step (`format,X` or
/// `/format/X`, in the grammars that have one).
fn names_format(steps: &str) -> bool {
    steps
        .split('/')
        .any(|s| s == "format" || s.starts_with("format,"))
}

// ---- sign ---------------------------------------------------------------

fn sign_url(args: &SignArgs) -> ExitCode {
    let config = match Config::load_all(&args.config, std::env::vars()) {
        Ok(c) => c,
        Err(problems) => return report(&problems),
    };
    match signed_url(&config, args, SystemTime::now()) {
        Ok((url, notes)) => {
            for n in notes {
                eprintln!("pixgate: note: {n}");
            }
            println!("{url}");
            ExitCode::SUCCESS
        }
        Err(m) => fail(m),
    }
}

/// The signed URL, and notes worth a line on stderr.
fn signed_url(
    config: &Config,
    args: &SignArgs,
    now: SystemTime,
) -> Result<(String, Vec<String>), String> {
    let file = args.config.display();
    let key = match &args.key_id {
        Some(id) => config
            .keys
            .iter()
            .find(|k| &k.access_key_id == id)
            .ok_or_else(|| format!("{file} has no [[keys]] entry with access_key_id '{id}'"))?,
        None => config.keys.first().ok_or_else(|| {
            format!(
                "{file} has no [[keys]]: add one (access_key_id, secret_access_key) to sign URLs with"
            )
        })?,
    };
    let scheme = Scheme::parse(&args.scheme)
        .ok_or_else(|| format!("'{}' is not one of {:?}", args.scheme, Scheme::NAMES))?;
    let url = if args.target.contains("://") {
        args.target.clone()
    } else {
        let (bucket, object) = args
            .target
            .split_once('/')
            .ok_or_else(|| format!("'{}' is neither a URL nor BUCKET/KEY", args.target))?;
        let mut listen = config.server.listen;
        if listen.ip().is_unspecified() {
            // 0.0.0.0 accepts on loopback too; a client cannot send to it.
            listen.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!(
            "http://{listen}/{bucket}/{}",
            pixgate_origin::encode_path(object)
        )
    };
    let uri: http::Uri = url.parse().map_err(|_| format!("'{url}' is not a URL"))?;
    let scheme_name = match uri.scheme_str() {
        Some(s @ ("http" | "https")) => s,
        _ => return Err(format!("'{url}' must start with http:// or https://")),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| format!("'{url}' has no host"))?;
    let default_port = if scheme_name == "https" { 443 } else { 80 };
    // The Host header a client sends: no user info, no default port.
    let host = match authority.port_u16() {
        Some(p) if p != default_port => format!("{}:{p}", authority.host()),
        _ => authority.host().to_owned(),
    };
    let raw_path = match uri.path() {
        "" => "/",
        p => p,
    };
    let addressing = crate::route::Addressing {
        domain: config
            .server
            .domain
            .as_ref()
            .map(|d| d.to_ascii_lowercase()),
        default_bucket: config.server.default_bucket.clone(),
        buckets: config.buckets.iter().map(|b| b.name.clone()).collect(),
    };
    let target = addressing
        .resolve(&host, raw_path)
        .map_err(|e| format!("{url}: {}", e.message))?;
    if target.key.is_empty() {
        return Err(format!("{url} names a bucket but no object"));
    }
    // Decoded pairs; a bare flag has the empty value.
    let mut query: Vec<(String, String)> = pixgate_api::Query::parse(uri.query().unwrap_or(""))
        .params()
        .iter()
        .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
        .collect();
    if let Some(p) = &args.process {
        if query.iter().any(|(k, _)| k == sign::PROCESS_PARAM) {
            return Err(format!(
                "{url} has a {} parameter already; leave out --process or the parameter",
                sign::PROCESS_PARAM
            ));
        }
        query.push((sign::PROCESS_PARAM.to_owned(), p.clone()));
    }
    let signed = sign::presign(
        scheme,
        &sign::Target {
            method: "GET",
            host: &host,
            raw_path,
            bucket: &target.bucket,
            key: &target.key,
            query: &query,
        },
        &sign::Signer {
            key_id: &key.access_key_id,
            secret: &key.secret_access_key,
            region: &args.region,
            now,
            expires: args.expires,
        },
    )?;
    let mut notes = Vec::new();
    if config
        .buckets
        .iter()
        .any(|b| b.name == target.bucket && b.acl == crate::config::Acl::PublicRead)
    {
        notes.push(format!(
            "bucket '{}' is public-read: the URL works unsigned too",
            target.bucket
        ));
    }
    Ok((format!("{scheme_name}://{host}{raw_path}?{signed}"), notes))
}

// ---- health -------------------------------------------------------------

fn health(args: &HealthArgs) -> ExitCode {
    let timeout = Duration::from_secs(args.timeout.max(1));
    match probe(&args.url, timeout) {
        Ok(status) if status.starts_with('2') => {
            println!("{}: {status}", args.url);
            ExitCode::SUCCESS
        }
        Ok(status) => {
            eprintln!("pixgate health: {}: {status}", args.url);
            ExitCode::from(1)
        }
        Err(reason) => {
            eprintln!("pixgate health: {}: {reason}", args.url);
            ExitCode::from(1)
        }
    }
}

/// GETs an http:// URL and returns its status line's code and reason
/// (`200 OK`); every step shares one deadline.
fn probe(url: &str, timeout: Duration) -> Result<String, String> {
    use std::net::{TcpStream, ToSocketAddrs};
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("no answer within {} s", timeout.as_secs()))
    };
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        "only http:// URLs are checked (the health endpoint is plain HTTP)".to_owned()
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err("the URL has no host".to_owned());
    }
    let addrs: Vec<_> = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_socket_addrs()
    } else {
        (authority, 80).to_socket_addrs()
    }
    .map_err(|e| format!("cannot resolve {authority}: {e}"))?
    .collect();
    let mut last = format!("{authority} resolves to no address");
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, left()?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last)?;
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("no answer within {} s", timeout.as_secs())
        }
        _ => format!("the connection failed: {e}"),
    };
    stream.set_write_timeout(Some(left()?)).map_err(io)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: pixgate-health\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).map_err(io)?;
    // The status line is all that counts; a body is never read.
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.windows(2).any(|w| w == b"\r\n") {
        if head.len() > 8192 {
            return Err("the answer is not HTTP".to_owned());
        }
        stream.set_read_timeout(Some(left()?)).map_err(io)?;
        let n = stream.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Err("the connection closed without an answer".to_owned());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or_default();
    match line.split_once(' ') {
        Some((version, status)) if version.starts_with("HTTP/") => {
            let status = status.trim();
            if status.len() >= 3 && status.as_bytes()[..3].iter().all(u8::is_ascii_digit) {
                Ok(status.to_owned())
            } else {
                Err(format!("the answer is not HTTP: {line}"))
            }
        }
        _ => Err(format!("the answer is not HTTP: {line}")),
    }
}

// ---- check-config, serve --------------------------------------------------

/// Loads, validates and builds every origin, as `serve` would, without
/// listening; prints every problem.
fn check_config(file: &Path) -> ExitCode {
    let config = match Config::load_all(file, std::env::vars()) {
        Ok(c) => c,
        Err(problems) => return report(&problems),
    };
    match AppState::build(&config, |n| std::env::var(n).ok()) {
        Ok(_) => {
            println!("{}: ok ({} buckets)", file.display(), config.buckets.len());
            ExitCode::SUCCESS
        }
        Err(e) => report(&Problems::one(file.display().to_string(), e)),
    }
}

/// Logging for the offline commands (no trace export).
fn init_tracing() -> Option<crate::telemetry::Guard> {
    crate::telemetry::init(None).ok()
}

fn serve(args: ServeArgs) -> ExitCode {
    let loaded = match (&args.root, &args.config) {
        (Some(root), _) => Config::embedded_all(root, std::env::vars()),
        (None, Some(path)) => Config::load_all(path, std::env::vars()),
        // A container may be configured by its environment alone.
        (None, None) if std::env::vars().any(|(k, _)| k.starts_with(crate::config::ENV_PREFIX)) => {
            Config::from_env_all(std::env::vars())
        }
        (None, None) => {
            eprintln!(
                "pixgate: serve needs a mode: `--root DIR` serves a directory, `--config FILE` a configuration file, or `PIXGATE__…` variables alone configure it (see `pixgate serve --help`)."
            );
            return ExitCode::from(2);
        }
    };
    let mut config = match loaded {
        Ok(c) => c,
        Err(problems) => return report(&problems),
    };
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    // Flushes exported spans when serving ends.
    let _telemetry = match crate::telemetry::init(Some(&config.telemetry)) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("pixgate: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pixgate: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async {
        let server = match Server::bind(&config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("pixgate: {e}");
                return ExitCode::from(2);
            }
        };
        match server.local_addr() {
            Ok(addr) => tracing::info!(%addr, buckets = config.buckets.len(), "pixgate listening"),
            Err(e) => tracing::warn!(error = %e, "listening on an unknown address"),
        }
        server.run(shutdown_signal()).await;
        ExitCode::SUCCESS
    });
    // Pixel work still running was cancelled by `run`; a step that cannot be
    // interrupted (an encoder) must not hold the exit past the drain window.
    runtime.shutdown_background();
    code
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_steps_are_recognised() {
        assert!(names_format("resize,w_1/format,webp"));
        assert!(names_format("imageMogr2/format/png"));
        assert!(!names_format("resize,w_1/quality,q_80"));
        assert!(!names_format("watermark,text_Zm9ybWF0"));
    }

    #[test]
    fn health_probes_fail_with_a_reason_not_a_panic() {
        for (url, reason) in [
            ("https://127.0.0.1:1/", "only http://"),
            ("http:///healthz", "no host"),
            ("http://user@127.0.0.1/", "no host"),
        ] {
            let e = probe(url, Duration::from_secs(1)).unwrap_err();
            assert!(e.contains(reason), "{url}: {e}");
        }
    }
}
