//! Writes forwarded to an S3 bucket, re-signed with pixgate's upstream
//! credentials. Bodies stream through; the client's signed body hash is
//! signed again as is, so the upstream itself checks the body.

use futures_util::StreamExt;
use http::{Method, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::key::encode_path;
use crate::s3::{EMPTY_SHA256, error_code, error_for, header, read_capped, transport_error};
use crate::write::{parse_listing, whole_seconds, xml_text};
use crate::{
    Copied, CopyObject, ListRequest, Listing, OriginError, PutObject, S3Origin, UploadPart,
    Written, validate_key,
};

/// S3's query encoding: only unreserved bytes stay raw.
const QUERY_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An upstream listing answer larger than this is refused (1000 keys of
/// 1 KiB each fit many times over).
const LISTING_CAP: usize = 16 << 20;

/// Upstream answer headers a client may want back from a write.
const ANSWER_HEADERS: &[&str] = &[
    "x-amz-version-id",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
];

/// The body of a forwarded request.
struct Upload {
    body: reqwest::Body,
    length: u64,
}

impl S3Origin {
    /// Builds, signs (the given headers and payload hash included) and sends.
    async fn send_write(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        headers: &[(String, String)],
        payload: &str,
        upload: Option<Upload>,
    ) -> Result<reqwest::Response, OriginError> {
        let mut query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_KEEP)))
            .collect();
        query.sort();
        let url = if query.is_empty() {
            format!("{}{}", self.base, path)
        } else {
            format!("{}{}?{}", self.base, path, query.join("&"))
        };
        let mut request = self.sign(
            self.client.request(method.clone(), &url),
            &method,
            &url,
            headers,
            payload,
        )?;
        if self.identity.is_none() {
            request = request.header("x-amz-content-sha256", payload);
        }
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match upload {
            Some(u) => {
                request = request
                    .header("content-length", u.length.to_string())
                    .body(u.body);
            }
            None if method == Method::PUT || method == Method::POST => {
                request = request.header("content-length", "0");
            }
            None => {}
        }
        request.send().await.map_err(transport_error)
    }

    pub(crate) async fn put_object(&self, req: PutObject) -> Result<Written, OriginError> {
        validate_key(&req.key)?;
        let path = format!("{}{}", self.prefix, encode_path(&req.key));
        let body = reqwest::Body::wrap_stream(req.body);
        let response = self
            .send_write(
                Method::PUT,
                &path,
                &[],
                &req.headers,
                req.payload.header_value(),
                Some(Upload {
                    body,
                    length: req.length,
                }),
            )
            .await?;
        if response.status() != StatusCode::OK {
            return Err(write_error(response).await);
        }
        Ok(written(response.headers()))
    }

    pub(crate) async fn delete_object(&self, key: &str) -> Result<(), OriginError> {
        validate_key(key)?;
        let path = format!("{}{}", self.prefix, encode_path(key));
        let response = self
            .send_write(Method::DELETE, &path, &[], &[], EMPTY_SHA256, None)
            .await?;
        if !response.status().is_success() {
            return Err(write_error(response).await);
        }
        Ok(())
    }

    pub(crate) async fn copy_object(&self, req: &CopyObject) -> Result<Copied, OriginError> {
        validate_key(&req.source_key)?;
        validate_key(&req.key)?;
        let path = format!("{}{}", self.prefix, encode_path(&req.key));
        let mut headers = req.headers.clone();
        headers.push((
            "x-amz-copy-source".into(),
            format!("/{}/{}", self.settings.bucket, encode_path(&req.source_key)),
        ));
        let response = self
            .send_write(Method::PUT, &path, &[], &headers, EMPTY_SHA256, None)
            .await?;
        if response.status() != StatusCode::OK {
            return Err(write_error(response).await);
        }
        // S3 may answer 200 and report a failure in the body.
        let body = read_capped(response).await;
        let text = String::from_utf8_lossy(&body);
        if text.contains("<Error>") {
            return Err(write_code(500, error_code(&body)));
        }
        Ok(Copied {
            etag: xml_text(&text, "ETag"),
            last_modified: xml_text(&text, "LastModified")
                .map(|t| whole_seconds(&t))
                .unwrap_or_default(),
        })
    }

    pub(crate) async fn list_objects(&self, req: &ListRequest) -> Result<Listing, OriginError> {
        let path = self.prefix.trim_end_matches('/');
        let path = if path.is_empty() { "/" } else { path };
        let mut query = vec![
            ("list-type", "2".to_owned()),
            ("max-keys", req.max_keys.to_string()),
        ];
        if !req.prefix.is_empty() {
            query.push(("prefix", req.prefix.clone()));
        }
        if let Some(d) = &req.delimiter {
            query.push(("delimiter", d.clone()));
        }
        if let Some(t) = &req.continuation_token {
            query.push(("continuation-token", t.clone()));
        }
        if let Some(s) = &req.start_after {
            query.push(("start-after", s.clone()));
        }
        let response = self
            .send_write(Method::GET, path, &query, &[], EMPTY_SHA256, None)
            .await?;
        if response.status() != StatusCode::OK {
            return Err(write_error(response).await);
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(transport_error)?;
            body.extend_from_slice(&chunk);
            if body.len() > LISTING_CAP {
                return Err(OriginError::UpstreamStatus {
                    status: 200,
                    code: Some("ListingTooLarge".into()),
                });
            }
        }
        parse_listing(&String::from_utf8_lossy(&body)).ok_or(OriginError::UpstreamStatus {
            status: 200,
            code: Some("MalformedListing".into()),
        })
    }
}

impl S3Origin {
    pub(crate) async fn create_multipart_upload(
        &self,
        key: &str,
        headers: &[(String, String)],
    ) -> Result<String, OriginError> {
        validate_key(key)?;
        let path = format!("{}{}", self.prefix, encode_path(key));
        let response = self
            .send_write(
                Method::POST,
                &path,
                &[("uploads", String::new())],
                headers,
                EMPTY_SHA256,
                None,
            )
            .await?;
        if response.status() != StatusCode::OK {
            return Err(write_error(response).await);
        }
        let body = read_capped(response).await;
        xml_text(&String::from_utf8_lossy(&body), "UploadId")
            .filter(|id| !id.is_empty())
            .ok_or(OriginError::UpstreamStatus {
                status: 200,
                code: Some("MalformedInitiateResult".into()),
            })
    }

    pub(crate) async fn upload_one_part(&self, req: UploadPart) -> Result<Written, OriginError> {
        validate_key(&req.key)?;
        let path = format!("{}{}", self.prefix, encode_path(&req.key));
        let query = [
            ("partNumber", req.part_number.to_string()),
            ("uploadId", req.upload_id.clone()),
        ];
        let response = self
            .send_write(
                Method::PUT,
                &path,
                &query,
                &req.headers,
                req.payload.header_value(),
                Some(Upload {
                    body: reqwest::Body::wrap_stream(req.body),
                    length: req.length,
                }),
            )
            .await?;
        if response.status() != StatusCode::OK {
            return Err(write_error(response).await);
        }
        Ok(written(response.headers()))
    }

    pub(crate) async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: bytes::Bytes,
    ) -> Result<Written, OriginError> {
        validate_key(key)?;
        let path = format!("{}{}", self.prefix, encode_path(key));
        let hash = sha256_hex(&parts);
        let length = parts.len() as u64;
        let response = self
            .send_write(
                Method::POST,
                &path,
                &[("uploadId", upload_id.to_owned())],
                &[],
                &hash,
                Some(Upload {
                    body: reqwest::Body::from(parts),
                    length,
                }),
            )
            .await?;
        if response.status() != StatusCode::OK {
            return Err(write_error(response).await);
        }
        let mut done = written(response.headers());
        // S3 may answer 200 and report a failure in the body.
        let body = read_capped(response).await;
        let text = String::from_utf8_lossy(&body);
        if text.contains("<Error>") {
            return Err(write_code(500, error_code(&body)));
        }
        done.etag = xml_text(&text, "ETag");
        Ok(done)
    }

    pub(crate) async fn abort_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<(), OriginError> {
        validate_key(key)?;
        let path = format!("{}{}", self.prefix, encode_path(key));
        let response = self
            .send_write(
                Method::DELETE,
                &path,
                &[("uploadId", upload_id.to_owned())],
                &[],
                EMPTY_SHA256,
                None,
            )
            .await?;
        if !response.status().is_success() {
            return Err(write_error(response).await);
        }
        Ok(())
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn written(headers: &http::HeaderMap) -> Written {
    Written {
        etag: header(headers, "etag"),
        headers: ANSWER_HEADERS
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), header(headers, name)?)))
            .collect(),
    }
}

async fn write_error(response: reqwest::Response) -> OriginError {
    let status = response.status().as_u16();
    let code = error_code(&read_capped(response).await);
    write_code(status, code)
}

/// A refused write keeps the upstream's own code when the client can act on
/// it (`BadDigest`, `XAmzContentSHA256Mismatch`, `EntityTooLarge`, …).
fn write_code(status: u16, code: Option<String>) -> OriginError {
    match (status, code) {
        (403 | 404 | 416, code) => error_for(status, code, None),
        (400..=499, Some(code)) => OriginError::Refused { status, code },
        (status, code) => error_for(status, code, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixable_refusals_keep_their_code() {
        assert_eq!(
            write_code(400, Some("XAmzContentSHA256Mismatch".into())),
            OriginError::Refused {
                status: 400,
                code: "XAmzContentSHA256Mismatch".into()
            }
        );
        assert_eq!(
            write_code(403, Some("SignatureDoesNotMatch".into())),
            OriginError::AccessDenied
        );
        assert_eq!(
            write_code(404, Some("NoSuchKey".into())),
            OriginError::NoSuchKey
        );
        assert!(matches!(
            write_code(500, None),
            OriginError::UpstreamStatus { status: 500, .. }
        ));
    }
}
