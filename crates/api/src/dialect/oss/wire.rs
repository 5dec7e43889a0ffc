//! OSS on the wire: XML errors with `HostId`, and the `image/info` body.

use exif::Tag;
use serde_json::{Map, Value as Json, json};

use crate::dialect::wire::xml_error;
use crate::metadata::{ColourBody, Facts, MetadataKind, Reads, exiv2_name, exiv2_value};

pub(super) fn error(
    code: &str,
    message: &str,
    request_id: &str,
    host: &str,
) -> (String, &'static str) {
    // An expired signed URL is `AccessDenied` to OSS (and S3).
    let code = if code == "RequestExpired" {
        "AccessDenied"
    } else {
        code
    };
    let body = xml_error(code, message, request_id, "HostId", host);
    (body, "application/xml")
}

/// `image/info`: headers only (no limits apply: no pixel is decoded).
/// `average-hue`: `{"RGB": "0xrrggbb"}` (lower-case hex, as the service answers).
pub const AVERAGE_HUE: ColourBody = ColourBody {
    canonical: "average-hue",
    write: |[r, g, b]| format!("{{\"RGB\": \"0x{r:02x}{g:02x}{b:02x}\"}}"),
};

pub const INFO: MetadataKind = MetadataKind {
    canonical: "image/info",
    reads: Reads {
        headers: true,
        md5: false,
        average: false,
    },
    limits: None,
    body: info,
};

/// OSS `image/info`: every field `{"value": "<string>"}`, keys sorted.
fn info(facts: &Facts<'_>) -> String {
    let Some(m) = facts.meta else {
        return "{}".to_owned();
    };
    let mut out = Map::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_owned(), json!({ "value": v }));
    };
    // EXIF first, so the basic properties below win on shared names.
    for f in &m.exif {
        put(&exiv2_name(f.tag), exiv2_value(f));
    }
    if m.field(Tag::XResolution).is_none()
        && let Some((unit, x, y)) = m.jfif_density
    {
        // JFIF units 0/1/2 are EXIF ResolutionUnit 1/2/3.
        put("ResolutionUnit", (u16::from(unit) + 1).to_string());
        put("XResolution", format!("{x}/1"));
        put("YResolution", format!("{y}/1"));
    }
    put("FileSize", m.file_size.to_string());
    put("Format", m.format.as_str().to_owned());
    put("FrameCount", m.frames.to_string());
    put("ImageHeight", m.height.to_string());
    put("ImageWidth", m.width.to_string());
    Json::Object(out).to_string()
}
