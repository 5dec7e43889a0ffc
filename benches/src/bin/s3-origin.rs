//! The peer benchmark's S3 server: s3s-fs, the same S3 implementation as the
//! `s3s-fs` binary, served without authentication and with `TCP_NODELAY` on
//! every connection. The stock binary leaves Nagle's algorithm on, which
//! stalls every keep-alive response of a few hundred kilobytes by the
//! client's delayed-ACK timer (~40 ms) — a cost that would fall on whichever
//! contestant pools its upstream connections, not on image processing.
//!
//!     s3-origin PORT ROOT      (ROOT/<bucket>/<key> are the objects)

use std::net::SocketAddr;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(root)) = (args.next(), args.next()) else {
        return Err("usage: s3-origin PORT ROOT".into());
    };
    let fs = s3s_fs::FileSystem::new(&root).map_err(|e| format!("{root}: {e:?}"))?;
    let service = S3ServiceBuilder::new(fs).build();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let listener = TcpListener::bind(addr).await?;
    let http = Builder::new(TokioExecutor::new());
    loop {
        let (socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        let conn = http
            .serve_connection(TokioIo::new(socket), service.clone())
            .into_owned();
        tokio::spawn(conn);
    }
}
