//! Animated AVIF and APNG, in and out. Test files are made at test time by
//! encoders independent of pixgate's: libavif's `avifenc` (Debian's
//! libavif-bin) and Pillow's APNG writer; `avifdec --info` and Pillow read
//! back what pixgate writes.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use crate::animation::decode_frames;
use crate::formats_more::proxy;
use crate::process::get;
use crate::support::{client, corpus};

const COLOURS: [[u8; 3]; 3] = [[220, 30, 30], [30, 200, 40], [40, 50, 230]];

/// Three solid frames (red, green, blue) of `w`×`h`, as PNG files.
fn frame_files(dir: &Path, w: u32, h: u32) -> Vec<String> {
    COLOURS
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let path = dir.join(format!("frame{i}.png"));
            image::RgbImage::from_pixel(w, h, image::Rgb(*c))
                .save(&path)
                .unwrap();
            path.display().to_string()
        })
        .collect()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("the tool runs (scripts/install-deps)");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A 3-frame AVIF sequence, 120 ms per frame, written by libavif.
fn avif_sequence(dir: &Path, w: u32, h: u32) {
    let frames = frame_files(dir, w, h);
    run(Command::new("avifenc")
        .args(["-s", "10", "--min", "0", "--max", "8"])
        .args(["--timescale", "1000", "--duration", "120"])
        .args(&frames)
        .arg(dir.join("seq.avif")));
}

/// What libavif reads back from an AVIF: (frames, width, height, each
/// frame's duration in ms).
fn avif_info(body: &[u8]) -> (usize, u32, u32, Vec<u32>) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("out.avif");
    std::fs::write(&path, body).unwrap();
    let text = run(Command::new("avifdec").arg("--info").arg(&path));
    let res = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("* Resolution     : "))
        .unwrap_or_else(|| panic!("no resolution in {text}"));
    let (w, h) = res.trim().split_once('x').unwrap();
    let mut durations = Vec::new();
    for l in text.lines().filter(|l| l.contains("Decoded frame")) {
        // "[duration 0.12 (120 timescales)]" with our 1000 Hz, or seconds.
        let d = l.split("[duration ").nth(1).unwrap();
        let secs: f64 = d.split_whitespace().next().unwrap().parse().unwrap();
        durations.push((secs * 1000.0).round() as u32);
    }
    let frames = if durations.is_empty() {
        1
    } else {
        durations.len()
    };
    (frames, w.parse().unwrap(), h.parse().unwrap(), durations)
}

/// Pillow's reading of an animated PNG: (frames, size, durations in ms,
/// each frame's centre pixel).
fn pillow_png(body: &[u8]) -> (usize, (u32, u32), Vec<u32>, Vec<[u8; 3]>) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("out.png");
    std::fs::write(&path, body).unwrap();
    let script = r#"
import json, sys
from PIL import Image
im = Image.open(sys.argv[1])
frames, durations, centres = getattr(im, "n_frames", 1), [], []
for i in range(frames):
    im.seek(i)
    durations.append(int(im.info.get("duration", 0)))
    rgb = im.convert("RGB")
    centres.append(list(rgb.getpixel((rgb.width // 2, rgb.height // 2))))
print(json.dumps([frames, list(im.size), durations, centres]))
"#;
    let out = run(Command::new("python3").arg("-c").arg(script).arg(&path));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let size = (
        v[1][0].as_u64().unwrap() as u32,
        v[1][1].as_u64().unwrap() as u32,
    );
    let durations = v[2]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as u32)
        .collect();
    let centres = v[3]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let c = c.as_array().unwrap();
            [0, 1, 2].map(|i| c[i].as_u64().unwrap() as u8)
        })
        .collect();
    (v[0].as_u64().unwrap() as usize, size, durations, centres)
}

/// The frames of a GIF or WebP body as (width, height, delay ms, centre RGB).
fn frames_of(body: &[u8]) -> Vec<(u32, u32, u32, [u8; 3])> {
    let frames = decode_frames(body);
    frames
        .iter()
        .map(|f| {
            let (w, h) = f.buffer().dimensions();
            let (n, d) = f.delay().numer_denom_ms();
            let p = f.buffer().get_pixel(w / 2, h / 2).0;
            (w, h, n / d.max(1), [p[0], p[1], p[2]])
        })
        .collect()
}

fn close(a: [u8; 3], b: [u8; 3], tol: i32) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| (i32::from(*x) - i32::from(y)).abs() <= tol)
}

#[tokio::test]
async fn an_animated_avif_keeps_its_frames_timing_and_colours_through_resize() {
    let dir = TempDir::new().unwrap();
    avif_sequence(dir.path(), 120, 90);
    let px = proxy(dir.path()).await;

    // Resized, it stays an AVIF sequence with every frame and its timing.
    let out = get(&px, "seq.avif", "image/resize,w_60").await;
    assert_eq!(out.status, 200, "{}", String::from_utf8_lossy(&out.body));
    assert_eq!(out.content_type, "image/avif");
    assert_eq!(avif_info(&out.body), (3, 60, 45, vec![120, 120, 120]));

    // Every frame is decoded, not the first one three times: as a WebP
    // (OSS writes GIF only from GIF sources), the frames keep their own
    // colours and delays.
    let out = get(&px, "seq.avif", "image/resize,w_60/format,webp").await;
    assert_eq!(out.content_type, "image/webp");
    let frames = frames_of(&out.body);
    assert_eq!(frames.len(), 3);
    for (f, want) in frames.iter().zip(COLOURS) {
        assert_eq!((f.0, f.1, f.2), (60, 45, 120));
        assert!(close(f.3, want, 16), "{:?} vs {want:?}", f.3);
    }

    // A still output is the first frame.
    let out = get(&px, "seq.avif", "image/resize,w_60/format,jpg").await;
    let img = out.image().to_rgb8();
    assert_eq!(img.dimensions(), (60, 45));
    assert!(close(img.get_pixel(30, 22).0, COLOURS[0], 12));

    // info counts the frames.
    let res = client()
        .get(px.url("/seq.avif?x-oss-process=image/info"))
        .send()
        .await
        .unwrap();
    let info: serde_json::Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(info["FrameCount"]["value"], "3", "{info}");
    px.stop().await;
}

#[tokio::test]
async fn an_apng_stays_an_apng_through_resize_and_converts_to_animated_webp() {
    let dir = TempDir::new().unwrap();
    let frames = frame_files(dir.path(), 100, 80);
    // Pillow's APNG writer, with a different duration per frame.
    run(Command::new("python3")
        .arg("-c")
        .arg(
            "import sys\nfrom PIL import Image\nims=[Image.open(p) for p in sys.argv[2:]]\n\
             ims[0].save(sys.argv[1], save_all=True, append_images=ims[1:], duration=[100,200,300], loop=0)",
        )
        .arg(dir.path().join("anim.png"))
        .args(&frames));
    let px = proxy(dir.path()).await;

    let out = get(&px, "anim.png", "image/resize,w_50").await;
    assert_eq!(out.content_type, "image/png");
    let (n, size, durations, centres) = pillow_png(&out.body);
    assert_eq!((n, size, durations), (3, (50, 40), vec![100, 200, 300]));
    for (c, want) in centres.into_iter().zip(COLOURS) {
        assert!(close(c, want, 2), "{c:?} vs {want:?}");
    }

    let out = get(&px, "anim.png", "image/resize,w_50/format,webp").await;
    assert_eq!(out.content_type, "image/webp");
    let frames = frames_of(&out.body);
    assert_eq!(
        frames.iter().map(|f| f.2).collect::<Vec<_>>(),
        vec![100, 200, 300]
    );
    for (f, want) in frames.iter().zip(COLOURS) {
        assert!(close(f.3, want, 16), "{:?} vs {want:?}", f.3);
    }
    px.stop().await;
}

#[tokio::test]
async fn an_animated_gif_becomes_an_animated_avif_but_its_png_is_the_first_frame() {
    let dir = TempDir::new().unwrap();
    let gif = std::fs::read(corpus().join("formats/animated-loop-3.gif")).unwrap();
    std::fs::write(dir.path().join("a.gif"), &gif).unwrap();
    let source = frames_of(&gif);
    assert!(source.len() > 1);
    let px = proxy(dir.path()).await;

    let out = get(&px, "a.gif", "image/format,avif").await;
    assert_eq!(out.content_type, "image/avif");
    let (n, w, h, durations) = avif_info(&out.body);
    assert_eq!((n, w, h), (source.len(), source[0].0, source[0].1));
    assert_eq!(durations, source.iter().map(|f| f.2).collect::<Vec<_>>());

    // As the clouds do, a GIF asked for as PNG is its first frame, a still
    // PNG (no acTL chunk), not an APNG.
    let out = get(&px, "a.gif", "image/format,png").await;
    assert_eq!(out.content_type, "image/png");
    assert_eq!(pillow_png(&out.body).0, 1);
    assert!(!out.body.windows(4).any(|w| w == b"acTL"));
    px.stop().await;
}
