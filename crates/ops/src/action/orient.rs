//! EXIF orientations (auto-orient) and right-angle rotations, as exact
//! pixel permutations.

use pixgate_codec::Frame;

/// Returns the displayed image for a stored image with EXIF `orientation` (1–8).
pub fn apply_orientation(f: &Frame, orientation: u8) -> Frame {
    let (w, h) = (f.width as usize, f.height as usize);
    let (ow, oh) = if orientation >= 5 { (h, w) } else { (w, h) };
    // For each output (x, y): the source pixel it shows.
    let src = |x: usize, y: usize| -> (usize, usize) {
        match orientation {
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            8 => (w - 1 - y, x),
            _ => (x, y),
        }
    };
    if orientation <= 1 || orientation > 8 {
        return f.clone();
    }
    let c = f.channels as usize;
    let mut data = vec![0u8; ow * oh * c];
    for y in 0..oh {
        let row = &mut data[y * ow * c..(y + 1) * ow * c];
        for x in 0..ow {
            let (sx, sy) = src(x, y);
            let s = (sy * w + sx) * c;
            row[x * c..x * c + c].copy_from_slice(&f.data[s..s + c]);
        }
    }
    Frame::new(ow as u32, oh as u32, f.channels, data)
}

/// Clockwise rotation by a right angle (0, 90, 180, 270).
pub fn rotate_right_angle(f: &Frame, degrees: u32) -> Frame {
    match degrees {
        90 => apply_orientation(f, 6),
        180 => apply_orientation(f, 3),
        270 => apply_orientation(f, 8),
        _ => f.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 3×2, each pixel's red is its index.
    fn sample() -> Frame {
        let data = (0..6u8).flat_map(|i| [i, 0, 0]).collect();
        Frame::new(3, 2, 3, data)
    }

    fn reds(f: &Frame) -> Vec<u8> {
        f.data.chunks_exact(3).map(|p| p[0]).collect()
    }

    #[test]
    fn right_angles() {
        // 0 1 2      rotate 90 cw:  3 0
        // 3 4 5                     4 1
        //                           5 2
        let r = rotate_right_angle(&sample(), 90);
        assert_eq!((r.width, r.height), (2, 3));
        assert_eq!(reds(&r), vec![3, 0, 4, 1, 5, 2]);
        assert_eq!(
            reds(&rotate_right_angle(&sample(), 180)),
            vec![5, 4, 3, 2, 1, 0]
        );
        assert_eq!(
            reds(&rotate_right_angle(&sample(), 270)),
            vec![2, 5, 1, 4, 0, 3]
        );
        // Four quarter turns are the identity.
        let mut f = sample();
        for _ in 0..4 {
            f = rotate_right_angle(&f, 90);
        }
        assert_eq!(f, sample());
    }

    #[test]
    fn mirrored_orientations() {
        assert_eq!(
            reds(&apply_orientation(&sample(), 2)),
            vec![2, 1, 0, 5, 4, 3]
        );
        assert_eq!(
            reds(&apply_orientation(&sample(), 4)),
            vec![3, 4, 5, 0, 1, 2]
        );
        assert_eq!(
            reds(&apply_orientation(&sample(), 5)),
            vec![0, 3, 1, 4, 2, 5]
        );
        assert_eq!(
            reds(&apply_orientation(&sample(), 7)),
            vec![5, 2, 4, 1, 3, 0]
        );
    }
}
