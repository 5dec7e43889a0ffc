//! Header-only facts about a source: format, size, orientation, quality.
//! Nothing here allocates in proportion to the pixel count.

use std::io::Cursor;

use pixgate_api::Format;

use crate::container::{check_bmp, check_png_text, gif_layout, png_frames, webp_frames};
use crate::error::CodecError;
use crate::jpeg::{JpegHeader, estimate_quality, read_header};
use crate::sniff::sniff;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub format: Format,
    /// Stored (not orientation-corrected) size.
    pub width: u32,
    pub height: u32,
    /// The canvas every frame needs (larger than width × height when an
    /// animation frame is placed outside the logical screen).
    pub extent: (u32, u32),
    /// Frames in the file (GIF, WebP, APNG and AVIF animations; 1 for
    /// stills). Limits
    /// count them all.
    pub frames: u32,
    /// Pages of a multi-page TIFF (only the first is decoded, so limits do
    /// not count the others); 1 for every other source.
    pub pages: u32,
    /// EXIF Orientation 1–8 (1 when absent or unreadable).
    pub orientation: u8,
    /// Estimated libjpeg quality of a JPEG source.
    pub quality: Option<u8>,
    pub(crate) jpeg: Option<JpegHeader>,
}

impl Probe {
    /// Whether the decoder can scale this source down while decoding (an
    /// 8-bit lossy JPEG, a still WebP).
    pub fn shrinks_on_load(&self) -> bool {
        match self.format {
            // 12-bit and lossless JPEGs decode at full size only.
            Format::Jpg => self
                .jpeg
                .as_ref()
                .is_some_and(|j| j.precision == 8 && !j.lossless),
            // libwebp rescales a still image while it decodes.
            Format::Webp => self.frames == 1,
            _ => false,
        }
    }

    /// The displayed size once the orientation is applied.
    pub fn oriented_size(&self) -> (u32, u32) {
        if self.orientation >= 5 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// Header facts, with the bomb checks of container.rs (every decode path).
pub fn probe(bytes: &[u8]) -> Result<Probe, CodecError> {
    read(bytes, true)
}

/// Header facts without the bomb checks: for metadata, which never decodes.
pub(crate) fn probe_unchecked(bytes: &[u8]) -> Result<Probe, CodecError> {
    read(bytes, false)
}

fn read(bytes: &[u8], checked: bool) -> Result<Probe, CodecError> {
    let format = sniff(bytes).ok_or(CodecError::UnknownFormat)?;
    match format {
        Format::Jpg => {
            let h = read_header(bytes)
                .ok_or_else(|| CodecError::Corrupt("the JPEG header is unreadable".into()))?;
            let orientation = h.exif(bytes).map_or(1, exif_orientation);
            Ok(Probe {
                format,
                width: h.width,
                height: h.height,
                extent: (h.width, h.height),
                frames: 1,
                pages: 1,
                orientation,
                quality: h.luma_table.as_ref().map(estimate_quality),
                jpeg: Some(h),
            })
        }
        Format::Avif | Format::Heic | Format::Jxl | Format::Svg => {
            let mut frames = 1;
            let (width, height) = match format {
                Format::Avif if crate::avif_seq::is_sequence(bytes) => {
                    let (w, h, n) = crate::avif_seq::probe(bytes)?;
                    frames = n;
                    (w, h)
                }
                Format::Jxl => {
                    let h = crate::jxl::header(bytes)?;
                    (h.width, h.height)
                }
                Format::Svg => crate::svg::nominal_size(bytes)?,
                _ => crate::heif::dimensions(bytes)?,
            };
            Ok(Probe {
                format,
                width,
                height,
                extent: (width, height),
                frames,
                pages: 1,
                // libheif applies irot/imir and jxl-oxide the orientation
                // themselves; SVG has none.
                orientation: 1,
                quality: None,
                jpeg: None,
            })
        }
        Format::Tiff => {
            let h = crate::tiff::header(bytes)?;
            Ok(Probe {
                format,
                width: h.width,
                height: h.height,
                extent: (h.width, h.height),
                frames: 1,
                pages: h.pages,
                // The Orientation tag; the decoder returns stored pixels.
                orientation: h.orientation,
                quality: None,
                jpeg: None,
            })
        }
        _ => {
            let (frames, extent) = match format {
                Format::Gif => {
                    let l = gif_layout(bytes)?;
                    (l.frames, Some((l.right, l.bottom)))
                }
                Format::Png => {
                    if checked {
                        check_png_text(bytes)?;
                    }
                    (png_frames(bytes), None)
                }
                Format::Webp => (webp_frames(bytes), None),
                Format::Bmp => {
                    if checked {
                        check_bmp(bytes)?;
                    }
                    (1, None)
                }
                _ => (1, None),
            };
            let reader = image::ImageReader::with_format(Cursor::new(bytes), image_format(format));
            let (width, height) = reader
                .into_dimensions()
                .map_err(|e| CodecError::from_image(format, e))?;
            let orientation = exif::Reader::new()
                .read_from_container(&mut Cursor::new(bytes))
                .ok()
                .and_then(|e| orientation_of(&e))
                .unwrap_or(1);
            Ok(Probe {
                format,
                width,
                height,
                extent: extent.unwrap_or((width, height)),
                frames,
                pages: 1,
                orientation,
                quality: None,
                jpeg: None,
            })
        }
    }
}

pub(crate) fn image_format(f: Format) -> image::ImageFormat {
    match f {
        Format::Jpg => image::ImageFormat::Jpeg,
        Format::Png => image::ImageFormat::Png,
        Format::Gif => image::ImageFormat::Gif,
        Format::Webp => image::ImageFormat::WebP,
        Format::Bmp => image::ImageFormat::Bmp,
        Format::Tiff => image::ImageFormat::Tiff,
        Format::Avif => image::ImageFormat::Avif,
        Format::Heic => image::ImageFormat::Avif,
        // Never read through `image` (probe and decode route them first);
        // a format it cannot read makes any such call fail cleanly.
        Format::Jxl | Format::Svg => image::ImageFormat::Hdr,
    }
}

fn exif_orientation(tiff: &[u8]) -> u8 {
    exif::Reader::new()
        .read_raw(tiff.to_vec())
        .ok()
        .and_then(|e| orientation_of(&e))
        .unwrap_or(1)
}

fn orientation_of(e: &exif::Exif) -> Option<u8> {
    let v = e
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)?
        .value
        .get_uint(0)?;
    (1..=8).contains(&v).then_some(v as u8)
}
