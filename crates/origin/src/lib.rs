//! Where source objects come from. Every origin answers the same question —
//! "give me this key's bytes (or part of them) and their metadata" — behind the
//! [`Origin`] trait, so the server never knows whether it reads S3 or a disk.

mod chunked;
pub mod clients;
mod error;
mod fs;
mod fs_write;
mod key;
pub mod mapped;
mod range;
mod s3;
mod s3_write;
pub mod sigv4;
mod whole;
mod write;

use std::fmt::Debug;
use std::io;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use futures_util::future::BoxFuture;

pub use error::OriginError;
pub use fs::LocalDir;
pub use key::{encode_path, validate_key};
pub use range::{ByteRange, RangeError, parse_range};
pub use s3::{S3Credentials, S3Origin, S3Settings};
pub use whole::{Whole, WholeError};
pub use write::{
    Copied, CopyObject, ListEntry, ListRequest, Listing, Payload, PutObject, UploadPart, Written,
    xml_escape,
};

/// A body streamed from an origin, chunk by chunk; never the whole object in memory.
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// What the client asked for, in HTTP terms the origin can honour or forward.
/// Header values are passed raw: S3 interprets them itself, the local
/// directory with [`parse_range`].
#[derive(Debug, Clone, Default)]
pub struct ObjectRequest {
    pub key: String,
    /// HEAD: metadata only, no body is opened.
    pub head: bool,
    pub range: Option<String>,
    pub if_range: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    /// The body goes straight to an HTTP/1 client socket and nothing else
    /// reads past its first chunk: an origin that reads files may hand a
    /// [`mapped`] body, which the socket sends with `sendfile`.
    pub mapped: bool,
}

/// How the origin answered a successful fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// 200: the whole object.
    Full,
    /// 206: the requested range; `ObjectMeta::content_range` says which.
    Partial,
    /// 304: the upstream itself found the client's copy current.
    NotModified,
}

/// Metadata as the origin gives it; the strings are passed through verbatim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Length of the body that follows (of the range for a 206).
    pub content_length: Option<u64>,
    pub content_type: Option<String>,
    /// Quoted entity tag, e.g. `"9b2cf535f27731c974343645a3985328"`.
    pub etag: Option<String>,
    /// An HTTP date.
    pub last_modified: Option<String>,
    /// `bytes a-b/total` for a 206.
    pub content_range: Option<String>,
    /// The object's stored `Cache-Control` (S3 keeps it per object).
    pub cache_control: Option<String>,
}

pub struct Object {
    pub fetched: Fetched,
    pub meta: ObjectMeta,
    /// `None` for HEAD and 304.
    pub body: Option<ByteStream>,
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Object")
            .field("fetched", &self.fetched)
            .field("meta", &self.meta)
            .field("body", &self.body.as_ref().map(|_| "stream"))
            .finish()
    }
}

/// One source of objects: an S3 bucket or a local directory.
pub trait Origin: Send + Sync + Debug {
    /// Fetches the object (or its metadata for HEAD).
    fn fetch<'a>(&'a self, req: &'a ObjectRequest) -> BoxFuture<'a, Result<Object, OriginError>>;

    /// Fetches the object with its whole body in one buffer, at most `cap`
    /// bytes (see [`Object::into_whole`]).
    fn fetch_whole<'a>(
        &'a self,
        req: &'a ObjectRequest,
        cap: u64,
    ) -> BoxFuture<'a, Result<Whole, WholeError>> {
        Box::pin(async move { self.fetch(req).await?.into_whole(cap).await })
    }

    /// Whether the origin can serve at all right now (for `/readyz`, and
    /// HeadBucket).
    fn check(&self) -> BoxFuture<'_, Result<(), OriginError>>;

    /// Stores `req.body` under `req.key`, replacing any object there. The
    /// body streams through; nothing is visible under the key before the
    /// whole body has arrived and passed its integrity checks.
    fn put(&self, req: PutObject) -> BoxFuture<'_, Result<Written, OriginError>>;

    /// Removes the object; a key that holds nothing is not an error (S3).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), OriginError>>;

    /// One page of keys, in UTF-8 byte order (ListObjectsV2's semantics).
    fn list<'a>(&'a self, req: &'a ListRequest) -> BoxFuture<'a, Result<Listing, OriginError>>;

    /// Copies an object of this origin to another key of it.
    fn copy<'a>(&'a self, req: &'a CopyObject) -> BoxFuture<'a, Result<Copied, OriginError>>;

    /// CreateMultipartUpload: the new upload's id.
    fn create_multipart<'a>(
        &'a self,
        key: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<String, OriginError>> {
        let _ = (key, headers);
        Box::pin(async { Err(OriginError::Unsupported(MULTIPART_UNSUPPORTED)) })
    }

    /// UploadPart, streamed like a PutObject.
    fn upload_part(&self, req: UploadPart) -> BoxFuture<'_, Result<Written, OriginError>> {
        drop(req);
        Box::pin(async { Err(OriginError::Unsupported(MULTIPART_UNSUPPORTED)) })
    }

    /// CompleteMultipartUpload with the client's part list (its XML body).
    fn complete_multipart<'a>(
        &'a self,
        key: &'a str,
        upload_id: &'a str,
        parts: Bytes,
    ) -> BoxFuture<'a, Result<Written, OriginError>> {
        let _ = (key, upload_id, parts);
        Box::pin(async { Err(OriginError::Unsupported(MULTIPART_UNSUPPORTED)) })
    }

    /// AbortMultipartUpload.
    fn abort_multipart<'a>(
        &'a self,
        key: &'a str,
        upload_id: &'a str,
    ) -> BoxFuture<'a, Result<(), OriginError>> {
        let _ = (key, upload_id);
        Box::pin(async { Err(OriginError::Unsupported(MULTIPART_UNSUPPORTED)) })
    }
}

const MULTIPART_UNSUPPORTED: &str = "This bucket's origin does not take multipart uploads; upload below the client's multipart threshold.";
