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
    if let Some(frame) = decode_plain(bytes, probe) {
        return Ok(frame);
    }
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
    let channels = match kind {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        // EXPAND turns palettes into RGB(A).
        png::ColorType::Indexed => {
            return Err(CodecError::Internal("PNG palette was not expanded".into()));
        }
    };
    let mut frame = frame_of(w, h, raw, channels, depth == png::BitDepth::Sixteen);
    frame.icc = icc;
    Ok(frame)
}

/// The frame of decoded samples (1–4 channels, alpha in the even counts):
/// 8-bit RGB, or RGBA unless every pixel is opaque.
fn frame_of(w: u32, h: u32, samples: Vec<u8>, channels: usize, sixteen: bool) -> Frame {
    let alpha = channels.is_multiple_of(2);
    let data = to_rgb8(samples, channels, sixteen);
    let frame = Frame::new(w, h, if alpha { 4 } else { 3 }, data);
    if alpha {
        frame.drop_opaque_alpha()
    } else {
        frame
    }
}

/// A plain PNG — 8-bit grey, grey + alpha, RGB or RGBA, not interlaced,
/// with no chunk that changes its pixels (`tRNS`, `iCCP`, `PLTE`-indexed,
/// animation) — decoded here: its IDAT stream inflated by libdeflate in one
/// call (2.9 ms against the `png` crate's fdeflate 3.8 ms on the b-png
/// source, `benches/RESULTS.md`), then unfiltered row by row into the
/// frame. Anything else, or anything unexpected (a bad CRC, a stream of the
/// wrong length), is `None`: the `png` crate decodes the file and judges
/// any damage in its own words.
fn decode_plain(bytes: &[u8], probe: &Probe) -> Option<Frame> {
    let rest = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n")?;
    let mut chunks = Chunks {
        rest,
        damaged: false,
    };
    let (kind, ihdr) = chunks.next()?;
    if kind != *b"IHDR" || ihdr.len() != 13 {
        return None;
    }
    let w = u32::from_be_bytes(ihdr[0..4].try_into().ok()?);
    let h = u32::from_be_bytes(ihdr[4..8].try_into().ok()?);
    // The header must be the one the limits were checked on.
    if (w, h) != (probe.width, probe.height) || ihdr[8] != 8 || ihdr[10..13] != [0, 0, 0] {
        return None;
    }
    let channels = match ihdr[9] {
        0 => 1,
        4 => 2,
        2 => 3,
        6 => 4,
        _ => return None,
    };
    let mut idat: Vec<&[u8]> = Vec::new();
    let mut ended = false;
    for (kind, data) in chunks.by_ref() {
        match &kind {
            b"IDAT" => idat.push(data),
            b"IEND" => {
                ended = true;
                break;
            }
            b"tRNS" | b"iCCP" | b"acTL" | b"fcTL" | b"fdAT" => return None,
            // An unknown critical chunk is the `png` crate's to refuse.
            _ if kind[0].is_ascii_uppercase() && &kind != b"PLTE" => return None,
            _ => {}
        }
    }
    if chunks.damaged || !ended || idat.is_empty() {
        return None;
    }
    let stream = if idat.len() == 1 {
        std::borrow::Cow::Borrowed(idat[0])
    } else {
        std::borrow::Cow::Owned(idat.concat())
    };
    let row = w as usize * channels;
    let filtered_len = (row + 1).checked_mul(h as usize)?;
    let mut filtered = vec![0u8; filtered_len];
    let got = libdeflater::Decompressor::new()
        .zlib_decompress(&stream, &mut filtered)
        .ok()?;
    if got != filtered_len {
        return None;
    }
    // Unfiltered in place, then the rows moved up over their filter
    // bytes: no second buffer of the picture's size (its page faults cost
    // more than the move).
    let zeros = vec![0u8; row];
    let stride = row + 1;
    for y in 0..h as usize {
        let (above, rest) = filtered.split_at_mut(y * stride);
        let previous = match y {
            0 => &zeros[..],
            _ => &above[(y - 1) * stride + 1..],
        };
        let (kind, line) = rest.get_mut(..stride)?.split_first_mut()?;
        unfilter(*kind, channels, previous, line)?;
    }
    for y in 0..h as usize {
        filtered.copy_within(y * stride + 1..(y + 1) * stride, y * row);
    }
    filtered.truncate(row * h as usize);
    Some(frame_of(w, h, filtered, channels, false))
}

/// A PNG's chunks after the signature, as (type, data), each CRC checked;
/// `damaged` once one is cut short or fails its check (iteration ends).
struct Chunks<'a> {
    rest: &'a [u8],
    damaged: bool,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = ([u8; 4], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = std::mem::take(&mut self.rest);
        if bytes.is_empty() {
            return None;
        }
        let chunk = bytes
            .get(..4)
            .and_then(|l| usize::try_from(u32::from_be_bytes(l.try_into().ok()?)).ok())
            .and_then(|len| Some((bytes.get(4..8 + len)?, bytes.get(8 + len..12 + len)?, len)));
        let Some((body, _, len)) =
            chunk.filter(|(body, crc, _)| crc32fast::hash(body).to_be_bytes().as_slice() == *crc)
        else {
            self.damaged = true;
            return None;
        };
        self.rest = &bytes[12 + len..];
        Some((body[..4].try_into().ok()?, &body[4..]))
    }
}

/// One scanline's filter undone in place (PNG 1.2, section 6): `line`
/// holds the filtered bytes, `previous` the row above as decoded (zeros
/// for the first, at least as long), `bpp` the bytes per pixel (1–4); a
/// row is a whole number of pixels. An unknown filter type is `None`.
fn unfilter(kind: u8, bpp: usize, previous: &[u8], line: &mut [u8]) -> Option<()> {
    let previous = previous.get(..line.len())?;
    match kind {
        0 => {}
        2 => {
            for (l, &p) in line.iter_mut().zip(previous) {
                *l = l.wrapping_add(p);
            }
        }
        1 | 3 | 4 => match bpp {
            1 => unfilter_pixels::<1>(kind, previous, line),
            2 => unfilter_pixels::<2>(kind, previous, line),
            3 => unfilter_pixels::<3>(kind, previous, line),
            4 => unfilter_pixels::<4>(kind, previous, line),
            _ => return None,
        },
        _ => return None,
    }
    Some(())
}

/// Sub, Average and Paeth, which read the pixel to the left as decoded:
/// a pixel at a time, the left (and upper-left) pixel kept in registers
/// rather than read back from the row just written.
fn unfilter_pixels<const BPP: usize>(kind: u8, previous: &[u8], line: &mut [u8]) {
    let mut left = [0u8; BPP];
    let mut upper_left = [0u8; BPP];
    for (l, p) in line.chunks_exact_mut(BPP).zip(previous.chunks_exact(BPP)) {
        for k in 0..BPP {
            let predicted = match kind {
                1 => left[k],
                3 => ((u16::from(left[k]) + u16::from(p[k])) / 2) as u8,
                _ => paeth(left[k], p[k], upper_left[k]),
            };
            left[k] = l[k].wrapping_add(predicted);
        }
        upper_left.copy_from_slice(p);
        l.copy_from_slice(&left);
    }
}

/// The Paeth predictor: of left, above and upper left, the one nearest
/// to left + above − upper left (ties in that order).
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let pa = (ib - ic).abs();
    let pb = (ia - ic).abs();
    let pc = (ia + ib - 2 * ic).abs();
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
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
        std::fs::read(crate::test_corpus().join(name))
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

    /// A small picture in `channels` (1–4) with every sample different
    /// from its neighbours', PNG-encoded with `filter`.
    fn filtered_png(w: u32, h: u32, channels: usize, filter: png::Filter) -> (Vec<u8>, Vec<u8>) {
        let px: Vec<u8> = (0..(w * h) as usize * channels)
            .map(|i| ((i * 37) ^ (i / 7 * 11)) as u8)
            .collect();
        let mut out = Vec::new();
        let mut e = png::Encoder::new(&mut out, w, h);
        e.set_color(match channels {
            1 => png::ColorType::Grayscale,
            2 => png::ColorType::GrayscaleAlpha,
            3 => png::ColorType::Rgb,
            _ => png::ColorType::Rgba,
        });
        e.set_depth(png::BitDepth::Eight);
        e.set_filter(filter);
        let mut writer = e.write_header().unwrap();
        writer.write_image_data(&px).unwrap();
        writer.finish().unwrap();
        (out, px)
    }

    /// The filter type of every scanline of a single-IDAT PNG.
    fn filter_types(png: &[u8], stride: usize) -> Vec<u8> {
        let at = png.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = u32::from_be_bytes(png[at - 4..at].try_into().unwrap()) as usize;
        let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&png[at + 4..at + 4 + len]).unwrap();
        raw.chunks(stride).map(|r| r[0]).collect()
    }

    #[test]
    fn plain_pngs_are_unfiltered_here_as_the_png_crate_does() {
        for channels in 1..=4 {
            for filter in [
                png::Filter::NoFilter,
                png::Filter::Sub,
                png::Filter::Up,
                png::Filter::Avg,
                png::Filter::Paeth,
                png::Filter::Adaptive,
            ] {
                for (w, h) in [(1, 1), (7, 5), (33, 17)] {
                    let (bytes, _) = filtered_png(w, h, channels, filter);
                    let p = probe(&bytes).unwrap();
                    let name = format!("{channels} channels {filter:?} {w}x{h}");
                    // The encoder used the filter asked for (Adaptive: any).
                    let kinds = filter_types(&bytes, w as usize * channels + 1);
                    if filter != png::Filter::Adaptive {
                        assert!(kinds.contains(&(filter as u8)), "{name}: {kinds:?}");
                    }
                    let frame = decode_plain(&bytes, &p).unwrap_or_else(|| panic!("{name}"));
                    let (rw, rh, alpha, data) = reference(&bytes);
                    let expected =
                        Frame::new(rw, rh, if alpha { 4 } else { 3 }, data).drop_opaque_alpha();
                    assert_eq!((frame.width, frame.height), (w, h), "{name}");
                    assert_eq!(frame.channels, expected.channels, "{name}");
                    assert!(frame.data == expected.data, "{name}: pixels differ");
                }
            }
        }
    }

    #[test]
    fn anything_unusual_is_left_to_the_png_crate() {
        let (w, h) = (13u32, 11u32);
        let px = vec![7u8; (w * h * 3) as usize];
        let interlaced = adam7_png(w, h, &px);
        let sixteen = corpus("formats/tbgn2c16.png");
        let palette = corpus("formats/swiss.png");
        // RGB whose black is transparent: the `png` crate adds alpha.
        let mut with_trns = Vec::new();
        let mut e = png::Encoder::new(&mut with_trns, w, h);
        e.set_color(png::ColorType::Rgb);
        e.set_trns(vec![0, 0, 0, 0, 0, 0]);
        let mut writer = e.write_header().unwrap();
        writer.write_image_data(&px).unwrap();
        writer.finish().unwrap();
        for (name, bytes) in [
            ("interlaced", &interlaced),
            ("16-bit", &sixteen),
            ("palette", &palette),
            ("transparency chunk", &with_trns),
        ] {
            let p = probe(bytes).unwrap();
            assert!(decode_plain(bytes, &p).is_none(), "{name}");
        }
        // A CRC that does not match, a stream cut short, a size the limits
        // did not see: declined here, judged by the `png` crate.
        let (good, _) = filtered_png(33, 17, 3, png::Filter::Paeth);
        let p = probe(&good).unwrap();
        assert!(decode_plain(&good, &p).is_some());
        let mut bad_crc = good.clone();
        let at = bad_crc.len() - 20;
        bad_crc[at] ^= 1;
        assert!(decode_plain(&bad_crc, &p).is_none());
        assert!(decode_plain(&good[..good.len() - 12], &p).is_none());
        let mut other = p.clone();
        other.width += 1;
        assert!(decode_plain(&good, &other).is_none());
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
