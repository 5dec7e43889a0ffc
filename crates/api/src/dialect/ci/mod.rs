//! The grammar Tencent Cloud Infinite inherited from Qiniu: bare-query
//! specs (`?imageMogr2/thumbnail/300x/format/webp`), `imageView2/<mode>/…`,
//! `watermark/1|2/…`, joined with `|`. Not a dialect itself: the `cos` and
//! `qiniu` dialects parse with it, each in its own [`Flavour`].

mod mogr;
mod view;
mod watermark;

#[cfg(test)]
mod tests;

use super::{Operation, ProcessSource};
use crate::geometry::Gravity;
use crate::{Format, Plan, PlanError, Policy, Query};

/// Where the two clouds read the same grammar differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Tencent,
    Qiniu,
}

/// Most `|`-joined steps in one spec (Tencent's documented limit; Qiniu
/// documents none, the same cap is kept).
pub const MAX_PIPELINE: usize = 10;

/// Output sides both clouds document as their ceiling (9 999 px), for
/// every format they write.
const CEILINGS: &[(Format, u32, u32)] = &[
    (Format::Jpg, 9999, 9999),
    (Format::Png, 9999, 9999),
    (Format::Webp, 9999, 9999),
    (Format::Bmp, 9999, 9999),
    (Format::Gif, 9999, 9999),
    (Format::Avif, 9999, 9999),
    (Format::Heic, 9999, 9999),
];

impl Flavour {
    /// The cloud's output rules (reference §1.1–1.3, §2.2, §7).
    pub fn policy(self) -> Policy {
        Policy {
            // Tencent: "default: the original's quality" — 100 capped by a
            // JPEG source's own; Qiniu: 75.
            default_quality: match self {
                Flavour::Tencent => 100,
                Flavour::Qiniu => 75,
            },
            // Both list gif among the output formats of any input.
            gif_only_from_gif: false,
            ceilings: CEILINGS,
            animations_shrink_only: true,
            // A percent thumbnail scales every frame (no OSS quirk here).
            percent_flattens_animation: false,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Flavour::Tencent => "Tencent CI",
            Flavour::Qiniu => "Qiniu",
        }
    }
}

/// Whether a query parameter's name opens a processing spec.
fn is_spec(name: &str) -> bool {
    name.starts_with("imageMogr2")
        || name.starts_with("imageView2/")
        || name.starts_with("watermark/")
}

/// The processing spec of a request: the first bare query component that
/// opens with a module prefix. The query parser split it at its first `=`
/// (base64 padding): it is joined back. An empty value is dropped: the
/// SDKs send the spec as a key with an empty value (`…/format/png=`), and
/// a lone padding `=` means nothing to the base64 readers.
pub(super) fn spec(query: &Query) -> Option<String> {
    query
        .params()
        .iter()
        .find(|p| is_spec(&p.name))
        .map(|p| match p.value.as_deref() {
            Some(v) if !v.is_empty() => format!("{}={v}", p.name),
            _ => p.name.clone(),
        })
}

/// The operation a spec asks for. With `ignore-error/1` anywhere in it, a
/// spec that does not parse is answered with the original, as the clouds do.
pub(super) fn operation(spec: &str, flavour: Flavour) -> Operation {
    let plan = parse(spec, flavour);
    if plan.is_err() && asks_ignore_error(spec) {
        return Operation::Original;
    }
    Operation::Process {
        plan,
        source: ProcessSource::Query,
    }
}

fn asks_ignore_error(spec: &str) -> bool {
    spec.split('|').any(|seg| {
        let t: Vec<&str> = seg.split('/').collect();
        t.windows(2).any(|w| w == ["ignore-error", "1"])
    })
}

/// A whole spec (`step|step|…`) as one plan, steps in order.
pub(super) fn parse(spec: &str, flavour: Flavour) -> Result<Plan, PlanError> {
    let segments: Vec<&str> = spec.split('|').collect();
    if segments.len() > MAX_PIPELINE {
        return Err(PlanError::invalid(format!(
            "The pipeline has {} steps; at most {MAX_PIPELINE} may be joined with '|'.",
            segments.len()
        )));
    }
    let mut b = Builder {
        plan: Plan {
            policy: flavour.policy(),
            ..Plan::default()
        },
        auto_orient: false,
        flavour,
    };
    for seg in segments {
        if let Some(rest) = seg.strip_prefix("imageMogr2") {
            if !(rest.is_empty() || rest.starts_with('/')) {
                return Err(unknown_step(seg));
            }
            mogr::parse(rest, &mut b)?;
        } else if let Some(rest) = seg.strip_prefix("imageView2/") {
            view::parse(rest, &mut b)?;
        } else if let Some(rest) = seg.strip_prefix("watermark/") {
            b.plan.steps.push(watermark::parse(rest, flavour)?);
        } else if matches!(seg, "imageInfo" | "imageinfo" | "exif" | "imageAve") {
            return Err(PlanError::invalid(format!(
                "'{seg}' answers metadata and cannot be joined to a processing pipeline."
            )));
        } else {
            return Err(unknown_step(seg));
        }
    }
    // Orientation is read from the source before any step; neither cloud
    // turns the image unless asked (Qiniu's imageView2 always asks).
    b.plan.auto_orient = Some(b.auto_orient);
    Ok(b.plan)
}

fn unknown_step(seg: &str) -> PlanError {
    let shown: String = seg.chars().take(40).collect();
    PlanError::invalid(format!(
        "The pipeline step '{shown}' does not start with imageMogr2, imageView2/ or watermark/ (each step repeats its module)."
    ))
}

/// The plan being built, step by step.
pub(super) struct Builder {
    plan: Plan,
    auto_orient: bool,
    flavour: Flavour,
}

/// A `name`/`value` pair of a module's path.
#[derive(Debug, Clone, Copy)]
struct Pair<'a> {
    name: &'a str,
    value: &'a str,
}

/// `k/v/k/v…` with the named flags taking no value; a name missing its
/// value is a MissingArgument naming it.
fn pairs<'a>(module: &str, rest: &'a str, flags: &[&str]) -> Result<Vec<Pair<'a>>, PlanError> {
    let mut out = Vec::new();
    let mut it = rest.split('/').filter(|t| !t.is_empty());
    while let Some(name) = it.next() {
        if flags.contains(&name) {
            out.push(Pair { name, value: "" });
            continue;
        }
        let value = it.next().ok_or_else(|| {
            PlanError::missing(format!("The parameter '{name}' of {module} needs a value."))
        })?;
        out.push(Pair { name, value });
    }
    Ok(out)
}

/// An integer parameter in `range`, the error naming it.
fn int(
    module: &str,
    name: &str,
    v: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, PlanError> {
    let n: i64 = v.parse().map_err(|_| {
        PlanError::invalid(format!(
            "The value '{v}' of '{name}' in {module} is not an integer."
        ))
    })?;
    if !range.contains(&n) {
        return Err(PlanError::invalid(format!(
            "The value '{v}' of '{name}' in {module} is out of range {}–{}.",
            range.start(),
            range.end()
        )));
    }
    Ok(n)
}

/// Base64 of either alphabet, padded or not (the documents ask for
/// URL-safe; Tencent's own SDK demo writes the standard one).
fn base64_text(name: &str, v: &str) -> Result<String, PlanError> {
    crate::action::watermark::decode_base64_any(v)
        .ok_or_else(|| PlanError::invalid(format!("The value '{v}' of '{name}' is not base64.")))
}

/// A colour written as base64 of `#RRGGBB`.
fn base64_color(name: &str, v: &str) -> Result<[u8; 3], PlanError> {
    let text = base64_text(name, v)?;
    text.strip_prefix('#')
        .and_then(crate::action::resize::parse_hex_color)
        .ok_or_else(|| {
            PlanError::invalid(format!(
                "The value '{v}' of '{name}' decodes to '{text}', not a colour #RRGGBB."
            ))
        })
}

/// The nine gravities, as ImageMagick spells them (any case).
fn gravity(v: &str) -> Result<Gravity, PlanError> {
    Ok(match v.to_ascii_lowercase().as_str() {
        "northwest" => Gravity::Nw,
        "north" => Gravity::North,
        "northeast" => Gravity::Ne,
        "west" => Gravity::West,
        "center" => Gravity::Center,
        "east" => Gravity::East,
        "southwest" => Gravity::Sw,
        "south" => Gravity::South,
        "southeast" => Gravity::Se,
        _ => {
            return Err(PlanError::invalid(format!(
                "The gravity '{v}' is not one of NorthWest, North, NorthEast, West, Center, East, SouthWest, South, SouthEast."
            )));
        }
    })
}

/// `format/<f>`: the formats the cloud writes.
fn format(v: &str, flavour: Flavour) -> Result<Format, PlanError> {
    match v {
        "jpg" | "jpeg" | "yjpeg" => Ok(Format::Jpg),
        "png" => Ok(Format::Png),
        "webp" => Ok(Format::Webp),
        "gif" => Ok(Format::Gif),
        "bmp" => Ok(Format::Bmp),
        "heif" | "heic" => Ok(Format::Heic),
        "avif" => Ok(Format::Avif),
        // Tencent's own codec: no encoder for it here.
        "tpg" => Err(PlanError::not_implemented(format!(
            "The {} output format 'tpg' is not supported by this proxy.",
            flavour.name()
        ))),
        _ => Err(PlanError::invalid(format!(
            "The format '{v}' is not one of jpg, png, webp, gif, bmp, heif, avif{}.",
            if flavour == Flavour::Tencent {
                ", yjpeg"
            } else {
                ""
            }
        ))),
    }
}
