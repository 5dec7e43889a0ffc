//! Baidu BOS (image processing v2): `x-bce-process=image/…` or
//! `style/<name>` in the query. Alibaba's separators and most of its
//! actions, with Baidu's differences (cloud.baidu.com/doc/BOS, usage rules
//! 7ldh5wpk6, resize gkbisf3l4; reference/other-cloud-dialects.md §4):
//! per-axis percent resizes (`wp`, `hp`), sides of at most 4096, `rotate`
//! by −360..360 (`a_`), `bright,b_`, `sharpen,r_,s_`, at most 16 actions,
//! outputs of at most 9999 px a side and 20 frames. JSON errors.

mod wire;

use super::clone::{Grammar, Rewrite, int_in, named, unchanged};
use super::{Dialect, DialectError, Incoming, Operation};
use crate::fit::{Fit, Size, Upscale};
use crate::{Format, Plan, PlanError, Policy};

const PROCESS: &str = "x-bce-process";

/// At most 16 actions (usage rules; an older FAQ says 4).
const MAX_ACTIONS: usize = 16;

/// Animated outputs keep at most 20 frames (usage rules).
const MAX_FRAMES: u32 = 20;

/// BOS's output rules: OSS's, with every output (intermediates included)
/// at most 9999 px a side (usage rules).
const POLICY: Policy = Policy {
    ceilings: &[
        (Format::Jpg, 9_999, 9_999),
        (Format::Png, 9_999, 9_999),
        (Format::Bmp, 9_999, 9_999),
        (Format::Gif, 9_999, 9_999),
        (Format::Tiff, 9_999, 9_999),
        (Format::Webp, 9_999, 9_999),
        (Format::Avif, 9_999, 9_999),
        (Format::Heic, 9_999, 9_999),
    ],
    ..Policy::DEFAULT
};

#[derive(Debug)]
pub struct Bos;

fn translate(action: &str, params: &[&str]) -> Result<Rewrite, PlanError> {
    match action {
        "resize" => resize(params),
        "rotate" => {
            // `rotate,a_N` or OSS's bare `rotate,N`; negative turns
            // counter-clockwise, which is N + 360 clockwise.
            let a = match named(params).as_slice() {
                [("a" | "", v)] => int_in(action, "a", v, -360..=360)?,
                _ => {
                    return Err(PlanError::invalid(
                        "'rotate' takes one parameter, a_<angle> from -360 to 360.",
                    ));
                }
            };
            Ok(Rewrite::Oss(format!("rotate,{}", a.rem_euclid(360))))
        }
        "bright" => match named(params).as_slice() {
            [("b" | "", v)] => Ok(Rewrite::Oss(format!(
                "bright,{}",
                int_in(action, "b", v, -100..=100)?
            ))),
            _ => Err(PlanError::invalid(
                "'bright' takes one parameter, b_<value> from -100 to 100.",
            )),
        },
        "sharpen" => sharpen(params),
        _ => Ok(unchanged(action, params)),
    }
}

/// `resize`: OSS's, with Baidu's ranges, and `wp`/`hp` (each axis by its
/// own percent) built as a fit OSS cannot spell.
fn resize(params: &[&str]) -> Result<Rewrite, PlanError> {
    let pairs = named(params);
    let (mut wp, mut hp, mut p, mut limit) = (None, None, None, true);
    let mut other = None;
    for &(k, v) in &pairs {
        match k {
            "w" | "h" | "l" | "s" => {
                int_in("resize", k, v, 1..=4096)?;
                other = Some(k);
            }
            "wp" => wp = Some(int_in("resize", k, v, 1..=1000)? as u32),
            "hp" => hp = Some(int_in("resize", k, v, 1..=1000)? as u32),
            "p" => p = Some(int_in("resize", k, v, 1..=1000)? as u32),
            "limit" => limit = int_in("resize", k, v, 0..=1)? == 1,
            "align" | "radius" | "sigma" => {
                return Err(PlanError::not_implemented(format!(
                    "The parameter '{k}' of 'resize' is not supported by this proxy."
                )));
            }
            "m" | "color" => other = other.or(Some(k)),
            _ => {}
        }
    }
    if wp.is_none() && hp.is_none() {
        return Ok(unchanged("resize", params));
    }
    if let Some(k) = other {
        return Err(PlanError::invalid(format!(
            "The parameter '{k}' of 'resize' cannot be combined with wp or hp."
        )));
    }
    // An axis without its own percent takes `p`, else stays as it is.
    let base = p.unwrap_or(100);
    Ok(Rewrite::Resize(Fit {
        size: Size::Percent {
            x: wp.unwrap_or(base),
            y: hp.unwrap_or(base),
        },
        // As OSS's `p`: `limit` (default 1) forbids enlarging.
        upscale: if limit {
            Upscale::Never
        } else {
            Upscale::Always
        },
        strict_box: false,
    }))
}

/// `sharpen,r_,s_` (radius and strength, 1–50 each) onto OSS's single
/// amount 50–399: the strength mapped linearly, 1 → 50 and 50 → 399. OSS's
/// sharpen has its own radius, so `r` is only checked.
fn sharpen(params: &[&str]) -> Result<Rewrite, PlanError> {
    let pairs = named(params);
    if let [("", _)] = pairs.as_slice() {
        return Ok(unchanged("sharpen", params));
    }
    let mut s = None;
    for &(k, v) in &pairs {
        match k {
            "r" => {
                int_in("sharpen", k, v, 1..=50)?;
            }
            "s" => s = Some(int_in("sharpen", k, v, 1..=50)?),
            _ => {
                return Err(PlanError::invalid(format!(
                    "The parameter '{k}' of 'sharpen' is not one of r, s."
                )));
            }
        }
    }
    let s = s.ok_or_else(|| PlanError::missing("'sharpen' needs s (1 to 50)."))?;
    Ok(Rewrite::Oss(format!("sharpen,{}", 50 + (s - 1) * 349 / 49)))
}

const GRAMMAR: Grammar = Grammar {
    param: PROCESS,
    max_actions: MAX_ACTIONS,
    translate,
    finish: |mut p| {
        p.policy = POLICY;
        p.output.max_frames = Some(
            p.output
                .max_frames
                .map_or(MAX_FRAMES, |n| n.min(MAX_FRAMES)),
        );
        p
    },
};

impl Dialect for Bos {
    fn name(&self) -> &'static str {
        "bos"
    }

    fn request_id_header(&self) -> http::HeaderName {
        const NAME: http::HeaderName = http::HeaderName::from_static("x-bce-request-id");
        NAME
    }

    fn detect(&self, req: &Incoming<'_>) -> bool {
        req.query.get(PROCESS).is_some()
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Operation, DialectError> {
        Ok(GRAMMAR.request(req))
    }

    fn style_hint(&self) -> Option<&'static str> {
        Some("a style (x-bce-process=style/<name>)")
    }

    fn style_plan(&self, content: &str) -> Result<Plan, PlanError> {
        GRAMMAR.style_plan(content)
    }

    fn render_error(
        &self,
        code: &str,
        message: &str,
        request_id: &str,
        _host: &str,
    ) -> (String, &'static str) {
        wire::error(code, message, request_id)
    }

    fn status(&self, code: &str, status: u16) -> u16 {
        wire::status(code, status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Query, Step};

    fn plan(steps: &str) -> Result<Plan, PlanError> {
        let q = Query::parse(&format!("x-bce-process=image/{steps}"));
        match Bos.parse(&Incoming {
            query: &q,
            headers: &[],
        }) {
            Ok(Operation::Process { plan, .. }) => plan,
            other => panic!("{other:?}"),
        }
    }

    fn steps(s: &str) -> Vec<Step> {
        plan(s).unwrap().steps
    }

    #[test]
    fn rotate_both_ways() {
        assert_eq!(
            steps("rotate,a_90"),
            Plan::parse("rotate,90").unwrap().steps
        );
        assert_eq!(
            steps("rotate,a_-30"),
            Plan::parse("rotate,330").unwrap().steps
        );
        assert_eq!(
            steps("rotate,a_-360"),
            Plan::parse("rotate,0").unwrap().steps
        );
        assert_eq!(
            steps("rotate,180"),
            Plan::parse("rotate,180").unwrap().steps
        );
        let e = plan("rotate,a_400").unwrap_err();
        assert!(
            e.message.contains("'a'") && e.message.contains("-360"),
            "{}",
            e.message
        );
    }

    #[test]
    fn per_axis_percent() {
        let Step::Resize(r) = &steps("resize,wp_50,hp_200,limit_0")[0] else {
            panic!()
        };
        assert_eq!(r.fit.size, Size::Percent { x: 50, y: 200 });
        assert_eq!(r.fit.upscale, Upscale::Always);
        let Step::Resize(r) = &steps("resize,wp_50")[0] else {
            panic!()
        };
        assert_eq!(r.fit.size, Size::Percent { x: 50, y: 100 });
        assert!(plan("resize,wp_50,w_100").is_err());
        assert!(plan("resize,wp_1001").is_err());
        // Without wp/hp, OSS's resize as written.
        assert_eq!(
            steps("resize,w_100"),
            Plan::parse("resize,w_100").unwrap().steps
        );
        assert!(plan("resize,w_4097").is_err());
    }

    #[test]
    fn bright_sharpen_and_limits() {
        assert_eq!(
            steps("bright,b_-20"),
            Plan::parse("bright,-20").unwrap().steps
        );
        assert_eq!(steps("sharpen,r_5,s_1"), vec![Step::Sharpen(50)]);
        assert_eq!(steps("sharpen,r_5,s_50"), vec![Step::Sharpen(399)]);
        assert!(plan("sharpen,r_5,s_51").is_err());
        assert!(plan("sharpen,r_0,s_5").is_err());
        assert!(plan(&"rotate,a_90/".repeat(16)).is_ok());
        assert!(plan(&"rotate,a_90/".repeat(17)).is_err());
        let p = plan("resize,w_10").unwrap();
        assert_eq!(p.output.max_frames, Some(20));
        assert_eq!(p.policy.ceiling(Format::Png), Some((9_999, 9_999)));
    }

    #[test]
    fn json_errors_as_baidubce_reads_them() {
        let (body, ct) = Bos.render_error("InvalidArgument", "no", "RID", "h");
        assert_eq!(ct, "application/json");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], "InvalidArgument");
        assert_eq!(v["message"], "no");
        assert_eq!(v["requestId"], "RID");
    }
}
