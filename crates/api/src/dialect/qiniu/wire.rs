//! Qiniu on the wire: JSON errors `{"code":<status>,"error":"…"}`, and the
//! `?imageInfo` (numbers), `?exif` and `?imageAve` bodies.

use serde_json::json;

use crate::Format;
use crate::dialect::wire::json_string;
use crate::metadata::{Facts, MetadataKind, Reads, SourceLimits, Space};

/// Qiniu's error body carries the HTTP status as its code (§2.6).
pub(super) fn error(code: &str, message: &str) -> (String, &'static str) {
    let body = format!(
        "{{\"code\":{},\"error\":{}}}",
        status(code),
        json_string(message)
    );
    (body, "application/json")
}

/// Qiniu answers every download-token failure (bad, unknown key, out of
/// date) with 401; the rest keep the proxy's status.
pub(super) fn answer_status(code: &str, status: u16) -> u16 {
    match code {
        "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "RequestTimeTooSkewed"
        | "RequestExpired" => 401,
        _ => status,
    }
}

/// The status the proxy answers each of its codes with in this dialect
/// (the server's table, with [`answer_status`]); the body repeats it.
fn status(code: &str) -> u16 {
    match code {
        "InvalidArgument" | "MissingArgument" | "ImageTooLarge" | "BadRequest"
        | "WatermarkError" | "InvalidObjectName" => 400,
        "AccessDenied" => 403,
        "SignatureDoesNotMatch"
        | "InvalidAccessKeyId"
        | "RequestTimeTooSkewed"
        | "RequestExpired" => 401,
        "NoSuchKey" | "NoSuchBucket" | "NoSuchStyle" => 404,
        "MethodNotAllowed" => 405,
        "InvalidRange" => 416,
        "NotImplemented" => 501,
        "UpstreamUnreachable" | "UpstreamError" => 502,
        "ServiceUnavailable" => 503,
        "UpstreamTimeout" => 504,
        _ => 500,
    }
}

/// Qiniu's pre-processing input limits: ≤ 30 000 px a side, ≤ 150 MP (§2.2).
const LIMITS: SourceLimits = SourceLimits {
    side: 30_000,
    pixels: 150_000_000,
    service: "Qiniu",
};

/// `?imageInfo`: headers only.
pub(super) const IMAGE_INFO: MetadataKind = MetadataKind {
    canonical: "qiniu/imageInfo",
    reads: Reads {
        headers: true,
        md5: false,
        average: false,
    },
    limits: Some(LIMITS),
    body: image_info,
};

/// `?exif`: the `{"Tag": {"val", "type"}}` shape COS copied from Qiniu.
pub(super) const EXIF: MetadataKind = MetadataKind {
    canonical: "qiniu/exif",
    reads: Reads {
        headers: true,
        md5: false,
        average: false,
    },
    limits: Some(LIMITS),
    body: super::super::cos::exif_body,
};

/// `?imageAve`: `{"RGB":"0xrrggbb"}`.
pub(super) const IMAGE_AVE: MetadataKind = MetadataKind {
    canonical: "qiniu/imageAve",
    reads: Reads {
        headers: false,
        md5: false,
        average: true,
    },
    limits: None,
    body: image_ave,
};

/// Qiniu `?imageInfo`: numbers, not strings (contrast COS); `colorModel`
/// as Go's `image/color` models name them; `frameNumber` for GIF only;
/// `orientation` when the EXIF has one (§2.4, §7).
fn image_info(facts: &Facts<'_>) -> String {
    let Some(m) = facts.meta else {
        return "{}".to_owned();
    };
    let format = match m.format {
        Format::Jpg => "jpeg",
        f => f.as_str(),
    };
    let color_model = match (m.format, m.space, m.alpha) {
        (_, Space::Cmyk, _) => "cmyk",
        (Format::Jpg, Space::Bw, _) => "gray",
        (Format::Jpg, _, _) => "ycbcr",
        (Format::Gif, _, _) => "palette",
        (_, Space::Bw, false) => "gray",
        (_, _, true) => "nrgba",
        _ => "rgba",
    };
    let mut out = json!({
        "format": format,
        "width": m.width,
        "height": m.height,
        "colorModel": color_model,
    });
    if m.format == Format::Gif {
        out["frameNumber"] = json!(m.frames);
    }
    if m.orientation > 1 {
        out["orientation"] = json!(orientation_name(m.orientation));
    }
    out.to_string()
}

/// The EXIF orientation as Qiniu writes it (`Top-left` …, libexif's names).
fn orientation_name(o: u8) -> &'static str {
    match o {
        2 => "Top-right",
        3 => "Bottom-right",
        4 => "Bottom-left",
        5 => "Left-top",
        6 => "Right-top",
        7 => "Right-bottom",
        8 => "Left-bottom",
        _ => "Top-left",
    }
}

fn image_ave(facts: &Facts<'_>) -> String {
    format!("{{\"RGB\":\"{}\"}}", facts.average.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;

    fn meta(format: Format, frames: u32, orientation: u8) -> Metadata {
        Metadata {
            format,
            file_size: 1234,
            width: 640,
            height: 427,
            frames,
            orientation,
            space: Space::Srgb,
            alpha: false,
            jfif_density: None,
            exif: Vec::new(),
        }
    }

    fn info(m: &Metadata) -> serde_json::Value {
        let facts = Facts {
            meta: Some(m),
            md5: None,
            average: None,
        };
        serde_json::from_str(&image_info(&facts)).unwrap()
    }

    #[test]
    fn token_failures_are_401_in_the_body_too() {
        for code in [
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
            "RequestTimeTooSkewed",
            "RequestExpired",
        ] {
            assert_eq!(answer_status(code, 403), 401);
            let (body, _) = error(code, "token out of date");
            assert_eq!(body, "{\"code\":401,\"error\":\"token out of date\"}");
        }
        // A private bucket or a protected original is a policy refusal.
        assert_eq!(answer_status("AccessDenied", 403), 403);
        assert_eq!(status("AccessDenied"), 403);
        assert_eq!(answer_status("NoSuchKey", 404), 404);
    }

    #[test]
    fn image_info_is_numbers_as_documented() {
        // The document's example, exactly.
        assert_eq!(
            info(&meta(Format::Jpg, 1, 1)),
            json!({"format":"jpeg","width":640,"height":427,"colorModel":"ycbcr"})
        );
        let gif = info(&meta(Format::Gif, 3, 1));
        assert_eq!(gif["frameNumber"], 3);
        assert_eq!(gif["colorModel"], "palette");
        assert_eq!(info(&meta(Format::Jpg, 1, 6))["orientation"], "Right-top");
    }
}
