//! TIFF sources through libtiff over HTTP. The fixtures are made at test
//! time from a corpus photo with Debian's libtiff-tools (`ppm2tiff`,
//! `raw2tiff`, `tiffcp`, `tiff2bw`, `tiffdither`; scripts/install-deps), one
//! per compression and layout, and each must convert to PNG, JPEG and WebP
//! at the right size with the photo's colours.

use std::path::Path;
use std::process::Command;

use image::{GrayImage, RgbImage, imageops::FilterType};
use serde_json::Value;
use tempfile::TempDir;

use crate::process::get;
use crate::support::{Pixgate, client, corpus};

const PHOTO: &str = "photos/320x240.jpg";

async fn proxy(dir: &Path) -> Pixgate {
    Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"local\"\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        dir.canonicalize().unwrap().display()
    ))
    .await
}

fn run(dir: &Path, tool: &str, args: &[&str]) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (libtiff-tools, scripts/install-deps): {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The photo as the reference pixels, and a directory of TIFFs made from it.
fn fixtures() -> (RgbImage, TempDir) {
    let photo = image::open(corpus().join(PHOTO)).unwrap().to_rgb8();
    let (w, h) = photo.dimensions();
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let mut ppm = format!("P6\n{w} {h}\n255\n").into_bytes();
    ppm.extend_from_slice(photo.as_raw());
    std::fs::write(d.join("src.ppm"), ppm).unwrap();
    // 16-bit: each sample v as v·257 (big-endian), so its high byte is v.
    let mut ppm16 = format!("P6\n{w} {h}\n65535\n").into_bytes();
    for &v in photo.as_raw() {
        ppm16.extend_from_slice(&[v, v]);
    }
    std::fs::write(d.join("src16.ppm"), ppm16).unwrap();
    // CMYK by the naive formula libtiff inverts (K = 255 − max(R,G,B)).
    let mut cmyk = Vec::new();
    for p in photo.pixels() {
        let k = 255 - p.0.iter().copied().max().unwrap_or(0);
        if k == 255 {
            cmyk.extend_from_slice(&[0, 0, 0, 255]);
            continue;
        }
        let ink = |c: u8| ((255 - u32::from(c) - u32::from(k)) * 255 / (255 - u32::from(k))) as u8;
        cmyk.extend_from_slice(&[ink(p[0]), ink(p[1]), ink(p[2]), k]);
    }
    std::fs::write(d.join("cmyk.raw"), cmyk).unwrap();
    let (ws, hs) = (w.to_string(), h.to_string());

    run(d, "ppm2tiff", &["-c", "none", "src.ppm", "base.tif"]);
    run(d, "ppm2tiff", &["-c", "none", "src16.ppm", "rgb16.tif"]);
    #[rustfmt::skip]
    run(d, "raw2tiff", &["-w", &ws, "-l", &hs, "-b", "4", "-p", "cmyk", "-c", "lzw", "cmyk.raw", "cmyk.tif"]);
    run(
        d,
        "tiffcp",
        &["-c", "jpeg:90", "-r", "16", "base.tif", "jpeg.tif"],
    );
    run(d, "tiffcp", &["-c", "lzw", "base.tif", "lzw.tif"]);
    run(d, "tiffcp", &["-c", "zip", "base.tif", "zip.tif"]);
    run(d, "tiffcp", &["-c", "packbits", "base.tif", "packbits.tif"]);
    run(d, "tiffcp", &["-8", "-c", "lzw", "base.tif", "bigtiff.tif"]);
    #[rustfmt::skip]
    run(d, "tiffcp", &["-t", "-w", "64", "-l", "64", "-c", "zip", "base.tif", "tiled.tif"]);
    run(
        d,
        "tiffcp",
        &["-p", "separate", "-c", "lzw", "base.tif", "planar.tif"],
    );
    // Tiled, planar and BigTIFF at once, JPEG-compressed (RGB: libtiff
    // writes no YCbCr in separate planes).
    #[rustfmt::skip]
    run(d, "tiffcp", &["-8", "-t", "-p", "separate", "-c", "jpeg:r:90", "base.tif", "mixed.tif"]);
    // Bilevel fax: grey, dithered (Floyd–Steinberg) to 1 bit.
    run(d, "tiff2bw", &["base.tif", "grey.tif"]);
    run(d, "tiffdither", &["-c", "g4", "grey.tif", "g4.tif"]);
    run(d, "tiffcp", &["-c", "g3", "g4.tif", "g3.tif"]);
    // Three pages, the photo first.
    run(
        d,
        "tiffcp",
        &["lzw.tif", "grey.tif", "g4.tif", "multipage.tif"],
    );
    (photo, dir)
}

/// Mean absolute difference per sample.
fn mean_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let sum: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.len() as f64
}

/// Colour files: (name, exact at full size as PNG, tolerance of the mean
/// difference at 160×120 for PNG, JPEG and WebP output). Measured: PNG
/// 0.46, JPEG 1.97, WebP 2.97 for the lossless layouts; up to 3.05 for
/// JPEG-in-TIFF (1.4 at full size).
const COLOUR: &[(&str, bool, f64)] = &[
    ("base.tif", true, 3.5),
    ("lzw.tif", true, 3.5),
    ("zip.tif", true, 3.5),
    ("packbits.tif", true, 3.5),
    ("bigtiff.tif", true, 3.5),
    ("tiled.tif", true, 3.5),
    ("planar.tif", true, 3.5),
    ("rgb16.tif", true, 3.5),
    // libtiff's CMYK → RGB inverts the fixture's formula exactly.
    ("cmyk.tif", true, 3.5),
    // JPEG (YCbCr, quality 90) loses a little more.
    ("jpeg.tif", false, 4.0),
    ("mixed.tif", false, 4.0),
];

#[tokio::test]
async fn every_compression_and_layout_converts_at_size_with_the_photos_colours() {
    let (photo, dir) = fixtures();
    let px = proxy(dir.path()).await;
    let small = image::imageops::resize(&photo, 160, 120, FilterType::Lanczos3);
    for &(name, exact, tolerance) in COLOUR {
        // Full size to PNG: lossless layouts give the photo back exactly.
        let full = get(&px, name, "image/format,png").await.image().to_rgb8();
        assert_eq!(full.dimensions(), photo.dimensions(), "{name}");
        let d = mean_diff(full.as_raw(), photo.as_raw());
        if exact {
            assert_eq!(d, 0.0, "{name}: lossless layouts decode exactly");
        } else {
            assert!(d < 2.5, "{name}: mean difference {d:.2} at full size");
        }
        for (fmt, magic) in [
            ("png", image::ImageFormat::Png),
            ("jpg", image::ImageFormat::Jpeg),
            ("webp", image::ImageFormat::WebP),
        ] {
            let out = get(&px, name, &format!("image/resize,w_160/format,{fmt}")).await;
            assert_eq!(out.format(), magic, "{name} -> {fmt}");
            let img = out.image().to_rgb8();
            assert_eq!(img.dimensions(), (160, 120), "{name} -> {fmt}");
            let d = mean_diff(img.as_raw(), small.as_raw());
            assert!(
                d < tolerance,
                "{name} -> {fmt}: mean difference {d:.2} (tolerance {tolerance})"
            );
        }
    }
    px.stop().await;
}

#[tokio::test]
async fn ccitt_g3_and_g4_bilevel_files_keep_the_photos_tones() {
    // Dithered to one bit, a photo's local averages survive: compared at
    // 40×30 in grey, each output is within 5 levels of the grey photo on
    // average (measured 1.4–1.8; a blank, inverted or shifted image is far
    // off).
    let (photo, dir) = fixtures();
    let px = proxy(dir.path()).await;
    // tiffdither leaves out the last row: the files are 320×239.
    let grey = image::DynamicImage::ImageRgb8(photo).to_luma8();
    let grey = image::imageops::crop_imm(&grey, 0, 0, 320, 239).to_image();
    let reference = image::imageops::resize(&grey, 40, 30, FilterType::Triangle);
    for name in ["g3.tif", "g4.tif"] {
        for (fmt, magic) in [
            ("png", image::ImageFormat::Png),
            ("jpg", image::ImageFormat::Jpeg),
            ("webp", image::ImageFormat::WebP),
        ] {
            let out = get(&px, name, &format!("image/format,{fmt}")).await;
            assert_eq!(out.format(), magic, "{name} -> {fmt}");
            let img = out.image().to_luma8();
            assert_eq!(img.dimensions(), (320, 239), "{name} -> {fmt}");
            // Every pixel black or white (up to lossy coding).
            if fmt == "png" {
                assert!(img.pixels().all(|p| p[0] == 0 || p[0] == 255), "{name}");
            }
            let shrunk: GrayImage = image::imageops::resize(&img, 40, 30, FilterType::Triangle);
            let d = mean_diff(shrunk.as_raw(), reference.as_raw());
            assert!(d < 5.0, "{name} -> {fmt}: mean difference {d:.2}");
        }
        let out = get(&px, name, "image/resize,w_100/format,png").await;
        assert_eq!(out.image().to_luma8().dimensions(), (100, 75), "{name}");
    }
    px.stop().await;
}

async fn info(px: &Pixgate, key: &str) -> Value {
    let res = client()
        .get(px.url(&format!("/{key}?x-oss-process=image/info")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{key}");
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_multipage_tiff_renders_its_first_page_and_info_counts_the_pages() {
    let (photo, dir) = fixtures();
    let px = proxy(dir.path()).await;
    let v = info(&px, "multipage.tif").await;
    assert_eq!(v["FrameCount"]["value"], "3", "{v}");
    assert_eq!(v["Format"]["value"], "tiff", "{v}");
    assert_eq!(v["ImageWidth"]["value"], "320", "{v}");
    let v = info(&px, "bigtiff.tif").await;
    assert_eq!(v["FrameCount"]["value"], "1", "{v}");
    assert_eq!(v["ImageHeight"]["value"], "240", "{v}");
    // The first page (the colour photo, LZW) exactly, not the grey ones.
    let first = get(&px, "multipage.tif", "image/format,png")
        .await
        .image()
        .to_rgb8();
    assert_eq!(mean_diff(first.as_raw(), photo.as_raw()), 0.0);
    // A page count does not make an animation: WebP output is one still.
    let out = get(&px, "multipage.tif", "image/resize,w_80/format,webp").await;
    assert_eq!(out.image().to_rgb8().dimensions(), (80, 60));
    px.stop().await;
}

/// A classic little-endian TIFF of one uncompressed grey strip claiming
/// `w`×`h`, with `data` as the strip.
fn tiny_tiff(w: u32, h: u32, data: &[u8]) -> Vec<u8> {
    let entries: &[(u16, u16, u32)] = &[
        (256, 4, w),
        (257, 4, h),
        (258, 3, 8),
        (259, 3, 1),
        (262, 3, 1),
        (273, 4, 8),
        (277, 3, 1),
        (278, 4, h),
        (279, 4, data.len() as u32),
    ];
    let mut out = b"II*\0".to_vec();
    let ifd = 8 + data.len() as u32;
    out.extend_from_slice(&ifd.to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for &(tag, kind, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        if kind == 3 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

#[tokio::test]
async fn oversized_truncated_and_garbled_tiffs_are_clean_400s() {
    let (_photo, dir) = fixtures();
    let d = dir.path();
    // The hand-made writer is right: a 2×2 file decodes.
    std::fs::write(d.join("tiny.tif"), tiny_tiff(2, 2, &[0, 255, 255, 0])).unwrap();
    // 40000×40000 claimed, 16 bytes present: refused from the header.
    std::fs::write(d.join("huge.tif"), tiny_tiff(40_000, 40_000, &[0; 16])).unwrap();
    let jpeg = std::fs::read(d.join("jpeg.tif")).unwrap();
    std::fs::write(d.join("cut.tif"), &jpeg[..jpeg.len() / 3]).unwrap();
    let mut garbled = std::fs::read(d.join("lzw.tif")).unwrap();
    for b in garbled.iter_mut().skip(16).step_by(7).take(4000) {
        *b ^= 0x5a;
    }
    std::fs::write(d.join("garbled.tif"), garbled).unwrap();
    std::fs::write(d.join("magic-only.tif"), b"MM\0+").unwrap();
    let px = proxy(d).await;

    let img = get(&px, "tiny.tif", "image/format,png").await.image();
    assert_eq!(
        img.to_luma8().as_raw(),
        &[0, 255, 255, 0],
        "the hand-made TIFF"
    );
    let out = get(&px, "huge.tif", "image/resize,w_10").await;
    assert_eq!(
        (out.status.as_u16(), out.code().as_str()),
        (400, "ImageTooLarge")
    );
    for key in ["cut.tif", "garbled.tif", "magic-only.tif"] {
        let out = get(&px, key, "image/resize,w_10/format,png").await;
        // The layout of a damaged file decides what libtiff notices: a 400
        // with the dialect's error body, or (garbled data libtiff reads past)
        // an image; never a 5xx.
        match out.status.as_u16() {
            400 => {
                assert!(!out.code().is_empty(), "{key}");
                let body = String::from_utf8_lossy(&out.body);
                assert!(!body.contains("TIFFReadDirectory:"), "{key}: {body}");
            }
            200 => assert_eq!(out.image().width(), 10, "{key}"),
            s => panic!("{key}: {s} {}", String::from_utf8_lossy(&out.body)),
        }
    }
    for key in ["cut.tif", "magic-only.tif"] {
        let out = get(&px, key, "image/format,png").await;
        assert_eq!(out.status.as_u16(), 400, "{key}");
    }
    px.stop().await;
}

/// libjpeg-turbo 3.1's `cjpeg`, which the turbojpeg-sys build installs in
/// its out dir beside the test binary's target dir (Debian's cjpeg 2.1
/// writes 8-bit only).
fn cjpeg3() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.parent().and_then(Path::parent).unwrap();
    std::fs::read_dir(target.join("build"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("turbojpeg-sys-")
        })
        .map(|e| e.path().join("out/bin/cjpeg"))
        .find(|p| p.is_file())
        .expect("the turbojpeg-sys build's cjpeg (libjpeg-turbo 3.1)")
}

#[tokio::test]
async fn twelve_bit_and_lossless_jpegs_decode_with_the_photos_colours() {
    let (photo, dir) = fixtures();
    let d = dir.path();
    let cjpeg = cjpeg3();
    let cjpeg = cjpeg.to_str().unwrap();
    #[rustfmt::skip]
    run(d, cjpeg, &["-precision", "12", "-quality", "95", "-sample", "1x1", "-outfile", "p12.jpg", "src.ppm"]);
    #[rustfmt::skip]
    run(d, cjpeg, &["-precision", "16", "-lossless", "1", "-outfile", "l16.jpg", "src16.ppm"]);
    // SOF1 with 12-bit samples; SOF3 with 16.
    let p12 = std::fs::read(d.join("p12.jpg")).unwrap();
    assert!(p12.windows(5).any(|w| w[..2] == [0xFF, 0xC1] && w[4] == 12));
    let l16 = std::fs::read(d.join("l16.jpg")).unwrap();
    assert!(l16.windows(5).any(|w| w[..2] == [0xFF, 0xC3] && w[4] == 16));

    let px = proxy(d).await;
    let full = get(&px, "l16.jpg", "image/format,png")
        .await
        .image()
        .to_rgb8();
    assert_eq!(
        mean_diff(full.as_raw(), photo.as_raw()),
        0.0,
        "lossless 16-bit gives the 8-bit photo back exactly"
    );
    let full = get(&px, "p12.jpg", "image/format,png")
        .await
        .image()
        .to_rgb8();
    let d12 = mean_diff(full.as_raw(), photo.as_raw());
    // Measured 0.01.
    assert!(d12 < 0.5, "12-bit q95: mean difference {d12:.2}");
    let small = image::imageops::resize(&photo, 160, 120, FilterType::Lanczos3);
    for key in ["p12.jpg", "l16.jpg"] {
        for fmt in ["jpg", "webp", "png"] {
            let img = get(&px, key, &format!("image/resize,w_160/format,{fmt}"))
                .await
                .image()
                .to_rgb8();
            assert_eq!(img.dimensions(), (160, 120), "{key} -> {fmt}");
            let d = mean_diff(img.as_raw(), small.as_raw());
            assert!(d < 3.5, "{key} -> {fmt}: mean difference {d:.2}");
        }
        let v = info(&px, key).await;
        assert_eq!(v["Format"]["value"], "jpg", "{v}");
        assert_eq!(v["ImageWidth"]["value"], "320", "{v}");
    }
    px.stop().await;
}
