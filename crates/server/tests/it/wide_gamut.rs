//! A bucket's `wide_gamut`: converted to sRGB (the default) or kept, the
//! source's ICC profile embedded in the output, over HTTP.

use std::io::Cursor;

use image::ImageDecoder;

use crate::support::{Pixgate, client, corpus, corpus_file};

const P3: &str = "formats/p3.png";

/// `keep` keeps wide gamut; `plain` is the default; both read the corpus.
async fn proxy() -> Pixgate {
    let root = corpus().canonicalize().unwrap();
    Pixgate::start(&format!(
        "[[buckets]]\nname = \"keep\"\norigin = \"file://{0}\"\nwide_gamut = \"keep\"\n\
         [[buckets]]\nname = \"plain\"\norigin = \"file://{0}\"\n",
        root.display()
    ))
    .await
}

async fn fetch(px: &Pixgate, bucket: &str, key: &str, process: &str) -> Vec<u8> {
    let url = px.url(&format!("/{bucket}/{key}?x-oss-process={process}"));
    let res = client().get(url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{bucket}/{key} {process}");
    res.bytes().await.unwrap().to_vec()
}

/// The embedded profile, as `image`'s decoders (not pixgate's) read it;
/// AVIF, which `image` does not read here, as libheif does.
fn icc_of(bytes: &[u8]) -> Option<Vec<u8>> {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .unwrap();
    match reader.into_decoder() {
        Ok(mut d) => d.icc_profile().unwrap(),
        Err(_) => ours(bytes).icc,
    }
}

/// pixgate's own decoding, samples as stored (for AVIF and JPEG XL).
fn ours(bytes: &[u8]) -> pixgate_codec::Frame {
    let probe = pixgate_codec::probe(bytes).unwrap();
    pixgate_codec::decode_with_gamut(
        bytes,
        &probe,
        1,
        &Default::default(),
        pixgate_codec::Gamut::KeepWide,
    )
    .unwrap()
}

/// The stored samples of the first pixel, with no colour management.
fn first_pixel(bytes: &[u8]) -> [u8; 3] {
    if let Ok(img) = image::load_from_memory(bytes) {
        return img.to_rgb8().get_pixel(0, 0).0;
    }
    ours(bytes).pixel(0, 0)[..3].try_into().unwrap()
}

fn close(a: [u8; 3], b: [u8; 3], by: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= by)
}

#[tokio::test]
async fn a_keeping_bucket_embeds_the_p3_profile_where_the_format_has_a_place() {
    let px = proxy().await;
    let source = corpus_file(P3);
    let profile = icc_of(&source).expect("the corpus file carries Display P3");
    let stored = first_pixel(&source);
    // (TIFF embeds it too — crates/codec/tests/wide_gamut.rs reads it back through
    // libtiff; `image`, the reader here, does not return a TIFF's profile.)
    for format in ["png", "jpg", "webp", "avif"] {
        let kept = fetch(&px, "keep", P3, &format!("image/format,{format}")).await;
        assert_eq!(icc_of(&kept).as_deref(), Some(&profile[..]), "{format}");
        // The samples are the source's, for a colour-managed viewer to map.
        // (JPEG, WebP and AVIF are lossy: a few levels off.)
        assert!(
            close(first_pixel(&kept), stored, 5),
            "{format}: {:?}",
            first_pixel(&kept)
        );
        let plain = fetch(&px, "plain", P3, &format!("image/format,{format}")).await;
        assert_eq!(icc_of(&plain), None, "{format} from the default bucket");
        // Converted: Display P3's red is outside sRGB, so it changes.
        assert!(
            !close(first_pixel(&plain), stored, 5),
            "{format}: converted"
        );
    }
    // BMP and JPEG XL carry no profile here: their samples become sRGB.
    for format in ["bmp", "jxl"] {
        let kept = fetch(&px, "keep", P3, &format!("image/format,{format}")).await;
        let plain = fetch(&px, "plain", P3, &format!("image/format,{format}")).await;
        let (k, p) = (first_pixel(&kept), first_pixel(&plain));
        assert!(close(k, p, 4), "{format}: {k:?} vs {p:?}");
        assert!(!close(k, stored, 5), "{format}: converted");
    }
    px.stop().await;
}

#[tokio::test]
async fn colours_read_from_a_kept_gamut_are_srgb_and_srgb_sources_gain_no_profile() {
    let px = proxy().await;
    // average-hue answers one colour: the same as the converting bucket's.
    let hue = |b: Vec<u8>| String::from_utf8(b).unwrap();
    assert_eq!(
        hue(fetch(&px, "keep", P3, "image/average-hue").await),
        hue(fetch(&px, "plain", P3, "image/average-hue").await),
    );
    // A source without a profile gets none added.
    let png = fetch(
        &px,
        "keep",
        "formats/hopper.png",
        "image/resize,w_64/format,png",
    )
    .await;
    assert_eq!(icc_of(&corpus_file("formats/hopper.png")), None);
    assert_eq!(icc_of(&png), None);
    px.stop().await;
}
