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
        "Code": code,
        "Message": message,
        "RequestId": request_id,
        "HostId": host,
    });
    (body.to_string(), "application/json")
}
