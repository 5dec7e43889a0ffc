//! JPEGs deeper than 8 bits — 12-bit (extended, as medical and some camera
//! pipelines write) and lossless (SOF3, 2–16 bits) — through the TurboJPEG 3
//! API of the libjpeg-turbo 3.1 the turbojpeg crate builds (its sys crate
//! exposes tj3Decompress12/16; the safe crate only the 8-bit calls). The
//! samples are scaled to 8 bits; no shrink-on-load (libjpeg-turbo scales
//! only 8-bit lossy images).
#![allow(unsafe_code)]

use std::ffi::{CStr, c_int};

use turbojpeg_sys as tj;

use crate::error::CodecError;
use crate::frame::Frame;

/// A TurboJPEG decompressor, destroyed on drop.
struct Handle(tj::tjhandle);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a handle from tj3Init, destroyed once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

impl Handle {
    fn get(&self, param: tj::TJPARAM) -> c_int {
        // SAFETY: a live handle; tj3Get only reads a parameter.
        unsafe { tj::tj3Get(self.0, param as c_int) }
    }

    fn error(&self) -> CodecError {
        // SAFETY: tj3GetErrorStr returns a NUL-terminated string owned by
        // the handle (or a static one), copied out at once.
        let text = unsafe { CStr::from_ptr(tj::tj3GetErrorStr(self.0)) }
            .to_string_lossy()
            .into_owned();
        CodecError::Corrupt(format!("the JPEG data is damaged ({text})"))
    }
}

/// Decodes a JPEG of 2–16 bits per sample to 8-bit RGB, after checking its
/// size is `expected` (what the limits were checked on).
pub fn decode(bytes: &[u8], expected: (u32, u32)) -> Result<Frame, CodecError> {
    // SAFETY: tj3Init has no preconditions; a null result is checked.
    let raw = unsafe { tj::tj3Init(tj::TJINIT_TJINIT_DECOMPRESS as c_int) };
    if raw.is_null() {
        return Err(CodecError::Internal("TurboJPEG could not start".into()));
    }
    let h = Handle(raw);
    // SAFETY: `bytes` is a valid slice for its whole length.
    if unsafe { tj::tj3DecompressHeader(h.0, bytes.as_ptr(), bytes.len() as tj::size_t) } != 0 {
        return Err(h.error());
    }
    let width = u32::try_from(h.get(tj::TJPARAM_TJPARAM_JPEGWIDTH)).unwrap_or(0);
    let height = u32::try_from(h.get(tj::TJPARAM_TJPARAM_JPEGHEIGHT)).unwrap_or(0);
    if (width, height) != expected {
        return Err(CodecError::Corrupt("inconsistent frame headers".into()));
    }
    let precision = h.get(tj::TJPARAM_TJPARAM_PRECISION);
    let cmyk = matches!(
        h.get(tj::TJPARAM_TJPARAM_COLORSPACE) as tj::TJCS,
        tj::TJCS_TJCS_CMYK | tj::TJCS_TJCS_YCCK
    );
    let (format, channels) = if cmyk {
        (tj::TJPF_TJPF_CMYK, 4usize)
    } else {
        (tj::TJPF_TJPF_RGB, 3usize)
    };
    let samples = width as usize * height as usize * channels;
    let pitch = c_int::try_from(width as usize * channels)
        .map_err(|_| CodecError::TooLarge("The JPEG is too wide to decode.".into()))?;
    let pixels: Vec<u8> = match precision {
        9..=12 => {
            let mut buf = alloc::<i16>(samples)?;
            // SAFETY: `buf` holds width × height × channels samples with
            // rows of `pitch` samples, what tj3Decompress12 writes for this
            // pixel format; the header was read from the same bytes.
            let rc = unsafe {
                tj::tj3Decompress12(
                    h.0,
                    bytes.as_ptr(),
                    bytes.len() as tj::size_t,
                    buf.as_mut_ptr(),
                    pitch,
                    format,
                )
            };
            if rc != 0 {
                return Err(h.error());
            }
            buf.iter()
                .map(|&v| to8(u32::from(v.clamp(0, 4095) as u16), 12))
                .collect()
        }
        13..=16 => {
            let mut buf = alloc::<u16>(samples)?;
            // SAFETY: as above, with tj3Decompress16's sample type.
            let rc = unsafe {
                tj::tj3Decompress16(
                    h.0,
                    bytes.as_ptr(),
                    bytes.len() as tj::size_t,
                    buf.as_mut_ptr(),
                    pitch,
                    format,
                )
            };
            if rc != 0 {
                return Err(h.error());
            }
            let bits = precision as u32;
            buf.iter().map(|&v| to8(u32::from(v), bits)).collect()
        }
        2..=8 => {
            let mut buf = alloc::<u8>(samples)?;
            // SAFETY: as above, with 8-bit samples (lossless 2–8 bits).
            let rc = unsafe {
                tj::tj3Decompress8(
                    h.0,
                    bytes.as_ptr(),
                    bytes.len() as tj::size_t,
                    buf.as_mut_ptr(),
                    pitch,
                    format,
                )
            };
            if rc != 0 {
                return Err(h.error());
            }
            let bits = precision as u32;
            buf.iter().map(|&v| to8(u32::from(v), bits)).collect()
        }
        p => {
            return Err(CodecError::Unsupported(format!("JPEG: {p}-bit samples")));
        }
    };
    drop(h);
    if cmyk {
        // libjpeg returns CMYK as stored; Adobe files (the usual writers)
        // store it inverted, which the naive formula below undoes.
        let mut rgb = Vec::with_capacity(pixels.len() / 4 * 3);
        for px in pixels.chunks_exact(4) {
            let k = u32::from(px[3]);
            for &c in &px[..3] {
                rgb.push((u32::from(c) * k / 255) as u8);
            }
        }
        return Ok(Frame::new(width, height, 3, rgb));
    }
    Ok(Frame::new(width, height, 3, pixels))
}

fn alloc<T: Default + Clone>(n: usize) -> Result<Vec<T>, CodecError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| CodecError::TooLarge("The decoded JPEG does not fit in memory.".into()))?;
    v.resize(n, T::default());
    Ok(v)
}

/// A `bits`-bit sample scaled to 0–255, rounded.
fn to8(v: u32, bits: u32) -> u8 {
    let max = (1u32 << bits) - 1;
    ((v.min(max) * 255 + max / 2) / max) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 12-bit (or, `lossless`, 16-bit lossless) JPEG of `rgb` samples
    /// (0–255, scaled up), through tj3Compress12/16.
    fn encode(rgb: &[u8], w: usize, h: usize, lossless: bool) -> Vec<u8> {
        // SAFETY: test helper; buffers are sized as TurboJPEG documents and
        // the output is freed with tj3Free.
        unsafe {
            let c = tj::tj3Init(tj::TJINIT_TJINIT_COMPRESS as c_int);
            assert!(!c.is_null());
            let mut out: *mut u8 = std::ptr::null_mut();
            let mut size: tj::size_t = 0;
            let rc = if lossless {
                tj::tj3Set(c, tj::TJPARAM_TJPARAM_PRECISION as c_int, 16);
                tj::tj3Set(c, tj::TJPARAM_TJPARAM_LOSSLESS as c_int, 1);
                let buf: Vec<u16> = rgb.iter().map(|&v| u16::from(v) * 257).collect();
                tj::tj3Compress16(
                    c,
                    buf.as_ptr(),
                    w as c_int,
                    0,
                    h as c_int,
                    tj::TJPF_TJPF_RGB,
                    &mut out,
                    &mut size,
                )
            } else {
                tj::tj3Set(c, tj::TJPARAM_TJPARAM_PRECISION as c_int, 12);
                tj::tj3Set(c, tj::TJPARAM_TJPARAM_QUALITY as c_int, 95);
                tj::tj3Set(
                    c,
                    tj::TJPARAM_TJPARAM_SUBSAMP as c_int,
                    tj::TJSAMP_TJSAMP_444,
                );
                let buf: Vec<i16> = rgb.iter().map(|&v| i16::from(v) * 16).collect();
                tj::tj3Compress12(
                    c,
                    buf.as_ptr(),
                    w as c_int,
                    0,
                    h as c_int,
                    tj::TJPF_TJPF_RGB,
                    &mut out,
                    &mut size,
                )
            };
            assert_eq!(rc, 0);
            let v = std::slice::from_raw_parts(out, size as usize).to_vec();
            tj::tj3Free(out.cast());
            tj::tj3Destroy(c);
            v
        }
    }

    fn gradient(w: usize, h: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for y in 0..h {
            for x in 0..w {
                v.extend_from_slice(&[(x * 255 / w) as u8, (y * 255 / h) as u8, 128]);
            }
        }
        v
    }

    #[test]
    fn twelve_bit_and_sixteen_bit_lossless_decode_to_eight_bits() {
        let src = gradient(48, 32);
        let j12 = encode(&src, 48, 32, false);
        // SOF1 with precision 12.
        assert!(j12.windows(3).any(|w| w == [0xFF, 0xC1, 0x00]));
        let f = decode(&j12, (48, 32)).unwrap();
        assert_eq!((f.width, f.height, f.channels), (48, 32, 3));
        let diff: u64 = f
            .data
            .iter()
            .zip(&src)
            .map(|(&a, &b)| u64::from(a.abs_diff(b)))
            .sum();
        assert!(diff as f64 / (src.len() as f64) < 2.0, "{diff}");

        let j16 = encode(&src, 48, 32, true);
        let f = decode(&j16, (48, 32)).unwrap();
        assert_eq!(f.data, src, "lossless is exact");

        assert!(matches!(
            decode(&j12, (48, 33)),
            Err(CodecError::Corrupt(_))
        ));
        assert!(matches!(
            decode(&j12[..j12.len() / 2], (48, 32)),
            Err(CodecError::Corrupt(_))
        ));
    }

    #[test]
    fn samples_scale_to_eight_bits() {
        assert_eq!(to8(4095, 12), 255);
        assert_eq!(to8(0, 12), 0);
        assert_eq!(to8(2048, 12), 128);
        assert_eq!(to8(65535, 16), 255);
        assert_eq!(to8(255, 8), 255);
    }
}
