//! Accept negotiation, decided on the source: the first of the plan's
//! preferred formats that changes nothing the client would notice besides
//! the bytes. The server turned `Accept` and the bucket's list into
//! `plan.output.prefer`; this file never sees HTTP.

use pixgate_api::{Deliver, Format, Plan};
use pixgate_codec::Probe;

use crate::pipeline::{keeps_animation, output_format, step_output};

/// The output format of `plan` on a source probed as `p`. An explicit
/// format, a non-image answer or an empty preference: as without
/// negotiation. Otherwise the first preferred format that
/// - keeps an animation animated when the source's own format would have
///   (negotiation never flattens one), and is not AVIF for an animation
///   (an AV1 sequence costs many times a WebP one to encode; a client gets
///   one only by naming `format,avif`),
/// - fits the dialect's size ceiling for that format (AVIF's 4096×2304
///   would otherwise turn a working request into an error),
/// - and is not asked of a `size-limit` plan (that search re-encodes JPEG
///   only, so a negotiated format would silently drop the limit).
///
/// None fits: the source's format.
pub fn format(plan: &Plan, p: &Probe, auto_orient: bool) -> Format {
    let plain = output_format(plan, p.format);
    if plan.output.format.is_some()
        || plan.output.prefer.is_empty()
        || plan.deliver != Deliver::Image
        || plan.output.size_limit.is_some()
    {
        return plain;
    }
    let animated = keeps_animation(plan, p, plain);
    let size = output_size(plan, p, auto_orient);
    plan.output
        .prefer
        .iter()
        .find(|&f| {
            if f == plain {
                return true;
            }
            if plan.policy.gif_only_from_gif && f == Format::Gif && p.format != Format::Gif {
                return false;
            }
            if animated && (f == Format::Avif || !keeps_animation(plan, p, f)) {
                return false;
            }
            match (plan.policy.ceiling(f), size) {
                (Some((cw, ch)), Some((w, h))) => (w <= cw && h <= ch) || (w <= ch && h <= cw),
                (Some(_), None) => false,
                (None, _) => true,
            }
        })
        .unwrap_or(plain)
}

/// The size the steps produce, from the headers alone (`None` when a step
/// cannot say without the pixels failing first).
fn output_size(plan: &Plan, p: &Probe, auto_orient: bool) -> Option<(u32, u32)> {
    let mut size = if plan.auto_orient.unwrap_or(auto_orient) {
        p.oriented_size()
    } else {
        (p.width, p.height)
    };
    for step in &plan.steps {
        size = step_output(step, size.0, size.1).ok()?;
    }
    Some(size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixgate_api::action::negotiate::Preferred;
    use pixgate_codec::probe;

    fn read(rel: &str) -> Vec<u8> {
        let corpus = crate::test_corpus();
        std::fs::read(corpus.join(rel)).expect("the shared corpus beside the checkout")
    }

    fn chosen(file: &str, process: &str, prefer: &[Format]) -> Format {
        let mut plan = Plan::parse(process).unwrap();
        plan.output.prefer = Preferred::new(prefer.iter().copied());
        format(&plan, &probe(&read(file)).unwrap(), true)
    }

    #[test]
    fn the_first_admitted_format_replaces_the_source() {
        let both = [Format::Avif, Format::Webp];
        assert_eq!(
            chosen("formats/hopper.jpg", "resize,w_50", &both),
            Format::Avif
        );
        assert_eq!(
            chosen("formats/hopper.jpg", "resize,w_50", &[Format::Webp]),
            Format::Webp
        );
        assert_eq!(
            chosen("formats/hopper.jpg", "resize,w_50", &[]),
            Format::Jpg
        );
        // Explicit wins; answers that are not images are untouched.
        assert_eq!(
            chosen("formats/hopper.jpg", "resize,w_50/format,png", &both),
            Format::Png
        );
        assert_eq!(
            chosen("formats/hopper.jpg", "format,src", &both),
            Format::Avif
        );
    }

    #[test]
    fn animations_are_never_flattened_by_negotiation() {
        let both = [Format::Avif, Format::Webp];
        assert_eq!(
            chosen("formats/animated-loop-3.gif", "resize,w_20", &both),
            Format::Webp
        );
        assert_eq!(
            chosen(
                "formats/animated-loop-3.gif",
                "resize,w_20",
                &[Format::Avif]
            ),
            Format::Gif
        );
        // Already flattened by the steps (blur runs on one frame): AVIF is fine.
        assert_eq!(
            chosen("formats/animated-loop-3.gif", "blur,r_2,s_2", &both),
            Format::Avif
        );
    }

    #[test]
    fn a_format_whose_ceiling_the_output_exceeds_is_skipped() {
        let both = [Format::Avif, Format::Webp];
        assert_eq!(
            chosen(
                "formats/hopper.jpg",
                "resize,w_5000,h_3000,m_fixed,limit_0",
                &both
            ),
            Format::Webp
        );
    }
}
