//! Tencent CI persistent processing: the `Pic-Operations` header (JSON:
//! `is_pic_info`, up to five `rules` of `bucket`, `fileid`, `rule`) on a
//! `PUT` of an original (stored, then processed) and on `POST
//! ?image_process` for a stored object; answered with CI's XML
//! `UploadResult`.

use serde_json::Value;

use crate::dialect::ci::{self, Flavour};
use crate::dialect::wire::xml_escape;
use crate::dialect::{DialectError, Incoming};
use crate::save::{Form, Needs, SaveOutput, SaveRequest, SaveWork, Saved, SavedObject};

pub(super) const HEADER: &str = "pic-operations";
/// CI's limit on rules per request.
const MAX_RULES: usize = 5;

fn bad(message: impl Into<String>) -> DialectError {
    DialectError(message.into())
}

pub(super) fn claim(
    method: &str,
    req: &Incoming<'_>,
    key: &str,
) -> Option<Result<SaveRequest, DialectError>> {
    let header = req.header(HEADER);
    let upload = match method {
        "PUT" if header.is_some() => true,
        "POST" if req.query.has("image_process") => false,
        _ => return None,
    };
    let Some(header) = header else {
        return Some(Err(bad(
            "POST ?image_process needs a Pic-Operations header.",
        )));
    };
    Some(
        parse(header, key).map(|(outputs, original_info)| SaveRequest {
            outputs,
            // The rules are in the header: a signature that does not list it
            // (q-header-list) would let anyone holding it add rules.
            needs: Needs {
                headers: vec![HEADER],
                ..Needs::default()
            },
            form: Form::Ready,
            upload,
            original_info,
            answer_image: false,
        }),
    )
}

/// The outputs a `Pic-Operations` value asks for, and `is_pic_info`.
fn parse(header: &str, key: &str) -> Result<(Vec<SaveOutput>, bool), DialectError> {
    let v: Value = serde_json::from_str(header)
        .map_err(|e| bad(format!("Pic-Operations is not valid JSON ({e}).")))?;
    let info = match &v["is_pic_info"] {
        Value::Null => false,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => s == "1",
        Value::Bool(b) => *b,
        _ => return Err(bad("Pic-Operations is_pic_info must be 0 or 1.")),
    };
    let rules = v["rules"]
        .as_array()
        .filter(|r| !r.is_empty())
        .ok_or_else(|| bad("Pic-Operations needs a non-empty rules array."))?;
    if rules.len() > MAX_RULES {
        return Err(bad(format!(
            "Pic-Operations has {} rules; at most {MAX_RULES} are allowed.",
            rules.len()
        )));
    }
    let dir = key.rsplit_once('/').map_or("", |(d, _)| d);
    let mut outputs = Vec::new();
    for r in rules {
        let text = |name: &str| r[name].as_str().filter(|s| !s.is_empty());
        let fileid = text("fileid").ok_or_else(|| bad("Each rule needs a fileid."))?;
        if fileid.ends_with('/') {
            return Err(bad(format!("The fileid '{fileid}' must not end with '/'.")));
        }
        // Absolute, or relative to the source object's directory.
        let target = match fileid.strip_prefix('/') {
            Some(abs) => abs.to_owned(),
            None if dir.is_empty() => fileid.to_owned(),
            None => format!("{dir}/{fileid}"),
        };
        let rule = text("rule").ok_or_else(|| bad("Each rule needs a rule."))?;
        let work = match rule.strip_prefix("style/") {
            Some(name) => SaveWork::Style(name.to_owned()),
            None => SaveWork::Plan(ci::parse(rule, Flavour::Tencent)),
        };
        let mut bucket = Vec::new();
        if let Some(b) = text("bucket") {
            bucket.push(b.to_owned());
            // COS names buckets `<name>-<appid>`; the proxy's may be bare.
            if let Some((bare, appid)) = b.rsplit_once('-')
                && !appid.is_empty()
                && appid.bytes().all(|c| c.is_ascii_digit())
            {
                bucket.push(bare.to_owned());
            }
        }
        outputs.push(SaveOutput {
            work,
            bucket,
            key: target,
        });
    }
    Ok((outputs, info))
}

fn image_info(o: &SavedObject) -> String {
    format!(
        "<ImageInfo><Format>{}</Format><Width>{}</Width><Height>{}</Height></ImageInfo>",
        o.format, o.width, o.height
    )
}

fn location(saved: &Saved, o: &SavedObject) -> String {
    xml_escape(&format!("{}/{}", saved.host, o.key))
}

fn etag(o: &SavedObject) -> String {
    xml_escape(o.etag.as_deref().unwrap_or(""))
}

/// CI's `UploadResult` (the Go SDK's `ImageProcessResult` fields).
pub(super) fn render(saved: &Saved) -> (String, &'static str) {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<UploadResult>");
    if let Some(o) = &saved.original {
        xml.push_str(&format!(
            "<OriginalInfo><Key>{}</Key><Location>{}</Location><ETag>{}</ETag>",
            xml_escape(&o.key),
            location(saved, o),
            etag(o)
        ));
        if saved.original_info {
            xml.push_str(&image_info(o));
        }
        xml.push_str("</OriginalInfo>");
    }
    xml.push_str("<ProcessResults>");
    for o in &saved.outputs {
        xml.push_str(&format!(
            "<Object><Key>{}</Key><Location>{}</Location><Format>{}</Format><Width>{}</Width><Height>{}</Height><Size>{}</Size><ETag>{}</ETag></Object>",
            xml_escape(&o.key),
            location(saved, o),
            o.format,
            o.width,
            o.height,
            o.size,
            etag(o)
        ));
    }
    xml.push_str("</ProcessResults></UploadResult>");
    (xml, "application/xml")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Query;

    fn claim_with(
        method: &str,
        query: &str,
        header: Option<&str>,
    ) -> Option<Result<SaveRequest, DialectError>> {
        let q = Query::parse(query);
        let headers: Vec<(&str, &str)> = header.map(|h| (HEADER, h)).into_iter().collect();
        claim(
            method,
            &Incoming {
                query: &q,
                headers: &headers,
            },
            "photos/a.jpg",
        )
    }

    const OPS: &str = r#"{"is_pic_info":1,"rules":[{"fileid":"thumb.png","rule":"imageMogr2/thumbnail/100x/format/png"},{"bucket":"photos-1250000000","fileid":"/abs/s.jpg","rule":"style/small"}]}"#;

    #[test]
    fn put_and_post_with_the_header_are_saves() {
        let s = claim_with("PUT", "", Some(OPS)).unwrap().unwrap();
        assert!(s.upload && s.original_info);
        assert_eq!(s.needs.headers, [HEADER]);
        assert_eq!(s.outputs[0].key, "photos/thumb.png");
        assert!(matches!(s.outputs[0].work, SaveWork::Plan(Ok(_))));
        assert!(s.outputs[0].bucket.is_empty());
        assert_eq!(s.outputs[1].key, "abs/s.jpg");
        assert_eq!(s.outputs[1].work, SaveWork::Style("small".into()));
        assert_eq!(s.outputs[1].bucket, ["photos-1250000000", "photos"]);
        let s = claim_with("POST", "image_process=", Some(OPS))
            .unwrap()
            .unwrap();
        assert!(!s.upload);
        // Without the header: a plain PUT (a write), a POST without rules.
        assert!(claim_with("PUT", "", None).is_none());
        assert!(claim_with("POST", "image_process", None).unwrap().is_err());
        assert!(claim_with("GET", "", Some(OPS)).is_none());
    }

    #[test]
    fn bad_rules_are_errors() {
        for h in [
            "not json",
            r#"{"rules":[]}"#,
            r#"{"rules":[{"fileid":"a/","rule":"imageMogr2/rotate/90"}]}"#,
            r#"{"rules":[{"rule":"imageMogr2/rotate/90"}]}"#,
            r#"{"rules":[{"fileid":"a"}]}"#,
            r#"{"rules":[1,2,3,4,5,6]}"#,
        ] {
            assert!(claim_with("PUT", "", Some(h)).unwrap().is_err(), "{h}");
        }
    }

    #[test]
    fn the_answer_is_an_upload_result() {
        let obj = |key: &str| SavedObject {
            requested_bucket: None,
            bucket: "photos".into(),
            key: key.into(),
            size: 10,
            format: "png",
            width: 100,
            height: 75,
            etag: Some("\"e\"".into()),
        };
        let saved = Saved {
            original: Some(obj("a.jpg")),
            outputs: vec![obj("t.png")],
            original_info: true,
            host: "h:1".into(),
        };
        let (xml, ct) = render(&saved);
        assert_eq!(ct, "application/xml");
        assert!(xml.contains("<OriginalInfo><Key>a.jpg</Key><Location>h:1/a.jpg</Location><ETag>\"e\"</ETag><ImageInfo><Format>png</Format><Width>100</Width>"), "{xml}");
        assert!(xml.contains("<ProcessResults><Object><Key>t.png</Key><Location>h:1/t.png</Location><Format>png</Format><Width>100</Width><Height>75</Height><Size>10</Size>"), "{xml}");
        let saved = Saved {
            original_info: false,
            ..saved
        };
        assert!(!render(&saved).0.contains("<ImageInfo>"));
    }
}
