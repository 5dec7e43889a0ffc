//! QingStor on the wire: JSON errors with its snake-case codes, and the
//! `?image&action=info` body.

use exif::Tag;
use serde_json::{Map, Value as Json, json};

use crate::Format;
use crate::dialect::wire::json_string;
use crate::metadata::{Facts, MetadataKind, Reads, Space, raw_value};

pub(super) fn error(code: &str, message: &str, request_id: &str) -> (String, &'static str) {
    let body = format!(
        "{{\"code\":{},\"message\":{},\"request_id\":{},\"url\":\"https://docs.qingcloud.com/qingstor/api/common/error_code\"}}",
        json_string(code_name(code)),
        json_string(message),
        json_string(request_id),
    );
    (body, "application/json")
}

/// QingStor's snake-case codes (its error_code page) for the proxy's codes.
fn code_name(code: &str) -> &'static str {
    match code {
        "InvalidArgument" | "MissingArgument" | "BadRequest" | "WatermarkError"
        | "InvalidObjectName" => "invalid_argument",
        "ImageTooLarge" => "image_too_large",
        "AccessDenied" => "permission_denied",
        "SignatureDoesNotMatch" => "signature_not_matched",
        "InvalidAccessKeyId" => "invalid_access_key_id",
        "RequestTimeTooSkewed" | "RequestExpired" => "request_expired",
        "NoSuchKey" => "object_not_exists",
        "NoSuchBucket" => "bucket_not_exists",
        "NoSuchStyle" => "style_not_exists",
        "MethodNotAllowed" => "method_not_allowed",
        "InvalidRange" => "invalid_range",
        "NotImplemented" => "not_implemented",
        "UpstreamUnreachable" | "UpstreamError" | "UpstreamTimeout" | "ServiceUnavailable" => {
            "service_unavailable"
        }
        _ => "internal_error",
    }
}

/// QingStor answers a signature it cannot match, or a key it does not
/// know, with 401 (its error_code page); the rest keep the proxy's status.
pub(super) fn status(code: &str, status: u16) -> u16 {
    match code {
        "SignatureDoesNotMatch" | "InvalidAccessKeyId" => 401,
        _ => status,
    }
}

/// `?image&action=info`: headers only.
pub(super) const INFO: MetadataKind = MetadataKind {
    canonical: "qingstor/image/info",
    reads: Reads {
        headers: true,
        md5: false,
        average: false,
    },
    limits: None,
    body: info,
};

/// The loader name libvips would report (QingStor's `type`).
fn vips_type(f: Format) -> &'static str {
    match f {
        Format::Jpg => "jpeg",
        Format::Png => "png",
        Format::Gif => "gif",
        Format::Webp => "webp",
        Format::Tiff => "tiff",
        Format::Bmp => "bmp",
        Format::Avif | Format::Heic => "heif",
        Format::Jxl => "jxl",
        Format::Svg => "svg",
    }
}

/// libexif's display string for ExifVersion (`0221` → `Exif Version 2.21`).
fn exif_version(f: &exif::Field) -> String {
    let raw = raw_value(&f.value);
    let digits: Vec<u32> = raw.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 4 {
        return raw;
    }
    let major = digits[0] * 10 + digits[1];
    let minor = if digits[3] == 0 {
        digits[2].to_string()
    } else {
        format!("{}{}", digits[2], digits[3])
    };
    format!("Exif Version {major}.{minor}")
}

/// QingStor `?image&action=info` (seed 001): numbers and a bool for the
/// basics, strings for EXIF, rationals kept raw; absent tags are omitted.
fn info(facts: &Facts<'_>) -> String {
    let Some(m) = facts.meta else {
        return "{}".to_owned();
    };
    let mut out = Map::new();
    out.insert("width".into(), json!(m.width));
    out.insert("height".into(), json!(m.height));
    out.insert("orientation".into(), json!(m.orientation));
    out.insert("alpha".into(), json!(m.alpha));
    out.insert("type".into(), json!(vips_type(m.format)));
    let space = match m.space {
        Space::Srgb => "srgb",
        Space::Bw => "b-w",
        Space::Cmyk => "cmyk",
    };
    out.insert("space".into(), json!(space));
    let fields: [(&str, Tag); 11] = [
        ("make", Tag::Make),
        ("model", Tag::Model),
        ("datetime", Tag::DateTime),
        ("exifversion", Tag::ExifVersion),
        ("focallength", Tag::FocalLength),
        ("gpslatituderef", Tag::GPSLatitudeRef),
        ("gpslatitude", Tag::GPSLatitude),
        ("gpslongituderef", Tag::GPSLongitudeRef),
        ("gpslongitude", Tag::GPSLongitude),
        ("gpsaltituderef", Tag::GPSAltitudeRef),
        ("gpsaltitude", Tag::GPSAltitude),
    ];
    for (key, tag) in fields {
        let Some(f) = m.field(tag) else { continue };
        let v = match tag {
            Tag::ExifVersion => exif_version(f),
            Tag::GPSAltitudeRef => match raw_value(&f.value).as_str() {
                "0" => "Sea level".to_owned(),
                "1" => "Sea level reference".to_owned(),
                other => other.to_owned(),
            },
            _ => raw_value(&f.value),
        };
        out.insert(key.into(), json!(v));
    }
    Json::Object(out).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use exif::{Field, In, Value};

    #[test]
    fn signature_refusals_use_qingstor_codes_and_statuses() {
        for (code, name, want) in [
            ("SignatureDoesNotMatch", "signature_not_matched", 401),
            ("InvalidAccessKeyId", "invalid_access_key_id", 401),
            ("RequestTimeTooSkewed", "request_expired", 403),
            ("RequestExpired", "request_expired", 403),
            ("AccessDenied", "permission_denied", 403),
        ] {
            assert_eq!(code_name(code), name);
            assert_eq!(status(code, 403), want, "{code}");
        }
        assert_eq!(status("NoSuchKey", 404), 404);
    }

    #[test]
    fn exif_versions_read_like_libexif() {
        let v = |s: &[u8]| {
            exif_version(&Field {
                tag: Tag::ExifVersion,
                ifd_num: In::PRIMARY,
                value: Value::Undefined(s.to_vec(), 0),
            })
        };
        assert_eq!(v(b"0221"), "Exif Version 2.21");
        assert_eq!(v(b"0230"), "Exif Version 2.3");
        assert_eq!(v(b"0232"), "Exif Version 2.32");
    }
}
