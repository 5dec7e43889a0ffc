//! The one response body type, and ways to make it.

use std::io;
use std::time::Instant;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Body as _, Frame};
use pixgate_origin::ByteStream;

use crate::connections::Busy;

pub type Body = UnsyncBoxBody<Bytes, io::Error>;

pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Streams an origin's body as it arrives.
pub fn stream(s: ByteStream) -> Body {
    StreamBody::new(s.map_ok(Frame::data)).boxed_unsync()
}

/// How a response body ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Every byte was handed to the connection.
    Complete,
    /// The body's source failed part-way (an upstream stream broke).
    Failed(String),
    /// Dropped before its end: the client went away.
    Abandoned,
}

/// A body that reports how it ended, once (request logs), and keeps its
/// connection marked as working — and the client as reading — until then.
pub struct Watched<F: FnOnce(End, Instant)> {
    inner: Body,
    /// The `Content-Length` sent, and the data bytes handed over so far:
    /// hyper stops polling once that many are written.
    length: Option<u64>,
    sent: u64,
    /// The inner body has once not been ready.
    waited: bool,
    busy: Option<Busy>,
    on_end: Option<F>,
}

impl<F: FnOnce(End, Instant)> std::fmt::Debug for Watched<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched").finish_non_exhaustive()
    }
}

// `on_end` is only ever moved out and called, never polled in place.
impl<F: FnOnce(End, Instant)> Unpin for Watched<F> {}

impl<F: FnOnce(End, Instant)> Watched<F> {
    fn end(&mut self, end: End) {
        if self.on_end.is_none() && self.busy.is_none() {
            return; // Ended already; this is the drop after it.
        }
        // One clock reading for the log line and the connection's idle
        // time alike.
        let now = Instant::now();
        if let Some(f) = self.on_end.take() {
            f(end, now);
        }
        if let Some(busy) = self.busy.take() {
            busy.end_at(now);
        }
    }
}

/// `inner` (announced as `length` bytes, if known), calling `on_end` with
/// how and when it ended, failed or was dropped.
pub fn watched(
    inner: Body,
    length: Option<u64>,
    mut busy: Busy,
    on_end: impl FnOnce(End, Instant) + Send + 'static,
) -> Body {
    busy.sending();
    Watched {
        inner,
        length,
        sent: 0,
        waited: false,
        busy: Some(busy),
        on_end: Some(on_end),
    }
    .boxed_unsync()
}

impl<F: FnOnce(End, Instant)> hyper::body::Body for Watched<F> {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            std::task::Poll::Ready(Some(Ok(frame))) => {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                // Asked for more after some bytes: the client took some.
                // Or the body made hyper wait (an upstream stream): the
                // client was not the one holding things up. A first frame
                // ready at once follows `sending`, which marked it.
                if (self.sent > 0 || self.waited)
                    && let Some(b) = &self.busy
                {
                    b.progressed();
                }
                self.sent += n;
            }
            std::task::Poll::Ready(None) => self.end(End::Complete),
            std::task::Poll::Ready(Some(Err(e))) => {
                let e = e.to_string();
                self.end(End::Failed(e));
            }
            std::task::Poll::Pending => self.waited = true,
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

impl<F: FnOnce(End, Instant)> Drop for Watched<F> {
    fn drop(&mut self) {
        // hyper stops polling once a body says it is at its end, or once
        // the announced length is written.
        let end = if self.inner.is_end_stream() || self.length == Some(self.sent) {
            End::Complete
        } else {
            End::Abandoned
        };
        self.end(end);
    }
}

/// A request (or upstream) body read whole, up to `cap` bytes; `what`
/// names it in the refusal of a longer one.
pub async fn read_capped(
    body: impl Into<Option<ByteStream>>,
    cap: usize,
    what: &str,
) -> Result<Bytes, crate::error::ApiError> {
    use crate::error::{ApiError, Code};
    use futures_util::StreamExt;
    let Some(mut body) = body.into() else {
        return Ok(Bytes::new());
    };
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                Code::IncompleteBody,
                format!("The request body could not be read ({e})."),
            )
        })?;
        out.extend_from_slice(&chunk);
        if out.len() > cap {
            return Err(ApiError::new(
                Code::EntityTooLarge,
                format!("{what} is larger than this proxy accepts."),
            ));
        }
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use http_body_util::BodyExt;

    use super::*;
    use crate::connections::Connections;

    /// An upstream that is slow to start streaming holds up the response,
    /// not the client: the send timeout counts from its first chunk.
    #[tokio::test]
    async fn a_slow_upstream_is_not_a_stalled_client() {
        let c = Arc::new(
            Connections::new(8, Duration::from_secs(60), Duration::from_secs(60))
                .with_send_timeout(Duration::from_millis(300)),
        );
        let conn = c.register().unwrap();
        let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(1);
        let chunks: ByteStream = Box::pin(futures_util::stream::unfold(rx, |mut rx| async {
            rx.recv().await.map(|chunk| (chunk, rx))
        }));
        let mut body = watched(stream(chunks), None, conn.busy(), |_, _| {});
        let watch = {
            let (c, conn) = (c.clone(), conn.clone());
            tokio::spawn(async move { c.expired(&conn).await })
        };
        tokio::spawn(async move {
            for _ in 0..2 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let _ = tx.send(Ok(Bytes::from_static(b"chunk"))).await;
            }
        });
        // The client reads each chunk as soon as it exists.
        let mut frames = 0;
        while let Some(frame) = body.frame().await {
            frame.unwrap();
            frames += 1;
            assert!(!watch.is_finished(), "cut off after {frames} chunks");
        }
        assert_eq!(frames, 2);
        assert!(!watch.is_finished(), "cut off while the upstream streamed");
        watch.abort();
    }
}
