//! BlurHash and ThumbHash of a frame. Both describe an image in a handful of
//! frequency components, so they are computed from a thumbnail of at most
//! [`SIDE`] px a side (ThumbHash's own limit): the work is the same for any
//! source size, and the pipeline decodes JPEGs shrunk to about that size.
//! The encoders are the `blurhash` crate (whisperfish, maintained, no
//! dependencies) and `thumbhash` (the algorithm author's Rust port).

use pixgate_api::action::placeholder::{Hash, Placeholder};
use pixgate_codec::{CodecError, Frame};

use crate::action::resize;

/// Largest thumbnail side the hashes are computed from.
pub const SIDE: u32 = 100;

/// The thumbnail size for a `w`×`h` image: aspect kept, at most `SIDE` a
/// side, at least 1 px.
pub fn thumb_size(w: u32, h: u32) -> (u32, u32) {
    let (w, h) = (w.max(1), h.max(1));
    if w <= SIDE && h <= SIDE {
        return (w, h);
    }
    let long = u64::from(w.max(h));
    let fit = |v: u32| ((u64::from(v) * u64::from(SIDE) + long / 2) / long).clamp(1, 100) as u32;
    (fit(w), fit(h))
}

/// The hash of `f`.
pub fn hash(f: &Frame, kind: Placeholder) -> Result<Hash, CodecError> {
    let (tw, th) = thumb_size(f.width, f.height);
    let thumb = resize::scale(f, tw, th)?;
    match kind {
        Placeholder::BlurHash { x, y } => {
            // BlurHash has no alpha: transparency reads as white, as a
            // flattened JPEG of the image would show it.
            let rgba = thumb.flatten([255, 255, 255]).into_rgba();
            blurhash::encode(u32::from(x), u32::from(y), tw, th, &rgba.data)
                .map(Hash::Text)
                .map_err(|e| CodecError::Internal(format!("BlurHash: {e}")))
        }
        Placeholder::ThumbHash => {
            let rgba = thumb.into_rgba();
            Ok(Hash::Bytes(thumbhash::rgba_to_thumb_hash(
                tw as usize,
                th as usize,
                &rgba.data,
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_keep_the_aspect_within_the_limit() {
        assert_eq!(thumb_size(4000, 3000), (100, 75));
        assert_eq!(thumb_size(30, 5000), (1, 100));
        assert_eq!(thumb_size(64, 48), (64, 48));
        assert_eq!(thumb_size(0, 0), (1, 1));
    }

    #[test]
    fn a_flat_image_hashes_to_its_colour() {
        let f = Frame::filled(300, 200, &[200, 40, 40]);
        let Hash::Text(b) = hash(&f, Placeholder::BlurHash { x: 4, y: 3 }).unwrap() else {
            panic!("BlurHash is text");
        };
        // The format samples its basis at pixel edges, so even a flat image
        // has small odd components: its decode is flat only on average.
        let px = blurhash::decode(&b, 32, 32, 1.0).unwrap();
        let mean = |c: usize| px.chunks_exact(4).map(|p| u32::from(p[c])).sum::<u32>() / 1024;
        assert!(
            mean(0).abs_diff(200) <= 3 && mean(1).abs_diff(40) <= 3,
            "{b}"
        );
        let Hash::Bytes(t) = hash(&f, Placeholder::ThumbHash).unwrap() else {
            panic!("ThumbHash is bytes");
        };
        let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&t).unwrap();
        // Stored coarsely (as the component counts, in sevenths): 7/5.
        assert!((ratio - 1.5).abs() < 0.15, "{ratio}");
        let (r, g, b, _) = thumbhash::thumb_hash_to_average_rgba(&t).unwrap();
        assert!((r - 200.0 / 255.0).abs() < 0.05 && g < 0.25 && b < 0.25);
    }

    #[test]
    fn transparency_is_hashed() {
        let f = Frame::filled(10, 10, &[0, 0, 0, 0]);
        let Hash::Bytes(t) = hash(&f, Placeholder::ThumbHash).unwrap() else {
            panic!("ThumbHash is bytes");
        };
        let (.., a) = thumbhash::thumb_hash_to_average_rgba(&t).unwrap();
        assert!(a < 0.1, "{a}");
    }
}
