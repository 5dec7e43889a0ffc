//! The floor for a cached-result hit: a hyper server on tokio's
//! multi-thread runtime (two workers) answering every request with the
//! same in-memory body and pixgate's hit headers, nothing else. Run it
//! beside pixgate and nginx under the same wrk to see what the HTTP stack
//! costs and what pixgate's own per-request work adds (benches/RESULTS.md,
//! "cheap paths"). Each of pixgate's connection settings can be switched
//! on: `BARE_AUTO=1` (HTTP/1 + h2c detection), `BARE_TIMER=1` (the
//! per-request header-read timer), `BARE_WATCH=1` (a per-connection
//! watcher polled beside the connection, as `server.rs` does).
//!
//! cargo run --release -p pixgate-benches --example bare_hyper -- BODY_FILE PORT
//! wrk -t2 -c32 -d10s http://127.0.0.1:PORT/

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

/// What `Connections::expired` does between wake-ups: a notification or
/// a deadline, whichever comes first.
async fn watch(changed: Arc<tokio::sync::Notify>) {
    loop {
        let notified = changed.notified();
        let until = tokio::time::Instant::now() + Duration::from_secs(30);
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep_until(until) => {}
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let body = Bytes::from(std::fs::read(args.next().expect("a body file")).expect("readable"));
    let port: u16 = args.next().map_or(18090, |p| p.parse().expect("a port"));
    let on = |name: &str| std::env::var_os(name).is_some();
    let (auto, timer, watcher) = (on("BARE_AUTO"), on("BARE_TIMER"), on("BARE_WATCH"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the port");
        let mut auto_builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        let mut http1 = hyper::server::conn::http1::Builder::new();
        if timer {
            let read = Duration::from_secs(10);
            auto_builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(read);
            http1.timer(TokioTimer::new()).header_read_timeout(read);
        }
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            let body = body.clone();
            let service = service_fn(move |_: Request<Incoming>| {
                let mut response = Response::new(Full::new(body.clone()));
                let h = response.headers_mut();
                for (name, value) in [
                    ("cache-control", "public, max-age=31536000"),
                    ("etag", "\"56a02250132059bbcc287b530de76942\""),
                    ("content-type", "image/jpeg"),
                    ("vary", "x-oss-process"),
                    ("x-oss-request-id", "6B11B2498DA3C6903E7C47C3"),
                ] {
                    h.insert(name, value.parse().expect("a header value"));
                }
                async move { Ok::<_, Infallible>(response) }
            });
            let changed = Arc::new(tokio::sync::Notify::new());
            let io = TokioIo::new(socket);
            if auto {
                let conn = auto_builder.serve_connection(io, service).into_owned();
                tokio::spawn(async move {
                    if watcher {
                        tokio::select! { _ = conn => {}, () = watch(changed) => {} }
                    } else {
                        let _ = conn.await;
                    }
                });
            } else {
                let conn = http1.serve_connection(io, service);
                tokio::spawn(async move {
                    if watcher {
                        tokio::select! { _ = conn => {}, () = watch(changed) => {} }
                    } else {
                        let _ = conn.await;
                    }
                });
            }
        }
    });
}
