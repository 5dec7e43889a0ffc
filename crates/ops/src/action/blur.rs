//! `blur,r_N,s_N`: separable Gaussian, clamped at the edges.
//!
//! Each row is widened into an edge-padded `f32` buffer (channels stay
//! interleaved: tap `i` of every channel is the same slice shifted by `i`
//! pixels), and every tap is one multiply-add over a contiguous slice, which
//! the compiler vectorises. Rows then columns; the columns read a ring of
//! `2r + 1` row-filtered rows, so the intermediate image is never held
//! whole. The sums are taken in the same order as the plain per-pixel loop
//! (tap 0 first), so the values are the same to the bit before rounding.

use pixgate_codec::Frame;

use crate::error::OpsError;
use crate::stop::Stop;

/// A normalised Gaussian kernel of sigma `s`, cut at `r` pixels each side —
/// and at 3σ, past which the weights (< 1.1 % in all) change no 8-bit value
/// that matters but would cost time.
pub fn kernel(r: u32, s: f64) -> Vec<f32> {
    let r = kernel_radius(r, s) as i32;
    let mut k: Vec<f32> = (-r..=r)
        .map(|i| (-(f64::from(i * i)) / (2.0 * s * s)).exp() as f32)
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

/// The radius [`kernel`] keeps: `r`, cut at 3σ, at least 1. The cost model
/// counts `2 × radius + 1` taps per pixel and pass.
pub fn kernel_radius(r: u32, s: f64) -> u32 {
    r.min((3.0 * s).ceil() as u32).max(1)
}

/// Convolves rows, then columns, with `k` (odd length), checking `stop`
/// once per output row.
pub fn convolve(f: &Frame, k: &[f32], stop: &Stop) -> Result<Frame, OpsError> {
    let (w, h, c) = (f.width as usize, f.height as usize, f.channels as usize);
    let r = k.len() / 2;
    let line = w * c;
    if line == 0 || h == 0 {
        return Ok(f.clone());
    }
    // One source row, edge-padded by r pixels each side, as f32.
    let mut pad = vec![0f32; (w + 2 * r) * c];
    // Row-filtered rows, source row `y` in slot `y % cap`: the rows one
    // output row needs are at most `cap` consecutive ones.
    let cap = k.len().min(h);
    let mut ring = vec![0f32; cap * line];
    let mut filtered = 0; // source rows filtered so far
    let mut acc = vec![0f32; line];
    let mut out = vec![0u8; h * line];
    for (y, out_row) in out.chunks_exact_mut(line).enumerate() {
        stop.check()?;
        // Filter the rows this output row reaches down to.
        let last = (y + r).min(h - 1);
        while filtered <= last {
            let sy = filtered;
            let src = &f.data[sy * line..(sy + 1) * line];
            fill_padded(&mut pad, src, c, r);
            let slot = &mut ring[(sy % cap) * line..(sy % cap + 1) * line];
            slot.fill(0.0);
            taps(slot, k, |i| &pad[i * c..i * c + line]);
            filtered += 1;
        }
        acc.fill(0.0);
        taps(&mut acc, k, |i| {
            let sy = (y + i).saturating_sub(r).min(h - 1);
            &ring[(sy % cap) * line..(sy % cap + 1) * line]
        });
        for (o, &v) in out_row.iter_mut().zip(&acc) {
            *o = to_u8(v);
        }
    }
    Ok(Frame::new(f.width, f.height, f.channels, out))
}

/// `row` (`w` pixels of `c` channels) into `pad`, its first and last pixels
/// repeated `r` times on their side.
fn fill_padded(pad: &mut [f32], row: &[u8], c: usize, r: usize) {
    let (left, rest) = pad.split_at_mut(r * c);
    let (mid, right) = rest.split_at_mut(row.len());
    for (p, &v) in mid.iter_mut().zip(row) {
        *p = f32::from(v);
    }
    for px in left.chunks_exact_mut(c) {
        px.copy_from_slice(&mid[..c]);
    }
    let end = &mid[row.len() - c..];
    for px in right.chunks_exact_mut(c) {
        px.copy_from_slice(end);
    }
}

/// `out[x] += k[i] · src(i)[x]` for every tap `i` in order, up to four taps
/// per pass over `out` (one load and store of `out` per four taps; each sum
/// is still added tap by tap, left to right).
fn taps<'a>(out: &mut [f32], k: &[f32], src: impl Fn(usize) -> &'a [f32]) {
    let n = out.len();
    let mut i = 0;
    while i + 4 <= k.len() {
        let (k0, k1, k2, k3) = (k[i], k[i + 1], k[i + 2], k[i + 3]);
        let (s0, s1, s2, s3) = (
            &src(i)[..n],
            &src(i + 1)[..n],
            &src(i + 2)[..n],
            &src(i + 3)[..n],
        );
        for ((((o, a), b), c), d) in out.iter_mut().zip(s0).zip(s1).zip(s2).zip(s3) {
            *o = *o + k0 * a + k1 * b + k2 * c + k3 * d;
        }
        i += 4;
    }
    match k.len() - i {
        3 => {
            let (k0, k1, k2) = (k[i], k[i + 1], k[i + 2]);
            let (s0, s1, s2) = (&src(i)[..n], &src(i + 1)[..n], &src(i + 2)[..n]);
            for (((o, a), b), c) in out.iter_mut().zip(s0).zip(s1).zip(s2) {
                *o = *o + k0 * a + k1 * b + k2 * c;
            }
        }
        2 => {
            let (k0, k1) = (k[i], k[i + 1]);
            let (s0, s1) = (&src(i)[..n], &src(i + 1)[..n]);
            for ((o, a), b) in out.iter_mut().zip(s0).zip(s1) {
                *o = *o + k0 * a + k1 * b;
            }
        }
        1 => {
            let k0 = k[i];
            for (o, a) in out.iter_mut().zip(&src(i)[..n]) {
                *o += k0 * a;
            }
        }
        _ => {}
    }
}

/// `v` rounded to the nearest 8-bit value, halves up. `(v + 0.5) as u8`
/// (a truncating, saturating conversion) vectorises where `f32::round`
/// is a library call per value; for the non-negative sums here they agree
/// but for values a hair under a half, where the f32 addition rounds up.
#[inline]
pub(crate) fn to_u8(v: f32) -> u8 {
    (v.clamp(0.0, 255.0) + 0.5) as u8
}

pub fn blur(f: &Frame, r: u32, s: u32, stop: &Stop) -> Result<Frame, OpsError> {
    convolve(f, &kernel(r, f64::from(s)), stop)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// The implementation this file replaced: scalar, a clamp per tap.
    fn reference(f: &Frame, k: &[f32]) -> Frame {
        let (w, h, c) = (f.width as usize, f.height as usize, f.channels as usize);
        let r = (k.len() / 2) as isize;
        let mut tmp = vec![0f32; w * h * c];
        for y in 0..h {
            let row = &f.data[y * w * c..(y + 1) * w * c];
            for x in 0..w {
                for ch in 0..c {
                    let mut acc = 0f32;
                    for (i, kv) in k.iter().enumerate() {
                        let sx = (x as isize + i as isize - r).clamp(0, w as isize - 1) as usize;
                        acc += kv * f32::from(row[sx * c + ch]);
                    }
                    tmp[(y * w + x) * c + ch] = acc;
                }
            }
        }
        let mut out = vec![0u8; w * h * c];
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    let mut acc = 0f32;
                    for (i, kv) in k.iter().enumerate() {
                        let sy = (y as isize + i as isize - r).clamp(0, h as isize - 1) as usize;
                        acc += kv * tmp[(sy * w + x) * c + ch];
                    }
                    out[(y * w + x) * c + ch] = acc.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        Frame::new(f.width, f.height, f.channels, out)
    }

    /// A deterministic noisy image (xorshift), with some smooth areas.
    fn random_frame(w: u32, h: u32, c: u8, seed: u64) -> Frame {
        let mut s = seed | 1;
        let mut data = Vec::with_capacity((w * h) as usize * c as usize);
        for y in 0..h {
            for x in 0..w {
                for ch in 0..c {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    let v = if x < w / 3 {
                        (x * 7 + y * 3 + u32::from(ch) * 50) as u8
                    } else {
                        s as u8
                    };
                    data.push(v);
                }
            }
        }
        Frame::new(w, h, c, data)
    }

    #[test]
    fn kernel_is_normalised_and_cut() {
        let k = kernel(50, 2.0);
        assert_eq!(k.len(), 13);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(kernel(3, 10.0).len(), 7);
        assert_eq!(kernel(50, 50.0).len(), 101);
    }

    #[test]
    fn blur_smooths_an_edge_and_keeps_flat_areas() {
        let mut data = Vec::new();
        for _ in 0..20 {
            for x in 0..20 {
                let v = if x < 10 { 0 } else { 255 };
                data.extend_from_slice(&[v, v, v]);
            }
        }
        let b = blur(&Frame::new(20, 20, 3, data), 3, 2, &Stop::never()).unwrap();
        assert_eq!(b.pixel(0, 5), &[0, 0, 0]);
        assert_eq!(b.pixel(19, 5), &[255, 255, 255]);
        let edge = b.pixel(10, 5)[0];
        assert!(edge > 100 && edge < 230, "{edge}");
    }

    #[test]
    fn matches_the_scalar_reference_on_random_images() {
        // Kernels longer and shorter than the image, RGB and RGBA, and
        // degenerate sizes (one row, one column).
        let cases = [
            (97, 61, 3, 3, 2),
            (97, 61, 4, 50, 50),
            (40, 33, 3, 10, 3),
            (1, 45, 3, 5, 5),
            (45, 1, 4, 5, 5),
            (7, 5, 3, 50, 50),
            (64, 64, 3, 1, 1),
        ];
        for (i, &(w, h, c, r, s)) in cases.iter().enumerate() {
            let f = random_frame(w, h, c, 0x9E37_79B9 + i as u64);
            let k = kernel(r, f64::from(s));
            let new = convolve(&f, &k, &Stop::never()).unwrap();
            let old = reference(&f, &k);
            assert_eq!((new.width, new.height, new.channels), (w, h, c));
            let worst = new
                .data
                .iter()
                .zip(&old.data)
                .map(|(&a, &b)| a.abs_diff(b))
                .max()
                .unwrap_or(0);
            assert!(worst <= 1, "{w}x{h}x{c} r{r} s{s}: off by {worst}");
        }
    }

    #[test]
    fn a_past_deadline_stops_the_blur() {
        let f = Frame::filled(2000, 2000, &[10, 20, 30]);
        let stop = Stop::new(Some(Instant::now()), None);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let started = Instant::now();
        let e = blur(&f, 50, 50, &stop).unwrap_err();
        assert!(matches!(e, OpsError::DeadlineExceeded), "{e:?}");
        assert!(started.elapsed().as_millis() < 50);
    }
}
