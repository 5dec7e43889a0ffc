//! Colour management: pixels that come with an ICC profile are converted to
//! sRGB with Little CMS, so an output without a profile shows the colours
//! the source meant — unless the caller keeps a wide gamut, whose profile
//! the encoder then embeds (or converts for formats that carry none). CMYK JPEGs with a profile go through it;
//! without one they fall back to a naive conversion (see decode.rs).

use lcms2::{Intent, PixelFormat, Profile};

use crate::frame::Frame;

/// Whether a profile's description says it is (a variant of) sRGB, in which
/// case converting would only cost time.
fn is_srgb(p: &Profile) -> bool {
    p.info(lcms2::InfoType::Description, lcms2::Locale::none())
        .is_some_and(|d| d.to_ascii_lowercase().contains("srgb"))
}

/// An RGB profile other than sRGB: one whose samples differ from sRGB's.
fn wide_gamut(icc: &[u8]) -> Option<Profile> {
    let profile = Profile::new_icc(icc).ok()?;
    (profile.color_space() == lcms2::ColorSpaceSignature::RgbData && !is_srgb(&profile))
        .then_some(profile)
}

/// Converts a frame whose samples are in its `icc` profile to sRGB and
/// drops the profile. Unreadable or non-RGB profiles leave the pixels as
/// they are: a broken profile must not fail an otherwise good image.
pub fn to_srgb(frame: &mut Frame) {
    if let Some(icc) = frame.icc.take()
        && let Some(profile) = wide_gamut(&icc)
    {
        convert(frame, &profile);
    }
}

/// Keeps `frame.icc` only when it describes a wide gamut the samples are
/// in; an sRGB, non-RGB or unreadable profile is dropped (the samples are
/// then taken as sRGB, as [`to_srgb`] would).
pub fn keep_wide_gamut(frame: &mut Frame) {
    if frame.icc.as_deref().and_then(wide_gamut).is_none() {
        frame.icc = None;
    }
}

fn convert(frame: &mut Frame, profile: &Profile) {
    let format = if frame.has_alpha() {
        PixelFormat::RGBA_8
    } else {
        PixelFormat::RGB_8
    };
    let srgb = Profile::new_srgb();
    if let Ok(t) =
        lcms2::Transform::<u8, u8>::new(profile, format, &srgb, format, Intent::Perceptual)
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
