//! Tencent Cloud Infinite vectors: `imageMogr2` (every thumbnail form and
//! parameter), `imageView2` (every mode), pipelines, `ignore-error`, XML
//! errors; and one intent written three ways (OSS, imageMogr2, imageView2)
//! giving the same pixels.
//!
//! Sources: `320x240.jpg` (small, enlarging forms), `flowers-1920x1080.jpg`
//! (the crop and imageView2 examples), `formats/animated-loop-3.gif`
//! (370×285, 10 frames).

use image::GenericImageView;

use crate::support::{client, corpus_file};
use crate::vectors::{Vector, magic, run, start};

const MOGR: &str = "Tencent imageMogr2";
const VIEW: &str = "Tencent imageView2";

const fn img(
    dialect: &'static str,
    form: &'static str,
    url: &'static str,
    format: &'static str,
    w: u32,
    h: u32,
) -> Vector {
    Vector::image(dialect, form, url, format, w, h)
}

const fn jpg(form: &'static str, url: &'static str, w: u32, h: u32) -> Vector {
    img(MOGR, form, url, "jpg", w, h)
}

const fn view(
    form: &'static str,
    url: &'static str,
    format: &'static str,
    w: u32,
    h: u32,
) -> Vector {
    img(VIEW, form, url, format, w, h)
}

const fn error(
    dialect: &'static str,
    form: &'static str,
    url: &'static str,
    status: u16,
    code: &'static str,
) -> Vector {
    Vector::error(dialect, form, url, status, "xml", code)
}

const fn original(
    dialect: &'static str,
    form: &'static str,
    url: &'static str,
    file: &'static str,
) -> Vector {
    Vector::original(dialect, form, url, file)
}

pub const VECTORS: &[Vector] = &[
    // thumbnail: every form (reference §1.2), on 320×240.
    jpg(
        "thumbnail/!50p",
        "/320x240.jpg?imageMogr2/thumbnail/!50p",
        160,
        120,
    ),
    jpg(
        "thumbnail/!50px (height kept)",
        "/320x240.jpg?imageMogr2/thumbnail/!50px",
        160,
        240,
    ),
    jpg(
        "thumbnail/!x50p (width kept)",
        "/320x240.jpg?imageMogr2/thumbnail/!x50p",
        320,
        120,
    ),
    jpg(
        "thumbnail/!200p enlarges",
        "/320x240.jpg?imageMogr2/thumbnail/!200p",
        640,
        480,
    ),
    jpg(
        "thumbnail/Wx",
        "/320x240.jpg?imageMogr2/thumbnail/100x",
        100,
        75,
    ),
    jpg(
        "thumbnail/xH",
        "/320x240.jpg?imageMogr2/thumbnail/x60",
        80,
        60,
    ),
    jpg(
        "thumbnail/Wx enlarges",
        "/320x240.jpg?imageMogr2/thumbnail/640x",
        640,
        480,
    ),
    jpg(
        "thumbnail/WxH (inside)",
        "/320x240.jpg?imageMogr2/thumbnail/160x160",
        160,
        120,
    ),
    jpg(
        "thumbnail/WxH> shrinks",
        "/320x240.jpg?imageMogr2/thumbnail/160x160>",
        160,
        120,
    ),
    jpg(
        "thumbnail/WxH> never enlarges",
        "/320x240.jpg?imageMogr2/thumbnail/640x640>",
        320,
        240,
    ),
    jpg(
        "thumbnail/WxH< enlarges",
        "/320x240.jpg?imageMogr2/thumbnail/640x640<",
        640,
        480,
    ),
    jpg(
        "thumbnail/WxH< never shrinks",
        "/320x240.jpg?imageMogr2/thumbnail/160x160<",
        320,
        240,
    ),
    jpg(
        "thumbnail/!WxHr (cover)",
        "/320x240.jpg?imageMogr2/thumbnail/!160x160r",
        213,
        160,
    ),
    jpg(
        "thumbnail/WxH! (exact)",
        "/320x240.jpg?imageMogr2/thumbnail/100x100!",
        100,
        100,
    ),
    jpg(
        "thumbnail/Area@",
        "/320x240.jpg?imageMogr2/thumbnail/10000@",
        115,
        86,
    ),
    jpg(
        "thumbnail + pad/1 + color (doc's #3D3D3D)",
        "/320x240.jpg?imageMogr2/thumbnail/200x200/pad/1/color/IzNEM0QzRA",
        200,
        200,
    ),
    // crop, cut and shapes.
    jpg(
        "crop/WxH (NorthWest)",
        "/320x240.jpg?imageMogr2/crop/100x50",
        100,
        50,
    ),
    jpg("crop/Wx", "/320x240.jpg?imageMogr2/crop/100x", 100, 240),
    jpg("crop/xH", "/320x240.jpg?imageMogr2/crop/x50", 320, 50),
    jpg(
        "gravity/southeast + crop",
        "/320x240.jpg?imageMogr2/gravity/southeast/crop/100x100",
        100,
        100,
    ),
    jpg(
        "crop/!WxH-dxady (290×400)",
        "/flowers-1920x1080.jpg?imageMogr2/crop/!300x400-10a10",
        290,
        400,
    ),
    jpg(
        "crop/!WxHadxady",
        "/flowers-1920x1080.jpg?imageMogr2/crop/!300x400a10a10",
        300,
        400,
    ),
    jpg(
        "cut/WxHxDXxDY",
        "/320x240.jpg?imageMogr2/cut/100x80x10x10",
        100,
        80,
    ),
    jpg(
        "iradius (the circle's square, 2r+1)",
        "/320x240.jpg?imageMogr2/iradius/50",
        101,
        101,
    ),
    jpg("rradius", "/320x240.jpg?imageMogr2/rradius/20", 320, 240),
    jpg(
        "scrop (attention crop)",
        "/320x240.jpg?imageMogr2/scrop/100x100",
        100,
        100,
    ),
    // orientation.
    jpg("rotate/90", "/320x240.jpg?imageMogr2/rotate/90", 240, 320),
    jpg(
        "rotate/0 (Tencent's range starts at 0)",
        "/320x240.jpg?imageMogr2/rotate/0",
        320,
        240,
    ),
    jpg(
        "auto-orient",
        "/320x240.jpg?imageMogr2/auto-orient/thumbnail/100x",
        100,
        75,
    ),
    jpg(
        "flip/vertical",
        "/320x240.jpg?imageMogr2/flip/vertical",
        320,
        240,
    ),
    jpg(
        "flip/horizontal",
        "/320x240.jpg?imageMogr2/flip/horizontal",
        320,
        240,
    ),
    // format and encoding.
    img(
        MOGR,
        "format/png",
        "/320x240.jpg?imageMogr2/format/png",
        "png",
        320,
        240,
    ),
    img(
        MOGR,
        "format/webp",
        "/320x240.jpg?imageMogr2/thumbnail/100x/format/webp",
        "webp",
        100,
        75,
    ),
    img(
        MOGR,
        "format/gif from a JPEG",
        "/320x240.jpg?imageMogr2/thumbnail/100x/format/gif",
        "gif",
        100,
        75,
    ),
    img(
        MOGR,
        "format/bmp",
        "/320x240.jpg?imageMogr2/thumbnail/100x/format/bmp",
        "bmp",
        100,
        75,
    ),
    img(
        MOGR,
        "format/yjpeg is JPEG",
        "/formats/hopper.png?imageMogr2/format/yjpeg",
        "jpg",
        128,
        128,
    ),
    img(
        MOGR,
        "cgif/2 on an animation",
        "/formats/animated-loop-3.gif?imageMogr2/cgif/2",
        "gif",
        370,
        285,
    ),
    jpg(
        "interlace/1",
        "/320x240.jpg?imageMogr2/interlace/1",
        320,
        240,
    ),
    jpg("quality/N", "/320x240.jpg?imageMogr2/quality/60", 320, 240),
    jpg(
        "quality/N!",
        "/320x240.jpg?imageMogr2/quality/60!",
        320,
        240,
    ),
    jpg("rquality", "/320x240.jpg?imageMogr2/rquality/50", 320, 240),
    jpg("lquality", "/320x240.jpg?imageMogr2/lquality/90", 320, 240),
    jpg(
        "size-limit",
        "/320x240.jpg?imageMogr2/thumbnail/200x/size-limit/8k",
        200,
        150,
    ),
    jpg(
        "strip",
        "/320x240.jpg?imageMogr2/strip/thumbnail/100x",
        100,
        75,
    ),
    // effects.
    jpg("blur/rxsigma", "/320x240.jpg?imageMogr2/blur/5x3", 320, 240),
    jpg("sharpen", "/320x240.jpg?imageMogr2/sharpen/70", 320, 240),
    jpg("bright", "/320x240.jpg?imageMogr2/bright/30", 320, 240),
    jpg("contrast", "/320x240.jpg?imageMogr2/contrast/-30", 320, 240),
    jpg(
        "grayscale/1",
        "/320x240.jpg?imageMogr2/grayscale/1",
        320,
        240,
    ),
    // pipelines.
    jpg(
        "pipeline thumbnail|rotate",
        "/320x240.jpg?imageMogr2/thumbnail/!50p|imageMogr2/rotate/90",
        120,
        160,
    ),
    jpg(
        "pipeline imageMogr2|imageView2",
        "/flowers-1920x1080.jpg?imageMogr2/crop/1000x500|imageView2/1/w/500/h/400",
        500,
        400,
    ),
    error(
        MOGR,
        "spec after an incomplete COS signature: refused",
        "/320x240.jpg?q-sign-algorithm=sha1&imageMogr2/thumbnail/100x",
        403,
        "AccessDenied",
    ),
    // ignore-error: the original bytes instead of an error.
    original(
        MOGR,
        "ignore-error/1 with a bad parameter",
        "/320x240.jpg?imageMogr2/thumbnail/abc/ignore-error/1",
        "photos/320x240.jpg",
    ),
    original(
        MOGR,
        "ignore-error/1 past the output limit",
        "/320x240.jpg?imageMogr2/thumbnail/20000x/ignore-error/1",
        "photos/320x240.jpg",
    ),
    // errors, in COS's XML.
    error(
        MOGR,
        "error: unknown parameter",
        "/320x240.jpg?imageMogr2/slim/1",
        400,
        "InvalidArgument",
    ),
    error(
        MOGR,
        "error: bad thumbnail",
        "/320x240.jpg?imageMogr2/thumbnail/abc",
        400,
        "InvalidArgument",
    ),
    error(
        MOGR,
        "error: rotate out of range",
        "/320x240.jpg?imageMogr2/rotate/361",
        400,
        "InvalidArgument",
    ),
    error(
        MOGR,
        "error: past the output limit",
        "/320x240.jpg?imageMogr2/thumbnail/20000x",
        400,
        "",
    ),
    error(
        MOGR,
        "error: pipeline step without its module",
        "/320x240.jpg?imageMogr2/thumbnail/300x|crop/100x100",
        400,
        "InvalidArgument",
    ),
    error(
        MOGR,
        "error: 11 pipeline steps",
        "/320x240.jpg?imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90|imageMogr2/rotate/90",
        400,
        "InvalidArgument",
    ),
    error(
        MOGR,
        "error: format/tpg",
        "/320x240.jpg?imageMogr2/format/tpg",
        501,
        "NotImplemented",
    ),
    error(
        MOGR,
        "error: missing object",
        "/missing.jpg?imageMogr2/thumbnail/100x",
        404,
        "NoSuchKey",
    ),
    // imageView2: the document's worked example (its 1000×500 is 1920×1080
    // here) and every mode, both sides and one.
    view(
        "/1/w/h: cover, centre crop",
        "/flowers-1920x1080.jpg?imageView2/1/w/500/h/400",
        "jpg",
        500,
        400,
    ),
    view(
        "/2/w/h: inside",
        "/flowers-1920x1080.jpg?imageView2/2/w/500/h/400",
        "jpg",
        500,
        281,
    ),
    view(
        "/3/w/h: cover, no crop",
        "/flowers-1920x1080.jpg?imageView2/3/w/500/h/400",
        "jpg",
        711,
        400,
    ),
    view(
        "/4/w/h: long and short edges, cover",
        "/flowers-1920x1080.jpg?imageView2/4/w/400/h/300",
        "jpg",
        533,
        300,
    ),
    view(
        "/5/w/h: mode 4 + centre crop",
        "/flowers-1920x1080.jpg?imageView2/5/w/400/h/300",
        "jpg",
        400,
        300,
    ),
    view(
        "/1/w: a square",
        "/flowers-1920x1080.jpg?imageView2/1/w/200",
        "jpg",
        200,
        200,
    ),
    view(
        "/2/w: the other side follows",
        "/flowers-1920x1080.jpg?imageView2/2/w/200",
        "jpg",
        200,
        113,
    ),
    view(
        "/2/h",
        "/flowers-1920x1080.jpg?imageView2/2/h/100",
        "jpg",
        178,
        100,
    ),
    view(
        "/3/w: both sides at least w",
        "/flowers-1920x1080.jpg?imageView2/3/w/200",
        "jpg",
        356,
        200,
    ),
    view(
        "/4/w",
        "/flowers-1920x1080.jpg?imageView2/4/w/300",
        "jpg",
        533,
        300,
    ),
    view(
        "/5/w",
        "/flowers-1920x1080.jpg?imageView2/5/w/300",
        "jpg",
        300,
        300,
    ),
    view(
        "/2 enlarges (Tencent)",
        "/320x240.jpg?imageView2/2/w/640",
        "jpg",
        640,
        480,
    ),
    view(
        "/format/png",
        "/flowers-1920x1080.jpg?imageView2/2/w/100/format/png",
        "png",
        100,
        56,
    ),
    view(
        "/q/Q!",
        "/flowers-1920x1080.jpg?imageView2/2/w/100/q/50!",
        "jpg",
        100,
        56,
    ),
    view(
        "/rq and /lq",
        "/flowers-1920x1080.jpg?imageView2/2/w/100/rq/50/lq/40",
        "jpg",
        100,
        56,
    ),
    original(
        VIEW,
        "/ignore-error/1 with a bad parameter",
        "/320x240.jpg?imageView2/2/w/abc/ignore-error/1",
        "photos/320x240.jpg",
    ),
    error(
        VIEW,
        "error: mode 0 (Qiniu's only)",
        "/320x240.jpg?imageView2/0/w/100",
        400,
        "InvalidArgument",
    ),
    error(
        VIEW,
        "error: no w or h",
        "/320x240.jpg?imageView2/2",
        400,
        "MissingArgument",
    ),
    error(
        VIEW,
        "error: unknown parameter",
        "/320x240.jpg?imageView2/2/w/100/x/1",
        400,
        "InvalidArgument",
    ),
];

#[tokio::test]
async fn tencent_vectors() {
    let px = start("").await;
    run(&px, VECTORS).await;
    px.stop().await;
}

async fn get_image(px: &crate::support::Pixgate, url: &str) -> (Vec<u8>, image::DynamicImage) {
    let res = client().get(px.url(url)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    let body = res.bytes().await.unwrap().to_vec();
    let img = image::load_from_memory(&body).unwrap();
    (body, img)
}

/// Mean absolute difference per channel, 0–255.
fn mean_diff(a: &image::DynamicImage, b: &image::DynamicImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let (a, b) = (a.to_rgb8(), b.to_rgb8());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

/// One intent — a 200×200 centre crop of the covering scale — spelled by
/// OSS, by imageMogr2 and by imageView2 gives the same pixels: a mean
/// absolute difference of at most 0.5 of 255 per channel. PNG outputs, so
/// that the dialects' different default JPEG qualities do not count.
#[tokio::test]
async fn one_intent_three_spellings_same_pixels() {
    let px = start("").await;
    let src = "/concert-400x267.jpg";
    let (_, oss) = get_image(
        &px,
        &format!("{src}?x-oss-process=image/resize,m_fill,w_200,h_200/format,png"),
    )
    .await;
    let (_, mogr) = get_image(
        &px,
        &format!("{src}?imageMogr2/thumbnail/!200x200r/gravity/center/crop/200x200/format/png"),
    )
    .await;
    let (_, view) = get_image(&px, &format!("{src}?imageView2/1/w/200/h/200/format/png")).await;
    assert_eq!(oss.dimensions(), (200, 200));
    let (d1, d2) = (mean_diff(&oss, &mogr), mean_diff(&oss, &view));
    assert!(
        d1 <= 0.5 && d2 <= 0.5,
        "OSS vs imageMogr2 {d1}, OSS vs imageView2 {d2}"
    );
    // And a different intent is told apart by the same measure.
    let (_, nw) = get_image(
        &px,
        &format!("{src}?imageMogr2/thumbnail/!200x200r/gravity/northwest/crop/200x200/format/png"),
    )
    .await;
    assert!(
        mean_diff(&oss, &nw) > 3.0,
        "the measure sees a shifted crop"
    );
    px.stop().await;
}

/// `pad/1/color/IzNEM0QzRA` pads with #3D3D3D around the centred image;
/// `strip` (and every output) carries no EXIF; `flip/horizontal` mirrors.
#[tokio::test]
async fn pad_colour_strip_and_flip_pixels() {
    let px = start("").await;
    let (_, padded) = get_image(
        &px,
        "/320x240.jpg?imageMogr2/thumbnail/200x200/pad/1/color/IzNEM0QzRA/format/png",
    )
    .await;
    // 320×240 inside 200×200 is 200×150, 25 px of padding above and below.
    assert_eq!(padded.get_pixel(100, 5).0[..3], [0x3D, 0x3D, 0x3D]);
    assert_eq!(padded.get_pixel(100, 195).0[..3], [0x3D, 0x3D, 0x3D]);
    assert_ne!(padded.get_pixel(100, 100).0[..3], [0x3D, 0x3D, 0x3D]);

    // The source has EXIF (its APP1 segment); the stripped output has none.
    let source = corpus_file("photos/concert-400x267.jpg");
    let has_exif = |b: &[u8]| b.windows(6).any(|w| w == b"Exif\0\0");
    assert!(has_exif(&source));
    let (body, _) = get_image(&px, "/concert-400x267.jpg?imageMogr2/strip").await;
    assert_eq!(magic(&body), "jpg");
    assert!(!has_exif(&body));

    let (_, plain) = get_image(&px, "/320x240.jpg?imageMogr2/format/png").await;
    let (_, flipped) = get_image(&px, "/320x240.jpg?imageMogr2/flip/horizontal/format/png").await;
    let (_, back) = get_image(
        &px,
        "/320x240.jpg?imageMogr2/flip/horizontal|imageMogr2/flip/horizontal/format/png",
    )
    .await;
    assert!(mean_diff(&plain, &flipped) > 3.0);
    assert!(mean_diff(&plain, &back) < 0.5);
    px.stop().await;
}

/// `cgif/N` keeps N frames of an animation (10 in the source).
#[tokio::test]
async fn cgif_keeps_that_many_frames() {
    use image::AnimationDecoder;
    let px = start("").await;
    let frames = |body: Vec<u8>| {
        image::codecs::gif::GifDecoder::new(std::io::Cursor::new(body))
            .unwrap()
            .into_frames()
            .count()
    };
    assert_eq!(frames(corpus_file("formats/animated-loop-3.gif")), 10);
    let (body, _) = get_image(&px, "/formats/animated-loop-3.gif?imageMogr2/cgif/2").await;
    assert_eq!(magic(&body), "gif");
    assert_eq!(frames(body), 2);
    px.stop().await;
}

/// The quality forms change what a user downloads: a forced low quality is
/// smaller than a forced high one, the relative form below the floor form,
/// and `size-limit` keeps a JPEG that would be larger under its cap.
#[tokio::test]
async fn quality_forms_and_size_limit_change_the_bytes() {
    let px = start("").await;
    let len = |spec: &'static str| {
        let px = &px;
        async move {
            get_image(px, &format!("/flowers-1920x1080.jpg?imageMogr2/{spec}"))
                .await
                .0
                .len()
        }
    };
    let low = len("thumbnail/400x/quality/30!").await;
    let high = len("thumbnail/400x/quality/90!").await;
    assert!(low < high, "quality/30! {low} bytes, quality/90! {high}");
    let rel = len("thumbnail/400x/rquality/40").await;
    let floor = len("thumbnail/400x/lquality/95").await;
    assert!(rel < floor, "rquality/40 {rel} bytes, lquality/95 {floor}");
    let full = len("thumbnail/1200x").await;
    let capped = len("thumbnail/1200x/size-limit/20k").await;
    assert!(full > 20 * 1024, "the uncapped output is {full} bytes");
    assert!(capped <= 20 * 1024, "size-limit/20k gave {capped} bytes");
    px.stop().await;
}

/// A bucket's style written in this grammar, named in the key after the
/// bucket's separator (`sample.jpg!thumb`, Tencent's example form).
#[tokio::test]
async fn styles_in_the_tencent_grammar() {
    let px = start(
        "separators = [\"!\"]\nstyles = { thumb = \"imageMogr2/thumbnail/100x|imageMogr2/rotate/90\" }",
    )
    .await;
    let (body, img) = get_image(&px, "/320x240.jpg!thumb").await;
    assert_eq!(magic(&body), "jpg");
    assert_eq!(img.dimensions(), (75, 100));
    px.stop().await;
}
