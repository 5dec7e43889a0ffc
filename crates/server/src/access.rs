//! Who may read what (SPEC §5): bucket ACL and source-image protection.
//!
//! Signature verification is not built yet, so a request that carries a
//! signature cannot be trusted more than an anonymous one: where access needs
//! a signature, it is refused, never waved through.

use http::HeaderMap;
use pixgate_api::{Operation, Query};

use crate::config::Acl;
use crate::error::{ApiError, Code};
use crate::state::Bucket;

/// True when the request carries any of the signature forms of SPEC §5.
pub fn is_signed(headers: &HeaderMap, query: &Query) -> bool {
    headers.contains_key(http::header::AUTHORIZATION)
        || ["X-Amz-Signature", "Signature", "x-oss-signature"]
            .iter()
            .any(|p| query.has(p))
}

pub fn check(bucket: &Bucket, key: &str, op: &Operation, signed: bool) -> Result<(), ApiError> {
    let unverifiable = || {
        ApiError::new(
            Code::AccessDenied,
            "Signed requests cannot be verified by this proxy yet, so access that needs a signature is refused.",
        )
    };
    if bucket.acl == Acl::Private {
        if signed {
            return Err(unverifiable());
        }
        return Err(ApiError::new(
            Code::AccessDenied,
            "The bucket is private: anonymous access is denied.",
        ));
    }
    // Only styles pass protection: originals, image/… and every metadata
    // endpoint of the other dialects are refused alike.
    let needs_style = !matches!(op, Operation::OssStyle { .. });
    if bucket.protect.enabled && needs_style && is_protected(key, &bucket.protect.suffixes) {
        if signed {
            return Err(unverifiable());
        }
        return Err(ApiError::new(
            Code::AccessDenied,
            "You have no right to access this object because of source image protection: use a style (x-oss-process=style/<name>).",
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

    use pixgate_api::ProcessSource;
    use pixgate_origin::LocalDir;

    use super::*;
    use crate::config::ProtectConfig;

    fn bucket(acl: Acl, protect: bool) -> Bucket {
        Bucket {
            name: "b".into(),
            origin: Arc::new(LocalDir::new(std::env::temp_dir()).unwrap()),
            acl,
            protect: ProtectConfig {
                enabled: protect,
                ..ProtectConfig::default()
            },
            auto_orient: true,
            separators: Vec::new(),
            styles: Default::default(),
        }
    }

    fn image() -> Operation {
        Operation::OssImage {
            steps: "resize,w_1".into(),
            source: ProcessSource::Query,
        }
    }

    fn style() -> Operation {
        Operation::OssStyle {
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
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn private_refuses_everyone_until_signatures_are_verified() {
        let b = bucket(Acl::Private, false);
        for signed in [false, true] {
            let e = check(&b, "a.jpg", &Operation::Original, signed).unwrap_err();
            assert_eq!(e.code, Code::AccessDenied);
        }
    }

    #[test]
    fn protection_leaves_only_styles_for_protected_suffixes() {
        let b = bucket(Acl::PublicRead, true);
        assert!(check(&b, "a.JPG", &Operation::Original, false).is_err());
        assert!(check(&b, "a.jpg", &image(), false).is_err());
        assert!(check(&b, "a.jpg", &style(), false).is_ok());
        assert!(check(&b, "a.txt", &Operation::Original, false).is_ok());
        assert!(check(&b, "noext", &Operation::Original, false).is_ok());
    }
}
