use thiserror::Error;

use crate::Format;

/// Why an image cannot be read or written. Every variant is the client's
/// problem (a 4xx) except `Internal`. Messages are sentences for the
/// client: a decoder library's own error text is cleaned of its debug
/// formatting first ([`CodecError::from_image`], [`plain`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error(
        "The source is not an image format this proxy reads (JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC, AVIF, JPEG XL, SVG)."
    )]
    UnknownFormat,
    #[error("Reading {format} images is not supported yet.")]
    UnsupportedInput { format: &'static str },
    #[error("Writing {format} images is not supported yet.")]
    UnsupportedOutput { format: &'static str },
    #[error("The image is corrupt or truncated: {}.", plain(.0))]
    Corrupt(String),
    /// A valid file using a feature the decoder does not read.
    #[error("The image uses a feature this proxy cannot read: {}.", plain(.0))]
    Unsupported(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("The image could not be encoded: {}.", plain(.0))]
    Internal(String),
}

impl CodecError {
    /// The `image` crate's error for a `format` source, in a user's words.
    pub fn from_image(format: Format, e: image::ImageError) -> CodecError {
        let name = format_name(format);
        match e {
            image::ImageError::Limits(l) => {
                CodecError::TooLarge(format!("The image exceeds the decoding limits ({l})."))
            }
            image::ImageError::Unsupported(u) => {
                CodecError::Unsupported(format!("{name}: {}", plain(strip_prefix(&u.to_string()))))
            }
            image::ImageError::IoError(_) => {
                CodecError::Corrupt(format!("the {name} file ends before its data does"))
            }
            other => CodecError::Corrupt(format!(
                "the {name} data is damaged ({})",
                plain(strip_prefix(&other.to_string()))
            )),
        }
    }
}

/// The name users know a format by.
pub fn format_name(format: Format) -> &'static str {
    match format {
        Format::Jpg => "JPEG",
        Format::Png => "PNG",
        Format::Gif => "GIF",
        Format::Webp => "WebP",
        Format::Bmp => "BMP",
        Format::Tiff => "TIFF",
        Format::Avif => "AVIF",
        Format::Heic => "HEIC",
        Format::Jxl => "JPEG XL",
        Format::Svg => "SVG",
    }
}

/// Drops the `image` crate's "Format error decoding Png: " and "The decoder
/// for Tiff does not support the format features " lead-ins: the message
/// names the format already.
fn strip_prefix(text: &str) -> &str {
    if let Some(rest) = text.strip_prefix("Format error decoding ") {
        return rest.split_once(": ").map_or(rest, |(_, r)| r);
    }
    if let Some(rest) = text.strip_prefix("The decoder for ") {
        return rest
            .split_once(" does not support the format features ")
            .map_or(rest, |(_, r)| r);
    }
    text
}

/// A library's error text as a clause of a sentence: a PNG chunk's debug
/// form becomes its name, anything else in debug form is cut off, and a
/// trailing full stop goes (the message adds its own).
pub fn plain(text: &str) -> String {
    let mut out = text.to_owned();
    // png: `ChunkType { type: IDAT, critical: true, … }` → `the IDAT`.
    while let Some(start) = out.find("ChunkType {") {
        // Its closing brace: the name itself may hold `\u{81}`.
        let end = out[start..].find(" }").map_or(out.len(), |e| start + e + 2);
        let name = out[start..end]
            .split_once("type: ")
            .and_then(|(_, r)| r.split(',').next())
            .filter(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_alphabetic()))
            .map_or("an unnamed".to_owned(), |n| format!("the {n}"));
        out.replace_range(start..end, &name);
    }
    if let Some(cut) = ["{", "::", "Some(", "Ok(", "Err("]
        .iter()
        .filter_map(|f| out.find(f))
        .min()
    {
        out.truncate(cut);
    }
    out.trim_end_matches(|c: char| c == '.' || c == ':' || c.is_whitespace())
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_debug_output_becomes_a_clause() {
        assert_eq!(
            plain(
                "CRC error: expected 0xf41025f1 have 0xfa3fba12 while decoding ChunkType { type: IDAT, critical: true, private: false, reserved: false, safecopy: false } chunk."
            ),
            "CRC error: expected 0xf41025f1 have 0xfa3fba12 while decoding the IDAT chunk"
        );
        assert_eq!(
            plain(
                "ChunkType { type: ô¨\u{81}á, critical: false, private: true, reserved: false, safecopy: true } chunk appeared before IHDR chunk"
            ),
            "an unnamed chunk appeared before IHDR chunk"
        );
        assert_eq!(plain("bad value Some(3) here"), "bad value");
        assert_eq!(plain("premature end."), "premature end");
    }

    #[test]
    fn messages_are_sentences() {
        let e = CodecError::Corrupt("the GIF has no image".into());
        assert_eq!(
            e.to_string(),
            "The image is corrupt or truncated: the GIF has no image."
        );
        assert!(CodecError::UnknownFormat.to_string().contains("HEIC, AVIF"));
    }
}
