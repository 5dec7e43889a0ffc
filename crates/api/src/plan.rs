//! Phase two of parsing: the steps of an `image/…` string, typed, range-checked
//! and with defaults filled; and the canonical string written back from them.

use crate::action::blur::Blur;
use crate::action::circle::Circle;
use crate::action::crop::Crop;
use crate::action::flip::Flip;
use crate::action::format::Format;
use crate::action::indexcrop::IndexCrop;
use crate::action::negotiate::Preferred;
use crate::action::placeholder::Placeholder;
use crate::action::quality::Quality;
use crate::action::resize::Resize;
use crate::action::rotate::Rotate;
use crate::action::rounded_corners::RoundedCorners;
use crate::action::smart_crop::SmartCrop;
use crate::action::watermark::Watermark;
use crate::error::PlanError;
use crate::metadata::{ColourBody, MetadataKind};
use crate::params::Params;
use crate::policy::Policy;

/// Longest process string accepted (the service refuses over-long ones, 0017-00000288).
pub const MAX_PROCESS_LEN: usize = 4096;
/// Most steps in one process string.
pub const MAX_STEPS: usize = 32;

/// Image watermarks one process string may use (the service's limit).
pub const MAX_IMAGE_WATERMARKS: usize = 3;

/// One pixel step, run left to right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Resize(Resize),
    Crop(Crop),
    /// `w`×`h` where the image is most interesting (chosen from its pixels).
    SmartCrop(SmartCrop),
    IndexCrop(IndexCrop),
    Circle(Circle),
    RoundedCorners(RoundedCorners),
    Rotate(Rotate),
    Blur(Blur),
    /// −100..=100.
    Bright(i32),
    /// −100..=100.
    Contrast(i32),
    /// 50..=399.
    Sharpen(u32),
    Watermark(Box<Watermark>),
    /// Mirror (no OSS spelling).
    Flip(Flip),
    /// Every pixel to its luma, alpha kept (no OSS spelling).
    Grayscale,
}

impl Step {
    /// The action's name as written in process strings.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Resize(_) => "resize",
            Step::Crop(_) => "crop",
            Step::SmartCrop(_) => "smartcrop",
            Step::IndexCrop(_) => "indexcrop",
            Step::Circle(_) => "circle",
            Step::RoundedCorners(_) => "rounded-corners",
            Step::Rotate(_) => "rotate",
            Step::Blur(_) => "blur",
            Step::Bright(_) => "bright",
            Step::Contrast(_) => "contrast",
            Step::Sharpen(_) => "sharpen",
            Step::Watermark(_) => "watermark",
            Step::Flip(_) => "flip",
            Step::Grayscale => "grayscale",
        }
    }
}

/// Encode-time settings: they apply wherever they stand in the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Output {
    /// `None`: the source's format (`format,src` is the same).
    pub format: Option<Format>,
    pub quality: Option<Quality>,
    /// Progressive JPEG.
    pub interlace: Option<bool>,
    /// Keep at most this many frames of an animation, evenly spaced.
    pub max_frames: Option<u32>,
    /// Re-encode (JPEG) at lower qualities until the output fits.
    pub size_limit: Option<SizeLimit>,
    /// Accept negotiation: when `format` is `None`, the first of these the
    /// source and the policy allow replaces the source's format. Set by the
    /// server from `Accept`, never by a process string.
    pub prefer: Preferred,
}

/// A cap on the output's bytes (Tencent and Qiniu `size-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeLimit {
    pub bytes: u64,
    /// When the output cannot be made smaller than the source, answer the
    /// source's bytes (the `!` form).
    pub or_source: bool,
}

/// What the response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deliver {
    #[default]
    Image,
    /// `info`: a metadata answer; alone, never combined with other steps.
    Metadata(MetadataKind),
    /// The average colour of the image after the steps, written by the
    /// dialect's body (OSS `average-hue`).
    Average(ColourBody),
    /// A BlurHash or ThumbHash of the image after the steps, as JSON (an
    /// OSS-syntax extension).
    Placeholder(Placeholder),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// `auto-orient,N`; `None`: the bucket's default.
    pub auto_orient: Option<bool>,
    pub steps: Vec<Step>,
    pub output: Output,
    pub deliver: Deliver,
    /// The dialect's output rules.
    pub policy: Policy,
    /// On any error in parsing-free work (limits, decoding, a step that
    /// cannot run), answer the original object instead (Tencent and Qiniu
    /// `ignore-error/1`).
    pub ignore_error: bool,
}

impl Plan {
    /// Parses the text after `image/` (e.g. `resize,w_100/rotate,90`).
    pub fn parse(steps: &str) -> Result<Plan, PlanError> {
        if steps.len() > MAX_PROCESS_LEN {
            return Err(PlanError::invalid(format!(
                "The process string is longer than {MAX_PROCESS_LEN} characters."
            )));
        }
        Plan::parse_steps(steps)
    }

    /// Reads back a canonical string (without its `image/` prefix). Filled
    /// defaults can make a canonical string longer than any accepted input
    /// (a short `watermark,text_…` grows every parameter), so the input
    /// length limit does not apply; the step limit still does.
    pub fn from_canonical(steps: &str) -> Result<Plan, PlanError> {
        Plan::parse_steps(steps)
    }

    fn parse_steps(steps: &str) -> Result<Plan, PlanError> {
        let mut plan = Plan::default();
        let mut count = 0;
        // A trailing or doubled '/' is an empty step: skipped.
        for raw in steps.split('/').filter(|s| !s.is_empty()) {
            count += 1;
            if count > MAX_STEPS {
                return Err(PlanError::invalid(format!(
                    "The process string has more than {MAX_STEPS} steps."
                )));
            }
            match plan.deliver {
                Deliver::Average(_) => {
                    return Err(PlanError::invalid(
                        "'average-hue' must be the last step of the process string.",
                    ));
                }
                Deliver::Placeholder(p) => {
                    return Err(PlanError::invalid(format!(
                        "'{}' must be the last step of the process string.",
                        p.name()
                    )));
                }
                Deliver::Image | Deliver::Metadata(_) => {}
            }
            let mut parts = raw.split(',');
            let action = parts.next().unwrap_or_default();
            let rest: Vec<&str> = parts.collect();
            let p = Params::parse(action, &rest);
            plan.add(&p)?;
        }
        if count == 0 {
            return Err(PlanError::invalid(
                "The process string names no action after 'image/'.",
            ));
        }
        if matches!(plan.deliver, Deliver::Metadata(_)) && count > 1 {
            return Err(PlanError::invalid(
                "'info' cannot be combined with other actions.",
            ));
        }
        Ok(plan)
    }

    fn add(&mut self, p: &Params) -> Result<(), PlanError> {
        let step = match p.action() {
            // An extension: fill the box, then keep its most interesting part
            // rather than its centre.
            "resize" if p.get("g") == Some("auto") => {
                let p = p.without("g");
                if p.get("m") != Some("fill") {
                    return Err(PlanError::invalid(
                        "'g_auto' in 'resize' works with 'm_fill' only.",
                    ));
                }
                let fill = Resize::parse(&p)?;
                let (Some(w), Some(h)) = (
                    p.int("w", 1..=crate::action::resize::MAX_SIDE)?,
                    p.int("h", 1..=crate::action::resize::MAX_SIDE)?,
                ) else {
                    return Err(PlanError::invalid(
                        "'resize' with 'g_auto' needs both 'w' and 'h'.",
                    ));
                };
                self.steps
                    .push(Step::Resize(Resize::from_fit(fill.fit.covering())));
                Step::SmartCrop(SmartCrop {
                    w: w as u32,
                    h: h as u32,
                })
            }
            "resize" => Step::Resize(Resize::parse(p)?),
            "crop" if p.get("g") == Some("auto") => Step::SmartCrop(SmartCrop::parse_crop(p)?),
            "crop" => Step::Crop(Crop::parse(p)?),
            "indexcrop" => Step::IndexCrop(IndexCrop::parse(p)?),
            "circle" => Step::Circle(Circle::parse(p)?),
            "rounded-corners" => Step::RoundedCorners(RoundedCorners::parse(p)?),
            "rotate" => Step::Rotate(Rotate::parse(p)?),
            "blur" => Step::Blur(Blur::parse(p)?),
            "bright" => Step::Bright(p.single_int(-100..=100)? as i32),
            "contrast" => Step::Contrast(p.single_int(-100..=100)? as i32),
            "sharpen" => Step::Sharpen(p.single_int(50..=399)? as u32),
            "auto-orient" => {
                self.auto_orient = Some(p.single_int(0..=1)? == 1);
                return Ok(());
            }
            "format" => {
                let v = p.single()?;
                self.output.format = if v == "src" {
                    None
                } else {
                    Some(Format::parse(v).ok_or_else(|| {
                        PlanError::invalid(format!(
                            "The format '{v}' is not supported; use one of {} or src.",
                            Format::NAMES.join(", ")
                        ))
                    })?)
                };
                return Ok(());
            }
            "quality" => {
                self.output.quality = Some(Quality::parse(p)?);
                return Ok(());
            }
            "interlace" => {
                self.output.interlace = Some(p.single_int(0..=1)? == 1);
                return Ok(());
            }
            "info" | "average-hue" => {
                if !p.is_empty() {
                    return Err(PlanError::invalid(format!(
                        "'{}' takes no parameters.",
                        p.action()
                    )));
                }
                self.deliver = if p.action() == "info" {
                    Deliver::Metadata(crate::dialect::oss::INFO)
                } else {
                    Deliver::Average(crate::dialect::oss::AVERAGE_HUE)
                };
                return Ok(());
            }
            "blurhash" | "thumbhash" => {
                self.deliver = Deliver::Placeholder(Placeholder::parse(p)?);
                return Ok(());
            }
            "watermark" => {
                let w = Watermark::parse(p)?;
                if w.image.is_some() && self.watermark_keys().len() >= MAX_IMAGE_WATERMARKS {
                    return Err(PlanError::invalid(format!(
                        "A process string may use at most {MAX_IMAGE_WATERMARKS} image watermarks."
                    )));
                }
                Step::Watermark(Box::new(w))
            }
            "" => {
                return Err(PlanError::invalid("A step has no action name."));
            }
            other => {
                return Err(PlanError::invalid(format!(
                    "The action '{other}' is not supported."
                )));
            }
        };
        self.steps.push(step);
        Ok(())
    }

    /// The objects the image watermarks read, in step order.
    pub fn watermark_keys(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter_map(|s| match s {
                Step::Watermark(w) => w.image.as_ref().map(|i| i.key.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The plan written back in one normal form: parameters in a fixed
    /// order with defaults filled, encode settings last. Two strings that do
    /// the same work give the same canonical string (the cache key).
    pub fn canonical(&self) -> String {
        let mut out = String::from("image");
        if matches!(self.deliver, Deliver::Metadata(_)) {
            out.push_str("/info");
            return out;
        }
        if let Some(a) = self.auto_orient {
            out.push_str(&format!("/auto-orient,{}", u8::from(a)));
        }
        for step in &self.steps {
            out.push('/');
            match step {
                Step::Resize(s) => s.canonical(&mut out),
                Step::Crop(s) => s.canonical(&mut out),
                Step::SmartCrop(s) => s.canonical(&mut out),
                Step::IndexCrop(s) => s.canonical(&mut out),
                Step::Circle(s) => s.canonical(&mut out),
                Step::RoundedCorners(s) => s.canonical(&mut out),
                Step::Rotate(s) => s.canonical(&mut out),
                Step::Blur(s) => s.canonical(&mut out),
                Step::Bright(v) => out.push_str(&format!("bright,{v}")),
                Step::Contrast(v) => out.push_str(&format!("contrast,{v}")),
                Step::Sharpen(v) => out.push_str(&format!("sharpen,{v}")),
                Step::Watermark(w) => w.canonical(&mut out),
                Step::Flip(f) => f.canonical(&mut out),
                Step::Grayscale => out.push_str("grayscale"),
            }
        }
        if let Some(f) = self.output.format {
            out.push_str(&format!("/format,{}", f.as_str()));
        }
        if let Some(q) = self.output.quality {
            out.push('/');
            q.canonical(&mut out);
        }
        if let Some(i) = self.output.interlace {
            out.push_str(&format!("/interlace,{}", u8::from(i)));
        }
        if let Some(n) = self.output.max_frames {
            out.push_str(&format!("/frames,{n}"));
        }
        if let Some(l) = self.output.size_limit {
            out.push_str(&format!(
                "/size-limit,{},{}",
                l.bytes,
                u8::from(l.or_source)
            ));
        }
        self.output.prefer.canonical(&mut out);
        self.policy.canonical(&mut out);
        if self.ignore_error {
            out.push_str("/ignore-error,1");
        }
        match self.deliver {
            Deliver::Average(body) => {
                out.push('/');
                out.push_str(body.canonical);
            }
            Deliver::Placeholder(p) => {
                out.push('/');
                p.canonical(&mut out);
            }
            Deliver::Image | Deliver::Metadata(_) => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use crate::error::PlanErrorKind;

    fn canon(s: &str) -> String {
        Plan::parse(s).unwrap().canonical()
    }

    #[test]
    fn equivalent_strings_share_a_canonical_form() {
        assert_eq!(canon("resize,w_100"), canon("resize,m_lfit,limit_1,w_100"));
        assert_eq!(canon("resize,h_50,w_100/"), canon("resize,w_100,h_50"));
        assert_eq!(
            canon("format,png/resize,w_1"),
            canon("resize,w_1/format,png")
        );
        assert_eq!(
            canon("interlace,1/format,jpg"),
            canon("format,jpg/interlace,1")
        );
        assert_eq!(canon("crop,w_0,x_0"), canon("crop"));
        assert_eq!(canon("rotate,360"), canon("rotate,0"));
        assert_eq!(canon("format,src/resize,w_5"), canon("resize,w_5"));
        assert_eq!(canon("resize,w_100,,"), "image/resize,m_lfit,w_100,limit_1");
        assert_ne!(
            canon("resize,w_100/rotate,90"),
            canon("rotate,90/resize,w_100")
        );
        assert_eq!(canon("info"), "image/info");
        assert_eq!(canon("blurhash"), canon("blurhash,y_3,x_4"));
        assert_eq!(canon("blurhash"), "image/blurhash,x_4,y_3");
        // The canonical form parses back to the same plan.
        for s in [
            "resize,m_pad,w_10,h_20,color_00FF00/crop,g_se,w_5/format,webp/quality,q_80",
            "auto-orient,0/rotate,45/blur,r_3,s_2/average-hue",
            "resize,w_50/blurhash,x_5,y_2",
            "crop,w_10/thumbhash",
        ] {
            let c = canon(s);
            assert_eq!(canon(c.strip_prefix("image/").unwrap()), c);
        }
    }

    #[test]
    fn negotiated_formats_are_part_of_the_key() {
        use crate::action::negotiate::Preferred;
        let plain = Plan::parse("resize,w_10").unwrap();
        let mut avif = plain.clone();
        avif.output.prefer = Preferred::new([Format::Avif, Format::Webp]);
        let mut webp = plain.clone();
        webp.output.prefer = Preferred::new([Format::Webp]);
        let keys = [plain.canonical(), avif.canonical(), webp.canonical()];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_ne!(keys[0], keys[2]);
        assert!(keys[1].ends_with("/negotiate,avif,webp"), "{}", keys[1]);
        // Nobody writes it: it is not part of the grammar.
        assert!(Plan::parse("negotiate,avif").is_err());
    }

    #[test]
    fn documented_error_vectors() {
        for s in [
            "",
            "slim,1",
            "resize",
            "resize,w_0,h_0",
            "resize,limit_3,w_1",
            "resize,w_100,m_abc",
            "format,dng",
            "format",
            "rotate",
            "rotate,abc",
            "rotate,400",
            "rotate,90,200,300",
            "resize,w_100/auto-orient",
            "auto-orient,abc",
            "auto-orient,10",
            "crop,w_500,h_500,g_fac",
            "crop,x_100,y_50,w_abc,h_100",
            "crop,x_100,y_50,w_100,h_-1",
            "indexcrop,y_abc,i_0",
            "indexcrop,x_100,i_abc",
            "indexcrop,x_0,i_0",
            "circle,r_abc",
            "circle,r_5000",
            "rounded-corners,r_abc",
            "rounded-corners,r_5000",
            "blur,r_abc,s_25",
            "blur,r_200,s_25",
            "bright",
            "bright,abc",
            "bright,200",
            "sharpen",
            "sharpen,10",
            "interlace,2",
            "quality,Q_200",
            "quality,q_200",
            "quality,200",
            "resize,s_700,limit_0/info",
            "info/resize,w_1",
            "average-hue/resize,w_1",
            "blurhash/resize,w_1",
            "thumbhash/rotate,90",
            "blurhash,x_10",
            "thumbhash,x_1",
        ] {
            let e = Plan::parse(s).expect_err(s);
            assert!(
                matches!(
                    e.kind,
                    PlanErrorKind::InvalidArgument | PlanErrorKind::MissingArgument
                ),
                "{s}: {e:?}"
            );
        }
        // Found by fuzzing: short watermarks whose canonical form (every
        // default filled) is longer than the input limit still read back.
        let text = ["watermark,text_5rC05Y2w5paH5a2X5rC05Y2w5paH5a2X"; 30].join("/");
        let plan = Plan::parse(&text).unwrap();
        let canonical = plan.canonical();
        assert!(canonical.len() > MAX_PROCESS_LEN);
        let again = Plan::from_canonical(canonical.strip_prefix("image/").unwrap()).unwrap();
        assert_eq!(again.canonical(), canonical);
        // More than three image watermarks (the reference's 7× example).
        let seven = ["watermark,image_cGFuZGEucG5n"; 7].join("/");
        assert!(Plan::parse(&seven).is_err());
        let three = ["watermark,image_cGFuZGEucG5n"; 3].join("/");
        assert_eq!(Plan::parse(&three).unwrap().watermark_keys().len(), 3);
        assert_eq!(
            Plan::parse("blur,g_face,p_10,r_25,s_50").unwrap_err().kind,
            PlanErrorKind::NotImplemented
        );
    }

    #[test]
    fn messages_name_step_and_parameter() {
        let e = Plan::parse("resize,w_100/rotate,400").unwrap_err();
        assert!(
            e.message.contains("rotate") && e.message.contains("0 to 360"),
            "{}",
            e.message
        );
        let e = Plan::parse("crop,g_fac").unwrap_err();
        assert!(
            e.message.contains("'g'") && e.message.contains("crop"),
            "{}",
            e.message
        );
        let e = Plan::parse("slim,1").unwrap_err();
        assert!(e.message.contains("'slim'"), "{}", e.message);
    }

    #[test]
    fn limits_on_length_and_steps() {
        assert!(Plan::parse(&"rotate,90/".repeat(33)).is_err());
        assert!(Plan::parse(&"rotate,90/".repeat(32)).is_ok());
        assert!(Plan::parse(&"x".repeat(5000)).is_err());
    }
}
