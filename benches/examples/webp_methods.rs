//! libwebp's `method` (effort, 0–6) measured where pixgate uses it: photos
//! fitted into 512 px, encoded at quality 80 with methods 0–4, each scored
//! against the picture it was encoded from with SSIMULACRA2. Prints the
//! median encode time of nine, the bytes and the score per method — the
//! numbers behind `WEBP_METHOD` in `codec/src/encode.rs`.
//!
//! PIXGATE_CORPUS=../shared/corpus cargo run --release -p pixgate-benches --example webp_methods

use std::time::Instant;

use pixgate_codec::{Limits, decode, probe, shrink_factor};
use pixgate_ops::action::resize::scale;
use ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic, compute_frame_ssimulacra2};

const FILES: [&str; 6] = [
    "formats/4.webp",
    "photos/phone-4032x3024.jpg",
    "photos/flickr-2725x2225.jpg",
    "photos/iphone6-3264x2448.jpg",
    "photos/jolla-3264x2448.jpg",
    "photos/320x240.jpg",
];

fn rgb(data: &[u8], channels: usize, w: u32, h: u32) -> Rgb {
    let samples = data
        .chunks_exact(channels)
        .map(|p| [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0))
        .collect();
    Rgb::new(
        samples,
        w as usize,
        h as usize,
        TransferCharacteristic::SRGB,
        ColorPrimaries::BT709,
    )
    .expect("an sRGB picture")
}

fn main() {
    let dir = pixgate_benches::corpus_dir();
    let limits = Limits::default();
    println!(
        "| file | size | method | encode ms | bytes | SSIMULACRA2 |\n|---|---|---|---|---|---|"
    );
    for file in FILES {
        let bytes = std::fs::read(dir.join(file)).expect("the shared corpus");
        let p = probe(&bytes).expect("probe");
        let r = (512.0 / f64::from(p.width.max(p.height))).min(1.0);
        let (w, h) = (
            (f64::from(p.width) * r).round() as u32,
            (f64::from(p.height) * r).round() as u32,
        );
        let frame = decode(
            &bytes,
            &p,
            shrink_factor(p.width, p.height, (w, h)),
            &limits,
        )
        .expect("decode");
        let small = scale(&frame, w, h).expect("scale");
        let reference = rgb(&small.data, usize::from(small.channels), w, h);
        for method in 0..=4 {
            let encoder = webp::Encoder::from_rgb(&small.data, w, h);
            let mut config = webp::WebPConfig::new().expect("a WebP configuration");
            config.quality = 80.0;
            config.method = method;
            let mut times = Vec::new();
            let mut out = Vec::new();
            for _ in 0..9 {
                let t = Instant::now();
                out = encoder.encode_advanced(&config).expect("encode").to_vec();
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            let decoded = image::load_from_memory(&out).expect("decode").into_rgb8();
            let score =
                compute_frame_ssimulacra2(reference.clone(), rgb(decoded.as_raw(), 3, w, h))
                    .expect("score");
            println!(
                "| {file} | {w}×{h} | {method} | {:.2} | {} | {score:.1} |",
                times[4],
                out.len()
            );
        }
    }
}
