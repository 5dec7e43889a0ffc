//! SVG and JPEG XL sources (and `format,jxl`) over HTTP. The test files are
//! made at test time: SVGs as text, JPEG XL with libjxl's `cjxl` (Debian's
//! libjxl-tools, an encoder independent of the decoder under test) from
//! corpus photos; `djxl` checks what pixgate writes.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use image::{DynamicImage, RgbaImage};
use reqwest::StatusCode;
use tempfile::TempDir;

use crate::process::get;
use crate::support::{Pixgate, client, corpus, xml_tag};

pub(crate) async fn proxy(dir: &Path) -> Pixgate {
    Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"local\"\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        dir.canonicalize().unwrap().display()
    ))
    .await
}

/// Left half red, right half blue, on a nominal `w`×`h` canvas.
fn halves(w: u32, h: u32) -> String {
    format!(
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 100 50">
  <rect x="0" y="0" width="50" height="50" fill="#ff0000"/>
  <rect x="50" y="0" width="50" height="50" fill="#0000ff"/>
</svg>"##
    )
}

fn px(img: &RgbaImage, x: u32, y: u32) -> [u8; 4] {
    img.get_pixel(x, y).0
}

#[tokio::test]
async fn svg_resized_to_w_300_is_rendered_300_wide_with_its_colours() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("halves.svg"), halves(1000, 500)).unwrap();
    let px_ = proxy(dir.path()).await;
    let out = get(&px_, "halves.svg", "image/resize,w_300").await;
    let ct = Some(out.content_type.clone());
    // No format named: an SVG source is written as PNG.
    assert_eq!(ct.as_deref(), Some("image/png"));
    let img = out.image().to_rgba8();
    assert_eq!(img.dimensions(), (300, 150));
    assert_eq!(px(&img, 30, 75), [255, 0, 0, 255]);
    assert_eq!(px(&img, 270, 75), [0, 0, 255, 255]);

    // Enlarged, it is drawn at the new size, not scaled up from the
    // nominal one: the edge between the halves stays one pixel sharp
    // (a 3× Lanczos upscale would blend several pixels across it).
    std::fs::write(dir.path().join("small.svg"), halves(100, 50)).unwrap();
    let out = get(&px_, "small.svg", "image/resize,w_300,limit_0/format,png").await;
    let img = out.image().to_rgba8();
    assert_eq!(img.dimensions(), (300, 150));
    assert_eq!(px(&img, 149, 75), [255, 0, 0, 255]);
    assert_eq!(px(&img, 150, 75), [0, 0, 255, 255]);

    // Every other output format, as from any raster source.
    let out = get(&px_, "halves.svg", "image/resize,w_200/format,jpg").await;
    let ct = Some(out.content_type.clone());
    assert_eq!(ct.as_deref(), Some("image/jpeg"));
    assert_eq!(out.image().to_rgba8().dimensions(), (200, 100));
    px_.stop().await;
}

#[tokio::test]
async fn svg_info_reports_the_format_and_nominal_size() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("halves.svg"), halves(1000, 500)).unwrap();
    let px_ = proxy(dir.path()).await;
    let res = client()
        .get(px_.url("/halves.svg?x-oss-process=image/info"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let v: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(v["Format"]["value"], "svg");
    assert_eq!(v["ImageWidth"]["value"], "1000");
    assert_eq!(v["ImageHeight"]["value"], "500");
    px_.stop().await;
}

#[tokio::test]
async fn svg_text_is_drawn_with_the_configured_fonts() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("label.svg"),
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60">
  <rect width="240" height="60" fill="#ffffff"/>
  <text x="10" y="45" font-family="sans-serif" font-size="40" fill="#000000">Hello 你好</text>
</svg>"##,
    )
    .unwrap();
    let px_ = proxy(dir.path()).await;
    let img = get(&px_, "label.svg", "image/format,png")
        .await
        .image()
        .to_rgba8();
    // The Latin and the CJK halves both leave ink (the default fonts have
    // both scripts: wqy-zenhei and the Noto fallbacks).
    let ink = |from: u32, to: u32| {
        (from..to)
            .flat_map(|x| (0..60).map(move |y| (x, y)))
            .filter(|&(x, y)| px(&img, x, y)[0] < 100)
            .count()
    };
    assert!(ink(10, 110) > 200, "no Latin text drawn");
    assert!(ink(130, 235) > 200, "no CJK text drawn");
    px_.stop().await;
}

/// A listener that counts the connections made to it.
async fn counting_listener() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((_sock, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr, hits)
}

#[tokio::test]
async fn svg_external_references_are_never_fetched() {
    let dir = TempDir::new().unwrap();
    let (addr, hits) = counting_listener().await;
    // A green image beside the SVG, named relatively and by absolute path.
    let green = RgbaImage::from_pixel(8, 8, image::Rgba([0, 255, 0, 255]));
    let secret = dir.path().join("secret.png");
    DynamicImage::ImageRgba8(green).save(&secret).unwrap();
    let abs = secret.canonicalize().unwrap();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100">
  <rect width="100" height="100" fill="#ffffff"/>
  <image x="0" y="0" width="50" height="50" href="http://{addr}/remote.png"/>
  <image x="50" y="0" width="50" height="50" xlink:href="secret.png"/>
  <image x="0" y="50" width="50" height="50" href="file://{abs}"/>
  <image x="50" y="50" width="50" height="50" href="{abs}"/>
  <use href="http://{addr}/sprite.svg#icon"/>
  <filter id="f"><feImage href="http://{addr}/filter.png"/></filter>
  <rect width="10" height="10" filter="url(#f)"/>
  <style>@import url(http://{addr}/style.css);</style>
</svg>"##,
        abs = abs.display()
    );
    std::fs::write(dir.path().join("refs.svg"), svg).unwrap();
    let px_ = proxy(dir.path()).await;
    let out = get(&px_, "refs.svg", "image/format,png").await;
    let img = out.image().to_rgba8();
    assert_eq!(img.dimensions(), (100, 100));
    let green = img
        .pixels()
        .filter(|p| p[1] > 200 && p[0] < 50 && p[2] < 50)
        .count();
    assert_eq!(green, 0, "the local file was drawn");
    // Give a stray connection time to arrive before counting.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "an http reference was fetched"
    );
    px_.stop().await;
}

#[tokio::test]
async fn svg_declaring_a_huge_canvas_is_image_too_large() {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("huge.svg"),
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="10" height="10"/></svg>"#,
    )
    .unwrap();
    // And one whose resize would render past the output limits.
    std::fs::write(dir.path().join("tiny.svg"), halves(100, 50)).unwrap();
    let px_ = proxy(dir.path()).await;
    let out = get(&px_, "huge.svg", "image/resize,w_100").await;
    assert_eq!(out.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        xml_tag(&String::from_utf8_lossy(&out.body), "Code").as_deref(),
        Some("ImageTooLarge")
    );
    let out = get(&px_, "tiny.svg", "image/resize,w_30000,limit_0").await;
    assert_eq!(out.status, StatusCode::BAD_REQUEST);
    // A large poster within the source limits (200 MP nominal) is drawn
    // at the thumbnail's size only: cheap, and within the work budget.
    std::fs::write(dir.path().join("poster.svg"), halves(20_000, 10_000)).unwrap();
    let out = get(&px_, "poster.svg", "image/resize,w_100").await;
    let img = out.image().to_rgba8();
    assert_eq!(img.dimensions(), (100, 50));
    assert_eq!(px(&img, 10, 25), [255, 0, 0, 255]);
    px_.stop().await;
}

/// `cjxl` from Debian's libjxl-tools (scripts/install-deps installs it).
fn cjxl(input: &Path, output: &Path, args: &[&str]) {
    let status = Command::new("cjxl")
        .arg(input)
        .arg(output)
        .args(args)
        .arg("--quiet")
        .status()
        .expect("cjxl (Debian libjxl-tools) is installed: run scripts/install-deps");
    assert!(status.success(), "cjxl {}", input.display());
}

/// Mean absolute difference per RGB channel, 0–255.
fn mean_diff(a: &RgbaImage, b: &RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut sum = 0u64;
    for (p, q) in a.pixels().zip(b.pixels()) {
        sum += (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>();
    }
    sum as f64 / (f64::from(a.width()) * f64::from(a.height()) * 3.0)
}

#[tokio::test]
async fn jxl_sources_convert_at_their_size_and_colours() {
    let dir = TempDir::new().unwrap();
    let photo = corpus().join("photos/concert-400x267.jpg");
    let source = image::open(&photo).unwrap().to_rgba8();
    // A JPEG recompressed losslessly (cjxl's default for JPEG input: VarDCT
    // with reconstruction data) and a lossy XYB encode of its pixels.
    cjxl(&photo, &dir.path().join("recompressed.jxl"), &[]);
    let png = dir.path().join("photo.png");
    DynamicImage::ImageRgba8(source.clone()).save(&png).unwrap();
    cjxl(&png, &dir.path().join("lossy.jxl"), &["-d", "1.0"]);
    // A bare codestream (no container) with alpha, lossless.
    let mut alpha = source.clone();
    for p in alpha.pixels_mut().take(400 * 10) {
        p[3] = 0;
    }
    let apng = dir.path().join("alpha.png");
    DynamicImage::ImageRgba8(alpha).save(&apng).unwrap();
    cjxl(&apng, &dir.path().join("alpha.jxl"), &["-d", "0"]);

    let px_ = proxy(dir.path()).await;
    for (key, tolerance) in [("recompressed.jxl", 2.0), ("lossy.jxl", 4.0)] {
        let out = get(&px_, key, "image/format,png").await;
        let ct = Some(out.content_type.clone());
        assert_eq!(ct.as_deref(), Some("image/png"), "{key}");
        let img = out.image().to_rgba8();
        assert_eq!(img.dimensions(), (400, 267), "{key}");
        let d = mean_diff(&img, &source);
        assert!(
            d <= tolerance,
            "{key}: mean difference {d:.2} > {tolerance}"
        );

        let out = get(&px_, key, "image/resize,w_200/format,jpg").await;
        let ct = Some(out.content_type.clone());
        assert_eq!(ct.as_deref(), Some("image/jpeg"), "{key}");
        assert_eq!(out.image().to_rgba8().dimensions(), (200, 134), "{key}");
    }
    // Transparency survives into PNG; the decoder's colours are exact.
    let out = get(&px_, "alpha.jxl", "image/format,png").await;
    let img = out.image().to_rgba8();
    assert_eq!(px(&img, 5, 5)[3], 0);
    assert_eq!(px(&img, 200, 200), px(&source, 200, 200));
    // `info` names it.
    let res = client()
        .get(px_.url("/lossy.jxl?x-oss-process=image/info"))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(v["Format"]["value"], "jxl");
    assert_eq!(v["ImageWidth"]["value"], "400");
    px_.stop().await;
}

#[tokio::test]
async fn format_jxl_writes_lossless_jpeg_xl_that_libjxl_reads() {
    let px_ = crate::process::corpus_proxy().await;
    let out = get(
        &px_,
        "photos/concert-400x267.jpg",
        "image/resize,w_100/format,jxl",
    )
    .await;
    let ct = Some(out.content_type.clone());
    assert_eq!(
        out.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&out.body)
    );
    assert_eq!(ct.as_deref(), Some("image/jxl"));
    // Decoded by libjxl (djxl), and compared with the same resize as PNG:
    // lossless, so equal.
    let dir = TempDir::new().unwrap();
    let (jxl, png) = (dir.path().join("out.jxl"), dir.path().join("out.png"));
    std::fs::write(&jxl, &out.body).unwrap();
    let status = Command::new("djxl")
        .arg(&jxl)
        .arg(&png)
        .arg("--quiet")
        .status()
        .expect("djxl (Debian libjxl-tools) is installed");
    assert!(status.success());
    let decoded = image::open(&png).unwrap().to_rgba8();
    let same = get(
        &px_,
        "photos/concert-400x267.jpg",
        "image/resize,w_100/format,png",
    )
    .await;
    let reference = same.image().to_rgba8();
    assert_eq!(decoded.dimensions(), (100, 67));
    assert_eq!(mean_diff(&decoded, &reference), 0.0);
    px_.stop().await;
}
