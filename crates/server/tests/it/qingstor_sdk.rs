//! qingstor-sdk (`qingstor.sdk`, from PyPI) asking a running pixgate for
//! image actions with its own `image_process()`: the SDK sends
//! `/<bucket>/<key>?action=<percent-encoded action>&image` (path style,
//! sorted query), signed with its QS scheme with a key the proxy holds, to a
//! public bucket (sig_cos_qiniu_qingstor.rs covers private buckets and
//! refusals).

use serde_json::Value;

use crate::vectors::{dimensions, magic, start};

#[tokio::test]
async fn qingstor_sdk_image_process() {
    let px = start(
        "[[keys]]\naccess_key_id = \"QSAKPIXGATETEST\"\nsecret_access_key = \"qingstor-sdk-test-secret\"\n",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let got = crate::support::sdk_script(
        "qingstor_sdk.py",
        &[
            px.addr.ip().to_string().as_str(),
            px.addr.port().to_string().as_str(),
            "photos",
            "320x240.jpg",
            dir.path().to_str().unwrap(),
        ],
        "qingstor-sdk",
    )
    .await;
    let body = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    let status = |name: &str| got[name]["status"].as_u64().unwrap();

    // The SDK percent-encodes the action and sorts the query.
    let url = got["resize_rotate"]["url"].as_str().unwrap();
    assert!(
        url.ends_with("/photos/320x240.jpg?action=resize%3Aw_300%2Ch_400%7Crotate%3Aa_90&image"),
        "{url}"
    );

    for (name, format, size) in [
        ("resize_rotate", "jpg", (400, 300)),
        ("crop", "jpg", (100, 50)),
        ("watermark", "jpg", (320, 240)),
        ("webp", "webp", (100, 75)),
    ] {
        assert_eq!(status(name), 200, "{name}: {:?}", got[name]);
        let b = body(name);
        assert_eq!(magic(&b), format, "{name}");
        assert_eq!(dimensions(&b).unwrap(), size, "{name}");
    }

    assert_eq!(status("info"), 200);
    let info: Value = serde_json::from_slice(&body("info")).unwrap();
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(320), Some(240))
    );

    // A bad parameter: QingStor's JSON error, as the SDK's Unpacker reads it.
    assert_eq!(status("bad"), 400);
    assert_eq!(got["bad"]["content_type"], "application/json");
    let bad: Value = serde_json::from_slice(&body("bad")).unwrap();
    assert_eq!(bad["code"], "invalid_argument");
    assert!(bad["message"].as_str().unwrap().contains("'a'"), "{bad}");

    // Every call was the SDK's signed one.
    for name in ["resize_rotate", "crop", "watermark", "webp", "info", "bad"] {
        assert_eq!(got[name]["signed"], true, "{name}");
    }
    px.stop().await;
}
