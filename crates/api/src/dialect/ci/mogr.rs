//! `imageMogr2/<name>/<value>/…` (reference §1.2, §2.2): each parameter
//! becomes a neutral step, in the order written; `gravity` (for `crop`)
//! and `pad`/`color` (for `thumbnail`) apply wherever they stand in the
//! segment, and encode settings apply to the whole output.

use super::{Builder, Flavour, base64_color, format, gravity as parse_gravity, int, pairs};
use crate::PlanError;
use crate::action::blur::Blur;
use crate::action::circle::Circle;
use crate::action::crop::Crop;
use crate::action::flip::Flip;
use crate::action::quality::Quality;
use crate::action::resize::Resize;
use crate::action::rotate::Rotate;
use crate::action::rounded_corners::RoundedCorners;
use crate::action::smart_crop::SmartCrop;
use crate::fit::{BoxKind, Fit, Sides, Size, Upscale};
use crate::geometry::Gravity;
use crate::plan::{SizeLimit, Step};

const M: &str = "imageMogr2";

/// Largest side a thumbnail, crop or cut may name; larger outputs are
/// refused later by the output ceilings.
const MAX_SIDE: i64 = 50_000;

/// Qiniu: a box side above this makes the thumbnail shrink-only (§2.2).
const QINIU_ENLARGE_SIDE: u32 = 10_000;
/// Qiniu: an area above this makes `Area@` shrink-only (§2.2).
const QINIU_ENLARGE_AREA: u64 = 25_000_000;

/// Parameters only Tencent has (reference §2.7); Qiniu answers them as
/// unknown.
const TENCENT_ONLY: &[&str] = &[
    "pad",
    "color",
    "cut",
    "iradius",
    "rradius",
    "scrop",
    "flip",
    "cgif",
    "rquality",
    "lquality",
    "sharpen",
    "bright",
    "contrast",
    "grayscale",
];

/// The text after `imageMogr2` (`/thumbnail/300x/…`).
pub(super) fn parse(rest: &str, b: &mut Builder) -> Result<(), PlanError> {
    let flavour = b.flavour;
    let pairs = pairs(M, rest, &["strip", "auto-orient"])?;
    if pairs.is_empty() {
        return Err(PlanError::missing("imageMogr2 names no parameter."));
    }
    if flavour == Flavour::Qiniu
        && let Some(p) = pairs.iter().find(|p| TENCENT_ONLY.contains(&p.name))
    {
        return Err(unknown(p.name));
    }
    let last = |name: &str| pairs.iter().rev().find(|p| p.name == name).map(|p| p.value);
    let gravity = last("gravity")
        .map(parse_gravity)
        .transpose()?
        // Neither cloud states Tencent's default; Qiniu's (and
        // ImageMagick's, which both run) is NorthWest.
        .unwrap_or(Gravity::Nw);
    let pad = match last("pad") {
        Some(v) => int(M, "pad", v, 0..=1)? == 1,
        None => false,
    };
    let color = last("color")
        .map(|v| base64_color("color", v))
        .transpose()?
        .unwrap_or([255, 255, 255]);
    if pad && last("thumbnail").is_none() {
        return Err(PlanError::missing(
            "'pad/1' of imageMogr2 pads a thumbnail: add thumbnail/<W>x<H>.",
        ));
    }
    let steps = &mut b.plan.steps;
    let output = &mut b.plan.output;
    for p in &pairs {
        let v = p.value;
        match p.name {
            "thumbnail" => {
                let mut fit = thumbnail(v, flavour)?;
                if pad {
                    fit = padded(fit, color)?;
                }
                steps.push(Step::Resize(Resize::from_fit(fit)));
            }
            // Read above: they qualify crop and thumbnail.
            "gravity" | "pad" | "color" => {}
            "crop" => steps.push(Step::Crop(crop(v, gravity, flavour)?)),
            "cut" => steps.push(Step::Crop(cut(v)?)),
            "iradius" => steps.push(Step::Circle(Circle {
                r: int(M, "iradius", v, 1..=4096)? as u32,
            })),
            "rradius" => steps.push(Step::RoundedCorners(RoundedCorners {
                r: int(M, "rradius", v, 1..=4096)? as u32,
            })),
            // Smart crop: the covering scale, then the most interesting
            // w×h window of it (attention, not face detection).
            "scrop" => {
                let (w, h) = both_sides("scrop", v)?;
                steps.push(Step::Resize(Resize::from_fit(Fit {
                    size: Size::Box {
                        sides: Sides::Wh {
                            w: Some(w),
                            h: Some(h),
                        },
                        kind: BoxKind::Outer,
                    },
                    upscale: Upscale::Always,
                    strict_box: false,
                })));
                steps.push(Step::SmartCrop(SmartCrop { w, h }));
            }
            "rotate" => {
                let low = if flavour == Flavour::Qiniu { 1 } else { 0 };
                let d = int(M, "rotate", v, low..=360)?;
                steps.push(Step::Rotate(Rotate {
                    degrees: (d % 360) as u32,
                }));
            }
            "auto-orient" => b.auto_orient = true,
            "strip" => {
                // Outputs never carry EXIF (the encoders write pixels only).
            }
            "flip" => steps.push(Step::Flip(match v {
                "vertical" => Flip::Vertical,
                "horizontal" => Flip::Horizontal,
                _ => {
                    return Err(PlanError::invalid(format!(
                        "The value '{v}' of 'flip' in imageMogr2 is not vertical or horizontal."
                    )));
                }
            })),
            "format" => output.format = Some(format(v, flavour)?),
            // `cgif/1` keeps the default 30 frames; 2–100 keep that many.
            "cgif" => {
                let n = int(M, "cgif", v, 1..=100)? as u32;
                output.max_frames = Some(if n == 1 { 30 } else { n });
            }
            "interlace" => output.interlace = Some(int(M, "interlace", v, 0..=1)? == 1),
            "quality" => output.quality = Some(quality(v, flavour)?),
            "rquality" => {
                output.quality = Some(Quality::Relative(
                    int(M, "rquality", v, 0..=100)?.max(1) as u8
                ));
            }
            "lquality" => {
                output.quality = Some(Quality::AtLeast(
                    int(M, "lquality", v, 0..=100)?.max(1) as u8
                ));
            }
            "blur" => steps.push(Step::Blur(blur(v)?)),
            "sharpen" => {
                let n = int(M, "sharpen", v, 10..=300)?;
                steps.push(Step::Sharpen(sharpen_amount(n)));
            }
            "bright" => steps.push(Step::Bright(int(M, "bright", v, -100..=100)? as i32)),
            "contrast" => steps.push(Step::Contrast(int(M, "contrast", v, -100..=100)? as i32)),
            "grayscale" => {
                if int(M, "grayscale", v, 0..=1)? == 1 {
                    steps.push(Step::Grayscale);
                }
            }
            "size-limit" => output.size_limit = Some(size_limit(v)?),
            "ignore-error" => b.plan.ignore_error = int(M, "ignore-error", v, 0..=1)? == 1,
            "background" if flavour == Flavour::Qiniu => {
                return Err(PlanError::not_implemented(
                    "The Qiniu imageMogr2 parameter 'background' is not supported by this proxy.",
                ));
            }
            other => return Err(unknown(other)),
        }
    }
    Ok(())
}

fn unknown(name: &str) -> PlanError {
    PlanError::invalid(format!(
        "The imageMogr2 parameter '{name}' is not supported."
    ))
}

/// Tencent's sharpen 10–300 onto the neutral 50–399, linearly (10 → 50,
/// 70, the recommended value → 122, 300 → 399): the same direction and
/// span, not the same pixels.
pub(super) fn sharpen_amount(n: i64) -> u32 {
    (50 + ((n - 10) * 349 + 145) / 290) as u32
}

fn bad_thumbnail(v: &str) -> PlanError {
    PlanError::invalid(format!(
        "The thumbnail '{v}' is not one of !<N>p, !<N>px, !x<N>p, <W>x, x<H>, <W>x<H>, <W>x<H>>, <W>x<H><, !<W>x<H>r, <W>x<H>!, <Area>@."
    ))
}

/// Every `thumbnail/…` form as a fit (the mappings of `fit/tests.rs`).
pub(super) fn thumbnail(v: &str, flavour: Flavour) -> Result<Fit, PlanError> {
    let fit = |size, upscale| Fit {
        size,
        upscale,
        strict_box: false,
    };
    if let Some(area) = v.strip_suffix('@') {
        let a: u64 = area
            .parse()
            .ok()
            .filter(|a| (1..=2_500_000_000).contains(a))
            .ok_or_else(|| bad_thumbnail(v))?;
        let up = if flavour == Flavour::Qiniu && a > QINIU_ENLARGE_AREA {
            Upscale::Never
        } else {
            Upscale::Always
        };
        return Ok(fit(Size::Area(a), up));
    }
    if let Some(esc) = v.strip_prefix('!') {
        let pct = |s: &str| -> Result<u32, PlanError> {
            s.parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    PlanError::invalid(format!(
                        "The percent in thumbnail '{v}' is not an integer 1–1000."
                    ))
                })
        };
        if let Some(n) = esc.strip_prefix('x').and_then(|s| s.strip_suffix('p')) {
            return Ok(fit(Size::Percent { x: 100, y: pct(n)? }, Upscale::Always));
        }
        if let Some(n) = esc.strip_suffix("px") {
            return Ok(fit(Size::Percent { x: pct(n)?, y: 100 }, Upscale::Always));
        }
        if let Some(b) = esc.strip_suffix('r') {
            let (w, h) = sides(b).ok_or_else(|| bad_thumbnail(v))?;
            return Ok(boxed(w, h, BoxKind::Outer, Upscale::Always, flavour));
        }
        if let Some(n) = esc.strip_suffix('p') {
            let n = pct(n)?;
            return Ok(fit(Size::Percent { x: n, y: n }, Upscale::Always));
        }
        return Err(bad_thumbnail(v));
    }
    let (body, kind, up) = if let Some(b) = v.strip_suffix('>') {
        (b, BoxKind::Inner, Upscale::Never)
    } else if let Some(b) = v.strip_suffix('<') {
        (b, BoxKind::Inner, Upscale::Only)
    } else if let Some(b) = v.strip_suffix('!') {
        (b, BoxKind::Exact, Upscale::Always)
    } else {
        (v, BoxKind::Inner, Upscale::Always)
    };
    let (w, h) = sides(body).ok_or_else(|| bad_thumbnail(v))?;
    Ok(boxed(w, h, kind, up, flavour))
}

fn boxed(w: Option<u32>, h: Option<u32>, kind: BoxKind, upscale: Upscale, flavour: Flavour) -> Fit {
    let big = [w, h].iter().flatten().any(|s| *s > QINIU_ENLARGE_SIDE);
    let upscale = if flavour == Flavour::Qiniu && big && upscale == Upscale::Always {
        Upscale::Never
    } else {
        upscale
    };
    Fit {
        size: Size::Box {
            sides: Sides::Wh { w, h },
            kind,
        },
        upscale,
        strict_box: false,
    }
}

/// `W`, `H` of `WxH`, `Wx` or `xH` (at least one side, each 1..=MAX_SIDE).
fn sides(s: &str) -> Option<(Option<u32>, Option<u32>)> {
    let (w, h) = s.split_once('x')?;
    let side = |t: &str| -> Option<Option<u32>> {
        if t.is_empty() {
            return Some(None);
        }
        let n: i64 = t.parse().ok()?;
        (1..=MAX_SIDE).contains(&n).then_some(Some(n as u32))
    };
    let (w, h) = (side(w)?, side(h)?);
    (w.is_some() || h.is_some()).then_some((w, h))
}

fn both_sides(name: &str, v: &str) -> Result<(u32, u32), PlanError> {
    match sides(v) {
        Some((Some(w), Some(h))) => Ok((w, h)),
        _ => Err(PlanError::invalid(format!(
            "The value '{v}' of '{name}' in imageMogr2 is not <W>x<H>."
        ))),
    }
}

/// `pad/1`: the thumbnail fitted inside its box, centred on `color`.
fn padded(fit: Fit, color: [u8; 3]) -> Result<Fit, PlanError> {
    match fit.size {
        Size::Box {
            sides,
            kind: BoxKind::Inner,
        } => Ok(Fit {
            size: Size::Box {
                sides,
                kind: BoxKind::Pad {
                    color,
                    gravity: Gravity::Center,
                },
            },
            ..fit
        }),
        _ => Err(PlanError::invalid(
            "'pad/1' of imageMogr2 needs a box thumbnail (<W>x<H>, <W>x<H>> or <W>x<H><).",
        )),
    }
}

/// `crop/<W>x<H>` and the escaped `crop/!<W>x<H>a<dx>a<dy>`: `a` moves the
/// cut right/down from the gravity's anchor, `-` shortens that side instead
/// (`!300x400-10a10` is 290×400 at (0, 10)).
fn crop(v: &str, g: Gravity, flavour: Flavour) -> Result<Crop, PlanError> {
    let bad = || {
        PlanError::invalid(format!(
            "The crop '{v}' is not <W>x, x<H>, <W>x<H> or !<W>x<H>a<dx>a<dy>."
        ))
    };
    let (size, offsets) = match v.strip_prefix('!') {
        Some(esc) => match esc.find(['a', '-']) {
            Some(i) => (&esc[..i], Some(&esc[i..])),
            None => (esc, None),
        },
        None => (v, None),
    };
    let (mut w, mut h) = sides(size).ok_or_else(bad)?;
    let (mut x, mut y) = (0u32, 0u32);
    if let Some(off) = offsets {
        let terms = signed_terms(off).ok_or_else(bad)?;
        let [(sx, dx), (sy, dy)] = terms;
        for (sign, d, side, at) in [(sx, dx, &mut w, &mut x), (sy, dy, &mut h, &mut y)] {
            if sign == '-' {
                let s = side.ok_or_else(|| {
                    PlanError::invalid(format!("The crop '{v}' shortens a side it does not name."))
                })?;
                *side = Some(s.checked_sub(d).filter(|s| *s > 0).ok_or_else(bad)?);
            } else {
                *at = d;
            }
        }
    }
    // Tencent: the centre ignores both offsets, north/south the horizontal
    // one, west/east the vertical one (its crop document).
    if flavour == Flavour::Tencent {
        if matches!(g, Gravity::Center | Gravity::North | Gravity::South) {
            x = 0;
        }
        if matches!(g, Gravity::Center | Gravity::West | Gravity::East) {
            y = 0;
        }
    }
    Ok(Crop { w, h, x, y, g })
}

/// Exactly two `a<n>` / `-<n>` terms.
fn signed_terms(s: &str) -> Option<[(char, u32); 2]> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(sign) = rest.chars().next() {
        if sign != 'a' && sign != '-' {
            return None;
        }
        let digits = &rest[1..];
        let end = digits.find(['a', '-']).unwrap_or(digits.len());
        let n: i64 = digits[..end].parse().ok()?;
        if !(0..=MAX_SIDE).contains(&n) {
            return None;
        }
        out.push((sign, n as u32));
        rest = &digits[end..];
    }
    out.try_into().ok()
}

/// `cut/<W>x<H>x<dx>x<dy>`: a plain cut from the top-left.
fn cut(v: &str) -> Result<Crop, PlanError> {
    let n: Vec<Option<i64>> = v.split('x').map(|t| t.parse().ok()).collect();
    match n.as_slice() {
        [Some(w), Some(h), Some(x), Some(y)]
            if (1..=MAX_SIDE).contains(w)
                && (1..=MAX_SIDE).contains(h)
                && (0..=MAX_SIDE).contains(x)
                && (0..=MAX_SIDE).contains(y) =>
        {
            Ok(Crop {
                w: Some(*w as u32),
                h: Some(*h as u32),
                x: *x as u32,
                y: *y as u32,
                g: Gravity::Nw,
            })
        }
        _ => Err(PlanError::invalid(format!(
            "The cut '{v}' is not <W>x<H>x<dx>x<dy> (W, H ≥ 1; dx, dy ≥ 0)."
        ))),
    }
}

/// `quality/<q>[!]`: Tencent 0–100 (0 is read as 1), Qiniu 1–100.
fn quality(v: &str, flavour: Flavour) -> Result<Quality, PlanError> {
    let (n, forced) = match v.strip_suffix('!') {
        Some(n) => (n, true),
        None => (v, false),
    };
    let low = if flavour == Flavour::Qiniu { 1 } else { 0 };
    let q = int(M, "quality", n, low..=100)?.max(1) as u8;
    Ok(if forced {
        Quality::Forced(q)
    } else {
        Quality::Absolute(q)
    })
}

/// `blur/<r>x<sigma>`: radius 1–50; sigma above 0 (the neutral step takes
/// 1–50: rounded and clamped).
fn blur(v: &str) -> Result<Blur, PlanError> {
    let bad = || {
        PlanError::invalid(format!(
            "The blur '{v}' is not <radius>x<sigma> (radius 1–50, sigma above 0)."
        ))
    };
    let (r, s) = v.split_once('x').ok_or_else(bad)?;
    let r: u32 = r
        .parse()
        .ok()
        .filter(|r| (1..=50).contains(r))
        .ok_or_else(bad)?;
    let s: f64 = s
        .parse()
        .ok()
        .filter(|s: &f64| *s > 0.0 && s.is_finite())
        .ok_or_else(bad)?;
    Ok(Blur {
        r,
        s: s.round().clamp(1.0, 50.0) as u32,
    })
}

/// `size-limit/<n>[k|m][!]`.
fn size_limit(v: &str) -> Result<SizeLimit, PlanError> {
    if v.starts_with("$(") {
        return Err(PlanError::not_implemented(format!(
            "The size-limit '{v}' (a magic variable) is not supported by this proxy."
        )));
    }
    let (body, or_source) = match v.strip_suffix('!') {
        Some(b) => (b, true),
        None => (v, false),
    };
    let (num, unit) = match body.char_indices().last() {
        Some((i, 'k' | 'K')) => (&body[..i], 1024),
        Some((i, 'm' | 'M')) => (&body[..i], 1024 * 1024),
        _ => (body, 1),
    };
    let n: u64 = num
        .parse()
        .ok()
        .filter(|n| (1..=1_000_000_000).contains(n))
        .ok_or_else(|| {
            PlanError::invalid(format!(
                "The size-limit '{v}' is not <n>k, <n>m or <n> bytes, optionally with '!'."
            ))
        })?;
    Ok(SizeLimit {
        bytes: n * unit,
        or_source,
    })
}
