//! `watermark,…`: an image, a text, or both, placed at a gravity with
//! margins, or tiled over the whole image (SPEC §3; the reference's
//! watermark section).

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

use crate::action::crop::Crop;
use crate::action::indexcrop::IndexCrop;
use crate::action::resize::Resize;
use crate::action::rotate::Rotate;
use crate::action::rounded_corners::RoundedCorners;
use crate::error::PlanError;
use crate::geometry::Gravity;
use crate::params::Params;

/// Characters a text watermark may have, after decoding.
pub const MAX_TEXT_CHARS: usize = 64;
/// The font used when `type` is absent or names a font not installed.
pub const DEFAULT_FONT: &str = "wqy-zenhei";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    /// `t`: opacity in percent (100 = opaque).
    pub opacity: u8,
    /// `g`: default `se`.
    pub gravity: Gravity,
    /// `x`, `y`: margins from the edges the gravity names.
    pub x: u32,
    pub y: u32,
    /// `voffset`: shift from the horizontal centre line (west, center,
    /// east); positive moves the watermark down.
    pub voffset: i32,
    /// `fill_1`: tile over the whole image, `padx`/`pady` apart.
    pub fill: bool,
    pub padx: u32,
    pub pady: u32,
    pub image: Option<MarkImage>,
    pub text: Option<MarkText>,
    /// Text-and-image: `order_0` image first (default), `order_1` text first.
    pub text_first: bool,
    /// Text-and-image vertical alignment: 0 top (default), 1 middle, 2 bottom.
    pub align: u8,
    /// Text-and-image gap in pixels.
    pub interval: u32,
}

/// An image watermark: an object of the request's own bucket, with its own
/// pre-processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkImage {
    /// The object key as decoded (never a URL, never outside the bucket).
    pub key: String,
    /// `resize,P_n`: scale the watermark to n % of the main image's width.
    pub percent: Option<u8>,
    pub steps: Vec<MarkStep>,
    /// A scale relative to the main image (Tencent `scatype`/`spcent`,
    /// Qiniu `ws`/`wst`); OSS spells this only as `P`.
    pub scale: Option<MarkScale>,
    /// What a mark larger than the main image does (OSS: overlaid, clipped).
    pub oversize: Oversize,
}

/// A mark scaled so one measure of it is a share (per mille) of the same
/// measure of the main image, keeping its aspect ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkScale {
    pub by: ScaleBy,
    /// 1..=1000.
    pub permille: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleBy {
    Width,
    Height,
    Area,
    /// The mark's short edge against the main image's short edge.
    Short,
    /// The mark's long edge against the main image's long edge.
    Long,
}

impl ScaleBy {
    fn as_str(self) -> &'static str {
        match self {
            ScaleBy::Width => "w",
            ScaleBy::Height => "h",
            ScaleBy::Area => "area",
            ScaleBy::Short => "short",
            ScaleBy::Long => "long",
        }
    }
}

impl MarkScale {
    /// The size a `w`×`h` mark takes on a `main_w`×`main_h` image (each
    /// side at least 1).
    pub fn size(self, main_w: u32, main_h: u32, w: u32, h: u32) -> (u32, u32) {
        let k = f64::from(self.permille) / 1000.0;
        let (mw, mh) = (f64::from(main_w), f64::from(main_h));
        let (fw, fh) = (f64::from(w.max(1)), f64::from(h.max(1)));
        let factor = match self.by {
            ScaleBy::Width => mw * k / fw,
            ScaleBy::Height => mh * k / fh,
            ScaleBy::Area => (mw * mh * k / (fw * fh)).sqrt(),
            ScaleBy::Short => mw.min(mh) * k / fw.min(fh),
            ScaleBy::Long => mw.max(mh) * k / fw.max(fh),
        };
        let side = |v: f64| (v * factor).round().clamp(1.0, f64::from(u32::MAX)) as u32;
        (side(fw), side(fh))
    }
}

/// A mark wider or taller than the main image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Oversize {
    /// Drawn anyway, clipped at the edges (OSS).
    #[default]
    Overlay,
    /// Not drawn at all (Qiniu: "the original is returned unmarked").
    Skip,
    /// Scaled down to fit inside the main image (Tencent `blogo/1`).
    Shrink,
    /// Cut to the main image's size from its top-left (Tencent `blogo/2`).
    Crop,
}

impl Oversize {
    fn as_str(self) -> &'static str {
        match self {
            Oversize::Overlay => "overlay",
            Oversize::Skip => "skip",
            Oversize::Shrink => "shrink",
            Oversize::Crop => "crop",
        }
    }
}

/// What an image watermark's pre-processing may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkStep {
    Resize(Resize),
    Crop(Crop),
    IndexCrop(IndexCrop),
    RoundedCorners(RoundedCorners),
    Rotate(Rotate),
}

impl MarkStep {
    /// The pipeline step it runs as.
    pub fn step(self) -> crate::Step {
        use crate::Step;
        match self {
            MarkStep::Resize(r) => Step::Resize(r),
            MarkStep::Crop(c) => Step::Crop(c),
            MarkStep::IndexCrop(c) => Step::IndexCrop(c),
            MarkStep::RoundedCorners(c) => Step::RoundedCorners(c),
            MarkStep::Rotate(r) => Step::Rotate(r),
        }
    }
}

impl MarkImage {
    /// The size `P_n` scales a `w`×`h` mark to on a `main_w`-wide image
    /// (n % of that width, the height in proportion, each side at least
    /// 1); `None` without `P_`.
    pub fn percent_size(&self, main_w: u32, w: u32, h: u32) -> Option<(u32, u32)> {
        let percent = self.percent?;
        let tw = (u64::from(main_w) * u64::from(percent))
            .div_ceil(100)
            .max(1) as u32;
        let th =
            ((u64::from(h) * u64::from(tw) + u64::from(w) / 2) / u64::from(w.max(1))).max(1) as u32;
        Some((tw, th))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkText {
    pub text: String,
    /// The font name as written (`wqy-zenhei`, …); resolved by the renderer.
    pub font: String,
    pub color: [u8; 3],
    /// Pixels, 1..=1000.
    pub size: u32,
    /// Shadow opacity in percent; 0 = no shadow.
    pub shadow: u8,
    /// Clockwise degrees.
    pub rotate: u32,
}

const KNOWN: [&str; 19] = [
    "t", "g", "x", "y", "voffset", "fill", "padx", "pady", "image", "text", "type", "color",
    "size", "shadow", "rotate", "order", "align", "interval", "P",
];

/// The one message OSS gives for any undecodable base64 value.
pub const BASE64_MESSAGE: &str = "Input is not base64 decoding.";

/// URL-safe base64 with or without padding (both spellings are in use).
pub fn decode_base64(value: &str) -> Result<String, PlanError> {
    let bad = || PlanError::bad_request(BASE64_MESSAGE);
    let bytes = if value.ends_with('=') {
        URL_SAFE.decode(value)
    } else {
        URL_SAFE_NO_PAD.decode(value)
    }
    .map_err(|_| bad())?;
    String::from_utf8(bytes).map_err(|_| bad())
}

/// Base64 of UTF-8 text in either alphabet (URL-safe or standard), with or
/// without padding: what the other clouds' documents and SDKs write
/// (Tencent's own demo uses the standard one). `None` when it is not.
pub fn decode_base64_any(value: &str) -> Option<String> {
    let url_safe: String = value
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = URL_SAFE_NO_PAD.decode(url_safe).ok()?;
    String::from_utf8(bytes).ok()
}

fn encode_base64(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(value)
}

impl Watermark {
    pub fn parse(p: &Params) -> Result<Watermark, PlanError> {
        p.only(&KNOWN)?;
        let int = |name, range| p.int(name, range);
        let gravity = match p.get("g") {
            None => Gravity::Se,
            Some(g) => Gravity::parse(g).ok_or_else(|| {
                PlanError::invalid(format!(
                    "The watermark parameter g_{g} is not a position; use one of {}.",
                    Gravity::NAMES.join(", ")
                ))
            })?,
        };
        let image = p.get("image").map(MarkImage::parse).transpose()?;
        let text = match p.get("text") {
            None => None,
            Some(t) => Some(MarkText::parse(t, p)?),
        };
        if image.is_none() && text.is_none() {
            return Err(PlanError::missing(
                "'watermark' needs text_ (base64 text) or image_ (base64 object key).",
            ));
        }
        if p.get("P").is_some() {
            return Err(PlanError::invalid(
                "The watermark parameter P belongs inside the watermark image's own resize (image_<base64 of 'key?x-oss-process=image/resize,P_30'>).",
            ));
        }
        Ok(Watermark {
            opacity: int("t", 0..=100)?.unwrap_or(100) as u8,
            gravity,
            x: int("x", 0..=4096)?.unwrap_or(10) as u32,
            y: int("y", 0..=4096)?.unwrap_or(10) as u32,
            voffset: int("voffset", -1000..=1000)?.unwrap_or(0) as i32,
            fill: int("fill", 0..=1)?.unwrap_or(0) == 1,
            padx: int("padx", 0..=4096)?.unwrap_or(0) as u32,
            pady: int("pady", 0..=4096)?.unwrap_or(0) as u32,
            image,
            text,
            text_first: int("order", 0..=1)?.unwrap_or(0) == 1,
            align: int("align", 0..=2)?.unwrap_or(0) as u8,
            interval: int("interval", 0..=1000)?.unwrap_or(0) as u32,
        })
    }

    pub fn canonical(&self, out: &mut String) {
        out.push_str("watermark");
        if let Some(i) = &self.image {
            out.push_str(&format!(",image_{}", encode_base64(&i.source())));
        }
        if let Some(t) = &self.text {
            out.push_str(&format!(
                ",text_{},type_{},color_{:02X}{:02X}{:02X},size_{},shadow_{},rotate_{}",
                encode_base64(&t.text),
                encode_base64(&t.font),
                t.color[0],
                t.color[1],
                t.color[2],
                t.size,
                t.shadow,
                t.rotate
            ));
        }
        out.push_str(&format!(
            ",t_{},g_{},x_{},y_{},voffset_{},fill_{},padx_{},pady_{}",
            self.opacity,
            self.gravity.as_str(),
            self.x,
            self.y,
            self.voffset,
            u8::from(self.fill),
            self.padx,
            self.pady
        ));
        if self.image.is_some() && self.text.is_some() {
            out.push_str(&format!(
                ",order_{},align_{},interval_{}",
                u8::from(self.text_first),
                self.align,
                self.interval
            ));
        }
    }
}

impl MarkImage {
    /// The object `key` as it is: no scaling, no pre-processing.
    pub fn new(key: &str) -> MarkImage {
        MarkImage {
            key: key.to_owned(),
            percent: None,
            steps: Vec::new(),
            scale: None,
            oversize: Oversize::Overlay,
        }
    }

    fn parse(encoded: &str) -> Result<MarkImage, PlanError> {
        let decoded = decode_base64(encoded)?;
        let (key, process) = match decoded.split_once('?') {
            None => (decoded.as_str(), None),
            Some((key, query)) => {
                let process = query.strip_prefix("x-oss-process=").ok_or_else(|| {
                    PlanError::invalid(format!(
                        "The watermark image '{decoded}' may only carry '?x-oss-process=image/…'."
                    ))
                })?;
                (key, Some(process))
            }
        };
        check_key(key)?;
        let mut mark = MarkImage::new(key);
        if let Some(process) = process {
            let steps = process.strip_prefix("image/").ok_or_else(|| {
                PlanError::invalid(format!(
                    "The watermark image's process '{process}' must start with 'image/'."
                ))
            })?;
            for raw in steps.split('/').filter(|s| !s.is_empty()) {
                mark.add_step(raw)?;
            }
        }
        Ok(mark)
    }

    fn add_step(&mut self, raw: &str) -> Result<(), PlanError> {
        let mut parts = raw.split(',');
        let action = parts.next().unwrap_or_default();
        let mut rest: Vec<&str> = parts.collect();
        let step = match action {
            "resize" => {
                // P is the watermark's own parameter: a share of the main image.
                if let Some(i) = rest.iter().position(|r| r.starts_with("P_")) {
                    let v = rest.remove(i);
                    let n = crate::params::parse_int("resize", "P", &v[2..], &(1..=100))?;
                    self.percent = Some(n as u8);
                    if rest.iter().all(|r| r.is_empty()) {
                        return Ok(());
                    }
                }
                MarkStep::Resize(Resize::parse(&Params::parse(action, &rest))?)
            }
            "crop" => MarkStep::Crop(Crop::parse(&Params::parse(action, &rest))?),
            "indexcrop" => MarkStep::IndexCrop(IndexCrop::parse(&Params::parse(action, &rest))?),
            "rounded-corners" => {
                MarkStep::RoundedCorners(RoundedCorners::parse(&Params::parse(action, &rest))?)
            }
            "rotate" => MarkStep::Rotate(Rotate::parse(&Params::parse(action, &rest))?),
            "watermark" => {
                return Err(PlanError::invalid(
                    "A watermark image's pre-processing cannot contain another watermark.",
                ));
            }
            "info" => {
                return Err(PlanError::invalid(
                    "A watermark image's pre-processing cannot contain info.",
                ));
            }
            other => {
                return Err(PlanError::invalid(format!(
                    "A watermark image's pre-processing supports resize, crop, indexcrop, rounded-corners and rotate, not '{other}'."
                )));
            }
        };
        self.steps.push(step);
        Ok(())
    }

    /// The decoded `image_` value, rebuilt from the typed steps.
    fn source(&self) -> String {
        let mut process = String::new();
        if let Some(p) = self.percent {
            process.push_str(&format!("/resize,P_{p}"));
        }
        for step in &self.steps {
            process.push('/');
            match step {
                MarkStep::Resize(s) => s.canonical(&mut process),
                MarkStep::Crop(s) => s.canonical(&mut process),
                MarkStep::IndexCrop(s) => s.canonical(&mut process),
                MarkStep::RoundedCorners(s) => s.canonical(&mut process),
                MarkStep::Rotate(s) => s.canonical(&mut process),
            }
        }
        // Not OSS spellings (its parser refuses them), so no OSS string can
        // collide with these in the cache key.
        if let Some(s) = self.scale {
            process.push_str(&format!("/scale,{}_{}", s.by.as_str(), s.permille));
        }
        if self.oversize != Oversize::Overlay {
            process.push_str(&format!("/oversize,{}", self.oversize.as_str()));
        }
        if process.is_empty() {
            self.key.clone()
        } else {
            format!("{}?x-oss-process=image{process}", self.key)
        }
    }
}

/// A watermark names an object of the request's own bucket: a relative key,
/// never a URL, never a path that climbs out.
pub fn check_key(key: &str) -> Result<(), PlanError> {
    let refuse = |why: &str| {
        Err(PlanError::watermark(format!(
            "The watermark image '{key}' is not an object key of this bucket: {why}."
        )))
    };
    if key.is_empty() {
        return refuse("it is empty");
    }
    if key.contains("://") {
        return refuse("watermarks are read from the same bucket, never from a URL");
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return refuse("it is an absolute path");
    }
    if key.split(['/', '\\']).any(|seg| seg == ".." || seg == ".") {
        return refuse("it contains '.' or '..' segments");
    }
    if key.chars().any(char::is_control) {
        return refuse("it contains control characters");
    }
    Ok(())
}

impl MarkText {
    fn parse(encoded: &str, p: &Params) -> Result<MarkText, PlanError> {
        if encoded.is_empty() {
            return Err(PlanError::missing(
                "The watermark parameter text is empty; give the base64 of the text.",
            ));
        }
        let text = decode_base64(encoded)?;
        let chars = text.chars().count();
        if chars == 0 {
            return Err(PlanError::missing("The watermark text is empty."));
        }
        if chars > MAX_TEXT_CHARS {
            return Err(PlanError::invalid(format!(
                "The watermark text has {chars} characters; at most {MAX_TEXT_CHARS} are allowed."
            )));
        }
        let font = match p.get("type") {
            None => DEFAULT_FONT.to_owned(),
            Some(t) => decode_base64(t)?.trim().to_owned(),
        };
        let color = match p.get("color") {
            None => [0, 0, 0],
            Some(c) => text_color(c)?,
        };
        Ok(MarkText {
            text,
            font,
            color,
            size: p.int("size", 1..=1000)?.unwrap_or(40) as u32,
            shadow: p.int("shadow", 0..=100)?.unwrap_or(0) as u8,
            rotate: (p.int("rotate", 0..=360)?.unwrap_or(0) % 360) as u32,
        })
    }
}

/// `color_`: six hex digits are the colour itself (the current service);
/// anything else is URL-safe base64 of `#RRGGBB` (the older guide's
/// `color_I0ZGMDAwMA` for red), as SPEC §3 decides.
fn text_color(c: &str) -> Result<[u8; 3], PlanError> {
    if let Some(rgb) = parse_color(c) {
        return Ok(rgb);
    }
    let decoded = decode_base64(c)?;
    parse_color(decoded.trim().trim_start_matches('#')).ok_or_else(|| {
        PlanError::invalid(format!(
            "The watermark parameter color_{c} is not a colour: give six hex digits (color_FF0000) or base64 of '#RRGGBB' (color_I0ZGMDAwMA)."
        ))
    })
}

fn parse_color(c: &str) -> Option<[u8; 3]> {
    if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let n = u32::from_str_radix(c, 16).ok()?;
    Some([(n >> 16) as u8, (n >> 8) as u8, n as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_colour_is_plain_hex_or_base64_of_hash_hex() {
        let colour = |c: &str| {
            let w = wm(&format!("watermark,text_SGVsbG8,color_{c}")).map_err(|e| e.message)?;
            Ok::<_, String>(w.text.map(|t| t.color))
        };
        assert_eq!(colour("FF0000"), Ok(Some([255, 0, 0])));
        // The older guide's form: URL-safe base64 of "#FF0000", padded or not.
        assert_eq!(colour("I0ZGMDAwMA"), Ok(Some([255, 0, 0])));
        assert_eq!(colour("I0ZGMDAwMA=="), Ok(Some([255, 0, 0])));
        // Base64 of a non-colour, and a non-base64 value, are refused by name.
        assert!(colour("aGVsbG8").unwrap_err().contains("is not a colour"));
        assert_eq!(colour("#FF0000").unwrap_err(), BASE64_MESSAGE);
        // Both spellings are one canonical string (one cache entry).
        let a = wm("watermark,text_SGVsbG8,color_I0ZGMDAwMA").unwrap();
        let b = wm("watermark,text_SGVsbG8,color_FF0000").unwrap();
        assert_eq!(a, b);
    }

    fn wm(s: &str) -> Result<Watermark, PlanError> {
        let mut parts = s.split(',');
        let action = parts.next().unwrap();
        let rest: Vec<&str> = parts.collect();
        Watermark::parse(&Params::parse(action, &rest))
    }

    #[test]
    fn text_with_defaults() {
        let w = wm("watermark,text_5rC05Y2w5paH5a2X").unwrap();
        let t = w.text.unwrap();
        assert_eq!(t.text, "水印文字");
        assert_eq!(t.font, "wqy-zenhei");
        assert_eq!((t.size, t.color, t.shadow), (40, [0, 0, 0], 0));
        assert_eq!((w.gravity, w.x, w.y, w.opacity), (Gravity::Se, 10, 10, 100));
    }

    #[test]
    fn base64_with_or_without_padding() {
        // "wqy-zenhei", both spellings of the seed.
        for t in ["d3F5LXplbmhlaQ", "d3F5LXplbmhlaQ=="] {
            let w = wm(&format!("watermark,text_SGVsbG8,type_{t}")).unwrap();
            assert_eq!(w.text.unwrap().font, "wqy-zenhei");
        }
        let e = wm("watermark,text_!!!").unwrap_err();
        assert_eq!(e.message, "Input is not base64 decoding.");
        assert_eq!(e.kind, crate::PlanErrorKind::BadRequest);
    }

    #[test]
    fn image_with_percent_and_preprocessing() {
        // "panda.png?x-oss-process=image/resize,P_30"
        let w = wm("watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLFBfMzA,t_90,g_se,x_10,y_10").unwrap();
        let i = w.image.unwrap();
        assert_eq!((i.key.as_str(), i.percent), ("panda.png", Some(30)));
        assert!(i.steps.is_empty());
        assert_eq!(w.opacity, 90);
        // "panda.png?x-oss-process=image/resize,w_50" with '=' padding.
        let w =
            wm("watermark,image_cGFuZGEucG5nP3gtb3NzLXByb2Nlc3M9aW1hZ2UvcmVzaXplLHdfNTA=").unwrap();
        assert_eq!(w.image.unwrap().steps.len(), 1);
    }

    #[test]
    fn keys_outside_the_bucket_are_refused() {
        for key in [
            "../secret",
            "http://169.254.169.254/latest",
            "/etc/passwd",
            "a/../../b",
        ] {
            let e = wm(&format!("watermark,image_{}", encode_base64(key))).unwrap_err();
            assert_eq!(e.kind, crate::PlanErrorKind::Watermark, "{key}");
        }
    }

    #[test]
    fn the_references_error_cases() {
        assert!(wm("watermark").is_err());
        assert!(wm("watermark,text").is_err());
        assert!(
            wm(&format!(
                "watermark,text_{}",
                encode_base64(&"a".repeat(65))
            ))
            .is_err()
        );
        assert!(
            wm(&format!(
                "watermark,text_{}",
                encode_base64(&"水".repeat(64))
            ))
            .is_ok()
        );
        assert!(wm("watermark,text_SGVsbG8gV29ybGQ,x_8000").is_err());
        assert!(wm("watermark,text_SGVsbG8gV29ybGQ,type_bm90c3VwcG9ydAo,color_AABBCCDD").is_err());
        assert!(wm("watermark,text_SGVsbG8,rotate_400").is_err());
        assert!(wm("watermark,text_SGVsbG8,fill_2").is_err());
        assert!(wm("watermark,text_SGVsbG8,image_cGFuZGEucG5n,order_2").is_err());
        // A preprocessing with another watermark or with info.
        let nested = encode_base64("p.png?x-oss-process=image/watermark,text_SGVsbG8");
        assert!(wm(&format!("watermark,image_{nested}")).is_err());
        let info = encode_base64("p.png?x-oss-process=image/info");
        assert!(wm(&format!("watermark,image_{info}")).is_err());
    }

    #[test]
    fn canonical_normalises_padding_and_defaults() {
        let mut a = String::new();
        wm("watermark,text_SGVsbG8=,g_se")
            .unwrap()
            .canonical(&mut a);
        let mut b = String::new();
        wm("watermark,x_10,text_SGVsbG8").unwrap().canonical(&mut b);
        assert_eq!(a, b);
    }
}
