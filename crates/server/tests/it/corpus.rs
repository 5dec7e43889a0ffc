//! Every file of the shared corpus: formats decode and convert to every
//! output format (or get a documented clean error); bad files get a 4xx and
//! never take the server down.

use std::path::{Path, PathBuf};

use image::ImageFormat;
use pixgate_codec::Format;

use crate::process::{corpus_proxy, get};
use crate::support::{client, corpus, xml_tag};

fn files(dir: &str) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p: PathBuf = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_str().unwrap().to_owned());
            }
        }
    }
    let root = corpus();
    let mut out = Vec::new();
    walk(&root, &root.join(dir), &mut out);
    out.sort();
    out
}

#[tokio::test]
async fn every_format_converts_to_every_output_format() {
    let px = corpus_proxy().await;
    let outputs = [
        ("jpg", ImageFormat::Jpeg),
        ("png", ImageFormat::Png),
        ("webp", ImageFormat::WebP),
        ("bmp", ImageFormat::Bmp),
        ("gif", ImageFormat::Gif),
        ("tiff", ImageFormat::Tiff),
    ];
    let mut converted = 0;
    // Every file of formats/ decodes, G31D.TIF (CCITT Group 3 fax) included
    // since TIFF goes through libtiff.
    for key in files("formats") {
        for (fmt, magic) in outputs {
            let out = get(&px, &key, &format!("image/resize,w_64/format,{fmt}")).await;
            // `format,gif` keeps a non-GIF source's own format (as the service does).
            if fmt == "gif" && !key.ends_with(".gif") {
                let source = std::fs::read(corpus().join(&key)).unwrap();
                assert_eq!(out.status.as_u16(), 200, "{key}");
                assert_eq!(
                    pixgate_codec::sniff(&out.body),
                    pixgate_codec::sniff(&source),
                    "{key}"
                );
                converted += 1;
                continue;
            }
            let img = out.image();
            assert!(img.width() <= 64 && img.width() >= 1, "{key} -> {fmt}");
            assert_eq!(out.format(), magic, "{key} -> {fmt}");
            converted += 1;
        }
    }
    assert!(converted > 300, "{converted}");
    px.stop().await;
}

#[tokio::test]
async fn heif_family_in_and_out() {
    // AVIF and HEIC through libheif: every HEIF-family input decodes, and a
    // photo and an alpha PNG encode to both (checked by their ftyp brand).
    let px = corpus_proxy().await;
    for key in [
        "formats/IMG_5195.HEIC",
        "formats/pitm.avif",
        "formats/samplefilehub.heif",
    ] {
        let img = get(&px, key, "image/resize,w_64/format,png").await.image();
        assert_eq!(img.width(), 64, "{key}");
    }
    for key in ["photos/concert-400x267.jpg", "formats/with-alpha.png"] {
        for (fmt, expected) in [("avif", Format::Avif), ("heic", Format::Heic)] {
            let out = get(&px, key, &format!("image/resize,w_120/format,{fmt}")).await;
            assert_eq!(out.status.as_u16(), 200, "{key} -> {fmt}");
            assert_eq!(
                pixgate_codec::sniff(&out.body),
                Some(expected),
                "{key} -> {fmt}"
            );
            assert_eq!(out.content_type, expected.mime());
            // Round trip: the proxy reads back what it wrote, at the right size.
            let p = pixgate_codec::probe(&out.body).unwrap();
            assert_eq!(p.width, 120, "{key} -> {fmt}");
        }
    }
    // The service's AVIF ceiling is 4096×2304.
    let out = get(&px, "photos/phone-4032x3024.jpg", "image/format,avif").await;
    assert_eq!(
        (out.status.as_u16(), out.code().as_str()),
        (400, "InvalidArgument")
    );
    px.stop().await;
}

/// The one file of `bad/` that decodes, and why that is right:
/// big-height.webp is a valid animation of 97 frames of 13×169; it is "bad"
/// for libvips, which stacks frames into one strip (16 393 px) taller than
/// WebP's 16 383 limit. pixgate keeps frames apart, and frames × pixels is
/// far under the limit. (The bmpsuite files whose headers contradict the
/// file are refused: see `check_bmp`.)
const DECODES_DESPITE_DAMAGE: &[&str] = &["big-height.webp"];

#[tokio::test]
async fn every_bad_file_is_a_clean_4xx() {
    let px = corpus_proxy().await;
    let mut unclear = Vec::new();
    for key in files("bad") {
        let name = key.rsplit('/').next().unwrap();
        for process in ["image/resize,w_100", "image/format,png", "image/rotate,90"] {
            let out = get(&px, &key, process).await;
            if DECODES_DESPITE_DAMAGE.contains(&name) {
                assert_eq!(out.status.as_u16(), 200, "{key}");
                continue;
            }
            assert!(
                out.status.is_client_error(),
                "{key} {process}: {} {}",
                out.status,
                String::from_utf8_lossy(&out.body)
            );
            let code = out.code();
            assert!(
                ["BadRequest", "ImageTooLarge"].contains(&code.as_str()),
                "{key}: {code}"
            );
            // A sentence a user can act on: no library type's debug output.
            let message = xml_tag(&String::from_utf8_lossy(&out.body), "Message").unwrap();
            let debug = ["{", "}", "::", "Some(", "Err(", "Ok(", "\\\""]
                .iter()
                .any(|f| message.contains(f));
            if debug || !message.ends_with('.') || message.len() < 20 {
                unclear.push(format!("{key} {process}: {message}"));
            }
            if name.contains("bomb")
                || name.contains("giant")
                || name.contains("dos")
                || name.starts_with("65536")
            {
                assert_eq!(code, "ImageTooLarge", "{key}");
            }
        }
        // The server is still up and serving.
        let res = client().get(px.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    assert!(
        unclear.is_empty(),
        "messages that are not a plain sentence:\n{}",
        unclear.join("\n")
    );
    px.stop().await;
}
