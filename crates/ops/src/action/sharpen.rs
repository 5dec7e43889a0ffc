//! `sharpen,N`: unsharp mask, out = x + (N/100)·(x − blur(x)), sigma 1.

use pixgate_codec::Frame;

use super::blur::{convolve, kernel, to_u8};
use crate::error::OpsError;
use crate::stop::Stop;

/// The blur under the mask: radius 3, sigma 1 (7 taps).
pub const RADIUS: u32 = 3;

pub fn sharpen(f: &Frame, amount: u32, stop: &Stop) -> Result<Frame, OpsError> {
    let blurred = convolve(f, &kernel(RADIUS, 1.0), stop)?;
    stop.check()?;
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
            to_u8(v)
        })
        .collect();
    Ok(Frame::new(f.width, f.height, f.channels, data))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_flat_image_stays_flat_and_a_past_deadline_stops() {
        let f = Frame::filled(50, 40, &[100, 150, 200]);
        assert_eq!(sharpen(&f, 200, &Stop::never()).unwrap(), f);
        let stop = Stop::new(Some(Instant::now()), None);
        std::thread::sleep(Duration::from_millis(2));
        let e = sharpen(&f, 200, &stop).unwrap_err();
        assert!(matches!(e, OpsError::DeadlineExceeded), "{e:?}");
    }
}
