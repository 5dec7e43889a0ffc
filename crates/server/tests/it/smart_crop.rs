//! Attention crop over HTTP: OSS `crop,…,g_auto` and `resize,m_fill,…,g_auto`
//! (extensions) and Tencent `scrop` keep the detailed part of an image where
//! a centred crop keeps flat background.

use crate::support::{Pixgate, client, xml_tag};

/// 400×200 flat grey with a 60×60 checkerboard centred at (340, 100).
fn patch_png(dir: &std::path::Path) {
    let img = image::RgbImage::from_fn(400, 200, |x, y| {
        let inside = x.abs_diff(340) < 30 && y.abs_diff(100) < 30;
        let v = match (inside, (x / 4 + y / 4) % 2 == 0) {
            (false, _) => 128,
            (true, true) => 0,
            (true, false) => 255,
        };
        image::Rgb([v, v, v])
    });
    img.save(dir.join("patch.png")).unwrap();
}

/// Size and luma standard deviation of an answer.
async fn fetch(px: &Pixgate, query: &str) -> (u16, (u32, u32), f64, String) {
    let res = client()
        .get(px.url(&format!("/patch.png?{query}")))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    if status != 200 {
        let code = xml_tag(&String::from_utf8_lossy(&body), "Code").unwrap_or_default();
        return (status, (0, 0), 0.0, code);
    }
    let img = image::load_from_memory(&body).unwrap().to_luma8();
    let n = f64::from(img.width() * img.height());
    let mean = img.pixels().map(|p| f64::from(p[0])).sum::<f64>() / n;
    let var = img
        .pixels()
        .map(|p| (f64::from(p[0]) - mean).powi(2))
        .sum::<f64>()
        / n;
    (status, img.dimensions(), var.sqrt(), String::new())
}

#[tokio::test]
async fn auto_gravity_keeps_the_detail_a_centred_crop_misses() {
    let dir = tempfile::tempdir().unwrap();
    patch_png(dir.path());
    let px = Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"attention\"\n[[buckets]]\nname = \"attention\"\norigin = \"file://{}\"\n",
        dir.path().canonicalize().unwrap().display()
    ))
    .await;
    for (smart, centred) in [
        (
            "x-oss-process=image/crop,w_100,h_100,g_auto",
            "x-oss-process=image/crop,w_100,h_100,g_center",
        ),
        (
            "x-oss-process=image/resize,m_fill,w_100,h_100,g_auto",
            "x-oss-process=image/resize,m_fill,w_100,h_100",
        ),
        (
            "imageMogr2/scrop/100x100",
            "imageMogr2/crop/100x100/gravity/center",
        ),
    ] {
        let (status, size, spread, code) = fetch(&px, smart).await;
        assert_eq!((status, size), (200, (100, 100)), "{smart}: {code}");
        // Flat grey has no spread; the patch alone (9–36 % of the window)
        // gives well over 20.
        assert!(
            spread > 20.0,
            "{smart}: luma spread {spread}: missed the detail"
        );
        let (status, _, spread, _) = fetch(&px, centred).await;
        assert_eq!(status, 200, "{centred}");
        assert!(spread < 1.0, "{centred}: {spread}: the centre is flat");
    }
    for bad in [
        "x-oss-process=image/crop,h_100,g_auto",
        "x-oss-process=image/crop,w_100,h_100,x_10,g_auto",
        "x-oss-process=image/resize,m_lfit,w_100,h_100,g_auto",
        "x-oss-process=image/resize,m_fill,w_100,g_auto",
    ] {
        let (status, _, _, code) = fetch(&px, bad).await;
        assert_eq!((status, code.as_str()), (400, "InvalidArgument"), "{bad}");
    }
    px.stop().await;
}
