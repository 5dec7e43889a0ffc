//! The command line (SPEC §9).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use pixgate_api::Plan;
use pixgate_codec::Limits;
use pixgate_ops::{Product, Settings};

use crate::config::Config;
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
    /// Serve HTTP: `--root DIR` for a local directory, or `--config FILE`.
    Serve(ServeArgs),
    /// Run a process string on a local file, offline: the server's pipeline.
    Process {
        /// The source image.
        input: PathBuf,
        /// `image/…` (e.g. `image/resize,w_300/format,webp`).
        process: String,
        /// Where to write the result (an image, or JSON for info/average-hue).
        output: PathBuf,
    },
    /// Validate a configuration file (and its `PIXGATE__…` overrides).
    CheckConfig { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve this directory as the public-read bucket `local` (no S3 needed).
    #[arg(long, conflicts_with = "config", required_unless_present = "config")]
    pub root: Option<PathBuf>,
    /// A TOML configuration file; `PIXGATE__SECTION__KEY` variables override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Listen address, overriding the configuration (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
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
        Command::Process {
            input,
            process,
            output,
        } => process_file(&input, &process, &output),
        Command::CheckConfig { file } => check_config(&file),
    }
}

/// The offline pipeline, with the embedded default's settings; a failure
/// prints the message the server would put in its error body.
fn process_file(input: &Path, process: &str, output: &Path) -> ExitCode {
    let fail = |message: String| {
        eprintln!("pixgate: {message}");
        ExitCode::from(1)
    };
    let bytes = match std::fs::read(input) {
        Ok(b) => b,
        Err(e) => return fail(format!("{}: {e}", input.display())),
    };
    let plan = match process.strip_prefix("image/") {
        Some(steps) => Plan::parse(steps).map_err(ApiError::from),
        None => Err(ApiError::new(
            crate::error::Code::InvalidArgument,
            format!("The process string '{process}' does not start with 'image/'."),
        )),
    };
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return fail(format!("{}: {}", e.code.as_str(), e.message)),
    };
    let mut settings = Settings::new(Limits::default(), true, pixgate_ops::Stop::never());
    let fonts = crate::config::WatermarkConfig::default().font_dirs;
    settings.fonts = Some(std::sync::Arc::new(pixgate_ops::Fonts::new(&fonts)));
    // Watermark images are objects of the input's own directory.
    let dir = input.parent().unwrap_or(Path::new("."));
    for key in plan.watermark_keys() {
        match std::fs::read(dir.join(key)) {
            Ok(b) => {
                settings.marks.insert(key.to_owned(), b.into());
            }
            Err(_) => {
                return fail(format!(
                    "WatermarkError: The watermark image '{key}' does not exist beside the input."
                ));
            }
        }
    }
    let bytes = match pixgate_ops::process(&bytes, &plan, &settings) {
        Ok(Product::Image { bytes, .. }) => bytes,
        Ok(Product::Json(text)) => text.into_bytes(),
        Err(e) => {
            let e = ApiError::from(e);
            return fail(format!("{}: {}", e.code.as_str(), e.message));
        }
    };
    match std::fs::write(output, bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{}: {e}", output.display())),
    }
}

/// Loads, validates and builds every origin, as `serve` would, without
/// listening.
fn check_config(file: &Path) -> ExitCode {
    let checked = Config::load(file, std::env::vars())
        .and_then(|c| AppState::build(&c, |n| std::env::var(n).ok()).map(|_| c));
    match checked {
        Ok(c) => {
            println!("{}: ok ({} buckets)", file.display(), c.buckets.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pixgate: {e}");
            ExitCode::from(2)
        }
    }
}

/// Logging for the offline commands (no trace export).
fn init_tracing() -> Option<crate::telemetry::Guard> {
    crate::telemetry::init(None).ok()
}

fn serve(args: ServeArgs) -> ExitCode {
    let loaded = match (&args.root, &args.config) {
        (Some(root), _) => Config::embedded(root, std::env::vars()),
        (None, Some(path)) => Config::load(path, std::env::vars()),
        (None, None) => unreachable!("clap requires --root or --config"),
    };
    let mut config = match loaded {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pixgate: {e}");
            return ExitCode::from(2);
        }
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
