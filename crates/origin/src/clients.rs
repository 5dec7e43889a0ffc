//! S3-like write calls from other clouds' SDKs, in the S3 terms the origins
//! speak: their header names mapped to S3's, and the answer shape they parse.
//! (The server names no cloud; this is where its write path asks.)

/// The S3 name of a client's request header, for the ones an upload or copy
/// carries under another cloud's prefix (OSS: `x-oss-meta-*`,
/// `x-oss-copy-source`, `x-oss-metadata-directive`).
pub fn s3_header_name(name: &str) -> Option<String> {
    let rest = name.strip_prefix("x-oss-")?;
    match rest {
        "copy-source" | "metadata-directive" => Some(format!("x-amz-{rest}")),
        _ => rest
            .strip_prefix("meta-")
            .map(|meta| format!("x-amz-meta-{meta}")),
    }
}

/// Object sub-resources a PUT or DELETE may name that are not the object
/// itself: never taken for an upload or a delete.
pub const OBJECT_SUBRESOURCES: &[&str] = &[
    "acl",
    "tagging",
    "retention",
    "legal-hold",
    "restore",
    "symlink",
    "torrent",
    "x-oss-process",
];

/// Bucket sub-resources that are not a listing (`GET /bucket?acl` …).
pub const BUCKET_SUBRESOURCES: &[&str] = &[
    "acl",
    "cors",
    "encryption",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "policy",
    "replication",
    "tagging",
    "uploads",
    "versioning",
    "versions",
    "website",
    "style",
    "styleName",
    "stat",
    "bucketInfo",
];

/// Whether XML answers must carry no namespace: S3's documents have one,
/// OSS's have none and oss2 finds elements only without one. Told by the
/// request's signature (header or URL).
pub fn wants_plain_xml<'a>(
    authorization: Option<&str>,
    mut query_names: impl Iterator<Item = &'a str>,
) -> bool {
    authorization.is_some_and(|a| a.starts_with("OSS"))
        || query_names.any(|k| k == "OSSAccessKeyId" || k == "x-oss-signature")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_clouds_headers_take_their_s3_names() {
        assert_eq!(
            s3_header_name("x-oss-meta-author").as_deref(),
            Some("x-amz-meta-author")
        );
        assert_eq!(
            s3_header_name("x-oss-copy-source").as_deref(),
            Some("x-amz-copy-source")
        );
        assert_eq!(
            s3_header_name("x-oss-metadata-directive").as_deref(),
            Some("x-amz-metadata-directive")
        );
        assert_eq!(s3_header_name("x-oss-object-acl"), None);
        assert_eq!(s3_header_name("content-type"), None);
        assert!(wants_plain_xml(Some("OSS ak:sig"), std::iter::empty()));
        assert!(wants_plain_xml(None, ["OSSAccessKeyId"].into_iter()));
        assert!(!wants_plain_xml(
            Some("AWS4-HMAC-SHA256 Credential=…"),
            ["X-Amz-Signature"].into_iter()
        ));
    }
}
