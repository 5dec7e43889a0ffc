//! A source body read whole, into one buffer of its announced length: the
//! image path needs every byte before it decodes, so the chunks are not kept.

use std::io;

use bytes::Bytes;
use futures_util::StreamExt;

use crate::{Fetched, Object, ObjectMeta, OriginError};

/// An object with its whole body.
#[derive(Debug)]
pub struct Whole {
    pub fetched: Fetched,
    pub meta: ObjectMeta,
    /// Empty for a HEAD or a 304.
    pub body: Bytes,
}

/// Why a whole body could not be had.
#[derive(Debug, thiserror::Error)]
pub enum WholeError {
    #[error(transparent)]
    Origin(#[from] OriginError),
    /// Announced, or found while reading, past the caller's byte cap;
    /// nothing past the cap is read.
    #[error("the body is larger than the byte cap")]
    TooLarge,
    /// The transfer broke (a timed-out read has kind `TimedOut`).
    #[error("the body could not be read ({})", .0.kind())]
    Body(io::Error),
    #[error("the body is longer than its announced length")]
    Longer,
    #[error("the body ended before its announced length")]
    Shorter,
}

impl Object {
    /// Reads the body into one buffer, at most `cap` bytes. With a
    /// Content-Length the buffer is allocated once at that size and the
    /// body must match it exactly; without one it grows up to the cap.
    pub async fn into_whole(self, cap: u64) -> Result<Whole, WholeError> {
        let announced = self.meta.content_length;
        if announced.is_some_and(|n| n > cap) {
            return Err(WholeError::TooLarge);
        }
        let Some(mut stream) = self.body else {
            return Ok(Whole {
                fetched: self.fetched,
                meta: self.meta,
                body: Bytes::new(),
            });
        };
        let limit = announced.unwrap_or(cap);
        let mut out = Vec::with_capacity(announced.unwrap_or(0) as usize);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(WholeError::Body)?;
            // One chunk may be the whole body: keep it rather than copy it.
            if out.is_empty() && announced == Some(chunk.len() as u64) {
                if let Some(more) = stream.next().await {
                    more.map_err(WholeError::Body)?;
                    return Err(WholeError::Longer);
                }
                return Ok(Whole {
                    fetched: self.fetched,
                    meta: self.meta,
                    body: chunk,
                });
            }
            if (out.len() + chunk.len()) as u64 > limit {
                return Err(if announced.is_some() {
                    WholeError::Longer
                } else {
                    WholeError::TooLarge
                });
            }
            out.extend_from_slice(&chunk);
        }
        if announced.is_some_and(|n| (out.len() as u64) < n) {
            return Err(WholeError::Shorter);
        }
        Ok(Whole {
            fetched: self.fetched,
            meta: self.meta,
            body: Bytes::from(out),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    fn object(len: Option<u64>, chunks: &[&'static [u8]]) -> Object {
        let items: Vec<io::Result<Bytes>> =
            chunks.iter().map(|c| Ok(Bytes::from_static(c))).collect();
        Object {
            fetched: Fetched::Full,
            meta: ObjectMeta {
                content_length: len,
                ..ObjectMeta::default()
            },
            body: Some(stream::iter(items).boxed()),
        }
    }

    #[tokio::test]
    async fn chunks_land_in_one_buffer() {
        let w = object(Some(6), &[b"ab", b"cd", b"ef"])
            .into_whole(100)
            .await
            .unwrap();
        assert_eq!(&w.body[..], b"abcdef");
        let w = object(None, &[b"ab", b"cd"]).into_whole(100).await.unwrap();
        assert_eq!(&w.body[..], b"abcd");
        let w = object(Some(3), &[b"abc"]).into_whole(100).await.unwrap();
        assert_eq!(&w.body[..], b"abc");
    }

    #[tokio::test]
    async fn length_mismatches_and_the_cap_are_errors() {
        let r = object(Some(3), &[b"ab", b"cd"]).into_whole(100).await;
        assert!(matches!(r, Err(WholeError::Longer)), "{r:?}");
        let r = object(Some(2), &[b"ab", b"c"]).into_whole(100).await;
        assert!(matches!(r, Err(WholeError::Longer)), "{r:?}");
        let r = object(Some(5), &[b"ab", b"c"]).into_whole(100).await;
        assert!(matches!(r, Err(WholeError::Shorter)), "{r:?}");
        let r = object(Some(101), &[b"ab"]).into_whole(100).await;
        assert!(matches!(r, Err(WholeError::TooLarge)), "{r:?}");
        let r = object(None, &[b"abc", b"def"]).into_whole(5).await;
        assert!(matches!(r, Err(WholeError::TooLarge)), "{r:?}");
    }
}
