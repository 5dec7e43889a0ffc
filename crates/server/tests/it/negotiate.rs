//! Accept negotiation (a bucket's `negotiate`) and the placeholder answers
//! (`image/blurhash`, `image/thumbhash`), over HTTP.

use base64::Engine;
use image::ImageFormat;
use reqwest::header::{ACCEPT, IF_NONE_MATCH};
use serde_json::Value;

use crate::support::{Pixgate, client, corpus, corpus_file, metric, scrape};

/// What Chrome sends for an `<img>` (AVIF and WebP named explicitly).
const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
/// Safari 14–15: WebP, no AVIF.
const SAFARI_14: &str = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";

const PHOTO: &str = "photos/concert-400x267.jpg";

/// Bucket `nego` negotiates AVIF then WebP; `plain` does not; both read the corpus.
async fn proxy() -> Pixgate {
    let root = corpus().canonicalize().unwrap();
    Pixgate::start(&format!(
        "[[buckets]]\nname = \"nego\"\norigin = \"file://{0}\"\nnegotiate = [\"avif\", \"webp\"]\n\
         [[buckets]]\nname = \"plain\"\norigin = \"file://{0}\"\n",
        root.display()
    ))
    .await
}

struct Answer {
    status: u16,
    content_type: String,
    etag: Option<String>,
    vary: Vec<String>,
    body: Vec<u8>,
}

impl Answer {
    fn varies_by_accept(&self) -> bool {
        self.vary.iter().any(|v| v.eq_ignore_ascii_case("accept"))
    }
}

async fn get(px: &Pixgate, path: &str, headers: &[(reqwest::header::HeaderName, &str)]) -> Answer {
    let mut req = client().get(px.url(path));
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    let res = req.send().await.unwrap();
    let vary = res
        .headers()
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|v| v.trim().to_owned())
        .collect();
    Answer {
        status: res.status().as_u16(),
        content_type: res
            .headers()
            .get("content-type")
            .map_or(String::new(), |v| v.to_str().unwrap().to_owned()),
        etag: res
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned()),
        vary,
        body: res.bytes().await.unwrap().to_vec(),
    }
}

fn processed(bucket: &str, process: &str) -> String {
    format!("/{bucket}/{PHOTO}?x-oss-process=image/{process}")
}

/// An ISO-BMFF file whose major brand is `avif`.
fn is_avif(body: &[u8]) -> bool {
    body.len() > 12 && &body[4..8] == b"ftyp" && &body[8..12] == b"avif"
}

fn size(body: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(body).unwrap();
    (img.width(), img.height())
}

#[tokio::test]
async fn chrome_gets_avif_and_safari_webp_without_a_named_format() {
    let px = proxy().await;
    let url = processed("nego", "resize,w_100");

    let chrome = get(&px, &url, &[(ACCEPT, CHROME)]).await;
    assert_eq!(
        chrome.status,
        200,
        "{}",
        String::from_utf8_lossy(&chrome.body)
    );
    assert_eq!(chrome.content_type, "image/avif");
    assert!(is_avif(&chrome.body), "{:?}", &chrome.body[..16]);
    assert!(chrome.varies_by_accept(), "{:?}", chrome.vary);

    let safari = get(&px, &url, &[(ACCEPT, SAFARI_14)]).await;
    assert_eq!(safari.content_type, "image/webp");
    assert_eq!(
        image::guess_format(&safari.body).unwrap(),
        ImageFormat::WebP
    );
    assert_eq!(size(&safari.body), (100, 67));
    assert!(safari.varies_by_accept());

    // No Accept, or one that names neither: the source's format.
    for accept in [None, Some("*/*"), Some("image/*,*/*;q=0.8")] {
        let headers: Vec<_> = accept.into_iter().map(|a| (ACCEPT, a)).collect();
        let plain = get(&px, &url, &headers).await;
        assert_eq!(plain.content_type, "image/jpeg", "{accept:?}");
        assert_eq!(image::guess_format(&plain.body).unwrap(), ImageFormat::Jpeg);
        assert_eq!(size(&plain.body), (100, 67));
        assert!(plain.varies_by_accept(), "{accept:?}");
    }

    // A q-value of 0 refuses a type; a higher q wins over the bucket's order.
    let no_avif = get(&px, &url, &[(ACCEPT, "image/avif;q=0,image/webp")]).await;
    assert_eq!(no_avif.content_type, "image/webp");
    let prefers_webp = get(&px, &url, &[(ACCEPT, "image/avif;q=0.5,image/webp")]).await;
    assert_eq!(prefers_webp.content_type, "image/webp");
    px.stop().await;
}

#[tokio::test]
async fn an_explicit_format_wins_over_any_accept() {
    let px = proxy().await;
    for accept in [CHROME, SAFARI_14, "*/*"] {
        let a = get(
            &px,
            &processed("nego", "resize,w_100/format,png"),
            &[(ACCEPT, accept)],
        )
        .await;
        assert_eq!(a.content_type, "image/png", "{accept}");
        assert_eq!(image::guess_format(&a.body).unwrap(), ImageFormat::Png);
        assert_eq!(size(&a.body), (100, 67));
        // Every processed URL of the bucket varies: one rule for a CDN.
        assert!(a.varies_by_accept());
    }
    px.stop().await;
}

#[tokio::test]
async fn each_format_is_its_own_cache_entry_and_etag() {
    let px = proxy().await;
    let url = processed("nego", "resize,w_120");
    let accepts = [CHROME, SAFARI_14, "*/*"];
    let mut first = Vec::new();
    for accept in accepts {
        first.push(get(&px, &url, &[(ACCEPT, accept)]).await);
    }
    let etags: Vec<_> = first.iter().map(|a| a.etag.clone().unwrap()).collect();
    assert_ne!(etags[0], etags[1]);
    assert_ne!(etags[1], etags[2]);
    assert_ne!(etags[0], etags[2]);
    let m = scrape(&px).await;
    let hits = [("cache", "result"), ("outcome", "hit")];
    assert_eq!(metric(&m, "pixgate_renders_total", &[]), 3.0);
    assert_eq!(metric(&m, "pixgate_cache_lookups_total", &hits), 0.0);

    // Again, in the other order: each is served from the cache, in its format.
    for (i, accept) in accepts.iter().enumerate().rev() {
        let again = get(&px, &url, &[(ACCEPT, accept)]).await;
        assert_eq!(again.content_type, first[i].content_type, "{accept}");
        assert_eq!(again.etag, first[i].etag, "{accept}");
        assert_eq!(again.body, first[i].body, "{accept}");
    }
    assert!(is_avif(&first[0].body));
    assert_eq!(first[1].content_type, "image/webp");
    assert_eq!(first[2].content_type, "image/jpeg");
    let m = scrape(&px).await;
    assert_eq!(metric(&m, "pixgate_renders_total", &[]), 3.0);
    assert_eq!(metric(&m, "pixgate_cache_lookups_total", &hits), 3.0);

    // A revalidation is answered per format: AVIF's ETag is not WebP's.
    let etag = etags[0].as_str();
    let same = get(&px, &url, &[(ACCEPT, CHROME), (IF_NONE_MATCH, etag)]).await;
    assert_eq!(same.status, 304);
    assert!(same.varies_by_accept());
    let other = get(&px, &url, &[(ACCEPT, SAFARI_14), (IF_NONE_MATCH, etag)]).await;
    assert_eq!(other.status, 200);
    assert_eq!(other.content_type, "image/webp");
    px.stop().await;
}

#[tokio::test]
async fn plain_buckets_and_originals_do_not_vary_by_accept() {
    let px = proxy().await;
    let plain = get(
        &px,
        &processed("plain", "resize,w_100"),
        &[(ACCEPT, CHROME)],
    )
    .await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.content_type, "image/jpeg");
    assert!(!plain.varies_by_accept(), "{:?}", plain.vary);

    // Originals are never converted, so they are one CDN copy.
    let original = get(&px, &format!("/nego/{PHOTO}"), &[(ACCEPT, CHROME)]).await;
    assert_eq!(original.status, 200);
    assert_eq!(original.body, corpus_file(PHOTO));
    assert!(!original.varies_by_accept(), "{:?}", original.vary);
    px.stop().await;
}

#[tokio::test]
async fn negotiation_never_flattens_an_animation() {
    let px = proxy().await;
    let url = "/nego/formats/animated-loop-3.gif?x-oss-process=image/resize,w_20";
    let a = get(&px, url, &[(ACCEPT, CHROME)]).await;
    // An animation is never negotiated to AVIF (its encode costs many
    // times WebP's): WebP keeps the frames.
    assert_eq!(a.content_type, "image/webp");
    let frames = image::codecs::webp::WebPDecoder::new(std::io::Cursor::new(&a.body)).unwrap();
    assert!(frames.has_animation());
    px.stop().await;
}

/// sRGB 0–255 to linear light.
fn linear(v: f64) -> f64 {
    let v = v / 255.0;
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// The mean colour of RGB(A) pixels, in linear light.
fn mean_linear(px: &[u8], channels: usize) -> [f64; 3] {
    let mut sum = [0.0; 3];
    let n = (px.len() / channels) as f64;
    for p in px.chunks_exact(channels) {
        for c in 0..3 {
            sum[c] += linear(f64::from(p[c]));
        }
    }
    sum.map(|s| s / n)
}

/// The photo as a `w`×`h` RGBA thumbnail.
fn thumbnail(w: u32, h: u32) -> Vec<u8> {
    let photo = image::load_from_memory(&corpus_file(PHOTO)).unwrap();
    photo
        .resize_exact(w, h, image::imageops::FilterType::Triangle)
        .to_rgba8()
        .into_raw()
}

/// Mean absolute difference per channel of two RGBA buffers.
fn mad(a: &[u8], b: &[u8]) -> f64 {
    let total: u64 = a
        .chunks_exact(4)
        .zip(b.chunks_exact(4))
        .flat_map(|(p, q)| (0..3).map(move |c| u64::from(p[c].abs_diff(q[c]))))
        .sum();
    total as f64 / (a.len() / 4 * 3) as f64
}

/// The decoded hash is the photo's thumbnail, roughly: the same mean colour,
/// and closer to it than a flat image of that mean (the hash carries the
/// layout, not only the colour).
fn close_to_the_photo(decoded: &[u8], w: u32, h: u32) {
    let thumb = thumbnail(w, h);
    let want = mean_linear(&thumb, 4);
    let got = mean_linear(decoded, 4);
    for c in 0..3 {
        // Linear light: 0.02 is about 5 levels of 255 in the mid-tones.
        assert!(
            (want[c] - got[c]).abs() < 0.02,
            "channel {c}: image {:.3}, hash {:.3}",
            want[c],
            got[c]
        );
    }
    let mean = |c: usize| {
        let n = (thumb.len() / 4) as u64;
        (thumb.chunks_exact(4).map(|p| u64::from(p[c])).sum::<u64>() / n) as u8
    };
    let flat: Vec<u8> = (0..w * h)
        .flat_map(|_| [mean(0), mean(1), mean(2), 255])
        .collect();
    let (hashed, flat) = (mad(decoded, &thumb), mad(&flat, &thumb));
    assert!(hashed < flat, "hash {hashed:.1} vs flat {flat:.1}");
}

async fn json(px: &Pixgate, path: &str) -> Value {
    let a = get(px, path, &[(ACCEPT, CHROME)]).await;
    assert_eq!(
        a.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.content_type, "application/json");
    serde_json::from_slice(&a.body).unwrap()
}

#[tokio::test]
async fn blurhash_decodes_to_the_images_mean_colour() {
    let px = proxy().await;
    let v = json(&px, &processed("plain", "blurhash")).await;
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(400), Some(267))
    );
    let hash = v["blurhash"].as_str().unwrap();
    // 4×3 components: 1 size + 1 max + 4 DC + 2 per AC component.
    assert_eq!(hash.len(), 6 + 2 * 11, "{hash}");
    // Decoded at 32 px wide (a 4×3 grid would weigh the first AC terms into
    // its mean: the basis is sampled at the left edges, not the centres).
    let decoded = blurhash::decode(hash, 32, 21, 1.0).unwrap();
    close_to_the_photo(&decoded, 32, 21);

    // Components as asked; the size is the image the steps produced.
    let v = json(&px, &processed("nego", "resize,w_100/blurhash,x_2,y_5")).await;
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(100), Some(67))
    );
    assert_eq!(v["blurhash"].as_str().unwrap().len(), 6 + 2 * 9);

    let bad = get(&px, &processed("plain", "blurhash,x_10"), &[]).await;
    assert_eq!(bad.status, 400);
    let last = get(&px, &processed("plain", "blurhash/resize,w_10"), &[]).await;
    assert_eq!(last.status, 400);
    px.stop().await;
}

#[tokio::test]
async fn thumbhash_tells_the_images_aspect_and_colour() {
    let px = proxy().await;
    let v = json(&px, &processed("plain", "thumbhash")).await;
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(400), Some(267))
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["thumbhash"].as_str().unwrap())
        .unwrap();
    let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&bytes).unwrap();
    // ThumbHash keeps the aspect coarsely (component counts, in sevenths).
    assert!((f64::from(ratio) - 400.0 / 267.0).abs() < 0.15, "{ratio}");
    let (w, h, rgba) = thumbhash::thumb_hash_to_rgba(&bytes).unwrap();
    assert!(
        (w as f64 / h as f64 - 400.0 / 267.0).abs() < 0.15,
        "{w}x{h}"
    );
    close_to_the_photo(&rgba, w as u32, h as u32);

    // A rotated image: the aspect turns with it.
    let v = json(&px, &processed("plain", "rotate,90/thumbhash")).await;
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(267), Some(400))
    );
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["thumbhash"].as_str().unwrap())
        .unwrap();
    let ratio = thumbhash::thumb_hash_to_approximate_aspect_ratio(&bytes).unwrap();
    assert!((f64::from(ratio) - 267.0 / 400.0).abs() < 0.15, "{ratio}");
    px.stop().await;
}
