//! TIFF through Debian's libtiff (4.5, linked dynamically; build.rs finds it
//! with pkg-config): every compression and layout libtiff reads — JPEG
//! (YCbCr), LZW, Deflate, PackBits, CCITT G3/G4, BigTIFF, tiles, planar
//! separate, 16-bit, CMYK, palettes — through its RGBA reader, so one path
//! covers them all. Only the first page of a multi-page file is decoded.
//!
//! The file is read from memory (TIFFClientOpenExt with read/seek/size
//! procedures over the source bytes, memory mapping off), libtiff's messages
//! are collected per open file instead of printed, and libtiff's own
//! allocations are capped by the request's byte limit.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char, c_int, c_void};
use std::marker::PhantomData;
use std::sync::Once;

use crate::error::CodecError;
use crate::frame::Frame;
use crate::limits::Limits;

#[repr(C)]
struct RawTiff {
    _private: [u8; 0],
}
#[repr(C)]
struct OpenOptions {
    _private: [u8; 0],
}

type Handle = *mut c_void;
// A C `va_list` parameter: a pointer on x86-64 and (passed by reference)
// on AArch64 Linux; only ever handed on to vsnprintf.
type VaList = *mut c_void;
type ReadWriteProc = unsafe extern "C" fn(Handle, *mut c_void, isize) -> isize;
type SeekProc = unsafe extern "C" fn(Handle, u64, c_int) -> u64;
type CloseProc = unsafe extern "C" fn(Handle) -> c_int;
type SizeProc = unsafe extern "C" fn(Handle) -> u64;
type MapProc = unsafe extern "C" fn(Handle, *mut *mut c_void, *mut u64) -> c_int;
type UnmapProc = unsafe extern "C" fn(Handle, *mut c_void, u64);
type ErrorHandlerExtR =
    unsafe extern "C" fn(*mut RawTiff, *mut c_void, *const c_char, *const c_char, VaList) -> c_int;
type ErrorHandler = unsafe extern "C" fn(*const c_char, *const c_char, VaList);

#[link(name = "tiff")]
unsafe extern "C" {
    fn TIFFOpenOptionsAlloc() -> *mut OpenOptions;
    fn TIFFOpenOptionsFree(opts: *mut OpenOptions);
    fn TIFFOpenOptionsSetMaxSingleMemAlloc(opts: *mut OpenOptions, max: isize);
    fn TIFFOpenOptionsSetErrorHandlerExtR(
        opts: *mut OpenOptions,
        handler: Option<ErrorHandlerExtR>,
        user_data: *mut c_void,
    );
    fn TIFFOpenOptionsSetWarningHandlerExtR(
        opts: *mut OpenOptions,
        handler: Option<ErrorHandlerExtR>,
        user_data: *mut c_void,
    );
    #[allow(clippy::too_many_arguments)]
    fn TIFFClientOpenExt(
        name: *const c_char,
        mode: *const c_char,
        handle: Handle,
        read: ReadWriteProc,
        write: ReadWriteProc,
        seek: SeekProc,
        close: CloseProc,
        size: SizeProc,
        map: MapProc,
        unmap: UnmapProc,
        opts: *mut OpenOptions,
    ) -> *mut RawTiff;
    fn TIFFClose(tif: *mut RawTiff);
    fn TIFFGetField(tif: *mut RawTiff, tag: u32, ...) -> c_int;
    fn TIFFGetFieldDefaulted(tif: *mut RawTiff, tag: u32, ...) -> c_int;
    fn TIFFNumberOfDirectories(tif: *mut RawTiff) -> u32;
    fn TIFFRGBAImageOK(tif: *mut RawTiff, message: *mut c_char) -> c_int;
    fn TIFFReadRGBAImageOriented(
        tif: *mut RawTiff,
        width: u32,
        height: u32,
        raster: *mut u32,
        orientation: c_int,
        stop_on_error: c_int,
    ) -> c_int;
    fn TIFFSetErrorHandler(handler: Option<ErrorHandler>) -> Option<ErrorHandler>;
    fn TIFFSetWarningHandler(handler: Option<ErrorHandler>) -> Option<ErrorHandler>;
}

unsafe extern "C" {
    fn vsnprintf(buf: *mut c_char, size: usize, fmt: *const c_char, args: VaList) -> c_int;
}

const TAG_IMAGE_WIDTH: u32 = 256;
const TAG_IMAGE_LENGTH: u32 = 257;
const TAG_ORIENTATION: u32 = 274;
const TAG_ICC_PROFILE: u32 = 34675;

/// Header facts of the first page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    /// The Orientation tag, 1–8 (1 when absent or out of range).
    pub orientation: u8,
    /// Pages (image file directories) in the file.
    pub pages: u32,
}

/// The source bytes and a read position: the client data of an open file.
struct Source<'a> {
    bytes: &'a [u8],
    pos: u64,
}

/// libtiff's first error message for one open file (warnings are dropped).
#[derive(Default)]
struct Messages {
    error: Option<String>,
}

/// An open TIFF over borrowed bytes.
struct Tiff<'a> {
    tif: *mut RawTiff,
    // Referenced by libtiff through raw pointers until TIFFClose; boxed so
    // they do not move.
    _source: Box<Source<'a>>,
    messages: Box<Messages>,
    _bytes: PhantomData<&'a [u8]>,
}

impl Drop for Tiff<'_> {
    fn drop(&mut self) {
        // SAFETY: `tif` came from a successful TIFFClientOpenExt and is
        // closed exactly once, while the source and messages it points at
        // are still alive (fields drop after this).
        unsafe { TIFFClose(self.tif) }
    }
}

/// Silences libtiff's process-wide handlers (which print to stderr): every
/// message goes to the per-file handlers set in `open`.
fn silence_globals() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: setting the global handlers to none is always valid;
        // done once, before any file is opened here.
        unsafe {
            TIFFSetErrorHandler(None);
            TIFFSetWarningHandler(None);
        }
    });
}

unsafe extern "C" fn read_proc(h: Handle, buf: *mut c_void, size: isize) -> isize {
    // SAFETY: `h` is the `Source` passed to TIFFClientOpenExt, alive and
    // only used by libtiff on this thread while the file is open.
    let src = unsafe { &mut *(h as *mut Source<'_>) };
    let Ok(size) = usize::try_from(size) else {
        return -1;
    };
    let start = usize::try_from(src.pos)
        .unwrap_or(usize::MAX)
        .min(src.bytes.len());
    let n = size.min(src.bytes.len() - start);
    // SAFETY: libtiff hands a buffer of at least `size` writable bytes;
    // `n <= size` bytes are copied from inside the source slice.
    unsafe { std::ptr::copy_nonoverlapping(src.bytes.as_ptr().add(start), buf as *mut u8, n) };
    src.pos = (start + n) as u64;
    n as isize
}

unsafe extern "C" fn write_proc(_: Handle, _: *mut c_void, _: isize) -> isize {
    -1
}

unsafe extern "C" fn seek_proc(h: Handle, offset: u64, whence: c_int) -> u64 {
    // SAFETY: as in `read_proc`.
    let src = unsafe { &mut *(h as *mut Source<'_>) };
    let base: i128 = match whence {
        0 => 0,
        1 => i128::from(src.pos),
        2 => src.bytes.len() as i128,
        _ => return u64::MAX,
    };
    // Offsets relative to the current position or the end may be negative.
    let delta = if whence == 0 {
        i128::from(offset)
    } else {
        i128::from(offset as i64)
    };
    match u64::try_from(base + delta) {
        Ok(pos) => {
            src.pos = pos;
            pos
        }
        Err(_) => u64::MAX,
    }
}

unsafe extern "C" fn close_proc(_: Handle) -> c_int {
    0
}

unsafe extern "C" fn size_proc(h: Handle) -> u64 {
    // SAFETY: as in `read_proc`.
    let src = unsafe { &*(h as *const Source<'_>) };
    src.bytes.len() as u64
}

unsafe extern "C" fn map_proc(_: Handle, _: *mut *mut c_void, _: *mut u64) -> c_int {
    0
}

unsafe extern "C" fn unmap_proc(_: Handle, _: *mut c_void, _: u64) {}

/// Keeps the first error of a file (formatted) and drops warnings; returns
/// 1 so libtiff does not pass the message on to the global handlers.
unsafe extern "C" fn error_handler(
    _: *mut RawTiff,
    user: *mut c_void,
    _module: *const c_char,
    fmt: *const c_char,
    args: VaList,
) -> c_int {
    if user.is_null() || fmt.is_null() {
        return 1;
    }
    // SAFETY: `user` is the `Messages` box of the open file, alive until
    // TIFFClose returns.
    let messages = unsafe { &mut *(user as *mut Messages) };
    if messages.error.is_none() {
        let mut buf = [0 as c_char; 512];
        // SAFETY: `fmt` and `args` are libtiff's printf-style message;
        // vsnprintf writes at most `buf.len()` bytes, NUL-terminated.
        let n = unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), fmt, args) };
        let text = if n >= 0 {
            // SAFETY: vsnprintf NUL-terminated `buf`.
            unsafe { CStr::from_ptr(buf.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        } else {
            // SAFETY: `fmt` is a NUL-terminated C string from libtiff.
            unsafe { CStr::from_ptr(fmt) }
                .to_string_lossy()
                .into_owned()
        };
        messages.error = Some(text);
    }
    1
}

unsafe extern "C" fn warning_handler(
    _: *mut RawTiff,
    _: *mut c_void,
    _: *const c_char,
    _: *const c_char,
    _: VaList,
) -> c_int {
    1
}

impl<'a> Tiff<'a> {
    fn open(bytes: &'a [u8], max_alloc: u64) -> Result<Tiff<'a>, CodecError> {
        silence_globals();
        let mut source = Box::new(Source { bytes, pos: 0 });
        let mut messages = Box::<Messages>::default();
        let messages_ptr: *mut Messages = &mut *messages;
        let source_ptr: *mut Source<'a> = &mut *source;
        // SAFETY: the options are allocated, filled and freed here (libtiff
        // copies them at open); the handle and the handlers' user data point
        // into boxes owned by the returned `Tiff`, which closes the file
        // before they are dropped. "rm": read only, no memory mapping.
        let tif = unsafe {
            let opts = TIFFOpenOptionsAlloc();
            if opts.is_null() {
                return Err(CodecError::Internal("libtiff could not allocate".into()));
            }
            TIFFOpenOptionsSetMaxSingleMemAlloc(
                opts,
                isize::try_from(max_alloc).unwrap_or(isize::MAX),
            );
            TIFFOpenOptionsSetErrorHandlerExtR(opts, Some(error_handler), messages_ptr.cast());
            TIFFOpenOptionsSetWarningHandlerExtR(opts, Some(warning_handler), std::ptr::null_mut());
            let tif = TIFFClientOpenExt(
                // The name libtiff puts before its messages.
                c"TIFF".as_ptr(),
                c"rm".as_ptr(),
                source_ptr.cast(),
                read_proc,
                write_proc,
                seek_proc,
                close_proc,
                size_proc,
                map_proc,
                unmap_proc,
                opts,
            );
            TIFFOpenOptionsFree(opts);
            tif
        };
        if tif.is_null() {
            return Err(CodecError::Corrupt(describe(
                messages.error.take(),
                "libtiff could not read the TIFF header",
            )));
        }
        Ok(Tiff {
            tif,
            _source: source,
            messages,
            _bytes: PhantomData,
        })
    }

    fn u32_field(&self, tag: u32) -> Option<u32> {
        let mut v: u32 = 0;
        // SAFETY: width and length are uint32 tags: libtiff writes one u32.
        (unsafe { TIFFGetField(self.tif, tag, &mut v as *mut u32) } == 1).then_some(v)
    }

    fn header(&self) -> Result<Header, CodecError> {
        let (Some(width), Some(height)) = (
            self.u32_field(TAG_IMAGE_WIDTH),
            self.u32_field(TAG_IMAGE_LENGTH),
        ) else {
            return Err(CodecError::Corrupt(
                "the TIFF has no image width or length".into(),
            ));
        };
        let mut orientation: u16 = 1;
        // SAFETY: Orientation is a uint16 tag; libtiff writes one u16.
        unsafe { TIFFGetFieldDefaulted(self.tif, TAG_ORIENTATION, &mut orientation as *mut u16) };
        // SAFETY: an open file; libtiff walks the directory chain (with its
        // own loop detection) without changing the current directory.
        let pages = unsafe { TIFFNumberOfDirectories(self.tif) }.max(1);
        Ok(Header {
            width,
            height,
            orientation: if (1..=8).contains(&orientation) {
                orientation as u8
            } else {
                1
            },
            pages,
        })
    }

    fn icc(&self) -> Option<Vec<u8>> {
        let mut len: u32 = 0;
        let mut data: *const u8 = std::ptr::null();
        // SAFETY: ICCProfile is read as (uint32 count, void* data); the
        // data stays owned by libtiff while the directory is current, and
        // is copied out at once.
        let found = unsafe {
            TIFFGetField(
                self.tif,
                TAG_ICC_PROFILE,
                &mut len as *mut u32,
                &mut data as *mut *const u8,
            )
        };
        if found != 1 || data.is_null() || len == 0 {
            return None;
        }
        // SAFETY: libtiff says `data` holds `len` bytes.
        Some(unsafe { std::slice::from_raw_parts(data, len as usize) }.to_vec())
    }
}

fn describe(message: Option<String>, fallback: &str) -> String {
    match message {
        Some(m) if !m.trim().is_empty() => format!("{fallback} ({})", m.trim()),
        _ => fallback.to_owned(),
    }
}

/// Size, orientation and page count from the first directory.
pub fn header(bytes: &[u8]) -> Result<Header, CodecError> {
    // Reading a directory allocates little; the default request limit caps it.
    Tiff::open(bytes, Limits::default().max_request_bytes)?.header()
}

/// Decodes the first page to 8-bit RGB(A) in stored orientation (the
/// pipeline applies the Orientation tag, as for JPEG), after checking the
/// header against `expected` (the size the limits were checked on).
pub fn decode(bytes: &[u8], expected: (u32, u32), limits: &Limits) -> Result<Frame, CodecError> {
    let tiff = Tiff::open(bytes, limits.max_request_bytes)?;
    let h = tiff.header()?;
    if (h.width, h.height) != expected {
        return Err(CodecError::Corrupt("inconsistent TIFF headers".into()));
    }
    limits.check_source(h.width, h.height, 1)?;
    let mut why = [0 as c_char; 1024];
    // SAFETY: TIFFRGBAImageOK writes a NUL-terminated message of at most
    // 1024 bytes into `why`.
    if unsafe { TIFFRGBAImageOK(tiff.tif, why.as_mut_ptr()) } != 1 {
        // SAFETY: NUL-terminated above (zero-filled, and libtiff bounds it).
        let text = unsafe { CStr::from_ptr(why.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        return Err(CodecError::Unsupported(format!(
            "TIFF: {}",
            if text.is_empty() {
                "libtiff cannot convert its samples to RGB".to_owned()
            } else {
                text
            }
        )));
    }
    let pixels = h.width as usize * h.height as usize;
    let mut raster: Vec<u32> = Vec::new();
    raster
        .try_reserve_exact(pixels)
        .map_err(|_| CodecError::TooLarge("The decoded TIFF does not fit in memory.".into()))?;
    raster.resize(pixels, 0);
    // Request the file's own orientation: libtiff then flips nothing and the
    // pixels come in stored order.
    // SAFETY: `raster` holds width × height u32s, what libtiff writes.
    let ok = unsafe {
        TIFFReadRGBAImageOriented(
            tiff.tif,
            h.width,
            h.height,
            raster.as_mut_ptr(),
            c_int::from(h.orientation),
            1,
        )
    };
    if ok != 1 {
        let mut tiff = tiff;
        return Err(CodecError::Corrupt(describe(
            tiff.messages.error.take(),
            "libtiff could not decode the TIFF data",
        )));
    }
    let icc = tiff.icc();
    drop(tiff);
    let mut data = Vec::new();
    data.try_reserve_exact(pixels * 4)
        .map_err(|_| CodecError::TooLarge("The decoded TIFF does not fit in memory.".into()))?;
    for p in raster {
        // libtiff packs A<<24 | B<<16 | G<<8 | R, alpha premultiplied.
        let [r, g, b, a] = p.to_le_bytes();
        let un = |c: u8| -> u8 {
            match a {
                255 => c,
                0 => 0,
                _ => ((u32::from(c) * 255 + u32::from(a) / 2) / u32::from(a)).min(255) as u8,
            }
        };
        data.extend_from_slice(&[un(r), un(g), un(b), a]);
    }
    let mut frame = Frame::new(h.width, h.height, 4, data).drop_opaque_alpha();
    frame.icc = icc;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_after_the_magic_is_a_clean_error() {
        let e = header(b"II*\0\xff\xff\xff\xff").unwrap_err();
        assert!(matches!(e, CodecError::Corrupt(_)), "{e}");
        let e = header(b"MM\0+\0\x08\0\0").unwrap_err();
        assert!(matches!(e, CodecError::Corrupt(_)), "{e}");
    }

    #[test]
    fn the_corpus_tiffs_decode() {
        let root = crate::test_corpus();
        let bytes = std::fs::read(root.join("formats/hopper.tif")).unwrap();
        let h = header(&bytes).unwrap();
        assert_eq!(h.pages, 1);
        let f = decode(&bytes, (h.width, h.height), &Limits::default()).unwrap();
        assert_eq!((f.width, f.height), (h.width, h.height));
    }
}
