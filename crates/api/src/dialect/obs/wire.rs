//! OBS on the wire: S3-style XML errors (`Code`, `Message`, `RequestId`,
//! `HostId`), and the `info` and `average-hue` bodies Huawei documents:
//! `{"format":"JPEG","height":2000,"size":1046583,"width":2668}` (numbers,
//! lower-case keys, EXIF fields beside them) and `{"RGB":"#28577D"}`.

use serde_json::{Map, Value as Json, json};

use crate::Format;
use crate::dialect::wire::xml_error;
use crate::metadata::{ColourBody, Facts, MetadataKind, Reads, exiv2_name, exiv2_value};

pub(super) fn error(
    code: &str,
    message: &str,
    request_id: &str,
    host: &str,
) -> (String, &'static str) {
    let body = xml_error(code_name(code), message, request_id, "HostId", host);
    (body, "application/xml")
}

/// OBS's name for a proxy code: an expired signed URL is
/// `RequestTimeTooSkewed` ("Request has expired.", obs_errorcode_0012); the
/// other signature codes are S3's, as OBS uses them (all 403).
fn code_name(code: &str) -> &str {
    match code {
        "RequestExpired" => "RequestTimeTooSkewed",
        other => other,
    }
}

/// `image/info`: headers only.
pub(super) const INFO: MetadataKind = MetadataKind {
    canonical: "obs/info",
    reads: Reads {
        headers: true,
        md5: false,
        average: false,
    },
    limits: None,
    body: info,
};

/// `average-hue`: the average colour of the image after the steps.
pub(super) const AVERAGE_HUE: ColourBody = ColourBody {
    canonical: "obs/average-hue",
    write: |[r, g, b]| json!({ "RGB": format!("#{r:02X}{g:02X}{b:02X}") }).to_string(),
};

/// The format as Huawei's example writes it (`JPEG`).
fn format_name(f: Format) -> &'static str {
    match f {
        Format::Jpg => "JPEG",
        Format::Png => "PNG",
        Format::Webp => "WEBP",
        Format::Bmp => "BMP",
        Format::Gif => "GIF",
        Format::Tiff => "TIFF",
        Format::Avif => "AVIF",
        Format::Heic => "HEIC",
        Format::Jxl => "JXL",
        Format::Svg => "SVG",
    }
}

/// The four documented fields, numbers, keys sorted as the documented
/// example is (serde_json's map is ordered). Huawei adds "the full EXIF as
/// JSON" without showing its shape: here each EXIF field by its exiv2 name,
/// its value a string (OSS's values), beside the four.
fn info(facts: &Facts<'_>) -> String {
    let Some(m) = facts.meta else {
        return "{}".to_owned();
    };
    let mut out = Map::new();
    for f in &m.exif {
        out.insert(exiv2_name(f.tag), Json::String(exiv2_value(f)));
    }
    out.insert("format".into(), json!(format_name(m.format)));
    out.insert("height".into(), json!(m.height));
    out.insert("size".into(), json!(m.file_size));
    out.insert("width".into(), json!(m.width));
    Json::Object(out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_codes_are_obs_names() {
        let (body, ct) = error("RequestExpired", "Request has expired.", "RID", "h");
        assert_eq!(ct, "application/xml");
        assert!(body.contains("<Code>RequestTimeTooSkewed</Code>"), "{body}");
        assert!(body.contains("<Message>Request has expired.</Message>"));
        for code in [
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
            "AccessDenied",
            "RequestTimeTooSkewed",
        ] {
            let (body, _) = error(code, "m", "RID", "h");
            assert!(body.contains(&format!("<Code>{code}</Code>")), "{body}");
        }
    }

    #[test]
    fn average_hue_is_hash_upper_case() {
        assert_eq!(
            (AVERAGE_HUE.write)([0x28, 0x57, 0x7d]),
            r##"{"RGB":"#28577D"}"##
        );
    }
}
