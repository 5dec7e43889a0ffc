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

/// Encodes RGB or RGBA pixels as lossy WebP at `quality` and `method`.
/// The picture is imported straight to YUV (`use_argb = 0`): the `webp`
/// crate imports to ARGB, which libwebp converts to YUV again inside the
/// encode (0.4–0.7 ms of a 512×386 picture's ~12 ms, same bytes).
pub(crate) fn encode_lossy(
    px: &[u8],
    (width, height): (u32, u32),
    alpha: bool,
    quality: f32,
    method: i32,
) -> Result<Vec<u8>, CodecError> {
    let failed = |what: &str| CodecError::Internal(format!("WebP: {what}"));
    let channels = if alpha { 4 } else { 3 };
    let stride = width as usize * channels;
    if px.len() != stride * height as usize {
        return Err(failed("pixel buffer of the wrong size"));
    }
    let mut config = sys::WebPConfig::new().map_err(|()| failed("no encoder configuration"))?;
    config.quality = quality;
    config.alpha_compression = 1;
    config.method = method;
    let mut picture = sys::WebPPicture::new().map_err(|()| failed("no picture"))?;
    picture.use_argb = 0;
    picture.width = i32::try_from(width).map_err(|_| failed("too wide"))?;
    picture.height = i32::try_from(height).map_err(|_| failed("too tall"))?;
    let stride = i32::try_from(stride).map_err(|_| failed("too wide"))?;
    let mut writer = std::mem::MaybeUninit::<sys::WebPMemoryWriter>::uninit();
    // SAFETY: `px` holds `height` rows of `stride` bytes (checked above);
    // the writer is initialised before use and outlives `WebPEncode`, which
    // reaches it through `custom_ptr`; the picture and the writer are each
    // freed once, and `mem[..size]` is copied out before the writer is.
    unsafe {
        sys::WebPMemoryWriterInit(writer.as_mut_ptr());
        let mut writer = writer.assume_init();
        let imported = if alpha {
            sys::WebPPictureImportRGBA(&mut picture, px.as_ptr(), stride)
        } else {
            sys::WebPPictureImportRGB(&mut picture, px.as_ptr(), stride)
        };
        if imported == 0 {
            sys::WebPPictureFree(&mut picture);
            return Err(failed("out of memory importing the picture"));
        }
        picture.writer = Some(sys::WebPMemoryWrite);
        picture.custom_ptr = (&raw mut writer).cast();
        let ok = sys::WebPEncode(&config, &mut picture);
        let error = picture.error_code;
        sys::WebPPictureFree(&mut picture);
        let out = if ok != 0 && !writer.mem.is_null() {
            Ok(std::slice::from_raw_parts(writer.mem, writer.size).to_vec())
        } else {
            Err(failed(&format!("encoding failed ({error:?})")))
        };
        sys::WebPMemoryWriterClear(&mut writer);
        out
    }
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

    /// Lossy output through the YUV import: the picture comes back close,
    /// alpha included, and the crate's ARGB import gives the same bytes.
    #[test]
    fn lossy_encode_round_trips_and_matches_the_argb_import() {
        for alpha in [false, true] {
            let (_, px) = sample(96, 64, alpha);
            let out = encode_lossy(&px, (96, 64), alpha, 90.0, 2).unwrap();
            let p = probe(&out).unwrap();
            assert_eq!((p.width, p.height), (96, 64));
            let frame = decode(&out, &p, 1).unwrap();
            let c = if alpha { 4 } else { 3 };
            assert_eq!(usize::from(frame.channels), c);
            let mean = frame
                .data
                .iter()
                .zip(&px)
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / px.len() as f64;
            assert!(mean < 3.0, "alpha {alpha}: mean error {mean:.2}");
            let enc = if alpha {
                webp::Encoder::from_rgba(&px, 96, 64)
            } else {
                webp::Encoder::from_rgb(&px, 96, 64)
            };
            let mut config = sys::WebPConfig::new().unwrap();
            (config.quality, config.alpha_compression, config.method) = (90.0, 1, 2);
            let argb = enc.encode_advanced(&config).unwrap();
            assert_eq!(out.len(), argb.len(), "alpha {alpha}");
        }
        let wrong = encode_lossy(&[0; 10], (4, 4), false, 80.0, 2);
        assert!(matches!(wrong, Err(CodecError::Internal(_))));
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
