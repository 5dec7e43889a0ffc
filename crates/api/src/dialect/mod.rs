//! The one place that knows a cloud. Each dialect lives in its own folder
//! (`oss/`, `qingstor/`, `cos/`): it tells whether a request speaks it
//! ([`Dialect::detect`]), turns the request into a neutral [`Operation`]
//! ([`Dialect::parse`]) and renders its own wire (error bodies, request-id
//! header, metadata bodies). The server picks a dialect once per request
//! with [`pick`], which loops over [`DIALECTS`], and names none itself.

mod bos;
mod ci;
mod clone;
mod cos;
mod obs;
pub(crate) mod oss;
mod qingstor;
mod qiniu;
pub mod style_api;
mod tos;
mod wire;

use std::collections::BTreeMap;
use std::fmt::Debug;

use crate::metadata::MetadataKind;
use crate::query::Query;
use crate::save::{SaveRequest, Saved};
use crate::{Plan, PlanError};

/// Every dialect, in detection order: the first whose [`Dialect::detect`]
/// says yes speaks for the request. The first entry is also the default:
/// it answers requests no dialect claims (plain object reads, reserved
/// endpoints) and errors raised before a dialect is known.
///
/// Adding a dialect: a folder beside `oss/` and one line here.
pub const DIALECTS: &[&dyn Dialect] = &[
    &oss::Oss,
    &qingstor::QingStor,
    &cos::Cos,
    &qiniu::Qiniu,
    &obs::Obs,
    &tos::Tos,
    &bos::Bos,
];

/// The dialect that speaks for requests no dialect claims.
pub fn default_dialect() -> &'static dyn Dialect {
    DIALECTS[0]
}

/// The dialect of a request: the first that detects it, else the default.
pub fn pick(req: &Incoming<'_>) -> &'static dyn Dialect {
    pick_among(req, DIALECTS)
}

/// The dialect of a request to a bucket that answers `allowed` (in
/// [`DIALECTS`] order): the first of them that detects it, else the first
/// of them (it answers plain reads and errors).
pub fn pick_among(req: &Incoming<'_>, allowed: &[&'static dyn Dialect]) -> &'static dyn Dialect {
    allowed
        .iter()
        .copied()
        .find(|d| d.detect(req))
        .or_else(|| allowed.first().copied())
        .unwrap_or_else(default_dialect)
}

/// The dialect called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn Dialect> {
    DIALECTS.iter().copied().find(|d| d.name() == name)
}

/// The dialects a bucket answers when its configuration names none: every
/// one whose requests cannot be mistaken for an earlier one's.
pub fn default_set() -> &'static [&'static dyn Dialect] {
    // Computed once: requests for no known bucket (probes, addressing
    // errors) pick among it on every call.
    static SET: std::sync::OnceLock<Vec<&'static dyn Dialect>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        DIALECTS
            .iter()
            .copied()
            .filter(|d| d.on_by_default())
            .collect()
    })
}

/// `names` as dialects in [`DIALECTS`] order (the order decides which of
/// two that detect the same request speaks), the default dialect first
/// when listed; the first unknown name as the error.
pub fn named_set(names: &[String]) -> Result<Vec<&'static dyn Dialect>, String> {
    if let Some(unknown) = names.iter().find(|n| by_name(n).is_none()) {
        return Err(unknown.clone());
    }
    Ok(DIALECTS
        .iter()
        .copied()
        .filter(|d| names.iter().any(|n| n == d.name()))
        .collect())
}

/// Every request header some dialect reads processing from: the server
/// reads these (and only these) into [`Incoming`], and names them in
/// `Vary` on object responses.
pub fn process_headers() -> impl Iterator<Item = &'static str> {
    DIALECTS
        .iter()
        .flat_map(|d| d.process_headers().iter().copied())
}

/// Every request header some dialect reads a save form from (read only
/// for saves, so not named in `Vary`).
pub fn save_headers() -> impl Iterator<Item = &'static str> {
    DIALECTS
        .iter()
        .flat_map(|d| d.save_headers().iter().copied())
}

/// The first of `allowed` that reads the request as a save (processing
/// whose result is written to a bucket), with its reading.
pub fn pick_save(
    method: &str,
    req: &Incoming<'_>,
    key: &str,
    allowed: &[&'static dyn Dialect],
) -> Option<(&'static dyn Dialect, Result<SaveRequest, DialectError>)> {
    allowed
        .iter()
        .find_map(|d| Some((*d, d.save(method, req, key)?)))
}

/// Picks the dialect and parses the request in it.
pub fn classify(req: &Incoming<'_>) -> (&'static dyn Dialect, Result<Operation, DialectError>) {
    let dialect = pick(req);
    (dialect, dialect.parse(req))
}

/// How `dialect`'s clients can ask for a style: its own way, else the
/// default dialect's (styles apply to any object, whatever dialect its
/// other requests speak).
pub fn style_hint(dialect: &dyn Dialect) -> &'static str {
    dialect
        .style_hint()
        .or_else(|| default_dialect().style_hint())
        .unwrap_or("a style")
}

/// What a dialect sees of a request: the query and the processing headers
/// ([`process_headers`]) that were present.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    pub query: &'a Query,
    /// (name, value) pairs, names as the dialects list them.
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Incoming<'a> {
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// A cloud's image-URL language.
pub trait Dialect: Debug + Sync {
    /// Lower-case name, for logs and metrics.
    fn name(&self) -> &'static str;

    /// Request headers that carry processing (listed in `Vary`).
    fn process_headers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The response header that carries the request id (a constant:
    /// parsing a name costs more than the rest of a cached answer's headers).
    fn request_id_header(&self) -> http::HeaderName;

    /// Whether the request speaks this dialect (query and headers only).
    fn detect(&self, req: &Incoming<'_>) -> bool;

    /// Whether buckets answer this dialect when their configuration names
    /// no dialects: false for one whose requests an earlier dialect in
    /// [`DIALECTS`] also detects (a bucket must choose it by name).
    fn on_by_default(&self) -> bool {
        true
    }

    /// The neutral operation the request asks for. Called on the detected
    /// dialect, and on the default one when none detected the request.
    fn parse(&self, req: &Incoming<'_>) -> Result<Operation, DialectError>;

    /// A style named in the key itself (`a.jpg@!thumb`), for requests that
    /// parsed to [`Operation::Original`]: the operation and the real key.
    fn style_in_key<'k>(
        &self,
        _key: &'k str,
        _separators: &[String],
        _styles: &BTreeMap<String, String>,
    ) -> Option<(Operation, &'k str)> {
        None
    }

    /// A configured style's content as a plan.
    fn style_plan(&self, _content: &str) -> Result<Plan, PlanError> {
        Err(PlanError {
            kind: crate::PlanErrorKind::NotImplemented,
            message: format!("The {} dialect has no styles.", self.name()),
        })
    }

    /// How a client names a style in this dialect, for messages
    /// (`a style (x-oss-process=style/<name>)`); `None`: it has no styles.
    fn style_hint(&self) -> Option<&'static str> {
        None
    }

    /// The operation as a metrics label.
    ///
    /// (Every `parse` answers [`Operation::Original`] for a request that
    /// names none of its processing: a bucket's first dialect answers
    /// plain reads.)
    fn label(&self, op: &Operation) -> &'static str {
        op.label()
    }

    /// Headers this dialect reads a save form from ([`Dialect::save`]).
    fn save_headers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The request as a save, if it is one in this dialect: `method`, the
    /// query and the save headers; `key` is the source's (relative target
    /// names are resolved against it).
    fn save(
        &self,
        _method: &str,
        _req: &Incoming<'_>,
        _key: &str,
    ) -> Option<Result<SaveRequest, DialectError>> {
        None
    }

    /// A save whose form is in the request body ([`crate::save::Form::Body`]),
    /// completed from it.
    fn save_body(&self, _save: SaveRequest, _body: &[u8]) -> Result<SaveRequest, DialectError> {
        Err(DialectError(format!(
            "The {} dialect reads no save form from a body.",
            self.name()
        )))
    }

    /// The answer to a save that was written: the body and its content type.
    fn render_saved(&self, _saved: &Saved) -> (String, &'static str) {
        (String::new(), "application/octet-stream")
    }

    /// An error body in this dialect's shape, and its content type. `code`
    /// is the proxy's error code name (`NoSuchKey`, `InvalidArgument`, …).
    fn render_error(
        &self,
        code: &str,
        message: &str,
        request_id: &str,
        host: &str,
    ) -> (String, &'static str);

    /// The HTTP status this dialect's service answers `code` with, where it
    /// differs from the proxy's usual `status` (Qiniu and QingStor refuse
    /// signatures with 401).
    fn status(&self, _code: &str, status: u16) -> u16 {
        status
    }
}

/// Where a process string came from; all are signed the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessSource {
    Query,
    Header,
    /// A style separator in the key (`a.jpg@!thumb`).
    Path,
}

/// What the request asks the proxy to do with the object, in no dialect's
/// words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// No processing: the stored bytes.
    Original,
    /// Run a plan. A plan that does not parse is kept as its error: it is
    /// reported only once the request has passed routing and access.
    Process {
        plan: Result<Plan, PlanError>,
        source: ProcessSource,
    },
    /// Run the bucket's style of this name.
    Style { name: String, source: ProcessSource },
    /// A metadata answer (the dialect's body).
    Metadata(MetadataKind),
    /// A request the dialect knows but the proxy does not serve (501 once
    /// the request has passed routing and access), with the client's message.
    NotImplemented(String),
}

impl Operation {
    /// The neutral metrics label.
    pub fn label(&self) -> &'static str {
        match self {
            Operation::Original => "original",
            Operation::Process { .. } => "image",
            Operation::Style { .. } => "style",
            Operation::Metadata(kind) => kind.canonical,
            Operation::NotImplemented(_) => "unsupported",
        }
    }
}

/// A request its dialect cannot read at all (an empty or malformed
/// processing parameter), with the dialect's own message; the server
/// answers it as InvalidArgument in the dialect's error shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DialectError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    fn pick_for(query: &str, headers: &[(&str, &str)]) -> &'static str {
        let q = Query::parse(query);
        pick(&Incoming { query: &q, headers }).name()
    }

    #[test]
    fn the_first_detecting_dialect_speaks_else_the_default() {
        assert_eq!(pick_for("", &[]), "oss");
        assert_eq!(pick_for("versionId=1", &[]), "oss");
        assert_eq!(pick_for("image&action=info", &[]), "qingstor");
        assert_eq!(pick_for("exif", &[]), "cos");
        assert_eq!(pick_for("imageAve", &[]), "cos");
        // The OSS parameter wins over every other dialect's.
        assert_eq!(pick_for("exif&x-oss-process=image/info", &[]), "oss");
        assert_eq!(
            pick_for("image&action=info", &[("x-oss-process", "image/info")]),
            "oss"
        );
    }

    #[test]
    fn a_bucket_answers_its_own_set() {
        let names = |set: Vec<&'static dyn Dialect>| -> Vec<&str> {
            set.iter().map(|d| d.name()).collect()
        };
        let default = names(default_set().to_vec());
        assert_eq!(default[0], "oss");
        assert!(default.contains(&"cos"));
        // Listed order does not matter; the registry's does.
        let set = named_set(&["cos".into(), "oss".into()]).unwrap();
        assert_eq!(names(set.clone()), ["oss", "cos"]);
        assert_eq!(named_set(&["flickr".into()]).unwrap_err(), "flickr");
        // A bucket without OSS answers plain requests in its first dialect.
        let cos_only = named_set(&["cos".into()]).unwrap();
        let q = Query::parse("");
        let req = Incoming {
            query: &q,
            headers: &[],
        };
        assert_eq!(pick_among(&req, &cos_only).name(), "cos");
        let q = Query::parse("x-oss-process=image/info");
        let req = Incoming {
            query: &q,
            headers: &[],
        };
        assert_eq!(pick_among(&req, &cos_only).name(), "cos");
        assert_eq!(pick_among(&req, &set).name(), "oss");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = DIALECTS.iter().map(|d| d.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DIALECTS.len());
    }
}
