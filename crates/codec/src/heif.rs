//! HEIC and AVIF through libheif (Debian's 1.15, linked dynamically), which
//! brings libde265 / dav1d for decoding and x265 / aom for encoding.
//! libheif applies the container's rotation and mirroring (`irot`, `imir`)
//! itself, so the EXIF Orientation of such files is never applied again.

use libheif_rs::{ColorProfile, ColorSpace, HeifContext, LibHeif, RgbChroma, color_profile_types};
use pixgate_api::Format;

use crate::error::CodecError;
use crate::frame::Frame;
use crate::heif_encode::Codec;

/// Displayed width and height of the primary image, from the container only.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), CodecError> {
    let ctx = HeifContext::read_from_bytes(bytes).map_err(corrupt)?;
    let handle = ctx.primary_image_handle().map_err(corrupt)?;
    Ok((handle.width(), handle.height()))
}

/// Whether the primary image has an alpha channel (false when unreadable).
pub fn has_alpha(bytes: &[u8]) -> bool {
    HeifContext::read_from_bytes(bytes)
        .and_then(|ctx| ctx.primary_image_handle())
        .is_ok_and(|h| h.has_alpha_channel())
}

pub fn decode(bytes: &[u8]) -> Result<Frame, CodecError> {
    let lib = LibHeif::new();
    let ctx = HeifContext::read_from_bytes(bytes).map_err(corrupt)?;
    let handle = ctx.primary_image_handle().map_err(corrupt)?;
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let image = lib
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(corrupt)?;
    let planes = image.planes();
    let plane = planes
        .interleaved
        .ok_or_else(|| CodecError::Corrupt("libheif returned no interleaved plane".into()))?;
    let channels: u8 = if alpha { 4 } else { 3 };
    let row = plane.width as usize * channels as usize;
    let mut data = Vec::with_capacity(row * plane.height as usize);
    for y in 0..plane.height as usize {
        let start = y * plane.stride;
        let line = plane
            .data
            .get(start..start + row)
            .ok_or_else(|| CodecError::Corrupt("short HEIF plane".into()))?;
        data.extend_from_slice(line);
    }
    let mut frame = Frame::new(plane.width, plane.height, channels, data).drop_opaque_alpha();
    // An ICC profile (camera HEICs carry Display P3 this way). An nclx
    // box's primaries are not converted (its matrix is libheif's to apply).
    frame.icc = handle
        .color_profile_raw()
        .filter(|p| p.profile_type() != color_profile_types::NCLX)
        .map(|p| p.data);
    Ok(frame)
}

/// x265 settings for HEIC (libheif 1.15's default preset is "slow", with
/// tune "ssim" and tu-intra-depth 2, kept). At q85 on the phone photo
/// (`tests::x265_presets`), ultrafast took 0.5 s of CPU per MP against
/// 1.7 for medium and 3.7–4.1 for slow, at +2 % (12 MP) to +9.5 % (1 MP)
/// bytes over slow and PSNR within 0.1 dB.
const X265: &[(&str, &str)] = &[("preset", "ultrafast")];

/// Encodes AVIF (aom) or HEIC (x265) at `quality`.
pub fn encode(frame: &Frame, format: Format, quality: u8) -> Result<Vec<u8>, CodecError> {
    encode_with(frame, format, quality, X265)
}

/// `encode` with the x265 string parameters `x265` (name, value) for HEIC;
/// libheif accepts "preset", "tune", "chroma" and "x265:<option>".
fn encode_with(
    frame: &Frame,
    format: Format,
    quality: u8,
    x265: &[(&str, &str)],
) -> Result<Vec<u8>, CodecError> {
    let codec = match format {
        // aom's default speed takes seconds per megapixel; 8 keeps a
        // thumbnail in tens of milliseconds at a small size cost.
        Format::Avif => Codec::Av1 { speed: 8 },
        _ => Codec::Hevc { x265 },
    };
    crate::heif_encode::encode(frame, &codec, quality)
}

fn corrupt(e: libheif_rs::HeifError) -> CodecError {
    CodecError::Corrupt(format!("HEIF: {e}"))
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// CPU time of the whole process (every thread), in nanoseconds.
    fn cpu_ns() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields: Vec<f64> = stat
            .rsplit_once(')')
            .map_or("", |(_, r)| r)
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0.0))
            .collect();
        // utime and stime, in ticks of 10 ms (fields 14 and 15).
        (fields[11] + fields[12]) * 1e7
    }

    /// PSNR over the RGB samples of two frames of one size.
    fn psnr(a: &Frame, b: &Frame) -> f64 {
        assert_eq!(
            (a.width, a.height, a.channels),
            (b.width, b.height, b.channels)
        );
        let se: f64 = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum();
        let mse = se / a.data.len() as f64;
        10.0 * (255.0 * 255.0 / mse).log10()
    }

    /// Encode time (CPU and wall), size and PSNR of x265 presets on the
    /// phone photo, whole and resized to about 1 MP, at pixgate's default
    /// quality 85. A measurement: run alone, in release:
    /// `cargo test --release -p pixgate-codec --lib heif::tests::x265_presets
    /// -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement: run in --release on an idle machine"]
    fn x265_presets() {
        let corpus = crate::test_corpus();
        let bytes = std::fs::read(corpus.join("photos/phone-4032x3024.jpg")).unwrap();
        let p = crate::probe(&bytes).unwrap();
        let full = crate::decode(&bytes, &p, 1, &crate::Limits::default()).unwrap();
        let rgb = image::RgbImage::from_raw(full.width, full.height, full.data.clone()).unwrap();
        let small = image::imageops::resize(&rgb, 1155, 866, image::imageops::FilterType::Triangle);
        let small = Frame::new(1155, 866, 3, small.into_raw());
        let variants: &[&[(&str, &str)]] = &[
            &[("preset", "ultrafast")],
            &[("preset", "superfast")],
            &[("preset", "veryfast")],
            &[("preset", "faster")],
            &[("preset", "fast")],
            &[("preset", "medium")],
            &[("preset", "slow")],
            &[("preset", "ultrafast"), ("x265:tu-intra-depth", "1")],
            &[("preset", "veryfast"), ("x265:tu-intra-depth", "1")],
        ];
        println!(
            "{:<10} {:>20} {:>9} {:>9} {:>10} {:>7}",
            "image", "x265", "CPU ms", "wall ms", "bytes", "PSNR"
        );
        for frame in [&small, &full] {
            let mp = f64::from(frame.width * frame.height) / 1e6;
            let runs = if mp < 2.0 { 3 } else { 1 };
            for &x265 in variants {
                let out = encode_with(frame, Format::Heic, 85, x265).unwrap();
                let (cpu, wall) = (cpu_ns(), Instant::now());
                for _ in 0..runs {
                    std::hint::black_box(encode_with(frame, Format::Heic, 85, x265).unwrap());
                }
                let cpu = (cpu_ns() - cpu) / 1e6 / f64::from(runs);
                let wall = wall.elapsed().as_secs_f64() * 1e3 / f64::from(runs);
                let back = decode(&out).unwrap();
                let name: Vec<String> = x265.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "{:<10} {:>20} {:>9.0} {:>9.0} {:>10} {:>7.2}   {:.0} ms/MP CPU",
                    format!("{}x{}", frame.width, frame.height),
                    name.join(",")
                        .trim_start_matches("preset=")
                        .replace("x265:tu-intra-depth=", "tu"),
                    cpu,
                    wall,
                    out.len(),
                    psnr(frame, &back),
                    cpu / mp
                );
            }
        }
    }
}
