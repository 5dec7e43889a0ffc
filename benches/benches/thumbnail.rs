//! The thumbnail path stage by stage: a 12 MP phone JPEG to a 400 px wide
//! JPEG q80, with and without shrink-on-load, baseline and progressive; and
//! the convolutions (blur, sharpen) on the same photo at full size.
//!
//! cargo bench -p pixgate-benches --bench thumbnail
//! cargo bench -p pixgate-benches --bench thumbnail -- blur

use criterion::{Criterion, criterion_group, criterion_main};
use pixgate_api::Plan;
use pixgate_codec::{EncodeOptions, Format, Limits, decode, encode, probe, shrink_factor};
use pixgate_ops::action::resize::scale;
use pixgate_ops::action::{blur, sharpen};
use pixgate_ops::{Settings, Stop, process};

fn corpus(rel: &str) -> Vec<u8> {
    let dir = pixgate_benches::corpus_dir();
    std::fs::read(dir.join(rel)).expect("the shared corpus beside the checkout")
}

fn stages(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, file) in [
        ("baseline", "photos/phone-4032x3024.jpg"),
        ("progressive", "photos/phone-4032x3024-progressive.jpg"),
    ] {
        let bytes = corpus(file);
        let p = probe(&bytes).expect("probe");
        let shrink = shrink_factor(p.width, p.height, (400, 300));
        let mut g = c.benchmark_group(format!("12mp-{name}"));
        g.sample_size(20);
        g.bench_function("decode-full", |b| {
            b.iter(|| decode(&bytes, &p, 1, &limits).expect("decode"))
        });
        // zune-jpeg (the image crate's JPEG decoder), full size: the pure-Rust
        // alternative, which has no scaled decode.
        g.bench_function("decode-full-zune-jpeg", |b| {
            b.iter(|| {
                image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
                    .expect("zune-jpeg decode")
            })
        });
        g.bench_function(format!("decode-1/{shrink}"), |b| {
            b.iter(|| decode(&bytes, &p, shrink, &limits).expect("decode"))
        });
        // libjpeg-turbo's own scaled decode, which pixgate's DC decoder
        // (jpeg_dc.rs) replaces at 1/8.
        g.bench_function(format!("decode-1/{shrink}-libjpeg-turbo"), |b| {
            b.iter(|| {
                let mut d = turbojpeg::Decompressor::new().expect("tj");
                let factor = turbojpeg::ScalingFactor::new(1, shrink as usize);
                d.set_scaling_factor(factor).expect("scale");
                let s = d.read_header(&bytes).expect("header").scaled(factor);
                let mut px = vec![0u8; s.width * s.height * 3];
                let image = turbojpeg::Image {
                    pixels: px.as_mut_slice(),
                    width: s.width,
                    pitch: s.width * 3,
                    height: s.height,
                    format: turbojpeg::PixelFormat::RGB,
                };
                d.decompress(&bytes, image).expect("decode");
                px
            })
        });
        let full = decode(&bytes, &p, 1, &limits).expect("decode");
        let small = decode(&bytes, &p, shrink, &limits).expect("decode");
        g.bench_function("resize-from-full", |b| {
            b.iter(|| scale(&full, 400, 300).expect("scale"))
        });
        g.bench_function(format!("resize-from-1/{shrink}"), |b| {
            b.iter(|| scale(&small, 400, 300).expect("scale"))
        });
        let thumb = scale(&small, 400, 300).expect("scale");
        let opts = EncodeOptions {
            quality: 80,
            ..EncodeOptions::default()
        };
        g.bench_function("encode-400x300-q80", |b| {
            b.iter(|| encode(thumb.clone(), Format::Jpg, &opts).expect("encode"))
        });
        let settings = Settings::new(limits, true, Stop::never());
        let shrinking = Plan::parse("resize,w_400/quality,Q_80").expect("plan");
        // A leading no-op crop makes the pipeline decode at full size.
        let full_size = Plan::parse("crop,x_0,y_0/resize,w_400/quality,Q_80").expect("plan");
        g.bench_function("pipeline-shrink-on-load", |b| {
            b.iter(|| process(&bytes, &shrinking, &settings).expect("process"))
        });
        g.bench_function("pipeline-full-decode", |b| {
            b.iter(|| process(&bytes, &full_size, &settings).expect("process"))
        });
        g.finish();
    }
}

/// WebP, the slow leg of the peer benchmark's (b): decoding a 1024×772 lossy
/// file with image-webp (pure Rust) against libwebp, and libwebp's encoder
/// methods 0–6 at q80 on the 512×386 result (the sizes are printed once).
fn webp(c: &mut Criterion) {
    let limits = Limits::default();
    let bytes = corpus("formats/4.webp");
    let p = probe(&bytes).expect("probe");
    let mut g = c.benchmark_group("webp-1024x772");
    g.sample_size(20);
    g.bench_function("decode-image-webp", |b| {
        b.iter(|| decode(&bytes, &p, 1, &limits).expect("decode"))
    });
    g.bench_function("decode-libwebp", |b| {
        b.iter(|| {
            webp::Decoder::new(&bytes)
                .decode()
                .expect("decode")
                .to_vec()
        })
    });
    let frame = decode(&bytes, &p, 1, &limits).expect("decode");
    let small = scale(&frame, 512, 386).expect("scale");
    for method in [0, 1, 2, 3, 4, 6] {
        let mut config = webp::WebPConfig::new().expect("config");
        config.quality = 80.0;
        config.method = method;
        let enc = webp::Encoder::from_rgb(&small.data, small.width, small.height);
        let size = enc.encode_advanced(&config).expect("encode").len();
        println!("webp method {method}: {size} bytes");
        g.bench_function(format!("encode-512-q80-method-{method}"), |b| {
            b.iter(|| enc.encode_advanced(&config).expect("encode").len())
        });
    }
    g.finish();
}

/// Blur and sharpen on the decoded 12 MP photo (4032×3024 RGB): the
/// documented `blur,r_3,s_2`, the largest `blur,r_50,s_50` (101 taps per
/// pass) and `sharpen,100` (7 taps, then the mask).
fn convolutions(c: &mut Criterion) {
    let limits = Limits::default();
    let bytes = corpus("photos/phone-4032x3024.jpg");
    let p = probe(&bytes).expect("probe");
    let full = decode(&bytes, &p, 1, &limits).expect("decode");
    let never = Stop::never();
    let mut g = c.benchmark_group("blur-12mp");
    g.sample_size(10);
    for (r, s) in [(3, 2), (50, 50)] {
        g.bench_function(format!("blur-r{r}-s{s}"), |b| {
            b.iter(|| blur::blur(&full, r, s, &never).expect("blur"))
        });
    }
    g.bench_function("sharpen-100", |b| {
        b.iter(|| sharpen::sharpen(&full, 100, &never).expect("sharpen"))
    });
    g.finish();
}

criterion_group!(benches, stages, webp, convolutions);
criterion_main!(benches);
