//! `average-hue`, as the service's FAQ describes it: take the average hue
//! of the image, call "salient" the pixels whose hue is more than
//! `THRESHOLD` degrees from it, and return the mean colour of the salient
//! pixels — or of all pixels when none stands out (a flat image).

use pixgate_codec::Frame;

/// Hue distance, in degrees, past which a pixel stands out (the service does
/// not publish its threshold).
pub const THRESHOLD: f64 = 30.0;
/// Pixels this grey (low saturation) carry no meaningful hue.
const MIN_SATURATION: f64 = 0.1;

fn hue_sat(p: &[u8]) -> (f64, f64) {
    let (r, g, b) = (
        f64::from(p[0]) / 255.0,
        f64::from(p[1]) / 255.0,
        f64::from(p[2]) / 255.0,
    );
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let sat = if max == 0.0 { 0.0 } else { d / max };
    if d == 0.0 {
        return (0.0, sat);
    }
    let h = if max == r {
        60.0 * (((g - b) / d).rem_euclid(6.0))
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    (h, sat)
}

/// The colour, RGB.
pub fn average_hue(f: &Frame) -> [u8; 3] {
    let c = f.channels as usize;
    let visible = || f.data.chunks_exact(c).filter(|p| c == 3 || p[3] > 0);
    // Circular mean of the hue of coloured pixels.
    let (mut sx, mut sy) = (0.0, 0.0);
    for p in visible() {
        let (h, s) = hue_sat(p);
        if s >= MIN_SATURATION {
            let rad = h.to_radians();
            sx += rad.cos();
            sy += rad.sin();
        }
    }
    let mean_hue = sy.atan2(sx).to_degrees().rem_euclid(360.0);
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    let mut all = [0u64; 3];
    let mut n_all = 0u64;
    for p in visible() {
        for k in 0..3 {
            all[k] += u64::from(p[k]);
        }
        n_all += 1;
        let (h, s) = hue_sat(p);
        let dist = (h - mean_hue).abs();
        let dist = dist.min(360.0 - dist);
        if s >= MIN_SATURATION && dist > THRESHOLD {
            for k in 0..3 {
                sum[k] += u64::from(p[k]);
            }
            n += 1;
        }
    }
    let (sum, n) = if n == 0 {
        (all, n_all.max(1))
    } else {
        (sum, n)
    };
    let avg = |k: usize| ((sum[k] + n / 2) / n).min(255) as u8;
    [avg(0), avg(1), avg(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_image_is_its_own_colour() {
        assert_eq!(
            average_hue(&Frame::filled(8, 8, &[0x5c, 0x78, 0x3b])),
            [0x5c, 0x78, 0x3b]
        );
    }

    #[test]
    fn the_salient_colour_wins() {
        // Mostly green with a red patch: the red pixels stand out.
        let mut data = Vec::new();
        for i in 0..100 {
            data.extend_from_slice(if i < 90 { &[0, 200, 0] } else { &[200, 0, 0] });
        }
        assert_eq!(average_hue(&Frame::new(10, 10, 3, data)), [0xc8, 0, 0]);
    }
}
