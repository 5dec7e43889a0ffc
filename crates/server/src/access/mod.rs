//! Who may read what (SPEC §5): signatures, bucket ACL and source-image
//! protection. A proven signature passes both; anonymous requests meet the
//! ACL and protection rules.

use std::collections::HashMap;
use std::time::SystemTime;

use pixgate_api::Operation;

pub use pixgate_api::signature::{Denied, Principal, Signed, verify};

use crate::config::Acl;
use crate::error::{ApiError, Code};
use crate::state::Bucket;

/// Who signed the request in `parts` for `bucket`/`key`.
pub fn principal(
    parts: &http::request::Parts,
    bucket: &str,
    key: &str,
    keys: &HashMap<String, String>,
) -> Result<Principal, Denied> {
    verify(&signed(parts, bucket, key), keys, SystemTime::now())
}

/// The request as a signature sees it: the path and query as the client
/// wrote them.
pub fn signed<'a>(parts: &'a http::request::Parts, bucket: &'a str, key: &'a str) -> Signed<'a> {
    Signed {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        bucket,
        key,
    }
}

pub fn check(
    bucket: &Bucket,
    key: &str,
    op: &Operation,
    principal: &Principal,
    style_hint: &str,
) -> Result<(), ApiError> {
    if let Principal::Key(_) = principal {
        return Ok(());
    }
    if bucket.acl == Acl::Private {
        return Err(ApiError::new(
            Code::AccessDenied,
            "The bucket is private: anonymous access is denied.",
        ));
    }
    // Only styles pass protection: originals, image/… and every metadata
    // endpoint of the other dialects are refused alike.
    let needs_style = !matches!(op, Operation::Style { .. });
    if bucket.protect.enabled && needs_style && is_protected(key, &bucket.protect.suffixes) {
        return Err(ApiError::new(
            Code::AccessDenied,
            format!(
                "You have no right to access this object because of source image protection: use {style_hint}."
            ),
        ));
    }
    Ok(())
}

fn is_protected(key: &str, suffixes: &[String]) -> bool {
    let Some((_, ext)) = key.rsplit_once('.') else {
        return false;
    };
    suffixes.iter().any(|s| s.eq_ignore_ascii_case(ext))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use pixgate_api::{Plan, ProcessSource};
    use pixgate_origin::LocalDir;

    use super::*;
    use crate::config::ProtectConfig;

    const ANON: Principal = Principal::Anonymous;
    const HINT: &str = "a style";

    fn bucket(acl: Acl, protect: bool) -> Bucket {
        let origin: Arc<dyn pixgate_origin::Origin> =
            Arc::new(LocalDir::new(std::env::temp_dir()).unwrap());
        Bucket {
            name: "b".into(),
            origin: origin.clone(),
            acl,
            protect: ProtectConfig {
                enabled: protect,
                ..ProtectConfig::default()
            },
            auto_orient: true,
            gamut: pixgate_codec::Gamut::Srgb,
            separators: Vec::new(),
            styles: crate::styles::Styles::new(
                Default::default(),
                crate::styles::DEFAULT_OBJECT.into(),
                std::time::Duration::from_secs(10),
                Vec::new(),
                origin,
            ),
            dialects: pixgate_api::dialect::default_set().to_vec(),
            cache_control: String::new(),
            original_cache_control: None,
            negotiate: Vec::new(),
        }
    }

    fn image() -> Operation {
        Operation::Process {
            plan: Plan::parse("resize,w_1"),
            source: ProcessSource::Query,
        }
    }

    fn style() -> Operation {
        Operation::Style {
            name: "s".into(),
            source: ProcessSource::Query,
        }
    }

    #[test]
    fn public_read_is_open() {
        assert!(
            check(
                &bucket(Acl::PublicRead, false),
                "a.jpg",
                &Operation::Original,
                &ANON,
                HINT
            )
            .is_ok()
        );
    }

    #[test]
    fn private_refuses_anonymous_and_admits_a_proven_key() {
        let b = bucket(Acl::Private, false);
        let e = check(
            &b,
            "a.jpg",
            &Operation::Original,
            &Principal::Anonymous,
            HINT,
        )
        .unwrap_err();
        assert_eq!(e.code, Code::AccessDenied);
        assert!(
            check(
                &b,
                "a.jpg",
                &Operation::Original,
                &Principal::Key("AK".into()),
                HINT
            )
            .is_ok()
        );
    }

    #[test]
    fn protection_leaves_only_styles_for_protected_suffixes() {
        let b = bucket(Acl::PublicRead, true);
        assert!(check(&b, "a.JPG", &Operation::Original, &ANON, HINT).is_err());
        assert!(check(&b, "a.jpg", &image(), &ANON, HINT).is_err());
        assert!(check(&b, "a.jpg", &style(), &ANON, HINT).is_ok());
        assert!(check(&b, "a.txt", &Operation::Original, &ANON, HINT).is_ok());
        assert!(check(&b, "noext", &Operation::Original, &ANON, HINT).is_ok());
    }
}
