//! Qiniu Kodo: the grammar Tencent CI inherited (`?imageMogr2/…`,
//! `?imageView2/<0-5>/…`, `?watermark/…`, joined with `|`; parsed by
//! `dialect/ci` in its Qiniu reading), `?imageInfo` with numbers, `?exif`,
//! `?imageAve`. JSON errors `{"code":<status>,"error":"…"}`.
//!
//! Its requests are the `cos` dialect's too (which comes first in
//! `DIALECTS`): a bucket answers Qiniu only when its configuration names it.

mod wire;

use std::collections::BTreeMap;

use super::ci::{self, Flavour};
use super::{Dialect, DialectError, Incoming, Operation};
use crate::metadata::MetadataKind;
use crate::{Plan, PlanError};

#[derive(Debug)]
pub struct Qiniu;

impl Qiniu {
    fn kind(req: &Incoming<'_>) -> Option<MetadataKind> {
        let q = req.query;
        // The old document spells it `imageinfo`, the newer `imageInfo`.
        if q.has("imageInfo") || q.has("imageinfo") {
            Some(wire::IMAGE_INFO)
        } else if q.has("exif") {
            Some(wire::EXIF)
        } else if q.has("imageAve") {
            Some(wire::IMAGE_AVE)
        } else {
            None
        }
    }
}

impl Dialect for Qiniu {
    fn name(&self) -> &'static str {
        "qiniu"
    }

    fn request_id_header(&self) -> http::HeaderName {
        const NAME: http::HeaderName = http::HeaderName::from_static("x-reqid");
        NAME
    }

    fn detect(&self, req: &Incoming<'_>) -> bool {
        ci::spec(req.query).is_some() || Qiniu::kind(req).is_some()
    }

    fn on_by_default(&self) -> bool {
        false
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Operation, DialectError> {
        if let Some(spec) = ci::spec(req.query) {
            return Ok(ci::operation(&spec, Flavour::Qiniu));
        }
        Ok(Qiniu::kind(req).map_or(Operation::Original, Operation::Metadata))
    }

    /// Qiniu styles follow a separator in the key (`a.jpg-thumb`).
    fn style_in_key<'k>(
        &self,
        key: &'k str,
        separators: &[String],
        styles: &BTreeMap<String, String>,
    ) -> Option<(Operation, &'k str)> {
        crate::style::style_in_key(key, separators, styles)
    }

    fn style_hint(&self) -> Option<&'static str> {
        Some("a style (<key><separator><name>, e.g. sample.jpg-thumb)")
    }

    fn style_plan(&self, content: &str) -> Result<Plan, PlanError> {
        ci::parse(content, Flavour::Qiniu)
    }

    fn label(&self, op: &Operation) -> &'static str {
        match op {
            Operation::Metadata(k) if *k == wire::EXIF => "qiniu-exif",
            Operation::Metadata(k) if *k == wire::IMAGE_INFO => "qiniu-imageinfo",
            Operation::Metadata(k) if *k == wire::IMAGE_AVE => "qiniu-imageave",
            op => op.label(),
        }
    }

    fn render_error(
        &self,
        code: &str,
        message: &str,
        _request_id: &str,
        _host: &str,
    ) -> (String, &'static str) {
        wire::error(code, message)
    }

    fn status(&self, code: &str, status: u16) -> u16 {
        wire::answer_status(code, status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;

    fn op(query: &str) -> Operation {
        let q = Query::parse(query);
        Qiniu
            .parse(&Incoming {
                query: &q,
                headers: &[],
            })
            .unwrap()
    }

    #[test]
    fn specs_metadata_and_plain_reads() {
        assert_eq!(op(""), Operation::Original);
        assert_eq!(op("e=1&token=a:b"), Operation::Original);
        assert_eq!(op("imageInfo"), Operation::Metadata(wire::IMAGE_INFO));
        assert_eq!(op("imageinfo"), Operation::Metadata(wire::IMAGE_INFO));
        assert_eq!(op("exif"), Operation::Metadata(wire::EXIF));
        assert_eq!(op("imageAve"), Operation::Metadata(wire::IMAGE_AVE));
        let Operation::Process { plan: Ok(plan), .. } = op("imageView2/0/w/100&e=1&token=a:b")
        else {
            panic!("not a plan");
        };
        assert_eq!(plan.policy.default_quality, 75);
        assert_eq!(plan.auto_orient, Some(true));
    }

    #[test]
    fn errors_are_json_with_the_status() {
        let (body, ct) = Qiniu.render_error("NoSuchKey", "gone \"x\"", "ID", "h");
        assert_eq!(ct, "application/json");
        assert_eq!(body, "{\"code\":404,\"error\":\"gone \\\"x\\\"\"}");
        let (body, _) = Qiniu.render_error("InvalidArgument", "bad", "ID", "h");
        assert!(body.starts_with("{\"code\":400,"), "{body}");
    }

    #[test]
    fn not_on_unless_named() {
        assert!(!Qiniu.on_by_default());
    }
}
