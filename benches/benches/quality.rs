//! The default quality of each lossy output format, chosen by measurement:
//! photos from the corpus (shrunk on load to about 1 MP) are encoded as
//! JPEG q80 — the reference users compare with — and as AVIF and HEIC at a
//! range of qualities; each result is decoded and scored against the source
//! with SSIMULACRA2 (higher is closer; ~70 is "high quality", ~80 "very
//! high"). The lowest AVIF/HEIC quality whose mean score reaches JPEG
//! q80's is the one to use by default. Prints a Markdown table.
//!
//! cargo bench -p pixgate-benches --bench quality

use std::time::Instant;

use pixgate_codec::{EncodeOptions, Format, Frame, Limits, decode, encode, probe, shrink_factor};
use ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic, compute_frame_ssimulacra2};

const PHOTOS: [&str; 5] = [
    "photos/phone-4032x3024.jpg",
    "photos/flickr-2725x2225.jpg",
    "photos/flowers-1920x1080.jpg",
    "photos/iphone6-3264x2448.jpg",
    "photos/jolla-3264x2448.jpg",
];
/// Qualities tried per format, around where each meets JPEG q80 (a
/// coarse sweep 40–85 placed AVIF between 75 and 85, HEIC between 50 and
/// 55).
const QUALITIES: [(Format, [u8; 6]); 2] = [
    (Format::Avif, [70, 75, 78, 80, 82, 85]),
    (Format::Heic, [45, 50, 52, 53, 55, 60]),
];

fn corpus(rel: &str) -> Option<Vec<u8>> {
    let dir = pixgate_benches::corpus_dir();
    std::fs::read(dir.join(rel)).ok()
}

fn rgb(f: &Frame) -> Rgb {
    let data = f
        .data
        .chunks_exact(f.channels as usize)
        .map(|p| [p[0], p[1], p[2]].map(|v| f32::from(v) / 255.0))
        .collect();
    Rgb::new(
        data,
        f.width as usize,
        f.height as usize,
        TransferCharacteristic::SRGB,
        ColorPrimaries::BT709,
    )
    .expect("an sRGB frame")
}

/// Score, bytes and encode milliseconds of `format` at `quality`.
fn trial(source: &Frame, format: Format, quality: u8) -> (f64, usize, f64) {
    let limits = Limits::default();
    let opts = EncodeOptions {
        quality,
        ..EncodeOptions::default()
    };
    let started = Instant::now();
    let bytes = encode(source.clone(), format, &opts).expect("encode");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let p = probe(&bytes).expect("probe");
    let back = decode(&bytes, &p, 1, &limits).expect("decode");
    let score = compute_frame_ssimulacra2(rgb(source), rgb(&back)).expect("score");
    (score, bytes.len(), ms)
}

fn main() {
    // `cargo test --benches` runs benches as tests: nothing to measure then.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let limits = Limits::default();
    let sources: Vec<Frame> = PHOTOS
        .iter()
        .filter_map(|rel| corpus(rel))
        .map(|bytes| {
            let p = probe(&bytes).expect("probe");
            let shrink = shrink_factor(p.width, p.height, (1200, 1200));
            let f = decode(&bytes, &p, shrink, &limits).expect("decode");
            // Scored as RGB (the photos have no alpha).
            f.flatten([255, 255, 255])
        })
        .collect();
    assert!(!sources.is_empty(), "no corpus photos found");
    let mean = |format: Format, q: u8| {
        let runs: Vec<(f64, usize, f64)> = sources.iter().map(|s| trial(s, format, q)).collect();
        let n = runs.len() as f64;
        (
            runs.iter().map(|r| r.0).sum::<f64>() / n,
            runs.iter().map(|r| r.1).sum::<usize>() as f64 / n,
            runs.iter().map(|r| r.2).sum::<f64>() / n,
        )
    };
    let (jpeg_score, jpeg_bytes, jpeg_ms) = mean(Format::Jpg, 80);
    println!(
        "{} photos, ~1 MP each (shrunk on load), mean over photos.\n",
        sources.len()
    );
    println!("| format | quality | SSIMULACRA2 | bytes | encode ms |");
    println!("|---|---|---|---|---|");
    println!("| JPEG | 80 | {jpeg_score:.1} | {jpeg_bytes:.0} | {jpeg_ms:.1} |");
    for (format, qualities) in QUALITIES {
        let mut chosen = None;
        for q in qualities {
            let (score, bytes, ms) = mean(format, q);
            println!(
                "| {} | {q} | {score:.1} | {bytes:.0} | {ms:.1} |",
                format.as_str().to_uppercase()
            );
            if chosen.is_none() && score >= jpeg_score {
                chosen = Some((q, bytes));
            }
        }
        match chosen {
            Some((q, bytes)) => println!(
                "\n{}: quality {q} reaches JPEG q80's score at {:.0} % of its bytes.\n",
                format.as_str().to_uppercase(),
                100.0 * bytes / jpeg_bytes
            ),
            None => println!(
                "\n{}: no quality tried reaches JPEG q80's score.\n",
                format.as_str().to_uppercase()
            ),
        }
    }
}
