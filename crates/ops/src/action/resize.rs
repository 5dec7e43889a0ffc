//! Exact scaling with fast_image_resize (SIMD Lanczos3; alpha premultiplied
//! while filtering so transparent pixels do not bleed colour).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use pixgate_codec::{CodecError, Frame, Yuv420};

/// The one filter every scale here uses.
fn lanczos3() -> ResizeOptions {
    ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
}

pub fn scale(f: &Frame, w: u32, h: u32) -> Result<Frame, CodecError> {
    if (f.width, f.height) == (w, h) {
        return Ok(f.clone());
    }
    let pt = if f.channels == 4 {
        PixelType::U8x4
    } else {
        PixelType::U8x3
    };
    let src = ImageRef::new(f.width, f.height, &f.data, pt)
        .map_err(|e| CodecError::Internal(e.to_string()))?;
    let mut dst = Image::new(w, h, pt);
    Resizer::new()
        .resize(&src, &mut dst, &lanczos3())
        .map_err(|e| CodecError::Internal(e.to_string()))?;
    Ok(Frame::new(w, h, f.channels, dst.into_vec()))
}

/// Scales YUV 4:2:0 planes to `w`×`h`: luma to that size, each chroma
/// plane to its half (rounded up), with the same filter as [`scale`].
pub fn scale_planes(p: &Yuv420, w: u32, h: u32) -> Result<Yuv420, CodecError> {
    let internal = |e: &dyn std::fmt::Display| CodecError::Internal(e.to_string());
    let mut out = Yuv420::new(w, h);
    let (sw, sh) = Yuv420::chroma_size(p.width, p.height);
    let (dw, dh) = Yuv420::chroma_size(w, h);
    let options = lanczos3();
    let mut resizer = Resizer::new();
    for (src, dst, (sw, sh), (dw, dh)) in [
        (&p.y, &mut out.y, (p.width, p.height), (w, h)),
        (&p.u, &mut out.u, (sw, sh), (dw, dh)),
        (&p.v, &mut out.v, (sw, sh), (dw, dh)),
    ] {
        let src = ImageRef::new(sw, sh, src, PixelType::U8).map_err(|e| internal(&e))?;
        let mut dst = Image::from_slice_u8(dw, dh, dst, PixelType::U8).map_err(|e| internal(&e))?;
        resizer
            .resize(&src, &mut dst, &options)
            .map_err(|e| internal(&e))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_colour_stays_flat() {
        let f = Frame::filled(100, 60, &[200, 100, 50]);
        let s = scale(&f, 33, 20).unwrap();
        assert_eq!((s.width, s.height, s.channels), (33, 20, 3));
        assert!(s.data.chunks_exact(3).all(|p| p == [200, 100, 50]));
    }

    #[test]
    fn transparent_pixels_do_not_bleed() {
        // Left half opaque red, right half fully transparent green.
        let mut data = Vec::new();
        for _y in 0..10 {
            for x in 0..20 {
                data.extend_from_slice(if x < 10 {
                    &[255, 0, 0, 255]
                } else {
                    &[0, 255, 0, 0]
                });
            }
        }
        let s = scale(&Frame::new(20, 10, 4, data), 10, 5).unwrap();
        for px in s.data.chunks_exact(4) {
            if px[3] > 0 {
                assert!(px[1] < 10, "green bled into {px:?}");
            }
        }
    }
}
