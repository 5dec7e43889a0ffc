//! Query-string parsing that keeps the distinctions the dialects need:
//! `?image` (a bare flag) is not `?image=` (an empty value).

use percent_encoding::percent_decode_str;

/// One decoded query parameter. `value` is `None` for a bare flag (`?exif`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

/// The decoded query string, in request order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    params: Vec<Param>,
}

impl Query {
    /// Splits on `&` and the first `=`, then percent-decodes each side.
    ///
    /// `+` stays a literal plus: S3 and OSS treat the query as RFC 3986
    /// components, not HTML form data, and standard base64 values carry `+`.
    pub fn parse(raw: &str) -> Query {
        let params = raw
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) => Param {
                    name: decode(name),
                    value: Some(decode(value)),
                },
                None => Param {
                    name: decode(pair),
                    value: None,
                },
            })
            .collect();
        Query { params }
    }

    /// True when a parameter of this name is present, with or without a value.
    pub fn has(&self, name: &str) -> bool {
        self.params.iter().any(|p| p.name == name)
    }

    /// The first value of `name`; `Some("")` for a bare flag or empty value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_deref().unwrap_or(""))
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_values_are_distinguished() {
        let q = Query::parse("image&action=info&empty=");
        assert!(q.has("image"));
        assert_eq!(q.params()[0].value, None);
        assert_eq!(q.get("action"), Some("info"));
        assert_eq!(q.params()[2].value.as_deref(), Some(""));
        assert_eq!(q.get("missing"), None);
    }

    #[test]
    fn values_are_percent_decoded_and_plus_is_literal() {
        let q = Query::parse("x-oss-process=image%2Fresize%2Cw_100&b64=a+b");
        assert_eq!(q.get("x-oss-process"), Some("image/resize,w_100"));
        assert_eq!(q.get("b64"), Some("a+b"));
    }

    #[test]
    fn only_the_first_equals_splits() {
        let q = Query::parse("k=a=b");
        assert_eq!(q.get("k"), Some("a=b"));
    }
}
