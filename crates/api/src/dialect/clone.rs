//! What the clouds that copied Alibaba's grammar share (Volcengine TOS,
//! Huawei OBS, Baidu BOS): one query parameter carrying `image/…` or
//! `style/<name>`, and process strings in OSS's words once each cloud's
//! differences are translated. The translation is a per-step rewrite into
//! OSS spelling, read by [`Plan::parse`]; a resize OSS cannot spell travels
//! beside the string as a [`Fit`] and replaces its placeholder afterwards.

use crate::action::resize::Resize;
use crate::dialect::{DialectError, Incoming, Operation, ProcessSource};
use crate::fit::Fit;
use crate::save::{Form, Needs, SaveOutput, SaveRequest, SaveWork, b64_name};
use crate::{Plan, PlanError, Step};

/// A style's steps: like OSS's, a style is an `image/…` string.
pub(in crate::dialect) fn style_steps(content: &str) -> Result<&str, PlanError> {
    content
        .strip_prefix("image/")
        .ok_or_else(|| PlanError::invalid("style content must be an image/… process string"))
}

/// One step rewritten for OSS's parser.
pub(in crate::dialect) enum Rewrite {
    /// The step in OSS spelling (`rotate,330`).
    Oss(String),
    /// A resize with no OSS spelling (Baidu's per-axis percent).
    Resize(Fit),
}

/// A cloud's translation of one step (action, its comma-separated
/// parameters as written) into OSS's words.
pub(in crate::dialect) type Translate = fn(&str, &[&str]) -> Result<Rewrite, PlanError>;

/// One cloud's copy of the grammar: its query parameter, its step limit,
/// its translation and the rules it applies to every plan.
pub(in crate::dialect) struct Grammar {
    pub param: &'static str,
    pub max_actions: usize,
    pub translate: Translate,
    /// The cloud's output rules (policy, frame limits) on a parsed plan.
    pub finish: fn(Plan) -> Plan,
}

/// A clone's save parameters, sent beside its process parameter on a GET
/// (Huawei `x-image-save-object`/`-bucket`, Volcengine `x-tos-save-…`).
pub(in crate::dialect) struct SaveParams {
    pub object: &'static str,
    pub bucket: &'static str,
    /// Names must be base64 (TOS); otherwise a value that is not base64 of
    /// UTF-8 is the name itself (OBS's documentation says both).
    pub base64_only: bool,
    /// The answer is the image (OBS documents no answer for a save).
    pub answer_image: bool,
}

/// The request as a save: a GET with the process parameter `process`
/// (read by `operation`) and the save object parameter. The parameters
/// must all be signed.
pub(in crate::dialect) fn save(
    method: &str,
    req: &Incoming<'_>,
    process: &'static str,
    params: &SaveParams,
    operation: impl FnOnce() -> Result<Operation, DialectError>,
) -> Option<Result<SaveRequest, DialectError>> {
    // A HEAD never writes: it stays a read.
    if method != "GET" {
        return None;
    }
    let object = req.query.get(params.object)?;
    Some(save_request(req, object, process, params, operation))
}

fn save_request(
    req: &Incoming<'_>,
    object: &str,
    process: &'static str,
    params: &SaveParams,
    operation: impl FnOnce() -> Result<Operation, DialectError>,
) -> Result<SaveRequest, DialectError> {
    let name = |value: &str, param: &str| match b64_name(value) {
        Some(n) => Ok(n),
        None if !params.base64_only && !value.is_empty() => Ok(value.to_owned()),
        None => Err(DialectError(format!(
            "{param} must be the name in URL-safe base64."
        ))),
    };
    let key = name(object, params.object)?;
    let bucket = match req.query.get(params.bucket) {
        Some(b) => vec![name(b, params.bucket)?],
        None => Vec::new(),
    };
    let work = match operation()? {
        Operation::Process { plan, .. } => SaveWork::Plan(plan),
        Operation::Style { name, .. } => SaveWork::Style(name),
        _ => {
            return Err(DialectError(format!(
                "{} must come with {process} (image/… or style/…).",
                params.object
            )));
        }
    };
    let mut signed = vec![process, params.object];
    if !bucket.is_empty() {
        signed.push(params.bucket);
    }
    Ok(SaveRequest {
        outputs: vec![SaveOutput { work, bucket, key }],
        needs: Needs {
            params: signed,
            ..Needs::default()
        },
        form: Form::Ready,
        upload: false,
        original_info: false,
        answer_image: params.answer_image,
    })
}

impl Grammar {
    /// The request's operation; `Original` without the parameter.
    pub(in crate::dialect) fn request(&self, req: &Incoming<'_>) -> Operation {
        let Some(value) = req.query.get(self.param) else {
            return Operation::Original;
        };
        match operation(value, self.param, self.max_actions, self.translate) {
            Operation::Process { plan, source } => Operation::Process {
                plan: plan.map(self.finish),
                source,
            },
            op => op,
        }
    }

    /// A style's plan (an `image/…` string).
    pub(in crate::dialect) fn style_plan(&self, content: &str) -> Result<Plan, PlanError> {
        parse(
            style_steps(content)?,
            self.param,
            self.max_actions,
            self.translate,
        )
        .map(self.finish)
    }
}

/// The operation a parameter's value asks for. `param` names the parameter
/// in messages; `max_actions` is the cloud's limit on steps.
pub(in crate::dialect) fn operation(
    value: &str,
    param: &str,
    max_actions: usize,
    translate: Translate,
) -> Operation {
    let source = ProcessSource::Query;
    let fail = |e: PlanError| Operation::Process {
        plan: Err(e),
        source,
    };
    if value.is_empty() {
        return fail(PlanError::invalid(format!("The {param} value is empty.")));
    }
    match value.split_once('/') {
        Some(("image", rest)) => Operation::Process {
            plan: parse(rest, param, max_actions, translate),
            source,
        },
        Some(("style", "")) => fail(PlanError::invalid(format!(
            "The style name after '{param}=style/' is empty."
        ))),
        Some(("style", name)) => Operation::Style {
            name: name.to_owned(),
            source,
        },
        // Another of the cloud's namespaces (video/…, doc/…): real, but not
        // served here.
        Some((ns, _)) if !ns.is_empty() && ns.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            fail(PlanError::not_implemented(format!(
                "The {param} namespace '{ns}' is not image processing; this proxy serves only 'image/…' and 'style/…'."
            )))
        }
        _ => fail(PlanError::invalid(format!(
            "The {param} value '{value}' does not start with 'image/' or 'style/'."
        ))),
    }
}

/// The steps after `image/`, translated and parsed.
pub(in crate::dialect) fn parse(
    steps: &str,
    param: &str,
    max_actions: usize,
    translate: Translate,
) -> Result<Plan, PlanError> {
    let mut oss = Vec::new();
    // (ordinal among the resizes, fit) of each placeholder.
    let mut fits = Vec::new();
    let mut resizes = 0;
    for raw in steps.split('/').filter(|s| !s.is_empty()) {
        if oss.len() == max_actions {
            return Err(PlanError::invalid(format!(
                "The {param} value has more than {max_actions} actions."
            )));
        }
        let mut parts = raw.split(',');
        let action = parts.next().unwrap_or_default();
        let params: Vec<&str> = parts.collect();
        match translate(action, &params)? {
            Rewrite::Oss(s) => {
                if s.split(',').next() == Some("resize") {
                    resizes += 1;
                }
                oss.push(s);
            }
            Rewrite::Resize(fit) => {
                fits.push((resizes, fit));
                resizes += 1;
                // Any valid resize: it is replaced below.
                oss.push("resize,p_100".to_owned());
            }
        }
    }
    let mut plan = Plan::parse(&oss.join("/"))?;
    let mut n = 0;
    for step in &mut plan.steps {
        if let Step::Resize(r) = step {
            if let Some((_, fit)) = fits.iter().find(|(i, _)| *i == n) {
                *r = Resize::from_fit(*fit);
            }
            n += 1;
        }
    }
    Ok(plan)
}

/// The step as written, for translations that change nothing.
pub(in crate::dialect) fn unchanged(action: &str, params: &[&str]) -> Rewrite {
    let mut s = action.to_owned();
    for p in params {
        s.push(',');
        s.push_str(p);
    }
    Rewrite::Oss(s)
}

/// `name_value` parameters split at the first `_` (bare values keep an
/// empty name), empty ones skipped as OSS does.
pub(in crate::dialect) fn named<'a>(params: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    params
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('_').unwrap_or(("", p)))
        .collect()
}

/// An integer parameter in `range`, or an error naming it.
pub(in crate::dialect) fn int_in(
    action: &str,
    name: &str,
    value: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, PlanError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            PlanError::invalid(format!(
                "The value '{value}' of '{name}' in '{action}' must be an integer from {} to {}.",
                range.start(),
                range.end()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{Size, Upscale};

    fn same(action: &str, params: &[&str]) -> Result<Rewrite, PlanError> {
        Ok(unchanged(action, params))
    }

    fn percent(action: &str, params: &[&str]) -> Result<Rewrite, PlanError> {
        if action == "half" {
            return Ok(Rewrite::Resize(Fit {
                size: Size::Percent { x: 50, y: 100 },
                upscale: Upscale::Never,
                strict_box: false,
            }));
        }
        Ok(unchanged(action, params))
    }

    #[test]
    fn namespaces_and_styles() {
        let op = |v| operation(v, "x-p", 8, same);
        assert!(matches!(
            op("image/resize,w_10"),
            Operation::Process { plan: Ok(_), .. }
        ));
        assert_eq!(
            op("style/thumb"),
            Operation::Style {
                name: "thumb".into(),
                source: ProcessSource::Query
            }
        );
        for (v, kind) in [
            ("", crate::PlanErrorKind::InvalidArgument),
            ("style/", crate::PlanErrorKind::InvalidArgument),
            ("resize,w_1", crate::PlanErrorKind::InvalidArgument),
            ("video/snapshot,t_1", crate::PlanErrorKind::NotImplemented),
        ] {
            match op(v) {
                Operation::Process { plan: Err(e), .. } => {
                    assert_eq!(e.kind, kind, "{v}");
                    assert!(e.message.contains("x-p"), "{v}: {}", e.message);
                }
                other => panic!("{v}: {other:?}"),
            }
        }
    }

    #[test]
    fn action_limit_counts_steps() {
        assert!(parse(&"rotate,90/".repeat(8), "x-p", 8, same).is_ok());
        let e = parse(&"rotate,90/".repeat(9), "x-p", 8, same).unwrap_err();
        assert!(e.message.contains("more than 8"), "{}", e.message);
    }

    #[test]
    fn placeholders_are_replaced_in_order() {
        let plan = parse("resize,w_10/half/resize,w_20", "x-p", 8, percent).unwrap();
        let fits: Vec<_> = plan
            .steps
            .iter()
            .map(|s| match s {
                Step::Resize(r) => r.fit.size,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(fits[1], Size::Percent { x: 50, y: 100 });
        assert_ne!(fits[0], fits[1]);
        assert_ne!(fits[2], fits[1]);
    }

    const SAVE: SaveParams = SaveParams {
        object: "x-a-save-object",
        bucket: "x-a-save-bucket",
        base64_only: true,
        answer_image: false,
    };

    fn saved(query: &str, params: &SaveParams) -> Option<Result<SaveRequest, DialectError>> {
        let q = crate::Query::parse(query);
        let req = Incoming {
            query: &q,
            headers: &[],
        };
        let op = || {
            Ok(q.get("x-a-process").map_or(Operation::Original, |v| {
                operation(v, "x-a-process", 8, same)
            }))
        };
        save("GET", &req, "x-a-process", params, op)
    }

    #[test]
    fn save_parameters_name_the_target_and_must_be_signed() {
        let s = saved(
            "x-a-process=image/resize,w_10&x-a-save-object=b3V0LmpwZw&x-a-save-bucket=dGh1bWJz",
            &SAVE,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.outputs[0].key, "out.jpg");
        assert_eq!(s.outputs[0].bucket, ["thumbs"]);
        assert_eq!(
            s.needs.params,
            ["x-a-process", "x-a-save-object", "x-a-save-bucket"]
        );
        assert!(saved("x-a-process=image/resize,w_10", &SAVE).is_none());
        // Base64 only: a plain name is an error; otherwise it is the name.
        assert!(
            saved(
                "x-a-process=image/resize,w_10&x-a-save-object=out.jpg",
                &SAVE
            )
            .unwrap()
            .is_err()
        );
        let lax = SaveParams {
            base64_only: false,
            ..SAVE
        };
        let s = saved(
            "x-a-process=image/resize,w_10&x-a-save-object=out.jpg",
            &lax,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.outputs[0].key, "out.jpg");
        assert!(saved("x-a-save-object=b3V0LmpwZw", &SAVE).unwrap().is_err());
    }
}
