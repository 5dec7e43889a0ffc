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
/// Needs the source's and the result's chroma interleaved besides.
pub fn scale_planes(p: &Yuv420, w: u32, h: u32) -> Result<Yuv420, CodecError> {
    let internal = |e: &dyn std::fmt::Display| CodecError::Internal(e.to_string());
    let mut out = Yuv420::new(w, h);
    let (sw, sh) = Yuv420::chroma_size(p.width, p.height);
    let (dw, dh) = Yuv420::chroma_size(w, h);
    let options = lanczos3();
    let mut resizer = Resizer::new();
    let src = ImageRef::new(p.width, p.height, &p.y, PixelType::U8).map_err(|e| internal(&e))?;
    let mut dst =
        Image::from_slice_u8(w, h, &mut out.y, PixelType::U8).map_err(|e| internal(&e))?;
    resizer
        .resize(&src, &mut dst, &options)
        .map_err(|e| internal(&e))?;
    // U and V as one two-channel picture: one set of filter weights, and
    // fast_image_resize's two-channel kernels do more per sample.
    let mut uv = vec![0; p.u.len() * 2];
    for ((pair, &u), &v) in uv.chunks_exact_mut(2).zip(&p.u).zip(&p.v) {
        (pair[0], pair[1]) = (u, v);
    }
    let src = ImageRef::new(sw, sh, &uv, PixelType::U8x2).map_err(|e| internal(&e))?;
    let mut dst = Image::new(dw, dh, PixelType::U8x2);
    // The second channel is V, not alpha.
    let options = options.use_alpha(false);
    resizer
        .resize(&src, &mut dst, &options)
        .map_err(|e| internal(&e))?;
    for ((uv, u), v) in dst.buffer().chunks_exact(2).zip(&mut out.u).zip(&mut out.v) {
        (*u, *v) = (uv[0], uv[1]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One plane scaled on its own, as a one-channel picture.
    fn plane(src: &[u8], (sw, sh): (u32, u32), (dw, dh): (u32, u32)) -> Vec<u8> {
        let src = ImageRef::new(sw, sh, src, PixelType::U8).unwrap();
        let mut dst = Image::new(dw, dh, PixelType::U8);
        Resizer::new().resize(&src, &mut dst, &lanczos3()).unwrap();
        dst.into_vec()
    }

    #[test]
    fn chroma_scaled_together_is_each_plane_scaled_alone() {
        let (w, h) = (301, 203);
        let mut p = Yuv420::new(w, h);
        for (i, s) in p.y.iter_mut().enumerate() {
            *s = (i * 7 % 251) as u8;
        }
        // V unlike U, and dark where U is bright: were V taken for alpha,
        // U would come out darkened.
        for (i, (u, v)) in p.u.iter_mut().zip(&mut p.v).enumerate() {
            (*u, *v) = ((i * 13 % 256) as u8, (255 - i * 5 % 256) as u8);
        }
        let (dw, dh) = (120, 81);
        let s = scale_planes(&p, dw, dh).unwrap();
        let (src_c, dst_c) = (Yuv420::chroma_size(w, h), Yuv420::chroma_size(dw, dh));
        assert_eq!(s.y, plane(&p.y, (w, h), (dw, dh)));
        assert_eq!(s.u, plane(&p.u, src_c, dst_c));
        assert_eq!(s.v, plane(&p.v, src_c, dst_c));
    }

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
