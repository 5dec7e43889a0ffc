//! `sharpen,N`: unsharp mask, out = x + (N/100)·(x − blur(x)), sigma 1.

use pixgate_codec::Frame;

use super::blur::{convolve, kernel};

pub fn sharpen(f: &Frame, amount: u32) -> Frame {
    let blurred = convolve(f, &kernel(3, 1.0));
    let a = amount as f32 / 100.0;
    let c = f.channels as usize;
    let data = f
        .data
        .iter()
        .zip(&blurred.data)
        .enumerate()
        .map(|(i, (&x, &b))| {
            if c == 4 && i % 4 == 3 {
                return x; // alpha is not sharpened
            }
            let v = f32::from(x) + a * (f32::from(x) - f32::from(b));
            v.round().clamp(0.0, 255.0) as u8
        })
        .collect();
    Frame::new(f.width, f.height, f.channels, data)
}
