//! Object keys as they travel to an origin.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::OriginError;

/// Bytes sent raw in an upstream path; everything else is percent-encoded.
/// Strict S3 servers reject raw reserved bytes such as `(` or `+`.
const PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// The key as an URI path fragment, exactly as it is signed and sent.
pub fn encode_path(key: &str) -> String {
    utf8_percent_encode(key, PATH_KEEP).to_string()
}

/// Rules every key must meet before any origin sees it. S3 itself would accept
/// `..` literally, but keys that name a parent directory are never legitimate
/// image URLs and would be traversal on a local directory, so all origins
/// refuse them alike.
pub fn validate_key(key: &str) -> Result<(), OriginError> {
    if key.is_empty() {
        return Err(OriginError::InvalidKey("it is empty"));
    }
    if key.len() > 1024 {
        return Err(OriginError::InvalidKey("it is longer than 1024 bytes"));
    }
    if key.starts_with('/') {
        return Err(OriginError::InvalidKey("it is an absolute path"));
    }
    if key.contains('\0') {
        return Err(OriginError::InvalidKey("it contains a NUL byte"));
    }
    if key.contains('\\') {
        return Err(OriginError::InvalidKey("it contains a backslash"));
    }
    if key.split('/').any(|seg| seg == "..") {
        return Err(OriginError::InvalidKey("it contains a '..' segment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_bytes_are_encoded_slashes_kept() {
        assert_eq!(
            encode_path("a b/c(1)+=&.jpg"),
            "a%20b/c%281%29%2B%3D%26.jpg"
        );
        assert_eq!(
            encode_path("照片/猫.jpg"),
            "%E7%85%A7%E7%89%87/%E7%8C%AB.jpg"
        );
        assert_eq!(encode_path("a-b_c.d~e"), "a-b_c.d~e");
    }

    #[test]
    fn traversal_and_absolute_keys_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "..",
            "../x",
            "a/../../x",
            "a/..",
            "a\\..\\b",
            "a\0b",
        ] {
            assert!(validate_key(bad).is_err(), "{bad:?} should be refused");
        }
        for good in [
            "a.jpg",
            "dir/a.jpg",
            "a..b.jpg",
            "...",
            "a/.hidden",
            "%2e%2e",
        ] {
            assert!(validate_key(good).is_ok(), "{good:?} should pass");
        }
    }
}
