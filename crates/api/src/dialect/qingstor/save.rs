//! `?image&action=[<op>|…|]save:b_<bucket>,k_<key>`: the result of the
//! operations before `save` (none: the image re-encoded) is written to the
//! bucket and key, given as plain text, and the image is answered as for
//! any other action.

use super::{action, wire};
use crate::dialect::{DialectError, Incoming};
use crate::save::{Form, Needs, SaveOutput, SaveRequest, SaveWork};
use crate::{Plan, Policy};

fn bad(message: impl Into<String>) -> DialectError {
    DialectError(message.into())
}

pub(super) fn claim(method: &str, req: &Incoming<'_>) -> Option<Result<SaveRequest, DialectError>> {
    // A HEAD never writes: it stays a read (and `save` in it a 400).
    if method != "GET" || !req.query.has("image") {
        return None;
    }
    let value = req.query.get("action")?;
    let ops: Vec<&str> = value.split('|').collect();
    let at = ops
        .iter()
        .position(|op| *op == "save" || op.starts_with("save:"))?;
    Some(parse(&ops, at))
}

fn parse(ops: &[&str], at: usize) -> Result<SaveRequest, DialectError> {
    if at + 1 != ops.len() {
        return Err(bad("save must be the last operation of the action."));
    }
    let args = ops[at].strip_prefix("save").unwrap_or("");
    let args = args.strip_prefix(':').unwrap_or(args);
    let (mut bucket, mut key) = (None, None);
    // `k_` comes last in the documented form: a key may hold `,` after it.
    let mut rest = args;
    while !rest.is_empty() {
        if let Some(k) = rest.strip_prefix("k_") {
            key = Some(k.to_owned());
            break;
        }
        let (part, tail) = rest.split_once(',').unwrap_or((rest, ""));
        match part.split_once('_') {
            Some(("b", v)) if !v.is_empty() => bucket = Some(v.to_owned()),
            _ => {
                return Err(bad(format!(
                    "Unknown save parameter '{part}'; save takes b_ and k_."
                )));
            }
        }
        rest = tail;
    }
    let key = key
        .filter(|k| !k.is_empty())
        .ok_or_else(|| bad("save needs k_<key>."))?;
    let before = ops[..at].join("|");
    let plan = if before.is_empty() {
        Ok(Plan {
            policy: Policy::DEFAULT,
            ..Plan::default()
        })
    } else {
        action::parse(&before, wire::INFO)
    };
    Ok(SaveRequest {
        outputs: vec![SaveOutput {
            work: SaveWork::Plan(plan),
            bucket: bucket.into_iter().collect(),
            key,
        }],
        // No QingStor signature covers `action`: only a header signature
        // (a request, not a URL someone can hold and extend) may save.
        needs: Needs {
            params: vec!["image"],
            header_form: true,
            ..Needs::default()
        },
        form: Form::Ready,
        upload: false,
        original_info: false,
        answer_image: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;

    fn claim_q(method: &str, query: &str) -> Option<Result<SaveRequest, DialectError>> {
        let q = Query::parse(query);
        claim(
            method,
            &Incoming {
                query: &q,
                headers: &[],
            },
        )
    }

    #[test]
    fn save_reads_its_bucket_and_key() {
        let s = claim_q("GET", "image&action=save:b_testbucket,k_testkey")
            .unwrap()
            .unwrap();
        assert_eq!(s.outputs[0].bucket, ["testbucket"]);
        assert_eq!(s.outputs[0].key, "testkey");
        assert!(s.needs.header_form && s.answer_image);
        let s = claim_q(
            "GET",
            "image&action=resize%3Aw_100%7Csave%3Ak_out%2Fa%2Cb.jpg",
        )
        .unwrap()
        .unwrap();
        assert!(s.outputs[0].bucket.is_empty());
        assert_eq!(s.outputs[0].key, "out/a,b.jpg");
        assert!(matches!(s.outputs[0].work, SaveWork::Plan(Ok(ref p)) if p.steps.len() == 1));
    }

    #[test]
    fn other_requests_are_not_saves_and_bad_saves_are_errors() {
        assert!(claim_q("GET", "image&action=resize:w_1").is_none());
        assert!(claim_q("POST", "image&action=save:k_a").is_none());
        assert!(claim_q("HEAD", "image&action=save:k_a").is_none());
        assert!(claim_q("GET", "action=save:k_a").is_none());
        for q in [
            "image&action=save:b_x",
            "image&action=save",
            "image&action=save:k_a%7Cresize:w_1",
            "image&action=save:x_1,k_a",
        ] {
            assert!(claim_q("GET", q).unwrap().is_err(), "{q}");
        }
    }
}
