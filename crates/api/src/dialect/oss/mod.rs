//! Alibaba Cloud OSS: `x-oss-process=image/…` or `style/<name>` in the
//! query or the `x-oss-process` header (the query wins: it is what signed
//! URLs cover), and styles named in the key (`a.jpg@!thumb`). Also the
//! default dialect: plain object reads answer in its wire.

mod save;
pub(in crate::dialect) mod style_api;
mod wire;

use std::collections::BTreeMap;

use super::{Dialect, DialectError, Incoming, Operation, ProcessSource};
use crate::save::{SaveRequest, Saved};
use crate::{Plan, PlanError};

pub use wire::{AVERAGE_HUE, INFO};

/// The parameter and header that carry a process string.
const PROCESS: &str = "x-oss-process";

/// The namespaces that share `x-oss-process` with images but are not images.
const OTHER_NAMESPACES: &[&str] = &["video", "doc", "audio", "csv", "json", "sys"];

#[derive(Debug)]
pub struct Oss;

impl Dialect for Oss {
    fn name(&self) -> &'static str {
        "oss"
    }

    fn process_headers(&self) -> &'static [&'static str] {
        &[PROCESS]
    }

    fn request_id_header(&self) -> http::HeaderName {
        const NAME: http::HeaderName = http::HeaderName::from_static("x-oss-request-id");
        NAME
    }

    fn detect(&self, req: &Incoming<'_>) -> bool {
        req.query.get(PROCESS).is_some() || req.header(PROCESS).is_some()
    }

    fn parse(&self, req: &Incoming<'_>) -> Result<Operation, DialectError> {
        if let Some(value) = req.query.get(PROCESS) {
            return process(value, ProcessSource::Query);
        }
        if let Some(value) = req.header(PROCESS) {
            return process(value, ProcessSource::Header);
        }
        Ok(Operation::Original)
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
        Some("a style (x-oss-process=style/<name>)")
    }

    /// A style is an `image/…` chain free of `; ( ) ' * ?` (EC 0040-00000602).
    fn style_plan(&self, content: &str) -> Result<Plan, PlanError> {
        let steps = content
            .strip_prefix("image/")
            .ok_or_else(|| PlanError::invalid("style content must be an image/… process string"))?;
        if let Some(c) = content.chars().find(|c| ";()'*?".contains(*c)) {
            return Err(PlanError::invalid(format!(
                "style content must not contain '{c}'"
            )));
        }
        Plan::parse(steps)
    }

    fn save(
        &self,
        method: &str,
        req: &Incoming<'_>,
        _key: &str,
    ) -> Option<Result<SaveRequest, DialectError>> {
        save::claim(method, req)
    }

    fn save_body(&self, save: SaveRequest, body: &[u8]) -> Result<SaveRequest, DialectError> {
        save::body(save, body)
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

fn process(value: &str, source: ProcessSource) -> Result<Operation, DialectError> {
    if value.is_empty() {
        return Err(empty_process());
    }
    let (namespace, rest) = value.split_once('/').ok_or_else(|| malformed(value))?;
    match namespace {
        "image" => Ok(Operation::Process {
            plan: Plan::parse(rest),
            source,
        }),
        "style" if rest.is_empty() => Err(empty_style()),
        "style" => Ok(Operation::Style {
            name: rest.to_owned(),
            source,
        }),
        ns if OTHER_NAMESPACES.contains(&ns) => Err(other_namespace(ns)),
        _ => Err(malformed(value)),
    }
}

fn empty_process() -> DialectError {
    DialectError("The x-oss-process value is empty.".to_owned())
}

fn empty_style() -> DialectError {
    DialectError("The style name is empty.".to_owned())
}

fn malformed(value: &str) -> DialectError {
    DialectError(format!(
        "The x-oss-process value '{value}' does not start with 'image/' or 'style/'."
    ))
}

fn other_namespace(ns: &str) -> DialectError {
    DialectError(format!(
        "The x-oss-process namespace '{ns}' is not image processing; this proxy serves only 'image/…' and 'style/…'."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;

    fn op_with(query: &str, header: Option<&str>) -> Result<Operation, DialectError> {
        let q = Query::parse(query);
        let headers: Vec<(&str, &str)> = header.map(|h| (PROCESS, h)).into_iter().collect();
        Oss.parse(&Incoming {
            query: &q,
            headers: &headers,
        })
    }

    fn op(query: &str) -> Result<Operation, DialectError> {
        op_with(query, None)
    }

    #[test]
    fn no_query_is_the_original() {
        assert_eq!(op(""), Ok(Operation::Original));
        assert_eq!(op("versionId=1"), Ok(Operation::Original));
    }

    #[test]
    fn oss_image_and_style() {
        assert_eq!(
            op("x-oss-process=image/resize,w_100"),
            Ok(Operation::Process {
                plan: Plan::parse("resize,w_100"),
                source: ProcessSource::Query
            })
        );
        assert_eq!(
            op("x-oss-process=style/thumb"),
            Ok(Operation::Style {
                name: "thumb".into(),
                source: ProcessSource::Query
            })
        );
        assert_eq!(op("x-oss-process=style/"), Err(empty_style()));
    }

    #[test]
    fn header_form_and_query_precedence() {
        assert_eq!(
            op_with("", Some("image/info")),
            Ok(Operation::Process {
                plan: Plan::parse("info"),
                source: ProcessSource::Header
            })
        );
        assert!(matches!(
            op_with("x-oss-process=image/rotate,90", Some("style/x")),
            Ok(Operation::Process { .. })
        ));
    }

    #[test]
    fn other_namespaces_are_refused_not_treated_as_images() {
        assert_eq!(
            op("x-oss-process=video/snapshot,t_1000"),
            Err(other_namespace("video"))
        );
        assert_eq!(
            op("x-oss-process=resize,w_100"),
            Err(malformed("resize,w_100"))
        );
        assert_eq!(op("x-oss-process="), Err(empty_process()));
    }

    #[test]
    fn oss_envelope_escapes_everything_it_echoes() {
        let (body, ct) = Oss.render_error("InvalidArgument", "bad <w> & \"h\"", "ABC", "h<o>st");
        assert_eq!(ct, "application/xml");
        assert!(body.contains("<Code>InvalidArgument</Code>"));
        assert!(body.contains("<Message>bad &lt;w&gt; &amp; \"h\"</Message>"));
        assert!(body.contains("<RequestId>ABC</RequestId>"));
        assert!(body.contains("<HostId>h&lt;o&gt;st</HostId>"));
    }
}
