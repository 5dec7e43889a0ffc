//! Which cloud dialect a request speaks and what it asks for, decided from the
//! query string and the `x-oss-process` header alone (SPEC §2).

use crate::query::Query;

/// The wire dialect: decides the error format the response uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Alibaba Cloud OSS: XML errors. Also the dialect of plain object reads.
    Oss,
    /// QingStor `?image&action=…`: JSON errors.
    QingStor,
    /// Tencent COS `?exif`, `?imageInfo`, `?imageAve`: COS XML errors.
    Cos,
}

impl Dialect {
    /// Lower-case name, for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Oss => "oss",
            Dialect::QingStor => "qingstor",
            Dialect::Cos => "cos",
        }
    }
}

/// Where an OSS process string came from; both are signed the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessSource {
    Query,
    Header,
    /// A style separator in the key (`a.jpg@!thumb`).
    Path,
}

/// What the request asks the proxy to do with the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// No processing: the stored bytes.
    Original,
    /// `x-oss-process=image/…`: the text after `image/`.
    OssImage {
        steps: String,
        source: ProcessSource,
    },
    /// `x-oss-process=style/<name>`.
    OssStyle { name: String, source: ProcessSource },
    /// QingStor `?image&action=<action>`.
    QingStor { action: String },
    /// COS `?exif`.
    CosExif,
    /// COS `?imageInfo`.
    CosImageInfo,
    /// COS `?imageAve`.
    CosImageAve,
}

impl Operation {
    pub fn dialect(&self) -> Dialect {
        match self {
            Operation::Original | Operation::OssImage { .. } | Operation::OssStyle { .. } => {
                Dialect::Oss
            }
            Operation::QingStor { .. } => Dialect::QingStor,
            Operation::CosExif | Operation::CosImageInfo | Operation::CosImageAve => Dialect::Cos,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialectError {
    #[error("The x-oss-process value is empty.")]
    EmptyProcess,
    #[error(
        "The x-oss-process namespace '{0}' is not image processing; this proxy serves only 'image/…' and 'style/…'."
    )]
    UnsupportedNamespace(String),
    #[error("The x-oss-process value '{0}' does not start with 'image/' or 'style/'.")]
    MalformedProcess(String),
    #[error("The style name is empty.")]
    EmptyStyle,
    #[error("The QingStor image request needs an action parameter, e.g. ?image&action=info.")]
    MissingQingStorAction,
}

impl DialectError {
    /// The dialect whose error format the failure is reported in.
    pub fn dialect(&self) -> Dialect {
        match self {
            DialectError::MissingQingStorAction => Dialect::QingStor,
            _ => Dialect::Oss,
        }
    }
}

/// The namespaces that share `x-oss-process` with images but are not images.
const OTHER_NAMESPACES: &[&str] = &["video", "doc", "audio", "csv", "json", "sys"];

/// Decides the operation. The query parameter wins over the header when both
/// carry `x-oss-process` (the query is what signed URLs cover).
pub fn classify(query: &Query, process_header: Option<&str>) -> Result<Operation, DialectError> {
    if let Some(value) = query.get("x-oss-process") {
        return oss_process(value, ProcessSource::Query);
    }
    if let Some(value) = process_header {
        return oss_process(value, ProcessSource::Header);
    }
    if query.has("image") {
        return match query.get("action") {
            Some(action) if !action.is_empty() => Ok(Operation::QingStor {
                action: action.to_owned(),
            }),
            _ => Err(DialectError::MissingQingStorAction),
        };
    }
    if query.has("exif") {
        return Ok(Operation::CosExif);
    }
    // Qiniu's older spelling is all lower case.
    if query.has("imageInfo") || query.has("imageinfo") {
        return Ok(Operation::CosImageInfo);
    }
    if query.has("imageAve") {
        return Ok(Operation::CosImageAve);
    }
    Ok(Operation::Original)
}

fn oss_process(value: &str, source: ProcessSource) -> Result<Operation, DialectError> {
    if value.is_empty() {
        return Err(DialectError::EmptyProcess);
    }
    let (namespace, rest) = value
        .split_once('/')
        .ok_or_else(|| DialectError::MalformedProcess(value.to_owned()))?;
    match namespace {
        "image" => Ok(Operation::OssImage {
            steps: rest.to_owned(),
            source,
        }),
        "style" if rest.is_empty() => Err(DialectError::EmptyStyle),
        "style" => Ok(Operation::OssStyle {
            name: rest.to_owned(),
            source,
        }),
        ns if OTHER_NAMESPACES.contains(&ns) => {
            Err(DialectError::UnsupportedNamespace(ns.to_owned()))
        }
        _ => Err(DialectError::MalformedProcess(value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(query: &str) -> Result<Operation, DialectError> {
        classify(&Query::parse(query), None)
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
            Ok(Operation::OssImage {
                steps: "resize,w_100".into(),
                source: ProcessSource::Query
            })
        );
        assert_eq!(
            op("x-oss-process=style/thumb"),
            Ok(Operation::OssStyle {
                name: "thumb".into(),
                source: ProcessSource::Query
            })
        );
        assert_eq!(op("x-oss-process=style/"), Err(DialectError::EmptyStyle));
    }

    #[test]
    fn header_form_and_query_precedence() {
        let q = Query::parse("");
        assert_eq!(
            classify(&q, Some("image/info")),
            Ok(Operation::OssImage {
                steps: "info".into(),
                source: ProcessSource::Header
            })
        );
        let q = Query::parse("x-oss-process=image/rotate,90");
        assert!(matches!(
            classify(&q, Some("style/x")),
            Ok(Operation::OssImage { .. })
        ));
    }

    #[test]
    fn other_namespaces_are_refused_not_treated_as_images() {
        assert_eq!(
            op("x-oss-process=video/snapshot,t_1000"),
            Err(DialectError::UnsupportedNamespace("video".into()))
        );
        assert!(matches!(
            op("x-oss-process=resize,w_100"),
            Err(DialectError::MalformedProcess(_))
        ));
        assert_eq!(op("x-oss-process="), Err(DialectError::EmptyProcess));
    }

    #[test]
    fn qingstor_and_cos_dialects() {
        let info = op("image&action=info").unwrap();
        assert_eq!(info.dialect(), Dialect::QingStor);
        assert_eq!(op("image"), Err(DialectError::MissingQingStorAction));
        assert_eq!(op("exif").unwrap().dialect(), Dialect::Cos);
        assert_eq!(op("imageInfo"), Ok(Operation::CosImageInfo));
        assert_eq!(op("imageAve"), Ok(Operation::CosImageAve));
    }
}
