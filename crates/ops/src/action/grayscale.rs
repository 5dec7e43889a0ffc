//! Greyscale: each pixel to its Rec. 601 luma (what libjpeg and ImageMagick
//! use for "gray"), in place; alpha untouched. The frame keeps its channel
//! count so later steps and encoders see the same layout.

use pixgate_codec::Frame;

pub fn grayscale(mut f: Frame) -> Frame {
    let c = f.channels as usize;
    for px in f.data.chunks_exact_mut(c) {
        // Integer weights 77/150/29 (sum 256) of 0.299/0.587/0.114.
        let y = (77 * u32::from(px[0]) + 150 * u32::from(px[1]) + 29 * u32::from(px[2]) + 128) >> 8;
        let y = y.min(255) as u8;
        px[..3].fill(y);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_become_luma_and_alpha_stays() {
        let f = Frame::new(2, 1, 4, vec![255, 0, 0, 10, 255, 255, 255, 200]);
        let g = grayscale(f);
        assert_eq!(g.data, vec![77, 77, 77, 10, 255, 255, 255, 200]);
    }
}
