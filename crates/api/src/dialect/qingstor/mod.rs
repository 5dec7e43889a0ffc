//! QingStor: `?image&action=<op>[:k_v,…][|<op>…]` (crop, resize, rotate,
//! watermark, watermark_image, format, info; `save` writes the result,
//! `save.rs`). JSON errors.

mod action;
mod save;
mod wire;

use super::{Dialect, DialectError, Incoming, Operation, ProcessSource};
use crate::save::{SaveRequest, Saved};

#[derive(Debug)]
pub struct QingStor;

fn missing_action() -> DialectError {
    DialectError(
        "The QingStor image request needs an action parameter, e.g. ?image&action=info.".to_owned(),
    )
}

impl Dialect for QingStor {
    fn name(&self) -> &'static str {
        "qingstor"
    }

    fn request_id_header(&self) -> http::HeaderName {
        const NAME: http::HeaderName = http::HeaderName::from_static("x-qs-request-id");
        NAME
    }

    fn detect(&self, req: &Incoming<'_>) -> bool {
        req.query.has("image")
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Operation, DialectError> {
        // A bucket whose first dialect is QingStor answers plain reads.
        if !req.query.has("image") {
            return Ok(Operation::Original);
        }
        match req.query.get("action") {
            Some("info") => Ok(Operation::Metadata(wire::INFO)),
            Some(action) if !action.is_empty() => Ok(Operation::Process {
                plan: action::parse(action, wire::INFO),
                source: ProcessSource::Query,
            }),
            _ => Err(missing_action()),
        }
    }

    fn label(&self, op: &Operation) -> &'static str {
        match op {
            Operation::Original => op.label(),
            _ => "qingstor-image",
        }
    }

    fn save(
        &self,
        method: &str,
        req: &Incoming<'_>,
        _key: &str,
    ) -> Option<Result<SaveRequest, DialectError>> {
        save::claim(method, req)
    }

    /// The image itself answers (the server sends it); nothing to render.
    fn render_saved(&self, _saved: &Saved) -> (String, &'static str) {
        (String::new(), "application/octet-stream")
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
    use crate::Query;

    fn op(query: &str) -> Result<Operation, DialectError> {
        let q = Query::parse(query);
        QingStor.parse(&Incoming {
            query: &q,
            headers: &[],
        })
    }

    #[test]
    fn info_and_the_rest() {
        assert_eq!(op("image&action=info"), Ok(Operation::Metadata(wire::INFO)));
        assert!(matches!(
            op("image&action=resize%3Aw_1"),
            Ok(Operation::Process { plan: Ok(_), .. })
        ));
        assert!(matches!(
            op("image&action=slim:w_1"),
            Ok(Operation::Process { plan: Err(_), .. })
        ));
        assert_eq!(op("versionId=1"), Ok(Operation::Original));
        assert_eq!(op("image"), Err(missing_action()));
        assert_eq!(op("image&action="), Err(missing_action()));
    }

    #[test]
    fn qingstor_is_json_with_its_codes() {
        let (body, ct) = QingStor.render_error("NoSuchKey", "gone \"x\"", "ID", "h");
        assert_eq!(ct, "application/json");
        assert!(body.starts_with("{\"code\":\"object_not_exists\",\"message\":\"gone \\\"x\\\"\""));
        let (body, _) = QingStor.render_error("SignatureDoesNotMatch", "no", "ID", "h");
        assert!(
            body.starts_with("{\"code\":\"signature_not_matched\","),
            "{body}"
        );
        assert_eq!(QingStor.status("SignatureDoesNotMatch", 403), 401);
        assert_eq!(QingStor.status("RequestExpired", 403), 403);
    }
}
