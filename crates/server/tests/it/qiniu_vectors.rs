//! Qiniu vectors: where Qiniu reads the shared grammar differently from
//! Tencent (imageView2 mode 0, never enlarging, the crop offsets' worked
//! examples, the rotate range, Tencent-only parameters, JSON errors,
//! imageInfo numbers). The photos bucket answers the `qiniu` dialect only.

use crate::support::client;
use crate::vectors::{Expect, Vector, run, start};

const D: &str = "Qiniu";

const fn jpg(form: &'static str, url: &'static str, w: u32, h: u32) -> Vector {
    Vector::image(D, form, url, "jpg", w, h)
}

const fn json(
    form: &'static str,
    url: &'static str,
    field: &'static str,
    value: &'static str,
) -> Vector {
    Vector::json(D, form, url, field, value)
}

/// A Qiniu error: JSON whose `code` is the HTTP status.
const fn error(form: &'static str, url: &'static str, status: u16, code: &'static str) -> Vector {
    Vector::error(D, form, url, status, "json", code)
}

pub const VECTORS: &[Vector] = &[
    jpg(
        "imageView2/0: long edge ≤ w, short ≤ h",
        "/flowers-1920x1080.jpg?imageView2/0/w/400/h/300",
        400,
        225,
    ),
    jpg(
        "imageView2/0/w only",
        "/flowers-1920x1080.jpg?imageView2/0/w/400",
        400,
        225,
    ),
    jpg(
        "imageView2/1 (doc's example)",
        "/flowers-1920x1080.jpg?imageView2/1/w/500/h/400",
        500,
        400,
    ),
    jpg(
        "imageView2/3",
        "/flowers-1920x1080.jpg?imageView2/3/w/500/h/400",
        711,
        400,
    ),
    jpg(
        "imageView2/5",
        "/flowers-1920x1080.jpg?imageView2/5/w/400/h/300",
        400,
        300,
    ),
    jpg(
        "imageView2 never enlarges",
        "/320x240.jpg?imageView2/2/w/640",
        320,
        240,
    ),
    jpg(
        "crop/!300x400-10a10 = 290×400 at (0,10)",
        "/flowers-1920x1080.jpg?imageMogr2/crop/!300x400-10a10",
        290,
        400,
    ),
    jpg(
        "crop/!300x400a10a10 = 300×400 at (10,10)",
        "/flowers-1920x1080.jpg?imageMogr2/crop/!300x400a10a10",
        300,
        400,
    ),
    jpg(
        "thumbnail/!50p",
        "/320x240.jpg?imageMogr2/thumbnail/!50p",
        160,
        120,
    ),
    jpg(
        "thumbnail/Wx enlarges (640 → 700 example)",
        "/320x240.jpg?imageMogr2/thumbnail/700x",
        700,
        525,
    ),
    jpg(
        "thumbnail side above 10000 only shrinks",
        "/320x240.jpg?imageMogr2/thumbnail/20000x",
        320,
        240,
    ),
    jpg("rotate/360", "/320x240.jpg?imageMogr2/rotate/360", 320, 240),
    jpg(
        "quality (default 75 otherwise)",
        "/320x240.jpg?imageMogr2/quality/80",
        320,
        240,
    ),
    jpg(
        "pipeline imageView2|imageMogr2",
        "/flowers-1920x1080.jpg?imageView2/2/w/200|imageMogr2/rotate/90",
        113,
        200,
    ),
    error(
        "private URL with a key the proxy does not hold",
        "/320x240.jpg?imageView2/2/w/100&e=1796228177&token=ak:sig",
        401,
        "401",
    ),
    Vector {
        dialect: D,
        form: "ignore-error/1",
        url: "/320x240.jpg?imageMogr2/thumbnail/abc/ignore-error/1",
        expect: Expect::Original {
            file: "photos/320x240.jpg",
        },
    },
    json(
        "imageInfo width is a number",
        "/320x240.jpg?imageInfo",
        "width",
        "320",
    ),
    json(
        "imageInfo colorModel",
        "/320x240.jpg?imageInfo",
        "colorModel",
        "ycbcr",
    ),
    json(
        "imageinfo (old spelling)",
        "/320x240.jpg?imageinfo",
        "format",
        "jpeg",
    ),
    error(
        "error: rotate/0 (range 1–360)",
        "/320x240.jpg?imageMogr2/rotate/0",
        400,
        "400",
    ),
    error(
        "error: iradius is Tencent's",
        "/320x240.jpg?imageMogr2/iradius/50",
        400,
        "400",
    ),
    error(
        "error: rquality is Tencent's",
        "/320x240.jpg?imageMogr2/rquality/50",
        400,
        "400",
    ),
    error(
        "error: imageView2 rq is Tencent's",
        "/320x240.jpg?imageView2/2/w/100/rq/50",
        400,
        "400",
    ),
    error(
        "error: imageView2 mode 6",
        "/320x240.jpg?imageView2/6/w/100",
        400,
        "400",
    ),
    error(
        "error: unknown parameter",
        "/320x240.jpg?imageMogr2/slim/1",
        400,
        "400",
    ),
    error(
        "error: missing object",
        "/missing.jpg?imageView2/2/w/100",
        404,
        "404",
    ),
];

#[tokio::test]
async fn qiniu_vectors() {
    let px = start("dialects = [\"qiniu\"]").await;
    run(&px, VECTORS).await;
    px.stop().await;
}

/// Errors are exactly `{"code","error"}`
/// JSON and every answer names its request in `X-Reqid`.
#[tokio::test]
async fn qiniu_wire() {
    let px = start("dialects = [\"qiniu\"]").await;
    let res = client()
        .get(px.url("/320x240.jpg?imageMogr2/rotate/0"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().contains_key("x-reqid"));
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(body["code"], 400);
    assert!(body["error"].as_str().unwrap().contains("rotate"), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    px.stop().await;
}

/// A Qiniu bucket's style (`<key>-<style>`), read in Qiniu's grammar: mode
/// 0 exists only there.
#[tokio::test]
async fn styles_in_the_qiniu_grammar() {
    let px = start(
        "dialects = [\"qiniu\"]\nseparators = [\"-\"]\nstyles = { small = \"imageView2/0/w/100\" }",
    )
    .await;
    let res = client()
        .get(px.url("/320x240.jpg-small"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.unwrap();
    assert_eq!(crate::vectors::magic(&body), "jpg");
    assert_eq!(crate::vectors::dimensions(&body).unwrap(), (100, 75));
    px.stop().await;
}
