//! `watermark/1` (image) and `watermark/2` (text) of the Tencent CI /
//! Qiniu grammar, as a neutral watermark step.
//!
//! The two clouds share the spelling and differ in defaults and extras
//! (reference §1.4, §2.5, §2.7): Tencent dissolve 90, dx/dy 0, fontsize in
//! points (13), fill `#3D3D3D`, plus `blogo`, `scatype`/`spcent`, `batch`,
//! `degree`, `shadow`; Qiniu dissolve 100, dx/dy 10, fontsize in twips
//! (0 = automatic), fill black, plus `ws`/`wst`.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::percent_decode_str;

use super::Flavour;
use crate::action::rotate::Rotate;
use crate::action::watermark::{
    DEFAULT_FONT, MAX_TEXT_CHARS, MarkImage, MarkScale, MarkStep, MarkText, Oversize, ScaleBy,
    Watermark, check_key,
};
use crate::geometry::Gravity;
use crate::params::parse_int;
use crate::{PlanError, Step};

/// URL-safe alphabet, padding optional; the standard alphabet is mapped
/// onto it first (reference §7: Tencent's own demo uses the standard one).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Points are pixels: both clouds render at the 72 DPI Qiniu's document
/// names as its reference ("参考DPI为72"), as ImageMagick does.
const TENCENT_FONTSIZE_PT: i64 = 13;
/// Qiniu's `fontsize/0` ("default size"): 240 twips, 12 pt, the default
/// the current Qiniu-derived documents state.
const QINIU_AUTO_TWIPS: i64 = 240;
/// Largest text size in pixels (the OSS renderer's `size_` ceiling).
const MAX_TEXT_PX: i64 = 1000;
/// Margins beyond Tencent's largest output side make no sense.
const MAX_MARGIN: i64 = 9999;

/// Font names the clouds use by default, not installed here: they mean the
/// proxy's default font.
const DEFAULT_FONT_NAMES: [&str; 6] = ["tahoma", "黑体", "宋体", "simhei", "simsun", "默认"];

/// One `watermark/…` pipeline segment (the text after `watermark/`).
pub(super) fn parse(segment: &str, flavour: Flavour) -> Result<Step, PlanError> {
    let (kind, rest) = segment.split_once('/').unwrap_or((segment, ""));
    let wm = match kind {
        "1" => image(
            &Args::parse("watermark/1", rest, image_params(flavour), flavour)?,
            flavour,
        )?,
        "2" => text(
            &Args::parse("watermark/2", rest, text_params(flavour), flavour)?,
            flavour,
        )?,
        "3" => {
            return Err(PlanError::not_implemented(match flavour {
                Flavour::Tencent => {
                    "Blind watermarks (watermark/3) use Tencent's own algorithm and are not supported; use watermark/1 or watermark/2."
                }
                Flavour::Qiniu => {
                    "Several watermarks in one step (watermark/3) are not supported; join watermark/1 and watermark/2 steps with '|' instead."
                }
            }));
        }
        "" => {
            return Err(PlanError::missing(
                "'watermark' needs its type: watermark/1 (image) or watermark/2 (text).",
            ));
        }
        other => {
            return Err(PlanError::invalid(format!(
                "The watermark type '{other}' is not one of 1 (image) or 2 (text)."
            )));
        }
    };
    Ok(Step::Watermark(Box::new(wm)))
}

// Free functions, not methods: `Flavour` belongs to the grammar module.
fn image_params(flavour: Flavour) -> &'static [&'static str] {
    match flavour {
        Flavour::Tencent => &[
            "image", "gravity", "dx", "dy", "blogo", "scatype", "spcent", "dissolve", "batch",
            "degree",
        ],
        Flavour::Qiniu => &["image", "dissolve", "gravity", "dx", "dy", "ws", "wst"],
    }
}

fn text_params(flavour: Flavour) -> &'static [&'static str] {
    match flavour {
        Flavour::Tencent => &[
            "text", "font", "fontsize", "fill", "dissolve", "gravity", "dx", "dy", "batch",
            "degree", "shadow",
        ],
        Flavour::Qiniu => &[
            "text", "font", "fontsize", "fill", "dissolve", "gravity", "dx", "dy",
        ],
    }
}

fn cloud(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Tencent => "Tencent",
        Flavour::Qiniu => "Qiniu",
    }
}

/// The parameters that carry base64: a standard-alphabet value may hold
/// `/`, which the grammar's own separator splits.
const BASE64_PARAMS: [&str; 4] = ["image", "text", "font", "fill"];

/// `name/value` pairs of one watermark segment.
struct Args<'a> {
    action: &'static str,
    pairs: Vec<(&'a str, String)>,
}

impl<'a> Args<'a> {
    fn parse(
        action: &'static str,
        rest: &'a str,
        known: &[&str],
        flavour: Flavour,
    ) -> Result<Args<'a>, PlanError> {
        let mut tokens = rest.split('/').filter(|t| !t.is_empty()).peekable();
        let mut pairs = Vec::new();
        while let Some(name) = tokens.next() {
            if !known.contains(&name) {
                return Err(PlanError::invalid(format!(
                    "{action} has no parameter '{name}' in the {} grammar; it takes {}.",
                    cloud(flavour),
                    known.join(", ")
                )));
            }
            let mut value = tokens
                .next()
                .ok_or_else(|| {
                    PlanError::missing(format!("The parameter '{name}' of {action} has no value."))
                })?
                .to_owned();
            if BASE64_PARAMS.contains(&name) {
                // A standard-alphabet '/' split the value. The pieces before
                // the next parameter name are rejoined when they are odd in
                // number: name/value pairs always come in twos (so an even
                // run is an unknown parameter, refused below).
                let run = tokens.clone().take_while(|t| !known.contains(t)).count();
                if run % 2 == 1 {
                    for piece in tokens.by_ref().take(run) {
                        value.push('/');
                        value.push_str(piece);
                    }
                }
            }
            pairs.push((name, value));
        }
        Ok(Args { action, pairs })
    }

    /// The last value given (a repeated parameter: the last wins, as OSS).
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn int(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> Result<Option<i64>, PlanError> {
        self.get(name)
            .map(|v| parse_int(self.action, name, v, &range))
            .transpose()
    }

    fn base64(&self, name: &str) -> Result<Option<String>, PlanError> {
        self.get(name)
            .map(|v| decode_base64(self.action, name, v))
            .transpose()
    }
}

/// Standard or URL-safe base64, padded or not, of UTF-8 text.
fn decode_base64(action: &str, name: &str, value: &str) -> Result<String, PlanError> {
    // '+' may have become ' ' in a form-encoded query.
    let url_safe: String = value
        .chars()
        .map(|c| match c {
            '+' | ' ' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    BASE64
        .decode(url_safe.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            PlanError::invalid(format!(
                "The value '{value}' of '{name}' in {action} is not base64 of UTF-8 text (URL-safe or standard alphabet, padding optional)."
            ))
        })
}

/// What both watermark types share: opacity, gravity, margins, tiling.
fn placement(a: &Args, flavour: Flavour) -> Result<Watermark, PlanError> {
    let (dissolve, margin) = match flavour {
        Flavour::Tencent => (90, 0),
        Flavour::Qiniu => (100, 10),
    };
    let gravity = match a.get("gravity") {
        None => Gravity::Se,
        Some(g) => gravity(g).ok_or_else(|| {
            PlanError::invalid(format!(
                "The value '{g}' of 'gravity' in {} is not a position; use one of NorthWest, North, NorthEast, West, Center, East, SouthWest, South, SouthEast.",
                a.action
            ))
        })?,
    };
    let x = a.int("dx", 0..=MAX_MARGIN)?.unwrap_or(margin) as u32;
    let y = a.int("dy", 0..=MAX_MARGIN)?.unwrap_or(margin) as u32;
    let fill = a.int("batch", 0..=1)?.unwrap_or(0) == 1;
    Ok(Watermark {
        opacity: a.int("dissolve", 1..=100)?.unwrap_or(dissolve) as u8,
        gravity,
        x,
        y,
        voffset: 0,
        fill,
        // Tiled, the margins are the gaps between tiles: the only spacing a
        // Tencent user can give.
        padx: if fill { x } else { 0 },
        pady: if fill { y } else { 0 },
        image: None,
        text: None,
        text_first: false,
        align: 0,
        interval: 0,
    })
}

/// The nine positions, case-insensitive (`SouthEast`, `southeast`).
fn gravity(g: &str) -> Option<Gravity> {
    Some(match g.to_ascii_lowercase().as_str() {
        "northwest" => Gravity::Nw,
        "north" => Gravity::North,
        "northeast" => Gravity::Ne,
        "west" => Gravity::West,
        "center" => Gravity::Center,
        "east" => Gravity::East,
        "southwest" => Gravity::Sw,
        "south" => Gravity::South,
        "southeast" => Gravity::Se,
        _ => return None,
    })
}

fn image(a: &Args, flavour: Flavour) -> Result<Watermark, PlanError> {
    let url = a.base64("image")?.ok_or_else(|| {
        PlanError::missing("watermark/1 needs image/<base64 of the watermark image's URL>.")
    })?;
    let mut mark = MarkImage::new(&mark_key(&url, flavour)?);
    let mut wm = placement(a, flavour)?;
    match flavour {
        Flavour::Tencent => {
            mark.oversize = match a.int("blogo", 1..=2)? {
                None => Oversize::Overlay,
                Some(1) => Oversize::Shrink,
                Some(_) => Oversize::Crop,
            };
            mark.scale = tencent_scale(a)?;
            // Tencent turns an image watermark only when tiling.
            let degree = a.int("degree", 0..=360)?.unwrap_or(0) % 360;
            if wm.fill && degree != 0 {
                mark.steps.push(MarkStep::Rotate(Rotate {
                    degrees: degree as u32,
                }));
            }
        }
        Flavour::Qiniu => {
            // "When the original is smaller than the watermark image, the
            // original is returned unmarked."
            mark.oversize = Oversize::Skip;
            mark.scale = qiniu_scale(a)?;
        }
    }
    wm.image = Some(mark);
    Ok(wm)
}

/// `scatype/1|2|3` (width, height, area) with `spcent/` in per mille.
fn tencent_scale(a: &Args) -> Result<Option<MarkScale>, PlanError> {
    let by = match a.int("scatype", 1..=3)? {
        None if a.get("spcent").is_some() => {
            return Err(PlanError::missing(
                "The parameter 'spcent' of watermark/1 needs 'scatype' (1 width, 2 height, 3 area).",
            ));
        }
        None => return Ok(None),
        Some(1) => ScaleBy::Width,
        Some(2) => ScaleBy::Height,
        Some(_) => ScaleBy::Area,
    };
    let max = if by == ScaleBy::Area { 250 } else { 1000 };
    let permille = a.int("spcent", 1..=max)?.ok_or_else(|| {
        PlanError::missing(
            "The parameter 'scatype' of watermark/1 needs 'spcent' (the share in per mille).",
        )
    })?;
    Ok(Some(MarkScale {
        by,
        permille: permille as u16,
    }))
}

/// `ws/<0..1>`: a share of the main image's short edge (or, with
/// `wst/1|2|3`, its long edge, width, height).
fn qiniu_scale(a: &Args) -> Result<Option<MarkScale>, PlanError> {
    let by = match a.int("wst", 0..=3)?.unwrap_or(0) {
        0 => ScaleBy::Short,
        1 => ScaleBy::Long,
        2 => ScaleBy::Width,
        _ => ScaleBy::Height,
    };
    let Some(ws) = a.get("ws") else {
        return Ok(None);
    };
    let share = ws
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && (0.0..=1.0).contains(v) && !ws.starts_with(['+', '-']))
        .ok_or_else(|| {
            PlanError::invalid(format!(
                "The value '{ws}' of 'ws' in watermark/1 is not a share from 0 to 1."
            ))
        })?;
    let permille = (share * 1000.0).round() as u16;
    // 0 is the documented lower bound: no scaling.
    Ok((permille > 0).then_some(MarkScale { by, permille }))
}

/// The object key a watermark URL names. Only the request's own bucket is
/// read, whatever host the URL names (no fetch from the Internet: SSRF).
fn mark_key(url: &str, flavour: Flavour) -> Result<String, PlanError> {
    let refuse = |why: &str| {
        Err(PlanError::watermark(format!(
            "The watermark image '{url}' cannot be used: {why}."
        )))
    };
    // Tencent's own example encodes the colon: 'http%3A//…'.
    let lower = url.to_ascii_lowercase();
    let after = ["http://", "https://", "http%3a//", "https%3a//", "kodo://"]
        .iter()
        .find(|s| lower.starts_with(**s))
        .filter(|s| **s != "kodo://" || flavour == Flavour::Qiniu)
        .map(|s| &url[s.len()..]);
    let Some(after) = after else {
        return refuse(match flavour {
            Flavour::Tencent => "give the object's URL, starting with http://",
            Flavour::Qiniu => {
                "give the object's URL (http:// or https://) or kodo://<bucket>/<key>"
            }
        });
    };
    // The host (or kodo's bucket) is not checked: the key is read from the
    // request's bucket.
    let Some((_, path)) = after.split_once('/') else {
        return refuse("it names no object");
    };
    if path.contains(['?', '#']) {
        return refuse(
            "processing the watermark image itself is not supported; store a processed copy",
        );
    }
    let key = percent_decode_str(path).decode_utf8().map_err(|_| {
        PlanError::watermark(format!(
            "The watermark image '{url}' cannot be used: its path is not UTF-8."
        ))
    })?;
    check_key(&key)?;
    Ok(key.into_owned())
}

fn text(a: &Args, flavour: Flavour) -> Result<Watermark, PlanError> {
    let text = a.base64("text")?.ok_or_else(|| {
        PlanError::missing("watermark/2 needs text/<base64 of the watermark text>.")
    })?;
    let chars = text.chars().count();
    if chars == 0 {
        return Err(PlanError::missing("The watermark text is empty."));
    }
    if chars > MAX_TEXT_CHARS {
        return Err(PlanError::invalid(format!(
            "The watermark text has {chars} characters; at most {MAX_TEXT_CHARS} are allowed."
        )));
    }
    let font = match a.base64("font")? {
        None => DEFAULT_FONT.to_owned(),
        Some(f) => font(&f),
    };
    let color = match a.base64("fill")? {
        None => match flavour {
            Flavour::Tencent => [0x3D, 0x3D, 0x3D],
            Flavour::Qiniu => [0, 0, 0],
        },
        Some(c) => colour(&c).ok_or_else(|| {
            PlanError::invalid(format!(
                "The value of 'fill' in watermark/2 ('{c}') is not a colour: give base64 of '#RRGGBB' or of a colour name such as 'white'."
            ))
        })?,
    };
    let size = match flavour {
        Flavour::Tencent => a
            .int("fontsize", 1..=MAX_TEXT_PX)?
            .unwrap_or(TENCENT_FONTSIZE_PT),
        Flavour::Qiniu => {
            let twips = match a.int("fontsize", 0..=MAX_TEXT_PX * 20)?.unwrap_or(0) {
                0 => QINIU_AUTO_TWIPS,
                t => t,
            };
            ((twips + 10) / 20).max(1)
        }
    };
    let mut wm = placement(a, flavour)?;
    wm.text = Some(MarkText {
        text,
        font,
        color,
        size: size as u32,
        shadow: a.int("shadow", 0..=100)?.unwrap_or(0) as u8,
        rotate: (a.int("degree", 0..=360)?.unwrap_or(0) % 360) as u32,
    });
    Ok(wm)
}

/// A font name as the renderer knows it: the clouds' defaults (not
/// installed) are the proxy's default; other names pass through, and an
/// unknown one falls back as it does for OSS.
fn font(name: &str) -> String {
    let name = name.trim();
    let lower = name.to_ascii_lowercase();
    let bare = [".ttf", ".ttc", ".otf"]
        .iter()
        .find_map(|ext| lower.strip_suffix(ext))
        .unwrap_or(&lower);
    if bare.is_empty() || DEFAULT_FONT_NAMES.contains(&bare) {
        DEFAULT_FONT.to_owned()
    } else {
        bare.to_owned()
    }
}

/// `#RRGGBB`, `#RGB` (with or without '#'), or a colour name.
fn colour(c: &str) -> Option<[u8; 3]> {
    let c = c.trim();
    let hex = c.strip_prefix('#').unwrap_or(c);
    if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).ok();
        match hex.len() {
            6 => {
                let n = u32::from_str_radix(hex, 16).ok()?;
                return Some([(n >> 16) as u8, (n >> 8) as u8, n as u8]);
            }
            3 => return Some([digit(0)? * 17, digit(1)? * 17, digit(2)? * 17]),
            _ => {}
        }
    }
    // The common names, with the values CSS and ImageMagick give them.
    Some(match c.to_ascii_lowercase().as_str() {
        "black" => [0, 0, 0],
        "white" => [255, 255, 255],
        "red" => [255, 0, 0],
        "green" => [0, 128, 0],
        "lime" => [0, 255, 0],
        "blue" => [0, 0, 255],
        "yellow" => [255, 255, 0],
        "cyan" | "aqua" => [0, 255, 255],
        "magenta" | "fuchsia" => [255, 0, 255],
        "gray" | "grey" => [128, 128, 128],
        "silver" => [192, 192, 192],
        "orange" => [255, 165, 0],
        "purple" => [128, 0, 128],
        "pink" => [255, 192, 203],
        "brown" => [165, 42, 42],
        "navy" => [0, 0, 128],
        "maroon" => [128, 0, 0],
        "olive" => [128, 128, 0],
        "teal" => [0, 128, 128],
        "gold" => [255, 215, 0],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PlanErrorKind;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn wm(segment: &str, flavour: Flavour) -> Result<Watermark, PlanError> {
        match parse(segment, flavour)? {
            Step::Watermark(w) => Ok(*w),
            other => panic!("not a watermark: {other:?}"),
        }
    }

    fn t(segment: &str) -> Result<Watermark, PlanError> {
        wm(segment, Flavour::Tencent)
    }

    fn q(segment: &str) -> Result<Watermark, PlanError> {
        wm(segment, Flavour::Qiniu)
    }

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn kind<T: std::fmt::Debug>(r: Result<T, PlanError>) -> PlanErrorKind {
        r.unwrap_err().kind
    }

    #[test]
    fn tencent_text_defaults() {
        let w = t("2/text/5rC05Y2w5paH5a2X").unwrap();
        let x = w.text.clone().unwrap();
        assert_eq!(x.text, "水印文字");
        // tahoma.ttf is not installed: the proxy's default font.
        assert_eq!(x.font, DEFAULT_FONT);
        assert_eq!((x.size, x.color, x.shadow, x.rotate), (13, [0x3D; 3], 0, 0));
        assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Se, 0, 0, 90));
        assert!(!w.fill && w.image.is_none());
    }

    #[test]
    fn qiniu_text_defaults() {
        let w = q("2/text/5rC05Y2w5paH5a2X").unwrap();
        let x = w.text.clone().unwrap();
        assert_eq!(x.font, DEFAULT_FONT);
        // fontsize 0 (automatic) is 240 twips = 12 pt = 12 px; black.
        assert_eq!((x.size, x.color, x.shadow, x.rotate), (12, [0, 0, 0], 0, 0));
        assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Se, 10, 10, 100));
        assert_eq!(q("2/text/5rC05Y2w5paH5a2X/fontsize/0").unwrap(), w);
    }

    #[test]
    fn tencent_text_every_parameter() {
        // The document's example, plus font and shadow.
        let w = t(&format!(
            "2/text/6IW-6K6v5LqRwrfkuIfosaHkvJjlm74/font/{}/fill/IzNEM0QzRA/fontsize/20/dissolve/50/gravity/northeast/dx/20/dy/30/batch/1/degree/45/shadow/40",
            b64("wqy-microhei")
        ))
        .unwrap();
        let x = w.text.clone().unwrap();
        assert_eq!(x.text, "腾讯云·万象优图");
        assert_eq!(x.font, "wqy-microhei");
        assert_eq!(
            (x.size, x.color, x.shadow, x.rotate),
            (20, [0x3D; 3], 40, 45)
        );
        assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Ne, 20, 30, 50));
        // Tiled: the margins are the gaps between tiles.
        assert!(w.fill);
        assert_eq!((w.padx, w.pady), (20, 30));
        // Degree turns a text mark with or without tiling; 360 is 0.
        let w = t("2/text/5rC05Y2w5paH5a2X/degree/90").unwrap();
        assert_eq!((w.fill, w.text.unwrap().rotate), (false, 90));
        assert_eq!(
            t("2/text/5rC05Y2w5paH5a2X/degree/360")
                .unwrap()
                .text
                .unwrap()
                .rotate,
            0
        );
        assert!(!t("2/text/5rC05Y2w5paH5a2X/batch/0").unwrap().fill);
    }

    #[test]
    fn qiniu_text_every_parameter() {
        // The document's example: 七牛云存储 in 宋体, 1000 twips, white.
        let w = q("2/text/5LiD54mb5LqR5a2Y5YKo/font/5a6L5L2T/fontsize/1000/fill/d2hpdGU=/dissolve/85/gravity/SouthEast/dx/20/dy/20").unwrap();
        let x = w.text.clone().unwrap();
        assert_eq!(x.text, "七牛云存储");
        assert_eq!(x.font, DEFAULT_FONT);
        assert_eq!((x.size, x.color), (50, [255, 255, 255]));
        assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Se, 20, 20, 85));
        // Twips round to the nearest pixel, never below one.
        let size = |tw: u32| {
            q(&format!("2/text/SGk/fontsize/{tw}"))
                .unwrap()
                .text
                .unwrap()
                .size
        };
        assert_eq!((size(1), size(29), size(30), size(20000)), (1, 1, 2, 1000));
        assert_eq!(
            kind(q("2/text/SGk/fontsize/20001")),
            PlanErrorKind::InvalidArgument
        );
    }

    #[test]
    fn fonts_the_clouds_default_to_are_the_default_font() {
        let f = |name: &str| {
            t(&format!("2/text/SGk/font/{}", b64(name)))
                .unwrap()
                .text
                .unwrap()
                .font
        };
        for name in ["tahoma.ttf", "Tahoma", "黑体", "宋体", "simhei.ttf"] {
            assert_eq!(f(name), DEFAULT_FONT, "{name}");
        }
        // Installed names pass through; unknown ones are kept for the
        // renderer's fallback, as OSS does.
        assert_eq!(f("wqy-zenhei.ttf"), "wqy-zenhei");
        assert_eq!(f("fangzhengkaiti"), "fangzhengkaiti");
    }

    #[test]
    fn base64_in_either_alphabet_with_or_without_padding() {
        let fill = |v: &str| t(&format!("2/text/SGk/fill/{v}")).map(|w| w.text.unwrap().color);
        assert_eq!(fill("IzNEM0QzRA"), Ok([0x3D; 3]));
        assert_eq!(fill("IzNEM0QzRA=="), Ok([0x3D; 3]));
        let qfill = |v: &str| q(&format!("2/text/SGk/fill/{v}")).map(|w| w.text.unwrap().color);
        assert_eq!(qfill("d2hpdGU="), Ok([255; 3]));
        assert_eq!(qfill("d2hpdGU"), Ok([255; 3]));
        // 腾讯云·万象优图: URL-safe '-' or standard '+', padded or not.
        for v in [
            "6IW-6K6v5LqRwrfkuIfosaHkvJjlm74",
            "6IW-6K6v5LqRwrfkuIfosaHkvJjlm74=",
            "6IW+6K6v5LqRwrfkuIfosaHkvJjlm74",
            "6IW+6K6v5LqRwrfkuIfosaHkvJjlm74=",
            // A '+' a form decoder turned into a space.
            "6IW 6K6v5LqRwrfkuIfosaHkvJjlm74",
        ] {
            let w = t(&format!("2/text/{v}/fontsize/20")).unwrap();
            assert_eq!(w.text.unwrap().text, "腾讯云·万象优图", "{v}");
        }
        // "<<??>>": standard '/' and '+'; the '/' splits the grammar's own
        // separator and is rejoined up to the next parameter.
        for v in ["PDw/Pz4+", "PDw_Pz4-"] {
            let w = t(&format!("2/text/{v}/gravity/center")).unwrap();
            assert_eq!(w.text.unwrap().text, "<<??>>", "{v}");
            assert_eq!(w.gravity, Gravity::Center);
        }
        let e = t("2/text/!!!").unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::InvalidArgument);
        assert!(e.message.contains("'text'"), "{}", e.message);
        // Not UTF-8 (0xFF 0xFE).
        assert!(t("2/text/__4").unwrap_err().message.contains("base64"));
    }

    #[test]
    fn colours_are_hex_or_names() {
        let fill =
            |c: &str| q(&format!("2/text/SGk/fill/{}", b64(c))).map(|w| w.text.unwrap().color);
        assert_eq!(fill("#FF0000"), Ok([255, 0, 0]));
        assert_eq!(fill("ff8000"), Ok([255, 128, 0]));
        assert_eq!(fill("#0f0"), Ok([0, 255, 0]));
        assert_eq!(fill("red"), Ok([255, 0, 0]));
        assert_eq!(fill("White"), Ok([255, 255, 255]));
        assert_eq!(fill("gray"), Ok([128, 128, 128]));
        let e = fill("#12345").unwrap_err();
        assert!(e.message.contains("'fill'") && e.message.contains("not a colour"));
        assert_eq!(kind(fill("chartreusey")), PlanErrorKind::InvalidArgument);
    }

    #[test]
    fn gravity_names_are_case_insensitive() {
        let g = |v: &str| t(&format!("2/text/SGk/gravity/{v}")).map(|w| w.gravity);
        for (names, want) in [
            (["NorthWest", "northwest"], Gravity::Nw),
            (["North", "NORTH"], Gravity::North),
            (["NorthEast", "northeast"], Gravity::Ne),
            (["West", "west"], Gravity::West),
            (["Center", "center"], Gravity::Center),
            (["East", "east"], Gravity::East),
            (["SouthWest", "southwest"], Gravity::Sw),
            (["South", "south"], Gravity::South),
            (["SouthEast", "southEAST"], Gravity::Se),
        ] {
            for n in names {
                assert_eq!(g(n), Ok(want), "{n}");
            }
        }
        let e = g("se").unwrap_err();
        assert!(e.message.contains("'gravity'") && e.message.contains("SouthEast"));
    }

    #[test]
    fn tencent_image_defaults_and_its_url() {
        // The document's example URL, and its percent-encoded variant.
        let w = t(
            "1/image/aHR0cDovL2V4YW1wbGVzLTEyNTEwMDAwMDQucGljc2gubXlxY2xvdWQuY29tL3NodWl5aW4uanBn",
        )
        .unwrap();
        let i = w.image.clone().unwrap();
        assert_eq!(i, MarkImage::new("shuiyin.jpg"));
        assert_eq!(
            (w.gravity, w.x, w.y, w.opacity, w.fill),
            (Gravity::Se, 0, 0, 90, false)
        );
        assert!(w.text.is_none());
        let w = t("1/image/aHR0cCUzQS8vZXhhbXBsZWJ1Y2tldC0xMjUwMDAwMDAwLnBpY3NoLm15cWNsb3VkLmNvbS9zaHVpeWluXzIucG5n/gravity/southeast").unwrap();
        assert_eq!(w.image.unwrap().key, "shuiyin_2.png");
        // Any host is this bucket; the path is the key, percent-decoded;
        // https is accepted too.
        let key = |url: &str| t(&format!("1/image/{}", b64(url))).map(|w| w.image.unwrap().key);
        assert_eq!(
            key("http://other-1250000000.cos.ap-beijing.myqcloud.com/a/b%20c.png"),
            Ok("a/b c.png".into())
        );
        assert_eq!(
            key("https://localhost:8080/logo.png"),
            Ok("logo.png".into())
        );
    }

    #[test]
    fn tencent_image_every_parameter() {
        let url = b64("http://b-1250000000.cos.ap-shanghai.myqcloud.com/logo.png");
        let w = t(&format!(
            "1/image/{url}/gravity/NorthWest/dx/5/dy/7/dissolve/60/blogo/1/scatype/1/spcent/250"
        ))
        .unwrap();
        let i = w.image.clone().unwrap();
        assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Nw, 5, 7, 60));
        assert_eq!(i.oversize, Oversize::Shrink);
        assert_eq!(
            i.scale,
            Some(MarkScale {
                by: ScaleBy::Width,
                permille: 250
            })
        );
        let i = t(&format!("1/image/{url}/blogo/2/scatype/2/spcent/1000"))
            .unwrap()
            .image
            .unwrap();
        assert_eq!(i.oversize, Oversize::Crop);
        assert_eq!(
            i.scale,
            Some(MarkScale {
                by: ScaleBy::Height,
                permille: 1000
            })
        );
        let i = t(&format!("1/image/{url}/scatype/3/spcent/250"))
            .unwrap()
            .image
            .unwrap();
        assert_eq!(
            i.scale,
            Some(MarkScale {
                by: ScaleBy::Area,
                permille: 250
            })
        );
        // Tiled and turned: the turn is the mark's own rotation.
        let w = t(&format!("1/image/{url}/batch/1/degree/30")).unwrap();
        assert!(w.fill);
        assert_eq!(
            w.image.unwrap().steps,
            vec![MarkStep::Rotate(Rotate { degrees: 30 })]
        );
        // Without batch, degree is not honoured (the reference, §1.4).
        assert!(
            t(&format!("1/image/{url}/degree/30"))
                .unwrap()
                .image
                .unwrap()
                .steps
                .is_empty()
        );
        // Scaling needs both halves, in range.
        assert_eq!(
            kind(t(&format!("1/image/{url}/scatype/1"))),
            PlanErrorKind::MissingArgument
        );
        assert_eq!(
            kind(t(&format!("1/image/{url}/spcent/100"))),
            PlanErrorKind::MissingArgument
        );
        assert_eq!(
            kind(t(&format!("1/image/{url}/scatype/3/spcent/251"))),
            PlanErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(t(&format!("1/image/{url}/scatype/4/spcent/10"))),
            PlanErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(t(&format!("1/image/{url}/blogo/3"))),
            PlanErrorKind::InvalidArgument
        );
        // Qiniu's scale parameters are not Tencent's.
        assert!(
            t(&format!("1/image/{url}/ws/0.5"))
                .unwrap_err()
                .message
                .contains("'ws'")
        );
    }

    #[test]
    fn qiniu_image_defaults_urls_and_scale() {
        // The document's example (padded base64).
        let w = q("1/image/aHR0cDovL3d3dy5iMS5xaW5pdWRuLmNvbS9pbWFnZXMvbG9nby0yLnBuZw==/dissolve/50/gravity/SouthEast/dx/20/dy/20").unwrap();
        let i = w.image.clone().unwrap();
        assert_eq!(i.key, "images/logo-2.png");
        // Qiniu returns the original unmarked when the mark is larger.
        assert_eq!((i.oversize, i.scale), (Oversize::Skip, None));
        assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Se, 20, 20, 50));
        let w = q(&format!(
            "1/image/{}",
            b64("http://cdn.example.com/logo.png")
        ))
        .unwrap();
        assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Se, 10, 10, 100));
        let key = |url: &str| q(&format!("1/image/{}", b64(url))).map(|w| w.image.unwrap().key);
        assert_eq!(
            key("kodo://my-bucket/marks/logo.png"),
            Ok("marks/logo.png".into())
        );
        assert_eq!(
            key("https://cdn.example.com/logo.png"),
            Ok("logo.png".into())
        );
        let scale = |p: &str| {
            q(&format!("1/image/{}/{p}", b64("kodo://b/l.png"))).map(|w| w.image.unwrap().scale)
        };
        assert_eq!(
            scale("ws/0.5"),
            Ok(Some(MarkScale {
                by: ScaleBy::Short,
                permille: 500
            }))
        );
        assert_eq!(
            scale("ws/.25/wst/1"),
            Ok(Some(MarkScale {
                by: ScaleBy::Long,
                permille: 250
            }))
        );
        assert_eq!(
            scale("ws/1/wst/2"),
            Ok(Some(MarkScale {
                by: ScaleBy::Width,
                permille: 1000
            }))
        );
        assert_eq!(
            scale("wst/3/ws/0.1"),
            Ok(Some(MarkScale {
                by: ScaleBy::Height,
                permille: 100
            }))
        );
        assert_eq!(scale("ws/0"), Ok(None));
        for bad in ["ws/1.5", "ws/-0.5", "ws/abc", "ws/NaN", "wst/4/ws/0.5"] {
            let e = scale(bad).unwrap_err();
            assert_eq!(e.kind, PlanErrorKind::InvalidArgument, "{bad}");
            assert!(e.message.contains("'ws"), "{bad}: {}", e.message);
        }
        // Tencent's extras are not Qiniu's.
        for extra in ["blogo/1", "batch/1", "degree/10", "scatype/1"] {
            let e = q(&format!("1/image/{}/{extra}", b64("kodo://b/l.png"))).unwrap_err();
            assert!(e.message.contains("Qiniu"), "{extra}: {}", e.message);
        }
        assert!(
            q("2/text/SGk/shadow/10")
                .unwrap_err()
                .message
                .contains("'shadow'")
        );
    }

    #[test]
    fn urls_outside_the_bucket_are_refused() {
        for (url, flavour) in [
            ("logo.png", Flavour::Tencent),
            (
                "examplebucket-1250000000.cos.ap-shanghai.myqcloud.com/logo.png",
                Flavour::Tencent,
            ),
            ("ftp://host/logo.png", Flavour::Qiniu),
            ("kodo://bucket/logo.png", Flavour::Tencent),
            ("http://host", Flavour::Tencent),
            ("http://host/", Flavour::Qiniu),
            ("http://host/../secret", Flavour::Tencent),
            ("http://host/a/%2E%2E/%2E%2E/b", Flavour::Qiniu),
            ("http://host//etc/passwd", Flavour::Tencent),
            (
                "http://host/logo.png?imageMogr2/thumbnail/!50p",
                Flavour::Tencent,
            ),
            ("http://169.254.169.254/latest/meta-data#x", Flavour::Qiniu),
        ] {
            let e = wm(&format!("1/image/{}", b64(url)), flavour).unwrap_err();
            assert_eq!(e.kind, PlanErrorKind::Watermark, "{url}: {}", e.message);
        }
    }

    #[test]
    fn malformed_segments_are_refused_by_name() {
        let missing = [
            ("", "type"),
            ("1", "image/"),
            ("2", "text/"),
            ("2/fontsize/20", "text/"),
            ("2/text", "'text'"),
            ("2/text/SGk/dx", "'dx'"),
        ];
        for (seg, named) in missing {
            let e = t(seg).unwrap_err();
            assert_eq!(e.kind, PlanErrorKind::MissingArgument, "{seg}");
            assert!(e.message.contains(named), "{seg}: {}", e.message);
        }
        let invalid = [
            ("4/text/SGk", "'4'"),
            ("2/text/SGk/size/20", "'size'"),
            ("2/text/SGk/dissolve/0", "'dissolve'"),
            ("2/text/SGk/dissolve/101", "'dissolve'"),
            ("2/text/SGk/dx/-1", "'dx'"),
            ("2/text/SGk/dy/10000", "'dy'"),
            ("2/text/SGk/dx/ten", "'dx'"),
            ("2/text/SGk/fontsize/0", "'fontsize'"),
            ("2/text/SGk/fontsize/1001", "'fontsize'"),
            ("2/text/SGk/batch/2", "'batch'"),
            ("2/text/SGk/degree/361", "'degree'"),
            ("2/text/SGk/shadow/101", "'shadow'"),
        ];
        for (seg, named) in invalid {
            let e = t(seg).unwrap_err();
            assert_eq!(e.kind, PlanErrorKind::InvalidArgument, "{seg}");
            assert!(e.message.contains(named), "{seg}: {}", e.message);
        }
        // Text length: the renderer's limit, in characters.
        assert!(t(&format!("2/text/{}", b64(&"水".repeat(MAX_TEXT_CHARS)))).is_ok());
        let e = t(&format!("2/text/{}", b64(&"a".repeat(MAX_TEXT_CHARS + 1)))).unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::InvalidArgument);
        assert_eq!(kind(t("2/text/")), PlanErrorKind::MissingArgument);
        // A repeated parameter: the last wins, as in OSS.
        assert_eq!(t("2/text/SGk/dx/1/dx/2").unwrap().x, 2);
    }

    #[test]
    fn blind_and_multiple_watermarks_are_not_implemented() {
        let e = t("3/type/3/text/SGk").unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::NotImplemented);
        assert!(e.message.contains("Blind"), "{}", e.message);
        let e = q("3/text/SGk").unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::NotImplemented);
        assert!(e.message.contains('|'), "{}", e.message);
    }

    /// The same request in OSS's grammar and in Tencent's and Qiniu's is
    /// the same neutral step.
    #[test]
    fn same_intent_as_oss() {
        let oss = |s: &str| match &crate::Plan::parse(s).unwrap().steps[0] {
            Step::Watermark(w) => (**w).clone(),
            other => panic!("{other:?}"),
        };
        let text = b64("Hello 水印");
        let a = oss(&format!(
            "watermark,text_{text},g_se,x_10,y_10,t_80,size_30,color_FF0000,shadow_50,rotate_15"
        ));
        let b = t(&format!("2/text/{text}/gravity/southeast/dx/10/dy/10/dissolve/80/fontsize/30/fill/{}/shadow/50/degree/15", b64("#FF0000"))).unwrap();
        assert_eq!(a, b);
        // Qiniu: 600 twips = 30 px.
        let c = q(&format!(
            "2/text/{text}/gravity/SouthEast/dissolve/80/fontsize/600/fill/{}",
            b64("red")
        ))
        .unwrap();
        let a = oss(&format!("watermark,text_{text},t_80,size_30,color_FF0000"));
        assert_eq!(a, c);
        let a = oss(&format!(
            "watermark,image_{},g_nw,x_0,y_5,t_90",
            b64("marks/logo.png")
        ));
        let b = t(&format!(
            "1/image/{}/gravity/northwest/dy/5",
            b64("http://b-1.cos.ap-guangzhou.myqcloud.com/marks/logo.png")
        ))
        .unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn relative_scales_and_their_cache_keys() {
        let s = |by, permille| MarkScale { by, permille };
        // A 100x50 mark on a 400x300 image.
        assert_eq!(s(ScaleBy::Width, 250).size(400, 300, 100, 50), (100, 50));
        assert_eq!(s(ScaleBy::Height, 500).size(400, 300, 100, 50), (300, 150));
        // A tenth of the area: 12 000 px² at 2:1 is about 155x77.
        assert_eq!(s(ScaleBy::Area, 100).size(400, 300, 100, 50), (155, 77));
        assert_eq!(s(ScaleBy::Short, 500).size(400, 300, 100, 50), (300, 150));
        assert_eq!(s(ScaleBy::Long, 500).size(400, 300, 100, 50), (200, 100));
        assert_eq!(s(ScaleBy::Width, 1).size(400, 300, 100, 50), (1, 1));
        // Scaled, fitted and plain marks are three cache entries.
        let key = |seg: &str| {
            let mut out = String::new();
            t(seg).unwrap().canonical(&mut out);
            out
        };
        let url = b64("http://h/logo.png");
        let keys = [
            key(&format!("1/image/{url}")),
            key(&format!("1/image/{url}/scatype/1/spcent/100")),
            key(&format!("1/image/{url}/scatype/2/spcent/100")),
            key(&format!("1/image/{url}/blogo/1")),
            key(&format!("1/image/{url}/blogo/2")),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
