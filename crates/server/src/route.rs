//! Addressing: which bucket and key a request names (SPEC §1). Path style,
//! virtual-host style and single-bucket mode are all live at once.

use std::collections::HashSet;

use percent_encoding::percent_decode_str;

use crate::error::{ApiError, Code};

/// The proxy's own endpoints, answered before any addressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Health,
    Ready,
    Metrics,
}

/// Recognises the reserved paths; they are never object keys.
pub fn endpoint(path: &str) -> Option<Endpoint> {
    match path {
        "/healthz" => Some(Endpoint::Health),
        "/readyz" => Some(Endpoint::Ready),
        "/metrics" => Some(Endpoint::Metrics),
        _ => None,
    }
}

/// The object a request names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: String,
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct Addressing {
    /// Lower-case, without a port.
    pub domain: Option<String>,
    pub default_bucket: Option<String>,
    pub buckets: HashSet<String>,
}

impl Addressing {
    /// Resolution order: a `Host` under the configured domain names the bucket;
    /// else a first path segment that is a configured bucket (path style);
    /// else the default bucket takes the whole path as its key.
    pub fn resolve(&self, host: &str, raw_path: &str) -> Result<Target, ApiError> {
        let t = self.resolve_bucket(host, raw_path)?;
        target(&t.bucket, &t.key)
    }

    /// As [`Addressing::resolve`], but a path that names only a bucket
    /// resolves too, with an empty key (bucket calls: HeadBucket, listings).
    pub fn resolve_bucket(&self, host: &str, raw_path: &str) -> Result<Target, ApiError> {
        let target = |bucket: &str, key: &str| {
            Ok(Target {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            })
        };
        let path = decode(raw_path)?;
        let path = path.strip_prefix('/').unwrap_or(&path);

        let host = host_without_port(host).to_ascii_lowercase();
        if let Some(domain) = &self.domain
            && let Some(bucket) = host
                .strip_suffix(domain.as_str())
                .and_then(|h| h.strip_suffix('.'))
        {
            if !self.buckets.contains(bucket) {
                return Err(no_such_bucket(bucket));
            }
            return target(bucket, path);
        }

        let (first, rest) = path.split_once('/').unwrap_or((path, ""));
        if self.buckets.contains(first) {
            return target(first, rest);
        }
        if let Some(default) = &self.default_bucket {
            return target(default, path);
        }
        if first.is_empty() {
            return Err(ApiError::new(
                Code::NotImplemented,
                "Listing buckets is not supported; request /<bucket>/<key>.",
            ));
        }
        Err(no_such_bucket(first))
    }
}

fn target(bucket: &str, key: &str) -> Result<Target, ApiError> {
    if key.is_empty() {
        return Err(ApiError::new(
            Code::NotImplemented,
            "Listing objects is not supported; request an object key.",
        ));
    }
    Ok(Target {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    })
}

fn no_such_bucket(name: &str) -> ApiError {
    ApiError::new(
        Code::NoSuchBucket,
        format!("The bucket '{name}' is not served here."),
    )
}

fn decode(raw: &str) -> Result<String, ApiError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            ApiError::new(
                Code::InvalidObjectName,
                "The object key is not valid UTF-8 once percent-decoded.",
            )
        })
}

/// `host:port` -> `host`, leaving IPv6 literals (`[::1]:80`) intact.
fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map(|(h, _)| &host[..=h.len()])
            .unwrap_or(host);
    }
    host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addressing(domain: Option<&str>, default: Option<&str>) -> Addressing {
        Addressing {
            domain: domain.map(str::to_owned),
            default_bucket: default.map(str::to_owned),
            buckets: ["photos", "local"].map(str::to_owned).into_iter().collect(),
        }
    }

    fn t(bucket: &str, key: &str) -> Target {
        Target {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    #[test]
    fn path_style() {
        let a = addressing(None, None);
        assert_eq!(
            a.resolve("h", "/photos/a/b.jpg").unwrap(),
            t("photos", "a/b.jpg")
        );
        assert_eq!(
            a.resolve("h", "/nope/a.jpg").unwrap_err().code,
            Code::NoSuchBucket
        );
        assert_eq!(
            a.resolve("h", "/photos/").unwrap_err().code,
            Code::NotImplemented
        );
        assert_eq!(a.resolve("h", "/").unwrap_err().code, Code::NotImplemented);
    }

    #[test]
    fn virtual_host_style_with_and_without_port() {
        let a = addressing(Some("img.example.com"), None);
        assert_eq!(
            a.resolve("photos.img.example.com:8080", "/a.jpg").unwrap(),
            t("photos", "a.jpg")
        );
        assert_eq!(
            a.resolve("PHOTOS.IMG.example.com", "/photos/a.jpg")
                .unwrap(),
            t("photos", "photos/a.jpg")
        );
        assert_eq!(
            a.resolve("other.img.example.com", "/a.jpg")
                .unwrap_err()
                .code,
            Code::NoSuchBucket
        );
        // The bare domain falls back to path style.
        assert_eq!(
            a.resolve("img.example.com", "/local/a.jpg").unwrap(),
            t("local", "a.jpg")
        );
    }

    #[test]
    fn single_bucket_mode_and_path_style_together() {
        let a = addressing(None, Some("local"));
        assert_eq!(a.resolve("h", "/a.jpg").unwrap(), t("local", "a.jpg"));
        assert_eq!(
            a.resolve("h", "/dir/a.jpg").unwrap(),
            t("local", "dir/a.jpg")
        );
        assert_eq!(a.resolve("h", "/local/a.jpg").unwrap(), t("local", "a.jpg"));
        assert_eq!(
            a.resolve("h", "/photos/a.jpg").unwrap(),
            t("photos", "a.jpg")
        );
    }

    #[test]
    fn keys_are_percent_decoded_once() {
        let a = addressing(None, Some("local"));
        assert_eq!(
            a.resolve("h", "/a%20b%2Bc.jpg").unwrap(),
            t("local", "a b+c.jpg")
        );
        assert_eq!(a.resolve("h", "/%252e%252e").unwrap(), t("local", "%2e%2e"));
        assert_eq!(a.resolve("h", "/%2e%2e/x").unwrap(), t("local", "../x"));
        assert_eq!(
            a.resolve("h", "/%ff").unwrap_err().code,
            Code::InvalidObjectName
        );
    }

    #[test]
    fn reserved_endpoints_and_ports() {
        assert_eq!(endpoint("/healthz"), Some(Endpoint::Health));
        assert_eq!(endpoint("/healthz/x"), None);
        assert_eq!(host_without_port("[::1]:8080"), "[::1]");
        assert_eq!(host_without_port("a.b:1"), "a.b");
        assert_eq!(host_without_port("a.b"), "a.b");
    }
}
