//! A client connection's socket: a TCP stream whose writes of a
//! [`mapped`](pixgate_origin::mapped) file body become `sendfile(2)` from
//! the file (no copy through user space; the map's pages stay untouched).
//! Every other write is the stream's own.

#![allow(unsafe_code)]

use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pixgate_origin::mapped;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

#[derive(Debug)]
pub struct Socket(TcpStream);

impl Socket {
    pub fn new(stream: TcpStream) -> Socket {
        Socket(stream)
    }

    /// A non-blocking system call on the socket once it is writable: a
    /// negative return is errno; would-block waits and EINTR retries.
    fn poll_syscall(
        &self,
        cx: &mut Context<'_>,
        mut call: impl FnMut(RawFd) -> isize,
    ) -> Poll<io::Result<usize>> {
        let socket = self.0.as_raw_fd();
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            let done = self.0.try_io(Interest::WRITABLE, || match call(socket) {
                n if n < 0 => Err(io::Error::last_os_error()),
                n => Ok(n as usize),
            });
            match done {
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                done => return Poll::Ready(done),
            }
        }
    }

    /// Up to `len` bytes of `file` from `offset`, sent from the page cache.
    fn poll_sendfile(
        &self,
        cx: &mut Context<'_>,
        file: RawFd,
        offset: u64,
        len: usize,
    ) -> Poll<io::Result<usize>> {
        let offset = libc::off_t::try_from(offset).map_err(io::Error::other)?;
        let sent = ready!(self.poll_syscall(cx, |socket| {
            let mut off = offset;
            // SAFETY: both descriptors are open (the socket is ours; the
            // file's map, which holds it, lives as long as the slice being
            // written); `off` is a valid out-pointer.
            unsafe { libc::sendfile(socket, file, &mut off, len) }
        }))?;
        // The file ended before the length announced: a shrunken file must
        // not pass for a complete body.
        if sent == 0 && len > 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being sent",
            )));
        }
        Poll::Ready(Ok(sent))
    }

    /// `writev` that tells the kernel more follows (`MSG_MORE`): the
    /// response head leaves in the same segment as the file's first bytes
    /// rather than alone (the socket has `TCP_NODELAY`).
    fn poll_send_more(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_syscall(cx, |socket| {
            // SAFETY: an all-zero msghdr is valid (no name, no control data).
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            // `IoSlice` is ABI-compatible with `iovec` on Unix (std's guarantee).
            msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
            msg.msg_iovlen = bufs.len() as _;
            // SAFETY: `msg` points at `bufs`, which outlive the call.
            unsafe { libc::sendmsg(socket, &msg, libc::MSG_MORE | libc::MSG_NOSIGNAL) }
        })
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

/// `sendfile` refused for this pair of descriptors (not for the data).
fn unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some((file, offset, left)) = mapped::find(buf.as_ptr()) {
            let len = buf.len().min(left);
            return match ready!(self.poll_sendfile(cx, file, offset, len)) {
                // A file system or socket without sendfile: the bytes
                // through the map, as an ordinary write.
                Err(e) if unsupported(&e) => Pin::new(&mut self.0).poll_write(cx, &buf[..len]),
                other => Poll::Ready(other),
            };
        }
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    /// The slices before the first mapped one go out as one `writev`; a
    /// mapped slice at the front goes out by itself with `sendfile`.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first_mapped = bufs
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .find_map(|(i, b)| Some((i, b.len(), mapped::find(b.as_ptr())?)));
        match first_mapped {
            None => Pin::new(&mut self.0).poll_write_vectored(cx, bufs),
            Some((i, _, _)) if bufs[..i].iter().any(|b| !b.is_empty()) => {
                self.poll_send_more(cx, &bufs[..i])
            }
            Some((i, len, (file, offset, left))) => {
                let len = len.min(left);
                match ready!(self.poll_sendfile(cx, file, offset, len)) {
                    Err(e) if unsupported(&e) => {
                        Pin::new(&mut self.0).poll_write(cx, &bufs[i][..len])
                    }
                    other => Poll::Ready(other),
                }
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
