//! Still WebP through libwebp's advanced decoding API, which can scale while
//! it decodes: rows are rescaled in YUV before colour conversion, so a
//! downscaling plan neither converts nor stores the full-size image (the
//! high-level `webp` crate exposes no scaling). A lossy picture can also
//! stay in its own YUV 4:2:0 planes from decoder to encoder. The FFI lives
//! here alone.
#![allow(unsafe_code)]

use libwebp_sys as sys;

use crate::error::CodecError;
use crate::frame::{Frame, Yuv420};
use crate::probe::Probe;

fn corrupt() -> CodecError {
    CodecError::Corrupt("the WebP data could not be decoded".into())
}

/// A decoder configuration holding the bitstream's features, which must
/// be what the probe (and so the limits) saw: libwebp allocates what the
/// bitstream says.
fn decoder_for(bytes: &[u8], probe: &Probe) -> Result<sys::WebPDecoderConfig, CodecError> {
    let mut config = sys::WebPDecoderConfig::new()
        .map_err(|()| CodecError::Internal("WebP: decoder version mismatch".into()))?;
    // SAFETY: `bytes` is a live slice of the given length; `config.input` is
    // a valid, initialised features struct libwebp writes into.
    let status = unsafe { sys::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut config.input) };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(corrupt());
    }
    if (config.input.width, config.input.height) != (probe.width as i32, probe.height as i32) {
        return Err(CodecError::Corrupt(
            "inconsistent WebP frame headers".into(),
        ));
    }
    // The worker pool already owns the cores.
    config.options.use_threads = 0;
    Ok(config)
}

/// Runs a decode into the external buffers `config.output` describes.
///
/// # Safety
/// `config.output` must be external memory whose buffers are live and at
/// least the sizes it states (libwebp checks size ≥ stride × rows before
/// writing, so a stated size must not exceed its buffer).
unsafe fn run_decoder(bytes: &[u8], config: &mut sys::WebPDecoderConfig) -> Result<(), CodecError> {
    config.output.is_external_memory = 1;
    // SAFETY: the caller's contract; with external memory WebPFreeDecBuffer
    // frees nothing of ours, but it is called anyway so no libwebp-owned
    // state leaks.
    let status = unsafe {
        let status = sys::WebPDecode(bytes.as_ptr(), bytes.len(), config);
        sys::WebPFreeDecBuffer(&mut config.output);
        status
    };
    if status != sys::VP8StatusCode::VP8_STATUS_OK {
        return Err(corrupt());
    }
    Ok(())
}

/// Decodes the first (only) frame of a still WebP at its size divided by
/// `shrink` (rounded up, as JPEG's shrink-on-load), straight into one buffer.
pub(crate) fn decode(bytes: &[u8], probe: &Probe, shrink: u32) -> Result<Frame, CodecError> {
    let mut config = decoder_for(bytes, probe)?;
    let (w, h) = (config.input.width, config.input.height);
    let shrink = shrink.clamp(1, 8) as i32;
    let (sw, sh) = ((w + shrink - 1) / shrink, (h + shrink - 1) / shrink);
    let alpha = config.input.has_alpha != 0;
    let channels: u8 = if alpha { 4 } else { 3 };
    let stride = sw as usize * usize::from(channels);
    let mut pixels = vec![0u8; stride * sh as usize];

    if shrink > 1 {
        let options = &mut config.options;
        options.use_scaling = 1;
        options.scaled_width = sw;
        options.scaled_height = sh;
    }
    let output = &mut config.output;
    output.colorspace = if alpha {
        sys::WEBP_CSP_MODE::MODE_RGBA
    } else {
        sys::WEBP_CSP_MODE::MODE_RGB
    };
    output.width = sw;
    output.height = sh;
    output.u.RGBA = sys::WebPRGBABuffer {
        rgba: pixels.as_mut_ptr(),
        stride: stride as i32,
        size: pixels.len(),
    };
    // SAFETY: `pixels` outlives the call and is `stride × sh` bytes, exactly
    // what the RGB(A) buffer at the scaled size needs.
    unsafe { run_decoder(bytes, &mut config)? };
    let mut frame = Frame::new(sw as u32, sh as u32, channels, pixels).drop_opaque_alpha();
    frame.icc = crate::container::webp_icc(bytes);
    Ok(frame)
}

/// The YUV 4:2:0 planes of a still WebP that is lossy, opaque and has no
/// ICC profile, at full size; `None` for any other WebP (lossless,
/// transparent or tagged pictures go through RGB, where alpha and colour
/// management live).
pub(crate) fn decode_planes(bytes: &[u8], probe: &Probe) -> Result<Option<Yuv420>, CodecError> {
    const LOSSY: i32 = 1;
    let mut config = decoder_for(bytes, probe)?;
    let input = &config.input;
    if input.format != LOSSY
        || input.has_alpha != 0
        || input.has_animation != 0
        || crate::container::webp_icc(bytes).is_some()
    {
        return Ok(None);
    }
    let (w, h) = (probe.width, probe.height);
    let mut planes = Yuv420::new(w, h);
    let (cw, _) = Yuv420::chroma_size(w, h);
    let output = &mut config.output;
    output.colorspace = sys::WEBP_CSP_MODE::MODE_YUV;
    output.width = w as i32;
    output.height = h as i32;
    output.u.YUVA = sys::WebPYUVABuffer {
        y: planes.y.as_mut_ptr(),
        u: planes.u.as_mut_ptr(),
        v: planes.v.as_mut_ptr(),
        a: std::ptr::null_mut(),
        y_stride: w as i32,
        u_stride: cw as i32,
        v_stride: cw as i32,
        a_stride: 0,
        y_size: planes.y.len(),
        u_size: planes.u.len(),
        v_size: planes.v.len(),
        a_size: 0,
    };
    // SAFETY: each plane outlives the call and holds its stated size:
    // `Yuv420::new` sized Y at w×h and U, V at the rounded-up half size,
    // with the strides given here.
    unsafe { run_decoder(bytes, &mut config)? };
    Ok(Some(planes))
}

fn encode_failed(what: &str) -> CodecError {
    CodecError::Internal(format!("WebP: {what}"))
}

/// A lossy encoder configuration and an empty picture of the given size.
fn encoder(
    (width, height): (u32, u32),
    quality: f32,
    method: i32,
) -> Result<(sys::WebPConfig, sys::WebPPicture), CodecError> {
    let mut config =
        sys::WebPConfig::new().map_err(|()| encode_failed("no encoder configuration"))?;
    config.quality = quality;
    config.alpha_compression = 1;
    config.method = method;
    let mut picture = sys::WebPPicture::new().map_err(|()| encode_failed("no picture"))?;
    picture.use_argb = 0;
    picture.width = i32::try_from(width).map_err(|_| encode_failed("too wide"))?;
    picture.height = i32::try_from(height).map_err(|_| encode_failed("too tall"))?;
    Ok((config, picture))
}

/// Encodes a filled picture into memory and frees it.
///
/// # Safety
/// `picture` was made by [`encoder`] and its samples (imported, or planes
/// it points at) are live for the call.
unsafe fn run_encoder(
    config: &sys::WebPConfig,
    mut picture: sys::WebPPicture,
) -> Result<Vec<u8>, CodecError> {
    let mut writer = std::mem::MaybeUninit::<sys::WebPMemoryWriter>::uninit();
    // SAFETY: the writer is initialised before use and outlives
    // `WebPEncode`, which reaches it through `custom_ptr`; the picture and
    // the writer are each freed once (WebPPictureFree frees only what
    // libwebp allocated), and `mem[..size]` is copied out before the
    // writer is.
    unsafe {
        sys::WebPMemoryWriterInit(writer.as_mut_ptr());
        let mut writer = writer.assume_init();
        picture.writer = Some(sys::WebPMemoryWrite);
        picture.custom_ptr = (&raw mut writer).cast();
        let ok = sys::WebPEncode(config, &mut picture);
        let error = picture.error_code;
        sys::WebPPictureFree(&mut picture);
        let out = if ok != 0 && !writer.mem.is_null() {
            Ok(std::slice::from_raw_parts(writer.mem, writer.size).to_vec())
        } else {
            Err(encode_failed(&format!("encoding failed ({error:?})")))
        };
        sys::WebPMemoryWriterClear(&mut writer);
        out
    }
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
    let channels = if alpha { 4 } else { 3 };
    let stride = width as usize * channels;
    if px.len() != stride * height as usize {
        return Err(encode_failed("pixel buffer of the wrong size"));
    }
    let (config, mut picture) = encoder((width, height), quality, method)?;
    let stride = i32::try_from(stride).map_err(|_| encode_failed("too wide"))?;
    // SAFETY: `px` holds `height` rows of `stride` bytes (checked above);
    // the import copies them into memory the picture owns.
    unsafe {
        let imported = if alpha {
            sys::WebPPictureImportRGBA(&mut picture, px.as_ptr(), stride)
        } else {
            sys::WebPPictureImportRGB(&mut picture, px.as_ptr(), stride)
        };
        if imported == 0 {
            sys::WebPPictureFree(&mut picture);
            return Err(encode_failed("out of memory importing the picture"));
        }
        run_encoder(&config, picture)
    }
}

/// Encodes YUV 4:2:0 planes as lossy WebP at `quality` and `method`, with
/// no conversion: the picture points at the planes.
pub(crate) fn encode_planes(
    planes: &mut Yuv420,
    quality: f32,
    method: i32,
) -> Result<Vec<u8>, CodecError> {
    let (w, h) = (planes.width, planes.height);
    let (cw, ch) = Yuv420::chroma_size(w, h);
    if planes.y.len() != w as usize * h as usize
        || planes.u.len() != cw as usize * ch as usize
        || planes.v.len() != planes.u.len()
    {
        return Err(encode_failed("planes of the wrong size"));
    }
    let (config, mut picture) = encoder((w, h), quality, method)?;
    picture.colorspace = sys::WebPEncCSP::WEBP_YUV420;
    picture.y = planes.y.as_mut_ptr();
    picture.u = planes.u.as_mut_ptr();
    picture.v = planes.v.as_mut_ptr();
    picture.y_stride = w as i32;
    picture.uv_stride = cw as i32;
    // SAFETY: the planes are borrowed mutably for the call and hold the
    // sizes checked above for these strides; no alpha plane is given.
    unsafe { run_encoder(&config, picture) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::probe;

    fn corpus(name: &str) -> Option<Vec<u8>> {
        std::fs::read(crate::test_corpus().join(name)).ok()
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

    /// RGB from planes as VP8 defines it (BT.601, limited range), chroma
    /// taken from the nearest sample.
    fn planes_to_rgb(p: &Yuv420) -> Vec<u8> {
        let (cw, _) = Yuv420::chroma_size(p.width, p.height);
        let mut out = Vec::with_capacity(p.y.len() * 3);
        for y in 0..p.height as usize {
            for x in 0..p.width as usize {
                let l = 1.164 * (f64::from(p.y[y * p.width as usize + x]) - 16.0);
                let c = (y / 2) * cw as usize + x / 2;
                let (u, v) = (f64::from(p.u[c]) - 128.0, f64::from(p.v[c]) - 128.0);
                for s in [l + 1.596 * v, l - 0.391 * u - 0.813 * v, l + 2.018 * u] {
                    out.push(s.round().clamp(0.0, 255.0) as u8);
                }
            }
        }
        out
    }

    fn mean_abs(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.len() as f64
    }

    #[test]
    fn a_lossy_photo_s_planes_are_its_rgb_decode_before_conversion() {
        let bytes = corpus("formats/4.webp").expect("corpus formats/4.webp: set PIXGATE_CORPUS");
        let p = probe(&bytes).unwrap();
        let planes = decode_planes(&bytes, &p)
            .unwrap()
            .expect("a lossy, opaque WebP");
        assert_eq!((planes.width, planes.height), (1024, 772));
        assert_eq!(
            (planes.y.len(), planes.u.len(), planes.v.len()),
            (1024 * 772, 512 * 386, 512 * 386)
        );
        let rgb = decode(&bytes, &p, 1).unwrap();
        // The RGB decode upsamples chroma smoothly; nearest sampling differs
        // a little at edges only.
        let err = mean_abs(&planes_to_rgb(&planes), &rgb.data);
        assert!(err < 2.5, "mean error {err:.2}");
    }

    #[test]
    fn only_lossy_opaque_untagged_webps_have_planes() {
        let (lossless, _) = sample(64, 48, false);
        let p = probe(&lossless).unwrap();
        assert_eq!(decode_planes(&lossless, &p).unwrap(), None);
        let transparent = corpus("formats/5_webp_a.webp").expect("corpus formats/5_webp_a.webp");
        let p = probe(&transparent).unwrap();
        assert_eq!(decode_planes(&transparent, &p).unwrap(), None);
        let (_, px) = sample(64, 48, false);
        let lossy = encode_lossy(&px, (64, 48), false, 80.0, 2).unwrap();
        let p = probe(&lossy).unwrap();
        assert!(decode_planes(&lossy, &p).unwrap().is_some());
        // Presence decides (the profile goes through colour management).
        let tagged =
            crate::container::webp_with_icc(lossy.clone(), b"any profile", (64, 48), false);
        let p = probe(&tagged).unwrap();
        assert_eq!(decode_planes(&tagged, &p).unwrap(), None);
        let cut = &lossy[..lossy.len() / 2];
        let p = probe(&lossy).unwrap();
        assert!(matches!(
            decode_planes(cut, &p),
            Err(CodecError::Corrupt(_))
        ));
    }

    #[test]
    fn planes_round_trip_through_the_encoder() {
        let bytes = corpus("formats/hopper.webp").expect("corpus formats/hopper.webp");
        let p = probe(&bytes).unwrap();
        let mut planes = decode_planes(&bytes, &p)
            .unwrap()
            .expect("a lossy, opaque WebP");
        let before = decode(&bytes, &p, 1).unwrap();
        let out = encode_planes(&mut planes, 90.0, 2).unwrap();
        let q = probe(&out).unwrap();
        assert_eq!(
            (q.format, q.width, q.height),
            (crate::Format::Webp, 128, 128)
        );
        let after = decode(&out, &q, 1).unwrap();
        let err = mean_abs(&after.data, &before.data);
        assert!(err < 3.0, "mean error {err:.2}");
        planes.u.pop();
        assert!(matches!(
            encode_planes(&mut planes, 90.0, 2),
            Err(CodecError::Internal(_))
        ));
    }
}
