//! Logging and tracing set-up: `tracing` events to stderr (pretty or JSON),
//! and, when `[telemetry] otlp_endpoint` is set, every request span exported
//! to an OpenTelemetry collector over OTLP/HTTP.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::TelemetryConfig;

/// Keeps the exporter alive; dropping it flushes the spans still queued.
#[derive(Debug, Default)]
pub struct Guard {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(p) = self.provider.take()
            && let Err(e) = p.shutdown()
        {
            eprintln!("pixgate: flushing traces failed: {e}");
        }
    }
}

/// Installs the global subscriber. `telemetry` is `None` for the offline
/// commands, which export nothing.
pub fn init(telemetry: Option<&TelemetryConfig>) -> Result<Guard, String> {
    let filter = EnvFilter::try_from_env("PIXGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("PIXGATE_LOG_FORMAT").as_deref() == Ok("json");
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi && !json);
    let fmt = if json {
        // One object per line: the current span only, not also the list of
        // every enclosing span (which repeats the same fields).
        fmt.json().with_span_list(false).boxed()
    } else {
        fmt.boxed()
    };
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    let endpoint = telemetry.and_then(|t| t.otlp_endpoint.as_deref());
    match (endpoint, telemetry) {
        #[cfg(feature = "otlp")]
        (Some(endpoint), Some(t)) => {
            let provider = otlp_provider(endpoint, &t.service_name)?;
            let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "pixgate");
            registry
                .with(tracing_opentelemetry::layer().with_tracer(tracer))
                .try_init()
                .map_err(|e| e.to_string())?;
            Ok(Guard {
                provider: Some(provider),
            })
        }
        _ => {
            registry.try_init().map_err(|e| e.to_string())?;
            Ok(Guard::default())
        }
    }
}

#[cfg(feature = "otlp")]
fn otlp_provider(
    endpoint: &str,
    service: &str,
) -> Result<opentelemetry_sdk::trace::SdkTracerProvider, String> {
    use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .with_timeout(std::time::Duration::from_secs(5))
        .with_headers(std::collections::HashMap::new())
        .build()
        .map_err(|e| format!("telemetry.otlp_endpoint: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service.to_owned())
        .build();
    Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
