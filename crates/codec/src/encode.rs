//! Bytes from pixels, in the requested format.

use std::io::Cursor;

use image::ImageEncoder;
use pixgate_api::Format;
use turbojpeg::{Compressor, PixelFormat, Subsamp};

use crate::error::CodecError;
use crate::frame::{Frame, Yuv420};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// 1–100, for JPEG and lossy WebP.
    pub quality: u8,
    /// Progressive JPEG.
    pub progressive: bool,
    /// Background for formats without alpha.
    pub background: [u8; 3],
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            quality: 85,
            progressive: false,
            background: [255, 255, 255],
        }
    }
}

/// Encodes `frame`. A kept wide gamut (`frame.icc`) is embedded where the
/// format has a place for a profile and converted to sRGB where not.
pub fn encode(
    mut frame: Frame,
    format: Format,
    opts: &EncodeOptions,
) -> Result<Vec<u8>, CodecError> {
    if frame
        .icc
        .as_deref()
        .is_some_and(|icc| !carries(format, icc))
    {
        crate::color::to_srgb(&mut frame);
    }
    let internal = |e: &dyn std::fmt::Display| CodecError::Internal(e.to_string());
    match format {
        Format::Jpg => {
            let rgb = frame.flatten(opts.background);
            let mut c = Compressor::new().map_err(|e| internal(&e))?;
            c.set_quality(i32::from(opts.quality.clamp(1, 100)))
                .map_err(|e| internal(&e))?;
            c.set_subsamp(Subsamp::Sub2x2).map_err(|e| internal(&e))?;
            c.set_progressive(opts.progressive)
                .map_err(|e| internal(&e))?;
            let image = turbojpeg::Image {
                pixels: rgb.data.as_slice(),
                width: rgb.width as usize,
                pitch: rgb.stride(),
                height: rgb.height as usize,
                format: PixelFormat::RGB,
            };
            let out = c.compress_to_vec(image).map_err(|e| internal(&e))?;
            Ok(match &rgb.icc {
                Some(icc) => crate::jpeg::with_icc(out, icc),
                None => out,
            })
        }
        Format::Webp => {
            let out = crate::webp::encode_lossy(
                &frame.data,
                (frame.width, frame.height),
                frame.has_alpha(),
                f32::from(opts.quality),
                WEBP_METHOD,
            )?;
            Ok(match &frame.icc {
                Some(icc) => crate::container::webp_with_icc(
                    out,
                    icc,
                    (frame.width, frame.height),
                    frame.has_alpha(),
                ),
                None => out,
            })
        }
        Format::Png => {
            let mut out = Vec::new();
            let enc = image::codecs::png::PngEncoder::new_with_quality(
                &mut out,
                image::codecs::png::CompressionType::Fast,
                image::codecs::png::FilterType::Adaptive,
            );
            write_with(enc, &frame)?;
            Ok(out)
        }
        Format::Bmp => {
            let mut out = Vec::new();
            write_with(image::codecs::bmp::BmpEncoder::new(&mut out), &frame)?;
            Ok(out)
        }
        Format::Tiff => {
            let mut out = Cursor::new(Vec::new());
            write_with(image::codecs::tiff::TiffEncoder::new(&mut out), &frame)?;
            Ok(out.into_inner())
        }
        Format::Gif => {
            let mut out = Vec::new();
            {
                // Speed 10 of 30: a usable palette in tens of milliseconds.
                let mut enc = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 10);
                let rgba = frame.into_rgba();
                let buf = image::RgbaImage::from_raw(rgba.width, rgba.height, rgba.data)
                    .ok_or_else(|| CodecError::Internal("frame size mismatch".into()))?;
                enc.encode_frame(image::Frame::new(buf))
                    .map_err(|e| internal(&e))?;
            }
            Ok(out)
        }
        Format::Avif | Format::Heic => crate::heif::encode(&frame, format, opts.quality),
        Format::Jxl => crate::jxl::encode(&frame),
        Format::Svg => Err(CodecError::UnsupportedOutput { format: "svg" }),
    }
}

/// Whether `format`'s files here carry an ICC profile (`icc`).
fn carries(format: Format, icc: &[u8]) -> bool {
    match format {
        Format::Jpg => crate::jpeg::icc_fits(icc),
        Format::Png | Format::Webp | Format::Tiff | Format::Avif | Format::Heic => true,
        _ => false,
    }
}

fn write_with(mut enc: impl ImageEncoder, frame: &Frame) -> Result<(), CodecError> {
    if let Some(icc) = &frame.icc {
        enc.set_icc_profile(icc.clone())
            .map_err(|e| CodecError::Internal(e.to_string()))?;
    }
    let color = if frame.has_alpha() {
        image::ExtendedColorType::Rgba8
    } else {
        image::ExtendedColorType::Rgb8
    };
    enc.write_image(&frame.data, frame.width, frame.height, color)
        .map_err(|e| CodecError::Internal(e.to_string()))
}
/// libwebp's effort (0–6). Measured on a 512×386 photo at q80
/// (`cargo bench -p pixgate-benches -- webp`): method 2 encodes in 9.1 ms
/// at 57.7 kB, the default 4 in 17.4 ms at 56.9 kB — half the time for
/// 1.3 % more bytes.
const WEBP_METHOD: i32 = 2;

/// Lossy WebP straight from YUV 4:2:0 planes (those of
/// [`crate::decode_webp_planes`], resized), at the effort `encode` uses.
pub fn encode_webp_planes(planes: &mut Yuv420, quality: u8) -> Result<Vec<u8>, CodecError> {
    crate::webp::encode_planes(planes, f32::from(quality), WEBP_METHOD)
}
