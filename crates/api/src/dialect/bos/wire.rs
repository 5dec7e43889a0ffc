//! BOS on the wire: JSON errors `{"code","message","requestId"}`, the keys
//! baidubce's `parse_error` reads (cloud.baidu.com/doc/BOS/s/Ajwvysfpl).

use serde_json::json;

pub(super) fn error(code: &str, message: &str, request_id: &str) -> (String, &'static str) {
    let body = json!({
        "code": code,
        "message": message,
        "requestId": request_id,
    });
    (body.to_string(), "application/json")
}
