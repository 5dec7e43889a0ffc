//! Watermarks over HTTP: a Chinese text mark only inside its box, an image
//! mark scaled to P % of the main image, tiling, opacity, the same-bucket
//! rule, and the service documents' example URLs.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use image::{Rgb, RgbImage, RgbaImage};

use crate::support::{Pixgate, client, corpus, xml_tag};

/// A bucket directory holding the OSS examples' names: `example.jpg` (the
/// service's 400×267 example photo, which the corpus has as
/// concert-400x267.jpg), `panda.png` (the corpus's 128×128 hopper.png),
/// and flat test images made here. Copied into a temp dir at test time.
struct Bucket {
    root: tempfile::TempDir,
    px: Pixgate,
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn flat(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    RgbImage::from_pixel(w, h, Rgb(rgb)).save(path).unwrap();
}

async fn bucket() -> Bucket {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("bucket");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(
        corpus().join("photos/concert-400x267.jpg"),
        dir.join("example.jpg"),
    )
    .unwrap();
    std::fs::copy(corpus().join("formats/hopper.png"), dir.join("panda.png")).unwrap();
    flat(&dir.join("white.png"), 400, 300, [255, 255, 255]);
    flat(&dir.join("grey.png"), 400, 300, [100, 100, 100]);
    flat(&dir.join("red.png"), 100, 50, [255, 0, 0]);
    std::fs::create_dir(dir.join("marks")).unwrap();
    flat(&dir.join("marks/red.png"), 20, 10, [255, 0, 0]);
    // Outside the bucket: must never be readable as a watermark.
    flat(&root.path().join("secret.png"), 10, 10, [0, 255, 0]);
    let fonts = corpus().join("fonts").canonicalize().unwrap();
    let px = Pixgate::start(&format!(
        "[watermark]\nfont_dirs = [\"/usr/share/fonts\", \"{}\"]\n\
         [[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        fonts.display(),
        dir.display()
    ))
    .await;
    Bucket { root, px }
}

impl Bucket {
    async fn get(&self, key: &str, process: &str) -> (u16, Vec<u8>) {
        let res = client()
            .get(
                self.px
                    .url(&format!("/local/{key}?x-oss-process={process}")),
            )
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
    }

    async fn image(&self, key: &str, process: &str) -> RgbaImage {
        let (status, body) = self.get(key, process).await;
        assert_eq!(status, 200, "{process}: {}", String::from_utf8_lossy(&body));
        image::load_from_memory(&body).unwrap().to_rgba8()
    }
}

/// The bounding box (x0, y0, x1, y1 exclusive) of pixels that differ by more
/// than `tolerance` in any channel.
fn changed_box(a: &RgbaImage, b: &RgbaImage, tolerance: u8) -> Option<(u32, u32, u32, u32)> {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut bbox: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in a.enumerate_pixels() {
        let q = b.get_pixel(x, y);
        if p.0.iter().zip(q.0).any(|(u, v)| u.abs_diff(v) > tolerance) {
            bbox = Some(match bbox {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
    }
    bbox
}

#[tokio::test]
async fn chinese_text_changes_only_its_box_at_the_gravity() {
    let b = bucket().await;
    let plain = b.image("white.png", "image/format,png").await;
    // "水印文字", the example, 40 px, bottom-right, 10 px margins.
    let marked = b
        .image(
            "white.png",
            "image/watermark,text_5rC05Y2w5paH5a2X/format,png",
        )
        .await;
    let (x0, y0, x1, y1) = changed_box(&plain, &marked, 0).expect("the text drew nothing");
    // Inside the margins, against the bottom-right corner.
    assert!(x1 <= 390 && y1 <= 290, "box {x0},{y0}-{x1},{y1}");
    assert!(
        x1 >= 380 && y1 >= 275,
        "not at the corner: {x0},{y0}-{x1},{y1}"
    );
    // Four CJK glyphs at 40 px: about 160 px wide, at most ~50 px high.
    let (w, h) = (x1 - x0, y1 - y0);
    assert!((120..=170).contains(&w), "text width {w}");
    assert!((25..=50).contains(&h), "text height {h}");
    // Real glyphs, anti-aliased: many dark pixels and some grey edges.
    let inked = marked.pixels().filter(|p| p.0[0] < 64).count();
    let edges = marked
        .pixels()
        .filter(|p| (64..192).contains(&p.0[0]))
        .count();
    assert!(inked > 600, "{inked} dark pixels");
    assert!(edges > 50, "{edges} anti-aliased pixels");
}

#[tokio::test]
async fn an_image_mark_with_p_30_is_30_percent_of_the_main_width() {
    let b = bucket().await;
    let mark = b64("red.png?x-oss-process=image/resize,P_30");
    let out = b
        .image(
            "white.png",
            &format!("image/watermark,image_{mark},g_nw,x_0,y_0/format,png"),
        )
        .await;
    let plain = b.image("white.png", "image/format,png").await;
    let (x0, y0, x1, y1) = changed_box(&plain, &out, 8).unwrap();
    // 30 % of 400 = 120 wide; the 100×50 mark keeps its shape: 60 high.
    assert_eq!((x0, y0), (0, 0));
    assert_eq!((x1 - x0, y1 - y0), (120, 60));
    assert_eq!(out.get_pixel(60, 30).0, [255, 0, 0, 255]);
}

#[tokio::test]
async fn fill_tiles_the_whole_image_and_padding_leaves_gaps() {
    let b = bucket().await;
    let mark = b64("marks/red.png");
    let out = b
        .image(
            "white.png",
            &format!("image/watermark,image_{mark},fill_1/format,png"),
        )
        .await;
    assert!(
        out.pixels().all(|p| p.0 == [255, 0, 0, 255]),
        "an opaque 20×10 tile without padding covers every pixel"
    );
    let out = b
        .image(
            "white.png",
            &format!("image/watermark,image_{mark},fill_1,padx_20,pady_10/format,png"),
        )
        .await;
    let red = out.pixels().filter(|p| p.0 == [255, 0, 0, 255]).count();
    // Tiles cover a quarter of each 40×20 cell.
    assert_eq!(red, 400 * 300 / 4);
    assert_eq!(out.get_pixel(25, 5).0, [255, 255, 255, 255]);
    assert_eq!(out.get_pixel(370, 285).0, [255, 0, 0, 255]);
}

#[tokio::test]
async fn t_50_blends_at_half_strength() {
    let b = bucket().await;
    let mark = b64("red.png");
    let out = b
        .image(
            "grey.png",
            &format!("image/watermark,image_{mark},t_50,g_nw,x_0,y_0/format,png"),
        )
        .await;
    // Red (255,0,0) at 50 % over grey (100,100,100).
    let p = out.get_pixel(50, 25).0;
    for (got, want) in p.iter().zip([178u8, 50, 50]) {
        assert!(got.abs_diff(want) <= 2, "{p:?}");
    }
    // Outside the mark: untouched.
    assert_eq!(out.get_pixel(200, 200).0, [100, 100, 100, 255]);
}

#[tokio::test]
async fn marks_never_come_from_outside_the_bucket() {
    let b = bucket().await;
    assert!(b.root.path().join("secret.png").exists());
    for (key, code) in [
        ("../secret.png", "WatermarkError"),
        ("/etc/passwd", "WatermarkError"),
        ("marks/../../secret.png", "WatermarkError"),
        ("other-bucket/red.png", "WatermarkError"),
        ("http://127.0.0.1:1/red.png", "WatermarkError"),
        ("missing.png", "WatermarkError"),
    ] {
        let process = format!("image/watermark,image_{}", b64(key));
        let (status, body) = b.get("white.png", &process).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{key}: {text}");
        assert_eq!(xml_tag(&text, "Code").as_deref(), Some(code), "{key}");
    }
    // Undecodable base64: the service's exact message.
    let (status, body) = b.get("white.png", "image/watermark,image_@@@").await;
    assert_eq!(status, 400);
    assert_eq!(
        xml_tag(&String::from_utf8_lossy(&body), "Message").as_deref(),
        Some("Input is not base64 decoding.")
    );
    // More than three image watermarks.
    let four = vec![format!("watermark,image_{}", b64("red.png")); 4].join("/");
    let (status, _) = b.get("white.png", &format!("image/{four}")).await;
    assert_eq!(status, 400);
}

/// The watermark URLs of seed 004 and the reference notes, on the bucket
/// above; three are saved as PNGs under the target directory to look at.
#[tokio::test]
async fn the_documented_examples_render() {
    let b = bucket().await;
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("watermark-examples");
    std::fs::create_dir_all(&out_dir).unwrap();
    let examples: [(&str, (u32, u32), Option<&str>); 9] = [
        // seed 004, "Example" (panda at 90 % opacity, bottom-right).
        (
            "image/resize,w_300,h_300/auto-orient,1/quality,q_90/format,jpg/watermark,image_cGFuZGEucG5n,t_90,g_se,x_10,y_10",
            (300, 200),
            Some("seed-panda-se"),
        ),
        // seed 004, P_30 after resize,w_400 and w_300 (the PDF's line
        // break inside the base64 removed).
        (
            "image/resize,w_400/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA,t_90,g_se,x_10,y_10",
            (400, 267),
            None,
        ),
        (
            "image/resize,w_300/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA,t_90,g_se,x_10,y_10",
            (300, 200),
            None,
        ),
        // seed 004's style "panda_sytle".
        (
            "image/resize,m_fill,w_300,h_300,limit_0/auto-orient,0/quality,q_90/watermark,image_cGFuZGEucG5n,t_61,g_se,y_10,x_10",
            (300, 300),
            None,
        ),
        // The reference's vectors.
        (
            "image/watermark,text_SGVsbG8g5Zu-54mH5pyN5YqhIQ",
            (400, 267),
            Some("reference-hello-cjk"),
        ),
        ("image/watermark,text_SGVsbG8gV29ybGQ", (400, 267), None),
        (
            "image/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA,t_90,g_se,x_10,y_10",
            (400, 267),
            None,
        ),
        (
            "image/resize,w_300,h_300/watermark,type_d3F5LXplbmhlaQ,size_30,text_SGVsbG8gV29ybGQ,color_FFFFFF,shadow_50,t_100,g_se,x_10,y_10",
            (300, 200),
            Some("reference-white-shadow"),
        ),
        // Text and image together, tiled (the composite case).
        (
            "image/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMTA,text_5rC05Y2w5paH5a2X,size_20,interval_5,align_1,fill_1,padx_30,pady_30,t_70",
            (400, 267),
            None,
        ),
    ];
    for (process, size, save) in examples {
        let img = b.image("example.jpg", process).await;
        assert_eq!(img.dimensions(), size, "{process}");
        if let Some(name) = save {
            img.save(out_dir.join(format!("{name}.png"))).unwrap();
        }
    }
    // seed 004's second example spells "resize" as "rusize" inside the
    // base64 (cnVzaXpl): an unknown pre-processing action, refused as the
    // service refuses unknown actions.
    let (status, _) = b
        .get(
            "example.jpg",
            "image/resize,w_300,h_300/auto-orient,1/quality,q_90/format,jpg/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcnVzaXplLHdfNTA=,t_90,g_se,x_10,y_10",
        )
        .await;
    assert_eq!(status, 400);
    // With the typo fixed (cmVzaXpl), it renders.
    let img = b
        .image(
            "example.jpg",
            "image/resize,w_300,h_300/auto-orient,1/quality,q_90/format,jpg/watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLHdfNTA=,t_90,g_se,x_10,y_10",
        )
        .await;
    assert_eq!(img.dimensions(), (300, 200));
}

#[tokio::test]
async fn text_and_image_follow_order_align_and_interval() {
    let b = bucket().await;
    let red = b64("red.png");
    // "II" in black next to the 100×50 red mark.
    let text = b64("II");
    let red_box = |img: &RgbaImage| {
        let reds: Vec<(u32, u32)> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 == [255, 0, 0, 255])
            .map(|(x, y, _)| (x, y))
            .collect();
        let x0 = reds.iter().map(|p| p.0).min().unwrap();
        let y0 = reds.iter().map(|p| p.1).min().unwrap();
        let x1 = reds.iter().map(|p| p.0).max().unwrap() + 1;
        let y1 = reds.iter().map(|p| p.1).max().unwrap() + 1;
        (x0, y0, x1, y1)
    };
    let dark_columns = |img: &RgbaImage| -> Vec<u32> {
        (0..img.width())
            .filter(|&x| (0..img.height()).any(|y| img.get_pixel(x, y).0[0] < 80))
            .collect()
    };
    // Image first (order_0), top-aligned, 10 px apart, at the top-left corner.
    let out = b
        .image(
            "white.png",
            &format!(
                "image/watermark,image_{red},text_{text},size_60,order_0,align_0,interval_10,g_nw,x_0,y_0/format,png"
            ),
        )
        .await;
    assert_eq!(red_box(&out), (0, 0, 100, 50));
    let ink = dark_columns(&out);
    assert!(*ink.first().unwrap() >= 110, "text starts at {}", ink[0]);
    // Text first (order_1), bottom-aligned: the red box moves right and down
    // to the bottom of the taller text line.
    let out = b
        .image(
            "white.png",
            &format!(
                "image/watermark,image_{red},text_{text},size_60,order_1,align_2,interval_10,g_nw,x_0,y_0/format,png"
            ),
        )
        .await;
    let (x0, y0, x1, y1) = red_box(&out);
    assert_eq!((x1 - x0, y1 - y0), (100, 50));
    let ink = dark_columns(&out);
    assert!(
        *ink.last().unwrap() + 10 <= x0,
        "text ends at {}, red starts at {x0}",
        ink.last().unwrap()
    );
    assert!(y0 > 0, "bottom alignment moves the shorter mark down");
}

#[tokio::test]
async fn an_oversized_text_line_is_refused_before_it_is_drawn() {
    let b = bucket().await;
    // 64 CJK characters at 1000 px: a line ~64 000 px wide.
    let text = b64(&"水".repeat(64));
    let (status, body) = b
        .get(
            "white.png",
            &format!("image/watermark,text_{text},size_1000"),
        )
        .await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{body}");
    assert_eq!(xml_tag(&body, "Code").as_deref(), Some("InvalidArgument"));
    assert!(body.contains("each side must be at most 16384"), "{body}");
    // A watermark image's own pre-processing obeys the output limits too.
    let huge = b64("red.png?x-oss-process=image/resize,m_fixed,w_16000,h_16000,limit_0");
    let (status, body) = b
        .get("white.png", &format!("image/watermark,image_{huge}"))
        .await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400, "{body}");
    assert_eq!(xml_tag(&body, "Code").as_deref(), Some("InvalidArgument"));
}

#[tokio::test]
async fn a_base64_text_colour_is_the_same_colour_as_its_hex() {
    let b = bucket().await;
    // The older guide's `color_I0ZGMDAwMA` is base64 of "#FF0000".
    let hex = b
        .image(
            "white.png",
            "image/watermark,text_SGVsbG8,color_FF0000/format,png",
        )
        .await;
    let b64 = b
        .image(
            "white.png",
            "image/watermark,text_SGVsbG8,color_I0ZGMDAwMA/format,png",
        )
        .await;
    assert_eq!(hex, b64);
    // And the glyphs are red: some pixels are pure red, none dark.
    let red = b64
        .pixels()
        .filter(|p| p.0[0] > 200 && p.0[1] < 40 && p.0[2] < 40)
        .count();
    assert!(red > 100, "{red} red pixels");
    assert!(b64.pixels().all(|p| p.0[0] > 200));
}
