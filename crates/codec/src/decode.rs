//! Pixels from bytes. JPEG goes through libjpeg-turbo so a downscaling plan
//! can decode at 1/2, 1/4 or 1/8 in the DCT domain (shrink-on-load); the
//! other formats through the `image` crate with its allocation limits set.

use std::io::Cursor;

use pixgate_api::Format;
use turbojpeg::{Decompressor, PixelFormat, ScalingFactor};

use crate::color;
use crate::error::CodecError;
use crate::frame::{Frame, Yuv420};
use crate::limits::Limits;
use crate::probe::{Probe, image_format};

/// The largest DCT scale-down (1, 2, 4 or 8) that still leaves the decoded
/// image at least `need` in both directions (sizes in stored orientation).
pub fn shrink_factor(width: u32, height: u32, need: (u32, u32)) -> u32 {
    let mut factor = 1;
    for d in [2u32, 4, 8] {
        if width.div_ceil(d) >= need.0.max(1) && height.div_ceil(d) >= need.1.max(1) {
            factor = d;
        }
    }
    factor
}

/// What becomes of a wide-gamut source (an RGB ICC profile other than
/// sRGB: Display P3, Adobe RGB…).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Gamut {
    /// Its samples are converted to sRGB.
    #[default]
    Srgb,
    /// Its samples are kept, with the profile in `Frame::icc` for the
    /// encoder to embed.
    KeepWide,
}

/// Decodes the first frame, in sRGB. `shrink` is honoured for JPEG (in
/// the DCT domain) and still WebP (libwebp rescales while it decodes).
pub fn decode(
    bytes: &[u8],
    probe: &Probe,
    shrink: u32,
    limits: &Limits,
) -> Result<Frame, CodecError> {
    decode_with_gamut(bytes, probe, shrink, limits, Gamut::Srgb)
}

/// [`decode`], with a choice of what a wide gamut becomes.
pub fn decode_with_gamut(
    bytes: &[u8],
    probe: &Probe,
    shrink: u32,
    limits: &Limits,
    gamut: Gamut,
) -> Result<Frame, CodecError> {
    let mut frame = decode_in_profile(bytes, probe, shrink, limits)?;
    match gamut {
        Gamut::Srgb => color::to_srgb(&mut frame),
        Gamut::KeepWide => color::keep_wide_gamut(&mut frame),
    }
    Ok(frame)
}

/// The decoders' samples as stored, with any ICC profile in `Frame::icc`
/// (CMYK is always converted by its decoder).
fn decode_in_profile(
    bytes: &[u8],
    probe: &Probe,
    shrink: u32,
    limits: &Limits,
) -> Result<Frame, CodecError> {
    limits.check_probe(probe)?;
    match probe.format {
        Format::Jpg => decode_jpeg(bytes, probe, shrink),
        // libheif reads still items only; a sequence's first frame comes
        // from libavif.
        Format::Avif if crate::avif_seq::is_sequence(bytes) => {
            let mut anim = crate::avif_seq::decode(bytes, (probe.width, probe.height), 1)?;
            Ok(anim.frames.swap_remove(0))
        }
        Format::Avif | Format::Heic => crate::heif::decode(bytes),
        Format::Webp if probe.frames == 1 => crate::webp::decode(bytes, probe, shrink),
        Format::Png => guarded(|| crate::png::decode(bytes, probe, limits)),
        Format::Jxl => guarded(|| crate::jxl::decode(bytes, (probe.width, probe.height), limits)),
        Format::Tiff => crate::tiff::decode(bytes, (probe.width, probe.height), limits),
        // At its nominal size (divided by `shrink`), without fonts: callers
        // that know the plan's size use `decode_vector`.
        Format::Svg => {
            let size = (
                probe.width.div_ceil(shrink.max(1)),
                probe.height.div_ceil(shrink.max(1)),
            );
            decode_vector(bytes, probe, size, &[], limits, &|| false)
        }
        f => guarded(|| decode_with_image(bytes, f, limits)),
    }
}

/// A still WebP's own YUV 4:2:0 planes at full size, when it is lossy,
/// opaque and has no ICC profile (see [`crate::encode_webp_planes`]);
/// `None` for any other source, which decodes through RGB.
pub fn decode_webp_planes(
    bytes: &[u8],
    probe: &Probe,
    limits: &Limits,
) -> Result<Option<Yuv420>, CodecError> {
    limits.check_probe(probe)?;
    if probe.format != Format::Webp || probe.frames != 1 {
        return Ok(None);
    }
    crate::webp::decode_planes(bytes, probe)
}

/// Renders a vector source (SVG) at exactly `size`, with text in the font
/// files `fonts`; `stopped` says whether the request was abandoned. Other
/// formats decode as [`decode`] does, at full size.
pub fn decode_vector(
    bytes: &[u8],
    probe: &Probe,
    size: (u32, u32),
    fonts: &[std::path::PathBuf],
    limits: &Limits,
    stopped: &dyn Fn() -> bool,
) -> Result<Frame, CodecError> {
    if probe.format != Format::Svg {
        return decode(bytes, probe, 1, limits);
    }
    limits.check_probe(probe)?;
    let nominal = (probe.width, probe.height);
    guarded(|| crate::svg::render(bytes, size, nominal, fonts, limits, stopped))
}

/// Runs a pure-Rust decoder so that a panic inside it (a decoder bug on a
/// hostile file — the fuzzer found one in image-webp's chroma upsampling)
/// becomes a clean "corrupt image" error instead of a failed request.
pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T, CodecError>) -> Result<T, CodecError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(CodecError::Corrupt(
            "the decoder could not make sense of the data".into(),
        ))
    })
}

fn decode_jpeg(bytes: &[u8], probe: &Probe, shrink: u32) -> Result<Frame, CodecError> {
    // 12-bit and lossless files: TurboJPEG's deeper-sample calls, at full size.
    if probe
        .jpeg
        .as_ref()
        .is_some_and(|j| j.precision != 8 || j.lossless)
    {
        let mut frame = crate::jpeg_deep::decode(bytes, (probe.width, probe.height))?;
        frame.icc = probe.jpeg.as_ref().and_then(|j| j.icc(bytes));
        return Ok(frame);
    }
    // At 1/8 only the DC coefficients matter: a progressive file's DC
    // scans, or a baseline file's DC with its AC codes walked (jpeg_dc.rs).
    if shrink >= 8
        && let Some(mut frame) = crate::jpeg_dc::decode_dc(bytes, (probe.width, probe.height))
    {
        frame.icc = probe.jpeg.as_ref().and_then(|j| j.icc(bytes));
        return Ok(frame);
    }
    let corrupt = |e: turbojpeg::Error| {
        let text = e.to_string();
        let text = text.strip_prefix("TurboJPEG error: ").unwrap_or(&text);
        CodecError::Corrupt(format!("the JPEG data is damaged ({text})"))
    };
    let mut d = Decompressor::new().map_err(|e| CodecError::Internal(e.to_string()))?;
    let header = d.read_header(bytes).map_err(corrupt)?;
    // The header libjpeg reads must be the one the limits were checked on.
    if header.width != probe.width as usize || header.height != probe.height as usize {
        return Err(CodecError::Corrupt("inconsistent frame headers".into()));
    }
    let factor = ScalingFactor::new(1, shrink.clamp(1, 8) as usize);
    d.set_scaling_factor(factor).map_err(corrupt)?;
    let scaled = header.scaled(factor);
    let (w, h) = (scaled.width, scaled.height);
    let cmyk = matches!(
        header.colorspace,
        turbojpeg::Colorspace::CMYK | turbojpeg::Colorspace::YCCK
    );
    let format = if cmyk {
        PixelFormat::CMYK
    } else {
        PixelFormat::RGB
    };
    let mut pixels = vec![0u8; w * h * format.size()];
    let image = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width: w,
        pitch: w * format.size(),
        height: h,
        format,
    };
    d.decompress(bytes, image).map_err(corrupt)?;
    let icc = probe.jpeg.as_ref().and_then(|j| j.icc(bytes));
    if cmyk {
        let adobe = probe.jpeg.as_ref().is_some_and(|j| j.adobe);
        let data = icc
            .as_deref()
            .and_then(|icc| color::cmyk_to_srgb(&pixels, icc, adobe))
            .unwrap_or_else(|| cmyk_to_rgb(&pixels, adobe));
        return Ok(Frame::new(w as u32, h as u32, 3, data));
    }
    let mut frame = Frame::new(w as u32, h as u32, 3, pixels);
    frame.icc = icc;
    Ok(frame)
}

/// Naive CMYK → RGB. Adobe writers store CMYK inverted (0 = full ink), which
/// libjpeg returns as stored; undo that before mixing.
fn cmyk_to_rgb(cmyk: &[u8], adobe_inverted: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let ink = |v: u8| {
            if adobe_inverted {
                255 - u32::from(v)
            } else {
                u32::from(v)
            }
        };
        let k = ink(px[3]);
        for &c in &px[..3] {
            out.push(((255 - ink(c)) * (255 - k) / 255) as u8);
        }
    }
    out
}

fn decode_with_image(bytes: &[u8], format: Format, limits: &Limits) -> Result<Frame, CodecError> {
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), image_format(format));
    let mut l = image::Limits::default();
    l.max_image_width = Some(limits.max_source_side);
    l.max_image_height = Some(limits.max_source_side);
    // Decoded bytes at up to 16-bit RGBA, bounded by the pixel limit.
    l.max_alloc = Some(limits.max_source_pixels.saturating_mul(8));
    reader.limits(l);
    let failed = |e: image::ImageError| CodecError::from_image(format, e);
    let mut decoder = reader.into_decoder().map_err(failed)?;
    let icc = image::ImageDecoder::icc_profile(&mut decoder)
        .ok()
        .flatten();
    let img = image::DynamicImage::from_decoder(decoder).map_err(failed)?;
    let (w, h) = (img.width(), img.height());
    let mut frame = if img.color().has_alpha() {
        Frame::new(w, h, 4, img.into_rgba8().into_raw()).drop_opaque_alpha()
    } else {
        Frame::new(w, h, 3, img.into_rgb8().into_raw())
    };
    frame.icc = icc;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrink_keeps_at_least_the_needed_size() {
        assert_eq!(shrink_factor(4032, 3024, (400, 300)), 8);
        assert_eq!(shrink_factor(4032, 3024, (600, 450)), 4);
        assert_eq!(shrink_factor(4032, 3024, (4032, 3024)), 1);
        assert_eq!(shrink_factor(4032, 3024, (2016, 1)), 2);
        assert_eq!(shrink_factor(400, 267, (100, 67)), 4);
        assert_eq!(shrink_factor(400, 267, (101, 67)), 2);
    }

    #[test]
    fn adobe_cmyk_is_inverted_back() {
        // White paper: no ink. Adobe stores it as 255s.
        assert_eq!(
            cmyk_to_rgb(&[255, 255, 255, 255], true),
            vec![255, 255, 255]
        );
        assert_eq!(cmyk_to_rgb(&[0, 0, 0, 0], false), vec![255, 255, 255]);
        // Full black ink.
        assert_eq!(cmyk_to_rgb(&[255, 255, 255, 0], true), vec![0, 0, 0]);
    }
}
