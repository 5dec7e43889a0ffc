//! What a request's signature covers, once [`verify`](super::verify) has
//! proven it: the method, which query parameters, which headers, and
//! whether it came in a header (a short-lived request) or a URL (a link
//! anyone holding it can replay). Writes (saveas, `Pic-Operations`, save
//! parameters) go ahead only when their own parameters are covered: a
//! signature made for a read must never become a write.

use super::{Signed, auth_field, header, obs, oss, param, qingstor, query_pairs};
use crate::signature::crypto::uri_encode;

/// The signing scheme a request used, as [`super::verify`] tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    None,
    AwsV4,
    OssV1,
    OssV4,
    Obs,
    Tos,
    Bos,
    Cos,
    QingStor,
    /// Qiniu download tokens sign the URL, not the method.
    Qiniu,
    /// A scheme the proxy does not verify (counts as anonymous).
    Unverified,
}

/// What one request's signature covers.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub scheme: Scheme,
    /// Signed in the `Authorization` header, not in the URL.
    pub header_form: bool,
    /// Every query parameter is signed.
    all_params: bool,
    /// Otherwise these, lower case (as each scheme compares them).
    params: Vec<String>,
    /// Signed headers, lower case; plus `header_prefixes`.
    headers: Vec<String>,
    header_prefixes: &'static [&'static str],
}

impl Coverage {
    /// Whether the method is signed: every scheme but Qiniu's download token.
    pub fn method(&self) -> bool {
        !matches!(
            self.scheme,
            Scheme::None | Scheme::Qiniu | Scheme::Unverified
        )
    }

    /// Whether the query parameter `name` (as sent, decoded) is signed.
    pub fn param(&self, name: &str) -> bool {
        if !self.method() {
            return false;
        }
        if self.all_params {
            return true;
        }
        let lower = name.to_ascii_lowercase();
        // COS lists names in their encoded, lower-cased form.
        let encoded = uri_encode(name, false).to_ascii_lowercase();
        self.params.iter().any(|p| *p == lower || *p == encoded)
    }

    /// Whether the request header `name` is signed.
    pub fn header(&self, name: &str) -> bool {
        if !self.method() {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        self.headers.contains(&lower) || self.header_prefixes.iter().any(|p| lower.starts_with(p))
    }
}

fn lower_list(s: &str, sep: char) -> Vec<String> {
    s.split(sep)
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

fn lower_all(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_ascii_lowercase()).collect()
}

/// What `r`'s signature covers (detected as `verify` detects it; call it
/// on a request `verify` proved).
pub fn coverage(r: &Signed) -> Coverage {
    let query = query_pairs(r.raw_query);
    let q = |name: &str| param(&query, name);
    let mut c = Coverage {
        scheme: Scheme::None,
        header_form: false,
        all_params: false,
        params: Vec::new(),
        headers: Vec::new(),
        header_prefixes: &[],
    };
    let body_headers = || vec!["content-type".to_owned(), "content-md5".to_owned()];
    if let Some(auth) = header(r.headers, "authorization").filter(|a| !a.trim().is_empty()) {
        c.header_form = true;
        if let Some(rest) = auth.strip_prefix("AWS4-HMAC-SHA256 ") {
            c.scheme = Scheme::AwsV4;
            c.all_params = true;
            c.headers = lower_list(auth_field(rest, "SignedHeaders").unwrap_or(""), ';');
        } else if auth.starts_with("OSS ") {
            c.scheme = Scheme::OssV1;
            c.params = lower_all(oss::OSS_SUBRESOURCES);
            c.headers = body_headers();
            c.header_prefixes = &["x-oss-"];
        } else if let Some(rest) = auth.strip_prefix("OSS4-HMAC-SHA256 ") {
            c.scheme = Scheme::OssV4;
            c.all_params = true;
            c.headers = body_headers();
            c.headers.extend(lower_list(
                auth_field(rest, "AdditionalHeaders").unwrap_or(""),
                ';',
            ));
            c.header_prefixes = &["x-oss-"];
        } else if auth.starts_with("OBS ") || auth.starts_with("AWS ") {
            c.scheme = Scheme::Obs;
            c.params = lower_all(obs::SUBRESOURCES);
            c.headers = body_headers();
            c.header_prefixes = &["x-obs-", "x-amz-"];
        } else if let Some(rest) = auth.strip_prefix("TOS4-HMAC-SHA256 ") {
            c.scheme = Scheme::Tos;
            c.all_params = true;
            c.headers = lower_list(auth_field(rest, "SignedHeaders").unwrap_or(""), ';');
        } else if auth.starts_with("bce-auth-v1/") {
            c.scheme = Scheme::Bos;
            c.all_params = true;
            c.headers = lower_list(auth.split('/').nth(4).unwrap_or(""), ';');
            c.header_prefixes = &["x-bce-"];
        } else if auth.starts_with("q-sign-algorithm=") {
            c.scheme = Scheme::Cos;
            let field = |name: &str| {
                auth.trim()
                    .split('&')
                    .filter_map(|p| p.split_once('='))
                    .find(|(k, _)| *k == name)
                    .map_or("", |(_, v)| v)
            };
            c.params = lower_list(field("q-url-param-list"), ';');
            c.headers = lower_list(field("q-header-list"), ';');
        } else if auth.starts_with("QS ") {
            c.scheme = Scheme::QingStor;
            c.params = lower_all(qingstor::SUBRESOURCES);
            c.headers = body_headers();
            c.header_prefixes = &["x-qs-"];
        } else {
            c.scheme = Scheme::Unverified;
        }
        return c;
    }
    if q("X-Amz-Signature").is_some() {
        c.scheme = Scheme::AwsV4;
        c.all_params = true;
        c.headers = lower_list(q("X-Amz-SignedHeaders").unwrap_or(""), ';');
    } else if q("AccessKeyId").is_some() || q("AWSAccessKeyId").is_some() {
        c.scheme = Scheme::Obs;
        c.params = lower_all(obs::SUBRESOURCES);
        c.header_prefixes = &["x-obs-", "x-amz-"];
    } else if q("X-Tos-Algorithm").is_some() || q("X-Tos-Signature").is_some() {
        c.scheme = Scheme::Tos;
        c.all_params = true;
        c.headers = lower_list(q("X-Tos-SignedHeaders").unwrap_or(""), ';');
    } else if let Some(auth) = q("authorization") {
        c.scheme = Scheme::Bos;
        c.all_params = true;
        c.headers = lower_list(auth.split('/').nth(4).unwrap_or(""), ';');
        c.header_prefixes = &["x-bce-"];
    } else if q("Signature").is_some() || q("OSSAccessKeyId").is_some() {
        c.scheme = Scheme::OssV1;
        c.params = lower_all(oss::OSS_SUBRESOURCES);
        c.header_prefixes = &["x-oss-"];
    } else if q("x-oss-signature").is_some() {
        c.scheme = Scheme::OssV4;
        c.all_params = true;
        c.header_prefixes = &["x-oss-"];
    } else if super::cos::in_query(&query) {
        c.scheme = Scheme::Cos;
        // The URL carries the list encoded twice; `query_pairs` undid one.
        let list = q("q-url-param-list").unwrap_or("");
        c.params = lower_list(list, ';');
        c.headers = lower_list(q("q-header-list").unwrap_or(""), ';');
    } else if super::qiniu::in_query(&query) {
        c.scheme = Scheme::Qiniu;
    } else if qingstor::in_query(&query) {
        c.scheme = Scheme::QingStor;
        c.params = lower_all(qingstor::SUBRESOURCES);
    }
    c
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;

    fn cover(query: &str, auth: Option<&'static str>) -> Coverage {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert("authorization", HeaderValue::from_static(a));
        }
        coverage(&Signed {
            method: "GET",
            raw_path: "/b/k",
            raw_query: query,
            headers: &h,
            bucket: "b",
            key: "k",
        })
    }

    #[test]
    fn cos_covers_only_what_it_lists() {
        let c = cover(
            "",
            Some(
                "q-sign-algorithm=sha1&q-ak=A&q-sign-time=1;2&q-key-time=1;2&q-header-list=content-length;host;pic-operations&q-url-param-list=image_process&q-signature=x",
            ),
        );
        assert!(c.header_form && c.method());
        assert!(c.header("Pic-Operations") && c.param("image_process"));
        assert!(!c.param("imageMogr2/thumbnail/100x"));
        let c = cover(
            "q-sign-algorithm=sha1&q-ak=A&q-sign-time=1%3B2&q-key-time=1%3B2&q-header-list=host&q-url-param-list=imagemogr2%252fthumbnail%252f%252150p&q-signature=x&imageMogr2%2Fthumbnail%2F%2150p=",
            None,
        );
        assert!(!c.header_form);
        assert!(c.param("imageMogr2/thumbnail/!50p"));
        assert!(!c.header("pic-operations"));
    }

    #[test]
    fn url_schemes_cover_their_parameters() {
        // QingStor never signs `action`.
        let c = cover(
            "action=save%3Ab_x%2Ck_y&image&signature=s&access_key_id=A&expires=9",
            None,
        );
        assert_eq!(c.scheme, Scheme::QingStor);
        assert!(c.param("image") && !c.param("action"));
        // OBS signs its save parameters; TOS signs everything.
        let c = cover(
            "x-image-process=image/resize&AccessKeyId=A&Signature=s&Expires=9",
            None,
        );
        assert!(c.param("x-image-save-object"));
        let c = cover("X-Tos-Algorithm=TOS4-HMAC-SHA256&X-Tos-Signature=s", None);
        assert!(c.param("x-tos-save-object"));
        // Qiniu's token signs no method: nothing counts as covered for a write.
        let c = cover("imageView2/1/w/1&e=9&token=A:s", None);
        assert!(!c.method() && !c.param("imageView2/1/w/1"));
        assert!(!cover("", None).method());
    }
}
