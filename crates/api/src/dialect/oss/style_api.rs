//! OSS PutStyle / GetStyle / ListStyle / DeleteStyle: `?style` on the
//! bucket, `styleName` naming one, a `<Style><Content>` body to put.

use crate::dialect::style_api::{
    StyleApi, StyleCall, StyleError, StyleRecord, StyleRequest, check_name, xml_text,
};
use crate::dialect::wire::xml_escape;

/// Characters OSS refuses in a style's content.
const FORBIDDEN: &[char] = &[';', '(', ')', '\'', '*', '?'];

#[derive(Debug)]
pub struct OssStyles;

impl StyleApi for OssStyles {
    fn dialect(&self) -> &'static str {
        "oss"
    }

    fn detect(&self, req: &StyleRequest<'_>) -> bool {
        req.query.has("style") && matches!(req.method, "PUT" | "GET" | "DELETE")
    }

    fn parse(&self, req: &StyleRequest<'_>, body: &[u8]) -> Result<StyleCall, StyleError> {
        let name = req.query.get("styleName").map(str::to_owned);
        let named = || {
            let name = name.clone().ok_or_else(|| {
                StyleError::invalid("The parameter styleName is missing; name the style.")
            })?;
            check_name(&name)?;
            Ok::<_, StyleError>(name)
        };
        match req.method {
            "PUT" => {
                let name = named()?;
                let body = std::str::from_utf8(body)
                    .map_err(|_| StyleError::malformed("The body is not UTF-8 XML."))?;
                let content = xml_text(body, "Content")?.ok_or_else(|| {
                    StyleError::malformed("The body must be <Style><Content>…</Content></Style>.")
                })?;
                if content.trim().is_empty() {
                    return Err(StyleError::invalid("Style content is invalid."));
                }
                if let Some(c) = content.chars().find(|c| FORBIDDEN.contains(c)) {
                    return Err(StyleError::invalid(format!(
                        "Style content must not contain '{c}' (nor any of ; ( ) ' * ?)."
                    )));
                }
                Ok(StyleCall::Put { name, content })
            }
            "DELETE" => Ok(StyleCall::Delete { name: named()? }),
            _ if name.is_none() => Ok(StyleCall::List),
            _ => Ok(StyleCall::Get { name: named()? }),
        }
    }

    fn render_one(&self, style: &StyleRecord) -> (String, &'static str) {
        (
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
                style_element(style)
            ),
            "application/xml",
        )
    }

    fn render_list(&self, styles: &[StyleRecord]) -> (String, &'static str) {
        let mut xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<StyleList>".to_owned();
        for s in styles {
            xml.push_str(&style_element(s));
        }
        xml.push_str("</StyleList>");
        (xml, "application/xml")
    }

    fn written_status(&self, call: &StyleCall) -> u16 {
        match call {
            StyleCall::Delete { .. } => 204,
            _ => 200,
        }
    }
}

fn style_element(s: &StyleRecord) -> String {
    format!(
        "<Style><Name>{}</Name><Content>{}</Content><CreateTime>{}</CreateTime><LastModifyTime>{}</LastModifyTime></Style>",
        xml_escape(&s.name),
        xml_escape(&s.content),
        xml_escape(&s.created),
        xml_escape(&s.modified)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::style_api::{StyleErrorKind, pick};
    use crate::query::Query;

    fn parse(method: &str, query: &str, body: &str) -> Result<StyleCall, StyleError> {
        let q = Query::parse(query);
        let req = StyleRequest {
            method,
            query: &q,
            authorization: Some("OSS ak:sig"),
        };
        assert_eq!(pick(&req).unwrap().dialect(), "oss");
        OssStyles.parse(&req, body.as_bytes())
    }

    #[test]
    fn calls() {
        assert_eq!(
            parse(
                "PUT",
                "style=&styleName=thumb",
                "<?xml version=\"1.0\"?><Style><Content>image/resize,w_100</Content></Style>"
            )
            .unwrap(),
            StyleCall::Put {
                name: "thumb".into(),
                content: "image/resize,w_100".into()
            }
        );
        assert_eq!(
            parse("GET", "style&styleName=thumb", "").unwrap(),
            StyleCall::Get {
                name: "thumb".into()
            }
        );
        assert_eq!(parse("GET", "style", "").unwrap(), StyleCall::List);
        assert_eq!(
            parse("DELETE", "style&styleName=t", "").unwrap(),
            StyleCall::Delete { name: "t".into() }
        );
    }

    #[test]
    fn refusals() {
        let kind = |m, q, b| parse(m, q, b).unwrap_err().kind;
        assert_eq!(
            kind(
                "PUT",
                "style&styleName=a!b",
                "<Style><Content>x</Content></Style>"
            ),
            StyleErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(
                "PUT",
                "style&styleName=a",
                "<Style><Content></Content></Style>"
            ),
            StyleErrorKind::InvalidArgument
        );
        assert_eq!(
            kind(
                "PUT",
                "style&styleName=a",
                "<Style><Content>a;b</Content></Style>"
            ),
            StyleErrorKind::InvalidArgument
        );
        assert_eq!(
            kind("PUT", "style&styleName=a", "nope"),
            StyleErrorKind::MalformedXml
        );
        assert_eq!(kind("PUT", "style", ""), StyleErrorKind::InvalidArgument);
        assert_eq!(kind("DELETE", "style", ""), StyleErrorKind::InvalidArgument);
    }

    #[test]
    fn bodies() {
        let s = StyleRecord {
            name: "t".into(),
            content: "image/resize,w_1&x".into(),
            created: "Thu, 03 Dec 2026 05:00:00 GMT".into(),
            modified: "Thu, 03 Dec 2026 05:00:00 GMT".into(),
        };
        let (one, _) = OssStyles.render_one(&s);
        assert!(one.contains("<Style><Name>t</Name><Content>image/resize,w_1&amp;x</Content><CreateTime>Thu, 03 Dec 2026 05:00:00 GMT</CreateTime>"));
        let (list, _) = OssStyles.render_list(&[s.clone(), s]);
        assert_eq!(list.matches("<Style>").count(), 2);
        assert!(list.ends_with("</StyleList>"));
    }
}
