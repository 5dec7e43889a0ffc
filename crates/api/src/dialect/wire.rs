//! Pieces of wire format more than one dialect writes.

/// The S3-style XML error envelope; `host_tag` names the last element
/// (`HostId` for OSS, `TraceId` for COS).
pub(super) fn xml_error(
    code: &str,
    message: &str,
    request_id: &str,
    host_tag: &str,
    host: &str,
) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{}</Code>\n  <Message>{}</Message>\n  <RequestId>{}</RequestId>\n  <{host_tag}>{}</{host_tag}>\n</Error>\n",
        xml_escape(code),
        xml_escape(message),
        xml_escape(request_id),
        xml_escape(host),
    )
}

/// Escapes element text: `&`, `<`, `>` (quotes need no escaping there).
pub(super) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Control characters are not allowed in XML 1.0 at all.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A JSON string literal, quotes included.
pub(super) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The saveas answer OSS writes and TOS copies: `{"bucket", "fileSize",
/// "object", "status"}` for the first object written; `bucket` is "" when
/// the request named none (as OSS answers).
pub(super) fn saved_json(saved: &crate::save::Saved) -> (String, &'static str) {
    let Some(o) = saved.outputs.first() else {
        return (String::new(), "application/json");
    };
    let bucket = o.requested_bucket.as_deref().unwrap_or("");
    let body = serde_json::json!({
        "bucket": bucket,
        "fileSize": o.size,
        "object": o.key,
        "status": "OK",
    });
    (body.to_string(), "application/json")
}
