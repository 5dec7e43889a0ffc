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
    /// Bytes one request may hold at once — its source and every pixel
    /// buffer alive together — drawn down before each allocation
    /// (400 ImageTooLarge).
    pub max_request_bytes: u64,
    /// Milliseconds of one core the cost model may estimate for one
    /// request, before any pixel is decoded (400 ImageTooLarge); 0: no
    /// cost limit. See pixgate-ops `cost.rs`.
    pub max_work_ms: u64,
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
            // Enough for the largest source the pixel limit admits, decoded
            // (250 MP × 3 bytes) with a full-size output beside it.
            max_request_bytes: 1 << 30,
            // A second and a half of one core. Thumbnails of 250 MP JPEGs
            // (decoded at 1/8) estimate about 0.4 s and 12 MP HEIC camera
            // files about 1 s; blur,r_50,s_50 on a 12 MP photo about 1.25 s.
            // Enlarging a small JPEG to 4096×4096 and blurring it at r_50
            // estimates 1.67 s (1.55 s measured) and is refused.
            max_work_ms: 1500,
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

/// A request's memory budget: every buffer the pipeline allocates is
/// reserved here first, so no request holds more than
/// `max_request_bytes` at once, whatever the file claims.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    held: u64,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget { limit, held: 0 }
    }

    /// Reserves `bytes` for `what`, or refuses past the limit.
    pub fn reserve(&mut self, bytes: u64, what: &str) -> Result<(), CodecError> {
        let held = self.held.saturating_add(bytes);
        if held > self.limit {
            return Err(CodecError::TooLarge(format!(
                "Processing would hold {held} bytes at once ({what} needs {bytes}); one request may hold at most {}.",
                self.limit
            )));
        }
        self.held = held;
        Ok(())
    }

    /// Gives back a buffer that was freed.
    pub fn release(&mut self, bytes: u64) {
        self.held = self.held.saturating_sub(bytes);
    }

    pub fn held(&self) -> u64 {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_refuses_past_its_limit_and_takes_back_releases() {
        let mut b = Budget::new(100);
        assert!(b.reserve(60, "the source").is_ok());
        let e = b.reserve(50, "the decoded image").unwrap_err();
        assert!(e.to_string().contains("at most 100"), "{e}");
        b.release(60);
        assert!(b.reserve(50, "the decoded image").is_ok());
        assert_eq!(b.held(), 50);
    }
}
