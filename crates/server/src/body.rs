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
        // One clock reading for the log line and the connection alike.
        let now = Instant::now();
        if let Some(f) = self.on_end.take() {
            f(end, now);
        }
        // The connection is idle once the log line is written.
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
                // (The first frame follows `sending` at once.)
                if self.sent > 0
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
            _ => {}
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
