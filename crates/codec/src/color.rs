//! Colour management: pixels that come with an ICC profile are converted to
//! sRGB with Little CMS, so every output (which carries no profile) shows
//! the colours the source meant. CMYK JPEGs with a profile go through it;
//! without one they fall back to a naive conversion (see decode.rs).

use lcms2::{Intent, PixelFormat, Profile};

use crate::frame::Frame;

/// Whether a profile's description says it is (a variant of) sRGB, in which
/// case converting would only cost time.
fn is_srgb(p: &Profile) -> bool {
    p.info(lcms2::InfoType::Description, lcms2::Locale::none())
        .is_some_and(|d| d.to_ascii_lowercase().contains("srgb"))
}

/// Converts an RGB or RGBA frame described by `icc` to sRGB in place.
/// Unreadable or non-RGB profiles leave the pixels as they are: a broken
/// profile must not fail an otherwise good image.
pub fn rgb_to_srgb(frame: &mut Frame, icc: &[u8]) {
    let Ok(profile) = Profile::new_icc(icc) else {
        return;
    };
    if profile.color_space() != lcms2::ColorSpaceSignature::RgbData || is_srgb(&profile) {
        return;
    }
    let format = if frame.has_alpha() {
        PixelFormat::RGBA_8
    } else {
        PixelFormat::RGB_8
    };
    let srgb = Profile::new_srgb();
    if let Ok(t) =
        lcms2::Transform::<u8, u8>::new(&profile, format, &srgb, format, Intent::Perceptual)
    {
        t.transform_in_place(&mut frame.data);
    }
}

/// CMYK samples (4 per pixel, inverted when `adobe`) through `icc` to sRGB.
/// `None` when the profile is unusable, so the caller can fall back.
pub fn cmyk_to_srgb(cmyk: &[u8], icc: &[u8], adobe_inverted: bool) -> Option<Vec<u8>> {
    let profile = Profile::new_icc(icc).ok()?;
    if profile.color_space() != lcms2::ColorSpaceSignature::CmykData {
        return None;
    }
    // lcms's "REV" flavour is exactly Adobe's inverted storage (0 = full ink).
    let input = if adobe_inverted {
        PixelFormat::CMYK_8_REV
    } else {
        PixelFormat::CMYK_8
    };
    let t = lcms2::Transform::<u8, u8>::new(
        &profile,
        input,
        &Profile::new_srgb(),
        PixelFormat::RGB_8,
        Intent::Perceptual,
    )
    .ok()?;
    let mut out = vec![0u8; cmyk.len() / 4 * 3];
    t.transform_pixels(cmyk, &mut out);
    Some(out)
}
