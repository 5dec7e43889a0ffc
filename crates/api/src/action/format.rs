//! Image formats: what a source is (`info`'s Format) and what `format,X`
//! writes. SVG is a source only: it is rasterised, and an SVG source with no
//! `format,…` is written as PNG ([`Format::default_output`]).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpg,
    Png,
    Webp,
    Bmp,
    Gif,
    Tiff,
    Avif,
    Heic,
    /// JPEG XL: read, and written by `format,jxl` (an extension of the OSS
    /// grammar; lossless).
    Jxl,
    /// SVG: read (rasterised) only; never an output.
    Svg,
}

impl Format {
    /// The output formats `format,X` names.
    pub const NAMES: [&'static str; 9] = [
        "jpg", "png", "webp", "bmp", "gif", "tiff", "avif", "heic", "jxl",
    ];

    /// An output format by name (`format,X`); source-only formats are none.
    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "jpg" | "jpeg" => Format::Jpg,
            "png" => Format::Png,
            "webp" => Format::Webp,
            "bmp" => Format::Bmp,
            "gif" => Format::Gif,
            "tiff" | "tif" => Format::Tiff,
            "avif" => Format::Avif,
            "heic" | "heif" => Format::Heic,
            "jxl" => Format::Jxl,
            _ => return None,
        })
    }

    /// The name OSS uses (`info`'s Format, `format,X`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Gif => "gif",
            Format::Tiff => "tiff",
            Format::Avif => "avif",
            Format::Heic => "heic",
            Format::Jxl => "jxl",
            Format::Svg => "svg",
        }
    }

    /// The format an image from this source is written in when the plan
    /// names none: itself, except for source-only formats (SVG → PNG,
    /// which keeps its transparency).
    pub fn default_output(self) -> Format {
        match self {
            Format::Svg => Format::Png,
            f => f,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Bmp => "image/bmp",
            Format::Gif => "image/gif",
            Format::Tiff => "image/tiff",
            Format::Avif => "image/avif",
            Format::Heic => "image/heic",
            Format::Jxl => "image/jxl",
            Format::Svg => "image/svg+xml",
        }
    }

    /// Whether transparent areas survive; JPEG (and so on) are flattened on white.
    pub fn keeps_alpha(self) -> bool {
        !matches!(self, Format::Jpg)
    }
}
