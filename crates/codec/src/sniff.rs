//! Formats recognised by their first bytes, never by name or Content-Type.

use pixgate_api::Format;

pub fn sniff(b: &[u8]) -> Option<Format> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpg);
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Format::Png);
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Some(Format::Gif);
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return Some(Format::Webp);
    }
    if b.starts_with(b"BM") && b.len() >= 26 {
        return Some(Format::Bmp);
    }
    // Classic TIFF, then BigTIFF (version 43).
    if b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
        || b.starts_with(b"II+\0")
        || b.starts_with(b"MM\0+")
    {
        return Some(Format::Tiff);
    }
    // ISO-BMFF: `....ftyp<brand>`.
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        return match &b[8..12] {
            b"avif" | b"avis" => Some(Format::Avif),
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => {
                Some(Format::Heic)
            }
            _ => None,
        };
    }
    // JPEG XL: a bare codestream, or the ISO-BMFF container's signature box.
    if b.starts_with(&[0xFF, 0x0A]) || b.starts_with(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Some(Format::Jxl);
    }
    if is_svg(b) {
        return Some(Format::Svg);
    }
    None
}

/// `<svg`, or an XML declaration / doctype / comment followed by `<svg`
/// early on; after an optional UTF-8 BOM and whitespace.
fn is_svg(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let b = &b[start..];
    if b.starts_with(b"<svg") {
        return true;
    }
    if !(b.starts_with(b"<?xml") || b.starts_with(b"<!")) {
        return false;
    }
    let head = &b[..b.len().min(4096)];
    head.windows(4).any(|w| w == b"<svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nxxxx"), Some(Format::Png));
        assert_eq!(sniff(b"GIF89a...."), Some(Format::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Format::Webp));
        assert_eq!(sniff(b"II*\0"), Some(Format::Tiff));
        assert_eq!(sniff(b"II+\0\x08\0\0\0"), Some(Format::Tiff));
        assert_eq!(sniff(b"MM\0+\0\x08\0\0"), Some(Format::Tiff));
        assert_eq!(sniff(b"\0\0\0\x18ftypavif"), Some(Format::Avif));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic"), Some(Format::Heic));
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(&[0xFF, 0x0A, 0xFA]), Some(Format::Jxl));
        assert_eq!(sniff(b"\0\0\0\x0cJXL \r\n\x87\n\0\0"), Some(Format::Jxl));
        assert_eq!(
            sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
            Some(Format::Svg)
        );
        assert_eq!(
            sniff(b"\xEF\xBB\xBF\n  <?xml version='1.0'?>\n<!-- x -->\n<svg/>"),
            Some(Format::Svg)
        );
        assert_eq!(sniff(b"<?xml version='1.0'?><html/>"), None);
        assert_eq!(sniff(b""), None);
    }
}
