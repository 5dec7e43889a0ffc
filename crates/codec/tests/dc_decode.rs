//! The DC decoder against libjpeg-turbo's own 1/8 scaled decode of the
//! same files: the corpus's progressive and baseline photos, progressive
//! and baseline files made here in every common sampling, and files with
//! restart markers made by `jpegtran` (Debian's libjpeg-turbo-progs,
//! installed by scripts/install-deps).

// Test code: a panic with the failed call is the clearest report.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

use pixgate_codec::decode_dc;
use turbojpeg::{Decompressor, Image, PixelFormat, ScalingFactor, Subsamp};

fn corpus_file(rel: &str) -> Vec<u8> {
    std::fs::read(corpus_path(rel)).unwrap()
}

/// libjpeg's 1/8 decode, RGB.
fn libjpeg_eighth(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut d = Decompressor::new().unwrap();
    let header = d.read_header(bytes).unwrap();
    let factor = ScalingFactor::new(1, 8);
    d.set_scaling_factor(factor).unwrap();
    let s = header.scaled(factor);
    let mut pixels = vec![0u8; s.width * s.height * 3];
    d.decompress(
        bytes,
        Image {
            pixels: pixels.as_mut_slice(),
            width: s.width,
            pitch: s.width * 3,
            height: s.height,
            format: PixelFormat::RGB,
        },
    )
    .unwrap();
    (s.width, s.height, pixels)
}

fn size_of(bytes: &[u8]) -> (u32, u32) {
    let h = turbojpeg::read_header(bytes).unwrap();
    (h.width as u32, h.height as u32)
}

/// Asserts the DC decode is libjpeg's 1/8 decode, bit for bit.
fn agrees(name: &str, bytes: &[u8]) {
    let (frame, expected) = both(name, bytes);
    let worst = frame
        .iter()
        .zip(&expected)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert_eq!(worst, 0, "{name}: a sample differs by {worst}");
}

/// For 4:2:0, libjpeg decodes chroma at 1/8 with a 2×2 IDCT from AC
/// coefficients the DC path does not read: luma must still agree (to
/// rounding), colour closely on average.
fn agrees_in_luma(name: &str, bytes: &[u8], colour_mean: f64) {
    let (frame, expected) = both(name, bytes);
    let luma =
        |p: &[u8]| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
    let luma_diff: Vec<f64> = frame
        .chunks(3)
        .zip(expected.chunks(3))
        .map(|(a, b)| (luma(a) - luma(b)).abs())
        .collect();
    let n = luma_diff.len() as f64;
    let luma_mean = luma_diff.iter().sum::<f64>() / n;
    let diff_mean = frame
        .iter()
        .zip(&expected)
        .map(|(a, b)| f64::from(a.abs_diff(*b)))
        .sum::<f64>()
        / (3.0 * n);
    assert!(
        luma_mean < 0.5,
        "{name}: luma differs by {luma_mean:.2} on average"
    );
    assert!(
        diff_mean < colour_mean,
        "{name}: samples differ by {diff_mean:.2} on average"
    );
}

/// (DC decode, libjpeg 1/8 decode), same size asserted.
fn both(name: &str, bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (w, h, expected) = libjpeg_eighth(bytes);
    let frame = decode_dc(bytes, size_of(bytes)).unwrap_or_else(|| panic!("{name}: declined"));
    assert_eq!(
        (frame.width as usize, frame.height as usize),
        (w, h),
        "{name}"
    );
    (frame.data, expected)
}

/// A test card with gradients, edges and colour: every DC value differs.
fn card(w: usize, h: usize) -> Vec<u8> {
    let mut px = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            let ring = (((x * x + y * y) as f64).sqrt() / 7.0) as usize % 2;
            px.push((x * 255 / w) as u8);
            px.push((y * 255 / h) as u8 ^ (ring as u8 * 0x40));
            px.push(((x + y) % 256) as u8);
        }
    }
    px
}

fn compressed(w: usize, h: usize, subsamp: Subsamp, grey: bool, progressive: bool) -> Vec<u8> {
    let pixels = card(w, h);
    let mut c = turbojpeg::Compressor::new().unwrap();
    c.set_quality(85).unwrap();
    c.set_subsamp(subsamp).unwrap();
    c.set_progressive(progressive).unwrap();
    if grey {
        c.set_subsamp(Subsamp::Gray).unwrap();
    }
    c.compress_to_vec(Image {
        pixels: pixels.as_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: PixelFormat::RGB,
    })
    .unwrap()
}

#[test]
fn the_corpus_progressive_photo_matches_libjpeg() {
    let bytes = corpus_file("photos/phone-4032x3024-progressive.jpg");
    agrees("phone-4032x3024-progressive.jpg", &bytes);
}

#[test]
fn every_common_sampling_matches_libjpeg() {
    for (name, subsamp, grey) in [
        ("4:2:2", Subsamp::Sub2x1, false),
        ("4:4:4", Subsamp::None, false),
        ("4:4:0", Subsamp::Sub1x2, false),
        ("grey", Subsamp::Gray, true),
        ("4:2:0", Subsamp::Sub2x2, false),
    ] {
        // Odd sizes: partial MCUs on both edges; progressive and baseline.
        for ((w, h), progressive) in [(1001, 667), (17, 9), (8, 8), (1, 1)]
            .into_iter()
            .flat_map(|s| [(s, true), (s, false)])
        {
            let bytes = compressed(w, h, subsamp, grey, progressive);
            assert_eq!(
                turbojpeg::read_header(&bytes).unwrap().is_progressive,
                progressive
            );
            let name = format!("{name} {w}x{h} progressive {progressive}");
            if subsamp == Subsamp::Sub2x2 {
                // The test card's chroma has hard edges inside every block;
                // on a few pixels, clamping makes any average meaningless.
                if w > 64 {
                    agrees_in_luma(&name, &bytes, 12.0);
                } else {
                    both(&name, &bytes);
                }
            } else {
                agrees(&name, &bytes);
            }
        }
    }
}

/// A 4:2:0 camera photo made progressive losslessly by jpegtran.
#[test]
fn a_progressive_420_photo_is_close_to_libjpeg() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("p.jpg");
    jpegtran(
        &["-progressive"],
        &corpus_path("photos/iphone6-3264x2448.jpg"),
        &output,
    );
    agrees_in_luma("iphone6 progressive", &std::fs::read(&output).unwrap(), 2.0);
}

fn corpus_path(rel: &str) -> PathBuf {
    std::env::var_os("PIXGATE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(
                std::env::var_os("CARGO_MANIFEST_DIR")
                    .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
            )
            .join("../../../shared/corpus")
        })
        .join(rel)
}

fn jpegtran(args: &[&str], input: &std::path::Path, output: &std::path::Path) {
    let status = Command::new("jpegtran")
        .args(args)
        .arg("-outfile")
        .arg(output)
        .arg(input)
        .status()
        .expect("jpegtran (libjpeg-turbo-progs) is installed by scripts/install-deps");
    assert!(status.success());
}

#[test]
fn restart_markers_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = {
        let pixels = card(803, 611);
        let mut c = turbojpeg::Compressor::new().unwrap();
        c.set_quality(90).unwrap();
        // Two luma blocks per MCU: restarts must count MCUs, not blocks.
        c.set_subsamp(Subsamp::Sub2x1).unwrap();
        c.compress_to_vec(Image {
            pixels: pixels.as_slice(),
            width: 803,
            pitch: 803 * 3,
            height: 611,
            format: PixelFormat::RGB,
        })
        .unwrap()
    };
    let input = dir.path().join("in.jpg");
    std::fs::write(&input, &baseline).unwrap();
    // Every MCU row, and every 3 MCUs (restarts inside rows); progressive
    // and baseline.
    for restart in ["1", "3B"] {
        for mode in ["-progressive", "-optimize"] {
            let output = dir.path().join(format!("out-{restart}{mode}.jpg"));
            jpegtran(&[mode, "-restart", restart], &input, &output);
            let bytes = std::fs::read(&output).unwrap();
            assert!(bytes.windows(2).any(|w| w == [0xFF, 0xDD]), "no DRI");
            agrees(&format!("restart {restart} {mode}"), &bytes);
        }
    }
}

/// Baseline camera photos (4:2:0): their AC codes are walked, not decoded.
#[test]
fn the_corpus_baseline_photos_are_close_to_libjpeg() {
    for name in [
        "photos/phone-4032x3024.jpg",
        "photos/iphone6-3264x2448.jpg",
        "photos/flowers-1920x1080.jpg",
    ] {
        agrees_in_luma(name, &corpus_file(name), 2.0);
    }
}

#[test]
fn arithmetic_coded_files_are_left_to_libjpeg() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("a.jpg");
    jpegtran(
        &["-arithmetic"],
        &corpus_path("photos/flowers-1920x1080.jpg"),
        &output,
    );
    let bytes = std::fs::read(&output).unwrap();
    assert!(decode_dc(&bytes, size_of(&bytes)).is_none());
}

#[test]
fn truncated_and_mislabelled_files_never_panic() {
    for progressive in [true, false] {
        let bytes = compressed(300, 200, Subsamp::Sub2x2, false, progressive);
        for cut in (0..bytes.len()).step_by(97) {
            let _ = decode_dc(&bytes[..cut], (300, 200));
        }
        // The frame header must agree with the size the limits were checked on.
        assert!(decode_dc(&bytes, (301, 200)).is_none());
        let mut flipped = bytes.clone();
        for i in (200..flipped.len()).step_by(53) {
            flipped[i] ^= 0x5A;
            let _ = decode_dc(&flipped, (300, 200));
        }
    }
}

/// Damage is libjpeg's to judge: a scan whose data runs out, a table
/// number past 3, a second scan of a component.
#[test]
fn damaged_files_are_declined_not_guessed() {
    for progressive in [false, true] {
        let bytes = compressed(300, 200, Subsamp::Sub2x2, false, progressive);
        assert!(decode_dc(&bytes, (300, 200)).is_some());
        // Cut inside the (first) scan's data.
        let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let cut = &bytes[..sos + (bytes.len() - sos) / 4];
        assert!(
            decode_dc(cut, (300, 200)).is_none(),
            "progressive {progressive}"
        );
        // The first component's tables: DC table 4 does not exist.
        let mut bad = bytes.clone();
        bad[sos + 6] = 0x40;
        assert!(decode_dc(&bad, (300, 200)).is_none());
    }
    // The whole scan once more before EOI: a second scan of every component.
    let bytes = compressed(64, 48, Subsamp::Gray, true, false);
    let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let eoi = bytes.len() - 2;
    let mut twice = bytes[..eoi].to_vec();
    twice.extend_from_slice(&bytes[sos..]);
    assert!(decode_dc(&bytes, (64, 48)).is_some());
    assert!(decode_dc(&twice, (64, 48)).is_none());
}
