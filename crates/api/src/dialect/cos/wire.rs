//! COS on the wire: XML errors with `TraceId`, and the `?exif`,
//! `?imageInfo` and `?imageAve` bodies.

use serde_json::{Map, Value as Json, json};

use crate::Format;
use crate::dialect::wire::{xml_error, xml_escape};
use crate::metadata::{
    Facts, Metadata, MetadataKind, Reads, SourceLimits, exiv2_name, exiv2_value, tiff_type,
};

pub(super) fn error(
    code: &str,
    message: &str,
    request_id: &str,
    host: &str,
) -> (String, &'static str) {
    let body = xml_error(code_name(code), message, request_id, "TraceId", host);
    // COS's envelope also names the resource, between Message and
    // RequestId; cos-python-sdk-v5 reads no error code without it. The
    // proxy knows the host here, not the key.
    let resource = format!(
        "  <Resource>{}</Resource>\n  <RequestId>",
        xml_escape(if host.is_empty() { "/" } else { host })
    );
    (
        body.replacen("  <RequestId>", &resource, 1),
        "application/xml",
    )
}

/// COS's name for a proxy code: its own codes are the S3 names the proxy
/// uses, except an expired signature, which COS answers `AccessDenied`
/// ("Request has expired"), all with 403.
fn code_name(code: &str) -> &str {
    match code {
        "RequestExpired" => "AccessDenied",
        code => code,
    }
}

/// COS's own input limits (its documentation): ≤ 30000 px a side, ≤ 250 MP
/// (frames counted).
const LIMITS: SourceLimits = SourceLimits {
    side: 30_000,
    pixels: 250_000_000,
    service: "COS",
};

pub(super) const EXIF: MetadataKind = MetadataKind {
    canonical: "cos/exif",
    reads: Reads {
        headers: true,
        md5: false,
        average: false,
    },
    limits: Some(LIMITS),
    body: exif_body,
};

/// `?imageInfo`: headers, the MD5 and the average colour.
pub(super) const IMAGE_INFO: MetadataKind = MetadataKind {
    canonical: "cos/imageInfo",
    reads: Reads {
        headers: true,
        md5: true,
        average: true,
    },
    limits: Some(LIMITS),
    body: image_info,
};

/// `?imageAve`: the average colour only (no header read, no limits).
pub(super) const IMAGE_AVE: MetadataKind = MetadataKind {
    canonical: "cos/imageAve",
    reads: Reads {
        headers: false,
        md5: false,
        average: true,
    },
    limits: None,
    body: image_ave,
};

/// What COS answers for `?exif` on an image without EXIF — exactly, spacing
/// included, as its documentation shows it.
const NO_EXIF: &str = "{\"error\" : \"no exif data\"}";

/// COS `?exif`: `{"Tag": {"val": "…", "type": N}}` (Qiniu's shape, which the
/// COS clients read), or [`NO_EXIF`].
pub(in crate::dialect) fn exif_body(facts: &Facts<'_>) -> String {
    let Some(m) = facts.meta.filter(|m| has_capture_info(m)) else {
        return NO_EXIF.to_owned();
    };
    let mut out = Map::new();
    for f in &m.exif {
        out.insert(
            exiv2_name(f.tag),
            json!({ "val": exiv2_value(f), "type": tiff_type(&f.value) }),
        );
    }
    Json::Object(out).to_string()
}

/// Whether the EXIF says anything about how the picture was taken: the
/// camera (Make, Model), an Exif-IFD tag beyond the bookkeeping editors
/// write on every export (version, colour space, pixel dimensions), or GPS.
/// An export carrying only bookkeeping — as the corpus's `exif/no_exif.jpg`
/// does — is "no exif data" to `?exif` clients (decisions.md).
fn has_capture_info(m: &Metadata) -> bool {
    use exif::{Context, Tag};
    m.exif.iter().any(|f| match f.tag.context() {
        Context::Gps => true,
        Context::Exif => !matches!(
            f.tag,
            Tag::ExifVersion
                | Tag::FlashpixVersion
                | Tag::ColorSpace
                | Tag::PixelXDimension
                | Tag::PixelYDimension
                | Tag::ComponentsConfiguration
                | Tag::InteropIFDPointer
        ),
        Context::Tiff => matches!(f.tag, Tag::Make | Tag::Model),
        _ => false,
    })
}

/// COS `?imageInfo`: every value a string; `photo_rgb` is the average colour.
fn image_info(facts: &Facts<'_>) -> String {
    let Some(m) = facts.meta else {
        return "{}".to_owned();
    };
    let format = match m.format {
        Format::Jpg => "jpeg",
        f => f.as_str(),
    };
    json!({
        "format": format,
        "width": m.width.to_string(),
        "height": m.height.to_string(),
        "size": m.file_size.to_string(),
        "md5": facts.md5.unwrap_or_default(),
        "frame_count": m.frames.to_string(),
        "photo_rgb": facts.average.unwrap_or_default(),
    })
    .to_string()
}

/// COS `?imageAve`: `{"RGB": "0xrrggbb"}`.
fn image_ave(facts: &Facts<'_>) -> String {
    format!("{{\"RGB\": \"{}\"}}", facts.average.unwrap_or_default())
}
