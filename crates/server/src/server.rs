//! The listener: accepts connections, serves HTTP/1.1 and h2c on each, and
//! drains in-flight requests on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::config::{Config, ConfigError};
use crate::handler;
use crate::state::AppState;

#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown_timeout: Duration,
    /// One permit per open client connection.
    connections: Arc<Semaphore>,
    header_read_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: io::Error },
}

impl Server {
    /// Builds every origin and binds the listener; nothing is served until [`Server::run`].
    pub async fn bind(config: &Config) -> Result<Server, StartError> {
        Server::bind_with_env(config, |name| std::env::var(name).ok()).await
    }

    /// [`Server::bind`] with the `AWS_*` environment looked up through `env`.
    pub async fn bind_with_env(
        config: &Config,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Server, StartError> {
        let state = AppState::build(config, env)?;
        let addr = config.server.listen;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Listen { addr, source })?;
        Ok(Server {
            listener,
            state: Arc::new(state),
            shutdown_timeout: Duration::from_millis(config.server.shutdown_timeout_ms),
            connections: Arc::new(Semaphore::new(config.server.max_connections)),
            header_read_timeout: Duration::from_millis(config.server.header_read_timeout_ms),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then stops accepting and waits up to
    /// the shutdown timeout for in-flight requests.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut builder = ConnBuilder::new(TokioExecutor::new());
        // Slow or idle clients give their connection back after this long.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            // At the connection cap, stop accepting until one closes.
            let slot = tokio::select! {
                slot = self.connections.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
                () = shutdown.as_mut() => break,
            };
            let (socket, _) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = shutdown.as_mut() => break,
            };
            // Without it, keep-alive responses stall on Nagle + delayed ACK.
            let _ = socket.set_nodelay(true);
            let state = self.state.clone();
            let service = service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handler::handle(state, req).await) }
            });
            let conn = builder.serve_connection(TokioIo::new(socket), service);
            let conn = graceful.watch(conn.into_owned());
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                drop(slot);
            });
        }
        drop(self.listener);
        tracing::info!("shutting down: draining in-flight requests");
        if tokio::time::timeout(self.shutdown_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("drain timeout reached; closing remaining connections");
        }
    }
}
