//! The Tencent COS, Qiniu and QingStor SDKs (from PyPI) signing image
//! requests to private buckets of a running pixgate: each SDK's signed
//! request with processing is answered with the processed image; the same
//! URL with one character changed, an expired one, or one signed with a key
//! the proxy does not hold is refused in that cloud's own error shape,
//! status and code. `sig_cos_qiniu_qingstor.py` makes the SDK calls.

use serde_json::Value;

use crate::support::{Pixgate, client, corpus, xml_tag};
use crate::vectors::dimensions;

const AK: &str = "AKIDpixgateSigTest";
const SK: &str = "sig/test+secret=";
const KEY: &str = "concert-400x267.jpg";

/// `url` with the character at `at` replaced by another of the same kind
/// (so that a case-insensitive hex signature still changes).
fn tamper(url: &str, at: usize) -> String {
    let mut b = url.as_bytes().to_vec();
    b[at] = match b[at] {
        b'0' => b'1',
        b'1'..=b'9' => b'0',
        b'A' => b'B',
        b'a' => b'b',
        _ => b'a',
    };
    String::from_utf8(b).unwrap()
}

/// Where the value of `name=` starts in `url`, plus `skip`.
fn value_at(url: &str, name: &str, skip: usize) -> usize {
    url.find(name).unwrap() + name.len() + skip
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

async fn fetch(url: &str) -> Answer {
    let res = client().get(url).send().await.unwrap();
    Answer {
        status: res.status().as_u16(),
        content_type: res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        body: res.bytes().await.unwrap().to_vec(),
    }
}

/// Status and `<Code>` of a COS XML error.
async fn cos_refusal(url: &str) -> (u16, String) {
    let a = fetch(url).await;
    assert_eq!(a.content_type, "application/xml", "{url}");
    let text = String::from_utf8_lossy(&a.body).into_owned();
    (a.status, xml_tag(&text, "Code").unwrap_or_default())
}

/// Status, then `code` and `error` of a Qiniu JSON error.
async fn qiniu_refusal(url: &str) -> (u16, u64, String) {
    let a = fetch(url).await;
    assert_eq!(a.content_type, "application/json", "{url}");
    let json: Value = serde_json::from_slice(&a.body).unwrap();
    (
        a.status,
        json["code"].as_u64().unwrap(),
        json["error"].as_str().unwrap().to_owned(),
    )
}

/// Status and `code` of a QingStor JSON error.
async fn qingstor_refusal(url: &str) -> (u16, String) {
    let a = fetch(url).await;
    qingstor_code(a.status, &a.content_type, &a.body)
}

fn qingstor_code(status: u16, content_type: &str, body: &[u8]) -> (u16, String) {
    assert_eq!(content_type, "application/json");
    let json: Value = serde_json::from_slice(body).unwrap();
    assert!(json["message"].is_string() && json["request_id"].is_string());
    (status, json["code"].as_str().unwrap().to_owned())
}

async fn image_size(url: &str) -> (u32, u32) {
    let a = fetch(url).await;
    assert_eq!(a.status, 200, "{url}: {}", String::from_utf8_lossy(&a.body));
    dimensions(&a.body).unwrap()
}

#[tokio::test]
async fn cos_qiniu_and_qingstor_sdks_sign_requests_pixgate_verifies() {
    let photos = corpus().join("photos").canonicalize().unwrap();
    let px = Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"private\"\n\
         [[buckets]]\nname = \"private\"\norigin = \"file://{0}\"\nacl = \"private\"\n\
         [[buckets]]\nname = \"qiniu\"\norigin = \"file://{0}\"\nacl = \"private\"\ndialects = [\"qiniu\"]\n\
         [[keys]]\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\n",
        photos.display()
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let got = crate::support::sdk_script(
        "sig_cos_qiniu_qingstor.py",
        &[
            px.addr.ip().to_string().as_str(),
            px.addr.port().to_string().as_str(),
            AK,
            SK,
            KEY,
            dir.path().to_str().unwrap(),
        ],
        "qcloud_cos, qiniu and qingstor-sdk",
    )
    .await;
    let url = |k: &str| got[k].as_str().unwrap().to_owned();
    let saved = |name: &str| std::fs::read(dir.path().join(name)).unwrap();

    // Anonymous requests to the private buckets are refused, each in the
    // dialect it speaks.
    assert_eq!(
        cos_refusal(&px.url(&format!("/{KEY}?imageMogr2/thumbnail/100x"))).await,
        (403, "AccessDenied".into())
    );
    assert_eq!(
        qiniu_refusal(&px.url(&format!("/qiniu/{KEY}?imageView2/2/w/100")))
            .await
            .0,
        403
    );
    assert_eq!(
        qingstor_refusal(&px.url(&format!("/private/{KEY}?image&action=resize:w_100"))).await,
        (403, "permission_denied".into())
    );

    // ---- Tencent COS --------------------------------------------------------
    // The SDK's own header-signed ci_get_object, rule listed in the signature.
    assert_eq!(dimensions(&saved("cos_get")).unwrap(), (100, 67));
    let presigned = url("cos_presigned");
    assert_eq!(image_size(&presigned).await, (100, 67));
    // One character changed: the signature, the (listed) rule, the key.
    let sig_at = value_at(&presigned, "q-signature=", 5);
    let rule_changed = presigned.replacen("%2F100x=", "%2F101x=", 1);
    assert_ne!(rule_changed, presigned);
    let key_at = presigned.find(KEY).unwrap() + "concert-".len();
    for changed in [
        tamper(&presigned, sig_at),
        rule_changed,
        tamper(&presigned, key_at),
    ] {
        assert_eq!(
            cos_refusal(&changed).await,
            (403, "SignatureDoesNotMatch".into()),
            "{changed}"
        );
    }
    // Expired: COS answers AccessDenied, "Request has expired".
    let expired = fetch(&url("cos_expired")).await;
    let text = String::from_utf8_lossy(&expired.body);
    assert_eq!(expired.status, 403);
    assert_eq!(xml_tag(&text, "Code").unwrap(), "AccessDenied");
    assert_eq!(xml_tag(&text, "Message").unwrap(), "Request has expired");
    assert_eq!(
        cos_refusal(&url("cos_unknown")).await,
        (403, "InvalidAccessKeyId".into())
    );
    // The SDK's header-signed calls with a wrong secret or an unknown key.
    assert_eq!(
        got["cos_wrong_secret"],
        serde_json::json!({"status": 403, "code": "SignatureDoesNotMatch"})
    );
    assert_eq!(
        got["cos_unknown_header"],
        serde_json::json!({"status": 403, "code": "InvalidAccessKeyId"})
    );
    // A rule appended to a URL signed without one is not covered by
    // q-url-param-list, and is served as COS serves it (Tencent documents
    // appending processing to a presigned URL).
    let appended = format!("{}&imageMogr2/thumbnail/100x", url("cos_presigned_plain"));
    assert_eq!(image_size(&appended).await, (100, 67));

    // ---- Qiniu --------------------------------------------------------------
    // Private download URL with the fop before e= and token=; Qiniu answers
    // every token failure 401 with its own texts.
    let private = url("qiniu_private");
    assert_eq!(image_size(&private).await, (100, 67));
    let sig_at = value_at(&private, &format!("token={AK}:"), 3);
    let fop_changed = private.replacen("w/100", "w/101", 1);
    assert_ne!(fop_changed, private);
    let key_at = private.find(KEY).unwrap() + "concert-".len();
    for changed in [
        tamper(&private, sig_at),
        fop_changed,
        tamper(&private, key_at),
    ] {
        assert_eq!(
            qiniu_refusal(&changed).await,
            (401, 401, "download token auth failed".into()),
            "{changed}"
        );
    }
    // An unsigned fop after the token is refused, not served.
    let after = format!("{private}&imageView2/2/w/300");
    assert_eq!(qiniu_refusal(&after).await.0, 401);
    assert_eq!(
        qiniu_refusal(&url("qiniu_expired")).await,
        (401, 401, "token out of date".into())
    );
    let (status, _, error) = qiniu_refusal(&url("qiniu_unknown")).await;
    assert_eq!(status, 401);
    assert!(error.starts_with("download token auth failed"), "{error}");

    // ---- QingStor -----------------------------------------------------------
    // The SDK's own header-signed image_process.
    assert_eq!(got["qs_get"]["status"], 200);
    assert_eq!(dimensions(&saved("qs_get")).unwrap(), (100, 67));
    for (name, want) in [
        ("qs_wrong_secret", (401, "signature_not_matched")),
        ("qs_unknown_header", (401, "invalid_access_key_id")),
    ] {
        let status = got[name]["status"].as_u64().unwrap() as u16;
        let ct = got[name]["content_type"].as_str().unwrap();
        assert_eq!(
            qingstor_code(status, ct, &saved(name)),
            (want.0, want.1.to_owned()),
            "{name}"
        );
    }
    // Its query-signed URL (sign_query).
    let signed = url("qs_signed");
    assert!(signed.contains("/private/") && signed.contains("&image&signature="));
    assert_eq!(image_size(&signed).await, (100, 67));
    let sig_at = value_at(&signed, "signature=", 5);
    let key_at = signed.find(KEY).unwrap() + "concert-".len();
    // `expires` is signed; so is the `image` flag.
    let expires_at = value_at(&signed, "expires=", 9);
    let no_image = signed.replacen("&image&", "&", 1);
    for changed in [
        tamper(&signed, sig_at),
        tamper(&signed, key_at),
        tamper(&signed, expires_at),
        no_image,
    ] {
        assert_eq!(
            qingstor_refusal(&changed).await,
            (401, "signature_not_matched".into()),
            "{changed}"
        );
    }
    // The action is not signed by the SDKs (QingStor's sub-resource list
    // leaves it out): a changed action cannot be told from the signed one.
    let action_changed = signed.replacen("w_100", "w_200", 1);
    assert_eq!(image_size(&action_changed).await, (200, 134));
    assert_eq!(
        qingstor_refusal(&url("qs_expired")).await,
        (403, "request_expired".into())
    );
    assert_eq!(
        qingstor_refusal(&url("qs_unknown")).await,
        (401, "invalid_access_key_id".into())
    );
    px.stop().await;
}
