//! Tencent COS / Cloud Infinite: bare-query specs in the grammar it
//! shares with Qiniu (`?imageMogr2/…`, `?imageView2/…`, `?watermark/…`,
//! joined with `|`; parsed by `dialect/ci`), styles in the key
//! (`a.jpg!thumb`), and the metadata answers `?exif`, `?imageInfo` (also
//! Qiniu's lower-case `?imageinfo`) and `?imageAve`. XML errors with
//! `TraceId`.

mod save;
pub(in crate::dialect) mod style_api;
mod wire;

use std::collections::BTreeMap;

use super::ci::{self, Flavour};
use super::{Dialect, DialectError, Incoming, Operation};
use crate::save::{SaveRequest, Saved};
use crate::{Plan, PlanError};

pub(super) use wire::exif_body;

#[derive(Debug)]
pub struct Cos;

impl Cos {
    fn kind(req: &Incoming<'_>) -> Option<crate::metadata::MetadataKind> {
        let q = req.query;
        if q.has("exif") {
            Some(wire::EXIF)
        } else if q.has("imageInfo") || q.has("imageinfo") {
            Some(wire::IMAGE_INFO)
        } else if q.has("imageAve") {
            Some(wire::IMAGE_AVE)
        } else {
            None
        }
    }
}

impl Dialect for Cos {
    fn name(&self) -> &'static str {
        "cos"
    }

    fn request_id_header(&self) -> http::HeaderName {
        const NAME: http::HeaderName = http::HeaderName::from_static("x-cos-request-id");
        NAME
    }

    fn detect(&self, req: &Incoming<'_>) -> bool {
        ci::spec(req.query).is_some() || Cos::kind(req).is_some()
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Operation, DialectError> {
        if let Some(spec) = ci::spec(req.query) {
            return Ok(ci::operation(&spec, Flavour::Tencent));
        }
        Ok(Cos::kind(req).map_or(Operation::Original, Operation::Metadata))
    }

    fn style_in_key<'k>(
        &self,
        key: &'k str,
        separators: &[String],
        styles: &BTreeMap<String, String>,
    ) -> Option<(Operation, &'k str)> {
        crate::style::style_in_key(key, separators, styles)
    }

    fn style_hint(&self) -> Option<&'static str> {
        Some("a style (<key><separator><name>, e.g. sample.jpg!thumb)")
    }

    /// A style's content is a spec in this grammar
    /// (`imageMogr2/thumbnail/300x|watermark/…`).
    fn style_plan(&self, content: &str) -> Result<Plan, PlanError> {
        ci::parse(content, Flavour::Tencent)
    }

    fn label(&self, op: &Operation) -> &'static str {
        match op {
            Operation::Metadata(k) if *k == wire::EXIF => "cos-exif",
            Operation::Metadata(k) if *k == wire::IMAGE_INFO => "cos-imageinfo",
            Operation::Metadata(k) if *k == wire::IMAGE_AVE => "cos-imageave",
            op => op.label(),
        }
    }

    fn save_headers(&self) -> &'static [&'static str] {
        &[save::HEADER]
    }

    fn save(
        &self,
        method: &str,
        req: &Incoming<'_>,
        key: &str,
    ) -> Option<Result<SaveRequest, DialectError>> {
        save::claim(method, req, key)
    }

    fn render_saved(&self, saved: &Saved) -> (String, &'static str) {
        save::render(saved)
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

    fn op(query: &str) -> Result<Operation, DialectError> {
        let q = Query::parse(query);
        Cos.parse(&Incoming {
            query: &q,
            headers: &[],
        })
    }

    #[test]
    fn the_three_metadata_answers() {
        assert_eq!(op("exif"), Ok(Operation::Metadata(wire::EXIF)));
        assert_eq!(op("imageInfo"), Ok(Operation::Metadata(wire::IMAGE_INFO)));
        assert_eq!(op("imageinfo"), Ok(Operation::Metadata(wire::IMAGE_INFO)));
        assert_eq!(op("imageAve"), Ok(Operation::Metadata(wire::IMAGE_AVE)));
    }

    #[test]
    fn specs_are_processing_in_the_tencent_reading() {
        let q = Query::parse("imageMogr2/thumbnail/!50p");
        assert!(Cos.detect(&Incoming {
            query: &q,
            headers: &[]
        }));
        let Ok(Operation::Process { plan: Ok(plan), .. }) = op("imageView2/1/w/100&versionId=3")
        else {
            panic!("not a plan");
        };
        // Tencent keeps the source's quality and may enlarge.
        assert_eq!(plan.policy.default_quality, 100);
        assert_eq!(plan.auto_orient, Some(false));
        assert!(matches!(
            op("imageMogr2/rotate/400"),
            Ok(Operation::Process { plan: Err(_), .. })
        ));
        assert_eq!(
            op("imageMogr2/rotate/400/ignore-error/1"),
            Ok(Operation::Original)
        );
        // Plain reads and other parameters are the original.
        assert_eq!(op("versionId=3"), Ok(Operation::Original));
        assert_eq!(op("watermarked=1"), Ok(Operation::Original));
        // Styles are written in the same grammar.
        assert!(
            Cos.style_plan("imageMogr2/thumbnail/300x|imageMogr2/rotate/90")
                .is_ok()
        );
        assert!(Cos.style_plan("resize,w_300").is_err());
    }

    #[test]
    fn errors_name_the_trace() {
        let (body, ct) = Cos.render_error("NoSuchKey", "gone", "ID", "h&h");
        assert_eq!(ct, "application/xml");
        assert!(body.contains("<TraceId>h&amp;h</TraceId>"), "{body}");
        // Code, Message, Resource, RequestId, TraceId: the SDK needs all five.
        let at = |tag: &str| body.find(tag).unwrap();
        assert!(
            at("<Message>") < at("<Resource>h&amp;h</Resource>"),
            "{body}"
        );
        assert!(
            at("</Resource>") < at("<RequestId>ID</RequestId>"),
            "{body}"
        );
    }

    #[test]
    fn signature_refusals_use_cos_codes_and_403() {
        for (code, want) in [
            ("SignatureDoesNotMatch", "SignatureDoesNotMatch"),
            ("InvalidAccessKeyId", "InvalidAccessKeyId"),
            ("RequestTimeTooSkewed", "RequestTimeTooSkewed"),
            ("RequestExpired", "AccessDenied"),
            ("AccessDenied", "AccessDenied"),
        ] {
            let (body, _) = Cos.render_error(code, "Request has expired", "ID", "h");
            assert!(body.contains(&format!("<Code>{want}</Code>")), "{body}");
            assert_eq!(Cos.status(code, 403), 403);
        }
    }
}
