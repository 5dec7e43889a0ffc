//! What each action does to pixels, measured on real images.

use image::{DynamicImage, RgbaImage};

use crate::process::{EXAMPLE, corpus_proxy, get};
use crate::support::corpus;

fn rgba(img: &DynamicImage) -> RgbaImage {
    img.to_rgba8()
}

/// Mean absolute difference per channel, 0–255.
fn mean_abs_diff(a: &RgbaImage, b: &RgbaImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

fn mean_luma(img: &RgbaImage) -> f64 {
    let n = img.pixels().len() as f64;
    img.pixels()
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .sum::<f64>()
        / n
}

/// Sum of absolute differences between horizontal neighbours: detail.
fn high_frequency(img: &RgbaImage) -> f64 {
    let (w, h) = img.dimensions();
    let mut e = 0u64;
    for y in 0..h {
        for x in 1..w {
            let (a, b) = (img.get_pixel(x - 1, y), img.get_pixel(x, y));
            e += (0..3).map(|c| u64::from(a[c].abs_diff(b[c]))).sum::<u64>();
        }
    }
    e as f64 / f64::from(w * h)
}

#[tokio::test]
async fn rotate_90_is_an_exact_quarter_turn() {
    let px = corpus_proxy().await;
    let base = rgba(&get(&px, EXAMPLE, "image/format,png").await.image());
    for (deg, expect) in [
        (90, image::imageops::rotate90(&base)),
        (180, image::imageops::rotate180(&base)),
        (270, image::imageops::rotate270(&base)),
    ] {
        let got = rgba(
            &get(&px, EXAMPLE, &format!("image/rotate,{deg}/format,png"))
                .await
                .image(),
        );
        assert_eq!(mean_abs_diff(&got, &expect), 0.0, "rotate,{deg}");
    }
    px.stop().await;
}

#[tokio::test]
async fn circle_and_rounded_corners_outside_is_transparent_or_white() {
    let px = corpus_proxy().await;
    let png = rgba(
        &get(&px, EXAMPLE, "image/circle,r_100/format,png")
            .await
            .image(),
    );
    assert_eq!(png.dimensions(), (201, 201));
    for (x, y) in [(0, 0), (200, 0), (0, 200), (200, 200)] {
        assert_eq!(
            png.get_pixel(x, y)[3],
            0,
            "corner ({x},{y}) must be transparent"
        );
    }
    assert_eq!(png.get_pixel(100, 100)[3], 255);
    let jpg = rgba(&get(&px, EXAMPLE, "image/circle,r_100").await.image());
    for (x, y) in [(0, 0), (200, 200)] {
        let p = jpg.get_pixel(x, y);
        assert!(
            p[0] > 245 && p[1] > 245 && p[2] > 245,
            "corner {p:?} must be white"
        );
    }
    let rc = rgba(
        &get(&px, EXAMPLE, "image/rounded-corners,r_30/format,png")
            .await
            .image(),
    );
    assert_eq!(rc.dimensions(), (400, 267));
    assert_eq!(rc.get_pixel(0, 0)[3], 0);
    assert_eq!(rc.get_pixel(399, 266)[3], 0);
    assert_eq!(rc.get_pixel(200, 0)[3], 255);
    px.stop().await;
}

#[tokio::test]
async fn bright_contrast_blur_sharpen_change_what_they_should() {
    let px = corpus_proxy().await;
    let base = rgba(&get(&px, EXAMPLE, "image/format,png").await.image());
    let bright = rgba(
        &get(&px, EXAMPLE, "image/bright,50/format,png")
            .await
            .image(),
    );
    let dark = rgba(
        &get(&px, EXAMPLE, "image/bright,-50/format,png")
            .await
            .image(),
    );
    assert!(mean_luma(&bright) > mean_luma(&base) + 30.0);
    assert!(mean_luma(&dark) < mean_luma(&base) * 0.5);

    let blurred = rgba(
        &get(&px, EXAMPLE, "image/blur,r_10,s_5/format,png")
            .await
            .image(),
    );
    assert!(high_frequency(&blurred) < high_frequency(&base) * 0.5);
    let sharp = rgba(
        &get(&px, EXAMPLE, "image/sharpen,200/format,png")
            .await
            .image(),
    );
    assert!(high_frequency(&sharp) > high_frequency(&base) * 1.2);

    let flat = rgba(
        &get(&px, EXAMPLE, "image/contrast,-100/format,png")
            .await
            .image(),
    );
    let spread = |img: &RgbaImage| {
        let l: Vec<f64> = img.pixels().map(|p| f64::from(p[0])).collect();
        let m = l.iter().sum::<f64>() / l.len() as f64;
        (l.iter().map(|v| (v - m).powi(2)).sum::<f64>() / l.len() as f64).sqrt()
    };
    assert!(spread(&flat) < 1.0);
    // Contrast pivots on mid-grey: measured on a mid-tone photo.
    let flowers = "photos/flowers-1920x1080.jpg";
    let mid = rgba(
        &get(&px, flowers, "image/resize,w_400/format,png")
            .await
            .image(),
    );
    let strong = rgba(
        &get(&px, flowers, "image/resize,w_400/contrast,50/format,png")
            .await
            .image(),
    );
    assert!(
        spread(&strong) > spread(&mid) * 1.1,
        "{} vs {}",
        spread(&strong),
        spread(&mid)
    );
    px.stop().await;
}

#[tokio::test]
async fn pad_fills_with_the_colour_and_fill_covers() {
    let px = corpus_proxy().await;
    let pad = rgba(
        &get(
            &px,
            EXAMPLE,
            "image/resize,m_pad,w_200,h_200,color_FF0000/format,png",
        )
        .await
        .image(),
    );
    assert_eq!(pad.dimensions(), (200, 200));
    // 400×267 -> 200×134 centred: bars of 33 px above and below.
    assert_eq!(pad.get_pixel(100, 5).0, [255, 0, 0, 255]);
    assert_eq!(pad.get_pixel(100, 195).0, [255, 0, 0, 255]);
    assert_ne!(pad.get_pixel(100, 100).0, [255, 0, 0, 255]);
    px.stop().await;
}

#[tokio::test]
async fn auto_orient_makes_every_orientation_look_like_the_first() {
    // Each *_N.jpg stores the same picture transformed so that applying its
    // EXIF Orientation N shows *_1.jpg (each also carries its own digit in
    // the middle, so the match is closest, not exact).
    let px = corpus_proxy().await;
    for set in ["Landscape", "Portrait"] {
        let reference = rgba(
            &get(
                &px,
                &format!("orientation/{set}_1.jpg"),
                "image/resize,w_120/format,png",
            )
            .await
            .image(),
        );
        let candidates = [
            ("as is", reference.clone()),
            ("mirrored", image::imageops::flip_horizontal(&reference)),
            ("flipped", image::imageops::flip_vertical(&reference)),
            ("upside down", image::imageops::rotate180(&reference)),
        ];
        for n in 2..=8 {
            let key = format!("orientation/{set}_{n}.jpg");
            let got = rgba(
                &get(&px, &key, "image/resize,w_120/format,png")
                    .await
                    .image(),
            );
            assert_eq!(got.dimensions(), reference.dimensions(), "{key}");
            let diffs: Vec<(f64, &str)> = candidates
                .iter()
                .map(|(name, c)| (mean_abs_diff(&got, c), *name))
                .collect();
            let (best, name) = diffs
                .iter()
                .copied()
                .fold((f64::MAX, ""), |a, b| if b.0 < a.0 { b } else { a });
            assert_eq!(name, "as is", "{key}: {diffs:?}");
            assert!(best < 15.0, "{key}: {diffs:?}");
        }
        // Without auto-orient the stored order is kept: the 180° one is upside down.
        let raw = rgba(
            &get(
                &px,
                &format!("orientation/{set}_3.jpg"),
                "image/auto-orient,0/resize,w_120/format,png",
            )
            .await
            .image(),
        );
        assert!(
            mean_abs_diff(&raw, &candidates[3].1) < mean_abs_diff(&raw, &reference),
            "{set}_3 with auto-orient,0 should stay upside down"
        );
    }
    px.stop().await;
}

#[tokio::test]
async fn quality_is_relative_to_the_source_or_absolute_and_capped() {
    let px = corpus_proxy().await;
    let source = get(&px, EXAMPLE, "").await.body;
    let src_q = pixgate_codec::probe(&source).unwrap().quality.unwrap();
    let q_of = |bytes: &[u8]| pixgate_codec::probe(bytes).unwrap().quality.unwrap();
    let half = get(&px, EXAMPLE, "image/quality,q_50").await;
    let expected = (u32::from(src_q) * 50 + 50) / 100;
    assert!(
        (i32::from(q_of(&half.body)) - expected as i32).abs() <= 1,
        "q_50 of q{src_q}"
    );
    let abs = get(&px, EXAMPLE, "image/quality,Q_40").await;
    assert_eq!(q_of(&abs.body), 40.min(src_q));
    let capped = get(&px, EXAMPLE, "image/quality,Q_100").await;
    assert_eq!(
        q_of(&capped.body),
        src_q,
        "Q never raises the source quality"
    );
    let prog = get(&px, EXAMPLE, "image/interlace,1").await;
    assert!(
        prog.body.windows(2).any(|w| w == [0xFF, 0xC2]),
        "progressive SOF2 marker"
    );
    px.stop().await;
}

#[tokio::test]
async fn shrink_on_load_gives_the_same_picture() {
    // A 12 MP photo to 400 px: decoded at 1/8 then resized; compare with a
    // full-size decode (crop first disables shrinking) resized the same way.
    let px = corpus_proxy().await;
    let key = "photos/phone-4032x3024.jpg";
    let fast = rgba(&get(&px, key, "image/resize,w_400/format,png").await.image());
    let full = rgba(
        &get(&px, key, "image/crop,x_0,y_0/resize,w_400/format,png")
            .await
            .image(),
    );
    assert_eq!(fast.dimensions(), (400, 300));
    assert_eq!(full.dimensions(), (400, 300));
    let d = mean_abs_diff(&fast, &full);
    assert!(d < 3.0, "mean difference {d}");
    px.stop().await;
}

#[tokio::test]
async fn a_progressive_thumbnail_from_dc_scans_matches_the_baseline_one() {
    // The same photo stored progressive: its 400 px thumbnail is made from
    // the DC scans alone, and must look like the baseline file's.
    let px = corpus_proxy().await;
    let process = "image/resize,w_400/format,png";
    let progressive = rgba(
        &get(&px, "photos/phone-4032x3024-progressive.jpg", process)
            .await
            .image(),
    );
    let baseline = rgba(
        &get(&px, "photos/phone-4032x3024.jpg", process)
            .await
            .image(),
    );
    assert_eq!(progressive.dimensions(), (400, 300));
    let d = mean_abs_diff(&progressive, &baseline);
    assert!(d < 1.0, "mean difference {d}");
    px.stop().await;
}

#[tokio::test]
async fn average_hue_is_json_rgb() {
    let px = corpus_proxy().await;
    let out = get(&px, EXAMPLE, "image/average-hue").await;
    assert_eq!(out.content_type, "application/json");
    let text = String::from_utf8(out.body).unwrap();
    assert!(
        text.starts_with("{\"RGB\": \"0x") && text.ends_with("\"}") && text.len() == 19,
        "{text}"
    );
    // A flat region resized to one pixel keeps its colour.
    let one = get(&px, EXAMPLE, "image/crop,w_8,h_8/average-hue").await;
    let corner = rgba(
        &get(&px, EXAMPLE, "image/crop,w_8,h_8/format,png")
            .await
            .image(),
    );
    let hex = String::from_utf8(one.body).unwrap();
    let r = u8::from_str_radix(&hex[11..13], 16).unwrap();
    let mean_r = corner.pixels().map(|p| u32::from(p[0])).sum::<u32>() / 64;
    assert!(
        u32::from(r).abs_diff(mean_r) <= 8,
        "{hex} vs mean red {mean_r}"
    );
    px.stop().await;
}

#[tokio::test]
async fn cmyk_with_a_profile_matches_little_cms_jpgicc() {
    // jpgicc (Debian's liblcms2-utils) converts the CMYK JPEG through its
    // embedded profile to sRGB on its own (its own JPEG reading, its own
    // handling of Adobe's inverted CMYK): pixgate's output must match it.
    let px = corpus_proxy().await;
    let src = corpus().join("photos/cmyk-with-profile.jpg");
    let dir = tempfile::tempdir().unwrap();
    let oracle_path = dir.path().join("oracle.jpg");
    let status = std::process::Command::new("jpgicc")
        .args([
            "-q",
            "98",
            src.to_str().unwrap(),
            oracle_path.to_str().unwrap(),
        ])
        .output()
        .expect("jpgicc (liblcms2-utils, installed by scripts/install-deps)");
    assert!(status.status.success(), "{status:?}");
    let oracle = image::open(&oracle_path).unwrap().to_rgba8();
    let ours = rgba(
        &get(&px, "photos/cmyk-with-profile.jpg", "image/format,png")
            .await
            .image(),
    );
    let d = mean_abs_diff(&ours, &oracle);
    assert!(d < 2.5, "mean difference from jpgicc: {d}");
    // The naive conversion (what a profile-blind decoder does) is visibly off.
    let naive = rgba(
        &get(&px, "photos/cmyk-no-profile.jpg", "image/format,png")
            .await
            .image(),
    );
    if naive.dimensions() == oracle.dimensions() {
        assert!(
            mean_abs_diff(&naive, &oracle) > d,
            "the profile must matter"
        );
    }
    px.stop().await;
}

#[tokio::test]
async fn a_display_p3_png_is_converted_to_srgb() {
    let px = corpus_proxy().await;
    let raw = image::open(corpus().join("formats/p3.png"))
        .unwrap()
        .to_rgba8();
    let ours = rgba(&get(&px, "formats/p3.png", "image/format,png").await.image());
    assert_eq!(ours.dimensions(), raw.dimensions());
    // Alpha is untouched, colour is not: the P3 profile was applied.
    assert!(ours.pixels().zip(raw.pixels()).all(|(a, b)| a[3] == b[3]));
    assert!(
        mean_abs_diff(&ours, &raw) > 1.0,
        "P3 pixels must be converted"
    );
    px.stop().await;
}

/// An Ultra HDR JPEG is a base JPEG, an MPF index and a gain-map JPEG
/// appended after it. The base image is what every output shows; the gain
/// map is dropped (no output format here carries one).
#[tokio::test]
async fn an_ultra_hdr_jpeg_gives_its_base_image_and_drops_the_gain_map() {
    const NAME: &str = "ultrahdr-gainmap-3840x2160.jpg";
    let file = std::fs::read(corpus().join("photos").join(NAME)).unwrap();
    // The gain map is the last embedded JPEG (the file has no EXIF thumbnail).
    let gain_map_at = file
        .windows(3)
        .rposition(|w| w == [0xff, 0xd8, 0xff])
        .filter(|&at| at > 0)
        .expect("the corpus file carries a gain-map JPEG");
    let gain_map = image::load_from_memory(&file[gain_map_at..]).unwrap();
    // A test-time copy with the gain map cut off: the plain base JPEG.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("with.jpg"), &file).unwrap();
    std::fs::write(dir.path().join("base.jpg"), &file[..gain_map_at]).unwrap();
    let px = crate::support::Pixgate::start(&format!(
        "[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        dir.path().display()
    ))
    .await;
    let png = |key: &'static str| {
        let px = &px;
        async move {
            let out = get(px, &format!("local/{key}"), "image/resize,w_480/format,png").await;
            assert_eq!(out.status, 200, "{}", String::from_utf8_lossy(&out.body));
            rgba(&out.image())
        }
    };
    let (with, base) = (png("with.jpg").await, png("base.jpg").await);
    assert_eq!(with.dimensions(), (480, 270));
    assert_eq!(
        mean_abs_diff(&with, &base),
        0.0,
        "the gain map must not change the base image"
    );
    // And it is really the base, not the (smaller, grey) gain map.
    assert!(gain_map.width() < 3840);
    let jpg = get(&px, "local/with.jpg", "image/resize,w_480/format,jpg").await;
    assert_eq!(jpg.status, 200);
    assert_eq!(
        jpg.body
            .windows(3)
            .filter(|w| *w == [0xff, 0xd8, 0xff])
            .count(),
        1
    );
    assert!(!jpg.body.windows(4).any(|w| w == b"MPF\0"));
    assert!(!jpg.body.windows(5).any(|w| w == b"hdrgm"));
    px.stop().await;
}
