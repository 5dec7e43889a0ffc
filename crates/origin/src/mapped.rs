//! File bodies a socket can send with `sendfile(2)`.
//!
//! hyper writes bodies from memory, so a file served through it is read
//! into user space and copied again into the socket; nginx hands the page
//! cache to the socket instead (`sendfile`), and on an original of a few
//! megabytes that difference is most of the cost. A [`map`]ped body is a
//! read-only, shared memory map of the file that nothing is meant to read:
//! its addresses identify the file. The server's connections look up the
//! address of every slice hyper asks them to write ([`find`]) and send a
//! mapped one with `sendfile` from the file, so the map's pages are never
//! touched (no page faults, no copy). Anything else that reads the bytes
//! still reads the file's contents through the map, so the body is an
//! ordinary `Bytes` to the rest of the code.
//!
//! A mapped file truncated while it is read through the map raises SIGBUS:
//! only bodies whose bytes go straight to an HTTP/1 socket are mapped
//! (`ObjectRequest::mapped`), and their first bytes, the only ones the
//! server reads itself (to sniff a type), come in a chunk of their own
//! read with `pread`.

#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

/// Live maps by start address: their length and file.
static REGIONS: Mutex<BTreeMap<usize, (usize, RawFd)>> = Mutex::new(BTreeMap::new());
/// How many maps are live: writes skip the lookup while there are none.
static LIVE: AtomicUsize = AtomicUsize::new(0);

fn regions() -> MutexGuard<'static, BTreeMap<usize, (usize, RawFd)>> {
    // The map of addresses stays valid whatever panicked.
    REGIONS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A file's read-only map, registered by address while it lives.
struct Mapping {
    addr: usize,
    len: usize,
    /// Kept open for `sendfile` as long as the map lives.
    file: File,
}

impl AsRef<[u8]> for Mapping {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `addr..addr + len` is a live PROT_READ mapping owned by
        // `self` (unmapped only in `drop`).
        unsafe { std::slice::from_raw_parts(self.addr as *const u8, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Unregistered before it is unmapped: a later map at the same
        // address is never mistaken for this file.
        regions().remove(&self.addr);
        LIVE.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: the mapping was created by `map` with this address and
        // length, and no `Bytes` referring to it remains (this is the
        // owner's drop).
        unsafe {
            libc::munmap(self.addr as *mut libc::c_void, self.len);
        }
        let _ = &self.file;
    }
}

/// The first `len` bytes of `file` (its size when mapped), as a body whose
/// writes to a socket can become `sendfile`. `len` must be > 0.
pub fn map(file: File, len: u64) -> io::Result<Bytes> {
    let len = usize::try_from(len).map_err(io::Error::other)?;
    if len == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an empty file cannot be mapped",
        ));
    }
    // SAFETY: a fresh shared read-only mapping of an open file; the kernel
    // picks the address. The pages are not touched here.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    let addr = addr as usize;
    regions().insert(addr, (len, file.as_raw_fd()));
    LIVE.fetch_add(1, Ordering::Relaxed);
    Ok(Bytes::from_owner(Mapping { addr, len, file }))
}

/// Where a slice starting at `ptr` lies if it is part of a live map: the
/// file's descriptor, the offset in the file, and how many bytes of the map
/// follow `ptr`. The caller must hold the slice (so the map stays alive
/// while the descriptor is used).
pub fn find(ptr: *const u8) -> Option<(RawFd, u64, usize)> {
    if LIVE.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let at = ptr as usize;
    let regions = regions();
    let (&start, &(len, fd)) = regions.range(..=at).next_back()?;
    let offset = at - start;
    (offset < len).then(|| (fd, offset as u64, len - offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// The address one past the end of `body` (never dereferenced).
    fn past_the_end(body: &Bytes) -> *const u8 {
        body.as_ptr().wrapping_add(body.len())
    }

    #[test]
    fn a_mapped_file_is_found_by_address_and_reads_as_the_file() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"0123456789").unwrap();
        let body = map(f, 10).unwrap();
        assert_eq!(&body[..], b"0123456789");
        let part = body.slice(4..);
        let (fd, offset, left) = find(part.as_ptr()).unwrap();
        assert!(fd >= 0);
        assert_eq!((offset, left), (4, 6));
        let addr = body.as_ptr() as usize;
        drop((body, part));
        assert!(
            find(addr as *const u8).is_none(),
            "unregistered when dropped"
        );
        assert!(find(b"elsewhere".as_ptr()).is_none());
        // Past the end of a live map, in its last page (where no other map
        // can start), is in no map.
        let f = tempfile::tempfile().unwrap();
        f.set_len(10).unwrap();
        let other = map(f, 10).unwrap();
        assert!(find(past_the_end(&other).wrapping_add(1)).is_none());
    }
}
