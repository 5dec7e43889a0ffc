//! HEIC and AVIF through libheif (Debian's 1.15, linked dynamically), which
//! brings libde265 / dav1d for decoding and x265 / aom for encoding.
//! libheif applies the container's rotation and mirroring (`irot`, `imir`)
//! itself, so the EXIF Orientation of such files is never applied again.

use libheif_rs::{
    Channel, ColorSpace, CompressionFormat, EncoderParameterValue, EncoderQuality, HeifContext,
    LibHeif, RgbChroma,
};
use pixgate_api::Format;

use crate::error::CodecError;
use crate::frame::Frame;

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
    Ok(Frame::new(plane.width, plane.height, channels, data).drop_opaque_alpha())
}

/// Encodes AVIF (aom) or HEIC (x265) at `quality`.
pub fn encode(frame: &Frame, format: Format, quality: u8) -> Result<Vec<u8>, CodecError> {
    let internal = |e: libheif_rs::HeifError| CodecError::Internal(e.to_string());
    let lib = LibHeif::new();
    let chroma = if frame.has_alpha() {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let mut image = libheif_rs::Image::new(frame.width, frame.height, ColorSpace::Rgb(chroma))
        .map_err(internal)?;
    image
        .create_plane(Channel::Interleaved, frame.width, frame.height, 8)
        .map_err(internal)?;
    {
        let planes = image.planes_mut();
        let plane = planes
            .interleaved
            .ok_or_else(|| CodecError::Internal("no interleaved plane".into()))?;
        let row = frame.stride();
        for (y, src) in frame.data.chunks_exact(row).enumerate() {
            plane.data[y * plane.stride..y * plane.stride + row].copy_from_slice(src);
        }
    }
    let compression = match format {
        Format::Avif => CompressionFormat::Av1,
        _ => CompressionFormat::Hevc,
    };
    let mut encoder =
        lib.encoder_for_format(compression)
            .map_err(|e| CodecError::UnsupportedOutput {
                format: if e.to_string().is_empty() {
                    "heif"
                } else {
                    format.as_str()
                },
            })?;
    encoder
        .set_quality(EncoderQuality::Lossy(quality.clamp(1, 100)))
        .map_err(internal)?;
    if compression == CompressionFormat::Av1 {
        // aom's default speed takes seconds per megapixel; 8 keeps a
        // thumbnail in tens of milliseconds at a small size cost.
        let _ = encoder.set_parameter_value("speed", EncoderParameterValue::Int(8));
    }
    let mut ctx = HeifContext::new().map_err(internal)?;
    ctx.encode_image(&image, &mut encoder, None)
        .map_err(internal)?;
    ctx.write_to_bytes().map_err(internal)
}

fn corrupt(e: libheif_rs::HeifError) -> CodecError {
    CodecError::Corrupt(format!("HEIF: {e}"))
}
