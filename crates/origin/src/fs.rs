//! A local directory as a bucket: the embedded default (`serve --root DIR`).

use std::io::{self, SeekFrom};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, StatxFlags};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use crate::range::{RangeError, parse_range};
use bytes::Bytes;

use crate::{
    Fetched, Object, ObjectMeta, ObjectRequest, Origin, OriginError, Whole, WholeError,
    validate_key,
};

/// Read size for streaming files: large enough to keep syscalls rare,
/// small enough that many concurrent streams stay cheap.
const CHUNK: usize = 64 * 1024;

/// What a fetch found: the answer, and where its body is (offset and
/// length in the opened file) unless there is none.
struct Lookup {
    fetched: Fetched,
    meta: ObjectMeta,
    body: Option<(u64, u64)>,
    /// The whole file's size.
    size: u64,
    /// The type came from the key's extension: nobody sniffs the body.
    typed: bool,
}

#[derive(Debug, Clone)]
pub struct LocalDir {
    /// Canonical (symlink-free, absolute) root: every served file must be under it.
    root: PathBuf,
    /// The root, open, for opening files beneath it without a path walk
    /// from `/` ([`LocalDir::open_cached`]).
    root_dir: Arc<OwnedFd>,
}

impl LocalDir {
    /// Fails unless `root` is an existing directory.
    pub fn new(root: impl AsRef<Path>) -> io::Result<LocalDir> {
        let root = std::fs::canonicalize(root.as_ref())?;
        if !root.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", root.display()),
            ));
        }
        let root_dir = rustix::fs::open(
            &root,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(LocalDir {
            root,
            root_dir: Arc::new(root_dir),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Looks the key up and hands the opened file to `body` (with the
    /// lookup). A trip to the blocking pool costs two thread switches, more
    /// than all the work on a small file: a file the kernel can open from
    /// its caches is opened here, and `body` runs here too unless it
    /// `blocks` (reads the file); anything else takes one blocking call.
    async fn open<T, E>(
        &self,
        req: &ObjectRequest,
        blocks: bool,
        body: impl FnOnce(std::fs::File, &Lookup) -> Result<T, E> + Send + 'static,
    ) -> Result<(Lookup, Option<T>), E>
    where
        T: Send + 'static,
        E: From<OriginError> + Send + 'static,
    {
        validate_key(&req.key)?;
        if req.key.split('/').any(|seg| seg.is_empty() || seg == ".") {
            return Err(OriginError::InvalidKey(
                "it has an empty or '.' path segment, which a directory cannot hold as a key",
            )
            .into());
        }
        let in_pool = |e: tokio::task::JoinError| OriginError::Io(e.to_string());
        let Some((file, stat)) = self.open_cached(&req.key) else {
            let root = self.root.clone();
            let req = req.clone();
            return tokio::task::spawn_blocking(move || {
                let (path, file, stat) = resolve(&root, &req.key)?;
                let found = lookup(&path, &stat, &req)?;
                let opened = match found.body {
                    Some(_) => Some(body(file, &found)?),
                    None => None,
                };
                Ok((found, opened))
            })
            .await
            .map_err(in_pool)?;
        };
        let found = lookup(&self.root.join(&req.key), &stat, req)?;
        match found.body {
            None => Ok((found, None)),
            Some(_) if !blocks => {
                let opened = body(file, &found)?;
                Ok((found, Some(opened)))
            }
            Some(_) => tokio::task::spawn_blocking(move || {
                let opened = body(file, &found)?;
                Ok((found, Some(opened)))
            })
            .await
            .map_err(in_pool)?,
        }
    }

    /// The regular file at `key`, if the kernel can open it from its
    /// caches alone, without following a symlink or leaving the root
    /// (`openat2` with `RESOLVE_CACHED`, as io_uring tries first), and
    /// its metadata as cached. `None` means: ask [`resolve`], which
    /// decides every other case, errors included.
    fn open_cached(&self, key: &str) -> Option<(std::fs::File, Stat)> {
        let fd = rustix::fs::openat2(
            &*self.root_dir,
            key,
            // A FIFO must not wait for a writer (files ignore the flag).
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::CACHED
                | ResolveFlags::BENEATH
                | ResolveFlags::NO_SYMLINKS
                | ResolveFlags::NO_MAGICLINKS,
        )
        .ok()?;
        // What the kernel holds, without asking a network file system.
        let st = rustix::fs::statx(
            &fd,
            "",
            AtFlags::EMPTY_PATH | AtFlags::STATX_DONT_SYNC,
            StatxFlags::TYPE | StatxFlags::SIZE | StatxFlags::MTIME,
        )
        .ok()?;
        if u32::from(st.stx_mode) & libc::S_IFMT != libc::S_IFREG {
            return None;
        }
        // Anything unusual (no time, before 1970) is left to `resolve`.
        if st.stx_mask & StatxFlags::MTIME.bits() == 0 {
            return None;
        }
        let secs = u64::try_from(st.stx_mtime.tv_sec).ok()?;
        let modified = UNIX_EPOCH.checked_add(Duration::new(secs, st.stx_mtime.tv_nsec));
        Some((
            std::fs::File::from(fd),
            Stat {
                size: st.stx_size,
                modified,
            },
        ))
    }
}

/// What an answer needs of a file's metadata.
struct Stat {
    size: u64,
    modified: Option<SystemTime>,
}

/// The file behind `key`, opened, and its metadata from the open file (so
/// the answer's validators are those of the bytes sent); refused unless
/// it is a regular file inside `root` once every symlink is resolved.
fn resolve(root: &Path, key: &str) -> Result<(PathBuf, std::fs::File, Stat), OriginError> {
    use std::os::unix::fs::OpenOptionsExt;
    let real = std::fs::canonicalize(root.join(key)).map_err(io_error)?;
    if !real.starts_with(root) {
        return Err(OriginError::OutsideRoot);
    }
    // Non-blocking: opening a FIFO someone left in the bucket must not
    // wait for a writer (a regular file ignores the flag).
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&real)
        .map_err(io_error)?;
    let stat = file.metadata().map_err(io_error)?;
    if !stat.is_file() {
        return Err(OriginError::NoSuchKey);
    }
    let stat = Stat {
        size: stat.len(),
        modified: stat.modified().ok(),
    };
    Ok((real, file, stat))
}

/// The answer's status and metadata, and for a body the offset and length
/// to read.
fn lookup(path: &Path, stat: &Stat, req: &ObjectRequest) -> Result<Lookup, OriginError> {
    let size = stat.size;
    let modified = stat.modified;
    let etag = modified.map(|m| etag_of(m, size));
    let last_modified = modified.map(httpdate::fmt_http_date);
    let guessed = mime_guess::from_path(path).first_raw();
    // A generic type makes the server read the first bytes to sniff
    // one: such a body is never mapped (a read through a map of a
    // file truncated meanwhile would be SIGBUS).
    let typed = guessed.is_some_and(|t| t != "application/octet-stream");
    let content_type = guessed.unwrap_or("application/octet-stream").to_owned();

    // As S3 does: a current `If-None-Match` is answered without a body.
    if let (Some(list), Some(tag)) = (&req.if_none_match, &etag)
        && list.split(',').any(|c| c.trim() == tag || c.trim() == "*")
    {
        return Ok(Lookup {
            fetched: Fetched::NotModified,
            meta: ObjectMeta {
                etag,
                last_modified,
                ..ObjectMeta::default()
            },
            body: None,
            size,
            typed,
        });
    }
    let honour_range = match &req.if_range {
        None => true,
        Some(validator) => if_range_matches(validator, etag.as_deref(), last_modified.as_deref()),
    };
    let range = match req.range.as_deref() {
        Some(header) if honour_range => match parse_range(header, size) {
            Ok(r) => Some(r),
            Err(RangeError::Ignored) => None,
            Err(RangeError::Unsatisfiable) => {
                return Err(OriginError::RangeNotSatisfiable { size: Some(size) });
            }
        },
        _ => None,
    };

    let (fetched, length, content_range, start) = match range {
        Some(r) => (
            Fetched::Partial,
            r.len(),
            Some(r.content_range(size)),
            r.start,
        ),
        None => (Fetched::Full, size, None, 0),
    };
    let meta = ObjectMeta {
        content_length: Some(length),
        content_type: Some(content_type),
        etag,
        last_modified,
        content_range,
        cache_control: None,
    };
    Ok(Lookup {
        fetched,
        meta,
        body: (!req.head).then_some((start, length)),
        size,
        typed,
    })
}

impl Origin for LocalDir {
    fn fetch<'a>(&'a self, req: &'a ObjectRequest) -> BoxFuture<'a, Result<Object, OriginError>> {
        let mapped = req.mapped;
        Box::pin(async move {
            let (found, body) = self
                .open(req, false, move |file, found| {
                    let (start, length) = found.body.unwrap_or_default();
                    if (1..=SMALL).contains(&length)
                        && let Some(bytes) = read_cached(&file, start, length)
                    {
                        return Ok(Opened::Bytes(bytes));
                    }
                    if mapped && found.typed && length > 0 {
                        // The socket sends it from the page cache (`mapped`).
                        let bytes = crate::mapped::map(file, found.size).map_err(io_error)?;
                        return Ok(Opened::Bytes(
                            bytes.slice(start as usize..(start + length) as usize),
                        ));
                    }
                    let mut file = file;
                    if start > 0 {
                        use std::io::Seek;
                        file.seek(SeekFrom::Start(start)).map_err(io_error)?;
                    }
                    Ok(Opened::File(file, length))
                })
                .await?;
            let body = body.map(|opened| match opened {
                Opened::Bytes(bytes) => {
                    futures_util::stream::once(async move { Ok(bytes) }).boxed()
                }
                Opened::File(file, length) => {
                    ReaderStream::with_capacity(tokio::fs::File::from_std(file).take(length), CHUNK)
                        .boxed()
                }
            });
            Ok(Object {
                fetched: found.fetched,
                meta: found.meta,
                body,
            })
        })
    }

    /// One blocking read of the file into a buffer of its size, instead of
    /// 64 KiB chunks appended one by one.
    fn fetch_whole<'a>(
        &'a self,
        req: &'a ObjectRequest,
        cap: u64,
    ) -> BoxFuture<'a, Result<Whole, WholeError>> {
        Box::pin(async move {
            let (found, body) = self
                .open(req, true, move |file, found| {
                    let (start, length) = found.body.unwrap_or_default();
                    if length > cap {
                        return Err(WholeError::TooLarge);
                    }
                    read_exact_file(file, start, length)
                })
                .await?;
            Ok(Whole {
                fetched: found.fetched,
                meta: found.meta,
                body: body.unwrap_or_default(),
            })
        })
    }

    fn check(&self) -> BoxFuture<'_, Result<(), OriginError>> {
        Box::pin(async move {
            let meta = tokio::fs::metadata(&self.root).await.map_err(io_error)?;
            if meta.is_dir() {
                Ok(())
            } else {
                Err(OriginError::NoSuchBucket)
            }
        })
    }

    fn put(&self, req: crate::PutObject) -> BoxFuture<'_, Result<crate::Written, OriginError>> {
        Box::pin(self.put_file(req))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), OriginError>> {
        Box::pin(self.delete_file(key))
    }

    fn list<'a>(
        &'a self,
        req: &'a crate::ListRequest,
    ) -> BoxFuture<'a, Result<crate::Listing, OriginError>> {
        Box::pin(self.list_files(req))
    }

    fn copy<'a>(
        &'a self,
        req: &'a crate::CopyObject,
    ) -> BoxFuture<'a, Result<crate::Copied, OriginError>> {
        Box::pin(self.copy_file(req))
    }

    fn create_multipart<'a>(
        &'a self,
        key: &'a str,
        _headers: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<String, OriginError>> {
        Box::pin(self.create_upload(key))
    }

    fn upload_part(
        &self,
        req: crate::UploadPart,
    ) -> BoxFuture<'_, Result<crate::Written, OriginError>> {
        Box::pin(self.put_part(req))
    }

    fn complete_multipart<'a>(
        &'a self,
        key: &'a str,
        upload_id: &'a str,
        parts: bytes::Bytes,
    ) -> BoxFuture<'a, Result<crate::Written, OriginError>> {
        Box::pin(self.complete_upload(key, upload_id, parts))
    }

    fn abort_multipart<'a>(
        &'a self,
        key: &'a str,
        upload_id: &'a str,
    ) -> BoxFuture<'a, Result<(), OriginError>> {
        Box::pin(self.abort_upload(key, upload_id))
    }
}

/// A strong validator from modification time and size (as nginx does): it
/// changes whenever the file is rewritten, without hashing the whole file.
pub(crate) fn etag_of(modified: SystemTime, size: u64) -> String {
    let nanos = modified
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("\"{nanos:x}-{size:x}\"")
}

/// `If-Range` holds an entity tag (strong comparison) or an HTTP date.
fn if_range_matches(validator: &str, etag: Option<&str>, last_modified: Option<&str>) -> bool {
    let validator = validator.trim();
    if validator.starts_with('"') {
        return etag == Some(validator);
    }
    if validator.starts_with("W/") {
        return false;
    }
    last_modified == Some(validator)
}

/// Bodies up to this size are read at once when the page cache holds
/// them: two copies of a few KiB cost less than a map's `mmap` and
/// `munmap` (which interrupts every thread of the process to flush its
/// TLB), and less than a blocking-pool trip per chunk.
const SMALL: u64 = 32 * 1024;

/// `length` bytes of `file` from `start`, if the page cache holds them
/// all (`RWF_NOWAIT`: nothing waits on the disk); `None` leaves the body
/// to the other ways.
fn read_cached(file: &std::fs::File, start: u64, length: u64) -> Option<Bytes> {
    let mut buf = vec![0u8; usize::try_from(length).ok()?];
    let mut done = 0;
    while done < buf.len() {
        let n = rustix::io::preadv2(
            file,
            &mut [std::io::IoSliceMut::new(&mut buf[done..])],
            start + done as u64,
            rustix::io::ReadWriteFlags::NOWAIT,
        )
        .ok()?;
        if n == 0 {
            // Shorter than it was a moment ago.
            return None;
        }
        done += n;
    }
    Some(Bytes::from(buf))
}

/// A body as the blocking call leaves it.
enum Opened {
    /// Read already, or mapped to be sent from the page cache (`mapped`).
    Bytes(Bytes),
    /// Positioned at the body's start, with the body's length.
    File(std::fs::File, u64),
}

/// `length` bytes of `file` from `start`, in one buffer; a file that changed
/// size since it was looked at is an error, not a silently different body.
fn read_exact_file(mut file: std::fs::File, start: u64, length: u64) -> Result<Bytes, WholeError> {
    use std::io::{Read, Seek};
    if start > 0 {
        file.seek(SeekFrom::Start(start)).map_err(io_error)?;
    }
    let mut body = Vec::with_capacity(length as usize);
    // One byte more than announced tells a grown file from an exact one.
    file.take(length + 1)
        .read_to_end(&mut body)
        .map_err(WholeError::Body)?;
    match (body.len() as u64).cmp(&length) {
        std::cmp::Ordering::Equal => Ok(Bytes::from(body)),
        std::cmp::Ordering::Less => Err(WholeError::Shorter),
        std::cmp::Ordering::Greater => Err(WholeError::Longer),
    }
}

pub(crate) fn io_error(e: io::Error) -> OriginError {
    match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => OriginError::NoSuchKey,
        io::ErrorKind::PermissionDenied => OriginError::AccessDenied,
        // "File name too long" and friends: a key no file can have.
        io::ErrorKind::InvalidFilename | io::ErrorKind::InvalidInput => OriginError::NoSuchKey,
        _ => OriginError::Io(e.kind().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, LocalDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bucket")).unwrap();
        std::fs::write(dir.path().join("bucket/a.jpg"), b"0123456789").unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"secret").unwrap();
        let origin = LocalDir::new(dir.path().join("bucket")).unwrap();
        (dir, origin)
    }

    fn get(key: &str) -> ObjectRequest {
        ObjectRequest {
            key: key.into(),
            ..Default::default()
        }
    }

    async fn body(obj: Object) -> Vec<u8> {
        let mut out = Vec::new();
        let mut s = obj.body.unwrap();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn reads_whole_and_ranged() {
        let (_d, o) = setup();
        let obj = o.fetch(&get("a.jpg")).await.unwrap();
        assert_eq!(obj.fetched, Fetched::Full);
        assert_eq!(obj.meta.content_type.as_deref(), Some("image/jpeg"));
        assert_eq!(obj.meta.content_length, Some(10));
        assert_eq!(body(obj).await, b"0123456789");

        let mut req = get("a.jpg");
        req.range = Some("bytes=2-4".into());
        let obj = o.fetch(&req).await.unwrap();
        assert_eq!(obj.fetched, Fetched::Partial);
        assert_eq!(obj.meta.content_range.as_deref(), Some("bytes 2-4/10"));
        assert_eq!(body(obj).await, b"234");

        req.range = Some("bytes=10-".into());
        assert_eq!(
            o.fetch(&req).await.unwrap_err(),
            OriginError::RangeNotSatisfiable { size: Some(10) }
        );
    }

    #[tokio::test]
    async fn a_mapped_body_holds_the_files_bytes() {
        let (d, o) = setup();
        // Larger than what is read at once.
        let big: Vec<u8> = (0..SMALL as usize * 3).map(|i| (i % 251) as u8).collect();
        std::fs::write(d.path().join("bucket/big.jpg"), &big).unwrap();
        let mut req = get("big.jpg");
        req.mapped = true;
        let obj = o.fetch(&req).await.unwrap();
        assert_eq!(obj.meta.content_length, Some(big.len() as u64));
        let mut chunks = obj.body.unwrap();
        let chunk = chunks.next().await.unwrap().unwrap();
        assert!(
            crate::mapped::find(chunk.as_ptr()).is_some(),
            "sent with sendfile"
        );
        assert_eq!(chunk, big);
        assert!(chunks.next().await.is_none());
        req.range = Some("bytes=5000-5002".into());
        assert_eq!(body(o.fetch(&req).await.unwrap()).await, big[5000..5003]);
        req.range = Some(format!("bytes=-{}", SMALL * 2));
        let tail = o.fetch(&req).await.unwrap().body.unwrap().next().await;
        let tail = tail.unwrap().unwrap();
        assert!(crate::mapped::find(tail.as_ptr()).is_some());
        assert_eq!(tail, big[big.len() - SMALL as usize * 2..]);
    }

    #[tokio::test]
    async fn a_small_body_is_read_in_one_chunk() {
        let (_d, o) = setup();
        for mapped in [false, true] {
            let mut req = get("a.jpg");
            req.mapped = mapped;
            let mut chunks = o.fetch(&req).await.unwrap().body.unwrap();
            let chunk = chunks.next().await.unwrap().unwrap();
            assert_eq!(chunk, &b"0123456789"[..]);
            assert!(crate::mapped::find(chunk.as_ptr()).is_none());
            assert!(chunks.next().await.is_none());
            req.range = Some("bytes=3-5".into());
            assert_eq!(body(o.fetch(&req).await.unwrap()).await, b"345");
            req.range = Some("bytes=-2".into());
            assert_eq!(body(o.fetch(&req).await.unwrap()).await, b"89");
        }
    }

    #[tokio::test]
    async fn a_fifo_or_a_directory_is_no_key_and_does_not_wait() {
        let (d, o) = setup();
        let fifo = d.path().join("bucket/pipe.jpg");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        std::fs::create_dir(d.path().join("bucket/dir.jpg")).unwrap();
        for key in ["pipe.jpg", "dir.jpg"] {
            let mut req = get(key);
            for mapped in [false, true] {
                req.mapped = mapped;
                // Opening a FIFO for reading would wait for a writer forever.
                let fetched =
                    tokio::time::timeout(std::time::Duration::from_secs(10), o.fetch(&req));
                assert_eq!(fetched.await.unwrap().unwrap_err(), OriginError::NoSuchKey);
            }
            let whole = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                o.fetch_whole(&req, 1 << 20),
            );
            assert!(matches!(
                whole.await.unwrap().unwrap_err(),
                WholeError::Origin(OriginError::NoSuchKey)
            ));
        }
    }

    #[test]
    fn the_cached_open_agrees_with_the_path_walk() {
        let (d, o) = setup();
        std::os::unix::fs::symlink("a.jpg", d.path().join("bucket/link.jpg")).unwrap();
        let req = get("a.jpg");
        let (_, cached) = o
            .open_cached("a.jpg")
            .expect("a plain file opens from the caches");
        let (path, _, walked) = resolve(&o.root, "a.jpg").unwrap();
        let fast = lookup(&o.root.join("a.jpg"), &cached, &req).unwrap();
        let slow = lookup(&path, &walked, &req).unwrap();
        assert_eq!(fast.meta, slow.meta);
        assert!(fast.meta.etag.is_some() && fast.meta.last_modified.is_some());
        // A symlink (its target decides the type) and a missing key are
        // left to the path walk.
        assert!(o.open_cached("link.jpg").is_none());
        assert!(o.open_cached("missing.jpg").is_none());
        assert!(o.open_cached("../secret.txt").is_none());
    }

    #[tokio::test]
    async fn if_range_with_a_stale_etag_sends_everything() {
        let (_d, o) = setup();
        let mut req = get("a.jpg");
        req.range = Some("bytes=0-1".into());
        req.if_range = Some("\"stale\"".into());
        let obj = o.fetch(&req).await.unwrap();
        assert_eq!(obj.fetched, Fetched::Full);
        let etag = obj.meta.etag.clone();
        req.if_range = etag;
        assert_eq!(o.fetch(&req).await.unwrap().fetched, Fetched::Partial);
    }

    #[tokio::test]
    async fn nothing_outside_the_root_is_reachable() {
        let (d, o) = setup();
        std::os::unix::fs::symlink(d.path().join("secret.txt"), d.path().join("bucket/link"))
            .unwrap();
        assert_eq!(
            o.fetch(&get("link")).await.unwrap_err(),
            OriginError::OutsideRoot
        );
        for key in ["../secret.txt", "/etc/passwd", "./a.jpg", "x//a.jpg"] {
            assert!(
                matches!(
                    o.fetch(&get(key)).await.unwrap_err(),
                    OriginError::InvalidKey(_)
                ),
                "{key}"
            );
        }
        assert_eq!(
            o.fetch(&get("missing.jpg")).await.unwrap_err(),
            OriginError::NoSuchKey
        );
        assert_eq!(
            o.fetch(&get("a.jpg/x")).await.unwrap_err(),
            OriginError::NoSuchKey
        );
    }
}
