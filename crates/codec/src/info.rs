//! The metadata bodies each dialect answers with (SPEC §4), written from a
//! [`Metadata`]. Clients parse these field by field, so names and value
//! formats follow the services' documented examples exactly.

use exif::{Field, Tag, Value};
use pixgate_api::Format;
use serde_json::{Map, Value as Json, json};

use crate::meta::{Metadata, Space};

/// The name a tag goes by in OSS's `info` (exiv2's names for the IFD
/// pointers, the EXIF standard's for the rest).
fn tag_name(t: Tag) -> String {
    match t {
        Tag::ExifIFDPointer => "ExifTag".to_owned(),
        Tag::GPSInfoIFDPointer => "GPSTag".to_owned(),
        Tag::InteropIFDPointer => "InteroperabilityTag".to_owned(),
        other => other.to_string(),
    }
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn ascii(v: &[Vec<u8>]) -> String {
    v.iter()
        .map(|s| String::from_utf8_lossy(s).trim_end_matches('\0').to_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A value written plainly: numbers space-separated, rationals `n/d`.
pub fn raw_value(v: &Value) -> String {
    match v {
        Value::Byte(b) => join(b),
        Value::Ascii(a) => ascii(a),
        Value::Short(s) => join(s),
        Value::Long(l) => join(l),
        Value::Rational(r) => r
            .iter()
            .map(|r| format!("{}/{}", r.num, r.denom))
            .collect::<Vec<_>>()
            .join(" "),
        Value::SByte(b) => join(b),
        Value::Undefined(b, _) => String::from_utf8_lossy(b).trim_end_matches('\0').to_owned(),
        Value::SShort(s) => join(s),
        Value::SLong(l) => join(l),
        Value::SRational(r) => r
            .iter()
            .map(|r| format!("{}/{}", r.num, r.denom))
            .collect::<Vec<_>>()
            .join(" "),
        Value::Float(f) => join(f),
        Value::Double(d) => join(d),
        Value::Unknown(..) => String::new(),
    }
}

/// The TIFF field type number of a value (2 ASCII, 3 SHORT, 5 RATIONAL…).
pub fn tiff_type(v: &Value) -> u16 {
    match v {
        Value::Byte(_) => 1,
        Value::Ascii(_) => 2,
        Value::Short(_) => 3,
        Value::Long(_) => 4,
        Value::Rational(_) => 5,
        Value::SByte(_) => 6,
        Value::Undefined(..) => 7,
        Value::SShort(_) => 8,
        Value::SLong(_) => 9,
        Value::SRational(_) => 10,
        Value::Float(_) => 11,
        Value::Double(_) => 12,
        Value::Unknown(t, ..) => *t,
    }
}

/// Degrees, minutes, seconds as exiv2 prints them: `39deg 54' 26.68" `,
/// trailing zero parts dropped (`0deg `), each part followed by a space.
/// Some writers store the coordinates as signed rationals: both are read.
fn degrees(v: &Value) -> Option<String> {
    let parts: Vec<(i64, i64)> = match v {
        Value::Rational(r) => r
            .iter()
            .map(|x| (i64::from(x.num), i64::from(x.denom)))
            .collect(),
        Value::SRational(r) => r
            .iter()
            .map(|x| (i64::from(x.num), i64::from(x.denom)))
            .collect(),
        _ => return None,
    };
    if parts.len() != 3 || parts.iter().any(|&(_, d)| d == 0) {
        return None;
    }
    let last = (1..3).rev().find(|&i| parts[i].0 != 0).unwrap_or(0);
    let mut out = String::new();
    for (i, unit) in ["deg", "'", "\""].iter().enumerate().take(last + 1) {
        let (n, d) = parts[i];
        if n % d == 0 {
            out.push_str(&format!("{}{unit} ", n / d));
        } else {
            let s = format!("{:.2}", n as f64 / d as f64);
            let s = s.trim_end_matches('0').trim_end_matches('.');
            out.push_str(&format!("{s}{unit} "));
        }
    }
    Some(out)
}

/// A field's value in OSS's formatting (the seed's example: `96/1`,
/// `2 2 0 0`, `North`, `0deg `).
pub fn oss_value(f: &Field) -> String {
    match f.tag {
        Tag::GPSLatitudeRef | Tag::GPSDestLatitudeRef => match raw_value(&f.value).as_str() {
            "N" => "North".to_owned(),
            "S" => "South".to_owned(),
            other => other.to_owned(),
        },
        Tag::GPSLongitudeRef | Tag::GPSDestLongitudeRef => match raw_value(&f.value).as_str() {
            "E" => "East".to_owned(),
            "W" => "West".to_owned(),
            other => other.to_owned(),
        },
        Tag::GPSLatitude | Tag::GPSLongitude | Tag::GPSDestLatitude | Tag::GPSDestLongitude => {
            degrees(&f.value).unwrap_or_else(|| raw_value(&f.value))
        }
        _ => raw_value(&f.value),
    }
}

/// OSS `image/info`: every field `{"value": "<string>"}`, keys sorted.
pub fn oss_info(m: &Metadata) -> String {
    let mut out = Map::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_owned(), json!({ "value": v }));
    };
    // EXIF first, so the basic properties below win on shared names.
    for f in &m.exif {
        put(&tag_name(f.tag), oss_value(f));
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
    }
}

/// libexif's display string for ExifVersion (`0221` → `Exif Version 2.21`).
fn exif_version(f: &Field) -> String {
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
pub fn qingstor_info(m: &Metadata) -> String {
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

/// What COS answers for `?exif` on an image without EXIF — exactly, spacing
/// included, as its documentation shows it.
pub const COS_NO_EXIF: &str = "{\"error\" : \"no exif data\"}";

/// COS `?exif`: `{"Tag": {"val": "…", "type": N}}` (Qiniu's shape, which the
/// COS clients read), or [`COS_NO_EXIF`].
pub fn cos_exif(m: &Metadata) -> String {
    if !has_capture_info(m) {
        return COS_NO_EXIF.to_owned();
    }
    let mut out = Map::new();
    for f in &m.exif {
        out.insert(
            tag_name(f.tag),
            json!({ "val": oss_value(f), "type": tiff_type(&f.value) }),
        );
    }
    Json::Object(out).to_string()
}

/// Whether the EXIF says anything about how the picture was taken: the
/// camera (Make, Model), an Exif-IFD tag beyond the bookkeeping editors
/// write on every export (version, colour space, pixel dimensions), or GPS.
/// An export carrying only bookkeeping — as the corpus's `exif/no_exif.jpg`
/// does — is "no exif data" to COS `?exif` clients (decisions.md).
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
pub fn cos_image_info(m: &Metadata, md5_hex: &str, photo_rgb: &str) -> String {
    let format = match m.format {
        Format::Jpg => "jpeg",
        f => f.as_str(),
    };
    json!({
        "format": format,
        "width": m.width.to_string(),
        "height": m.height.to_string(),
        "size": m.file_size.to_string(),
        "md5": md5_hex,
        "frame_count": m.frames.to_string(),
        "photo_rgb": photo_rgb,
    })
    .to_string()
}

/// Lower-case hex MD5 of the source bytes (COS `md5`).
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use exif::{In, Rational};

    fn field(tag: Tag, value: Value) -> Field {
        Field {
            tag,
            ifd_num: In::PRIMARY,
            value,
        }
    }

    fn r(num: u32, denom: u32) -> Rational {
        Rational { num, denom }
    }

    #[test]
    fn values_as_the_seed_writes_them() {
        assert_eq!(
            oss_value(&field(Tag::XResolution, Value::Rational(vec![r(96, 1)]))),
            "96/1"
        );
        assert_eq!(
            oss_value(&field(Tag::GPSVersionID, Value::Byte(vec![2, 2, 0, 0]))),
            "2 2 0 0"
        );
        assert_eq!(
            oss_value(&field(
                Tag::GPSLatitudeRef,
                Value::Ascii(vec![b"N".to_vec()])
            )),
            "North"
        );
        assert_eq!(
            oss_value(&field(
                Tag::GPSLongitudeRef,
                Value::Ascii(vec![b"W".to_vec()])
            )),
            "West"
        );
        let zero = Value::Rational(vec![r(0, 1), r(0, 1), r(0, 1)]);
        assert_eq!(oss_value(&field(Tag::GPSLatitude, zero)), "0deg ");
        let beijing = Value::Rational(vec![r(39, 1), r(54, 1), r(2668, 100)]);
        assert_eq!(
            oss_value(&field(Tag::GPSLatitude, beijing)),
            "39deg 54' 26.68\" "
        );
        assert_eq!(tag_name(Tag::ExifIFDPointer), "ExifTag");
        assert_eq!(tag_name(Tag::GPSInfoIFDPointer), "GPSTag");
    }

    #[test]
    fn exif_versions_read_like_libexif() {
        let v = |s: &[u8]| exif_version(&field(Tag::ExifVersion, Value::Undefined(s.to_vec(), 0)));
        assert_eq!(v(b"0221"), "Exif Version 2.21");
        assert_eq!(v(b"0230"), "Exif Version 2.3");
        assert_eq!(v(b"0232"), "Exif Version 2.32");
    }

    #[test]
    fn md5_is_lower_hex() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
