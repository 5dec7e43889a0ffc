//! Structure walks over GIF and PNG streams that catch what a header alone
//! hides: animation frames (counted against the pixel limit), frames placed
//! far outside the canvas, and compressed text chunks that inflate without
//! bound. They read block lengths only; no pixel data is decoded.

use crate::error::CodecError;

/// Frames of a GIF and the furthest right/bottom edge any frame reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GifLayout {
    pub frames: u32,
    pub right: u32,
    pub bottom: u32,
}

pub fn gif_layout(b: &[u8]) -> Result<GifLayout, CodecError> {
    let corrupt = || CodecError::Corrupt("the GIF block structure is broken".into());
    let byte = |i: usize| b.get(i).copied().ok_or_else(corrupt);
    let u16_at = |i: usize| -> Result<u32, CodecError> {
        Ok(u32::from(u16::from_le_bytes([byte(i)?, byte(i + 1)?])))
    };
    let mut layout = GifLayout {
        frames: 0,
        right: u16_at(6)?,
        bottom: u16_at(8)?,
    };
    let flags = byte(10)?;
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 * (2usize << (flags & 7));
    }
    // Skips data sub-blocks; returns the index after the terminator.
    let skip_blocks = |mut i: usize| -> Result<usize, CodecError> {
        loop {
            let len = usize::from(byte(i)?);
            i += 1;
            if len == 0 {
                return Ok(i);
            }
            i += len;
        }
    };
    loop {
        match byte(i) {
            Ok(0x2C) => {
                let (left, top) = (u16_at(i + 1)?, u16_at(i + 3)?);
                let (w, h) = (u16_at(i + 5)?, u16_at(i + 7)?);
                layout.frames += 1;
                layout.right = layout.right.max(left + w);
                layout.bottom = layout.bottom.max(top + h);
                let f = byte(i + 9)?;
                i += 10;
                if f & 0x80 != 0 {
                    i += 3 * (2usize << (f & 7));
                }
                // +1: LZW minimum code size. A stream cut inside the frame
                // still declared its extent: stop walking, keep what was seen.
                match skip_blocks(i + 1) {
                    Ok(next) => i = next,
                    Err(_) => break,
                }
            }
            Ok(0x21) => match skip_blocks(i + 2) {
                Ok(next) => i = next,
                Err(_) if layout.frames > 0 => break,
                Err(e) => return Err(e),
            },
            Ok(0x3B) => break,
            // A stream cut after at least one frame still shows that frame.
            Err(_) if layout.frames > 0 => break,
            _ => return Err(corrupt()),
        }
    }
    if layout.frames == 0 {
        return Err(CodecError::Corrupt("the GIF has no image".into()));
    }
    Ok(layout)
}

/// Most bytes one PNG text chunk may inflate to (Pillow's limit too).
pub const MAX_PNG_TEXT: usize = 1024 * 1024;

/// Frames of an APNG: its acTL chunk's count when acTL comes before the
/// first IDAT (as APNG requires); 1 for a still PNG.
pub fn png_frames(b: &[u8]) -> u32 {
    let mut i = 8;
    while let Some(head) = b.get(i..i + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        match &head[4..8] {
            b"IDAT" | b"IEND" => break,
            b"acTL" => {
                return b
                    .get(i + 8..i + 12)
                    .map_or(1, |n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]).max(1));
            }
            _ => i = i.saturating_add(12).saturating_add(len),
        }
    }
    1
}

/// Inflates each compressed text chunk (zTXt, compressed iTXt) before IDAT
/// with a cap; one that exceeds it is a decompression bomb.
pub fn check_png_text(b: &[u8]) -> Result<(), CodecError> {
    let mut i = 8;
    while i + 8 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        let Some(data) = b.get(i + 8..(i + 8).saturating_add(len)) else {
            return Ok(()); // truncation is the decoder's to report
        };
        if kind == b"IDAT" || kind == b"IEND" {
            return Ok(());
        }
        let compressed = match kind {
            b"zTXt" => data
                .iter()
                .position(|&c| c == 0)
                .and_then(|nul| data.get(nul + 2..)),
            b"iTXt" => {
                let nul = data.iter().position(|&c| c == 0);
                match nul.and_then(|n| data.get(n + 1..n + 3)) {
                    Some([1, _]) => nul.and_then(|n| {
                        // keyword\0 flag method language\0 translated\0 text
                        let rest = &data[n + 3..];
                        let a = rest.iter().position(|&c| c == 0)?;
                        let bb = rest[a + 1..].iter().position(|&c| c == 0)?;
                        rest.get(a + 1 + bb + 1..)
                    }),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(z) = compressed
            && let Err(e) = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(z, MAX_PNG_TEXT)
            && e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput
        {
            return Err(CodecError::TooLarge(format!(
                "A PNG text chunk inflates past {MAX_PNG_TEXT} bytes (a decompression bomb)."
            )));
        }
        i += 12 + len;
    }
    Ok(())
}

/// Pixels per metre past which a BMP's resolution is nonsense (25 400 dpi).
const MAX_BMP_DENSITY: u32 = 1_000_000;

/// Refuses BMPs whose header contradicts the file (bmpsuite's "bad" set): a
/// file size or pixel-data size larger than the file, absurd resolution
/// fields, or palette indices past the palette. Decoders can read past such
/// fields, but a writer that got them wrong cannot be trusted for the
/// pixels, and the corpus contract is a clean 400 for damaged files.
pub fn check_bmp(b: &[u8]) -> Result<(), CodecError> {
    let bad = |why: String| Err(CodecError::Corrupt(format!("the BMP {why}")));
    let u16_at = |i: usize| b.get(i..i + 2).map(|s| u16::from_le_bytes([s[0], s[1]]));
    let u32_at = |i: usize| {
        b.get(i..i + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    };
    let (Some(file_size), Some(offset), Some(header)) = (u32_at(2), u32_at(10), u32_at(14)) else {
        return Ok(()); // too short: the decoder reports it
    };
    let len = b.len() as u64;
    if u64::from(file_size) > len {
        return bad(format!(
            "header says the file has {file_size} bytes; it has {len}"
        ));
    }
    // OS/2 core headers (12 bytes) carry none of the fields below.
    if header < 40 {
        return Ok(());
    }
    let fields = (
        u32_at(18),
        u32_at(22),
        u16_at(28),
        u32_at(30),
        u32_at(34),
        u32_at(38),
        u32_at(42),
        u32_at(46),
    );
    let (Some(w), Some(h), Some(bpp), Some(comp), Some(size), Some(xd), Some(yd), Some(used)) =
        fields
    else {
        return Ok(());
    };
    let uncompressed = comp == 0 || comp == 3;
    if uncompressed && size > 0 && u64::from(offset) + u64::from(size) > len {
        return bad(format!(
            "header says its pixels take {size} bytes; the file has {} after the header",
            len.saturating_sub(u64::from(offset))
        ));
    }
    let (xd, yd) = ((xd as i32).unsigned_abs(), (yd as i32).unsigned_abs());
    if xd > MAX_BMP_DENSITY || yd > MAX_BMP_DENSITY {
        return bad(format!(
            "resolution fields ({xd}×{yd} pixels per metre) are not a resolution"
        ));
    }
    // Palette indices of uncompressed 1/4/8-bit images.
    if comp != 0 || !matches!(bpp, 1 | 4 | 8) {
        return Ok(());
    }
    let colours = if used == 0 { 1u32 << bpp } else { used };
    if colours >= 1 << bpp {
        return Ok(());
    }
    let width = (w as i32).unsigned_abs() as usize;
    let rows = (h as i32).unsigned_abs() as usize;
    let stride = (width * usize::from(bpp)).div_ceil(32) * 4;
    for row in 0..rows {
        let start = offset as usize + row * stride;
        let Some(data) = b.get(start..start + stride) else {
            break; // short file: the decoder reports it
        };
        for x in 0..width {
            let index = match bpp {
                8 => u32::from(data[x]),
                4 => u32::from((data[x / 2] >> (4 * (1 - x % 2))) & 0x0F),
                _ => u32::from((data[x / 8] >> (7 - x % 8)) & 1),
            };
            if index >= colours {
                return bad(format!(
                    "pixel at ({x}, {row}) uses colour {index} of a {colours}-colour palette"
                ));
            }
        }
    }
    Ok(())
}

/// Frames of a WebP: the number of ANMF chunks, or 1 for a still image.
pub fn webp_frames(b: &[u8]) -> u32 {
    let frames = webp_chunks(b).filter(|(id, _)| id == b"ANMF").count();
    (frames as u32).max(1)
}

/// A WebP's embedded ICC profile (its ICCP chunk).
pub fn webp_icc(b: &[u8]) -> Option<Vec<u8>> {
    webp_chunks(b)
        .find(|(id, _)| id == b"ICCP")
        .map(|(_, data)| data.to_vec())
}

/// `webp` (as libwebp writes it: one VP8/VP8L image, or VP8X with ALPH
/// and VP8) with `icc` in an ICCP chunk: a simple file becomes an extended
/// one, whose VP8X header says so and gives the canvas size.
pub fn webp_with_icc(webp: Vec<u8>, icc: &[u8], size: (u32, u32), alpha: bool) -> Vec<u8> {
    const ICC_FLAG: u8 = 0x20;
    const ALPHA_FLAG: u8 = 0x10;
    let chunk = |id: &[u8], data: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(id);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(0);
        }
    };
    let mut out = Vec::with_capacity(webp.len() + icc.len() + 40);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    let mut rest = webp_chunks(&webp).peekable();
    match rest.peek() {
        Some((id, data)) if *id == b"VP8X" && !data.is_empty() => {
            let mut head = data.to_vec();
            head[0] |= ICC_FLAG;
            chunk(b"VP8X", &head, &mut out);
            rest.next();
        }
        _ => {
            let mut head = vec![ICC_FLAG | if alpha { ALPHA_FLAG } else { 0 }, 0, 0, 0];
            head.extend_from_slice(&(size.0 - 1).to_le_bytes()[..3]);
            head.extend_from_slice(&(size.1 - 1).to_le_bytes()[..3]);
            chunk(b"VP8X", &head, &mut out);
        }
    }
    chunk(b"ICCP", icc, &mut out);
    for (id, data) in rest {
        chunk(id, data, &mut out);
    }
    let riff = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    out
}

/// The top-level chunks of a RIFF/WebP file: (fourcc, data), stopping at
/// the first chunk that runs past the end.
fn webp_chunks(b: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut i = 12;
    std::iter::from_fn(move || {
        let head = b.get(i..i + 8)?;
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let data = b.get(i + 8..(i + 8).checked_add(len)?)?;
        // Chunks are padded to even lengths.
        i = i
            .saturating_add(8)
            .saturating_add(len)
            .saturating_add(len & 1);
        Some((&head[..4], data))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gif(frames: &[(u16, u16, u16, u16)]) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&[10, 0, 10, 0, 0, 0, 0]);
        for &(l, t, w, h) in frames {
            b.push(0x2C);
            for v in [l, t, w, h] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(&[0, 2, 2, 0x4C, 0x01, 0]);
        }
        b.push(0x3B);
        b
    }

    #[test]
    fn gif_frames_and_extents() {
        let l = gif_layout(&gif(&[(0, 0, 10, 10), (5, 5, 10, 10)])).unwrap();
        assert_eq!(
            l,
            GifLayout {
                frames: 2,
                right: 15,
                bottom: 15
            }
        );
        let far = gif_layout(&gif(&[(0, 0, 10, 10), (65535, 65535, 100, 100)])).unwrap();
        assert_eq!((far.right, far.bottom), (65635, 65635));
        assert!(gif_layout(b"GIF89a\x0a\x00").is_err());
    }

    #[test]
    fn webp_frames_are_anmf_chunks() {
        let mut b = b"RIFF\0\0\0\0WEBP".to_vec();
        for _ in 0..3 {
            b.extend_from_slice(b"ANMF\x03\0\0\0abc\0");
        }
        assert_eq!(webp_frames(&b), 3);
        assert_eq!(webp_frames(b"RIFF\0\0\0\0WEBPVP8 \x01\0\0\0x\0"), 1);
    }

    #[test]
    fn png_frames_come_from_actl_before_idat() {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0; 4]);
            c
        };
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend(chunk(b"IHDR", &[0; 13]));
        let still = [b.clone(), chunk(b"IDAT", &[0; 3])].concat();
        assert_eq!(png_frames(&still), 1);
        b.extend(chunk(b"acTL", &[0, 0, 0, 5, 0, 0, 0, 0]));
        b.extend(chunk(b"IDAT", &[0; 3]));
        assert_eq!(png_frames(&b), 5);
        // An acTL after the image data is not an animation.
        assert_eq!(
            png_frames(&[still, chunk(b"acTL", &[0, 0, 0, 5, 0, 0, 0, 0])].concat()),
            1
        );
    }

    /// A 4×2 8-bit BMP with a 2-colour palette (header 40).
    fn bmp8(pixels: [u8; 8]) -> Vec<u8> {
        let mut b = Vec::new();
        let offset = 14 + 40 + 8;
        let len = offset + 8;
        b.extend_from_slice(b"BM");
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(&(offset as u32).to_le_bytes());
        b.extend_from_slice(&40u32.to_le_bytes());
        b.extend_from_slice(&4i32.to_le_bytes());
        b.extend_from_slice(&2i32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&8u16.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes()); // BI_RGB
        b.extend_from_slice(&8u32.to_le_bytes()); // image size
        b.extend_from_slice(&2835i32.to_le_bytes());
        b.extend_from_slice(&2835i32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes()); // colours used
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&[0, 0, 0, 0, 255, 255, 255, 0]);
        b.extend_from_slice(&pixels);
        b
    }

    #[test]
    fn bmp_headers_must_agree_with_the_file() {
        let good = bmp8([0, 1, 1, 0, 1, 0, 0, 1]);
        assert!(check_bmp(&good).is_ok());
        // A palette index past the 2-colour palette.
        assert!(check_bmp(&bmp8([0, 1, 2, 0, 1, 0, 0, 1])).is_err());
        // File size larger than the file.
        let mut b = good.clone();
        b[2..6].copy_from_slice(&100_000u32.to_le_bytes());
        assert!(check_bmp(&b).is_err());
        // Pixel data size larger than the file.
        let mut b = good.clone();
        b[34..38].copy_from_slice(&100_000u32.to_le_bytes());
        assert!(check_bmp(&b).is_err());
        // 30 000 000 pixels per metre.
        let mut b = good.clone();
        b[38..42].copy_from_slice(&30_000_000i32.to_le_bytes());
        assert!(check_bmp(&b).is_err());
        // A file shorter than its header says is refused; one too short to
        // have the fields is left to the decoder.
        assert!(check_bmp(&good[..20]).is_err());
        assert!(check_bmp(b"BM").is_ok());
    }
}
