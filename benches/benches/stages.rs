//! Where a request's time goes, per peer-benchmark workload: decode (with
//! shrink-on-load where the format has one), resize, encode, and the whole
//! pipeline for comparison (probe, cost model and copies included); for a
//! lossy WebP kept WebP, the YUV planes route the pipeline takes too.
//!
//! cargo bench -p pixgate-benches --bench stages
//! cargo bench -p pixgate-benches --bench stages -- png/    # one workload

use criterion::{Criterion, criterion_group, criterion_main};
use pixgate_api::Plan;
use pixgate_codec::{
    EncodeOptions, Format, Limits, decode, decode_webp_planes, encode, encode_webp_planes, probe,
};
use pixgate_ops::action::resize::{scale, scale_planes};
use pixgate_ops::{Settings, Stop, decode_shrink, process};

fn corpus(rel: &str) -> Vec<u8> {
    let dir = pixgate_benches::corpus_dir();
    std::fs::read(dir.join(rel)).expect("the shared corpus beside the checkout")
}

/// (group, source, output size rule, output format, the same as a plan)
struct Workload {
    name: &'static str,
    file: &'static str,
    /// Width for "w", or the box side for "fit".
    size: (&'static str, u32),
    format: Format,
    plan: &'static str,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "12mp-jpeg-thumb",
        file: "photos/phone-4032x3024.jpg",
        size: ("w", 400),
        format: Format::Jpg,
        plan: "resize,w_400/quality,Q_80",
    },
    // c's widths above 504 decode at 1/4 (libjpeg), those up to 504 at
    // 1/8 as the thumbnail above.
    Workload {
        name: "12mp-jpeg-w750",
        file: "photos/phone-4032x3024.jpg",
        size: ("w", 750),
        format: Format::Jpg,
        plan: "resize,w_750/quality,Q_80",
    },
    Workload {
        name: "1080p-jpeg-fit512",
        file: "photos/flowers-1920x1080.jpg",
        size: ("fit", 512),
        format: Format::Jpg,
        plan: "resize,m_lfit,w_512,h_512/quality,Q_80",
    },
    Workload {
        name: "png-fit512",
        file: "formats/gradients-rgb8.png",
        size: ("fit", 512),
        format: Format::Png,
        plan: "resize,m_lfit,w_512,h_512",
    },
    Workload {
        name: "webp-fit512",
        file: "formats/4.webp",
        size: ("fit", 512),
        format: Format::Webp,
        plan: "resize,m_lfit,w_512,h_512/quality,Q_80",
    },
    Workload {
        name: "jpeg-to-avif-fit512",
        file: "photos/flowers-1920x1080.jpg",
        size: ("fit", 512),
        format: Format::Avif,
        plan: "resize,m_lfit,w_512,h_512/format,avif/quality,Q_80",
    },
];

/// The output size: `w` keeps the aspect ratio, `fit` fits inside a box.
fn target(w: u32, h: u32, size: (&str, u32)) -> (u32, u32) {
    let (w, h) = (f64::from(w), f64::from(h));
    let s = f64::from(size.1);
    let r = match size.0 {
        "w" => s / w,
        _ => (s / w).min(s / h),
    };
    (
        ((w * r).round() as u32).max(1),
        ((h * r).round() as u32).max(1),
    )
}

fn stages(c: &mut Criterion) {
    let limits = Limits::default();
    let settings = Settings::new(limits, true, Stop::never());
    for wl in WORKLOADS {
        let bytes = corpus(wl.file);
        let p = probe(&bytes).expect("probe");
        let (tw, th) = target(p.width, p.height, wl.size);
        // The pipeline's own choice of shrink-on-load.
        let plan = Plan::parse(wl.plan).expect("plan");
        let shrink = decode_shrink(&plan, &p, 1);
        let mut g = c.benchmark_group(wl.name);
        g.sample_size(10);
        g.bench_function(format!("decode-1/{shrink}"), |b| {
            b.iter(|| decode(&bytes, &p, shrink, &limits).expect("decode"))
        });
        // The paths these replaced, for comparison.
        match p.format {
            Format::Png => {
                g.bench_function("decode-via-image-crate", |b| {
                    b.iter(|| {
                        image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
                            .expect("decode")
                            .into_rgb8()
                    })
                });
            }
            Format::Webp => {
                g.bench_function("decode-full-webp-crate", |b| {
                    b.iter(|| {
                        webp::Decoder::new(&bytes)
                            .decode()
                            .expect("decode")
                            .to_vec()
                    })
                });
                g.bench_function("decode-full-1/1", |b| {
                    b.iter(|| decode(&bytes, &p, 1, &limits).expect("decode"))
                });
            }
            _ => {}
        }
        let frame = decode(&bytes, &p, shrink, &limits).expect("decode");
        g.bench_function(
            format!("resize-{}x{}-to-{tw}x{th}", frame.width, frame.height),
            |b| b.iter(|| scale(&frame, tw, th).expect("scale")),
        );
        let small = scale(&frame, tw, th).expect("scale");
        let opts = EncodeOptions {
            quality: 80,
            ..EncodeOptions::default()
        };
        g.bench_function(format!("encode-{:?}", wl.format).to_lowercase(), |b| {
            b.iter(|| encode(small.clone(), wl.format, &opts).expect("encode"))
        });
        // A lossy WebP kept WebP stays in YUV planes (ops/src/webp_planes.rs).
        if let Some(planes) = decode_webp_planes(&bytes, &p, &limits).expect("decode") {
            g.bench_function("decode-planes", |b| {
                b.iter(|| decode_webp_planes(&bytes, &p, &limits).expect("decode"))
            });
            g.bench_function("resize-planes", |b| {
                b.iter(|| scale_planes(&planes, tw, th).expect("scale"))
            });
            let small = scale_planes(&planes, tw, th).expect("scale");
            g.bench_function("encode-planes", |b| {
                b.iter(|| encode_webp_planes(&mut small.clone(), 80).expect("encode"))
            });
        }
        g.bench_function("pipeline", |b| {
            b.iter(|| process(&bytes, &plan, &settings).expect("process"))
        });
        g.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
