//! Lossy WebP resized in its YUV 4:2:0 planes against the RGB route, where
//! pixgate takes the planes route (`ops/src/webp_planes.rs`): fit into
//! 504–520 px boxes, quality 80. Each result is scored with SSIMULACRA2
//! against the same source decoded to RGB and resized with the same
//! Lanczos3, unencoded. Prints median times of nine (decode, resize,
//! encode), bytes and scores per route.
//!
//! PIXGATE_CORPUS=../shared/corpus cargo run --release -p pixgate-benches --example webp_planes

use std::time::Instant;

use pixgate_codec::{
    EncodeOptions, Format, Frame, Limits, decode, decode_webp_planes, encode, encode_webp_planes,
    probe,
};
use pixgate_ops::action::resize::{scale, scale_planes};
use ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic, compute_frame_ssimulacra2};

/// The corpus's opaque lossy WebP, and photos made into lossy WebPs (long
/// side 1024 and 1600, quality 85) as a camera-to-web pipeline would.
const WEBPS: [&str; 2] = ["formats/4.webp", "formats/hopper.webp"];
const PHOTOS: [&str; 3] = [
    "photos/flickr-2725x2225.jpg",
    "photos/jolla-3264x2448.jpg",
    "photos/flowers-1920x1080.jpg",
];
const BOXES: [u32; 5] = [504, 508, 512, 516, 520];

fn rgb(f: &Frame) -> Rgb {
    let samples = f
        .data
        .chunks_exact(usize::from(f.channels))
        .map(|p| [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0))
        .collect();
    Rgb::new(
        samples,
        f.width as usize,
        f.height as usize,
        TransferCharacteristic::SRGB,
        ColorPrimaries::BT709,
    )
    .expect("an sRGB picture")
}

fn median<T>(mut run: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..9 {
        let t = Instant::now();
        out = Some(run());
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[4], out.expect("nine runs"))
}

fn fit(w: u32, h: u32, side: u32) -> (u32, u32) {
    let r = f64::from(side) / f64::from(w.max(h));
    (
        ((f64::from(w) * r).round() as u32).max(1),
        ((f64::from(h) * r).round() as u32).max(1),
    )
}

fn main() {
    let dir = pixgate_benches::corpus_dir();
    let limits = Limits::default();
    let opts = |quality| EncodeOptions {
        quality,
        progressive: false,
        background: [255, 255, 255],
    };
    let mut sources: Vec<(String, Vec<u8>)> = WEBPS
        .iter()
        .map(|f| (f.to_string(), std::fs::read(dir.join(f)).expect("corpus")))
        .collect();
    for file in PHOTOS {
        let bytes = std::fs::read(dir.join(file)).expect("corpus");
        let p = probe(&bytes).expect("probe");
        let full = decode(&bytes, &p, 1, &limits).expect("decode");
        for side in [1024, 1600] {
            let (w, h) = fit(p.width, p.height, side);
            let small = scale(&full, w, h).expect("scale");
            let webp = encode(small, Format::Webp, &opts(85)).expect("encode");
            sources.push((format!("{file} as {w}×{h} WebP"), webp));
        }
    }
    println!(
        "| source | box | RGB ms (dec/res/enc) | planes ms (dec/res/enc) | RGB bytes | planes bytes | RGB score | planes score |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut totals = [0.0f64; 6];
    let mut n = 0.0;
    for (name, bytes) in &sources {
        let p = probe(bytes).expect("probe");
        for side in BOXES {
            let (w, h) = fit(p.width, p.height, side);
            let (rd, full) = median(|| decode(bytes, &p, 1, &limits).expect("decode"));
            let (rr, small) = median(|| scale(&full, w, h).expect("scale"));
            let reference = rgb(&small);
            let (re, via_rgb) =
                median(|| encode(small.clone(), Format::Webp, &opts(80)).expect("encode"));
            let (pd, planes) = median(|| {
                decode_webp_planes(bytes, &p, &limits)
                    .expect("decode")
                    .expect("a lossy opaque WebP")
            });
            let (pr, scaled) = median(|| scale_planes(&planes, w, h).expect("scale"));
            let (pe, via_planes) =
                median(|| encode_webp_planes(&mut scaled.clone(), 80).expect("encode"));
            let score = |out: &[u8]| {
                let f = decode(out, &probe(out).expect("probe"), 1, &limits).expect("decode");
                compute_frame_ssimulacra2(reference.clone(), rgb(&f)).expect("score")
            };
            let (rs, ps) = (score(&via_rgb), score(&via_planes));
            println!(
                "| {name} | {w}×{h} | {:.2} ({rd:.2}/{rr:.2}/{re:.2}) | {:.2} ({pd:.2}/{pr:.2}/{pe:.2}) | {} | {} | {rs:.1} | {ps:.1} |",
                rd + rr + re,
                pd + pr + pe,
                via_rgb.len(),
                via_planes.len()
            );
            for (t, v) in totals.iter_mut().zip([
                rd + rr + re,
                pd + pr + pe,
                via_rgb.len() as f64,
                via_planes.len() as f64,
                rs,
                ps,
            ]) {
                *t += v;
            }
            n += 1.0;
        }
    }
    let [rt, pt, rb, pb, rs, ps] = totals.map(|t| t / n);
    println!(
        "\nmeans: RGB {rt:.2} ms, planes {pt:.2} ms ({:+.1} %); bytes {:+.2} %; SSIMULACRA2 RGB {rs:.2}, planes {ps:.2} ({:+.2})",
        (pt / rt - 1.0) * 100.0,
        (pb / rb - 1.0) * 100.0,
        ps - rs
    );
}
