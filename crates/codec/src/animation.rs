//! Animated GIF, WebP, APNG and AVIF: every frame composited onto the full
//! canvas (as the `image` crate's animation decoders and libavif do), and
//! back out again.

use std::io::Cursor;

use image::AnimationDecoder;
use pixgate_api::Format;

use crate::error::CodecError;
use crate::frame::Frame;
use crate::limits::Limits;
use crate::probe::Probe;

/// RGBA frames of one size, each shown for `delays_ms[i]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Animation {
    pub frames: Vec<Frame>,
    pub delays_ms: Vec<u32>,
}

pub fn decode_animation(
    bytes: &[u8],
    probe: &Probe,
    limits: &Limits,
) -> Result<Animation, CodecError> {
    limits.check_probe(probe)?;
    if probe.format == Format::Avif {
        // libavif (C) composites nothing: AVIF sequence frames are whole.
        return crate::avif_seq::decode(bytes, (probe.width, probe.height), probe.frames);
    }
    crate::decode::guarded(|| frames_of(bytes, probe))
}

fn frames_of(bytes: &[u8], probe: &Probe) -> Result<Animation, CodecError> {
    let corrupt = |e: image::ImageError| CodecError::from_image(probe.format, e);
    let frames: Vec<image::Frame> = match probe.format {
        Format::Gif => image::codecs::gif::GifDecoder::new(Cursor::new(bytes))
            .map_err(corrupt)?
            .into_frames()
            .collect_frames()
            .map_err(corrupt)?,
        Format::Webp => image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
            .map_err(corrupt)?
            .into_frames()
            .collect_frames()
            .map_err(corrupt)?,
        Format::Png => image::codecs::png::PngDecoder::new(Cursor::new(bytes))
            .and_then(|d| d.apng())
            .map_err(corrupt)?
            .into_frames()
            .collect_frames()
            .map_err(corrupt)?,
        f => {
            return Err(CodecError::UnsupportedInput { format: f.as_str() });
        }
    };
    let mut out = Animation {
        frames: Vec::with_capacity(frames.len()),
        delays_ms: Vec::with_capacity(frames.len()),
    };
    for f in frames {
        let (num, den) = f.delay().numer_denom_ms();
        out.delays_ms.push(num.checked_div(den).unwrap_or(0));
        let buf = f.into_buffer();
        let (w, h) = buf.dimensions();
        out.frames.push(Frame::new(w, h, 4, buf.into_raw()));
    }
    if out.frames.is_empty() {
        return Err(CodecError::Corrupt("the animation has no frames".into()));
    }
    Ok(out)
}

/// Encodes an animated GIF, WebP, PNG (APNG) or AVIF that loops forever.
pub fn encode_animation(
    anim: Animation,
    format: Format,
    quality: u8,
) -> Result<Vec<u8>, CodecError> {
    let internal = |e: &dyn std::fmt::Display| CodecError::Internal(e.to_string());
    match format {
        Format::Gif => {
            let mut out = Vec::new();
            {
                let mut enc = image::codecs::gif::GifEncoder::new_with_speed(&mut out, 10);
                enc.set_repeat(image::codecs::gif::Repeat::Infinite)
                    .map_err(|e| internal(&e))?;
                for (f, delay) in anim.frames.into_iter().zip(anim.delays_ms) {
                    let f = f.into_rgba();
                    let buf = image::RgbaImage::from_raw(f.width, f.height, f.data)
                        .ok_or_else(|| CodecError::Internal("frame size mismatch".into()))?;
                    let delay = image::Delay::from_numer_denom_ms(delay, 1);
                    enc.encode_frame(image::Frame::from_parts(buf, 0, 0, delay))
                        .map_err(|e| internal(&e))?;
                }
            }
            Ok(out)
        }
        Format::Webp => mux_webp(anim, quality),
        Format::Png => apng(anim),
        Format::Avif => crate::avif_seq::encode(anim, quality),
        f => Err(CodecError::UnsupportedOutput { format: f.as_str() }),
    }
}

/// An animated WebP written chunk by chunk: each frame is encoded as a still
/// (lossy, with its alpha) and wrapped in an ANMF chunk with its exact
/// duration. (The `webp` crate's animation wrapper ends the stream at
/// timestamp 0, which loses the last frame's duration.)
fn mux_webp(anim: Animation, quality: u8) -> Result<Vec<u8>, CodecError> {
    let first = anim
        .frames
        .first()
        .ok_or_else(|| CodecError::Internal("no frames".into()))?;
    let (w, h) = (first.width, first.height);
    let alpha = anim.frames.iter().any(Frame::has_alpha);
    let mut body = Vec::new();
    // VP8X: animation (0x02) and alpha (0x10) flags, canvas size.
    let mut vp8x = vec![0x02 | if alpha { 0x10 } else { 0 }, 0, 0, 0];
    vp8x.extend_from_slice(&u24(w - 1));
    vp8x.extend_from_slice(&u24(h - 1));
    chunk(&mut body, b"VP8X", &vp8x);
    // ANIM: transparent background, loop forever.
    chunk(&mut body, b"ANIM", &[0, 0, 0, 0, 0, 0]);
    for (f, delay) in anim.frames.iter().zip(&anim.delays_ms) {
        let still = if f.has_alpha() {
            webp::Encoder::from_rgba(&f.data, f.width, f.height)
        } else {
            webp::Encoder::from_rgb(&f.data, f.width, f.height)
        }
        .encode_simple(false, f32::from(quality))
        .map_err(|e| CodecError::Internal(format!("WebP frame: {e:?}")))?;
        let mut anmf = Vec::new();
        anmf.extend_from_slice(&u24(0)); // x / 2
        anmf.extend_from_slice(&u24(0)); // y / 2
        anmf.extend_from_slice(&u24(f.width - 1));
        anmf.extend_from_slice(&u24(f.height - 1));
        anmf.extend_from_slice(&u24((*delay).min(0xFF_FFFF)));
        anmf.push(0b10); // do not blend; no disposal: every frame covers the canvas
        anmf.extend_from_slice(frame_chunks(&still)?);
        chunk(&mut body, b"ANMF", &anmf);
    }
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&((body.len() + 4) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    Ok(out)
}

/// An APNG: every frame a full RGBA canvas (no blending, no disposal), the
/// first one also the default image that non-APNG readers show.
fn apng(anim: Animation) -> Result<Vec<u8>, CodecError> {
    let internal = |e: png::EncodingError| CodecError::Internal(format!("APNG: {e}"));
    let first = anim
        .frames
        .first()
        .ok_or_else(|| CodecError::Internal("no frames".into()))?;
    let (w, h) = (first.width, first.height);
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        enc.set_animated(anim.frames.len() as u32, 0)
            .map_err(internal)?;
        let mut writer = enc.write_header().map_err(internal)?;
        for (f, delay) in anim.frames.into_iter().zip(anim.delays_ms) {
            // fcTL delays are a u16 fraction: milliseconds up to 65.535 s.
            let ms = u16::try_from(delay).unwrap_or(u16::MAX);
            writer.set_frame_delay(ms, 1000).map_err(internal)?;
            writer
                .write_image_data(&f.into_rgba().data)
                .map_err(internal)?;
        }
        writer.finish().map_err(internal)?;
    }
    Ok(out)
}

fn u24(v: u32) -> [u8; 3] {
    let b = v.to_le_bytes();
    [b[0], b[1], b[2]]
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    if payload.len() % 2 == 1 {
        out.push(0);
    }
}

/// The image chunks (ALPH, VP8, VP8L) of a still WebP, without its RIFF
/// header and VP8X.
fn frame_chunks(still: &[u8]) -> Result<&[u8], CodecError> {
    let bad = || CodecError::Internal("unexpected WebP layout from libwebp".into());
    let mut rest = still.get(12..).ok_or_else(bad)?;
    if rest.starts_with(b"VP8X") {
        rest = rest.get(8 + 10..).ok_or_else(bad)?;
    }
    Ok(rest)
}
