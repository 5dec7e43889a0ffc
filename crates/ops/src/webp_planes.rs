//! A lossy WebP that is only resized and stays WebP never leaves its YUV
//! 4:2:0 planes: libwebp decodes to them and encodes from them, so neither
//! side converts colour, and the planes hold half the samples RGB would.
//! On the 1024×772 photo fitted into 512 px (b-webp) that is ~1.8 ms of
//! ~23: decode 0.9, resize 0.5, encode 0.35 (see docs/decisions.md).
//! Anything else — transparency, a profile, orientation, other steps —
//! takes the RGB pipeline.

use pixgate_api::fit::Layout;
use pixgate_api::{Deliver, Format, Plan, Step};
use pixgate_codec::{Budget, Probe, Yuv420, decode_webp_planes, encode_webp_planes};

use crate::action::resize;
use crate::error::OpsError;
use crate::pipeline::{
    Product, Settings, check_format_size, checked_step_output, output_quality, rgba_bytes,
};

/// The size of the result when the plan can run on planes: a still WebP
/// decoded whole and upright, exactly one resize that scales down (no crop
/// or pad), and a WebP image out with no size limit. The WebP's own kind
/// (lossy, opaque, untagged) is known only once the decoder looks.
pub(crate) fn applies(
    plan: &Plan,
    p: &Probe,
    format: Format,
    orientation: u8,
    shrink: u32,
) -> Option<(u32, u32)> {
    if p.format != Format::Webp
        || format != Format::Webp
        || p.frames != 1
        || shrink != 1
        || orientation != 1
        || !matches!(plan.deliver, Deliver::Image)
        || plan.output.size_limit.is_some()
    {
        return None;
    }
    match plan.steps.as_slice() {
        // Enlarged, chroma drawn from its own half-size plane scores ~4
        // SSIMULACRA2 points lower than through RGB (hopper.webp at 4×).
        [Step::Resize(r)] => match r.fit.layout(p.width, p.height) {
            Layout::Scale { w, h } if w <= p.width && h <= p.height => Some((w, h)),
            _ => None,
        },
        _ => None,
    }
}

fn plane_bytes(w: u32, h: u32) -> u64 {
    let (cw, ch) = Yuv420::chroma_size(w, h);
    u64::from(w) * u64::from(h) + 2 * u64::from(cw) * u64::from(ch)
}

/// Runs the plan on planes; `None` when the WebP is not lossy, opaque and
/// untagged (nothing has been decoded then). `budget` holds the source
/// and an RGBA-sized reservation for the decoded picture, as the RGB
/// pipeline's does at this point.
pub(crate) fn render(
    bytes: &[u8],
    plan: &Plan,
    p: &Probe,
    (w, h): (u32, u32),
    settings: &Settings,
    budget: &mut Budget,
) -> Result<Option<Product>, OpsError> {
    let limits = &settings.limits;
    let Some(planes) = decode_webp_planes(bytes, p, limits)? else {
        return Ok(None);
    };
    let held = plane_bytes(p.width, p.height);
    budget.release(rgba_bytes(p.width, p.height).saturating_sub(held));
    settings.stop.check()?;
    let step = &plan.steps[0];
    let size = checked_step_output(step, p.width, p.height, limits)?;
    debug_assert_eq!(size, (w, h));
    // The scaled planes, and the rows between the two passes.
    let scratch = resize::scale_planes_scratch((p.width, p.height), (w, h));
    budget.reserve(plane_bytes(w, h) + scratch, step.name())?;
    let mut scaled = resize::scale_planes(&planes, w, h)?;
    drop(planes);
    budget.release(held + scratch);
    settings.stop.check()?;
    check_format_size(plan, Format::Webp, w, h)?;
    budget.reserve(plane_bytes(w, h), "encoding")?;
    let quality = output_quality(plan, p, Format::Webp);
    let bytes = encode_webp_planes(&mut scaled, quality)?;
    Ok(Some(Product::Image {
        bytes,
        format: Format::Webp,
    }))
}

#[cfg(test)]
mod tests {
    use pixgate_codec::{EncodeOptions, Frame, Limits, decode, encode, probe};

    use super::*;
    use crate::process;
    use crate::stop::Stop;

    fn read(rel: &str) -> Vec<u8> {
        let dir = crate::test_corpus();
        std::fs::read(dir.join(rel)).expect("the shared corpus beside the checkout")
    }

    fn applies_to(bytes: &[u8], plan: &str, orientation: u8, shrink: u32) -> Option<(u32, u32)> {
        let plan = Plan::parse(plan).expect("a valid plan");
        let p = probe(bytes).expect("probe");
        let format = crate::pipeline::output_format(&plan, p.format);
        applies(&plan, &p, format, orientation, shrink)
    }

    #[test]
    fn only_a_downscale_alone_from_webp_to_webp_runs_on_planes() {
        let webp = read("formats/4.webp");
        let fit = "resize,m_lfit,w_512,h_512";
        assert_eq!(applies_to(&webp, fit, 1, 1), Some((512, 386)));
        assert_eq!(
            applies_to(&webp, &format!("{fit}/format,webp"), 1, 1),
            Some((512, 386))
        );
        for other in [
            format!("{fit}/format,jpg"),
            format!("{fit}/rotate,90"),
            format!("{fit}/quality,q_80/sharpen,100"),
            "resize,m_fill,w_300,h_300".into(),
            "resize,m_pad,w_600,h_600".into(),
            "resize,w_2048".into(),
            "rotate,90".into(),
            "format,webp".into(),
            "info".into(),
        ] {
            assert_eq!(applies_to(&webp, &other, 1, 1), None, "{other}");
        }
        // Turned by EXIF, or shrunk on load (over 4 MP): the RGB pipeline.
        assert_eq!(applies_to(&webp, fit, 6, 1), None);
        assert_eq!(applies_to(&webp, fit, 1, 2), None);
        assert_eq!(
            applies_to(
                &read("photos/320x240.jpg"),
                "resize,w_100/format,webp",
                1,
                1
            ),
            None
        );
    }

    /// Mean absolute difference between a WebP's RGB samples and `reference`.
    fn error(webp: &[u8], reference: &Frame) -> f64 {
        let p = probe(webp).unwrap();
        assert_eq!((p.width, p.height), (reference.width, reference.height));
        let f = decode(webp, &p, 1, &Limits::default()).unwrap();
        let sum: f64 = f
            .data
            .iter()
            .zip(&reference.data)
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum();
        sum / f.data.len() as f64
    }

    #[test]
    fn a_fitted_lossy_webp_matches_the_rgb_route() {
        let bytes = read("formats/4.webp");
        let settings = Settings::new(Limits::default(), true, Stop::never());
        let plan = Plan::parse("resize,m_lfit,w_512,h_512/quality,Q_80").unwrap();
        let Product::Image { bytes: out, format } = process(&bytes, &plan, &settings).unwrap()
        else {
            panic!("an image");
        };
        assert_eq!(format, Format::Webp);
        let q = probe(&out).unwrap();
        assert_eq!((q.format, q.width, q.height), (Format::Webp, 512, 386));
        // The same picture through RGB: decode, Lanczos3, encode.
        let p = probe(&bytes).unwrap();
        let frame = decode(&bytes, &p, 1, &settings.limits).unwrap();
        let small = resize::scale(&frame, 512, 386).unwrap();
        let opts = EncodeOptions {
            quality: 80,
            progressive: false,
            background: [255; 3],
        };
        let small_ref = small.clone();
        let via_rgb = encode(small, Format::Webp, &opts).unwrap();
        // Against the resized picture before encoding, the planes lose no
        // more than the RGB route does.
        let (planes, rgb) = (error(&out, &small_ref), error(&via_rgb, &small_ref));
        assert!(
            planes < rgb * 1.1,
            "mean error {planes:.2} against {rgb:.2}"
        );
        // Sizes alike (measured +0.8 % on average, see docs/decisions.md).
        let ratio = out.len() as f64 / via_rgb.len() as f64;
        assert!(
            (0.95..1.05).contains(&ratio),
            "{} against {} bytes",
            out.len(),
            via_rgb.len()
        );
    }

    #[test]
    fn transparent_webps_are_left_to_the_rgb_pipeline() {
        let bytes = read("formats/5_webp_a.webp");
        let settings = Settings::new(Limits::default(), true, Stop::never());
        let plan = Plan::parse("resize,w_100").unwrap();
        let p = probe(&bytes).unwrap();
        let size = applies(&plan, &p, Format::Webp, 1, 1).expect("the plan qualifies");
        let mut budget = Budget::new(settings.limits.max_request_bytes);
        assert!(
            render(&bytes, &plan, &p, size, &settings, &mut budget)
                .unwrap()
                .is_none()
        );
        // …which keeps the alpha.
        let Product::Image { bytes: out, .. } = process(&bytes, &plan, &settings).unwrap() else {
            panic!("an image");
        };
        let q = probe(&out).unwrap();
        let f = decode(&out, &q, 1, &settings.limits).unwrap();
        assert_eq!((f.width, f.height, f.channels), (100, 100, 4));
    }
}
