//! HEIC and still AVIF encoding through libheif's C API (libheif-sys).
//! libheif-rs 0.19 wraps the same calls, but its `set_color_profile_raw`
//! hands libheif the profile type without a terminating NUL, so a kept
//! ICC profile could not be embedded through it; here it is "prof\0".
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_void};
use std::ptr;

use libheif_sys as lh;

use crate::error::CodecError;
use crate::frame::Frame;

/// What to encode with: AV1 (aom) with its speed, or HEVC (x265) with
/// string parameters (name, value).
pub enum Codec<'a> {
    Av1 { speed: i32 },
    Hevc { x265: &'a [(&'a str, &'a str)] },
}

/// Owners of libheif objects, released when dropped.
struct Context(*mut lh::heif_context);
struct Image(*mut lh::heif_image);
struct Encoder(*mut lh::heif_encoder);

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: allocated by heif_context_alloc, freed once.
        unsafe { lh::heif_context_free(self.0) }
    }
}
impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: created by heif_image_create, released once.
        unsafe { lh::heif_image_release(self.0) }
    }
}
impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: obtained from heif_context_get_encoder_for_format, released once.
        unsafe { lh::heif_encoder_release(self.0) }
    }
}

fn check(err: lh::heif_error) -> Result<(), CodecError> {
    if err.code == 0 {
        return Ok(());
    }
    let message = if err.message.is_null() {
        String::new()
    } else {
        // SAFETY: libheif's messages are NUL-terminated static strings.
        unsafe { CStr::from_ptr(err.message) }
            .to_string_lossy()
            .into_owned()
    };
    Err(CodecError::Internal(format!("HEIF: {message}")))
}

/// Encodes `frame` (8-bit RGB or RGBA) at `quality`, embedding `frame.icc`
/// as an ICC ("prof") colour profile when present.
pub fn encode(frame: &Frame, codec: &Codec, quality: u8) -> Result<Vec<u8>, CodecError> {
    // libheif's plugins are registered by heif_init, which this does (and
    // keeps counted while it lives).
    let _lib = libheif_rs::LibHeif::new();
    let (w, h) = (frame.width as i32, frame.height as i32);
    let chroma = if frame.has_alpha() {
        lh::heif_chroma_heif_chroma_interleaved_RGBA
    } else {
        lh::heif_chroma_heif_chroma_interleaved_RGB
    };
    let mut raw = ptr::null_mut();
    // SAFETY: out-pointer to a local; on success libheif hands us ownership.
    check(unsafe {
        lh::heif_image_create(
            w,
            h,
            lh::heif_colorspace_heif_colorspace_RGB,
            chroma,
            &mut raw,
        )
    })?;
    let image = Image(raw);
    let interleaved = lh::heif_channel_heif_channel_interleaved;
    // SAFETY: `image` is a live image of that colour space and chroma.
    check(unsafe { lh::heif_image_add_plane(image.0, interleaved, w, h, 8) })?;
    let mut stride = 0;
    // SAFETY: the plane was just added; libheif returns its base and stride.
    let plane = unsafe { lh::heif_image_get_plane(image.0, interleaved, &mut stride) };
    let row = frame.stride();
    if plane.is_null() || (stride as usize) < row {
        return Err(CodecError::Internal("HEIF: no interleaved plane".into()));
    }
    // SAFETY: the plane holds `h` rows of `stride` bytes and lives as long
    // as `image`; nothing else refers to it while we write.
    let dst = unsafe { std::slice::from_raw_parts_mut(plane, stride as usize * h as usize) };
    for (src, dst) in frame
        .data
        .chunks_exact(row)
        .zip(dst.chunks_mut(stride as usize))
    {
        dst[..row].copy_from_slice(src);
    }
    if let Some(icc) = &frame.icc {
        // SAFETY: libheif copies the profile bytes; the type is NUL-terminated.
        check(unsafe {
            lh::heif_image_set_raw_color_profile(
                image.0,
                c"prof".as_ptr(),
                icc.as_ptr().cast(),
                icc.len(),
            )
        })?;
    }
    // SAFETY: a fresh context, owned by `context`.
    let context = Context(unsafe { lh::heif_context_alloc() });
    if context.0.is_null() {
        return Err(CodecError::Internal("HEIF: no context".into()));
    }
    let format = match codec {
        Codec::Av1 { .. } => lh::heif_compression_format_heif_compression_AV1,
        Codec::Hevc { .. } => lh::heif_compression_format_heif_compression_HEVC,
    };
    let mut raw = ptr::null_mut();
    // SAFETY: out-pointer to a local; on success we own the encoder.
    let found =
        check(unsafe { lh::heif_context_get_encoder_for_format(context.0, format, &mut raw) });
    if found.is_err() || raw.is_null() {
        return Err(CodecError::UnsupportedOutput {
            format: match codec {
                Codec::Av1 { .. } => "avif",
                Codec::Hevc { .. } => "heic",
            },
        });
    }
    let encoder = Encoder(raw);
    // SAFETY: `encoder` is live.
    check(unsafe {
        lh::heif_encoder_set_lossy_quality(encoder.0, i32::from(quality.clamp(1, 100)))
    })?;
    match codec {
        Codec::Av1 { speed } => {
            // An aom without the parameter keeps its default speed.
            // SAFETY: `encoder` is live; the name is NUL-terminated.
            let _ = unsafe {
                lh::heif_encoder_set_parameter_integer(encoder.0, c"speed".as_ptr(), *speed)
            };
        }
        Codec::Hevc { x265 } => {
            for &(name, value) in *x265 {
                let (name, value) = (cstring(name)?, cstring(value)?);
                // SAFETY: `encoder` is live; both strings outlive the call.
                check(unsafe {
                    lh::heif_encoder_set_parameter_string(encoder.0, name.as_ptr(), value.as_ptr())
                })?;
            }
        }
    }
    // SAFETY: all three are live; default options; no handle wanted.
    check(unsafe {
        lh::heif_context_encode_image(context.0, image.0, encoder.0, ptr::null(), ptr::null_mut())
    })?;
    let mut out: Vec<u8> = Vec::new();
    let mut writer = lh::heif_writer {
        writer_api_version: 1,
        write: Some(append),
    };
    // SAFETY: `append` receives `&mut out` back as userdata, only during
    // this call.
    check(unsafe {
        lh::heif_context_write(context.0, &mut writer, (&mut out as *mut Vec<u8>).cast())
    })?;
    Ok(out)
}

fn cstring(s: &str) -> Result<CString, CodecError> {
    CString::new(s).map_err(|_| CodecError::Internal("HEIF: NUL in a parameter".into()))
}

/// libheif's writer callback: appends to the `Vec<u8>` behind `userdata`.
unsafe extern "C" fn append(
    _ctx: *mut lh::heif_context,
    data: *const c_void,
    size: usize,
    userdata: *mut c_void,
) -> lh::heif_error {
    // SAFETY: `userdata` is the `&mut Vec<u8>` given to heif_context_write,
    // and `data` points at `size` readable bytes for the call.
    unsafe {
        let out = &mut *userdata.cast::<Vec<u8>>();
        out.extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), size));
    }
    lh::heif_error {
        code: 0,
        subcode: 0,
        message: c"".as_ptr(),
    }
}
