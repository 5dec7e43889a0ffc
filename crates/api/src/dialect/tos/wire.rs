//! TOS on the wire: JSON errors, as `tos.exceptions` reads them
//! (`json.loads` of the body, then `Code`, `Message`, `HostId`; the request
//! id from `x-tos-request-id`, repeated in the body as the service does).

use serde_json::json;

pub(super) fn error(
    code: &str,
    message: &str,
    request_id: &str,
    host: &str,
) -> (String, &'static str) {
    let body = json!({
        "Code": code_name(code),
        "Message": message,
        "RequestId": request_id,
        "HostId": host,
    });
    (body.to_string(), "application/json")
}

/// TOS's name for a proxy code. Its documentation gives no code for an
/// expired signed URL: S3's `AccessDenied` ("Request has expired."), as the
/// reference (§5.2) assumes; the other signature codes are S3's (all 403).
fn code_name(code: &str) -> &str {
    match code {
        "RequestExpired" => "AccessDenied",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_codes_are_tos_names() {
        for (proxy, tos) in [
            ("RequestExpired", "AccessDenied"),
            ("SignatureDoesNotMatch", "SignatureDoesNotMatch"),
            ("InvalidAccessKeyId", "InvalidAccessKeyId"),
            ("RequestTimeTooSkewed", "RequestTimeTooSkewed"),
            ("AccessDenied", "AccessDenied"),
        ] {
            let (body, _) = error(proxy, "m", "RID", "h");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["Code"], tos, "{proxy}");
        }
    }
}
