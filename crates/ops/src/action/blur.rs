//! `blur,r_N,s_N`: separable Gaussian, clamped at the edges.

use pixgate_codec::Frame;

/// A normalised Gaussian kernel of sigma `s`, cut at `r` pixels each side —
/// and at 3σ, past which the weights (< 1.1 % in all) change no 8-bit value
/// that matters but would cost time.
pub fn kernel(r: u32, s: f64) -> Vec<f32> {
    let r = r.min((3.0 * s).ceil() as u32).max(1) as i32;
    let mut k: Vec<f32> = (-r..=r)
        .map(|i| (-(f64::from(i * i)) / (2.0 * s * s)).exp() as f32)
        .collect();
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= sum);
    k
}

/// Convolves rows, then columns, with `k` (odd length).
pub fn convolve(f: &Frame, k: &[f32]) -> Frame {
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

pub fn blur(f: &Frame, r: u32, s: u32) -> Frame {
    convolve(f, &kernel(r, f64::from(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_is_normalised_and_cut() {
        let k = kernel(50, 2.0);
        assert_eq!(k.len(), 13);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(kernel(3, 10.0).len(), 7);
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
        let b = blur(&Frame::new(20, 20, 3, data), 3, 2);
        assert_eq!(b.pixel(0, 5), &[0, 0, 0]);
        assert_eq!(b.pixel(19, 5), &[255, 255, 255]);
        let edge = b.pixel(10, 5)[0];
        assert!(edge > 100 && edge < 230, "{edge}");
    }
}
