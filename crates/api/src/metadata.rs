//! Neutral image metadata: what `codec` reads from a file's headers (sizes,
//! format, frames, colour, EXIF fields with their TIFF types), and how a
//! dialect asks for a metadata answer ([`MetadataKind`]). The bodies a
//! client reads are written by each dialect (`dialect/<name>/wire.rs`).

use exif::{Field, Tag, Value};

use crate::Format;

/// Colour model, as libvips names interpretations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    Srgb,
    /// Greyscale ("b-w").
    Bw,
    Cmyk,
}

#[derive(Debug, Clone)]
pub struct Metadata {
    pub format: Format,
    pub file_size: u64,
    /// Stored size (not orientation-corrected).
    pub width: u32,
    pub height: u32,
    pub frames: u32,
    pub orientation: u8,
    pub space: Space,
    pub alpha: bool,
    /// JFIF density (units 0/1/2, x, y) when the file has no EXIF resolution.
    pub jfif_density: Option<(u8, u16, u16)>,
    /// Known EXIF fields (each value keeps its TIFF type), IFD0 first; IFD1
    /// (thumbnail) fields only where IFD0 has none of the same tag.
    pub exif: Vec<Field>,
}

impl Metadata {
    pub fn field(&self, tag: Tag) -> Option<&Field> {
        self.exif.iter().find(|f| f.tag == tag)
    }
}

/// What the source must be read for, besides nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reads {
    /// Headers and EXIF ([`Metadata`]); no pixel is decoded.
    pub headers: bool,
    /// The MD5 of the source bytes, lower-case hex.
    pub md5: bool,
    /// The average colour `0xrrggbb` (decodes pixels, at 1/8 for JPEG).
    pub average: bool,
}

/// A service's own input limits for a metadata answer, checked on the
/// headers before anything else is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceLimits {
    /// Largest side in pixels.
    pub side: u32,
    /// Largest pixel count, frames counted.
    pub pixels: u64,
    /// How the refusal names the service ("<service> reads at most …").
    pub service: &'static str,
}

/// What was read for a [`MetadataKind`]: each part is present when the
/// kind's [`Reads`] asked for it.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub meta: Option<&'a Metadata>,
    pub md5: Option<&'a str>,
    pub average: Option<&'a str>,
}

/// A metadata answer as a dialect defines it: what to read, the limits to
/// check, and the function that writes the body. Pixel code runs it without
/// knowing whose it is.
#[derive(Debug, Clone, Copy)]
pub struct MetadataKind {
    /// A stable name for cache keys and ETags (e.g. `image/info`).
    pub canonical: &'static str,
    pub reads: Reads,
    pub limits: Option<SourceLimits>,
    /// Writes the JSON body from what was read.
    pub body: fn(&Facts<'_>) -> String,
}

/// Two kinds are the same answer when their canonical names are.
impl PartialEq for MetadataKind {
    fn eq(&self, other: &MetadataKind) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for MetadataKind {}

/// How a dialect writes an image's average colour (OSS `{"RGB": "0x…"}`,
/// Huawei `{"RGB":"#…"}`): pixel code computes the colour, the dialect's
/// function writes the body.
#[derive(Debug, Clone, Copy)]
pub struct ColourBody {
    /// A stable name for cache keys and ETags (e.g. `average-hue`).
    pub canonical: &'static str,
    pub write: fn([u8; 3]) -> String,
}

/// Two bodies are the same when their canonical names are.
impl PartialEq for ColourBody {
    fn eq(&self, other: &ColourBody) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for ColourBody {}

/// The name exiv2 gives a tag (the EXIF standard's, except the IFD
/// pointers).
pub fn exiv2_name(t: Tag) -> String {
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

/// A field's value as exiv2 prints it (`96/1`, `2 2 0 0`, `North`,
/// `0deg `): GPS references spelled out, coordinates in degrees.
pub fn exiv2_value(f: &Field) -> String {
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
            exiv2_value(&field(Tag::XResolution, Value::Rational(vec![r(96, 1)]))),
            "96/1"
        );
        assert_eq!(
            exiv2_value(&field(Tag::GPSVersionID, Value::Byte(vec![2, 2, 0, 0]))),
            "2 2 0 0"
        );
        assert_eq!(
            exiv2_value(&field(
                Tag::GPSLatitudeRef,
                Value::Ascii(vec![b"N".to_vec()])
            )),
            "North"
        );
        assert_eq!(
            exiv2_value(&field(
                Tag::GPSLongitudeRef,
                Value::Ascii(vec![b"W".to_vec()])
            )),
            "West"
        );
        let zero = Value::Rational(vec![r(0, 1), r(0, 1), r(0, 1)]);
        assert_eq!(exiv2_value(&field(Tag::GPSLatitude, zero)), "0deg ");
        let beijing = Value::Rational(vec![r(39, 1), r(54, 1), r(2668, 100)]);
        assert_eq!(
            exiv2_value(&field(Tag::GPSLatitude, beijing)),
            "39deg 54' 26.68\" "
        );
        assert_eq!(exiv2_name(Tag::ExifIFDPointer), "ExifTag");
        assert_eq!(exiv2_name(Tag::GPSInfoIFDPointer), "GPSTag");
    }
}
