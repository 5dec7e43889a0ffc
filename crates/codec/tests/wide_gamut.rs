//! A wide-gamut source decoded with `decode_with_gamut(.., Gamut::KeepWide)` keeps its
//! samples and profile, and every encoder with a place for a profile
//! embeds it; the others (and plain `decode`) give sRGB.

// Test code: a panic with the failed call is the clearest report.
#![allow(clippy::unwrap_used)]
use pixgate_codec::{
    EncodeOptions, Format, Frame, Gamut, Limits, decode, decode_with_gamut, encode, probe,
};

fn corpus(name: &str) -> Vec<u8> {
    let dir = std::env::var("PIXGATE_CORPUS").unwrap_or_else(|_| {
        std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        )
        .join("../../../shared/corpus")
        .display()
        .to_string()
    });
    std::fs::read(std::path::Path::new(&dir).join(name))
        .unwrap_or_else(|e| panic!("corpus {name}: {e} (set PIXGATE_CORPUS)"))
}

fn keep(bytes: &[u8]) -> Frame {
    decode_with_gamut(
        bytes,
        &probe(bytes).unwrap(),
        1,
        &Limits::default(),
        Gamut::KeepWide,
    )
    .unwrap()
}

fn srgb(bytes: &[u8]) -> Frame {
    decode(bytes, &probe(bytes).unwrap(), 1, &Limits::default()).unwrap()
}

/// Mean absolute difference over the RGB samples.
fn diff(a: &Frame, b: &Frame) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let (a, b) = (a.clone().flatten([0; 3]), b.clone().flatten([0; 3]));
    let sum: u64 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.data.len() as f64
}

/// The P3 corpus file's profile on a 64×48 picture of saturated and pale
/// colours (the corpus file itself is 8×8 of one red).
fn p3_picture() -> (Frame, Vec<u8>) {
    let icc = keep(&corpus("formats/p3.png"))
        .icc
        .expect("p3.png is wide gamut");
    let mut data = Vec::new();
    for y in 0..48u32 {
        for x in 0..64u32 {
            let band =
                [[250, 20, 30], [20, 230, 40], [30, 40, 240], [240, 230, 210]][(x / 16) as usize];
            data.extend(band.map(|c: u32| (c * (40 + y) / 88 + 60).min(255) as u8));
        }
    }
    let mut frame = Frame::new(64, 48, 3, data);
    frame.icc = Some(icc.clone());
    (frame, icc)
}

#[test]
fn the_corpus_p3_png_keeps_its_samples_or_becomes_srgb() {
    let bytes = corpus("formats/p3.png");
    let raw = image::load_from_memory(&bytes)
        .unwrap()
        .to_rgb8()
        .into_raw();
    let kept = keep(&bytes);
    assert!(kept.icc.is_some());
    assert_eq!(kept.clone().flatten([0; 3]).data, raw, "samples as stored");
    let converted = srgb(&bytes);
    assert_eq!(converted.icc, None);
    assert!(diff(&kept, &converted) > 1.0, "P3 red is not sRGB red");
}

#[test]
fn formats_with_a_profile_slot_embed_it_and_the_rest_convert() {
    let (frame, icc) = p3_picture();
    let mut as_srgb = frame.clone();
    pixgate_codec::to_srgb(&mut as_srgb);
    let opts = EncodeOptions {
        quality: 90,
        ..EncodeOptions::default()
    };
    for (format, lossless) in [
        (Format::Png, true),
        (Format::Tiff, true),
        (Format::Jpg, false),
        (Format::Webp, false),
        (Format::Avif, false),
        (Format::Heic, false),
    ] {
        let out = encode(frame.clone(), format, &opts).unwrap();
        assert_eq!(probe(&out).unwrap().format, format);
        let back = keep(&out);
        assert_eq!(
            back.icc.as_deref(),
            Some(&icc[..]),
            "{format:?} carries the profile"
        );
        let d = diff(&back, &frame);
        if lossless {
            assert_eq!(d, 0.0, "{format:?}");
        } else {
            assert!(d < 4.0, "{format:?} samples kept: mean difference {d}");
        }
        // A viewer that converts sees what the sRGB conversion shows.
        let shown = srgb(&out);
        assert!(diff(&shown, &as_srgb) < 4.0, "{format:?} shown");
    }
    for format in [Format::Gif, Format::Bmp, Format::Jxl] {
        let out = encode(frame.clone(), format, &opts).unwrap();
        let back = keep(&out);
        assert_eq!(back.icc, None, "{format:?} has no profile slot");
        assert!(diff(&back, &as_srgb) < 8.0, "{format:?} converted to sRGB");
        assert!(diff(&back, &frame) > 2.0, "{format:?} samples changed");
    }
}

#[test]
fn a_webp_with_alpha_and_a_profile_keeps_both() {
    let (frame, icc) = p3_picture();
    let mut rgba = frame.into_rgba();
    for (i, px) in rgba.data.chunks_exact_mut(4).enumerate() {
        px[3] = (i % 64 * 4) as u8;
    }
    let out = encode(rgba.clone(), Format::Webp, &EncodeOptions::default()).unwrap();
    let back = keep(&out);
    assert_eq!(back.icc.as_deref(), Some(&icc[..]));
    assert_eq!(back.channels, 4);
    let alpha_off = back
        .data
        .chunks_exact(4)
        .zip(rgba.data.chunks_exact(4))
        .map(|(a, b)| u32::from(a[3].abs_diff(b[3])))
        .max()
        .unwrap();
    assert!(alpha_off <= 8, "alpha kept (worst {alpha_off})");
    // Other readers agree: the file is well formed.
    let other = image::load_from_memory(&out).unwrap();
    assert_eq!((other.width(), other.height()), (64, 48));
}
