//! What the write operations take and give back, shared by every origin.

use crate::ByteStream;

/// What the client's signature says about the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The lowercase hex SHA-256 the client signed (`x-amz-content-sha256`):
    /// the body must hash to it.
    Sha256(String),
    /// `UNSIGNED-PAYLOAD`, or a scheme that signs no body hash (OSS).
    Unsigned,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: the body is `aws-chunked`
    /// framing with a checksum trailer, which an S3 upstream decodes itself.
    StreamingUnsignedTrailer,
}

impl Payload {
    /// The `x-amz-content-sha256` value that describes this payload upstream.
    pub fn header_value(&self) -> &str {
        match self {
            Payload::Sha256(hex) => hex,
            Payload::Unsigned => "UNSIGNED-PAYLOAD",
            Payload::StreamingUnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        }
    }
}

/// PutObject.
pub struct PutObject {
    pub key: String,
    pub body: ByteStream,
    /// The body's length as sent (`Content-Length`).
    pub length: u64,
    pub payload: Payload,
    /// Headers for the upstream, already in their S3 (`x-amz-*`) names,
    /// lower case: content type, user metadata, `content-md5`, checksums.
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for PutObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PutObject")
            .field("key", &self.key)
            .field("length", &self.length)
            .field("payload", &self.payload)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// UploadPart.
pub struct UploadPart {
    pub key: String,
    pub upload_id: String,
    pub part_number: u32,
    pub body: ByteStream,
    pub length: u64,
    pub payload: Payload,
    /// `content-md5`, `x-amz-checksum-*`, as for [`PutObject`].
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for UploadPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadPart")
            .field("key", &self.key)
            .field("upload_id", &self.upload_id)
            .field("part_number", &self.part_number)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// How a write was stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Quoted, as S3 sends it.
    pub etag: Option<String>,
    /// Upstream answer headers worth handing back (`x-amz-checksum-*`,
    /// `x-amz-version-id`).
    pub headers: Vec<(String, String)>,
}

/// CopyObject within one origin.
#[derive(Debug, Clone)]
pub struct CopyObject {
    pub source_key: String,
    pub key: String,
    /// `x-amz-metadata-directive`, content type, user metadata, …
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub etag: Option<String>,
    /// ISO 8601, as `CopyObjectResult` writes it.
    pub last_modified: String,
}

/// ListObjectsV2's parameters (V1's marker is `start_after`).
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// 1..=1000.
    pub max_keys: u32,
    pub continuation_token: Option<String>,
    pub start_after: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListEntry {
    pub key: String,
    pub size: u64,
    /// Quoted.
    pub etag: Option<String>,
    /// ISO 8601.
    pub last_modified: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub entries: Vec<ListEntry>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// Where the next page starts (opaque to clients).
    pub next_token: Option<String>,
}

/// The text escaped for an XML element or attribute.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// The text of an XML element, entities resolved; `None` if malformed.
pub(crate) fn xml_unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';')? + at;
        let entity = &rest[at + 1..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    entity.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(n)?
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Each `<tag>…</tag>` inside `xml`, raw (not unescaped), in order.
pub(crate) fn xml_elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let body = &rest[start + open.len()..];
        let Some(end) = body.find(&close) else { break };
        out.push(&body[..end]);
        rest = &body[end + close.len()..];
    }
    out
}

/// The unescaped text of the first `<tag>` in `xml`.
pub(crate) fn xml_text(xml: &str, tag: &str) -> Option<String> {
    xml_elements(xml, tag).first().and_then(|t| xml_unescape(t))
}

/// An S3 `ListBucketResult` (V2) as the upstream wrote it.
pub(crate) fn parse_listing(xml: &str) -> Option<Listing> {
    if !xml.contains("<ListBucketResult") {
        return None;
    }
    // CommonPrefixes hold a <Prefix> too: read them before the top-level one
    // could be confused with theirs (only entries and prefixes are read here).
    let mut entries = Vec::new();
    for c in xml_elements(xml, "Contents") {
        entries.push(ListEntry {
            key: xml_text(c, "Key")?,
            size: xml_text(c, "Size")?.trim().parse().ok()?,
            etag: xml_text(c, "ETag"),
            last_modified: xml_text(c, "LastModified")
                .map(|t| whole_seconds(&t))
                .unwrap_or_default(),
        });
    }
    let mut common_prefixes = Vec::new();
    for c in xml_elements(xml, "CommonPrefixes") {
        common_prefixes.push(xml_text(c, "Prefix")?);
    }
    let truncated = xml_text(xml, "IsTruncated").as_deref() == Some("true");
    Some(Listing {
        entries,
        common_prefixes,
        truncated,
        next_token: xml_text(xml, "NextContinuationToken").filter(|_| truncated),
    })
}

/// An ISO 8601 UTC time with its fraction written `.000`: S3 writes
/// milliseconds, some upstreams more, and OSS's SDK reads only `.000Z`.
pub(crate) fn whole_seconds(t: &str) -> String {
    match t.get(..19) {
        Some(head) if t.ends_with('Z') && t.is_char_boundary(19) => format!("{head}.000Z"),
        _ => t.to_owned(),
    }
}

/// `2024-01-15T08:00:00.000Z` from a system time.
pub(crate) fn iso8601(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_round_trips() {
        let s = "a&b<c>\"d' é";
        assert_eq!(xml_unescape(&xml_escape(s)).as_deref(), Some(s));
        assert_eq!(xml_unescape("&#x41;&#66;").as_deref(), Some("AB"));
        assert_eq!(xml_unescape("&bogus;"), None);
        assert_eq!(xml_unescape("&amp"), None);
    }

    #[test]
    fn an_upstream_listing_is_read() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>up</Name><Prefix>a/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><Contents><Key>a/x&amp;y.jpg</Key><LastModified>2024-01-15T08:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>a/b/</Prefix></CommonPrefixes><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>"#;
        let l = parse_listing(xml).unwrap();
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.entries[0].key, "a/x&y.jpg");
        assert_eq!(l.entries[0].etag.as_deref(), Some("\"abc\""));
        assert_eq!(l.entries[0].size, 12);
        assert_eq!(l.common_prefixes, vec!["a/b/".to_owned()]);
        assert!(l.truncated);
        assert_eq!(l.next_token.as_deref(), Some("tok"));
        assert_eq!(parse_listing("<Error/>"), None);
        assert_eq!(
            parse_listing("<ListBucketResult><Contents><Key>k</Key><Size>x</Size></Contents>"),
            None
        );
    }

    #[test]
    fn dates_are_iso8601() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_705_305_600);
        assert_eq!(iso8601(t), "2024-01-15T08:00:00.000Z");
        assert_eq!(iso8601(std::time::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            whole_seconds("2026-12-02T19:59:59.704Z"),
            "2026-12-02T19:59:59.000Z"
        );
        assert_eq!(
            whole_seconds("2026-12-02T19:59:59Z"),
            "2026-12-02T19:59:59.000Z"
        );
        assert_eq!(whole_seconds("garbage"), "garbage");
    }
}
