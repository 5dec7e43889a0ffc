//! Alibaba OSS `x-oss-process` vectors: the reference dialect's forms the
//! others are compared with (the full OSS suite is in `process.rs`,
//! `pixels.rs`, `info.rs` and `watermark.rs`).

use crate::vectors::{Expect, Vector, run, start};

const D: &str = "Alibaba OSS";

const fn image(form: &'static str, url: &'static str, w: u32, h: u32) -> Vector {
    Vector::image(D, form, url, "jpg", w, h)
}

pub const VECTORS: &[Vector] = &[
    image(
        "resize lfit w",
        "/320x240.jpg?x-oss-process=image/resize,w_100",
        100,
        75,
    ),
    image(
        "resize fill w,h",
        "/320x240.jpg?x-oss-process=image/resize,m_fill,w_200,h_200",
        200,
        200,
    ),
    image(
        "resize limit_0 enlarges",
        "/320x240.jpg?x-oss-process=image/resize,w_640,limit_0",
        640,
        480,
    ),
    image(
        "resize p",
        "/320x240.jpg?x-oss-process=image/resize,p_50",
        160,
        120,
    ),
    image(
        "crop g",
        "/320x240.jpg?x-oss-process=image/crop,w_100,h_50,g_se",
        100,
        50,
    ),
    image(
        "rotate",
        "/320x240.jpg?x-oss-process=image/rotate,90",
        240,
        320,
    ),
    Vector {
        dialect: D,
        form: "format webp",
        url: "/320x240.jpg?x-oss-process=image/resize,w_100/format,webp",
        expect: Expect::Image {
            format: "webp",
            w: 100,
            h: 75,
        },
    },
    Vector {
        dialect: D,
        form: "info",
        url: "/320x240.jpg?x-oss-process=image/info",
        expect: Expect::Json {
            field: "ImageWidth.value",
            value: "320",
        },
    },
    Vector {
        dialect: D,
        form: "error: unknown action",
        url: "/320x240.jpg?x-oss-process=image/slim,1",
        expect: Expect::Error {
            status: 400,
            shape: "xml",
            code: "InvalidArgument",
        },
    },
    Vector {
        dialect: D,
        form: "error: saveas in a GET (a save is a signed POST)",
        url: "/320x240.jpg?x-oss-process=image/resize,w_100%7Csys/saveas,o_b3V0LmpwZw",
        expect: Expect::Error {
            status: 400,
            shape: "xml",
            code: "InvalidArgument",
        },
    },
    Vector {
        dialect: D,
        form: "error: missing object",
        url: "/missing.jpg?x-oss-process=image/resize,w_100",
        expect: Expect::Error {
            status: 404,
            shape: "xml",
            code: "NoSuchKey",
        },
    },
];

#[tokio::test]
async fn oss_vectors() {
    let px = start("").await;
    run(&px, VECTORS).await;
    px.stop().await;
}
