//! Tencent CI AddStyle / GetStyle / DeleteStyle: `?style` on the bucket,
//! the style named in an XML body (`<AddStyle>`, `<GetStyle>`,
//! `<DeleteStyle>`); told from OSS's calls by the COS signature.

use crate::dialect::style_api::{
    StyleApi, StyleCall, StyleError, StyleRecord, StyleRequest, check_name, xml_text,
};
use crate::dialect::wire::xml_escape;

#[derive(Debug)]
pub struct CosStyles;

impl StyleApi for CosStyles {
    fn dialect(&self) -> &'static str {
        "cos"
    }

    fn detect(&self, req: &StyleRequest<'_>) -> bool {
        let cos_signed = req
            .authorization
            .is_some_and(|a| a.trim_start().starts_with("q-sign-algorithm="))
            || req.query.has("q-sign-algorithm");
        cos_signed && req.query.has("style") && matches!(req.method, "PUT" | "GET" | "DELETE")
    }

    fn parse(&self, req: &StyleRequest<'_>, body: &[u8]) -> Result<StyleCall, StyleError> {
        let body = std::str::from_utf8(body)
            .map_err(|_| StyleError::malformed("The body is not UTF-8 XML."))?;
        let name = || -> Result<String, StyleError> {
            let name = xml_text(body, "StyleName")?
                .ok_or_else(|| StyleError::invalid("The body names no <StyleName>."))?;
            check_name(&name)?;
            Ok(name)
        };
        match req.method {
            "PUT" => {
                let name = name()?;
                let content = xml_text(body, "StyleBody")?
                    .filter(|c| !c.trim().is_empty())
                    .ok_or_else(|| StyleError::invalid("The style has no <StyleBody>."))?;
                Ok(StyleCall::Put { name, content })
            }
            "DELETE" => Ok(StyleCall::Delete { name: name()? }),
            // GET: a body naming one style, or none for all of them.
            _ if body.trim().is_empty() || xml_text(body, "StyleName")?.is_none() => {
                Ok(StyleCall::List)
            }
            _ => Ok(StyleCall::Get { name: name()? }),
        }
    }

    fn render_one(&self, style: &StyleRecord) -> (String, &'static str) {
        // CI answers one style as a list of one.
        self.render_list(std::slice::from_ref(style))
    }

    fn render_list(&self, styles: &[StyleRecord]) -> (String, &'static str) {
        let mut xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<StyleList>".to_owned();
        for s in styles {
            xml.push_str(&format!(
                "<StyleRule><StyleName>{}</StyleName><StyleBody>{}</StyleBody></StyleRule>",
                xml_escape(&s.name),
                xml_escape(&s.content)
            ));
        }
        xml.push_str("</StyleList>");
        (xml, "application/xml")
    }

    fn written_status(&self, _call: &StyleCall) -> u16 {
        200
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::style_api::pick;
    use crate::query::Query;

    fn parse(method: &str, body: &str) -> Result<StyleCall, StyleError> {
        let q = Query::parse("style=");
        let req = StyleRequest {
            method,
            query: &q,
            authorization: Some("q-sign-algorithm=sha1&q-ak=x"),
        };
        assert_eq!(pick(&req).unwrap().dialect(), "cos");
        CosStyles.parse(&req, body.as_bytes())
    }

    #[test]
    fn calls() {
        assert_eq!(
            parse(
                "PUT",
                "<AddStyle><StyleName>s1</StyleName><StyleBody>imageMogr2/thumbnail/100x</StyleBody></AddStyle>"
            )
            .unwrap(),
            StyleCall::Put {
                name: "s1".into(),
                content: "imageMogr2/thumbnail/100x".into()
            }
        );
        assert_eq!(parse("GET", "").unwrap(), StyleCall::List);
        assert_eq!(
            parse("GET", "<GetStyle><StyleName>s1</StyleName></GetStyle>").unwrap(),
            StyleCall::Get { name: "s1".into() }
        );
        assert_eq!(
            parse(
                "DELETE",
                "<DeleteStyle><StyleName>s1</StyleName></DeleteStyle>"
            )
            .unwrap(),
            StyleCall::Delete { name: "s1".into() }
        );
        assert!(parse("DELETE", "").is_err());
        assert!(parse("PUT", "<AddStyle><StyleName>s1</StyleName></AddStyle>").is_err());
    }

    #[test]
    fn list_body() {
        let s = StyleRecord {
            name: "s1".into(),
            content: "imageMogr2/thumbnail/100x".into(),
            created: String::new(),
            modified: String::new(),
        };
        let (xml, _) = CosStyles.render_one(&s);
        assert!(xml.ends_with("<StyleList><StyleRule><StyleName>s1</StyleName><StyleBody>imageMogr2/thumbnail/100x</StyleBody></StyleRule></StyleList>"));
    }
}
