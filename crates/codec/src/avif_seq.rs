//! Animated AVIF (AVIF image sequences) through Debian's libavif, behind
//! the flat C shim in `csrc/avif_seq.c`. libheif 1.15 reads only still
//! items, so sequences are read and written here; still AVIF stays with
//! libheif (heif.rs).
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use crate::animation::Animation;
use crate::error::CodecError;
use crate::frame::Frame;

unsafe extern "C" {
    fn pxg_avifseq_probe(
        data: *const u8,
        len: usize,
        width: *mut u32,
        height: *mut u32,
        frames: *mut u32,
        alpha: *mut c_int,
    ) -> c_int;
    fn pxg_avifseq_decode(
        data: *const u8,
        len: usize,
        width: u32,
        height: u32,
        max_frames: u32,
        outs: *const *mut u8,
        delays_ms: *mut u32,
        decoded: *mut u32,
    ) -> c_int;
    fn pxg_avifseq_encode(
        rgba: *const *const u8,
        width: u32,
        height: u32,
        frames: u32,
        delays_ms: *const u32,
        quantizer: c_int,
        speed: c_int,
        out: *mut *mut u8,
        out_len: *mut usize,
    ) -> c_int;
    fn pxg_avifseq_free(p: *mut u8, len: usize);
    fn pxg_avifseq_error(r: c_int) -> *const c_char;
}

/// Whether an AVIF file is an image sequence: `avis` among its `ftyp`
/// brands (major or compatible). A header read; no allocation.
pub(crate) fn is_sequence(bytes: &[u8]) -> bool {
    let Some(size) = bytes
        .get(0..4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    else {
        return false;
    };
    if bytes.get(4..8) != Some(b"ftyp") {
        return false;
    }
    let end = (size as usize).min(bytes.len());
    // Major brand at 8..12, minor version at 12..16, compatible brands after.
    let major = bytes.get(8..12) == Some(b"avis");
    major
        || bytes
            .get(16..end)
            .is_some_and(|b| b.chunks_exact(4).any(|c| c == b"avis"))
}

/// Canvas size and frame count of a sequence, from its container only.
pub(crate) fn probe(bytes: &[u8]) -> Result<(u32, u32, u32), CodecError> {
    let (mut w, mut h, mut frames, mut alpha) = (0u32, 0u32, 0u32, 0 as c_int);
    // SAFETY: `bytes` outlives the call; the out-pointers are to locals.
    let r = unsafe {
        pxg_avifseq_probe(
            bytes.as_ptr(),
            bytes.len(),
            &mut w,
            &mut h,
            &mut frames,
            &mut alpha,
        )
    };
    check(r)?;
    if frames == 0 {
        return Err(CodecError::Corrupt(
            "the AVIF sequence has no frames".into(),
        ));
    }
    Ok((w, h, frames))
}

/// Decodes up to `max_frames` frames of a sequence as RGBA. The caller has
/// checked the probed size and frame count against its limits and reserved
/// `width × height × 4 × frames`; frames of another size are refused.
pub(crate) fn decode(
    bytes: &[u8],
    (width, height): (u32, u32),
    max_frames: u32,
) -> Result<Animation, CodecError> {
    let frame_bytes = width as usize * height as usize * 4;
    let n = max_frames.max(1);
    // One buffer per frame, written in place: no second copy of the frames.
    let mut buffers: Vec<Vec<u8>> = (0..n).map(|_| vec![0u8; frame_bytes]).collect();
    let outs: Vec<*mut u8> = buffers.iter_mut().map(|b| b.as_mut_ptr()).collect();
    let mut delays = vec![0u32; n as usize];
    let mut decoded = 0u32;
    // SAFETY: `outs` holds `n` pointers to buffers of `frame_bytes` each,
    // alive until after the call, `delays` has `n` entries; the shim writes
    // no further (it refuses frames of another size) and keeps no pointer.
    let r = unsafe {
        pxg_avifseq_decode(
            bytes.as_ptr(),
            bytes.len(),
            width,
            height,
            n,
            outs.as_ptr(),
            delays.as_mut_ptr(),
            &mut decoded,
        )
    };
    check(r)?;
    if decoded == 0 {
        return Err(CodecError::Corrupt(
            "the AVIF sequence has no frames".into(),
        ));
    }
    buffers.truncate(decoded as usize);
    delays.truncate(decoded as usize);
    let frames = buffers
        .into_iter()
        .map(|px| Frame::new(width, height, 4, px))
        .collect();
    Ok(Animation {
        frames,
        delays_ms: delays,
    })
}

/// Encodes an animation as an AVIF sequence (aom) at `quality` 1–100.
pub(crate) fn encode(anim: Animation, quality: u8) -> Result<Vec<u8>, CodecError> {
    let first = anim
        .frames
        .first()
        .ok_or_else(|| CodecError::Internal("no frames".into()))?;
    let (w, h) = (first.width, first.height);
    if anim.frames.len() != anim.delays_ms.len()
        || anim.frames.iter().any(|f| (f.width, f.height) != (w, h))
    {
        return Err(CodecError::Internal(
            "animation frames differ in size or count".into(),
        ));
    }
    // One pointer per frame: the frames are read in place, not packed into
    // a second copy.
    let frames: Vec<Frame> = anim.frames.into_iter().map(Frame::into_rgba).collect();
    let rgba: Vec<*const u8> = frames.iter().map(|f| f.data.as_ptr()).collect();
    // libheif's aom plugin maps quality to the quantizer the same way, so a
    // sequence and a still at one quality look alike.
    let q = u32::from(quality.clamp(1, 100));
    let quantizer = ((100 - q) * 63 + 50) / 100;
    let mut out: *mut u8 = std::ptr::null_mut();
    let mut out_len = 0usize;
    // SAFETY: `rgba` holds one pointer per frame, each to w × h × 4 bytes
    // of `frames` (alive past the call), and `delays_ms` as many entries
    // (checked above); the shim allocates `out`, which is copied and freed
    // below exactly once.
    let r = unsafe {
        pxg_avifseq_encode(
            rgba.as_ptr(),
            w,
            h,
            rgba.len() as u32,
            anim.delays_ms.as_ptr(),
            quantizer as c_int,
            // aom's default speed takes seconds per megapixel per frame.
            8,
            &mut out,
            &mut out_len,
        )
    };
    check(r)?;
    if out.is_null() {
        return Err(CodecError::Internal("libavif wrote nothing".into()));
    }
    // SAFETY: on success the shim returned a buffer of `out_len` bytes.
    let bytes = unsafe { std::slice::from_raw_parts(out, out_len) }.to_vec();
    // SAFETY: the buffer came from the shim and is freed once.
    unsafe { pxg_avifseq_free(out, out_len) };
    Ok(bytes)
}

fn check(r: c_int) -> Result<(), CodecError> {
    if r == 0 {
        return Ok(());
    }
    // SAFETY: libavif returns a static string for every result code.
    let text = unsafe { CStr::from_ptr(pxg_avifseq_error(r)) }
        .to_string_lossy()
        .into_owned();
    Err(CodecError::Corrupt(format!(
        "the AVIF sequence is damaged ({text})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anim(n: u32) -> Animation {
        let frames = (0..n)
            .map(|i| {
                let v = (i * 60) as u8;
                Frame::filled(64, 48, &[v, 255 - v, 128, 255])
            })
            .collect();
        Animation {
            frames,
            delays_ms: (0..n).map(|i| 40 + i * 10).collect(),
        }
    }

    #[test]
    fn a_sequence_round_trips_with_its_frames_and_delays() {
        let bytes = encode(anim(4), 90).unwrap();
        assert!(is_sequence(&bytes));
        assert_eq!(probe(&bytes).unwrap(), (64, 48, 4));
        let back = decode(&bytes, (64, 48), 10).unwrap();
        assert_eq!(back.frames.len(), 4);
        assert_eq!(back.delays_ms, vec![40, 50, 60, 70]);
        for (i, f) in back.frames.iter().enumerate() {
            let want = (i * 60) as i32;
            let got = f.pixel(32, 24);
            assert!((i32::from(got[0]) - want).abs() <= 6, "frame {i}: {got:?}");
        }
    }

    #[test]
    fn at_most_the_frames_asked_for_are_decoded() {
        let bytes = encode(anim(3), 80).unwrap();
        assert_eq!(decode(&bytes, (64, 48), 1).unwrap().frames.len(), 1);
    }

    #[test]
    fn a_wrong_canvas_or_garbage_is_refused_cleanly() {
        let bytes = encode(anim(2), 80).unwrap();
        assert!(decode(&bytes, (32, 48), 2).is_err());
        assert!(
            probe(&bytes[..bytes.len() / 2]).is_err()
                || decode(&bytes[..bytes.len() / 2], (64, 48), 2).is_err()
        );
        assert!(probe(b"\0\0\0\x18ftypavis\0\0\0\0avisjunk").is_err());
    }
}
