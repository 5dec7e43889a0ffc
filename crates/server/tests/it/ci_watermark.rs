//! Tencent CI and Qiniu watermarks over HTTP (`?watermark/1/…` image,
//! `?watermark/2/…` text): status/size/error vectors, and pixels — where
//! the mark lands, the clouds' own defaults, the relative scale, the
//! oversize rules, tiling, and the same glyphs as OSS's `watermark,text_…`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use image::{Rgb, RgbImage, RgbaImage};

use crate::support::{Pixgate, client, corpus, xml_tag};
use crate::vectors::{Expect, Vector, run, start};

const T: &str = "Tencent watermark";
const Q: &str = "Qiniu watermark";

const fn jpg(
    dialect: &'static str,
    form: &'static str,
    url: &'static str,
    w: u32,
    h: u32,
) -> Vector {
    Vector::image(dialect, form, url, "jpg", w, h)
}

/// An error in the cloud's own shape: Tencent XML `<Code>`, Qiniu JSON
/// `{"code": <status>, "error": …}` (its code is the status: not compared).
const fn error(
    dialect: &'static str,
    shape: &'static str,
    form: &'static str,
    url: &'static str,
    status: u16,
    code: &'static str,
) -> Vector {
    Vector::error(dialect, form, url, status, shape, code)
}

// Base64 in the URLs below (URL-safe unless said):
// 5rC05Y2w5paH5a2X = 水印文字; 6IW-6K6v…lm74 = 腾讯云·万象优图 (the Tencent
// document's example; `%2B…%3D` is the same in the standard alphabet,
// padded); IzNEM0QzRA = #3D3D3D; 5LiD54mb5LqR5a2Y5YKo = 七牛云存储,
// 5a6L5L2T = 宋体, d2hpdGU= = white (the Qiniu document's example);
// aHR0cDovL2V4YW1wbGVidWNrZXQt…aG9wcGVyLmpwZw = http://examplebucket-
// 1250000000.cos.ap-shanghai.myqcloud.com/hopper.jpg (…LzMyMHgyNDAuanBn:
// /320x240.jpg; …L25vLXN1Y2gtbWFyay5wbmc: /no-such-mark.png);
// aHR0cCUzQS8v…LmpwZw = http%3A//examplebucket-1250000000.picsh.
// myqcloud.com/concert-400x267.jpg (the document's encoded colon);
// MzIweDI0MC5qcGc = 320x240.jpg (no URL); a29kbzovL3Bob3Rvcy9j…
// = kodo://photos/concert-400x267.jpg; aHR0cDovL3d3dy5iMS5x…LmpwZw =
// http://www.b1.qiniudn.com/concert-400x267.jpg.
pub const VECTORS: &[Vector] = &[
    jpg(
        T,
        "watermark/2 text, defaults",
        "/320x240.jpg?watermark/2/text/5rC05Y2w5paH5a2X",
        320,
        240,
    ),
    jpg(
        T,
        "watermark/2 the document's example (fill, fontsize, dissolve, gravity, dx, dy, batch, degree)",
        "/320x240.jpg?watermark/2/text/6IW-6K6v5LqRwrfkuIfosaHkvJjlm74/fill/IzNEM0QzRA/fontsize/20/dissolve/50/gravity/northeast/dx/20/dy/20/batch/1/degree/45",
        320,
        240,
    ),
    jpg(
        T,
        "watermark/2 shadow, standard base64 padded, gravity SouthWest",
        "/320x240.jpg?watermark/2/text/6IW%2B6K6v5LqRwrfkuIfosaHkvJjlm74%3D/shadow/50/gravity/SouthWest",
        320,
        240,
    ),
    Vector {
        dialect: T,
        form: "watermark/1 image of the same bucket (any host), gravity, dx, dy",
        url: "/formats/hopper.png?watermark/1/image/aHR0cDovL2V4YW1wbGVidWNrZXQtMTI1MDAwMDAwMC5jb3MuYXAtc2hhbmdoYWkubXlxY2xvdWQuY29tL2hvcHBlci5qcGc/gravity/northwest/dx/10/dy/10",
        expect: Expect::Image {
            format: "png",
            w: 128,
            h: 128,
        },
    },
    jpg(
        T,
        "watermark/1 URL with an encoded colon, blogo/1",
        "/320x240.jpg?watermark/1/image/aHR0cCUzQS8vZXhhbXBsZWJ1Y2tldC0xMjUwMDAwMDAwLnBpY3NoLm15cWNsb3VkLmNvbS9jb25jZXJ0LTQwMHgyNjcuanBn/blogo/1",
        320,
        240,
    ),
    jpg(
        T,
        "watermark/1 scatype/1 spcent, dissolve",
        "/concert-400x267.jpg?watermark/1/image/aHR0cDovL2V4YW1wbGVidWNrZXQtMTI1MDAwMDAwMC5jb3MuYXAtc2hhbmdoYWkubXlxY2xvdWQuY29tLzMyMHgyNDAuanBn/scatype/1/spcent/250/dissolve/70",
        400,
        267,
    ),
    jpg(
        T,
        "watermark/1 scatype/3 (area), batch, degree",
        "/concert-400x267.jpg?watermark/1/image/aHR0cDovL2V4YW1wbGVidWNrZXQtMTI1MDAwMDAwMC5jb3MuYXAtc2hhbmdoYWkubXlxY2xvdWQuY29tLzMyMHgyNDAuanBn/scatype/3/spcent/20/batch/1/degree/30",
        400,
        267,
    ),
    jpg(
        T,
        "watermark/2 after imageMogr2 in a pipeline",
        "/flowers-1920x1080.jpg?imageMogr2/thumbnail/480x|watermark/2/text/5rC05Y2w5paH5a2X/fontsize/30",
        480,
        270,
    ),
    error(
        T,
        "xml",
        "watermark/3 (blind)",
        "/320x240.jpg?watermark/3/type/3/text/5rC05Y2w5paH5a2X",
        501,
        "NotImplemented",
    ),
    error(
        T,
        "xml",
        "watermark/1 object missing from the bucket",
        "/320x240.jpg?watermark/1/image/aHR0cDovL2V4YW1wbGVidWNrZXQtMTI1MDAwMDAwMC5jb3MuYXAtc2hhbmdoYWkubXlxY2xvdWQuY29tL25vLXN1Y2gtbWFyay5wbmc",
        400,
        "WatermarkError",
    ),
    error(
        T,
        "xml",
        "watermark/1 not a URL",
        "/320x240.jpg?watermark/1/image/MzIweDI0MC5qcGc",
        400,
        "WatermarkError",
    ),
    error(
        T,
        "xml",
        "watermark/2 unknown gravity",
        "/320x240.jpg?watermark/2/text/5rC05Y2w5paH5a2X/gravity/middle",
        400,
        "InvalidArgument",
    ),
    error(
        T,
        "xml",
        "watermark/2 text not base64",
        "/320x240.jpg?watermark/2/text/!!!",
        400,
        "InvalidArgument",
    ),
    error(
        T,
        "xml",
        "watermark/2 without text",
        "/320x240.jpg?watermark/2/fontsize/20",
        400,
        "MissingArgument",
    ),
    error(
        T,
        "xml",
        "watermark/1 Qiniu's ws",
        "/320x240.jpg?watermark/1/image/aHR0cDovL2V4YW1wbGVidWNrZXQtMTI1MDAwMDAwMC5jb3MuYXAtc2hhbmdoYWkubXlxY2xvdWQuY29tLzMyMHgyNDAuanBn/ws/0.5",
        400,
        "InvalidArgument",
    ),
    jpg(
        Q,
        "watermark/2 the document's example (font, fontsize in twips, fill name, dissolve, gravity, dx, dy)",
        "/320x240.jpg?watermark/2/text/5LiD54mb5LqR5a2Y5YKo/font/5a6L5L2T/fontsize/1000/fill/d2hpdGU=/dissolve/85/gravity/SouthEast/dx/20/dy/20",
        320,
        240,
    ),
    jpg(
        Q,
        "watermark/2 text, defaults",
        "/320x240.jpg?watermark/2/text/5rC05Y2w5paH5a2X",
        320,
        240,
    ),
    jpg(
        Q,
        "watermark/1 kodo:// source, ws",
        "/320x240.jpg?watermark/1/image/a29kbzovL3Bob3Rvcy9jb25jZXJ0LTQwMHgyNjcuanBn/ws/0.2",
        320,
        240,
    ),
    jpg(
        Q,
        "watermark/1 http URL (padded base64), larger than the image",
        "/320x240.jpg?watermark/1/image/aHR0cDovL3d3dy5iMS5xaW5pdWRuLmNvbS9jb25jZXJ0LTQwMHgyNjcuanBn/dissolve/50/gravity/SouthEast/dx/20/dy/20",
        320,
        240,
    ),
    error(
        Q,
        "json",
        "watermark/3 (several marks)",
        "/320x240.jpg?watermark/3/text/5rC05Y2w5paH5a2X",
        501,
        "",
    ),
    error(
        Q,
        "json",
        "watermark/2 Tencent's shadow",
        "/320x240.jpg?watermark/2/text/5rC05Y2w5paH5a2X/shadow/50",
        400,
        "",
    ),
    error(
        Q,
        "json",
        "watermark/2 dissolve out of range",
        "/320x240.jpg?watermark/2/text/5rC05Y2w5paH5a2X/dissolve/0",
        400,
        "",
    ),
];

/// The vectors of one dialect.
fn of(dialect: &str) -> Vec<Vector> {
    VECTORS
        .iter()
        .filter(|v| v.dialect == dialect)
        .copied()
        .collect()
}

#[tokio::test]
async fn tencent_vectors() {
    let px = start("").await;
    run(&px, &of(T)).await;
}

#[tokio::test]
async fn qiniu_vectors() {
    let px = start("dialects = [\"qiniu\"]").await;
    run(&px, &of(Q)).await;
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn flat(path: &std::path::Path, w: u32, h: u32, rgb: [u8; 3]) {
    RgbImage::from_pixel(w, h, Rgb(rgb)).save(path).unwrap();
}

/// A bucket of flat test images (made here) and the corpus's hopper.png,
/// served as `/local/…` in the default dialects and as `/qiniu/…` for a
/// bucket that speaks Qiniu.
struct Bucket {
    _root: tempfile::TempDir,
    px: Pixgate,
}

async fn bucket() -> Bucket {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("bucket");
    std::fs::create_dir_all(dir.join("marks")).unwrap();
    std::fs::copy(corpus().join("formats/hopper.png"), dir.join("hopper.png")).unwrap();
    flat(&dir.join("white.png"), 400, 300, [255, 255, 255]);
    flat(&dir.join("grey.png"), 400, 300, [100, 100, 100]);
    flat(&dir.join("marks/red.png"), 20, 10, [255, 0, 0]);
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
    async fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let res = client().get(self.px.url(path)).send().await.unwrap();
        (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
    }

    async fn image(&self, path: &str) -> RgbaImage {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        image::load_from_memory(&body).unwrap().to_rgba8()
    }
}

/// The box (x0, y0, x1, y1 exclusive) of pixels differing by more than
/// `tolerance` in a channel.
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

/// A Tencent watermark URL naming `key` on some other host: only the path
/// counts.
fn tencent_url(key: &str) -> String {
    b64(&format!(
        "http://examplebucket-1250000000.cos.ap-shanghai.myqcloud.com/{key}"
    ))
}

#[tokio::test]
async fn tencent_text_lands_at_the_bottom_right_only() {
    let b = bucket().await;
    let plain = b.image("/local/white.png").await;
    // 水印文字 at 40 pt (= 40 px), black, opaque; Tencent's dx/dy default 0.
    let marked = b
        .image(&format!(
            "/local/white.png?watermark/2/text/5rC05Y2w5paH5a2X/fontsize/40/fill/{}/dissolve/100",
            b64("#000000")
        ))
        .await;
    let (x0, y0, x1, y1) = changed_box(&plain, &marked, 0).expect("the text drew nothing");
    assert!(
        x0 > 200 && y0 > 150,
        "not bottom-right: {x0},{y0}-{x1},{y1}"
    );
    assert!(
        x1 >= 390 && y1 >= 285,
        "not at the corner: {x0},{y0}-{x1},{y1}"
    );
    // Four CJK glyphs at 40 px: about 160 px wide.
    assert!((120..=170).contains(&(x1 - x0)), "text width {}", x1 - x0);
    // The top-left quarter is untouched.
    for (x, y, p) in marked.enumerate_pixels() {
        if x < 200 && y < 150 {
            assert_eq!(p.0, [255, 255, 255, 255], "({x},{y})");
        }
    }
    // Tencent's default fill #3D3D3D at dissolve 90: the darkest ink is
    // about 0x3D·0.9 + 255·0.1 = 80, not black.
    let default = b
        .image("/local/white.png?watermark/2/text/5rC05Y2w5paH5a2X/fontsize/40")
        .await;
    let darkest = default.pixels().map(|p| p.0[0]).min().unwrap();
    assert!((75..=85).contains(&darkest), "darkest {darkest}");
}

#[tokio::test]
async fn tencent_image_mark_lands_where_gravity_dx_dy_say() {
    let b = bucket().await;
    let plain = b.image("/local/white.png").await;
    let red = tencent_url("marks/red.png");
    let out = b
        .image(&format!(
            "/local/white.png?watermark/1/image/{red}/gravity/NorthWest/dx/30/dy/40/dissolve/100"
        ))
        .await;
    assert_eq!(changed_box(&plain, &out, 0), Some((30, 40, 50, 50)));
    assert_eq!(out.get_pixel(40, 45).0, [255, 0, 0, 255]);
    // Defaults: SouthEast, no margin, dissolve 90 (red over white: the
    // other channels keep a tenth of the white).
    let out = b
        .image(&format!("/local/white.png?watermark/1/image/{red}"))
        .await;
    assert_eq!(changed_box(&plain, &out, 0), Some((380, 290, 400, 300)));
    let p = out.get_pixel(390, 295).0;
    assert!(
        p[0] == 255 && p[1].abs_diff(26) <= 2 && p[2].abs_diff(26) <= 2,
        "{p:?}"
    );
    // East: dy does not apply, the mark is centred vertically.
    let out = b
        .image(&format!(
            "/local/white.png?watermark/1/image/{red}/gravity/east/dx/5/dy/100/dissolve/100"
        ))
        .await;
    assert_eq!(changed_box(&plain, &out, 0), Some((375, 145, 395, 155)));
}

#[tokio::test]
async fn tencent_scatype_scales_the_mark_from_the_main_image() {
    let b = bucket().await;
    let plain = b.image("/local/white.png").await;
    let red = tencent_url("marks/red.png");
    // A tenth of the 400 px width: 40×20.
    let out = b
        .image(&format!(
            "/local/white.png?watermark/1/image/{red}/scatype/1/spcent/100/dissolve/100"
        ))
        .await;
    assert_eq!(changed_box(&plain, &out, 0), Some((360, 280, 400, 300)));
    // Half the 300 px height: 300×150.
    let out = b
        .image(&format!(
            "/local/white.png?watermark/1/image/{red}/scatype/2/spcent/500/gravity/northwest/dissolve/100"
        ))
        .await;
    assert_eq!(changed_box(&plain, &out, 0), Some((0, 0, 300, 150)));
}

#[tokio::test]
async fn tencent_blogo_fits_a_large_mark_and_batch_tiles() {
    let b = bucket().await;
    // The 20×10 red image marked with the 400×300 white one.
    let red = b.image("/local/marks/red.png").await;
    let white = tencent_url("white.png");
    // blogo/1: shrunk to 13×10 at the bottom-right: the left columns stay red.
    let out = b
        .image(&format!(
            "/local/marks/red.png?watermark/1/image/{white}/blogo/1/dissolve/100"
        ))
        .await;
    let (x0, y0, x1, y1) = changed_box(&red, &out, 0).unwrap();
    assert!(
        (6..=8).contains(&x0) && y0 == 0 && (x1, y1) == (20, 10),
        "{x0},{y0}-{x1},{y1}"
    );
    // blogo/2: cut to 20×10: all white.
    let out = b
        .image(&format!(
            "/local/marks/red.png?watermark/1/image/{white}/blogo/2/dissolve/100"
        ))
        .await;
    assert!(out.pixels().all(|p| p.0 == [255, 255, 255, 255]));
    // batch/1: tiles from the top-left, dx/dy apart.
    let mark = tencent_url("marks/red.png");
    let out = b
        .image(&format!(
            "/local/white.png?watermark/1/image/{mark}/batch/1/dx/20/dy/10/dissolve/100"
        ))
        .await;
    let reds = out.pixels().filter(|p| p.0 == [255, 0, 0, 255]).count();
    assert_eq!(reds, 400 * 300 / 4);
    assert_eq!(out.get_pixel(5, 5).0, [255, 0, 0, 255]);
    assert_eq!(out.get_pixel(25, 5).0, [255, 255, 255, 255]);
    assert_eq!(out.get_pixel(45, 25).0, [255, 0, 0, 255]);
}

#[tokio::test]
async fn tencent_text_degree_turns_the_text() {
    let b = bucket().await;
    let plain = b.image("/local/white.png").await;
    let at = |degree: u32| {
        format!(
            "/local/white.png?watermark/2/text/{}/fontsize/30/gravity/center/degree/{degree}",
            b64("WATERMARK")
        )
    };
    let flat = b.image(&at(0)).await;
    let turned = b.image(&at(90)).await;
    let (x0, y0, x1, y1) = changed_box(&plain, &flat, 0).unwrap();
    let (u0, v0, u1, v1) = changed_box(&plain, &turned, 0).unwrap();
    // Wide and low, then narrow and tall.
    assert!(x1 - x0 > 2 * (y1 - y0), "{x0},{y0}-{x1},{y1}");
    assert!(v1 - v0 > 2 * (u1 - u0), "{u0},{v0}-{u1},{v1}");
}

/// The same request in OSS's grammar and Tencent's: the same glyphs in the
/// same corner. Same renderer and font, lossless PNG: the tolerance is 2
/// per channel (rounding of the opacity blend), and nothing may differ.
#[tokio::test]
async fn oss_and_tencent_text_watermarks_give_the_same_pixels() {
    let b = bucket().await;
    let text = b64("Hello 水印");
    let oss = b
        .image(&format!(
            "/local/grey.png?x-oss-process=image/watermark,text_{text},g_se,x_10,y_10,size_40,color_FFFFFF,t_80"
        ))
        .await;
    let tencent = b
        .image(&format!(
            "/local/grey.png?watermark/2/text/{text}/gravity/southeast/dx/10/dy/10/fontsize/40/fill/{}/dissolve/80",
            b64("#FFFFFF")
        ))
        .await;
    let grey = b.image("/local/grey.png").await;
    let (x0, y0, x1, y1) = changed_box(&grey, &oss, 0).expect("OSS drew nothing");
    assert!(
        x1 <= 390 && y1 <= 290 && x0 > 200 && y0 > 200,
        "{x0},{y0}-{x1},{y1}"
    );
    assert_eq!(changed_box(&oss, &tencent, 2), None);
    // Qiniu's 800 twips are the same 40 px (its dx/dy default to 10).
    let qiniu = b
        .image(&format!(
            "/qiniu/grey.png?watermark/2/text/{text}/fontsize/800/fill/{}/dissolve/80",
            b64("white")
        ))
        .await;
    assert_eq!(changed_box(&oss, &qiniu, 2), None);
}

#[tokio::test]
async fn qiniu_defaults_kodo_sources_and_oversized_marks() {
    let b = bucket().await;
    let plain = b.image("/qiniu/white.png").await;
    // dx/dy default 10, dissolve 100; kodo:// names a key of this bucket.
    let red = b64("kodo://qiniu/marks/red.png");
    let out = b
        .image(&format!("/qiniu/white.png?watermark/1/image/{red}"))
        .await;
    assert_eq!(changed_box(&plain, &out, 0), Some((370, 280, 390, 290)));
    assert_eq!(out.get_pixel(380, 285).0, [255, 0, 0, 255]);
    // ws: half the main image's short edge (300): a 300×150 mark.
    let out = b
        .image(&format!(
            "/qiniu/white.png?watermark/1/image/{red}/ws/0.5/gravity/NorthWest/dx/0/dy/0"
        ))
        .await;
    assert_eq!(changed_box(&plain, &out, 0), Some((0, 0, 300, 150)));
    // A mark larger than the image: the image comes back unmarked.
    let small = b.image("/qiniu/marks/red.png").await;
    let out = b
        .image(&format!(
            "/qiniu/marks/red.png?watermark/1/image/{}",
            b64("http://cdn.example.com/white.png")
        ))
        .await;
    assert_eq!(changed_box(&small, &out, 0), None);
}

#[tokio::test]
async fn marks_never_come_from_outside_the_bucket() {
    let b = bucket().await;
    for url in [
        "http://169.254.169.254/../white.png",
        "http://h/marks/../../secret.png",
        "file:///etc/passwd",
        "white.png",
        "http://h/white.png?imageMogr2/thumbnail/!50p",
    ] {
        let (status, body) = b
            .get(&format!("/local/white.png?watermark/1/image/{}", b64(url)))
            .await;
        let body = String::from_utf8_lossy(&body);
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(
            xml_tag(&body, "Code").as_deref(),
            Some("WatermarkError"),
            "{url}: {body}"
        );
    }
    let (status, body) = b
        .get(&format!(
            "/local/white.png?watermark/1/image/{}",
            tencent_url("no-such.png")
        ))
        .await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400);
    assert!(body.contains("no-such.png"), "{body}");
}
