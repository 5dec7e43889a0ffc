//! Image formats: recognise them, read their headers, check limits before any
//! pixel is decoded, decode (with JPEG shrink-on-load) and encode.
//! Everything here is synchronous pixel work; callers run it off the async runtime.

mod animation;
mod avif_seq;
mod color;
mod container;
mod decode;
mod encode;
mod error;
mod frame;
mod heif;
mod heif_encode;
mod jpeg;
mod jpeg_dc;
mod jpeg_deep;
mod jxl;
mod limits;
mod meta;
mod png;
mod probe;
mod sniff;
mod svg;
mod tiff;
mod webp;

pub use animation::{Animation, decode_animation, encode_animation};
pub use color::to_srgb;
pub use decode::{
    Gamut, decode, decode_vector, decode_webp_planes, decode_with_gamut, shrink_factor,
};
pub use encode::{EncodeOptions, encode, encode_webp_planes};
pub use error::CodecError;
pub use frame::{Frame, Yuv420};
pub use jpeg::estimate_quality;
pub use jpeg_dc::decode_dc;
pub use limits::{Budget, Limits};
pub use meta::{Metadata, Space, md5_hex, read_metadata};
pub use pixgate_api::Format;
pub use probe::{Probe, probe};
pub use sniff::sniff;

/// Whether `bytes` is a progressive JPEG (its full decode costs several
/// times a baseline one's; at 1/8 it reads only the DC scans). A header
/// walk: callers that plan the work ask before decoding.
pub fn jpeg_is_progressive(bytes: &[u8]) -> bool {
    jpeg::read_header(bytes).is_some_and(|h| h.progressive)
}

/// The shared test corpus: `PIXGATE_CORPUS`, else `../shared/corpus`
/// beside the checkout (found at run time: a target dir may be shared
/// between checkouts).
#[cfg(test)]
fn test_corpus() -> std::path::PathBuf {
    let beside = || {
        let krate = std::env::var_os("CARGO_MANIFEST_DIR");
        let krate = krate.unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        std::path::PathBuf::from(krate).join("../../../shared/corpus")
    };
    std::env::var_os("PIXGATE_CORPUS").map_or_else(beside, Into::into)
}
