//! QingStor's `action=<op>[:k_v[,k_v]*][|<op>…]` as one neutral [`Plan`]
//! (reference §3.1–3.2, the service's image_process pages).
//!
//! The parameter names and defaults (`dpi`, `opacity` 0.25, `top`/`left`,
//! gravity 0 centre … 4 west) are those of the imaginary/bimg image server,
//! which QingStor appears to run; where its documents are silent the
//! choices below follow that heritage and are stated where they are made.

use crate::action::crop::Crop;
use crate::action::format::Format;
use crate::action::resize::{MAX_SIDE, Resize};
use crate::action::rotate::Rotate;
use crate::action::smart_crop::SmartCrop;
use crate::action::watermark::{DEFAULT_FONT, MAX_TEXT_CHARS, MarkImage, MarkText, Watermark};
use crate::fit::{BoxKind, Fit, Sides, Size, Upscale};
use crate::geometry::Gravity;
use crate::metadata::MetadataKind;
use crate::plan::{Deliver, MAX_IMAGE_WATERMARKS, MAX_PROCESS_LEN, MAX_STEPS, Plan, Step};
use crate::{PlanError, Policy};

/// The documents' default text size: 150 twips (7.5 pt).
const DEFAULT_TWIPS: i64 = 150;
/// The documents' default opacity of both watermarks.
const DEFAULT_OPACITY: u8 = 25;

/// One op's `k_v` pairs, as written.
struct Args<'a> {
    op: &'a str,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Args<'a> {
    fn parse(op: &'a str, raw: Option<&'a str>) -> Result<Args<'a>, PlanError> {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for pair in raw.unwrap_or("").split(',').filter(|p| !p.is_empty()) {
            // Split at the first '_': URL-safe base64 values contain '_'.
            let (k, v) = pair.split_once('_').ok_or_else(|| {
                PlanError::invalid(format!(
                    "The parameter '{pair}' of '{op}' is not written as key_value."
                ))
            })?;
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(PlanError::invalid(format!(
                    "The parameter '{k}' of '{op}' is given twice."
                )));
            }
            pairs.push((k, v));
        }
        Ok(Args { op, pairs })
    }

    /// Refuses any key outside `known`, naming it.
    fn only(&self, known: &[&str]) -> Result<(), PlanError> {
        match self.pairs.iter().find(|(k, _)| !known.contains(k)) {
            None => Ok(()),
            Some((k, _)) if known.is_empty() => Err(PlanError::invalid(format!(
                "'{}' takes no parameters; '{k}' is not understood.",
                self.op
            ))),
            Some((k, _)) => Err(PlanError::invalid(format!(
                "The parameter '{k}' of '{}' is not one of {}.",
                self.op,
                known.join(", ")
            ))),
        }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn int(&self, key: &str, min: i64, max: i64) -> Result<Option<i64>, PlanError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(PlanError::invalid(format!(
                "The value '{v}' of '{key}' in '{}' is not an integer from {min} to {max}.",
                self.op
            ))),
        }
    }

    /// A side in pixels; 0 is "not given" (the SDKs omit zero sides, and
    /// the documents' default for an absent side applies).
    fn side(&self, key: &str) -> Result<Option<u32>, PlanError> {
        Ok(self
            .int(key, 0, MAX_SIDE)?
            .filter(|v| *v > 0)
            .map(|v| v as u32))
    }

    /// `p`: opacity in (0, 1] as a percentage. Above 1 is clamped (the
    /// watermark_image page's own example is `p_2`); a tiny positive
    /// opacity keeps 1 %, so it never vanishes.
    fn opacity(&self) -> Result<u8, PlanError> {
        let Some(v) = self.get("p") else {
            return Ok(DEFAULT_OPACITY);
        };
        match v.parse::<f64>() {
            Ok(p) if p.is_finite() && p > 0.0 => Ok((p.min(1.0) * 100.0).round().max(1.0) as u8),
            _ => Err(PlanError::invalid(format!(
                "The value '{v}' of 'p' in '{}' is not an opacity in (0, 1].",
                self.op
            ))),
        }
    }

    /// A base64 value (either alphabet, padded or not) as UTF-8 text.
    fn base64(&self, key: &str, v: &str) -> Result<String, PlanError> {
        crate::action::watermark::decode_base64_any(v).ok_or_else(|| {
            PlanError::invalid(format!(
                "The value '{v}' of '{key}' in '{}' is not base64 of UTF-8 text.",
                self.op
            ))
        })
    }
}

/// The plan an `action` value asks for; `info` alone is a metadata answer.
pub(super) fn parse(action: &str, info: MetadataKind) -> Result<Plan, PlanError> {
    if action.len() > MAX_PROCESS_LEN {
        return Err(PlanError::invalid(format!(
            "The action is longer than {MAX_PROCESS_LEN} characters."
        )));
    }
    let ops: Vec<&str> = action.split('|').collect();
    if ops.len() > MAX_STEPS {
        return Err(PlanError::invalid(format!(
            "The action has more than {MAX_STEPS} operations."
        )));
    }
    let mut plan = Plan {
        policy: Policy::DEFAULT,
        ..Plan::default()
    };
    for op in &ops {
        let (name, raw) = match op.split_once(':') {
            Some((name, raw)) => (name, Some(raw)),
            None => (*op, None),
        };
        let args = Args::parse(name, raw)?;
        add(&mut plan, &args, info)?;
    }
    if matches!(plan.deliver, Deliver::Metadata(_)) && ops.len() > 1 {
        return Err(PlanError::invalid(
            "'info' cannot be combined with other operations.",
        ));
    }
    Ok(plan)
}

fn add(plan: &mut Plan, a: &Args<'_>, info: MetadataKind) -> Result<(), PlanError> {
    let step = match a.op {
        "crop" => crop(a)?,
        "resize" => Step::Resize(resize(a)?),
        "rotate" => {
            a.only(&["a"])?;
            let degrees = match a.get("a") {
                None => {
                    return Err(PlanError::missing(
                        "'rotate' needs a: one of 0, 90, 180, 270.",
                    ));
                }
                Some(v @ ("0" | "90" | "180" | "270")) => v.parse().unwrap_or(0),
                Some(v) => {
                    return Err(PlanError::invalid(format!(
                        "The value '{v}' of 'a' in 'rotate' is not one of 0, 90, 180, 270."
                    )));
                }
            };
            Step::Rotate(Rotate { degrees })
        }
        "watermark" => Step::Watermark(Box::new(text_watermark(a)?)),
        "watermark_image" => {
            if plan.watermark_keys().len() >= MAX_IMAGE_WATERMARKS {
                return Err(PlanError::invalid(format!(
                    "An action may use at most {MAX_IMAGE_WATERMARKS} image watermarks."
                )));
            }
            Step::Watermark(Box::new(image_watermark(a)?))
        }
        "format" => {
            a.only(&["t"])?;
            plan.output.format = Some(match a.get("t") {
                Some("jpeg") => Format::Jpg,
                Some("png") => Format::Png,
                Some("webp") => Format::Webp,
                Some("tiff") => Format::Tiff,
                Some(t) => {
                    return Err(PlanError::invalid(format!(
                        "The value '{t}' of 't' in 'format' is not one of jpeg, png, webp, tiff."
                    )));
                }
                None => {
                    return Err(PlanError::missing(
                        "'format' needs t: one of jpeg, png, webp, tiff.",
                    ));
                }
            });
            return Ok(());
        }
        "info" => {
            a.only(&[])?;
            plan.deliver = Deliver::Metadata(info);
            return Ok(());
        }
        // A write: `save.rs` claims requests that end in it; anywhere else
        // (a style, say) it cannot run.
        "save" => {
            return Err(PlanError::invalid(
                "The operation 'save' writes the result: it can only be the last operation of a GET's action.",
            ));
        }
        "" => {
            return Err(PlanError::invalid(
                "An operation of the action has no name.",
            ));
        }
        other => {
            return Err(PlanError::invalid(format!(
                "The operation '{other}' is not one of info, crop, resize, rotate, watermark, watermark_image, format, save."
            )));
        }
    };
    plan.steps.push(step);
    Ok(())
}

/// `crop`: w, h (default the image's), g 0–9 (default 0, centre; 9 the
/// attention crop), or l, t (from that point to the end); g with l or t is
/// refused.
fn crop(a: &Args<'_>) -> Result<Step, PlanError> {
    a.only(&["w", "h", "g", "l", "t"])?;
    if a.get("g").is_some() && (a.get("l").is_some() || a.get("t").is_some()) {
        return Err(PlanError::invalid(
            "'crop' takes either g (a gravity) or l and t (a start point), not both.",
        ));
    }
    let (w, h) = (a.side("w")?, a.side("h")?);
    if a.get("l").is_some() || a.get("t").is_some() {
        return Ok(Step::Crop(Crop {
            w,
            h,
            x: a.int("l", 0, 1_000_000)?.unwrap_or(0) as u32,
            y: a.int("t", 0, 1_000_000)?.unwrap_or(0) as u32,
            g: Gravity::Nw,
        }));
    }
    let g = match a.int("g", 0, 9)?.unwrap_or(0) {
        1 => Gravity::North,
        2 => Gravity::East,
        3 => Gravity::South,
        4 => Gravity::West,
        5 => Gravity::Nw,
        6 => Gravity::Ne,
        7 => Gravity::Sw,
        8 => Gravity::Se,
        // 9 "auto": the attention crop (an absent side is the image's).
        9 => {
            return Ok(Step::SmartCrop(SmartCrop {
                w: w.unwrap_or(u32::MAX),
                h: h.unwrap_or(u32::MAX),
            }));
        }
        _ => Gravity::Center,
    };
    Ok(Step::Crop(Crop {
        w,
        h,
        x: 0,
        y: 0,
        g,
    }))
}

/// `resize`: w, h, m (reference §3.2's proposed mapping): m0 covers the
/// box and cuts it from the centre, m1 is exactly w×h, m2 fits inside;
/// with one side, every mode is proportional. The size asked for is the
/// size given, so it may enlarge.
fn resize(a: &Args<'_>) -> Result<Resize, PlanError> {
    a.only(&["w", "h", "m"])?;
    let (w, h) = (a.side("w")?, a.side("h")?);
    let m = a.int("m", 0, 2)?.unwrap_or(0);
    if w.is_none() && h.is_none() {
        return Err(PlanError::missing("'resize' needs w or h (pixels)."));
    }
    let kind = match (m, w.is_some() && h.is_some()) {
        (_, false) | (2, true) => BoxKind::Inner,
        (0, true) => BoxKind::Crop {
            gravity: Gravity::Center,
            dx: 0,
            dy: 0,
        },
        _ => BoxKind::Exact,
    };
    Ok(Resize::from_fit(Fit {
        size: Size::Box {
            sides: Sides::Wh { w, h },
            kind,
        },
        upscale: Upscale::Always,
        strict_box: false,
    }))
}

/// `watermark`: t (base64 text, required), d (size in twips, default 150),
/// p (opacity, default 0.25), c (base64 `#RRGGBB`, default black).
///
/// Size: twips ÷ 20 is points, drawn one pixel per point (72 dpi), at
/// least 1 px. Placement, which the documents do not state: the text is
/// tiled over the whole image, as the imaginary/bimg text watermark it
/// descends from replicates it, five text-heights apart.
fn text_watermark(a: &Args<'_>) -> Result<Watermark, PlanError> {
    a.only(&["t", "d", "p", "c"])?;
    let encoded = a
        .get("t")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| PlanError::missing("'watermark' needs t: the base64 of the text."))?;
    let text = a.base64("t", encoded)?;
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_TEXT_CHARS {
        return Err(PlanError::invalid(format!(
            "The text of 't' in 'watermark' has {chars} characters; 1 to {MAX_TEXT_CHARS} are allowed."
        )));
    }
    let twips = a.int("d", 1, 20_000)?.unwrap_or(DEFAULT_TWIPS);
    let size = ((twips as f64 / 20.0).round() as u32).max(1);
    let color = match a.get("c") {
        None => [0, 0, 0],
        Some(c) => {
            let decoded = a.base64("c", c)?;
            hex_color(decoded.trim().trim_start_matches('#')).ok_or_else(|| {
                PlanError::invalid(format!(
                    "The value '{c}' of 'c' in 'watermark' is not the base64 of a colour '#RRGGBB' (it reads '{decoded}')."
                ))
            })?
        }
    };
    let gap = size * 5;
    Ok(Watermark {
        opacity: a.opacity()?,
        gravity: Gravity::Nw,
        x: 0,
        y: 0,
        voffset: 0,
        fill: true,
        padx: gap,
        pady: gap,
        image: None,
        text: Some(MarkText {
            text,
            font: DEFAULT_FONT.to_owned(),
            color,
            size,
            shadow: 0,
            rotate: 0,
        }),
        text_first: false,
        align: 0,
        interval: 0,
    })
}

/// `watermark_image`: u (base64 URL of the mark, required), l and t (its
/// top-left, default 0), p (opacity, default 0.25).
fn image_watermark(a: &Args<'_>) -> Result<Watermark, PlanError> {
    a.only(&["u", "l", "t", "p"])?;
    let encoded = a.get("u").filter(|u| !u.is_empty()).ok_or_else(|| {
        PlanError::missing("'watermark_image' needs u: the base64 of the mark's URL.")
    })?;
    let url = a.base64("u", encoded)?;
    Ok(Watermark {
        opacity: a.opacity()?,
        gravity: Gravity::Nw,
        x: a.int("l", 0, 4096)?.unwrap_or(0) as u32,
        y: a.int("t", 0, 4096)?.unwrap_or(0) as u32,
        voffset: 0,
        fill: false,
        padx: 0,
        pady: 0,
        image: Some(MarkImage::new(&mark_key(&url)?)),
        text: None,
        text_first: false,
        align: 0,
        interval: 0,
    })
}

/// The object a mark's URL names, read from the request's own bucket (a
/// proxy never fetches arbitrary URLs): the URL's path, without the
/// bucket segment of a QingStor path-style URL
/// (`https://pek3a.qingstor.com/<bucket>/<key>`); a bare key is itself.
fn mark_key(url: &str) -> Result<String, PlanError> {
    let refuse = |why: &str| {
        Err(PlanError::watermark(format!(
            "The watermark URL '{url}' does not name an object of this bucket: {why}."
        )))
    };
    let path = match url.split_once("://") {
        None => url,
        Some((_, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host.rsplit('@').next().unwrap_or(host);
            let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
            let labels = host.split('.').count();
            if host.ends_with(".qingstor.com") && labels == 3 {
                path.split_once('/').map_or("", |(_, key)| key)
            } else {
                path
            }
        }
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let key = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned();
    if key.is_empty() {
        return refuse("it has no object key");
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return refuse("its key is an absolute path");
    }
    if key.split(['/', '\\']).any(|seg| seg == ".." || seg == ".") {
        return refuse("its key contains '.' or '..' segments");
    }
    if key.chars().any(char::is_control) {
        return refuse("its key contains control characters");
    }
    Ok(key)
}

fn hex_color(c: &str) -> Option<[u8; 3]> {
    if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let n = u32::from_str_radix(c, 16).ok()?;
    Some([(n >> 16) as u8, (n >> 8) as u8, n as u8])
}

#[cfg(test)]
mod tests;
