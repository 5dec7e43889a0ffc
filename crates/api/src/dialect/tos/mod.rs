//! Volcengine TOS: `x-tos-process=image/…` or `style/<name>` in the query
//! (what `TosClientV2.get_object(process=…)` sends). Alibaba's grammar
//! unchanged; TOS's own output ceiling (16 384 px a side) and JSON errors.

mod wire;

use super::clone::{self, Grammar, Rewrite, SaveParams, unchanged};
use super::{Dialect, DialectError, Incoming, Operation};
use crate::save::{SaveRequest, Saved};
use crate::{Format, Plan, PlanError, Policy};

const PROCESS: &str = "x-tos-process";

/// `get_object(…, process=…, save_bucket=…, save_object=…)`: names in
/// base64 (the caller encodes), answered with OSS's saveas JSON.
const SAVE: SaveParams = SaveParams {
    object: "x-tos-save-object",
    bucket: "x-tos-save-bucket",
    base64_only: true,
    answer_image: false,
};

/// Most actions in one process string: TOS documents none, so OSS's.
const MAX_ACTIONS: usize = crate::plan::MAX_STEPS;

/// TOS's output rules: OSS's, with its documented output ceiling of
/// 16 384 px a side for every format (volcengine.com/docs/6349/153623;
/// WebP's own format limit is one pixel less). Its 16 777 216-pixel cap on
/// the output area has no place in a per-side ceiling and is not checked.
const POLICY: Policy = Policy {
    ceilings: &[
        (Format::Jpg, 16_384, 16_384),
        (Format::Png, 16_384, 16_384),
        (Format::Bmp, 16_384, 16_384),
        (Format::Gif, 16_384, 16_384),
        (Format::Tiff, 16_384, 16_384),
        (Format::Webp, 16_383, 16_383),
        (Format::Avif, 16_384, 16_384),
        (Format::Heic, 16_384, 16_384),
    ],
    ..Policy::DEFAULT
};

#[derive(Debug)]
pub struct Tos;

/// TOS spells every step as OSS does.
fn translate(action: &str, params: &[&str]) -> Result<Rewrite, PlanError> {
    Ok(unchanged(action, params))
}

const GRAMMAR: Grammar = Grammar {
    param: PROCESS,
    max_actions: MAX_ACTIONS,
    translate,
    finish: |mut p| {
        p.policy = POLICY;
        p
    },
};

impl Dialect for Tos {
    fn name(&self) -> &'static str {
        "tos"
    }

    fn request_id_header(&self) -> http::HeaderName {
        const NAME: http::HeaderName = http::HeaderName::from_static("x-tos-request-id");
        NAME
    }

    fn detect(&self, req: &Incoming<'_>) -> bool {
        req.query.get(PROCESS).is_some()
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Operation, DialectError> {
        Ok(GRAMMAR.request(req))
    }

    fn save(
        &self,
        method: &str,
        req: &Incoming<'_>,
        _key: &str,
    ) -> Option<Result<SaveRequest, DialectError>> {
        clone::save(method, req, PROCESS, &SAVE, || Ok(GRAMMAR.request(req)))
    }

    fn render_saved(&self, saved: &Saved) -> (String, &'static str) {
        super::wire::saved_json(saved)
    }

    fn style_hint(&self) -> Option<&'static str> {
        Some("a style (x-tos-process=style/<name>)")
    }

    fn style_plan(&self, content: &str) -> Result<Plan, PlanError> {
        GRAMMAR.style_plan(content)
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

    fn op(query: &str) -> Operation {
        let q = Query::parse(query);
        Tos.parse(&Incoming {
            query: &q,
            headers: &[],
        })
        .unwrap()
    }

    #[test]
    fn oss_grammar_under_tos_rules() {
        assert_eq!(op(""), Operation::Original);
        assert_eq!(op("x-oss-process=image/rotate,90"), Operation::Original);
        let Operation::Process { plan: Ok(plan), .. } = op("x-tos-process=image/resize,w_100")
        else {
            panic!()
        };
        let mut oss = Plan::parse("resize,w_100").unwrap();
        assert_eq!(plan.steps, oss.steps);
        assert_eq!(plan.policy.ceiling(Format::Jpg), Some((16_384, 16_384)));
        // A different policy is a different cache key.
        oss.policy = POLICY;
        assert_ne!(
            oss.canonical(),
            Plan::parse("resize,w_100").unwrap().canonical()
        );
        assert!(matches!(
            op("x-tos-process=style/small"),
            Operation::Style { .. }
        ));
    }

    #[test]
    fn json_errors_as_the_sdk_reads_them() {
        let (body, ct) = Tos.render_error("InvalidArgument", "bad \"w\"", "RID", "h");
        assert_eq!(ct, "application/json");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["Code"], "InvalidArgument");
        assert_eq!(v["Message"], "bad \"w\"");
        assert_eq!(v["RequestId"], "RID");
        assert_eq!(v["HostId"], "h");
    }
}
