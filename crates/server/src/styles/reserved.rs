//! The bucket's reserved objects (`.pixgate/…` and the styles object): the
//! origin clients reach through refuses to serve, write or list them; only
//! the style store reads and writes them, on the origin beneath.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use pixgate_origin::{
    Copied, CopyObject, ListRequest, Listing, Object, ObjectRequest, Origin, OriginError,
    PutObject, UploadPart, Written,
};

/// The folder pixgate keeps its own objects in.
pub const PREFIX: &str = ".pixgate/";

/// Whether clients may not touch `key`.
pub fn is_reserved(key: &str, styles_object: &str) -> bool {
    key.starts_with(PREFIX) || key == styles_object
}

/// Writes are refused as the upstream would refuse a key it denies (403);
/// the server's write path refuses them earlier with its own message.
const REFUSED: OriginError = OriginError::AccessDenied;

/// An origin with the reserved keys taken out.
#[derive(Debug)]
pub struct Reserved {
    pub inner: Arc<dyn Origin>,
    pub styles_object: String,
}

impl Reserved {
    fn hidden(&self, key: &str) -> bool {
        is_reserved(key, &self.styles_object)
    }
}

impl Origin for Reserved {
    fn fetch<'a>(&'a self, req: &'a ObjectRequest) -> BoxFuture<'a, Result<Object, OriginError>> {
        if self.hidden(&req.key) {
            return Box::pin(async { Err(OriginError::NoSuchKey) });
        }
        self.inner.fetch(req)
    }

    fn check(&self) -> BoxFuture<'_, Result<(), OriginError>> {
        self.inner.check()
    }

    fn put(&self, req: PutObject) -> BoxFuture<'_, Result<Written, OriginError>> {
        if self.hidden(&req.key) {
            return Box::pin(async { Err(REFUSED) });
        }
        self.inner.put(req)
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), OriginError>> {
        if self.hidden(key) {
            return Box::pin(async { Err(REFUSED) });
        }
        self.inner.delete(key)
    }

    fn list<'a>(&'a self, req: &'a ListRequest) -> BoxFuture<'a, Result<Listing, OriginError>> {
        Box::pin(async move {
            let mut listing = self.inner.list(req).await?;
            listing.entries.retain(|e| !self.hidden(&e.key));
            listing
                .common_prefixes
                .retain(|p| p != PREFIX && !self.hidden(p));
            Ok(listing)
        })
    }

    fn copy<'a>(&'a self, req: &'a CopyObject) -> BoxFuture<'a, Result<Copied, OriginError>> {
        if self.hidden(&req.key) || self.hidden(&req.source_key) {
            return Box::pin(async { Err(REFUSED) });
        }
        self.inner.copy(req)
    }

    fn create_multipart<'a>(
        &'a self,
        key: &'a str,
        headers: &'a [(String, String)],
    ) -> BoxFuture<'a, Result<String, OriginError>> {
        if self.hidden(key) {
            return Box::pin(async { Err(REFUSED) });
        }
        self.inner.create_multipart(key, headers)
    }

    fn upload_part(&self, req: UploadPart) -> BoxFuture<'_, Result<Written, OriginError>> {
        if self.hidden(&req.key) {
            return Box::pin(async { Err(REFUSED) });
        }
        self.inner.upload_part(req)
    }

    fn complete_multipart<'a>(
        &'a self,
        key: &'a str,
        upload_id: &'a str,
        parts: bytes::Bytes,
    ) -> BoxFuture<'a, Result<Written, OriginError>> {
        if self.hidden(key) {
            return Box::pin(async { Err(REFUSED) });
        }
        self.inner.complete_multipart(key, upload_id, parts)
    }

    fn abort_multipart<'a>(
        &'a self,
        key: &'a str,
        upload_id: &'a str,
    ) -> BoxFuture<'a, Result<(), OriginError>> {
        if self.hidden(key) {
            return Box::pin(async { Err(REFUSED) });
        }
        self.inner.abort_multipart(key, upload_id)
    }
}
