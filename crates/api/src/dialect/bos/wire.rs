//! BOS on the wire: JSON errors `{"code","message","requestId"}`, the keys
//! baidubce's `parse_error` reads (cloud.baidu.com/doc/BOS/s/Ajwvysfpl).

use serde_json::json;

pub(super) fn error(code: &str, message: &str, request_id: &str) -> (String, &'static str) {
    let body = json!({
        "code": code_name(code),
        "message": message,
        "requestId": request_id,
    });
    (body.to_string(), "application/json")
}

/// BOS's name for a proxy code (cloud.baidu.com/doc/Reference/s/Bjz3uz3qj):
/// a timestamp too far from the clock is `RequestExpired` as an expired one
/// is (the table follows AWS's common errors, where RequestExpired covers a
/// date stamp too far ahead too).
fn code_name(code: &str) -> &str {
    match code {
        "RequestTimeTooSkewed" => "RequestExpired",
        other => other,
    }
}

/// BOS answers `RequestExpired` with 400 (documented). Its documentation
/// gives no status for `SignatureDoesNotMatch`: it keeps the proxy's 403,
/// as `InvalidAccessKeyId` and `AccessDenied` (documented 403).
pub(super) fn status(code: &str, status: u16) -> u16 {
    match code {
        "RequestExpired" | "RequestTimeTooSkewed" => 400,
        _ => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_codes_and_statuses_are_boss() {
        for (proxy, bos, st) in [
            ("RequestExpired", "RequestExpired", 400),
            ("RequestTimeTooSkewed", "RequestExpired", 400),
            ("SignatureDoesNotMatch", "SignatureDoesNotMatch", 403),
            ("InvalidAccessKeyId", "InvalidAccessKeyId", 403),
            ("AccessDenied", "AccessDenied", 403),
        ] {
            let (body, _) = error(proxy, "m", "RID");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["code"], bos, "{proxy}");
            assert_eq!(status(proxy, 403), st, "{proxy}");
        }
        assert_eq!(status("NoSuchKey", 404), 404);
    }
}
