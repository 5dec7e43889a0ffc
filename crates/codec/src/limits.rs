//! Limits of SPEC §6, checked from the header before any pixel is decoded.

use crate::error::CodecError;

/// Also the `[limits]` section of the configuration, as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Source object bytes; reading stops past it (400 ImageTooLarge).
    pub max_source_bytes: u64,
    /// Source width or height, from the header (400 ImageTooLarge).
    pub max_source_side: u32,
    /// Source width × height × frames (400 ImageTooLarge).
    pub max_source_pixels: u64,
    /// Output width or height (400 InvalidArgument).
    pub max_output_side: u32,
    /// Output width × height (400 InvalidArgument).
    pub max_output_pixels: u64,
    /// Width or height of an image entering rotate / auto-orient (400 ImageTooLarge).
    pub max_rotate_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_source_bytes: 20 * 1024 * 1024,
            max_source_side: 30_000,
            max_source_pixels: 250_000_000,
            max_output_side: 16_384,
            max_output_pixels: 16_777_216,
            max_rotate_side: 4096,
        }
    }
}

impl Limits {
    /// Everything the header promises, checked before decoding.
    pub fn check_probe(&self, p: &crate::Probe) -> Result<(), CodecError> {
        self.check_source(p.extent.0.max(p.width), p.extent.1.max(p.height), p.frames)
    }

    pub fn check_source(&self, width: u32, height: u32, frames: u32) -> Result<(), CodecError> {
        if width == 0 || height == 0 {
            return Err(CodecError::Corrupt(format!(
                "the header declares a {width}x{height} image"
            )));
        }
        if width > self.max_source_side || height > self.max_source_side {
            return Err(CodecError::TooLarge(format!(
                "The source image is {width}x{height}; each side must be at most {} pixels.",
                self.max_source_side
            )));
        }
        let pixels = u64::from(width) * u64::from(height) * u64::from(frames.max(1));
        if pixels > self.max_source_pixels {
            return Err(CodecError::TooLarge(format!(
                "The source image has {pixels} pixels (all frames); at most {} are processed.",
                self.max_source_pixels
            )));
        }
        Ok(())
    }
}
