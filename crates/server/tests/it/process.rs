//! `x-oss-process=image/…` over HTTP: the reference's test vectors (§8) on
//! `photos/concert-400x267.jpg` (the service's 400×267 example.jpg), pixels
//! checked, not only sizes.

use image::{DynamicImage, GenericImageView, ImageFormat};
use reqwest::StatusCode;

use crate::support::{Pixgate, client, corpus, xml_tag};

pub const EXAMPLE: &str = "photos/concert-400x267.jpg";

/// The whole corpus as the single bucket `local`, with two styles.
pub async fn corpus_proxy() -> Pixgate {
    Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"local\"\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\nseparators = [\"@!\", \"-\"]\nstyles = {{ thumb = \"image/resize,m_fill,w_100,h_100\", small = \"image/resize,w_50/format,png\" }}\n",
        corpus().canonicalize().unwrap().display()
    ))
    .await
}

pub struct Out {
    pub status: StatusCode,
    pub content_type: String,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

impl Out {
    pub fn image(&self) -> DynamicImage {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        image::load_from_memory(&self.body).expect("a decodable image")
    }

    pub fn format(&self) -> ImageFormat {
        image::guess_format(&self.body).expect("known magic bytes")
    }

    pub fn code(&self) -> String {
        xml_tag(&String::from_utf8_lossy(&self.body), "Code").unwrap_or_default()
    }
}

pub async fn get(px: &Pixgate, key: &str, process: &str) -> Out {
    let url = if process.is_empty() {
        px.url(&format!("/{key}"))
    } else {
        px.url(&format!("/{key}?x-oss-process={process}"))
    };
    let res = client().get(url).send().await.unwrap();
    Out {
        status: res.status(),
        content_type: res.headers()["content-type"].to_str().unwrap().to_owned(),
        etag: res
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: res.bytes().await.unwrap().to_vec(),
    }
}

fn dims(img: &DynamicImage) -> (u32, u32) {
    img.dimensions()
}

#[tokio::test]
async fn documented_vectors_on_the_400x267_example() {
    let px = corpus_proxy().await;
    let cases: &[(&str, (u32, u32), ImageFormat)] = &[
        (
            "image/resize,m_fixed,w_100,h_100",
            (100, 100),
            ImageFormat::Jpeg,
        ),
        (
            "image/crop,w_100,h_100,x_100,y_100,r_1",
            (100, 100),
            ImageFormat::Jpeg,
        ),
        ("image/rotate,90", (267, 400), ImageFormat::Jpeg),
        ("image/sharpen,100", (400, 267), ImageFormat::Jpeg),
        ("image/format,png", (400, 267), ImageFormat::Png),
        ("image/resize,w_500", (400, 267), ImageFormat::Jpeg),
        ("image/resize,w_500,limit_0", (500, 334), ImageFormat::Jpeg),
        ("image/resize,w_100", (100, 67), ImageFormat::Jpeg),
        ("image/resize,w_200", (200, 134), ImageFormat::Jpeg),
        (
            "image/resize,m_mfit,w_100,h_200",
            (300, 200),
            ImageFormat::Jpeg,
        ),
        ("image/resize,l_100", (100, 67), ImageFormat::Jpeg),
        ("image/resize,s_100", (150, 100), ImageFormat::Jpeg),
        ("image/resize,p_50", (200, 134), ImageFormat::Jpeg),
        (
            "image/resize,w_200/rotate,90",
            (134, 200),
            ImageFormat::Jpeg,
        ),
        ("image/circle,r_100", (201, 201), ImageFormat::Jpeg),
        ("image/indexcrop,y_100,i_10", (400, 267), ImageFormat::Jpeg),
        ("image/indexcrop,x_100,i_0", (100, 267), ImageFormat::Jpeg),
        ("image/indexcrop,x_250,i_1", (150, 267), ImageFormat::Jpeg),
        ("image/crop,x_100,y_50", (300, 217), ImageFormat::Jpeg),
        (
            "image/crop,x_100,y_50,w_100,h_100",
            (100, 100),
            ImageFormat::Jpeg,
        ),
        ("image/crop,w_200,h_200,g_se", (200, 200), ImageFormat::Jpeg),
        (
            "image/crop,x_0,y_0,w_10000,h_10000",
            (400, 267),
            ImageFormat::Jpeg,
        ),
        (
            "image/resize,m_fixed,w_800,h_500,limit_1",
            (400, 267),
            ImageFormat::Jpeg,
        ),
        (
            "image/resize,w_50/crop,w_100,h_100/rounded-corners,r_100/format,png",
            (50, 33),
            ImageFormat::Png,
        ),
        ("image/format,gif", (400, 267), ImageFormat::Jpeg),
        ("image/format,webp", (400, 267), ImageFormat::WebP),
        ("image/format,bmp", (400, 267), ImageFormat::Bmp),
        ("image/format,tiff", (400, 267), ImageFormat::Tiff),
        ("image/rotate,45/format,png", (472, 472), ImageFormat::Png),
        (
            "image/resize,w_300,h_300/format,jpg/interlace,1",
            (300, 200),
            ImageFormat::Jpeg,
        ),
    ];
    for (process, size, format) in cases {
        let out = get(&px, EXAMPLE, process).await;
        let img = out.image();
        assert_eq!(dims(&img), *size, "{process}");
        assert_eq!(out.format(), *format, "{process}");
        assert_eq!(out.content_type, format.to_mime_type(), "{process}");
    }
    px.stop().await;
}

#[tokio::test]
async fn documented_error_vectors() {
    let px = corpus_proxy().await;
    let cases: &[(&str, u16, &str)] = &[
        ("image/", 400, "InvalidArgument"),
        ("image/slim,1", 400, "InvalidArgument"),
        ("image/resize", 400, "MissingArgument"),
        ("image/resize,w_0,h_0", 400, "InvalidArgument"),
        ("image/resize,w_100,m_abc", 400, "InvalidArgument"),
        ("image/resize,m_fixed,w_5000,h_5000", 400, "InvalidArgument"),
        ("image/format,dng", 400, "InvalidArgument"),
        ("image/rotate,90,200,300", 400, "InvalidArgument"),
        ("image/rotate,400", 400, "InvalidArgument"),
        ("image/crop,w_500,h_500,g_fac", 400, "InvalidArgument"),
        ("image/crop,x_10000,y_10", 400, "BadRequest"),
        ("image/circle,r_5000", 400, "InvalidArgument"),
        ("image/interlace,2", 400, "InvalidArgument"),
        ("image/quality,Q_200", 400, "InvalidArgument"),
        ("image/resize,s_700,limit_0/info", 400, "InvalidArgument"),
        ("video/snapshot,t_1000", 400, "InvalidArgument"),
        ("style/nope", 404, "NoSuchStyle"),
    ];
    for (process, status, code) in cases {
        let out = get(&px, EXAMPLE, process).await;
        assert_eq!(
            out.status.as_u16(),
            *status,
            "{process}: {}",
            String::from_utf8_lossy(&out.body)
        );
        assert_eq!(out.code(), *code, "{process}");
        assert_eq!(out.content_type, "application/xml");
    }
    let out = get(&px, EXAMPLE, "image/crop,x_10000,y_10").await;
    assert!(
        String::from_utf8_lossy(&out.body).contains("Advance cut&apos;s position is out of image.")
            || String::from_utf8_lossy(&out.body)
                .contains("Advance cut's position is out of image.")
    );
    let out = get(&px, "photos/missing.jpg", "image/resize,w_10").await;
    assert_eq!(
        (out.status.as_u16(), out.code().as_str()),
        (404, "NoSuchKey")
    );
    px.stop().await;
}

#[tokio::test]
async fn styles_by_query_and_by_separator() {
    let px = corpus_proxy().await;
    for path in [
        format!("/{EXAMPLE}?x-oss-process=style/thumb"),
        format!("/{EXAMPLE}@!thumb"),
        format!("/{EXAMPLE}-thumb"),
    ] {
        let res = client().get(px.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let img = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(dims(&img), (100, 100), "{path}");
    }
    let out = get(&px, &format!("{EXAMPLE}@!small"), "").await;
    assert_eq!(out.format(), ImageFormat::Png);
    assert_eq!(dims(&out.image()), (50, 33));
    // An unknown name after the dedicated `@!` separator is NoSuchStyle.
    let out = get(&px, &format!("{EXAMPLE}@!nope"), "").await;
    assert_eq!(
        (out.status.as_u16(), out.code().as_str()),
        (404, "NoSuchStyle")
    );
    // After `-`, an unknown name is just part of a (missing) key.
    let out = get(&px, &format!("{EXAMPLE}-nope"), "").await;
    assert_eq!(
        (out.status.as_u16(), out.code().as_str()),
        (404, "NoSuchKey")
    );
    px.stop().await;
}

#[tokio::test]
async fn etag_follows_the_canonical_plan_and_304s() {
    let px = corpus_proxy().await;
    let a = get(&px, EXAMPLE, "image/resize,w_100").await;
    let b = get(&px, EXAMPLE, "image/resize,m_lfit,limit_1,w_100").await;
    let c = get(&px, EXAMPLE, "image/resize,w_101").await;
    assert!(a.etag.is_some());
    assert_eq!(a.etag, b.etag);
    assert_ne!(a.etag, c.etag);
    let res = client()
        .get(px.url(&format!("/{EXAMPLE}?x-oss-process=image/resize,w_100")))
        .header("if-none-match", a.etag.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(res.headers().contains_key("cache-control"));
    px.stop().await;
}
