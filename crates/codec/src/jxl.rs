//! JPEG XL: read with jxl-oxide (pure Rust), written lossless with
//! zune-jpegxl (pure Rust; Debian's libjxl 0.7 is older than any maintained
//! binding builds against, see docs/decisions.md).
//!
//! Sizes come from the image header before any pixel is decoded; the
//! decoder's own allocations are capped by an allocation tracker, and it
//! runs on the calling thread (the server's worker slot), never on a pool
//! of its own.

use jxl_oxide::{
    AllocTracker, EnumColourEncoding, JxlImage, JxlThreadPool, RenderingIntent,
    UninitializedJxlImage,
};

use crate::error::{CodecError, plain};
use crate::frame::Frame;
use crate::limits::Limits;

/// Header facts: the displayed size (jxl-oxide applies the orientation
/// itself), whether it is grey and whether it has alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub width: u32,
    pub height: u32,
    pub grey: bool,
    pub alpha: bool,
}

fn corrupt(e: impl std::fmt::Display) -> CodecError {
    CodecError::Corrupt(format!(
        "the JPEG XL data is damaged ({})",
        plain(&e.to_string())
    ))
}

fn builder() -> jxl_oxide::JxlImageBuilder {
    JxlImage::builder().pool(JxlThreadPool::none())
}

/// Parses the headers (image header, ICC, frame headers); no pixel work.
fn open(bytes: &[u8], tracker: Option<AllocTracker>) -> Result<JxlImage, CodecError> {
    let mut b = builder();
    if let Some(t) = tracker {
        b = b.alloc_tracker(t);
    }
    let mut uninit: UninitializedJxlImage = b.build_uninit();
    uninit.feed_bytes(bytes).map_err(corrupt)?;
    let mut image = match uninit.try_init().map_err(corrupt)? {
        jxl_oxide::InitializeResult::Initialized(image) => image,
        jxl_oxide::InitializeResult::NeedMoreData(_) => {
            return Err(CodecError::Corrupt(
                "the JPEG XL file ends before its header does".into(),
            ));
        }
    };
    image.finalize().map_err(corrupt)?;
    Ok(image)
}

pub(crate) fn header(bytes: &[u8]) -> Result<Header, CodecError> {
    let image = open(bytes, None)?;
    let meta = &image.image_header().metadata;
    Ok(Header {
        width: image.width(),
        height: image.height(),
        grey: meta.grayscale(),
        alpha: meta.ec_info.iter().any(|e| e.is_alpha()),
    })
}

/// Decodes the first frame to 8-bit sRGB(A).
pub(crate) fn decode(
    bytes: &[u8],
    expect: (u32, u32),
    limits: &Limits,
) -> Result<Frame, CodecError> {
    // The decoder's working buffers (f32 planes, several per channel) are
    // bounded by the same memory limit as the whole request.
    let cap = usize::try_from(limits.max_request_bytes).unwrap_or(usize::MAX);
    let mut image = open(bytes, Some(AllocTracker::with_limit(cap)))?;
    // What the limits were checked on must be what gets decoded.
    if (image.width(), image.height()) != expect {
        return Err(CodecError::Corrupt("inconsistent JPEG XL headers".into()));
    }
    if image.num_loaded_keyframes() == 0 {
        return Err(CodecError::Corrupt(
            "the JPEG XL file has no complete frame".into(),
        ));
    }
    let meta = &image.image_header().metadata;
    let xyb = meta.xyb_encoded;
    // An ICC-described (non-XYB) image needs a CMS to convert: ours
    // (lcms2) after decoding. Everything else jxl-oxide converts to sRGB.
    let icc = match image.original_icc() {
        Some(icc) if !xyb => Some(icc.to_vec()),
        _ => {
            image.request_color_encoding(EnumColourEncoding::srgb(RenderingIntent::Relative));
            None
        }
    };
    let render = image.render_frame(0).map_err(|e| {
        if e.to_string().contains("allocat") || e.to_string().contains("memory") {
            CodecError::TooLarge(format!(
                "Decoding this JPEG XL image would need more than {} bytes.",
                limits.max_request_bytes
            ))
        } else {
            corrupt(e)
        }
    })?;
    let mut stream = render.stream();
    let (w, h, c) = (stream.width(), stream.height(), stream.channels());
    if !(1..=4).contains(&c) {
        return Err(CodecError::Unsupported(
            "CMYK JPEG XL images are not read".into(),
        ));
    }
    let mut samples = vec![0u8; w as usize * h as usize * c as usize];
    stream.write_to_buffer(&mut samples);
    let (channels, data) = match c {
        1 => (3, samples.iter().flat_map(|&v| [v, v, v]).collect()),
        2 => (
            4,
            samples
                .chunks_exact(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
        ),
        n => (n as u8, samples),
    };
    let mut frame = Frame::new(w, h, channels, data).drop_opaque_alpha();
    frame.icc = icc;
    Ok(frame)
}

/// Lossless JPEG XL (modular, effort 1-ish: zune-jpegxl's fast path).
pub(crate) fn encode(frame: &Frame) -> Result<Vec<u8>, CodecError> {
    use zune_core::bit_depth::BitDepth;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::EncoderOptions;
    let colour = if frame.has_alpha() {
        ColorSpace::RGBA
    } else {
        ColorSpace::RGB
    };
    let opts = EncoderOptions::new(
        frame.width as usize,
        frame.height as usize,
        colour,
        BitDepth::Eight,
    );
    let enc = zune_jpegxl::JxlSimpleEncoder::new(&frame.data, opts);
    let mut out = Vec::new();
    enc.encode(&mut out)
        .map_err(|e| CodecError::Internal(format!("JPEG XL: {e:?}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lossless round trip through our own encoder and decoder.
    #[test]
    fn lossless_round_trip() {
        let mut data = Vec::new();
        for y in 0..40u32 {
            for x in 0..60u32 {
                data.extend_from_slice(&[(x * 4) as u8, (y * 6) as u8, 128, (x + y) as u8]);
            }
        }
        let frame = Frame::new(60, 40, 4, data);
        let bytes = encode(&frame).unwrap();
        assert_eq!(crate::sniff::sniff(&bytes), Some(pixgate_api::Format::Jxl));
        let h = header(&bytes).unwrap();
        assert_eq!((h.width, h.height, h.alpha), (60, 40, true));
        let back = decode(&bytes, (60, 40), &Limits::default()).unwrap();
        assert_eq!(back, frame);
    }

    #[test]
    fn damaged_data_is_a_clean_error() {
        assert!(header(&[0xFF, 0x0A]).is_err());
        assert!(header(&[0xFF, 0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0]).is_err());
        let frame = Frame::filled(16, 16, &[10, 20, 30]);
        let bytes = encode(&frame).unwrap();
        let cut = &bytes[..bytes.len() / 2];
        let e = crate::decode::guarded(|| decode(cut, (16, 16), &Limits::default()));
        assert!(e.is_err());
    }

    /// The cost model's JXL_PX, ENC_JXL_PX and SVG_PX (pixgate-ops
    /// cost.rs): `cargo test --release -p pixgate-codec jxl::tests::speed
    /// -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement: run in --release on an idle machine"]
    fn speed() {
        let (w, h) = (1024u32, 1024u32);
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let n = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) >> 24;
                data.extend_from_slice(&[(x / 4) as u8, (y / 4) as u8, n as u8]);
            }
        }
        let frame = Frame::new(w, h, 3, data);
        let t = std::time::Instant::now();
        let bytes = encode(&frame).unwrap();
        let enc = t.elapsed();
        let t = std::time::Instant::now();
        decode(&bytes, (w, h), &Limits::default()).unwrap();
        let dec = t.elapsed();
        let px = f64::from(w * h);
        println!(
            "lossless 1 MP: encode {:.1} ns/px, decode {:.1} ns/px ({} bytes)",
            enc.as_nanos() as f64 / px,
            dec.as_nanos() as f64 / px,
            bytes.len()
        );
        let mut svg = String::from(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="1024" height="1024">"#,
        );
        for i in 0..200 {
            svg.push_str(&format!(
                r#"<circle cx="{}" cy="{}" r="{}" fill="rgb({},{},200)" opacity="0.6"/>"#,
                i % 100,
                (i * 7) % 100,
                5 + i % 20,
                i,
                255 - i
            ));
        }
        svg.push_str(r#"<rect width="100" height="100" fill="url(#g)"/><linearGradient id="g"><stop offset="0" stop-color="red" stop-opacity="0.3"/><stop offset="1" stop-color="blue" stop-opacity="0.3"/></linearGradient></svg>"#);
        let t = std::time::Instant::now();
        crate::svg::render(
            svg.as_bytes(),
            (w, h),
            (w, h),
            &[],
            &Limits::default(),
            &|| false,
        )
        .unwrap();
        println!(
            "SVG 200 translucent circles + gradient, 1 MP: {:.1} ns/px",
            t.elapsed().as_nanos() as f64 / px
        );
    }
}
