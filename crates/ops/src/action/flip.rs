//! Mirroring, as the EXIF orientations that mirror (2: left-right, 4:
//! top-bottom): one pixel permutation serves both.

use pixgate_api::action::flip::Flip;
use pixgate_codec::Frame;

use super::orient::apply_orientation;

pub fn flip(f: &Frame, flip: Flip) -> Frame {
    match flip {
        Flip::Horizontal => apply_orientation(f, 2),
        Flip::Vertical => apply_orientation(f, 4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_each_way() {
        // 2×2 RGB: a b / c d.
        let f = Frame::new(2, 2, 3, (1..=12).collect());
        let h = flip(&f, Flip::Horizontal);
        assert_eq!(h.data, vec![4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
        let v = flip(&f, Flip::Vertical);
        assert_eq!(v.data, vec![7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6]);
    }
}
