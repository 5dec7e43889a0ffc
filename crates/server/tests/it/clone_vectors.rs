//! Vectors for the clouds that copied Alibaba's grammar: Huawei OBS
//! (`x-image-process`), Volcengine TOS (`x-tos-process`) and Baidu BOS
//! (`x-bce-process`), with the vendors' own examples among them; and what
//! the table cannot say (request-id headers, animation frame counts).

use crate::support::{client, corpus};
use crate::vectors::{Vector, run, start};

const HW: &str = "Huawei OBS";
const VE: &str = "Volcengine TOS";
const BD: &str = "Baidu BOS";

const fn image(
    dialect: &'static str,
    form: &'static str,
    url: &'static str,
    format: &'static str,
    w: u32,
    h: u32,
) -> Vector {
    Vector::image(dialect, form, url, format, w, h)
}

const fn json(
    dialect: &'static str,
    form: &'static str,
    url: &'static str,
    field: &'static str,
    value: &'static str,
) -> Vector {
    Vector::json(dialect, form, url, field, value)
}

const fn error(
    dialect: &'static str,
    form: &'static str,
    url: &'static str,
    status: u16,
    shape: &'static str,
    code: &'static str,
) -> Vector {
    Vector::error(dialect, form, url, status, shape, code)
}

pub const VECTORS: &[Vector] = &[
    // Huawei OBS.
    image(
        HW,
        "resize fixed, then rotate (the SDK guides' example)",
        "/320x240.jpg?x-image-process=image/resize,m_fixed,w_100,h_100/rotate,90",
        "jpg",
        100,
        100,
    ),
    image(
        HW,
        "resize limit_0 enlarges (the resize guide's example)",
        "/320x240.jpg?x-image-process=image/resize,w_500,limit_0",
        "jpg",
        500,
        375,
    ),
    image(
        HW,
        "resize lfit w,h",
        "/320x240.jpg?x-image-process=image/resize,w_200,h_200",
        "jpg",
        200,
        150,
    ),
    image(
        HW,
        "crop g_br (Huawei gravity name)",
        "/320x240.jpg?x-image-process=image/crop,w_100,h_50,g_br",
        "jpg",
        100,
        50,
    ),
    image(
        HW,
        "crop x,y from g_tl",
        "/320x240.jpg?x-image-process=image/crop,x_300,y_10,w_100,h_100,g_tl",
        "jpg",
        20,
        100,
    ),
    image(
        HW,
        "format webp",
        "/320x240.jpg?x-image-process=image/resize,w_100/format,webp",
        "webp",
        100,
        75,
    ),
    image(
        HW,
        "format png from bmp",
        "/formats/hopper.bmp?x-image-process=image/format,png",
        "png",
        128,
        128,
    ),
    json(
        HW,
        "info format",
        "/320x240.jpg?x-image-process=image/info",
        "format",
        "JPEG",
    ),
    json(
        HW,
        "info width (a number)",
        "/concert-400x267.jpg?x-image-process=image/info",
        "width",
        "400",
    ),
    json(
        HW,
        "info height (a number)",
        "/concert-400x267.jpg?x-image-process=image/info",
        "height",
        "267",
    ),
    json(
        HW,
        "info with EXIF: its fields beside the four",
        "/jolla-3264x2448.jpg?x-image-process=image/info",
        "Make",
        "Jolla",
    ),
    json(
        HW,
        "average-hue #RRGGBB",
        "/formats/hopper.png?x-image-process=image/average-hue",
        "RGB",
        "#6A5D6D",
    ),
    error(
        HW,
        "error: OSS-only gravity value",
        "/320x240.jpg?x-image-process=image/crop,w_10,h_10,g_middle",
        400,
        "xml",
        "InvalidArgument",
    ),
    error(
        HW,
        "error: gif output (OBS writes jpg, png, bmp, webp)",
        "/320x240.jpg?x-image-process=image/format,gif",
        400,
        "xml",
        "InvalidArgument",
    ),
    error(
        HW,
        "error: w over 9999",
        "/320x240.jpg?x-image-process=image/resize,w_10000",
        400,
        "xml",
        "InvalidArgument",
    ),
    error(
        HW,
        "m_ratio: not served",
        "/320x240.jpg?x-image-process=image/resize,m_ratio,w_10",
        501,
        "xml",
        "NotImplemented",
    ),
    error(
        HW,
        "error: missing object",
        "/missing.jpg?x-image-process=image/resize,w_100",
        404,
        "xml",
        "NoSuchKey",
    ),
    // Volcengine TOS.
    image(
        VE,
        "resize w",
        "/320x240.jpg?x-tos-process=image/resize,w_100",
        "jpg",
        100,
        75,
    ),
    image(
        VE,
        "resize fill w,h",
        "/320x240.jpg?x-tos-process=image/resize,m_fill,w_200,h_200",
        "jpg",
        200,
        200,
    ),
    image(
        VE,
        "resize p",
        "/320x240.jpg?x-tos-process=image/resize,p_50",
        "jpg",
        160,
        120,
    ),
    image(
        VE,
        "crop g_se",
        "/320x240.jpg?x-tos-process=image/crop,w_100,h_50,g_se",
        "jpg",
        100,
        50,
    ),
    image(
        VE,
        "rotate",
        "/320x240.jpg?x-tos-process=image/rotate,90",
        "jpg",
        240,
        320,
    ),
    image(
        VE,
        "format png",
        "/320x240.jpg?x-tos-process=image/resize,w_64/format,png",
        "png",
        64,
        48,
    ),
    image(
        VE,
        "format webp, quality Q",
        "/320x240.jpg?x-tos-process=image/format,webp/quality,Q_80",
        "webp",
        320,
        240,
    ),
    json(
        VE,
        "info (OSS's shape)",
        "/320x240.jpg?x-tos-process=image/info",
        "ImageWidth.value",
        "320",
    ),
    error(
        VE,
        "error: unknown action",
        "/320x240.jpg?x-tos-process=image/slim,1",
        400,
        "json",
        "InvalidArgument",
    ),
    error(
        VE,
        "error: empty value",
        "/320x240.jpg?x-tos-process=",
        400,
        "json",
        "InvalidArgument",
    ),
    error(
        VE,
        "video namespace: not served",
        "/320x240.jpg?x-tos-process=video/snapshot,t_1000",
        501,
        "json",
        "NotImplemented",
    ),
    error(
        VE,
        "error: missing object",
        "/missing.jpg?x-tos-process=image/resize,w_100",
        404,
        "json",
        "NoSuchKey",
    ),
    // Baidu BOS.
    image(
        BD,
        "resize lfit w",
        "/320x240.jpg?x-bce-process=image/resize,m_lfit,w_100",
        "jpg",
        100,
        75,
    ),
    image(
        BD,
        "resize wp,hp (per-axis percent)",
        "/320x240.jpg?x-bce-process=image/resize,wp_50,hp_25",
        "jpg",
        160,
        60,
    ),
    image(
        BD,
        "resize p",
        "/320x240.jpg?x-bce-process=image/resize,p_50",
        "jpg",
        160,
        120,
    ),
    image(
        BD,
        "rotate a_ (clockwise)",
        "/320x240.jpg?x-bce-process=image/rotate,a_90",
        "jpg",
        240,
        320,
    ),
    image(
        BD,
        "rotate negative a_ (counter-clockwise)",
        "/320x240.jpg?x-bce-process=image/rotate,a_-90",
        "jpg",
        240,
        320,
    ),
    image(
        BD,
        "bright b_",
        "/320x240.jpg?x-bce-process=image/bright,b_50",
        "jpg",
        320,
        240,
    ),
    image(
        BD,
        "sharpen r,s",
        "/320x240.jpg?x-bce-process=image/sharpen,r_5,s_20",
        "jpg",
        320,
        240,
    ),
    image(
        BD,
        "quality q, format png",
        "/320x240.jpg?x-bce-process=image/resize,w_50/format,png",
        "png",
        50,
        38,
    ),
    json(
        BD,
        "info (OSS's shape)",
        "/concert-400x267.jpg?x-bce-process=image/info",
        "ImageHeight.value",
        "267",
    ),
    error(
        BD,
        "error: rotate outside -360..360",
        "/320x240.jpg?x-bce-process=image/rotate,a_400",
        400,
        "json",
        "InvalidArgument",
    ),
    error(
        BD,
        "error: w over 4096",
        "/320x240.jpg?x-bce-process=image/resize,w_5000",
        400,
        "json",
        "InvalidArgument",
    ),
    error(
        BD,
        "error: output over 9999 px",
        "/phone-4032x3024.jpg?x-bce-process=image/resize,wp_300,hp_10,limit_0",
        400,
        "json",
        "InvalidArgument",
    ),
    error(
        BD,
        "error: more than 16 actions",
        "/320x240.jpg?x-bce-process=image/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90/rotate,a_90",
        400,
        "json",
        "InvalidArgument",
    ),
    error(
        BD,
        "error: missing object",
        "/missing.jpg?x-bce-process=image/resize,w_100",
        404,
        "json",
        "NoSuchKey",
    ),
];

#[tokio::test]
async fn clone_vectors() {
    let px = start("").await;
    run(&px, VECTORS).await;
    px.stop().await;
}

/// Each cloud's request-id header, on answers and on errors.
#[tokio::test]
async fn clone_request_id_headers() {
    let px = start("").await;
    for (param, header) in [
        ("x-image-process", "x-obs-request-id"),
        ("x-tos-process", "x-tos-request-id"),
        ("x-bce-process", "x-bce-request-id"),
    ] {
        for step in ["resize,w_10", "slim,1"] {
            let url = px.url(&format!("/320x240.jpg?{param}=image/{step}"));
            let res = client().get(url).send().await.unwrap();
            let id = res
                .headers()
                .get(header)
                .map(|v| v.to_str().unwrap().to_owned());
            assert!(
                id.is_some_and(|v| !v.is_empty()),
                "{param} {step}: no {header}"
            );
        }
    }
    px.stop().await;
}

/// Huawei's average-hue is OSS's colour, written `#RRGGBB`.
#[tokio::test]
async fn huawei_average_hue_is_oss_colour_with_a_hash() {
    let px = start("").await;
    let get = |param: &str| {
        let url = px.url(&format!("/formats/hopper.png?{param}=image/average-hue"));
        async move {
            let res = client().get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let v: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
            v["RGB"].as_str().unwrap().to_owned()
        }
    };
    let oss = get("x-oss-process").await;
    let obs = get("x-image-process").await;
    assert_eq!(
        obs,
        format!("#{}", oss.trim_start_matches("0x").to_ascii_uppercase())
    );
    px.stop().await;
}

/// Frames of a GIF body.
fn gif_frames(body: &[u8]) -> usize {
    use image::AnimationDecoder;
    image::codecs::gif::GifDecoder::new(std::io::Cursor::new(body))
        .unwrap()
        .into_frames()
        .count()
}

/// Baidu keeps at most 20 frames of an animation; the other clones, as
/// OSS, keep them all.
#[tokio::test]
async fn baidu_animations_keep_at_most_20_frames() {
    let source = std::fs::read(corpus().join("formats/rotating-squares.gif")).unwrap();
    let frames = gif_frames(&source);
    assert!(frames > 20, "the corpus GIF has {frames} frames");
    let px = start("").await;
    for (param, want) in [
        ("x-bce-process", 20),
        ("x-tos-process", frames),
        ("x-image-process", frames),
    ] {
        let url = px.url(&format!(
            "/formats/rotating-squares.gif?{param}=image/resize,w_50"
        ));
        let res = client().get(url).send().await.unwrap();
        assert_eq!(res.status(), 200, "{param}");
        let body = res.bytes().await.unwrap();
        assert_eq!(gif_frames(&body), want, "{param}");
    }
    px.stop().await;
}
