//! Cutting and padding: `crop`, `indexcrop`, and the crop/pad halves of
//! `resize` fill and pad.

use pixgate_api::geometry::Rect;
use pixgate_codec::Frame;

/// Copies `r` (already clipped to the frame) out of `f`; the whole frame is
/// returned as is, without a copy.
pub fn crop(f: Frame, r: Rect) -> Frame {
    if r == (Rect {
        x: 0,
        y: 0,
        w: f.width,
        h: f.height,
    }) {
        return f;
    }
    let c = f.channels as usize;
    let stride = f.stride();
    let row = r.w as usize * c;
    let mut data = Vec::with_capacity(row * r.h as usize);
    for y in r.y..r.y + r.h {
        let start = y as usize * stride + r.x as usize * c;
        data.extend_from_slice(&f.data[start..start + row]);
    }
    Frame::new(r.w, r.h, f.channels, data)
}

/// Places `f` at (`x`, `y`) on a `w`×`h` canvas of colour `bg` (RGB).
pub fn pad(f: &Frame, w: u32, h: u32, x: u32, y: u32, bg: [u8; 3]) -> Frame {
    let px: Vec<u8> = if f.channels == 4 {
        vec![bg[0], bg[1], bg[2], 255]
    } else {
        bg.to_vec()
    };
    let mut canvas = Frame::filled(w, h, &px);
    let c = f.channels as usize;
    let row = f.width as usize * c;
    let cstride = canvas.stride();
    for sy in 0..f.height as usize {
        let dst = (y as usize + sy) * cstride + x as usize * c;
        canvas.data[dst..dst + row].copy_from_slice(&f.data[sy * row..(sy + 1) * row]);
    }
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> Frame {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[x as u8, y as u8, 7]);
            }
        }
        Frame::new(w, h, 3, data)
    }

    #[test]
    fn crop_takes_the_right_pixels() {
        let f = crop(
            gradient(10, 8),
            Rect {
                x: 3,
                y: 2,
                w: 4,
                h: 5,
            },
        );
        assert_eq!((f.width, f.height), (4, 5));
        assert_eq!(f.pixel(0, 0), &[3, 2, 7]);
        assert_eq!(f.pixel(3, 4), &[6, 6, 7]);
    }

    #[test]
    fn pad_centres_on_colour() {
        let f = pad(&gradient(2, 2), 4, 4, 1, 1, [9, 9, 9]);
        assert_eq!(f.pixel(0, 0), &[9, 9, 9]);
        assert_eq!(f.pixel(1, 1), &[0, 0, 7]);
        assert_eq!(f.pixel(2, 2), &[1, 1, 7]);
        assert_eq!(f.pixel(3, 3), &[9, 9, 9]);
    }
}
