//! `bright` and `contrast`: per-channel lookup tables (alpha untouched).

use pixgate_codec::Frame;

fn map(f: &Frame, lut: &[u8; 256]) -> Frame {
    let c = f.channels as usize;
    let data = f
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if c == 4 && i % 4 == 3 {
                v
            } else {
                lut[v as usize]
            }
        })
        .collect();
    Frame::new(f.width, f.height, f.channels, data)
}

fn lut(f: impl Fn(f32) -> f32) -> [u8; 256] {
    let mut t = [0u8; 256];
    for (i, v) in t.iter_mut().enumerate() {
        *v = f(i as f32).round().clamp(0.0, 255.0) as u8;
    }
    t
}

/// −100..=100 shifts every channel by up to half the range (±127.5).
pub fn bright(f: &Frame, v: i32) -> Frame {
    let offset = v as f32 * 1.275;
    map(f, &lut(|x| x + offset))
}

/// −100 flattens to mid-grey, 0 keeps, 100 triples the distance from mid-grey.
pub fn contrast(f: &Frame, v: i32) -> Frame {
    let k = if v >= 0 {
        1.0 + v as f32 / 50.0
    } else {
        1.0 + v as f32 / 100.0
    };
    map(f, &lut(|x| (x - 127.5) * k + 127.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(f: &Frame) -> f64 {
        f.data.iter().map(|&v| f64::from(v)).sum::<f64>() / f.data.len() as f64
    }

    #[test]
    fn bright_moves_the_mean() {
        let f = Frame::filled(4, 4, &[100, 100, 100]);
        assert!(mean(&bright(&f, 50)) > 160.0);
        assert!(mean(&bright(&f, -50)) < 40.0);
        assert_eq!(bright(&f, 0), f);
    }

    #[test]
    fn contrast_spreads_or_flattens() {
        let f = Frame::new(2, 1, 3, vec![50, 50, 50, 200, 200, 200]);
        let hi = contrast(&f, 50);
        assert!(hi.data[0] < 50 && hi.data[3] > 200);
        let flat = contrast(&f, -100);
        assert_eq!(flat.data[0], flat.data[3]);
    }
}
