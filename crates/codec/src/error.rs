use thiserror::Error;

/// Why an image cannot be read or written. Every variant is the client's
/// problem (a 4xx) except `Internal`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodecError {
    #[error(
        "The source is not an image format this proxy reads (JPEG, PNG, GIF, WebP, BMP, TIFF)."
    )]
    UnknownFormat,
    #[error("Reading {format} images is not supported yet.")]
    UnsupportedInput { format: &'static str },
    #[error("Writing {format} images is not supported yet.")]
    UnsupportedOutput { format: &'static str },
    #[error("The image is corrupt or truncated: {0}")]
    Corrupt(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("The image could not be encoded: {0}")]
    Internal(String),
}
