//! Text watermarks in every script, over HTTP: Arabic and Devanagari come
//! out shaped (compared with an independent shaper, Pillow's raqm layout:
//! HarfBuzz and FriBiDi, with the same font file at the same size, through
//! `text_ref.py`), Thai and emoji without missing-glyph boxes, and a line
//! wider than the image is shrunk to fit it in every dialect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use image::{GrayImage, Rgb, RgbImage};

use crate::support::{Pixgate, client, corpus};

/// A bucket of white images, served as `/local/…` (OSS and Tencent) and
/// `/qiniu/…`.
struct Bucket {
    _root: tempfile::TempDir,
    px: Pixgate,
}

async fn bucket() -> Bucket {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("bucket");
    std::fs::create_dir_all(&dir).unwrap();
    RgbImage::from_pixel(1000, 300, Rgb([255, 255, 255]))
        .save(dir.join("wide.png"))
        .unwrap();
    RgbImage::from_pixel(400, 300, Rgb([255, 255, 255]))
        .save(dir.join("white.png"))
        .unwrap();
    let fonts = corpus().join("fonts").canonicalize().unwrap();
    let px = Pixgate::start(&format!(
        "[watermark]\nfont_dirs = [\"/usr/share/fonts\", \"{fonts}\"]\n\
         [[buckets]]\nname = \"local\"\norigin = \"file://{dir}\"\n\
         [[buckets]]\nname = \"qiniu\"\norigin = \"file://{dir}\"\ndialects = [\"qiniu\"]\n",
        fonts = fonts.display(),
        dir = dir.display()
    ))
    .await;
    Bucket { _root: root, px }
}

impl Bucket {
    async fn gray(&self, path: &str) -> GrayImage {
        let res = client().get(self.px.url(path)).send().await.unwrap();
        let status = res.status().as_u16();
        let body = res.bytes().await.unwrap();
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        image::load_from_memory(&body).unwrap().to_luma8()
    }

    /// `text` at `size` px in black at the top-left of the 1000×300 white
    /// image, in the default font (wqy-zenhei, which has none of these
    /// scripts: the fallback chain picks the font).
    async fn oss_text(&self, text: &str, size: u32) -> Ink {
        let text = URL_SAFE_NO_PAD.encode(text);
        let img = self
            .gray(&format!(
                "/local/wide.png?x-oss-process=image/watermark,text_{text},size_{size},g_nw,x_20,y_20/format,png"
            ))
            .await;
        Ink::of(&img).expect("the text drew nothing")
    }
}

/// The binarised ink of a rendering (darker than mid-grey), cut to its
/// bounding box.
#[derive(Debug)]
struct Ink {
    w: u32,
    h: u32,
    /// Where the box sits in the image it came from.
    x0: u32,
    x1: u32,
    on: Vec<bool>,
}

impl Ink {
    fn of(img: &GrayImage) -> Option<Ink> {
        let dark = |x, y| img.get_pixel(x, y).0[0] < 128;
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for (x, y, _) in img.enumerate_pixels() {
            if dark(x, y) {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
            }
        }
        if x1 == 0 {
            return None;
        }
        let (w, h) = (x1 - x0, y1 - y0);
        let on = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| dark(x0 + x, y0 + y))
            .collect();
        Some(Ink { w, h, x0, x1, on })
    }

    fn at(&self, x: i64, y: i64) -> bool {
        x >= 0
            && y >= 0
            && x < i64::from(self.w)
            && y < i64::from(self.h)
            && self.on[(y * i64::from(self.w) + x) as usize]
    }

    /// Intersection over union of the two inks, their boxes' top-left
    /// corners aligned, at the best shift of up to 2 px either way (the
    /// rasterisers differ: FreeType hints, ab_glyph does not).
    fn iou(&self, other: &Ink) -> f64 {
        let mut best = 0.0f64;
        for dy in -2i64..=2 {
            for dx in -2i64..=2 {
                let (mut both, mut any) = (0u32, 0u32);
                let w = i64::from(self.w.max(other.w)) + 2;
                let h = i64::from(self.h.max(other.h)) + 2;
                for y in -2..h {
                    for x in -2..w {
                        let (a, b) = (self.at(x, y), other.at(x + dx, y + dy));
                        both += u32::from(a && b);
                        any += u32::from(a || b);
                    }
                }
                best = best.max(f64::from(both) / f64::from(any.max(1)));
            }
        }
        best
    }

    /// How far this ink's width is from `other`'s, as a share of it.
    fn width_off(&self, other: &Ink) -> f64 {
        (f64::from(self.w) - f64::from(other.w)).abs() / f64::from(other.w)
    }
}

/// `text` rendered by Pillow with `font` (a file under /usr/share/fonts) at
/// `size` px, with its raqm (shaping) or basic (no shaping) layout.
fn pillow(font: &str, size: u32, layout: &str, text: &str) -> Ink {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ref.png");
    let script = crate::support::crate_dir().join("tests/it/text_ref.py");
    let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
    let run = std::process::Command::new("python3")
        .arg(&script)
        .arg(&out)
        .args([font, &size.to_string(), layout, &hex])
        .output()
        .expect("python3 with Pillow (installed by scripts/install-deps)");
    assert!(
        run.status.success(),
        "text_ref.py: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let img = image::open(&out).unwrap().to_luma8();
    Ink::of(&img).expect("Pillow drew nothing")
}

/// Same glyphs in the same places as the independent shaper: the ink box
/// within 4 % of its width and IoU at least 0.8 after aligning the boxes.
/// The same glyphs rasterised by FreeType (hinted) and by ab_glyph differ
/// only along the edges: measured IoU 0.93 (Thai), 0.95 (Arabic), 0.97
/// (Devanagari), 0.98 (emoji) at 64 px, boxes within 1 px. Anything
/// unshaped moves whole glyphs: measured IoU 0.13 for isolated Arabic
/// letters left to right (and 42 % wider), 0.48 for Devanagari with its
/// matras after their consonants and visible viramas, 0.07–0.11 for
/// missing-glyph boxes.
const SAME_WIDTH: f64 = 0.04;
const SAME_INK: f64 = 0.8;

fn assert_matches(what: &str, ours: &Ink, reference: &Ink) {
    let (off, iou) = (ours.width_off(reference), ours.iou(reference));
    assert!(
        off <= SAME_WIDTH && iou >= SAME_INK,
        "{what}: width {} vs {} ({:.1} % off), IoU {iou:.3}",
        ours.w,
        reference.w,
        off * 100.0
    );
}

fn assert_differs(what: &str, ours: &Ink, other: &Ink) {
    let (off, iou) = (ours.width_off(other), ours.iou(other));
    assert!(
        off > SAME_WIDTH || iou < SAME_INK,
        "{what} passes for the wrong rendering: width {} vs {} ({:.1} % off), IoU {iou:.3}",
        ours.w,
        other.w,
        off * 100.0
    );
}

/// The line pixgate draws, its shaped reference, and the unshaped one.
async fn check_shaped(b: &Bucket, what: &str, font: &str, text: &str) {
    let ours = b.oss_text(text, 64).await;
    let shaped = pillow(font, 64, "raqm", text);
    let unshaped = pillow(font, 64, "basic", text);
    eprintln!(
        "{what}: ours {}x{}, raqm {}x{} IoU {:.3}, basic {}x{} IoU {:.3}",
        ours.w,
        ours.h,
        shaped.w,
        shaped.h,
        ours.iou(&shaped),
        unshaped.w,
        unshaped.h,
        ours.iou(&unshaped)
    );
    assert_matches(what, &ours, &shaped);
    // The check tells shaping apart: the unshaped rendering fails it.
    assert_differs(&format!("{what} (unshaped)"), &unshaped, &shaped);
    assert_differs(what, &ours, &unshaped);
}

#[tokio::test]
async fn arabic_is_joined_and_right_to_left() {
    let b = bucket().await;
    // "مرحبا بالعالم" (hello, world).
    check_shaped(
        &b,
        "Arabic",
        "NotoSansArabic-Regular.ttf",
        "\u{0645}\u{0631}\u{062D}\u{0628}\u{0627} \u{0628}\u{0627}\u{0644}\u{0639}\u{0627}\u{0644}\u{0645}",
    )
    .await;
}

#[tokio::test]
async fn devanagari_has_its_conjuncts_and_matras() {
    let b = bucket().await;
    // "नमस्ते दुनिया" (hello, world): the conjunct स्त, the i-matra drawn
    // before न.
    check_shaped(
        &b,
        "Devanagari",
        "NotoSansDevanagari-Regular.ttf",
        "\u{0928}\u{092E}\u{0938}\u{094D}\u{0924}\u{0947} \u{0926}\u{0941}\u{0928}\u{093F}\u{092F}\u{093E}",
    )
    .await;
}

/// Drawn as the right font draws it, and not as missing-glyph boxes: the
/// same characters in a font that lacks them (Noto Sans has neither Thai
/// nor emoji) are boxes, and those do not pass for the text.
async fn check_no_tofu(b: &Bucket, what: &str, font: &str, text: &str) {
    let ours = b.oss_text(text, 64).await;
    let right = pillow(font, 64, "raqm", text);
    let boxes = pillow("NotoSans-Regular.ttf", 64, "basic", text);
    eprintln!(
        "{what}: ours {}x{}, {font} {}x{} IoU {:.3}, boxes {}x{} IoU {:.3}",
        ours.w,
        ours.h,
        right.w,
        right.h,
        ours.iou(&right),
        boxes.w,
        boxes.h,
        ours.iou(&boxes)
    );
    assert_matches(what, &ours, &right);
    assert_differs(&format!("{what} as boxes"), &boxes, &right);
}

#[tokio::test]
async fn thai_and_emoji_draw_no_missing_glyph_boxes() {
    let b = bucket().await;
    // "สวัสดีครับ" (hello): vowels and tone marks above and below.
    check_no_tofu(
        &b,
        "Thai",
        "NotoSansThai-Regular.ttf",
        "\u{0E2A}\u{0E27}\u{0E31}\u{0E2A}\u{0E14}\u{0E35}\u{0E04}\u{0E23}\u{0E31}\u{0E1A}",
    )
    .await;
    // Grinning face, thumbs up, globe: Symbola's outlines.
    check_no_tofu(
        &b,
        "emoji",
        "Symbola_hint.ttf",
        "\u{1F600}\u{1F44D}\u{1F30D}",
    )
    .await;
}

#[tokio::test]
async fn a_line_wider_than_the_image_is_shrunk_to_fit_in_every_dialect() {
    let b = bucket().await;
    let text = "pixgate wide watermark";
    let t = URL_SAFE_NO_PAD.encode(text);
    let fill = URL_SAFE_NO_PAD.encode("#000000");
    // At 60 px the line is about 615 px wide and fits the 1000×300 image as
    // asked; at 100 px (about 1025 px) on the 400×300 one the whole line is
    // drawn smaller, inside the image and its 10 px margins, at the
    // bottom-right, the same in each dialect.
    let full = Ink::of(
        &b.gray(&format!(
            "/local/wide.png?x-oss-process=image/watermark,text_{t},size_60,g_nw,x_0,y_0/format,png"
        ))
        .await,
    )
    .unwrap();
    for (dialect, path) in [
        (
            "OSS",
            format!(
                "/local/white.png?x-oss-process=image/watermark,text_{t},size_100,x_10,y_10/format,png"
            ),
        ),
        (
            "Tencent",
            format!(
                "/local/white.png?watermark/2/text/{t}/fontsize/100/fill/{fill}/dissolve/100/dx/10/dy/10"
            ),
        ),
        (
            // Qiniu's size is in twips: 2000 = 100 px.
            "Qiniu",
            format!(
                "/qiniu/white.png?watermark/2/text/{t}/fontsize/2000/fill/{fill}/dissolve/100/dx/10/dy/10"
            ),
        ),
    ] {
        let ink = Ink::of(&b.gray(&path).await).expect("the text drew nothing");
        // All of it: not cut at the left edge, not past the margin.
        assert!(
            ink.x0 > 0 && ink.x1 <= 390,
            "{dialect}: ink from x {} to {}",
            ink.x0,
            ink.x1
        );
        // As wide as the room allows (the 390 px less the glyphs' side
        // bearings), and the same line: the 60 px rendering scaled.
        assert!(ink.w >= 360, "{dialect}: only {} px wide", ink.w);
        let k = f64::from(ink.w) / f64::from(full.w);
        let expected_h = f64::from(full.h) * k;
        assert!(
            (f64::from(ink.h) - expected_h).abs() <= 3.0,
            "{dialect}: {}x{}, the 60 px line is {}x{}",
            ink.w,
            ink.h,
            full.w,
            full.h
        );
    }
}
