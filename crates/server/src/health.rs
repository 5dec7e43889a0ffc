//! `/healthz` (the process answers) and `/readyz` (every upstream answers).

use std::time::Duration;

use futures_util::future::join_all;
use http::{Response, StatusCode};

use crate::body::{self, Body};
use crate::state::AppState;

/// Readiness must answer quickly even when an upstream hangs.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub fn healthz() -> Response<Body> {
    text(StatusCode::OK, "ok\n".to_owned())
}

pub async fn readyz(state: &AppState) -> Response<Body> {
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        // Load balancers stop sending before the listener closes.
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready\nshutting down\n".to_owned(),
        );
    }
    let checks = state.buckets.values().map(|b| async move {
        let outcome = tokio::time::timeout(READY_TIMEOUT, b.origin.check()).await;
        let problem = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => Some("the readiness check timed out".to_owned()),
        };
        (b.name.as_str(), problem)
    });
    let mut problems: Vec<String> = join_all(checks)
        .await
        .into_iter()
        .filter_map(|(name, p)| p.map(|p| format!("bucket {name}: {p}")))
        .collect();
    if problems.is_empty() {
        return text(StatusCode::OK, "ready\n".to_owned());
    }
    problems.sort();
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        format!("not ready\n{}\n", problems.join("\n")),
    )
}

/// The admin listener serves nothing but the probes and metrics.
pub fn not_found() -> Response<Body> {
    text(
        StatusCode::NOT_FOUND,
        "not found: this port serves /healthz, /readyz and /metrics\n".to_owned(),
    )
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(body::full(body))
        .unwrap_or_default()
}
