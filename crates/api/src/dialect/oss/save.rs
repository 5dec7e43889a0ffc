//! `sys/saveas` (ProcessObject): `POST /<key>?x-oss-process` with the body
//! `x-oss-process=<image/… or style/…>|sys/saveas,o_<b64url key>[,b_<b64url
//! bucket>]`, answered with the JSON oss2's `process_object` parses.

use super::{PROCESS, process};
use crate::dialect::{DialectError, Incoming, Operation};
use crate::save::{Form, Needs, SaveOutput, SaveRequest, SaveWork, Saved, b64_name};

/// The body is read only past this check: a POST to `?x-oss-process`.
pub(super) fn claim(method: &str, req: &Incoming<'_>) -> Option<Result<SaveRequest, DialectError>> {
    if method != "POST" || !req.query.has(PROCESS) {
        return None;
    }
    Some(Ok(SaveRequest {
        outputs: Vec::new(),
        // The body is no part of either OSS signature; the method is.
        needs: Needs::default(),
        form: Form::Body,
        upload: false,
        original_info: false,
        answer_image: false,
    }))
}

fn bad(message: impl Into<String>) -> DialectError {
    DialectError(message.into())
}

pub(super) fn body(mut save: SaveRequest, body: &[u8]) -> Result<SaveRequest, DialectError> {
    let text = std::str::from_utf8(body).map_err(|_| bad("The process body is not UTF-8."))?;
    let text = text.trim();
    let value = text
        .strip_prefix("x-oss-process=")
        .ok_or_else(|| bad("The body must be x-oss-process=<process>|sys/saveas,o_…."))?;
    // oss2 sends the value raw; a form-encoding client escapes `|` and `,`.
    let value = if value.contains('|') {
        value.to_owned()
    } else {
        percent_encoding::percent_decode_str(value)
            .decode_utf8_lossy()
            .into_owned()
    };
    let (pipeline, saveas) = value
        .rsplit_once('|')
        .ok_or_else(|| bad("The process must end with |sys/saveas,o_<object>."))?;
    let args = match saveas.strip_prefix("sys/saveas") {
        Some(args) if args.is_empty() || args.starts_with(',') => args,
        _ if saveas.starts_with("saveas") => {
            return Err(bad("saveas must be written sys/saveas."));
        }
        _ => return Err(bad("The last step of the process must be sys/saveas.")),
    };
    let (mut object, mut bucket) = (None, None);
    for part in args.split(',').filter(|p| !p.is_empty()) {
        let name = |v: &str, what: &str| {
            b64_name(v).ok_or_else(|| bad(format!("The saveas {what} is not URL-safe base64.")))
        };
        match part.split_once('_') {
            Some(("o", v)) => object = Some(name(v, "object")?),
            Some(("b", v)) => bucket = Some(name(v, "bucket")?),
            _ => return Err(bad(format!("Unknown saveas parameter '{part}'."))),
        }
    }
    let key = object.ok_or_else(|| bad("saveas needs o_<object>."))?;
    let work = match process(pipeline, crate::ProcessSource::Query)? {
        Operation::Process { plan, .. } => SaveWork::Plan(plan),
        Operation::Style { name, .. } => SaveWork::Style(name),
        _ => return Err(bad("saveas saves an image/… or style/… result.")),
    };
    save.outputs = vec![SaveOutput {
        work,
        bucket: bucket.into_iter().collect(),
        key,
    }];
    save.form = Form::Ready;
    Ok(save)
}

/// The JSON oss2's `process_object` parses (shared with TOS).
pub(super) fn render(saved: &Saved) -> (String, &'static str) {
    crate::dialect::wire::saved_json(saved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;

    fn claimed() -> SaveRequest {
        let q = Query::parse("x-oss-process");
        claim(
            "POST",
            &Incoming {
                query: &q,
                headers: &[],
            },
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn only_a_post_to_x_oss_process_is_a_save() {
        let q = Query::parse("x-oss-process");
        assert!(
            claim(
                "GET",
                &Incoming {
                    query: &q,
                    headers: &[]
                }
            )
            .is_none()
        );
        let q = Query::parse("");
        assert!(
            claim(
                "POST",
                &Incoming {
                    query: &q,
                    headers: &[]
                }
            )
            .is_none()
        );
        assert_eq!(claimed().form, Form::Body);
    }

    #[test]
    fn the_sdk_body_reads() {
        let s = body(
            claimed(),
            b"x-oss-process=image/resize,w_100|sys/saveas,o_dGh1bWJzL2NhdC5qcGc,b_ZXhhbXBsZWJ1Y2tldA",
        )
        .unwrap();
        assert_eq!(s.outputs.len(), 1);
        assert_eq!(s.outputs[0].key, "thumbs/cat.jpg");
        assert_eq!(s.outputs[0].bucket, ["examplebucket"]);
        assert!(matches!(s.outputs[0].work, SaveWork::Plan(Ok(_))));
        let s = body(
            claimed(),
            b"x-oss-process=style/thumb|sys/saveas,o_YS5qcGc=",
        )
        .unwrap();
        assert_eq!(s.outputs[0].work, SaveWork::Style("thumb".into()));
        assert!(s.outputs[0].bucket.is_empty());
    }

    #[test]
    fn bad_bodies_are_errors() {
        for b in [
            "image/resize,w_100|sys/saveas,o_YQ",
            "x-oss-process=image/resize,w_100",
            "x-oss-process=image/resize,w_100|saveas,o_YQ",
            "x-oss-process=image/resize,w_100|sys/saveas,b_YQ",
            "x-oss-process=image/resize,w_100|sys/saveas,o_!!",
            "x-oss-process=video/snapshot|sys/saveas,o_YQ",
        ] {
            assert!(body(claimed(), b.as_bytes()).is_err(), "{b}");
        }
    }

    #[test]
    fn the_answer_is_what_oss2_parses() {
        let o = crate::save::SavedObject {
            requested_bucket: None,
            bucket: "photos".into(),
            key: "t.jpg".into(),
            size: 12,
            format: "jpg",
            width: 1,
            height: 1,
            etag: None,
        };
        let saved = Saved {
            original: None,
            outputs: vec![o],
            original_info: false,
            host: "h".into(),
        };
        let (text, ct) = render(&saved);
        assert_eq!(ct, "application/json");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["bucket"], "");
        assert_eq!(v["fileSize"], 12);
        assert_eq!(v["object"], "t.jpg");
        assert_eq!(v["status"], "OK");
    }
}
