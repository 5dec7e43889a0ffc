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

use crate::color;
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
    CodecError::Corrupt(format!("the JPEG XL data is damaged ({})", plain(&e.to_string())))
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
pub(crate) fn decode(bytes: &[u8], expect: (u32, u32), limits: &Limits) -> Result<Frame, CodecError> {
    // The decoder's working buffers (f32 planes, several per channel) are
    // bounded by the same memory limit as the whole request.
    let cap = usize::try_from(limits.max_request_bytes).unwrap_or(usize::MAX);
    let mut image = open(bytes, Some(AllocTracker::with_limit(cap)))?;
    // What the limits were checked on must be what gets decoded.
    if (image.width(), image.height()) != expect {
        return Err(CodecError::Corrupt("inconsistent JPEG XL headers".into()));
    }
    if image.num_loaded_keyframes() == 0 {
        return Err(CodecError::Corrupt("the JPEG XL file has no complete frame".into()));
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
    if let Some(icc) = icc {
        color::rgb_to_srgb(&mut frame, &icc);
    }
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
