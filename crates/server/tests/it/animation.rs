//! Animated GIF and WebP: resize, crop and rotate apply to every frame when
//! the output can animate; other steps render the first frame.

use std::io::Cursor;

use image::AnimationDecoder;

use crate::process::{corpus_proxy, get};

/// Frame count, size and total duration of a GIF or WebP body. libwebp's
/// animation encoder merges consecutive identical frames (extending the
/// previous one's duration) and writes a still image when nothing moves, so
/// WebP is compared by duration, GIF by frame count.
#[derive(Debug, PartialEq, Eq)]
struct Anim {
    frames: usize,
    width: u32,
    height: u32,
    total_ms: u32,
}

/// The composited frames of a GIF or WebP body (none for a still WebP).
pub(crate) fn decode_frames(body: &[u8]) -> Vec<image::Frame> {
    match image::guess_format(body).unwrap() {
        image::ImageFormat::Gif => image::codecs::gif::GifDecoder::new(Cursor::new(body))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap(),
        image::ImageFormat::WebP => image::codecs::webp::WebPDecoder::new(Cursor::new(body))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap(),
        other => panic!("not an animation format: {other:?}"),
    }
}

fn frames(body: &[u8]) -> Anim {
    let decoded = decode_frames(body);
    if decoded.is_empty() {
        // A still WebP.
        let img = image::load_from_memory(body).unwrap();
        return Anim {
            frames: 1,
            width: img.width(),
            height: img.height(),
            total_ms: 0,
        };
    }
    let (width, height) = decoded[0].buffer().dimensions();
    assert!(
        decoded
            .iter()
            .all(|f| f.buffer().dimensions() == (width, height))
    );
    let total_ms = decoded
        .iter()
        .map(|f| {
            let (n, d) = f.delay().numer_denom_ms();
            n / d.max(1)
        })
        .sum();
    Anim {
        frames: decoded.len(),
        width,
        height,
        total_ms,
    }
}

/// Same animation, resized: GIF keeps every frame; WebP keeps the timeline.
fn assert_same_timeline(out: &Anim, src: &Anim, w: u32, h: u32, what: &str) {
    assert_eq!((out.width, out.height), (w, h), "{what}");
    if out.frames > 1 {
        assert_eq!(out.total_ms, src.total_ms, "{what}");
    }
}

#[tokio::test]
async fn every_frame_is_resized_cropped_rotated() {
    let px = corpus_proxy().await;
    for key in [
        "formats/rotating-squares.gif",
        "formats/animated-loop-3.gif",
        "formats/animated-loop-3.webp",
        "formats/rotating-squares.webp",
    ] {
        let src = frames(&get(&px, key, "").await.body);
        assert!(src.frames > 1, "{key} should be animated");
        let gif = key.ends_with(".gif");
        let out = frames(&get(&px, key, "image/resize,w_40").await.body);
        let h = ((f64::from(src.height) * 40.0 / f64::from(src.width)).round() as u32).max(1);
        assert_same_timeline(&out, &src, 40, h, key);
        if gif {
            assert_eq!(out.frames, src.frames, "{key}: every frame kept");
        } else {
            assert!(out.frames > 1, "{key}: still animated");
        }
        let out = frames(&get(&px, key, "image/crop,w_20,h_10/rotate,90").await.body);
        assert_same_timeline(&out, &src, 10, 20, key);
        // Never enlarged, even with limit_0.
        let big = format!("image/resize,w_{},limit_0", src.width * 2);
        let out = frames(&get(&px, key, &big).await.body);
        assert_same_timeline(&out, &src, src.width, src.height, key);
    }
    px.stop().await;
}

#[tokio::test]
async fn gif_to_webp_stays_animated_other_steps_make_it_still() {
    let px = corpus_proxy().await;
    let key = "formats/rotating-squares.gif";
    let src = frames(&get(&px, key, "").await.body);
    let webp = get(&px, key, "image/resize,w_30/format,webp").await;
    assert_eq!(webp.content_type, "image/webp");
    let out = frames(&webp.body);
    assert!(out.frames > 1);
    assert_same_timeline(&out, &src, 30, 30, key);
    for process in ["image/resize,p_50", "image/blur,r_2,s_2"] {
        let out = get(&px, key, process).await;
        assert_eq!(out.format(), image::ImageFormat::Gif, "{process}");
        assert_eq!(frames(&out.body).frames, 1, "{process}: a still GIF");
    }
    let png = get(&px, key, "image/format,png").await.image();
    assert_eq!((png.width(), png.height()), (src.width, src.height));
    px.stop().await;
}

#[tokio::test]
async fn an_image_watermark_marks_every_frame() {
    use base64::Engine;
    let px = corpus_proxy().await;
    let key = "formats/rotating-squares.gif";
    let mark = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode("formats/hopper.png?x-oss-process=image/resize,w_12");
    let decode = |body: &[u8]| {
        image::codecs::gif::GifDecoder::new(Cursor::new(body.to_vec()))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap()
    };
    let src = decode(&get(&px, key, "").await.body);
    let out = get(
        &px,
        key,
        &format!("image/watermark,image_{mark},g_nw,x_0,y_0"),
    )
    .await;
    assert_eq!(out.format(), image::ImageFormat::Gif);
    let marked = decode(&out.body);
    assert_eq!(marked.len(), src.len(), "every frame kept");
    // Hopper's 12×12 thumbnail sits in the top-left corner of every frame.
    for (i, (a, b)) in src.iter().zip(&marked).enumerate() {
        let changed = (0..12)
            .flat_map(|y| (0..12).map(move |x| (x, y)))
            .filter(|&(x, y)| {
                let (p, q) = (a.buffer().get_pixel(x, y), b.buffer().get_pixel(x, y));
                p.0.iter().zip(q.0).any(|(u, v)| u.abs_diff(v) > 24)
            })
            .count();
        assert!(
            changed > 60,
            "frame {i}: only {changed} of 144 pixels marked"
        );
        let far = (a.buffer().get_pixel(25, 25), b.buffer().get_pixel(25, 25));
        assert!(
            far.0
                .0
                .iter()
                .zip(far.1.0)
                .all(|(u, v)| u.abs_diff(v) <= 24),
            "frame {i}: the mark leaked outside its box"
        );
    }
    // A text watermark still renders the first frame only.
    let still = get(&px, key, "image/watermark,text_SGk").await;
    assert_eq!(decode(&still.body).len(), 1);
    px.stop().await;
}
