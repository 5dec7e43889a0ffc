//! Writes to a local directory: atomic (a temporary file in the target's
//! directory, fsync, rename), checked against the signed body hash before
//! anything becomes visible, never outside the root.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use futures_util::{StreamExt, TryStreamExt};
use md5::Md5;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::fs::{LocalDir, etag_of, io_error};
use crate::write::iso8601;
use crate::{
    ByteStream, Copied, CopyObject, ListEntry, ListRequest, Listing, OriginError, Payload,
    PutObject, Written, validate_key,
};

/// Temporary files start with this; listings never show them.
const TEMP_PREFIX: &str = ".pixgate-tmp-";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Keys a directory can hold: no empty or `.` segments, none temporary.
fn check_key(key: &str) -> Result<(), OriginError> {
    validate_key(key)?;
    if key.split('/').any(|seg| seg.is_empty() || seg == ".") {
        return Err(OriginError::InvalidKey(
            "it has an empty or '.' path segment, which a directory cannot hold as a key",
        ));
    }
    if key.split('/').any(|seg| seg.starts_with(TEMP_PREFIX)) {
        return Err(OriginError::InvalidKey(
            "it uses a name reserved for temporary files",
        ));
    }
    Ok(())
}

impl LocalDir {
    /// The path `key` is written at, its parent directories created, refused
    /// if any of them resolves outside the root (a symlinked directory).
    async fn write_path(&self, key: &str) -> Result<PathBuf, OriginError> {
        check_key(key)?;
        let path = self.root().join(key);
        let parent = path.parent().unwrap_or(self.root()).to_path_buf();
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(write_error)?;
        let real_parent = tokio::fs::canonicalize(&parent)
            .await
            .map_err(write_error)?;
        if !real_parent.starts_with(self.root()) {
            return Err(OriginError::OutsideRoot);
        }
        let Some(name) = path.file_name() else {
            return Err(OriginError::InvalidKey("it names no file"));
        };
        let target = real_parent.join(name);
        if let Ok(meta) = tokio::fs::symlink_metadata(&target).await
            && !meta.is_file()
        {
            // A directory (or a link) already has this name: S3 would hold
            // both, a directory cannot.
            return Err(OriginError::Refused {
                status: 409,
                code: "InvalidRequest".into(),
            });
        }
        Ok(target)
    }

    /// Streams `body` into a temporary file beside `target`, checks it, and
    /// renames it into place. The temporary file is removed on any failure.
    async fn write_atomically(
        &self,
        target: &Path,
        body: ByteStream,
        length: Option<u64>,
        payload: &Payload,
        content_md5: Option<&str>,
    ) -> Result<Written, OriginError> {
        let dir = target.parent().unwrap_or(self.root());
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let result = write_checked(&temp, body, length, payload, content_md5).await;
        let result = match result {
            Ok(()) => tokio::fs::rename(&temp, target).await.map_err(write_error),
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e);
        }
        let meta = tokio::fs::metadata(target).await.map_err(write_error)?;
        Ok(Written {
            etag: meta.modified().ok().map(|m| etag_of(m, meta.len())),
            headers: Vec::new(),
        })
    }

    pub(crate) async fn put_file(&self, req: PutObject) -> Result<Written, OriginError> {
        let target = self.write_path(&req.key).await?;
        let md5 = header(&req.headers, "content-md5");
        let (body, length, payload) = unframed(req.body, req.length, req.payload, &req.headers)?;
        self.write_atomically(&target, body, Some(length), &payload, md5)
            .await
    }

    pub(crate) async fn delete_file(&self, key: &str) -> Result<(), OriginError> {
        check_key(key)?;
        let path = self.root().join(key);
        let Some(parent) = path.parent() else {
            return Ok(());
        };
        let real_parent = match tokio::fs::canonicalize(parent).await {
            Ok(p) => p,
            // No such directory: nothing to delete, as S3 answers.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(write_error(e)),
        };
        if !real_parent.starts_with(self.root()) {
            return Err(OriginError::OutsideRoot);
        }
        let Some(name) = path.file_name() else {
            return Ok(());
        };
        let target = real_parent.join(name);
        match tokio::fs::symlink_metadata(&target).await {
            Ok(m) if m.is_file() => tokio::fs::remove_file(&target).await.map_err(write_error),
            // A directory is not an object: nothing by that key.
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(write_error(e)),
        }
    }

    pub(crate) async fn copy_file(&self, req: &CopyObject) -> Result<Copied, OriginError> {
        check_key(&req.source_key)?;
        let source = self.fetch_body(&req.source_key).await?;
        let target = self.write_path(&req.key).await?;
        let written = self
            .write_atomically(&target, source, None, &Payload::Unsigned, None)
            .await?;
        let modified = tokio::fs::metadata(&target)
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .unwrap_or_else(std::time::SystemTime::now);
        Ok(Copied {
            etag: written.etag,
            last_modified: iso8601(modified),
        })
    }

    /// The whole object as a stream (through the read path's checks).
    async fn fetch_body(&self, key: &str) -> Result<ByteStream, OriginError> {
        let req = crate::ObjectRequest {
            key: key.to_owned(),
            ..Default::default()
        };
        let object = crate::Origin::fetch(self, &req).await?;
        object.body.ok_or(OriginError::NoSuchKey)
    }

    /// Walks the whole directory (a local bucket is small enough), sorted as
    /// S3 sorts: by the key's UTF-8 bytes.
    pub(crate) async fn list_files(&self, req: &ListRequest) -> Result<Listing, OriginError> {
        let root = self.root().to_path_buf();
        let prefix = req.prefix.clone();
        let mut keys = tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            walk(&root, "", &prefix, &mut keys);
            keys
        })
        .await
        .map_err(|e| OriginError::Io(e.to_string()))?;
        keys.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        Ok(page(keys, req))
    }
}

/// Where unfinished multipart uploads live, inside the root (so a rename
/// into place never crosses file systems); hidden from listings and keys.
const UPLOADS_DIR: &str = ".pixgate-tmp-uploads";

impl LocalDir {
    /// The directory of an upload, refused unless it exists for this key.
    async fn upload_dir(&self, key: &str, upload_id: &str) -> Result<PathBuf, OriginError> {
        check_key(key)?;
        let no_such = || OriginError::Refused {
            status: 404,
            code: "NoSuchUpload".into(),
        };
        if upload_id.is_empty()
            || upload_id.len() > 64
            || !upload_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(no_such());
        }
        let dir = self.root().join(UPLOADS_DIR).join(upload_id);
        match tokio::fs::read_to_string(dir.join("key")).await {
            Ok(k) if k == key => Ok(dir),
            _ => Err(no_such()),
        }
    }

    pub(crate) async fn create_upload(&self, key: &str) -> Result<String, OriginError> {
        check_key(key)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let id = format!(
            "{:x}-{:x}-{nanos:x}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let dir = self.root().join(UPLOADS_DIR).join(&id);
        tokio::fs::create_dir_all(&dir).await.map_err(write_error)?;
        tokio::fs::write(dir.join("key"), key)
            .await
            .map_err(write_error)?;
        Ok(id)
    }

    pub(crate) async fn put_part(&self, req: crate::UploadPart) -> Result<Written, OriginError> {
        let dir = self.upload_dir(&req.key, &req.upload_id).await?;
        let md5 = header(&req.headers, "content-md5");
        let (body, length, payload) = unframed(req.body, req.length, req.payload, &req.headers)?;
        let target = dir.join(format!("part-{:05}", req.part_number));
        self.write_atomically(&target, body, Some(length), &payload, md5)
            .await
    }

    /// Joins the listed parts (each must exist with the ETag given, in
    /// ascending order) into the object, atomically.
    pub(crate) async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts_xml: bytes::Bytes,
    ) -> Result<Written, OriginError> {
        let dir = self.upload_dir(key, upload_id).await?;
        let invalid = |code: &str| OriginError::Refused {
            status: 400,
            code: code.into(),
        };
        let text = String::from_utf8_lossy(&parts_xml);
        let mut files = Vec::new();
        let mut last = 0;
        for part in crate::write::xml_elements(&text, "Part") {
            let number: u32 = crate::write::xml_text(part, "PartNumber")
                .and_then(|n| n.trim().parse().ok())
                .ok_or_else(|| invalid("MalformedXML"))?;
            if number <= last {
                return Err(invalid("InvalidPartOrder"));
            }
            last = number;
            let file = dir.join(format!("part-{number:05}"));
            let meta = tokio::fs::metadata(&file)
                .await
                .map_err(|_| invalid("InvalidPart"))?;
            let etag = meta.modified().ok().map(|m| etag_of(m, meta.len()));
            let given = crate::write::xml_text(part, "ETag");
            if given.as_deref().map(|e| e.trim_matches('"'))
                != etag.as_deref().map(|e| e.trim_matches('"'))
            {
                return Err(invalid("InvalidPart"));
            }
            files.push(file);
        }
        if files.is_empty() {
            return Err(invalid("MalformedXML"));
        }
        let joined = futures_util::stream::iter(files)
            .then(|f| async move {
                let file = tokio::fs::File::open(f).await?;
                Ok::<_, io::Error>(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024))
            })
            .try_flatten();
        let target = self.write_path(key).await?;
        let written = self
            .write_atomically(&target, joined.boxed(), None, &Payload::Unsigned, None)
            .await?;
        let _ = tokio::fs::remove_dir_all(&dir).await;
        Ok(written)
    }

    pub(crate) async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), OriginError> {
        let dir = self.upload_dir(key, upload_id).await?;
        tokio::fs::remove_dir_all(&dir).await.map_err(write_error)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The body as stored: an `aws-chunked` one decoded (its length is then
/// `x-amz-decoded-content-length`; its trailer stands for the hash).
fn unframed(
    body: ByteStream,
    length: u64,
    payload: Payload,
    headers: &[(String, String)],
) -> Result<(ByteStream, u64, Payload), OriginError> {
    if payload != Payload::StreamingUnsignedTrailer {
        return Ok((body, length, payload));
    }
    let decoded = header(headers, "x-amz-decoded-content-length")
        .and_then(|v| v.parse().ok())
        .ok_or(OriginError::Refused {
            status: 411,
            code: "MissingContentLength".into(),
        })?;
    Ok((crate::chunked::decode(body), decoded, Payload::Unsigned))
}

/// Cuts one page out of every (key, entry) under the prefix.
fn page(keys: Vec<(String, ListEntry)>, req: &ListRequest) -> Listing {
    let after = req
        .continuation_token
        .as_deref()
        .or(req.start_after.as_deref())
        .unwrap_or("");
    let delimiter = req.delimiter.as_deref().filter(|d| !d.is_empty());
    let max = req.max_keys as usize;
    let mut listing = Listing::default();
    let mut last = String::new();
    let mut count = 0;
    for (key, entry) in keys {
        if !key.starts_with(&req.prefix) || key.as_bytes() <= after.as_bytes() {
            continue;
        }
        // A page that ended on a common prefix resumes after all its keys.
        if delimiter.is_some_and(|d| after.ends_with(d)) && key.starts_with(after) {
            continue;
        }
        let common = delimiter.and_then(|d| {
            let rest = &key[req.prefix.len()..];
            rest.find(d)
                .map(|at| format!("{}{}", req.prefix, &rest[..at + d.len()]))
        });
        if let Some(common) = &common
            && listing.common_prefixes.last() == Some(common)
        {
            continue;
        }
        if count == max {
            listing.truncated = true;
            listing.next_token = Some(last);
            return listing;
        }
        count += 1;
        match common {
            Some(common) => {
                last = common.clone();
                listing.common_prefixes.push(common);
            }
            None => {
                last = key;
                listing.entries.push(entry);
            }
        }
    }
    listing
}

/// Regular files under `dir` whose key could start with `prefix`; symbolic
/// links, temporary files and names that are not UTF-8 are left out.
fn walk(dir: &Path, at: &str, prefix: &str, out: &mut Vec<(String, ListEntry)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        let key = format!("{at}{name}");
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            let sub = format!("{key}/");
            // Only directories that can hold keys under the prefix.
            if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                walk(&entry.path(), &sub, prefix, out);
            }
        } else if kind.is_file() && key.starts_with(prefix) {
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            out.push((
                key.clone(),
                ListEntry {
                    key,
                    size: meta.len(),
                    etag: Some(etag_of(modified, meta.len())),
                    last_modified: iso8601(modified),
                },
            ));
        }
    }
}

/// Writes the stream to a new file, hashing as it goes, and refuses it —
/// before anyone can see it — if it is short, long, or not what was signed.
async fn write_checked(
    temp: &Path,
    mut body: ByteStream,
    length: Option<u64>,
    payload: &Payload,
    content_md5: Option<&str>,
) -> Result<(), OriginError> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .await
        .map_err(write_error)?;
    let mut sha = Sha256::new();
    let mut md5 = Md5::new();
    let mut written: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| match crate::chunked::ChunkError::of(&e) {
            Some(crate::chunked::ChunkError::Checksum) => OriginError::BadDigest,
            _ => OriginError::IncompleteBody(e.to_string()),
        })?;
        written += chunk.len() as u64;
        if length.is_some_and(|l| written > l) {
            return Err(OriginError::IncompleteBody(
                "more bytes than announced".into(),
            ));
        }
        sha.update(&chunk);
        if content_md5.is_some() {
            md5.update(&chunk);
        }
        file.write_all(&chunk).await.map_err(write_error)?;
    }
    if let Some(l) = length
        && written != l
    {
        return Err(OriginError::IncompleteBody(format!(
            "{written} of {l} bytes"
        )));
    }
    if let Payload::Sha256(expected) = payload {
        let got = hex(&sha.finalize());
        if !got.eq_ignore_ascii_case(expected) {
            return Err(OriginError::ContentSha256Mismatch);
        }
    }
    if let Some(expected) = content_md5 {
        let expected = base64::engine::general_purpose::STANDARD
            .decode(expected.trim())
            .map_err(|_| OriginError::BadDigest)?;
        if md5.finalize().as_slice() != expected.as_slice() {
            return Err(OriginError::BadDigest);
        }
    }
    file.flush().await.map_err(write_error)?;
    file.sync_all().await.map_err(write_error)?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_error(e: io::Error) -> OriginError {
    match e.kind() {
        io::ErrorKind::NotADirectory => OriginError::Refused {
            status: 409,
            code: "InvalidRequest".into(),
        },
        _ => io_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Origin;
    use bytes::Bytes;

    fn body(data: &'static [u8]) -> ByteStream {
        // Two chunks: the hash must span them.
        let (a, b) = data.split_at(data.len() / 2);
        futures_util::stream::iter(vec![Ok(Bytes::from_static(a)), Ok(Bytes::from_static(b))])
            .boxed()
    }

    fn put(key: &str, data: &'static [u8], payload: Payload) -> PutObject {
        PutObject {
            key: key.into(),
            body: body(data),
            length: data.len() as u64,
            payload,
            headers: Vec::new(),
        }
    }

    fn sha(data: &[u8]) -> Payload {
        Payload::Sha256(hex(&Sha256::digest(data)))
    }

    #[tokio::test]
    async fn a_put_is_checked_then_visible() {
        let dir = tempfile::tempdir().unwrap();
        let o = LocalDir::new(dir.path()).unwrap();
        let w = o
            .put(put("a/b.jpg", b"hello world", sha(b"hello world")))
            .await;
        assert!(w.unwrap().etag.is_some());
        assert_eq!(
            std::fs::read(dir.path().join("a/b.jpg")).unwrap(),
            b"hello world"
        );

        // A body that is not the signed one is refused and nothing changes.
        let e = o
            .put(put("a/b.jpg", b"HELLO world", sha(b"hello world")))
            .await;
        assert_eq!(e.unwrap_err(), OriginError::ContentSha256Mismatch);
        assert_eq!(
            std::fs::read(dir.path().join("a/b.jpg")).unwrap(),
            b"hello world"
        );
        let mut short = put("c.jpg", b"abcd", Payload::Unsigned);
        short.length = 10;
        assert!(matches!(
            o.put(short).await.unwrap_err(),
            OriginError::IncompleteBody(_)
        ));
        assert!(!dir.path().join("c.jpg").exists());
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("b.jpg")]);
    }

    #[tokio::test]
    async fn aws_chunked_bodies_are_decoded_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let o = LocalDir::new(dir.path()).unwrap();
        let framed = |data: &'static [u8]| PutObject {
            key: "c.txt".into(),
            body: body(data),
            length: data.len() as u64,
            payload: Payload::StreamingUnsignedTrailer,
            headers: vec![("x-amz-decoded-content-length".into(), "11".into())],
        };
        o.put(framed(
            b"6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
        ))
        .await
        .unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("c.txt")).unwrap(),
            b"hello world"
        );
        let e = o
            .put(framed(
                b"6\r\nHELLO \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
            ))
            .await
            .unwrap_err();
        assert_eq!(e, OriginError::BadDigest);
        assert_eq!(
            std::fs::read(dir.path().join("c.txt")).unwrap(),
            b"hello world"
        );
    }

    #[tokio::test]
    async fn content_md5_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let o = LocalDir::new(dir.path()).unwrap();
        let mut p = put("m.txt", b"hello", Payload::Unsigned);
        p.headers = vec![("content-md5".into(), "XUFAKrxLKna5cZ2REBfFkg==".into())];
        o.put(p).await.unwrap();
        let mut p = put("m.txt", b"hellO", Payload::Unsigned);
        p.headers = vec![("content-md5".into(), "XUFAKrxLKna5cZ2REBfFkg==".into())];
        assert_eq!(o.put(p).await.unwrap_err(), OriginError::BadDigest);
        assert_eq!(std::fs::read(dir.path().join("m.txt")).unwrap(), b"hello");
    }

    #[tokio::test]
    async fn writes_never_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("b/link")).unwrap();
        let o = LocalDir::new(dir.path().join("b")).unwrap();
        for key in ["../x", "/etc/x", "a//b", "./a", ".pixgate-tmp-1"] {
            assert!(
                matches!(
                    o.put(put(key, b"x", Payload::Unsigned)).await.unwrap_err(),
                    OriginError::InvalidKey(_)
                ),
                "{key}"
            );
        }
        assert_eq!(
            o.put(put("link/x", b"x", Payload::Unsigned))
                .await
                .unwrap_err(),
            OriginError::OutsideRoot
        );
        assert_eq!(
            o.delete("link/x").await.unwrap_err(),
            OriginError::OutsideRoot
        );
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn multipart_parts_are_checked_and_joined() {
        let dir = tempfile::tempdir().unwrap();
        let o = LocalDir::new(dir.path()).unwrap();
        let id = o.create_multipart("m/big.bin", &[]).await.unwrap();
        let part = |n: u32, data: &'static [u8]| crate::UploadPart {
            key: "m/big.bin".into(),
            upload_id: id.clone(),
            part_number: n,
            body: body(data),
            length: data.len() as u64,
            payload: sha(data),
            headers: Vec::new(),
        };
        let one = o
            .upload_part(part(1, b"hello "))
            .await
            .unwrap()
            .etag
            .unwrap();
        let two = o
            .upload_part(part(2, b"world"))
            .await
            .unwrap()
            .etag
            .unwrap();
        let xml = |a: &str, b: &str| {
            bytes::Bytes::from(format!(
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{a}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{b}</ETag></Part></CompleteMultipartUpload>"
            ))
        };
        let refused = |code: &str| OriginError::Refused {
            status: 400,
            code: code.into(),
        };
        assert_eq!(
            o.complete_multipart("m/big.bin", &id, xml(&one, "\"nope\""))
                .await
                .unwrap_err(),
            refused("InvalidPart")
        );
        assert!(!dir.path().join("m/big.bin").exists());
        assert!(matches!(
            o.complete_multipart("m/other.bin", &id, xml(&one, &two))
                .await,
            Err(OriginError::Refused { status: 404, .. })
        ));
        assert!(matches!(
            o.abort_multipart("m/big.bin", "../../etc").await,
            Err(OriginError::Refused { status: 404, .. })
        ));
        o.complete_multipart("m/big.bin", &id, xml(&one, &two))
            .await
            .unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("m/big.bin")).unwrap(),
            b"hello world"
        );
        // The upload is gone, and never listed.
        assert!(o.abort_multipart("m/big.bin", &id).await.is_err());
        let all = o
            .list(&ListRequest {
                max_keys: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(all.entries.len(), 1);
    }

    #[tokio::test]
    async fn delete_copy_and_list() {
        let dir = tempfile::tempdir().unwrap();
        let o = LocalDir::new(dir.path()).unwrap();
        for key in ["a.jpg", "d/1.jpg", "d/2.jpg", "d/e/3.jpg", "z.jpg"] {
            o.put(put(key, b"xy", Payload::Unsigned)).await.unwrap();
        }
        o.copy(&CopyObject {
            source_key: "a.jpg".into(),
            key: "b.jpg".into(),
            headers: Vec::new(),
        })
        .await
        .unwrap();
        o.delete("z.jpg").await.unwrap();
        o.delete("never.jpg").await.unwrap();
        let keys = |l: &Listing| l.entries.iter().map(|e| e.key.clone()).collect::<Vec<_>>();

        let all = o
            .list(&ListRequest {
                max_keys: 1000,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            keys(&all),
            ["a.jpg", "b.jpg", "d/1.jpg", "d/2.jpg", "d/e/3.jpg"]
        );
        assert_eq!(all.entries[0].size, 2);

        let mut req = ListRequest {
            delimiter: Some("/".into()),
            max_keys: 2,
            ..Default::default()
        };
        let first = o.list(&req).await.unwrap();
        assert_eq!(keys(&first), ["a.jpg", "b.jpg"]);
        assert!(first.truncated);
        req.continuation_token = first.next_token;
        let second = o.list(&req).await.unwrap();
        assert_eq!(second.common_prefixes, ["d/"]);
        assert!(!second.truncated);

        let mut req = ListRequest {
            prefix: "d/".into(),
            delimiter: Some("/".into()),
            max_keys: 2,
            ..Default::default()
        };
        let first = o.list(&req).await.unwrap();
        assert_eq!(keys(&first), ["d/1.jpg", "d/2.jpg"]);
        req.continuation_token = first.next_token;
        let second = o.list(&req).await.unwrap();
        assert_eq!(second.common_prefixes, ["d/e/"]);
        assert!(second.entries.is_empty());
    }
}
