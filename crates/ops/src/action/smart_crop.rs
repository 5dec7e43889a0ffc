//! Attention crop: where in an image a `w`×`h` window keeps the most
//! interest. Each pixel of a small copy (≤ 256 px a side: the choice needs
//! no detail, and the cost stays bounded whatever the source) scores its
//! edges (Laplacian of luma), saturated colour and skin tones — the signals
//! libvips' `attention` and smartcrop.js weigh — and the window with the
//! largest sum, ties to the centre, wins (summed-area table: every position
//! in O(1)).

use pixgate_api::geometry::Rect;
use pixgate_codec::Frame;

/// Side of the scoring copy.
pub const SCORE_SIDE: u32 = 256;

/// The window of `w`×`h` (clipped to the frame) to keep.
pub fn window(f: &Frame, w: u32, h: u32) -> Rect {
    let (w, h) = (w.min(f.width).max(1), h.min(f.height).max(1));
    if (w, h) == (f.width, f.height) {
        return Rect { x: 0, y: 0, w, h };
    }
    // The scoring copy: every `step`-th pixel.
    let step = f.width.max(f.height).div_ceil(SCORE_SIDE).max(1);
    let (sw, sh) = (f.width.div_ceil(step), f.height.div_ceil(step));
    let score = scores(f, step, sw, sh);
    let table = summed(&score, sw, sh);
    // The window in the copy's pixels (at least one).
    let ww = (u64::from(w) * u64::from(sw) / u64::from(f.width)).clamp(1, u64::from(sw)) as u32;
    let wh = (u64::from(h) * u64::from(sh) / u64::from(f.height)).clamp(1, u64::from(sh)) as u32;
    let (cx, cy) = ((sw - ww) / 2, (sh - wh) / 2);
    let mut best = (i64::MIN, 0u32, 0u32);
    for y in 0..=sh - wh {
        for x in 0..=sw - ww {
            let sum = area(&table, sw, x, y, ww, wh);
            // Ties go to the window nearest the centre.
            let off = i64::from(x.abs_diff(cx) + y.abs_diff(cy));
            let key = sum * 1024 - off;
            if key > best.0 {
                best = (key, x, y);
            }
        }
    }
    // Back to the frame's pixels, kept inside it.
    let x = (u64::from(best.1) * u64::from(f.width) / u64::from(sw)) as u32;
    let y = (u64::from(best.2) * u64::from(f.height) / u64::from(sh)) as u32;
    Rect {
        x: x.min(f.width - w),
        y: y.min(f.height - h),
        w,
        h,
    }
}

/// Interest of each pixel of the scoring copy.
fn scores(f: &Frame, step: u32, sw: u32, sh: u32) -> Vec<i64> {
    let c = f.channels as usize;
    let stride = f.stride();
    let rgb = |x: u32, y: u32| {
        let (x, y) = ((x * step).min(f.width - 1), (y * step).min(f.height - 1));
        let i = y as usize * stride + x as usize * c;
        let alpha = if c == 4 {
            i32::from(f.data[i + 3])
        } else {
            255
        };
        // Transparent pixels hold no interest.
        let p = |k: usize| i32::from(f.data[i + k]) * alpha / 255;
        (p(0), p(1), p(2))
    };
    let luma: Vec<i32> = (0..sh)
        .flat_map(|y| (0..sw).map(move |x| (x, y)))
        .map(|(x, y)| {
            let (r, g, b) = rgb(x, y);
            (299 * r + 587 * g + 114 * b) / 1000
        })
        .collect();
    let at = |x: i64, y: i64| {
        let (x, y) = (x.clamp(0, i64::from(sw) - 1), y.clamp(0, i64::from(sh) - 1));
        luma[(y * i64::from(sw) + x) as usize]
    };
    let mut out = Vec::with_capacity(luma.len());
    for y in 0..sh {
        for x in 0..sw {
            let (xi, yi) = (i64::from(x), i64::from(y));
            let edge = (4 * at(xi, yi)
                - at(xi - 1, yi)
                - at(xi + 1, yi)
                - at(xi, yi - 1)
                - at(xi, yi + 1))
            .abs();
            let (r, g, b) = rgb(x, y);
            let (max, min) = (r.max(g).max(b), r.min(g).min(b));
            let l = at(xi, yi);
            // Saturated colour counts where it is neither black nor white.
            let saturation = if (13..=230).contains(&l) {
                max - min
            } else {
                0
            };
            // A classic RGB skin-tone rule (Kovac et al.).
            let skin = r > 95
                && g > 40
                && b > 20
                && max - min > 15
                && (r - g).abs() > 15
                && r > g
                && r > b;
            out.push(i64::from(
                edge + saturation * 3 / 10 + if skin { 40 } else { 0 },
            ));
        }
    }
    out
}

/// Summed-area table with a zero row and column in front.
fn summed(score: &[i64], sw: u32, sh: u32) -> Vec<i64> {
    let (w, h) = (sw as usize + 1, sh as usize + 1);
    let mut t = vec![0i64; w * h];
    for y in 1..h {
        let mut row = 0;
        for x in 1..w {
            row += score[(y - 1) * (w - 1) + (x - 1)];
            t[y * w + x] = t[(y - 1) * w + x] + row;
        }
    }
    t
}

fn area(t: &[i64], sw: u32, x: u32, y: u32, w: u32, h: u32) -> i64 {
    let stride = sw as usize + 1;
    let (x0, y0, x1, y1) = (x as usize, y as usize, (x + w) as usize, (y + h) as usize);
    t[y1 * stride + x1] - t[y0 * stride + x1] - t[y1 * stride + x0] + t[y0 * stride + x0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flat grey image with a black-and-white checkerboard patch centred
    /// at (`cx`, `cy`).
    fn with_patch(w: u32, h: u32, cx: u32, cy: u32) -> Frame {
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                let inside = x.abs_diff(cx) < 30 && y.abs_diff(cy) < 30;
                let v = if inside {
                    if (x / 4 + y / 4) % 2 == 0 { 0 } else { 255 }
                } else {
                    128
                };
                data.extend_from_slice(&[v, v, v]);
            }
        }
        Frame::new(w, h, 3, data)
    }

    fn contains(r: Rect, x: u32, y: u32) -> bool {
        (r.x..r.x + r.w).contains(&x) && (r.y..r.y + r.h).contains(&y)
    }

    #[test]
    fn the_window_holds_the_detail_wherever_it_is() {
        for (cx, cy) in [(340, 100), (40, 40), (200, 160), (360, 170)] {
            let f = with_patch(400, 200, cx, cy);
            let r = window(&f, 100, 100);
            assert_eq!((r.w, r.h), (100, 100));
            assert!(contains(r, cx, cy), "{cx},{cy}: {r:?}");
            assert!(r.x + r.w <= 400 && r.y + r.h <= 200, "{r:?}");
        }
    }

    #[test]
    fn a_large_source_is_scored_on_a_small_copy_and_mapped_back() {
        let f = with_patch(3000, 1000, 2600, 700);
        let r = window(&f, 500, 500);
        assert_eq!((r.w, r.h), (500, 500));
        assert!(contains(r, 2600, 700), "{r:?}");
    }

    #[test]
    fn a_flat_image_keeps_the_centre_and_odd_sizes_are_clipped() {
        let f = Frame::new(300, 100, 3, vec![90; 300 * 100 * 3]);
        assert_eq!(
            window(&f, 100, 100),
            Rect {
                x: 100,
                y: 0,
                w: 100,
                h: 100
            }
        );
        assert_eq!(
            window(&f, 900, 900),
            Rect {
                x: 0,
                y: 0,
                w: 300,
                h: 100
            }
        );
        let tiny = Frame::new(1, 1, 4, vec![1, 2, 3, 0]);
        assert_eq!(window(&tiny, 5, 5).w, 1);
    }
}
