//! `aws-chunked` bodies with unsigned chunks and a checksum trailer
//! (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`), what boto3 ≥ 1.36 sends over
//! https: decoded as they stream, the CRC32 trailer checked at the end.

use std::io;

use base64::Engine;
use bytes::{Buf, Bytes, BytesMut};
use futures_util::StreamExt;

use crate::ByteStream;

/// Longest size or trailer line accepted.
const LINE_CAP: usize = 4096;

/// Why a chunked body was refused; carried inside the stream's `io::Error`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ChunkError {
    #[error("the aws-chunked framing is malformed ({0})")]
    Malformed(&'static str),
    #[error("the body does not match its x-amz-checksum-crc32 trailer")]
    Checksum,
}

impl ChunkError {
    /// The `ChunkError` inside a stream error, if it is one.
    pub(crate) fn of(e: &io::Error) -> Option<&ChunkError> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<ChunkError>())
    }
}

fn fail(e: ChunkError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

enum State {
    Size,
    Data(usize),
    DataEnd,
    Trailer,
    Done,
}

struct Decoder {
    inner: ByteStream,
    buf: BytesMut,
    state: State,
    crc: crc32fast::Hasher,
    /// The trailer's CRC32 when seen.
    trailer_crc: Option<String>,
    ended: bool,
}

impl Decoder {
    /// A CRLF-terminated line from the buffer, if complete.
    fn line(&mut self) -> Result<Option<String>, io::Error> {
        match self.buf.windows(2).position(|w| w == b"\r\n") {
            Some(at) => {
                let line = self.buf.split_to(at);
                self.buf.advance(2);
                String::from_utf8(line.to_vec())
                    .map(Some)
                    .map_err(|_| fail(ChunkError::Malformed("a line is not text")))
            }
            None if self.buf.len() > LINE_CAP => {
                Err(fail(ChunkError::Malformed("a line is too long")))
            }
            None => Ok(None),
        }
    }

    /// The next decoded bytes, `None` at the end; reads more when needed.
    async fn next(&mut self) -> Option<Result<Bytes, io::Error>> {
        loop {
            match self.step() {
                Ok(Some(out)) => return Some(Ok(out)),
                Ok(None) if matches!(self.state, State::Done) => return None,
                Ok(None) => {}
                Err(e) => {
                    self.state = State::Done;
                    return Some(Err(e));
                }
            }
            if self.ended {
                self.state = State::Done;
                return Some(Err(fail(ChunkError::Malformed("the body ended early"))));
            }
            match self.inner.next().await {
                Some(Ok(chunk)) => self.buf.extend_from_slice(&chunk),
                Some(Err(e)) => {
                    self.state = State::Done;
                    return Some(Err(e));
                }
                None => self.ended = true,
            }
        }
    }

    /// Advances with what is buffered: decoded bytes, or `None` if it needs
    /// more input (or is done).
    fn step(&mut self) -> Result<Option<Bytes>, io::Error> {
        loop {
            match self.state {
                State::Size => {
                    let Some(line) = self.line()? else {
                        return Ok(None);
                    };
                    // Unsigned chunks carry no `;chunk-signature=`.
                    let hex = line.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(hex, 16)
                        .map_err(|_| fail(ChunkError::Malformed("a chunk size is not hex")))?;
                    self.state = if size == 0 {
                        State::Trailer
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let n = left.min(self.buf.len());
                    let out = self.buf.split_to(n).freeze();
                    self.crc.update(&out);
                    self.state = if n == left {
                        State::DataEnd
                    } else {
                        State::Data(left - n)
                    };
                    return Ok(Some(out));
                }
                State::DataEnd => {
                    if self.buf.len() < 2 {
                        return Ok(None);
                    }
                    if &self.buf[..2] != b"\r\n" {
                        return Err(fail(ChunkError::Malformed(
                            "a chunk is longer than its size",
                        )));
                    }
                    self.buf.advance(2);
                    self.state = State::Size;
                }
                State::Trailer => {
                    let Some(line) = self.line()? else {
                        return Ok(None);
                    };
                    if !line.is_empty() {
                        if let Some((name, value)) = line.split_once(':')
                            && name.trim().eq_ignore_ascii_case("x-amz-checksum-crc32")
                        {
                            self.trailer_crc = Some(value.trim().to_owned());
                        }
                        continue;
                    }
                    if let Some(expected) = &self.trailer_crc {
                        let got = base64::engine::general_purpose::STANDARD
                            .encode(self.crc.clone().finalize().to_be_bytes());
                        if &got != expected {
                            return Err(fail(ChunkError::Checksum));
                        }
                    }
                    self.state = State::Done;
                    return Ok(None);
                }
                State::Done => return Ok(None),
            }
        }
    }
}

/// The payload of an `aws-chunked` body. A CRC32 trailer is checked; other
/// checksum trailers are not (the SDKs' default is CRC32).
pub(crate) fn decode(body: ByteStream) -> ByteStream {
    let decoder = Decoder {
        inner: body,
        buf: BytesMut::new(),
        state: State::Size,
        crc: crc32fast::Hasher::new(),
        trailer_crc: None,
        ended: false,
    };
    futures_util::stream::unfold(decoder, |mut d| async move {
        let item = d.next().await?;
        Some((item, d))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(raw: &'static [u8], at: usize) -> ByteStream {
        // Chunks of `at` bytes: framing cut anywhere must still decode.
        let parts: Vec<io::Result<Bytes>> = raw
            .chunks(at)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        futures_util::stream::iter(parts).boxed()
    }

    async fn all(s: ByteStream) -> Result<Vec<u8>, io::Error> {
        let mut out = Vec::new();
        let mut s = s;
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c?);
        }
        Ok(out)
    }

    /// `hello world` as botocore frames it, CRC32 `DUoRhQ==`.
    const GOOD: &[u8] = b"6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";

    #[tokio::test]
    async fn decodes_whatever_the_chunking() {
        for at in [1, 2, 3, 7, 64] {
            assert_eq!(all(decode(split(GOOD, at))).await.unwrap(), b"hello world");
        }
    }

    #[tokio::test]
    async fn refuses_bad_checksums_and_framing() {
        let bad = b"6\r\nhello \r\n5\r\nWorld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let e = all(decode(split(bad, 5))).await.unwrap_err();
        assert_eq!(ChunkError::of(&e), Some(&ChunkError::Checksum));
        for raw in [
            &b"zz\r\nhello"[..],
            b"6\r\nhello world\r\n0\r\n\r\n",
            b"6\r\nhel",
            b"6\r\nhello \r\n",
        ] {
            let raw: &'static [u8] = Box::leak(raw.to_vec().into_boxed_slice());
            let e = all(decode(split(raw, 4))).await.unwrap_err();
            assert!(
                matches!(ChunkError::of(&e), Some(ChunkError::Malformed(_))),
                "{raw:?}: {e}"
            );
        }
    }
}
