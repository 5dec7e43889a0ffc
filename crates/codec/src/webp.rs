//! Still WebP through libwebp's advanced decoding API, which can scale while
//! it decodes: rows are rescaled in YUV before colour conversion, so a
//! downscaling plan neither converts nor stores the full-size image (the
//! high-level `webp` crate exposes no scaling). The FFI lives here alone.
#![allow(unsafe_code)]

use libwebp_sys as sys;

use crate::error::CodecError;
use crate::frame::Frame;
use crate::probe::Probe;

/// Decodes the first (only) frame of a still WebP at its size divided by
/// `shrink` (rounded up, as JPEG's shrink-on-load), straight into one buffer.
pub(crate) fn decode(bytes: &[u8], probe: &Probe, shrink: u32) -> Result<Frame, CodecError> {
    let corrupt = || CodecError::Corrupt("the WebP data could not be decoded".into());
    let mut config = sys::WebPDecoderConfig::new()
        .map_err(|()| CodecError::Internal("WebP: decoder version mismatch".into()))?;
    // SAFETY: `bytes` is a live slice of the given length; `config.input` is
    // a valid, initialised features struct libwebp writes into.
    let status = unsafe { sys::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut config.input) };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(corrupt());
    }
    let (w, h) = (config.input.width, config.input.height);
    // libwebp allocates what the bitstream says: it must be what the limits saw.
    if (w, h) != (probe.width as i32, probe.height as i32) {
        return Err(CodecError::Corrupt(
            "inconsistent WebP frame headers".into(),
        ));
    }
    let shrink = shrink.clamp(1, 8) as i32;
    let (sw, sh) = ((w + shrink - 1) / shrink, (h + shrink - 1) / shrink);
    let alpha = config.input.has_alpha != 0;
    let channels: u8 = if alpha { 4 } else { 3 };
    let stride = sw as usize * usize::from(channels);
    let mut pixels = vec![0u8; stride * sh as usize];

    let options = &mut config.options;
    if shrink > 1 {
        options.use_scaling = 1;
        options.scaled_width = sw;
        options.scaled_height = sh;
    }
    // The worker pool already owns the cores.
    options.use_threads = 0;
    let output = &mut config.output;
    output.colorspace = if alpha {
        sys::WEBP_CSP_MODE::MODE_RGBA
    } else {
        sys::WEBP_CSP_MODE::MODE_RGB
    };
    output.is_external_memory = 1;
    output.width = sw;
    output.height = sh;
    output.u.RGBA = sys::WebPRGBABuffer {
        rgba: pixels.as_mut_ptr(),
        stride: stride as i32,
        size: pixels.len(),
    };
    // SAFETY: the output is external memory: `pixels` outlives the call and
    // is `stride × sh` bytes, exactly what the RGB(A) buffer at the scaled
    // size needs (libwebp checks size ≥ stride × height before writing).
    // With external memory WebPFreeDecBuffer frees nothing of ours, but it
    // is called anyway so no libwebp-owned state leaks.
    let status = unsafe {
        let status = sys::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config);
        sys::WebPFreeDecBuffer(&mut config.output);
        status
    };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(corrupt());
    }
    let mut frame = Frame::new(sw as u32, sh as u32, channels, pixels).drop_opaque_alpha();
    frame.icc = crate::container::webp_icc(bytes);
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::probe;

    fn corpus(name: &str) -> Option<Vec<u8>> {
        let dir = std::env::var("PIXGATE_CORPUS").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus").into()
        });
        std::fs::read(std::path::Path::new(&dir).join(name)).ok()
    }

    /// A smooth gradient with a hard edge, lossless so the reference is exact.
    fn sample(w: u32, h: u32, alpha: bool) -> (Vec<u8>, Vec<u8>) {
        let c = if alpha { 4 } else { 3 };
        let mut px = Vec::with_capacity((w * h * c) as usize);
        for y in 0..h {
            for x in 0..w {
                px.push((x * 255 / w) as u8);
                px.push((y * 255 / h) as u8);
                px.push(if x < w / 2 { 40 } else { 200 });
                if alpha {
                    px.push(if y < h / 2 { 255 } else { 128 });
                }
            }
        }
        let enc = if alpha {
            webp::Encoder::from_rgba(&px, w, h)
        } else {
            webp::Encoder::from_rgb(&px, w, h)
        };
        (enc.encode_lossless().to_vec(), px)
    }

    /// Mean absolute difference per channel between a scaled decode and a
    /// box average of the full decode at the same factor.
    fn mean_error(scaled: &Frame, full: &Frame, f: u32) -> f64 {
        let c = usize::from(full.channels);
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in 0..scaled.height {
            for x in 0..scaled.width {
                for ch in 0..c {
                    let mut acc = 0.0;
                    let mut k = 0.0;
                    for yy in y * f..((y + 1) * f).min(full.height) {
                        for xx in x * f..((x + 1) * f).min(full.width) {
                            acc += f64::from(full.pixel(xx, yy)[ch]);
                            k += 1.0;
                        }
                    }
                    sum += (acc / k - f64::from(scaled.pixel(x, y)[ch])).abs();
                    n += 1.0;
                }
            }
        }
        sum / n
    }

    #[test]
    fn full_decode_is_exact_for_lossless() {
        let (bytes, px) = sample(67, 41, false);
        let p = probe(&bytes).unwrap();
        let frame = decode(&bytes, &p, 1).unwrap();
        assert_eq!((frame.width, frame.height, frame.channels), (67, 41, 3));
        assert_eq!(frame.data, px);
    }

    #[test]
    fn scaled_decode_has_shrunk_dims_and_close_pixels() {
        for alpha in [false, true] {
            let (bytes, _) = sample(203, 117, alpha);
            let p = probe(&bytes).unwrap();
            let full = decode(&bytes, &p, 1).unwrap();
            for f in [2, 4, 8] {
                let scaled = decode(&bytes, &p, f).unwrap();
                assert_eq!(
                    (scaled.width, scaled.height),
                    (203u32.div_ceil(f), 117u32.div_ceil(f)),
                    "factor {f}"
                );
                assert_eq!(scaled.channels, full.channels);
                let err = mean_error(&scaled, &full, f);
                assert!(err < 4.0, "factor {f} alpha {alpha}: mean error {err}");
            }
        }
    }

    #[test]
    fn corpus_photo_scaled_is_close_to_full() {
        let Some(bytes) = corpus("formats/4.webp") else {
            panic!("corpus formats/4.webp missing: set PIXGATE_CORPUS");
        };
        let p = probe(&bytes).unwrap();
        let full = decode(&bytes, &p, 1).unwrap();
        let scaled = decode(&bytes, &p, 4).unwrap();
        assert_eq!(
            (scaled.width, scaled.height),
            (p.width.div_ceil(4), p.height.div_ceil(4))
        );
        let err = mean_error(&scaled, &full, 4);
        assert!(err < 6.0, "mean error {err}");
    }

    #[test]
    fn damaged_data_is_a_clear_error() {
        let (bytes, _) = sample(64, 64, false);
        let p = probe(&bytes).unwrap();
        let cut = &bytes[..bytes.len() / 2];
        assert!(matches!(decode(cut, &p, 2), Err(CodecError::Corrupt(_))));
    }
}
