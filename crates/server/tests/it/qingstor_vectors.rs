//! QingStor `?image&action=<op>[:k_v,…][|<op>…]` vectors: the image_process
//! pages' own examples, every op, the resize modes, and errors in
//! QingStor's JSON shape (`{"code","message","request_id","url"}`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use image::{Rgb, RgbImage, RgbaImage};

use crate::support::{Pixgate, client, corpus};
use crate::vectors::{Expect, Vector, run, start};

const D: &str = "QingStor";

const fn image(form: &'static str, url: &'static str, w: u32, h: u32) -> Vector {
    Vector::image(D, form, url, "jpg", w, h)
}

const fn error(form: &'static str, url: &'static str, status: u16, code: &'static str) -> Vector {
    Vector::error(D, form, url, status, "json", code)
}

pub const VECTORS: &[Vector] = &[
    // The documents' examples.
    image(
        "resize then rotate (doc example)",
        "/320x240.jpg?image&action=resize:w_300,h_400|rotate:a_90",
        400,
        300,
    ),
    image(
        "resize m_0: cover, cut to w×h (doc example)",
        "/concert-400x267.jpg?image&action=resize:w_300,h_400,m_0",
        300,
        400,
    ),
    image(
        "crop g_0 (doc example)",
        "/flowers-1920x1080.jpg?image&action=crop:w_300,h_400,g_0",
        300,
        400,
    ),
    image(
        "crop l,t (doc example; clipped to the image)",
        "/320x240.jpg?image&action=crop:w_300,h_400,l_0,t_0",
        300,
        240,
    ),
    image(
        "watermark text (doc example)",
        "/320x240.jpg?image&action=watermark:t_5rC05Y2w5paH5a2X,p_0.5",
        320,
        240,
    ),
    image(
        "watermark_image u,l,t,p_2 (doc's p_2 clamped to 1)",
        "/flowers-1920x1080.jpg?image&action=watermark_image:u_aHR0cHM6Ly9wZWszYS5xaW5nc3Rvci5jb20vcGhvdG9zLzMyMHgyNDAuanBn,l_10,t_10,p_2",
        1920,
        1080,
    ),
    image(
        "watermark t in the standard alphabet, c padded",
        "/320x240.jpg?image&action=watermark:t_Pz4/,d_400,c_I0ZGMDAwMA==",
        320,
        240,
    ),
    // Resize modes and one-sided sizes.
    image(
        "resize m_1: exactly w×h",
        "/320x240.jpg?image&action=resize:w_100,h_100,m_1",
        100,
        100,
    ),
    image(
        "resize m_2: inside w×h",
        "/320x240.jpg?image&action=resize:w_100,h_100,m_2",
        100,
        75,
    ),
    image(
        "resize w only: proportional",
        "/320x240.jpg?image&action=resize:w_160",
        160,
        120,
    ),
    image(
        "resize h only: proportional, enlarging",
        "/320x240.jpg?image&action=resize:h_480,m_1",
        640,
        480,
    ),
    // Crop forms.
    image(
        "crop l,t: to the end",
        "/320x240.jpg?image&action=crop:l_100,t_40",
        220,
        200,
    ),
    image(
        "crop g_8 (south-east)",
        "/320x240.jpg?image&action=crop:w_100,h_50,g_8",
        100,
        50,
    ),
    image(
        "crop g_9 (auto: attention crop)",
        "/320x240.jpg?image&action=crop:w_100,h_50,g_9",
        100,
        50,
    ),
    image(
        "rotate a_270",
        "/320x240.jpg?image&action=rotate:a_270",
        240,
        320,
    ),
    image(
        "percent-encoded action (as the SDKs send it)",
        "/320x240.jpg?image&action=resize%3Aw_100%7Crotate%3Aa_90",
        75,
        100,
    ),
    // Formats.
    Vector {
        dialect: D,
        form: "format t_webp",
        url: "/320x240.jpg?image&action=resize:w_100|format:t_webp",
        expect: Expect::Image {
            format: "webp",
            w: 100,
            h: 75,
        },
    },
    Vector {
        dialect: D,
        form: "format t_tiff",
        url: "/320x240.jpg?image&action=format:t_tiff",
        expect: Expect::Image {
            format: "tiff",
            w: 320,
            h: 240,
        },
    },
    Vector {
        dialect: D,
        form: "format t_png, PNG watermark by virtual-host URL",
        url: "/formats/hopper.png?image&action=watermark_image:u_aHR0cHM6Ly9mb3JtYXRzLnBlazNhLnFpbmdzdG9yLmNvbS93aXRoLWFscGhhLnBuZw,p_0.5|format:t_png",
        expect: Expect::Image {
            format: "png",
            w: 128,
            h: 128,
        },
    },
    image(
        "format t_jpeg from PNG",
        "/formats/hopper.png?image&action=resize:w_64|format:t_jpeg",
        64,
        64,
    ),
    Vector {
        dialect: D,
        form: "info",
        url: "/320x240.jpg?image&action=info",
        expect: Expect::Json {
            field: "width",
            value: "320",
        },
    },
    // Errors.
    error(
        "error: crop g with l,t",
        "/320x240.jpg?image&action=crop:w_100,g_1,l_10",
        400,
        "invalid_argument",
    ),
    error(
        "error: rotate a not a right angle",
        "/320x240.jpg?image&action=rotate:a_45",
        400,
        "invalid_argument",
    ),
    error(
        "error: format t not served",
        "/320x240.jpg?image&action=format:t_gif",
        400,
        "invalid_argument",
    ),
    error(
        "error: resize without w or h",
        "/320x240.jpg?image&action=resize:m_1",
        400,
        "invalid_argument",
    ),
    error(
        "error: watermark opacity 0",
        "/320x240.jpg?image&action=watermark:t_5rC05Y2w5paH5a2X,p_0",
        400,
        "invalid_argument",
    ),
    error(
        "error: unknown operation",
        "/320x240.jpg?image&action=sharpen:r_1",
        400,
        "invalid_argument",
    ),
    error(
        "error: watermark image missing",
        "/320x240.jpg?image&action=watermark_image:u_bWlzc2luZy5wbmc",
        400,
        "invalid_argument",
    ),
    error(
        "error: save needs a signed request",
        "/320x240.jpg?image&action=save:b_mybucket,k_out.jpg",
        403,
        "permission_denied",
    ),
    error(
        "error: missing object",
        "/missing.jpg?image&action=resize:w_100",
        404,
        "object_not_exists",
    ),
];

#[tokio::test]
async fn qingstor_vectors() {
    let px = start("").await;
    run(&px, VECTORS).await;
    px.stop().await;
}

/// A proxy over a bucket `local` of flat images: a white 400×300 page and
/// a red 20×10 mark.
async fn flat_bucket() -> (tempfile::TempDir, Pixgate) {
    let dir = tempfile::tempdir().unwrap();
    let flat = |name: &str, w, h, rgb| {
        RgbImage::from_pixel(w, h, Rgb(rgb))
            .save(dir.path().join(name))
            .unwrap();
    };
    flat("white.png", 400, 300, [255, 255, 255]);
    flat("red.png", 20, 10, [255, 0, 0]);
    let fonts = corpus().join("fonts").canonicalize().unwrap();
    let px = Pixgate::start(&format!(
        "[watermark]\nfont_dirs = [\"/usr/share/fonts\", \"{}\"]\n\
         [[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        fonts.display(),
        dir.path().display()
    ))
    .await;
    (dir, px)
}

async fn rgba(px: &Pixgate, action: &str) -> RgbaImage {
    let res = client()
        .get(px.url(&format!("/local/white.png?image&action={action}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{action}");
    image::load_from_memory(&res.bytes().await.unwrap())
        .unwrap()
        .to_rgba8()
}

fn b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

/// watermark_image: the mark's top-left at (l, t), at opacity p (p_2 is
/// opaque), nothing drawn elsewhere.
#[tokio::test]
async fn an_image_mark_lands_at_l_t_with_opacity_p() {
    let (_dir, px) = flat_bucket().await;
    let u = b64("https://pek3a.qingstor.com/local/red.png");
    let img = rgba(&px, &format!("watermark_image:u_{u},l_30,t_20,p_2")).await;
    assert_eq!(img.get_pixel(30, 20).0, [255, 0, 0, 255]);
    assert_eq!(img.get_pixel(49, 29).0, [255, 0, 0, 255]);
    for (x, y) in [(29, 20), (30, 19), (50, 20), (30, 30), (0, 0), (399, 299)] {
        assert_eq!(img.get_pixel(x, y).0, [255, 255, 255, 255], "({x},{y})");
    }
    // p_0.5: half-way between white and red.
    let img = rgba(&px, &format!("watermark_image:u_{u},l_30,t_20,p_0.5")).await;
    let [r, g, b, _] = img.get_pixel(35, 25).0;
    assert_eq!(r, 255);
    assert!(
        (120..=136).contains(&g) && g == b,
        "{:?}",
        img.get_pixel(35, 25)
    );
    // The default opacity is 0.25: a quarter of the way to red.
    let img = rgba(&px, &format!("watermark_image:u_{u}")).await;
    let g = img.get_pixel(5, 5).0[1];
    assert!((185..=200).contains(&g), "{:?}", img.get_pixel(5, 5));
    px.stop().await;
}

/// watermark: red text (c), tiled over the whole image, 20 pt (d_400) text
/// taller than the default 7.5 pt.
#[tokio::test]
async fn text_is_tiled_in_its_colour_and_size() {
    let (_dir, px) = flat_bucket().await;
    let (t, c) = (b64("QingStor"), b64("#FF0000"));
    // The rows holding changed pixels in the top-left 100×100 corner.
    let inked_rows = |img: &RgbaImage, x0: u32, y0: u32| {
        (y0..y0 + 100)
            .filter(|&y| (x0..x0 + 100).any(|x| img.get_pixel(x, y).0 != [255, 255, 255, 255]))
            .count()
    };
    let img = rgba(&px, &format!("watermark:t_{t},d_400,c_{c},p_1")).await;
    // Ink in every corner of the page: the text is repeated.
    for (x0, y0) in [(0, 0), (300, 0), (0, 200), (300, 200)] {
        assert!(inked_rows(&img, x0, y0) > 0, "no text near ({x0},{y0})");
    }
    // Every changed pixel is a shade of red over white.
    assert!(img.pixels().all(|p| {
        let [r, g, b, _] = p.0;
        r == 255 && g == b
    }));
    assert!(img.pixels().any(|p| p.0[1] < 64), "no solid red ink");
    // The default size draws shorter lines of ink than d_400.
    let small = rgba(&px, &format!("watermark:t_{t},c_{c},p_1")).await;
    let tall = |img: &RgbaImage| {
        // The longest vertical run of inked rows in the first column of tiles.
        let mut best = 0;
        let mut run = 0;
        for y in 0..img.height() {
            let inked = (0..100).any(|x| img.get_pixel(x, y).0 != [255, 255, 255, 255]);
            run = if inked { run + 1 } else { 0 };
            best = best.max(run);
        }
        best
    };
    assert!(
        tall(&small) < tall(&img),
        "{} vs {}",
        tall(&small),
        tall(&img)
    );
    px.stop().await;
}
