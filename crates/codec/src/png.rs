//! PNG through the `png` crate directly: palette and low bit depths expand
//! in the decoder, the rows land in the frame's own buffer, and 16-bit
//! samples and grey become 8-bit RGB(A) in one pass — instead of `image`'s
//! generic path (a DynamicImage in the source's own layout, then converted).

use std::io::Cursor;

use crate::error::CodecError;
use crate::frame::Frame;
use crate::limits::Limits;
use crate::probe::Probe;

pub(crate) fn decode(bytes: &[u8], probe: &Probe, limits: &Limits) -> Result<Frame, CodecError> {
    // The same words as `CodecError::from_image` gives the same failures.
    let failed = |e: png::DecodingError| match e {
        png::DecodingError::LimitsExceeded => {
            CodecError::TooLarge("The image exceeds the decoding limits.".into())
        }
        png::DecodingError::IoError(_) => {
            CodecError::Corrupt("the PNG file ends before its data does".into())
        }
        e => CodecError::Corrupt(format!(
            "the PNG data is damaged ({})",
            crate::error::plain(&e.to_string())
        )),
    };
    // Decoded bytes at up to 16-bit RGBA, bounded by the pixel limit.
    let bytes_cap =
        usize::try_from(limits.max_source_pixels.saturating_mul(8)).unwrap_or(usize::MAX);
    let mut decoder =
        png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: bytes_cap });
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(failed)?;
    let (w, h) = (reader.info().width, reader.info().height);
    // The header the decoder reads must be the one the limits were checked on.
    if (w, h) != (probe.width, probe.height) {
        return Err(CodecError::Corrupt("inconsistent PNG headers".into()));
    }
    let icc = reader.info().icc_profile.as_ref().map(|p| p.to_vec());
    let (kind, depth) = reader.output_color_type();
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| CodecError::Corrupt("the PNG is too large to decode".into()))?;
    let mut raw = vec![0u8; size];
    let info = reader.next_frame(&mut raw).map_err(failed)?;
    raw.truncate(info.buffer_size());
    let (channels, alpha) = match kind {
        png::ColorType::Grayscale => (1, false),
        png::ColorType::GrayscaleAlpha => (2, true),
        png::ColorType::Rgb => (3, false),
        png::ColorType::Rgba => (4, true),
        // EXPAND turns palettes into RGB(A).
        png::ColorType::Indexed => {
            return Err(CodecError::Internal("PNG palette was not expanded".into()));
        }
    };
    let data = to_rgb8(raw, channels, depth == png::BitDepth::Sixteen);
    let out_channels = if alpha { 4 } else { 3 };
    let mut frame = Frame::new(w, h, out_channels, data);
    if alpha {
        frame = frame.drop_opaque_alpha();
    }
    frame.icc = icc;
    Ok(frame)
}

/// Interleaved samples (1–4 channels, 8 or 16-bit big-endian) to 8-bit RGB
/// or RGBA; 16 → 8 rounds as `image` does (round(v × 255 / 65535)).
fn to_rgb8(raw: Vec<u8>, channels: usize, sixteen: bool) -> Vec<u8> {
    if channels >= 3 && !sixteen {
        return raw;
    }
    let bytes = if sixteen { 2 } else { 1 };
    let sample = |px: &[u8], i: usize| -> u8 {
        if sixteen {
            let v = u32::from(u16::from_be_bytes([px[2 * i], px[2 * i + 1]]));
            ((v + 128) / 257) as u8
        } else {
            px[i]
        }
    };
    // Grey+alpha and RGBA carry alpha: the even channel counts.
    let alpha = channels.is_multiple_of(2);
    let out_channels = if alpha { 4 } else { 3 };
    let mut out = Vec::with_capacity(raw.len() / (channels * bytes) * out_channels);
    for px in raw.chunks_exact(channels * bytes) {
        match channels {
            1 | 2 => {
                let g = sample(px, 0);
                out.extend_from_slice(&[g, g, g]);
            }
            _ => out.extend((0..3).map(|i| sample(px, i))),
        }
        if alpha {
            out.push(sample(px, channels - 1));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::probe;

    fn corpus(name: &str) -> Vec<u8> {
        let dir = std::env::var("PIXGATE_CORPUS").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus").into()
        });
        std::fs::read(std::path::Path::new(&dir).join(name))
            .unwrap_or_else(|e| panic!("corpus {name}: {e} (set PIXGATE_CORPUS)"))
    }

    /// The `image` crate's reading of the same file, as RGB(A) 8-bit.
    fn reference(bytes: &[u8]) -> (u32, u32, bool, Vec<u8>) {
        let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png).unwrap();
        let (w, h) = (img.width(), img.height());
        if img.color().has_alpha() {
            (w, h, true, img.into_rgba8().into_raw())
        } else {
            (w, h, false, img.into_rgb8().into_raw())
        }
    }

    /// Pixel for pixel what `image` decodes (before colour management,
    /// which these files do not ask for), alpha dropped where opaque.
    fn same_as_image(name: &str) -> Frame {
        let bytes = corpus(name);
        let p = probe(&bytes).unwrap();
        let frame = decode(&bytes, &p, &Limits::default()).unwrap();
        let (w, h, alpha, data) = reference(&bytes);
        assert_eq!((frame.width, frame.height), (w, h), "{name}");
        let expected = Frame::new(w, h, if alpha { 4 } else { 3 }, data).drop_opaque_alpha();
        assert_eq!(frame.channels, expected.channels, "{name}");
        assert!(frame.data == expected.data, "{name}: pixels differ");
        frame
    }

    #[test]
    fn sixteen_bit_rgb_rounds_to_eight() {
        let f = same_as_image("formats/Flag_of_the_Netherlands-16bit.png");
        assert_eq!(f.channels, 3);
        same_as_image("formats/tbgn2c16.png");
    }

    #[test]
    fn grey_with_alpha_8_and_16_bit_becomes_rgba() {
        for name in [
            "formats/grey-8bit-alpha.png",
            "formats/16-bit-grey-alpha.png",
            "formats/bggn4a16.png",
            "formats/bgbn4a08.png",
        ] {
            let f = same_as_image(name);
            assert_eq!(f.channels, 4, "{name}");
            let px = f.pixel(f.width / 2, f.height / 2);
            assert!(px[0] == px[1] && px[1] == px[2], "{name}: grey stays grey");
        }
    }

    #[test]
    fn palettes_and_one_bit_expand() {
        same_as_image("formats/swiss.png");
        same_as_image("formats/Flag_of_the_Netherlands-alpha.png");
        same_as_image("formats/full-transparent.png");
        let f = same_as_image("formats/50020484-00001.png");
        assert!(f.data.iter().all(|&v| v == 0 || v == 255));
    }

    #[test]
    fn rgb_and_rgba_pass_through() {
        assert_eq!(same_as_image("formats/gradients-rgb8.png").channels, 3);
        assert_eq!(same_as_image("formats/with-alpha.png").channels, 4);
    }

    #[test]
    fn interlaced_decodes_like_progressive_rows() {
        // No interlaced PNG in the corpus: Adam7-encode a small RGB image.
        let (w, h) = (13u32, 11u32);
        let px: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [(x * 19) as u8, (y * 23) as u8, ((x + y) * 7) as u8]
            })
            .collect();
        let bytes = adam7_png(w, h, &px);
        let p = probe(&bytes).unwrap();
        let frame = decode(&bytes, &p, &Limits::default()).unwrap();
        assert_eq!((frame.width, frame.height, frame.channels), (w, h, 3));
        assert_eq!(frame.data, px);
        assert_eq!(reference(&bytes).3, px);
    }

    #[test]
    fn damaged_data_is_a_clear_error() {
        for name in ["bad/truncated.png", "bad/broken_data_stream.png"] {
            let bytes = corpus(name);
            let p = probe(&bytes).unwrap();
            assert!(
                matches!(
                    decode(&bytes, &p, &Limits::default()),
                    Err(CodecError::Corrupt(_))
                ),
                "{name}"
            );
        }
    }

    /// An 8-bit RGB PNG with Adam7 interlacing, every scanline unfiltered.
    fn adam7_png(w: u32, h: u32, rgb: &[u8]) -> Vec<u8> {
        const PASSES: [(u32, u32, u32, u32); 7] = [
            (0, 0, 8, 8),
            (4, 0, 8, 8),
            (0, 4, 4, 8),
            (2, 0, 4, 4),
            (0, 2, 2, 4),
            (1, 0, 2, 2),
            (0, 1, 1, 2),
        ];
        let mut raw = Vec::new();
        for (x0, y0, dx, dy) in PASSES {
            if x0 >= w || y0 >= h {
                continue;
            }
            for y in (y0..h).step_by(dy as usize) {
                raw.push(0);
                for x in (x0..w).step_by(dx as usize) {
                    let i = ((y * w + x) * 3) as usize;
                    raw.extend_from_slice(&rgb[i..i + 3]);
                }
            }
        }
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 1]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [
            (b"IHDR", ihdr),
            (b"IDAT", miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6)),
            (b"IEND", Vec::new()),
        ] {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = out.len();
            out.extend_from_slice(kind);
            out.extend_from_slice(&data);
            let crc = crc32(&out[start..]);
            out.extend_from_slice(&crc.to_be_bytes());
        }
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
