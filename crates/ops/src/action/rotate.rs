//! `rotate` by any angle: bilinear sampling on a canvas grown to the
//! rotated bounding box; uncovered area transparent or `bg`.

use pixgate_codec::Frame;

use super::orient::rotate_right_angle;
use crate::error::OpsError;
use crate::stop::Stop;

/// Checks `stop` once per output row.
pub fn rotate(
    f: &Frame,
    degrees: u32,
    out_w: u32,
    out_h: u32,
    alpha_ok: bool,
    bg: [u8; 3],
    stop: &Stop,
) -> Result<Frame, OpsError> {
    if degrees.is_multiple_of(90) {
        return Ok(rotate_right_angle(f, degrees % 360));
    }
    stop.check()?;
    let src = f.clone().into_rgba();
    let (sw, sh) = (src.width as f64, src.height as f64);
    let theta = f64::from(degrees).to_radians();
    let (sin, cos) = theta.sin_cos();
    let (ocx, ocy) = (f64::from(out_w) / 2.0, f64::from(out_h) / 2.0);
    let (scx, scy) = (sw / 2.0, sh / 2.0);
    let mut data = vec![0u8; out_w as usize * out_h as usize * 4];
    let sample = |x: i64, y: i64| -> [f64; 4] {
        if x < 0 || y < 0 || x >= src.width as i64 || y >= src.height as i64 {
            return [0.0; 4];
        }
        let p = src.pixel(x as u32, y as u32);
        // Premultiplied, so edges fade to transparent without dark fringes.
        let a = f64::from(p[3]) / 255.0;
        [
            f64::from(p[0]) * a,
            f64::from(p[1]) * a,
            f64::from(p[2]) * a,
            f64::from(p[3]),
        ]
    };
    for oy in 0..out_h {
        stop.check()?;
        for ox in 0..out_w {
            let dx = f64::from(ox) + 0.5 - ocx;
            let dy = f64::from(oy) + 0.5 - ocy;
            // Inverse of a clockwise turn (y points down).
            let sx = dx * cos + dy * sin + scx - 0.5;
            let sy = -dx * sin + dy * cos + scy - 0.5;
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let mut acc = [0.0f64; 4];
            for (xx, yy, wgt) in [
                (x0, y0, (1.0 - fx) * (1.0 - fy)),
                (x0 + 1, y0, fx * (1.0 - fy)),
                (x0, y0 + 1, (1.0 - fx) * fy),
                (x0 + 1, y0 + 1, fx * fy),
            ] {
                let s = sample(xx, yy);
                for k in 0..4 {
                    acc[k] += s[k] * wgt;
                }
            }
            let i = (oy as usize * out_w as usize + ox as usize) * 4;
            let a = acc[3];
            if a > 0.0 {
                let inv = 255.0 / a;
                for k in 0..3 {
                    data[i + k] = (acc[k] * inv).round().clamp(0.0, 255.0) as u8;
                }
            }
            data[i + 3] = a.round().clamp(0.0, 255.0) as u8;
        }
    }
    let out = Frame::new(out_w, out_h, 4, data);
    Ok(if alpha_ok { out } else { out.flatten(bg) })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    const WHITE: [u8; 3] = [255, 255, 255];

    #[test]
    fn forty_five_degrees_grows_the_canvas_and_fills_corners() {
        let f = Frame::filled(300, 200, &[10, 20, 30]);
        let never = Stop::never();
        let r = rotate(&f, 45, 354, 354, true, WHITE, &never).unwrap();
        assert_eq!((r.width, r.height, r.channels), (354, 354, 4));
        assert_eq!(r.pixel(0, 0)[3], 0, "corner must be transparent");
        assert_eq!(r.pixel(177, 177), &[10, 20, 30, 255]);
        let j = rotate(&f, 45, 354, 354, false, WHITE, &never).unwrap();
        assert_eq!(j.pixel(0, 0), &[255, 255, 255]);
        assert_eq!(j.pixel(177, 177), &[10, 20, 30]);
    }

    #[test]
    fn a_past_deadline_stops_the_rotation() {
        let f = Frame::filled(2000, 2000, &[10, 20, 30]);
        let stop = Stop::new(Some(Instant::now()), None);
        std::thread::sleep(Duration::from_millis(2));
        let started = Instant::now();
        let e = rotate(&f, 45, 2829, 2829, false, WHITE, &stop).unwrap_err();
        assert!(matches!(e, OpsError::DeadlineExceeded), "{e:?}");
        assert!(started.elapsed() < Duration::from_millis(50));
    }
}
