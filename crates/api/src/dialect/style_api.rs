//! Style management calls (issue 19) in no cloud's words: each cloud's
//! folder reads its requests into a [`StyleCall`] and writes its answers
//! from [`StyleRecord`]s (`oss/style_api.rs`, `cos/style_api.rs`); the
//! server stores the styles and names no cloud.

use std::fmt::Debug;

use crate::query::Query;

/// Styles a bucket may hold (OSS's limit).
pub const MAX_STYLES: usize = 50;

/// What a style call asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StyleCall {
    /// Create or replace a style.
    Put {
        name: String,
        content: String,
    },
    Get {
        name: String,
    },
    List,
    Delete {
        name: String,
    },
}

impl StyleCall {
    /// Whether the call changes the bucket's styles.
    pub fn writes(&self) -> bool {
        matches!(self, StyleCall::Put { .. } | StyleCall::Delete { .. })
    }
}

/// A stored style as the calls report it; times are HTTP dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StyleRecord {
    pub name: String,
    pub content: String,
    pub created: String,
    pub modified: String,
}

/// Why a style call cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StyleErrorKind {
    /// A bad name or content, or a missing parameter.
    InvalidArgument,
    /// The body is not the XML the call takes.
    MalformedXml,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StyleError {
    pub kind: StyleErrorKind,
    pub message: String,
}

impl StyleError {
    pub fn invalid(message: impl Into<String>) -> StyleError {
        StyleError {
            kind: StyleErrorKind::InvalidArgument,
            message: message.into(),
        }
    }

    pub fn malformed(message: impl Into<String>) -> StyleError {
        StyleError {
            kind: StyleErrorKind::MalformedXml,
            message: message.into(),
        }
    }
}

/// What a style call looks like before its body is read.
#[derive(Debug, Clone, Copy)]
pub struct StyleRequest<'a> {
    pub method: &'a str,
    pub query: &'a Query,
    /// The `Authorization` header, which tells the clouds' signatures apart
    /// where their calls share a path and query.
    pub authorization: Option<&'a str>,
}

/// One cloud's style calls.
pub trait StyleApi: Debug + Sync {
    /// The dialect whose wire answers this cloud's errors.
    fn dialect(&self) -> &'static str;

    /// Whether the request is one of this cloud's style calls.
    fn detect(&self, req: &StyleRequest<'_>) -> bool;

    /// The call, from the request and its (small) body.
    fn parse(&self, req: &StyleRequest<'_>, body: &[u8]) -> Result<StyleCall, StyleError>;

    /// The answer to `Get`: its body and content type.
    fn render_one(&self, style: &StyleRecord) -> (String, &'static str);

    /// The answer to `List`.
    fn render_list(&self, styles: &[StyleRecord]) -> (String, &'static str);

    /// The status of a successful Put / Delete, whose bodies are empty.
    fn written_status(&self, call: &StyleCall) -> u16;
}

/// Every cloud's style calls, in detection order.
pub const STYLE_APIS: &[&dyn StyleApi] = &[
    &super::cos::style_api::CosStyles,
    &super::oss::style_api::OssStyles,
];

/// The style call a request is, if any.
pub fn pick(req: &StyleRequest<'_>) -> Option<&'static dyn StyleApi> {
    STYLE_APIS.iter().copied().find(|a| a.detect(req))
}

/// Style names: 1-63 of `[A-Za-z0-9_.-]` (OSS's rule, the strictest of the
/// clouds').
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Checks a name as every cloud's call does.
pub fn check_name(name: &str) -> Result<(), StyleError> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(StyleError::invalid(format!(
            "The value: {name} of parameter: stylename is invalid; a style name is 1-63 characters of A-Z, a-z, 0-9, '_', '.' and '-'."
        )))
    }
}

/// The text of the first `<tag>…</tag>` in `xml`, unescaped: `None` when
/// absent, an error when the text does not unescape. The bodies are a
/// handful of elements: a full parser would add nothing.
pub(super) fn xml_text(xml: &str, tag: &str) -> Result<Option<String>, StyleError> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    // `<Tag>`, `<Tag attr="…">` or the empty `<Tag/>`, `<Tag />`.
    let mut from = 0;
    let rest = loop {
        let Some(at) = xml[from..].find(&open) else {
            return Ok(None);
        };
        let after = &xml[from + at + open.len()..];
        from += at + open.len();
        match after.chars().next() {
            Some('>') => break &after[1..],
            Some(c) if c == '/' || c.is_whitespace() => {
                let end = after.find('>').ok_or_else(|| {
                    StyleError::malformed(format!("The element <{tag}> is not closed."))
                })?;
                if after[..end].ends_with('/') {
                    return Ok(Some(String::new()));
                }
                break &after[end + 1..];
            }
            // `<TagOther>`: another element.
            _ => continue,
        }
    };
    let end = rest
        .find(&close)
        .ok_or_else(|| StyleError::malformed(format!("The element <{tag}> is not closed.")))?;
    let raw = rest[..end].trim();
    let raw = raw
        .strip_prefix("<![CDATA[")
        .and_then(|r| r.strip_suffix("]]>"));
    match raw {
        Some(cdata) => Ok(Some(cdata.to_owned())),
        None => unescape(rest[..end].trim()).map(Some).ok_or_else(|| {
            StyleError::malformed(format!("The text of <{tag}> is not valid XML text."))
        }),
    }
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let semi = tail.find(';')?;
        let entity = &tail[..semi];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()?
                } else {
                    entity.strip_prefix('#')?.parse().ok()?
                };
                char::from_u32(n)?
            }
        };
        out.push(c);
        rest = &tail[semi + 1..];
    }
    if rest.contains('<') {
        return None;
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("thumb"));
        assert!(valid_name("a.b-c_9"));
        assert!(valid_name(&"x".repeat(63)));
        assert!(!valid_name(&"x".repeat(64)));
        assert!(!valid_name(""));
        assert!(!valid_name("Images!tyle"));
        assert!(!valid_name("a/b"));
        let e = check_name("@%$").unwrap_err();
        assert_eq!(e.kind, StyleErrorKind::InvalidArgument);
    }

    #[test]
    fn element_text() {
        let x = "<Style><Content>image/resize,w_1&amp;x</Content></Style>";
        assert_eq!(
            xml_text(x, "Content").unwrap().as_deref(),
            Some("image/resize,w_1&x")
        );
        assert_eq!(xml_text(x, "Name").unwrap(), None);
        assert_eq!(
            xml_text("<Style><Content/></Style>", "Content").unwrap(),
            Some(String::new())
        );
        assert_eq!(
            xml_text("<Style><Content /></Style>", "Content").unwrap(),
            Some(String::new())
        );
        assert_eq!(
            xml_text(
                "<StyleNameX>a</StyleNameX><StyleName>b</StyleName>",
                "StyleName"
            )
            .unwrap()
            .as_deref(),
            Some("b")
        );
        assert_eq!(
            xml_text("<C><![CDATA[a<b]]></C>", "C").unwrap().as_deref(),
            Some("a<b")
        );
        assert!(xml_text("<C>a", "C").is_err());
        assert!(xml_text("<C>a&bogus;</C>", "C").is_err());
    }
}
