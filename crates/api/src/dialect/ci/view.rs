//! `imageView2/<mode>/w/<W>/h/<H>/…` (reference §1.3, §2.3, §5): the
//! quick-thumbnail template, as one fit plus encode settings.

use super::{Builder, Flavour, format, int, pairs};
use crate::PlanError;
use crate::action::quality::Quality;
use crate::action::resize::Resize;
use crate::fit::{BoxKind, Fit, Sides, Size, Upscale};
use crate::geometry::Gravity;
use crate::plan::Step;

const V: &str = "imageView2";

/// Largest `w` / `h`; larger outputs are refused by the output ceilings.
const MAX_SIDE: i64 = 50_000;

const CENTRE_CROP: BoxKind = BoxKind::Crop {
    gravity: Gravity::Center,
    dx: 0,
    dy: 0,
};

/// The text after `imageView2/` (`2/w/500/h/400/format/webp`).
pub(super) fn parse(rest: &str, b: &mut Builder) -> Result<(), PlanError> {
    let flavour = b.flavour;
    let (mode, tail) = rest.split_once('/').unwrap_or((rest, ""));
    // Tencent has no mode 0 (§1.3).
    let low = if flavour == Flavour::Qiniu { 0 } else { 1 };
    let mode = int(V, "mode", mode, low..=5)?;
    let (mut w, mut h) = (None, None);
    for p in pairs(V, tail, &[])? {
        let v = p.value;
        match p.name {
            "w" => w = Some(int(V, "w", v, 1..=MAX_SIDE)? as u32),
            "h" => h = Some(int(V, "h", v, 1..=MAX_SIDE)? as u32),
            "format" => b.plan.output.format = Some(format(v, flavour)?),
            "q" => {
                let (n, forced) = match v.strip_suffix('!') {
                    Some(n) => (n, true),
                    None => (v, false),
                };
                let q = int(V, "q", n, 1..=100)? as u8;
                b.plan.output.quality = Some(if forced {
                    Quality::Forced(q)
                } else {
                    Quality::Absolute(q)
                });
            }
            "rq" if flavour == Flavour::Tencent => {
                b.plan.output.quality = Some(Quality::Relative(int(V, "rq", v, 1..=100)? as u8));
            }
            "lq" if flavour == Flavour::Tencent => {
                b.plan.output.quality = Some(Quality::AtLeast(int(V, "lq", v, 1..=100)? as u8));
            }
            "interlace" => b.plan.output.interlace = Some(int(V, "interlace", v, 0..=1)? == 1),
            "ignore-error" => b.plan.ignore_error = int(V, "ignore-error", v, 0..=1)? == 1,
            other => {
                return Err(PlanError::invalid(format!(
                    "The imageView2 parameter '{other}' is not supported."
                )));
            }
        }
    }
    if w.is_none() && h.is_none() {
        return Err(PlanError::missing("imageView2 needs w, h or both."));
    }
    // The min-modes read a missing side as the given one; the max-modes
    // (0, 2) leave it open.
    let (mw, mh) = (w.or(h), h.or(w));
    let (sides, kind) = match mode {
        0 => (Sides::LongShort { long: w, short: h }, BoxKind::Inner),
        1 => (Sides::Wh { w: mw, h: mh }, CENTRE_CROP),
        2 => (Sides::Wh { w, h }, BoxKind::Inner),
        3 => (Sides::Wh { w: mw, h: mh }, BoxKind::Outer),
        4 => (
            Sides::LongShort {
                long: mw,
                short: mh,
            },
            BoxKind::Outer,
        ),
        _ => (
            Sides::LongShort {
                long: mw,
                short: mh,
            },
            CENTRE_CROP,
        ),
    };
    // Qiniu never enlarges and turns the image upright first (§2.3, §7);
    // Tencent documents neither, and its thumbnails enlarge.
    let upscale = match flavour {
        Flavour::Qiniu => {
            b.auto_orient = true;
            Upscale::Never
        }
        Flavour::Tencent => Upscale::Always,
    };
    b.plan.steps.push(Step::Resize(Resize::from_fit(Fit {
        size: Size::Box { sides, kind },
        upscale,
        strict_box: false,
    })));
    Ok(())
}
