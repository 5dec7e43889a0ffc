//! Output formats (`format,X`).

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
}

impl Format {
    pub const NAMES: [&'static str; 8] =
        ["jpg", "png", "webp", "bmp", "gif", "tiff", "avif", "heic"];

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
        }
    }

    /// Whether transparent areas survive; JPEG (and so on) are flattened on white.
    pub fn keeps_alpha(self) -> bool {
        !matches!(self, Format::Jpg)
    }
}
