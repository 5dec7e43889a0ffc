//! `circle` and `rounded-corners`: keep a shape, make the rest transparent
//! (or `bg` when the output has no alpha). Edges are anti-aliased by pixel
//! coverage.

use pixgate_codec::Frame;

use super::crop::crop;
use pixgate_api::geometry::Rect;

/// Multiplies alpha by `coverage(x, y)` in 0..=1, then flattens when needed.
fn apply(f: Frame, alpha_ok: bool, bg: [u8; 3], coverage: impl Fn(u32, u32) -> f64) -> Frame {
    let mut out = f.into_rgba();
    let w = out.width;
    for (i, px) in out.data.chunks_exact_mut(4).enumerate() {
        let (x, y) = (i as u32 % w, i as u32 / w);
        let c = coverage(x, y);
        if c < 1.0 {
            px[3] = (f64::from(px[3]) * c).round() as u8;
        }
    }
    if alpha_ok { out } else { out.flatten(bg) }
}

/// Coverage of pixel (x, y) by a disc of radius `r` centred at (cx, cy).
fn disc(x: u32, y: u32, cx: f64, cy: f64, r: f64) -> f64 {
    let dx = f64::from(x) + 0.5 - cx;
    let dy = f64::from(y) + 0.5 - cy;
    (r + 0.5 - (dx * dx + dy * dy).sqrt()).clamp(0.0, 1.0)
}

/// The square of side 2r+1 around the image centre, outside the circle cleared.
pub fn circle(f: Frame, r: u32, alpha_ok: bool, bg: [u8; 3]) -> Frame {
    let side = 2 * r + 1;
    let x = (f.width / 2).saturating_sub(r);
    let y = (f.height / 2).saturating_sub(r);
    let rect = Rect {
        x,
        y,
        w: side.min(f.width - x),
        h: side.min(f.height - y),
    };
    let c = f64::from(side) / 2.0;
    apply(crop(f, rect), alpha_ok, bg, |x, y| {
        disc(x, y, c, c, f64::from(r))
    })
}

pub fn rounded_corners(f: Frame, r: u32, alpha_ok: bool, bg: [u8; 3]) -> Frame {
    let (w, h, rf) = (f.width, f.height, f64::from(r));
    apply(f, alpha_ok, bg, |x, y| {
        let cx = if x < r {
            rf
        } else if x >= w - r {
            f64::from(w) - rf
        } else {
            return 1.0;
        };
        let cy = if y < r {
            rf
        } else if y >= h - r {
            f64::from(h) - rf
        } else {
            return 1.0;
        };
        disc(x, y, cx, cy, rf)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circle_on_400x267() {
        let f = Frame::filled(400, 267, &[0, 0, 255]);
        let c = circle(f.clone(), 100, true, [255, 255, 255]);
        assert_eq!((c.width, c.height), (201, 201));
        assert_eq!(c.pixel(0, 0)[3], 0);
        assert_eq!(c.pixel(200, 200)[3], 0);
        assert_eq!(c.pixel(100, 100), &[0, 0, 255, 255]);
        let j = circle(f, 100, false, [255, 255, 255]);
        assert_eq!(j.pixel(0, 0), &[255, 255, 255]);
        assert_eq!(j.pixel(100, 100), &[0, 0, 255]);
    }

    #[test]
    fn rounded_corners_clear_only_corners() {
        let f = Frame::filled(100, 50, &[9, 9, 9]);
        let r = rounded_corners(f, 10, true, [255, 255, 255]);
        assert_eq!(r.pixel(0, 0)[3], 0);
        assert_eq!(r.pixel(99, 49)[3], 0);
        assert_eq!(r.pixel(50, 0)[3], 255);
        assert_eq!(r.pixel(0, 25)[3], 255);
    }
}
