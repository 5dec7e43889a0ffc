//! The styles object: the styles put through the style API, kept in the
//! bucket itself as JSON so every replica reads the same ones.

use futures_util::StreamExt;
use pixgate_origin::{Fetched, ObjectRequest, Origin, OriginError, Payload, PutObject};
use serde::{Deserialize, Serialize};

/// The largest styles object read: 50 styles of a few KiB each.
const MAX_BYTES: usize = 1 << 20;

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    version: u32,
    styles: Vec<StoredStyle>,
}

/// One style as stored; times are HTTP dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredStyle {
    pub name: String,
    pub content: String,
    pub created: String,
    pub modified: String,
}

/// What a read of the styles object found.
#[derive(Debug)]
pub enum Loaded {
    /// The ETag given still matches (304).
    Unchanged,
    /// The styles and the object's ETag; none when the object is absent.
    Found {
        etag: Option<String>,
        styles: Vec<StoredStyle>,
    },
}

/// Reads the styles object, conditionally on `etag` (one If-None-Match GET).
pub async fn load(origin: &dyn Origin, key: &str, etag: Option<&str>) -> Result<Loaded, String> {
    let req = ObjectRequest {
        key: key.to_owned(),
        if_none_match: etag.map(str::to_owned),
        ..ObjectRequest::default()
    };
    let object = match origin.fetch(&req).await {
        Ok(o) => o,
        Err(OriginError::NoSuchKey) => {
            return Ok(Loaded::Found {
                etag: None,
                styles: Vec::new(),
            });
        }
        Err(e) => return Err(e.to_string()),
    };
    if object.fetched == Fetched::NotModified {
        return Ok(Loaded::Unchanged);
    }
    let mut bytes = Vec::new();
    if let Some(mut body) = object.body {
        while let Some(chunk) = body.next().await {
            bytes.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
            if bytes.len() > MAX_BYTES {
                return Err(format!(
                    "the styles object is larger than {MAX_BYTES} bytes"
                ));
            }
        }
    }
    let file: File = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the styles object is not pixgate's styles JSON ({e})"))?;
    Ok(Loaded::Found {
        etag: object.meta.etag,
        styles: file.styles,
    })
}

/// Replaces the styles object; the new ETag when the origin tells it.
pub async fn save(
    origin: &dyn Origin,
    key: &str,
    styles: &[StoredStyle],
) -> Result<Option<String>, OriginError> {
    let file = File {
        version: 1,
        styles: styles.to_vec(),
    };
    // Serialising plain strings cannot fail.
    let json = serde_json::to_vec_pretty(&file).unwrap_or_default();
    let length = json.len() as u64;
    let body: pixgate_origin::ByteStream = Box::pin(futures_util::stream::once(async move {
        Ok::<_, std::io::Error>(bytes::Bytes::from(json))
    }));
    let written = origin
        .put(PutObject {
            key: key.to_owned(),
            body,
            length,
            payload: Payload::Unsigned,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
        })
        .await?;
    Ok(written.etag)
}
