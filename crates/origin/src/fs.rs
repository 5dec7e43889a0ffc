//! A local directory as a bucket: the embedded default (`serve --root DIR`).

use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
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

/// What a fetch found: the answer, and where its body is (file, offset,
/// length) unless there is none.
struct Lookup {
    fetched: Fetched,
    meta: ObjectMeta,
    open: Option<(PathBuf, u64, u64)>,
    /// The type came from the key's extension: nobody sniffs the body.
    typed: bool,
}

#[derive(Debug, Clone)]
pub struct LocalDir {
    /// Canonical (symlink-free, absolute) root: every served file must be under it.
    root: PathBuf,
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
        Ok(LocalDir { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file behind `key`, refused if it is not a regular file inside the root
    /// once every symlink is resolved.
    async fn resolve(&self, key: &str) -> Result<(PathBuf, std::fs::Metadata), OriginError> {
        validate_key(key)?;
        if key.split('/').any(|seg| seg.is_empty() || seg == ".") {
            return Err(OriginError::InvalidKey(
                "it has an empty or '.' path segment, which a directory cannot hold as a key",
            ));
        }
        let real = match tokio::fs::canonicalize(self.root.join(key)).await {
            Ok(p) => p,
            Err(e) => return Err(io_error(e)),
        };
        if !real.starts_with(&self.root) {
            return Err(OriginError::OutsideRoot);
        }
        let meta = tokio::fs::metadata(&real).await.map_err(io_error)?;
        if !meta.is_file() {
            return Err(OriginError::NoSuchKey);
        }
        Ok((real, meta))
    }

    /// The answer's status and metadata, and for a body the file, offset
    /// and length to read.
    async fn lookup(&self, req: &ObjectRequest) -> Result<Lookup, OriginError> {
        let (path, stat) = self.resolve(&req.key).await?;
        let size = stat.len();
        let modified = stat.modified().ok();
        let etag = modified.map(|m| etag_of(m, size));
        let last_modified = modified.map(httpdate::fmt_http_date);
        let guessed = mime_guess::from_path(&path).first_raw();
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
                open: None,
                typed,
            });
        }
        let honour_range = match &req.if_range {
            None => true,
            Some(validator) => {
                if_range_matches(validator, etag.as_deref(), last_modified.as_deref())
            }
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
            open: (!req.head).then_some((path, start, length)),
            typed,
        })
    }
}

impl Origin for LocalDir {
    fn fetch<'a>(&'a self, req: &'a ObjectRequest) -> BoxFuture<'a, Result<Object, OriginError>> {
        Box::pin(async move {
            let found = self.lookup(req).await?;
            let Some((path, start, length)) = found.open else {
                return Ok(Object {
                    fetched: found.fetched,
                    meta: found.meta,
                    body: None,
                });
            };
            if req.mapped && found.typed && length > 0 {
                // One blocking call opens and maps the file; the socket
                // sends it from the page cache (`mapped`).
                let body = tokio::task::spawn_blocking(move || map_range(&path, start, length))
                    .await
                    .map_err(|e| OriginError::Io(e.to_string()))??;
                return Ok(Object {
                    fetched: found.fetched,
                    meta: found.meta,
                    body: Some(futures_util::stream::once(async move { Ok(body) }).boxed()),
                });
            }
            let mut file = tokio::fs::File::open(&path).await.map_err(io_error)?;
            if start > 0 {
                file.seek(SeekFrom::Start(start)).await.map_err(io_error)?;
            }
            let stream = ReaderStream::with_capacity(file.take(length), CHUNK);
            Ok(Object {
                fetched: found.fetched,
                meta: found.meta,
                body: Some(stream.boxed()),
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
            let found = self.lookup(req).await?;
            let Some((path, start, length)) = found.open else {
                return Ok(Whole {
                    fetched: found.fetched,
                    meta: found.meta,
                    body: Bytes::new(),
                });
            };
            if length > cap {
                return Err(WholeError::TooLarge);
            }
            let body = tokio::task::spawn_blocking(move || read_exact_file(&path, start, length))
                .await
                .map_err(|e| WholeError::Origin(OriginError::Io(e.to_string())))??;
            Ok(Whole {
                fetched: found.fetched,
                meta: found.meta,
                body,
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

/// `length` bytes of `path` from `start`, in one buffer; a file that changed
/// size since it was looked at is an error, not a silently different body.
fn read_exact_file(path: &Path, start: u64, length: u64) -> Result<Bytes, WholeError> {
    use std::io::{Read, Seek};
    let mut file = std::fs::File::open(path).map_err(io_error)?;
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

/// `length` bytes of `path` from `start`, as a [`mapped`](crate::mapped)
/// body; a file now shorter than that is an error.
fn map_range(path: &Path, start: u64, length: u64) -> Result<Bytes, OriginError> {
    let file = std::fs::File::open(path).map_err(io_error)?;
    let size = file.metadata().map_err(io_error)?.len();
    let end = start.saturating_add(length);
    if end > size {
        return Err(OriginError::Io(
            "the file shrank while it was opened".into(),
        ));
    }
    let body = crate::mapped::map(file, size).map_err(io_error)?;
    Ok(body.slice(start as usize..end as usize))
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
        let (_d, o) = setup();
        let mut req = get("a.jpg");
        req.mapped = true;
        let obj = o.fetch(&req).await.unwrap();
        assert_eq!(obj.meta.content_length, Some(10));
        assert_eq!(body(obj).await, b"0123456789");
        req.range = Some("bytes=3-5".into());
        assert_eq!(body(o.fetch(&req).await.unwrap()).await, b"345");
        req.range = Some("bytes=-2".into());
        assert_eq!(body(o.fetch(&req).await.unwrap()).await, b"89");
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
