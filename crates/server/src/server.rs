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
use std::sync::atomic::Ordering;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::config::{Config, ConfigError};
use crate::connections::Connections;
use crate::handler::{self, Port};
use crate::socket::Socket;
use crate::state::AppState;

#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    /// `/metrics` and `/readyz` only, when configured apart.
    admin: Option<TcpListener>,
    state: Arc<AppState>,
    shutdown_timeout: Duration,
    pre_stop: Duration,
    connections: Arc<Connections>,
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
        let listener = listen(addr).map_err(|source| StartError::Listen { addr, source })?;
        let admin = match config.server.admin_listen {
            Some(addr) => Some(listen(addr).map_err(|source| StartError::Listen { addr, source })?),
            None => None,
        };
        Ok(Server {
            listener,
            admin,
            state: Arc::new(state),
            shutdown_timeout: Duration::from_millis(config.server.shutdown_timeout_ms),
            pre_stop: Duration::from_millis(config.server.pre_stop_ms),
            connections: Arc::new(
                Connections::new(
                    config.server.max_connections,
                    Duration::from_millis(config.server.header_read_timeout_ms),
                    Duration::from_millis(config.server.idle_timeout_ms),
                )
                .with_send_timeout(Duration::from_millis(config.server.send_timeout_ms)),
            ),
            header_read_timeout: Duration::from_millis(config.server.header_read_timeout_ms),
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The admin listener's address, when one is configured.
    pub fn admin_addr(&self) -> Option<io::Result<SocketAddr>> {
        self.admin.as_ref().map(TcpListener::local_addr)
    }

    /// Serves until `shutdown` resolves; then `/readyz` fails at once while
    /// both listeners keep accepting for the pre-stop delay (load balancers
    /// notice and stop sending), then they close and in-flight requests get
    /// up to the shutdown timeout; pixel work still running then is
    /// cancelled.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let mut builder = ConnBuilder::new(TokioExecutor::new());
        // Later request headers on a keep-alive connection get as long as
        // the first (the first is timed by `Connections`).
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        // When accepting ends: armed once `shutdown` has resolved.
        let mut stopping = false;
        let pre_stop = tokio::time::sleep(Duration::from_secs(365 * 86_400));
        let mut pre_stop = std::pin::pin!(pre_stop);
        loop {
            // Biased, in this order: `shutdown` is polled before the first
            // accept (a signal handler it installs lazily is in place before
            // any request is served), and probes on the admin port are not
            // starved by a flood on the public one.
            let (accepted, port) = tokio::select! {
                biased;
                () = shutdown.as_mut(), if !stopping => {
                    stopping = true;
                    self.state.draining.store(true, Ordering::SeqCst);
                    tracing::info!(
                        pre_stop_ms = self.pre_stop.as_millis() as u64,
                        "shutting down: not ready, still accepting"
                    );
                    pre_stop.as_mut().reset(tokio::time::Instant::now() + self.pre_stop);
                    continue;
                }
                () = pre_stop.as_mut(), if stopping => break,
                accepted = accept_optional(self.admin.as_ref()) => (accepted, Port::Admin),
                accepted = self.listener.accept() => (accepted, Port::Public),
            };
            let (socket, _) = match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Without it, keep-alive responses stall on Nagle + delayed ACK.
            let _ = socket.set_nodelay(true);
            let metrics = self.state.metrics.clone();
            let Some(conn_state) = self.connections.register() else {
                metrics.connection_closed("refused");
                tokio::spawn(refuse(socket));
                continue;
            };
            metrics.connection_opened();
            let state = self.state.clone();
            let for_requests = conn_state.clone();
            let service = service_fn(move |req| {
                let state = state.clone();
                let busy = for_requests.busy();
                async move { Ok::<_, Infallible>(handler::handle(state, req, busy, port).await) }
            });
            let conn = builder.serve_connection(TokioIo::new(Socket::new(socket)), service);
            let conn = graceful.watch(conn.into_owned());
            let connections = self.connections.clone();
            tokio::spawn(async move {
                tokio::select! {
                    ended = conn => if let Err(e) = ended {
                        tracing::debug!(error = %e, "connection ended with an error");
                    },
                    // Dropping the connection closes the socket.
                    reason = connections.expired(&conn_state) => {
                        tracing::debug!(reason, "connection closed by the server");
                        metrics.connection_closed(reason);
                    }
                }
                connections.remove(&conn_state);
                metrics.connection_ended();
            });
        }
        drop(self.listener);
        drop(self.admin);
        tracing::info!("shutting down: draining in-flight requests");
        if tokio::time::timeout(self.shutdown_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("drain timeout reached; closing remaining connections");
        }
        // Whatever pixel work is left stops at its next check.
        self.state.cancel.store(true, Ordering::SeqCst);
    }
}

/// Accepts on the admin listener, or never when there is none.
async fn accept_optional(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Binds with a deep accept backlog: tokio's `TcpListener::bind` asks for
/// 128, and a burst of connections past it is dropped by the kernel and
/// retried by clients a second later (a health probe among them).
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    // The kernel caps it at net.core.somaxconn (4096 by default).
    socket.listen(4096)
}

/// Every open connection is working: say so at once rather than leave the
/// newcomer waiting in the backlog.
async fn refuse(mut socket: TcpStream) {
    const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 1\r\nconnection: close\r\n\r\n";
    let answer = async {
        // Read what the client sent first: closing on unread bytes would
        // reset the connection before the client sees the answer.
        let mut request = [0u8; 4096];
        let _sent = socket.read(&mut request).await?;
        socket.write_all(BUSY).await?;
        socket.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}
