//! Image metadata without decoding pixels: the basic properties and every
//! EXIF field (IFD0, Exif, GPS, Interop, then IFD1 where IFD0 is silent).
//! Damaged EXIF never fails the whole read: unreadable parts are skipped.

use std::io::Cursor;

use exif::{Field, In, Tag, Value};
use pixgate_api::Format;
pub use pixgate_api::metadata::{Metadata, Space};

use crate::error::CodecError;
use crate::jpeg::read_header;
use crate::probe::{Probe, probe_unchecked};

/// Reads metadata. Works on any size the byte cap admits: no limits apply
/// because no pixel is decoded.
pub fn read_metadata(bytes: &[u8]) -> Result<Metadata, CodecError> {
    let p: Probe = probe_unchecked(bytes)?;
    let (space, alpha) = colour(bytes, &p);
    let jpeg = if p.format == Format::Jpg {
        read_header(bytes)
    } else {
        None
    };
    let exif = match p.format {
        // PNG: only the basic properties (as the services answer).
        Format::Png | Format::Svg => None,
        Format::Jpg => jpeg
            .as_ref()
            .and_then(|h| h.exif(bytes))
            .and_then(|tiff| parse(|r| r.read_raw(tiff.to_vec()))),
        _ => parse(|r| r.read_from_container(&mut Cursor::new(bytes))),
    };
    let exif = exif.map(|e| known_fields(&e)).unwrap_or_default();
    Ok(Metadata {
        format: p.format,
        file_size: bytes.len() as u64,
        width: p.width,
        height: p.height,
        // A multi-page TIFF reports its pages (as the services' FrameCount).
        frames: p.frames.max(p.pages),
        orientation: p.orientation,
        space,
        alpha,
        jfif_density: jpeg.and_then(|h| h.jfif_density),
        exif,
    })
}

fn parse(
    read: impl FnOnce(&exif::Reader) -> Result<exif::Exif, exif::Error>,
) -> Option<exif::Exif> {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    match read(&reader) {
        Ok(e) => Some(e),
        Err(e) => e.distill_partial_result(|_ignored| {}).ok(),
    }
}

fn known_fields(e: &exif::Exif) -> Vec<Field> {
    let known = |f: &&Field| f.tag.description().is_some() && !is_blob(f);
    let mut out: Vec<Field> = e
        .fields()
        .filter(|f| f.ifd_num == In::PRIMARY)
        .filter(known)
        .cloned()
        .collect();
    // kamadak-exif follows the IFD pointers but does not list them; exiv2
    // (and the answers modelled on it) reports them (`ExifTag`, `GPSTag`), so read them from IFD0 directly.
    for (tag, offset) in ifd0_pointers(e.buf()) {
        out.push(Field {
            tag,
            ifd_num: In::PRIMARY,
            value: Value::Long(vec![offset]),
        });
    }
    let thumb: Vec<Field> = e
        .fields()
        .filter(|f| f.ifd_num == In::THUMBNAIL)
        .filter(known)
        .filter(|f| !out.iter().any(|o| o.tag == f.tag))
        .cloned()
        .collect();
    out.extend(thumb);
    out
}

/// The Exif and GPS IFD pointers of IFD0 in a TIFF block.
fn ifd0_pointers(tiff: &[u8]) -> Vec<(Tag, u32)> {
    let big = match tiff.get(0..2) {
        Some(b"MM") => true,
        Some(b"II") => false,
        _ => return Vec::new(),
    };
    let u16_at = |i: usize| {
        tiff.get(i..i + 2).map(|b| {
            if big {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |i: usize| {
        tiff.get(i..i + 4).map(|b| {
            let a = [b[0], b[1], b[2], b[3]];
            if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        })
    };
    let Some(ifd0) = u32_at(4).map(|o| o as usize) else {
        return Vec::new();
    };
    let count = usize::from(u16_at(ifd0).unwrap_or(0));
    (0..count)
        .filter_map(|k| {
            let entry = ifd0 + 2 + 12 * k;
            let tag = match u16_at(entry)? {
                0x8769 => Tag::ExifIFDPointer,
                0x8825 => Tag::GPSInfoIFDPointer,
                _ => return None,
            };
            Some((tag, u32_at(entry + 8)?))
        })
        .collect()
}

/// Binary blobs (maker notes, print-image-matching data…) are not metadata
/// a client reads as text.
fn is_blob(f: &Field) -> bool {
    let binary = match &f.value {
        Value::Undefined(b, _) => !b.iter().all(|c| c.is_ascii_graphic() || *c == b' '),
        Value::Byte(b) => b.len() > 16,
        _ => false,
    };
    binary || f.tag == Tag::MakerNote
}

fn colour(bytes: &[u8], p: &Probe) -> (Space, bool) {
    match p.format {
        Format::Jpg => match read_header(bytes).map(|h| h.components) {
            Some(1) => (Space::Bw, false),
            Some(4) => (Space::Cmyk, false),
            _ => (Space::Srgb, false),
        },
        Format::Avif | Format::Heic => (Space::Srgb, crate::heif::has_alpha(bytes)),
        Format::Jxl => match crate::jxl::header(bytes) {
            Ok(h) => (if h.grey { Space::Bw } else { Space::Srgb }, h.alpha),
            Err(_) => (Space::Srgb, false),
        },
        // Rasterised on a transparent canvas.
        Format::Svg => (Space::Srgb, true),
        f => {
            let reader =
                image::ImageReader::with_format(Cursor::new(bytes), crate::probe::image_format(f));
            match reader.into_decoder() {
                Ok(d) => {
                    let c = image::ImageDecoder::color_type(&d);
                    let grey = matches!(
                        c,
                        image::ColorType::L8
                            | image::ColorType::La8
                            | image::ColorType::L16
                            | image::ColorType::La16
                    );
                    (if grey { Space::Bw } else { Space::Srgb }, c.has_alpha())
                }
                Err(_) => (Space::Srgb, false),
            }
        }
    }
}

/// Lower-case hex MD5 of the source bytes.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod md5_tests {
    #[test]
    fn md5_is_lower_hex() {
        assert_eq!(super::md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
