//! Huawei OBS: `x-image-process=image/…` or `style/<name>` in the query
//! (what esdk-obs-python's `getObject(…, imageProcess=…)` sends). Alibaba's
//! grammar with Huawei's differences (support.huaweicloud.com obs_01_0410,
//! 0430, 0490, 0450; reference/other-cloud-dialects.md §4 and
//! oss-image-processing.md §6): its own gravity names, its ranges and
//! output formats, `info` and `average-hue` bodies of its own. XML errors.

mod wire;

use super::clone::{self, Rewrite, SaveParams, int_in, named, unchanged};
use super::{Dialect, DialectError, Incoming, Operation};
use crate::save::SaveRequest;
use crate::{Deliver, Plan, PlanError};

const PROCESS: &str = "x-image-process";

/// `x-image-save-object` / `x-image-save-bucket` beside the process
/// string; OBS documents no answer, so the image answers as for a read.
const SAVE: SaveParams = SaveParams {
    object: "x-image-save-object",
    bucket: "x-image-save-bucket",
    base64_only: false,
    answer_image: true,
};

/// At most 20 actions and 512 characters in a command (HW).
const MAX_ACTIONS: usize = 20;
const MAX_LEN: usize = 512;

/// Huawei's nine gravity names and OSS's for the same places.
const GRAVITY: [(&str, &str); 9] = [
    ("tl", "nw"),
    ("top", "north"),
    ("tr", "ne"),
    ("left", "west"),
    ("center", "center"),
    ("right", "east"),
    ("bl", "sw"),
    ("bottom", "south"),
    ("br", "se"),
];

/// The formats OBS writes (HW: jpg, png, bmp, webp only).
const OUTPUT_FORMATS: [&str; 6] = ["jpg", "jpeg", "png", "bmp", "webp", "src"];

#[derive(Debug)]
pub struct Obs;

/// A gravity in OSS's words. Huawei's names are translated; OSS's own are
/// let through (a client mixing them is understood, not refused).
fn gravity(action: &str, g: &str) -> Result<&'static str, PlanError> {
    GRAVITY
        .iter()
        .find(|(hw, oss)| *hw == g || *oss == g)
        .map(|(_, oss)| *oss)
        .ok_or_else(|| {
            PlanError::invalid(format!(
                "The value '{g}' of 'g' in '{action}' is not one of tl, top, tr, left, center, right, bl, bottom, br."
            ))
        })
}

fn translate(action: &str, params: &[&str]) -> Result<Rewrite, PlanError> {
    let mut out: Vec<String> = Vec::new();
    match action {
        "crop" | "watermark" => {
            let mut has_g = false;
            for (k, v) in named(params) {
                if k == "g" {
                    has_g = true;
                    out.push(format!("g_{}", gravity(action, v)?));
                } else {
                    out.push(join(k, v));
                }
            }
            // OBS places a watermark top-left when no gravity is given
            // (OSS: bottom-right).
            if action == "watermark" && !has_g {
                out.push("g_nw".to_owned());
            }
        }
        "resize" => {
            let mut w_h = (None, None);
            for (k, v) in named(params) {
                match k {
                    "m" if v == "ratio" => {
                        return Err(PlanError::not_implemented(
                            "The resize mode 'm_ratio' is not supported by this proxy.",
                        ));
                    }
                    // HW: w and h 1–9999, l and s 1–4096.
                    "w" => w_h.0 = Some(int_in(action, k, v, 1..=9999)?),
                    "h" => w_h.1 = Some(int_in(action, k, v, 1..=9999)?),
                    "l" | "s" => {
                        int_in(action, k, v, 1..=4096)?;
                    }
                    _ => {}
                }
                out.push(join(k, v));
            }
            if let (Some(w), Some(h)) = w_h
                && w * h > 24_999_999
            {
                return Err(PlanError::invalid(format!(
                    "The box {w}x{h} of 'resize' is larger than 24999999 pixels."
                )));
            }
        }
        "format" => {
            if let [f] = params
                && !OUTPUT_FORMATS.contains(f)
            {
                return Err(PlanError::invalid(format!(
                    "The format '{f}' is not supported; OBS writes jpg, png, bmp or webp."
                )));
            }
            return Ok(unchanged(action, params));
        }
        _ => return Ok(unchanged(action, params)),
    }
    Ok(Rewrite::Oss(format!("{action},{}", out.join(","))))
}

fn join(k: &str, v: &str) -> String {
    if k.is_empty() {
        v.to_owned()
    } else {
        format!("{k}_{v}")
    }
}

fn parse_steps(steps: &str) -> Result<Plan, PlanError> {
    if steps.len() > MAX_LEN {
        return Err(PlanError::invalid(format!(
            "The {PROCESS} value is longer than {MAX_LEN} characters."
        )));
    }
    clone::parse(steps, PROCESS, MAX_ACTIONS, translate)
}

/// OBS's own answers replace OSS's: `info` is a metadata operation with
/// Huawei's body, `average-hue` writes Huawei's `#RRGGBB` (both with cache
/// keys of their own).
fn metadata(mut plan: Plan) -> Result<Operation, PlanError> {
    match plan.deliver {
        Deliver::Metadata(_) => Ok(Operation::Metadata(wire::INFO)),
        Deliver::Average(_) | Deliver::Image | Deliver::Placeholder(_) => {
            if matches!(plan.deliver, Deliver::Average(_)) {
                plan.deliver = Deliver::Average(wire::AVERAGE_HUE);
            }
            Ok(Operation::Process {
                plan: Ok(plan),
                source: super::ProcessSource::Query,
            })
        }
    }
}

impl Dialect for Obs {
    fn name(&self) -> &'static str {
        "obs"
    }

    fn request_id_header(&self) -> http::HeaderName {
        const NAME: http::HeaderName = http::HeaderName::from_static("x-obs-request-id");
        NAME
    }

    fn detect(&self, req: &Incoming<'_>) -> bool {
        req.query.get(PROCESS).is_some()
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Operation, DialectError> {
        let Some(value) = req.query.get(PROCESS) else {
            return Ok(Operation::Original);
        };
        let op = match value.strip_prefix("image/") {
            Some(steps) => parse_steps(steps).and_then(metadata),
            None => Ok(clone::operation(value, PROCESS, MAX_ACTIONS, translate)),
        };
        Ok(op.unwrap_or_else(|e| Operation::Process {
            plan: Err(e),
            source: super::ProcessSource::Query,
        }))
    }

    fn save(
        &self,
        method: &str,
        req: &Incoming<'_>,
        _key: &str,
    ) -> Option<Result<SaveRequest, DialectError>> {
        clone::save(method, req, PROCESS, &SAVE, || self.parse(req))
    }

    fn style_hint(&self) -> Option<&'static str> {
        Some("a style (x-image-process=style/<name>)")
    }

    fn style_plan(&self, content: &str) -> Result<Plan, PlanError> {
        parse_steps(clone::style_steps(content)?)
    }

    fn render_error(
        &self,
        code: &str,
        message: &str,
        request_id: &str,
        host: &str,
    ) -> (String, &'static str) {
        wire::error(code, message, request_id, host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;
    use crate::geometry::Gravity;

    fn op(query: &str) -> Operation {
        let q = Query::parse(query);
        Obs.parse(&Incoming {
            query: &q,
            headers: &[],
        })
        .unwrap()
    }

    fn plan(steps: &str) -> Result<Plan, PlanError> {
        match op(&format!("x-image-process=image/{steps}")) {
            Operation::Process { plan, .. } => plan,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn huawei_gravity_names_are_oss_places() {
        for (hw, oss) in GRAVITY {
            assert_eq!(
                plan(&format!("crop,w_10,h_10,g_{hw}")).unwrap().steps,
                Plan::parse(&format!("crop,w_10,h_10,g_{oss}"))
                    .unwrap()
                    .steps,
                "{hw}"
            );
        }
        let e = plan("crop,w_10,h_10,g_middle").unwrap_err();
        assert!(
            e.message.contains("'g'") && e.message.contains("tl"),
            "{}",
            e.message
        );
    }

    #[test]
    fn watermarks_default_to_top_left() {
        let p = plan("watermark,text_SGVsbG8").unwrap();
        let crate::Step::Watermark(w) = &p.steps[0] else {
            panic!()
        };
        assert_eq!(w.gravity, Gravity::Nw);
    }

    #[test]
    fn ranges_formats_and_limits() {
        assert!(plan("resize,w_9999").is_ok());
        assert!(plan("resize,w_10000").is_err());
        assert!(plan("resize,l_4097").is_err());
        assert!(plan("resize,m_fixed,w_5000,h_5000").is_err());
        assert_eq!(
            plan("resize,m_ratio,w_10").unwrap_err().kind,
            crate::PlanErrorKind::NotImplemented
        );
        assert!(plan("format,webp").is_ok());
        assert!(plan("format,gif").unwrap_err().message.contains("gif"));
        assert!(plan(&"rotate,90/".repeat(20)).is_ok());
        assert!(plan(&"rotate,90/".repeat(21)).is_err());
        assert!(plan(&format!("resize,w_1{}", ",".repeat(600))).is_err());
    }

    #[test]
    fn metadata_answers_are_huaweis() {
        assert_eq!(
            op("x-image-process=image/info"),
            Operation::Metadata(wire::INFO)
        );
        // The colour after the steps, written Huawei's way.
        for s in ["average-hue", "resize,w_10/average-hue"] {
            let Operation::Process { plan: Ok(p), .. } = op(&format!("x-image-process=image/{s}"))
            else {
                panic!("{s}: not a plan");
            };
            assert_eq!(p.deliver, Deliver::Average(wire::AVERAGE_HUE));
        }
        assert!(plan("info/resize,w_10").is_err());
        assert_eq!(
            op("x-image-process=style/s"),
            Operation::Style {
                name: "s".into(),
                source: super::super::ProcessSource::Query
            }
        );
        assert_eq!(op("versionId=1"), Operation::Original);
    }
}
