//! The Tencent and Qiniu SDKs build image requests pixgate answers:
//! cos-python-sdk-v5 (its own `ci_get_object` and `ci_get_image_info`,
//! presigned URLs carrying an imageMogr2 rule and `imageInfo`, the object
//! URL with a rule the way `ci_get_object` adds it) and qiniu's fop builder
//! (`build_op` / `pipe_cmd`) with a private download URL. `ci_sdk.py` runs
//! them; this test fetches the URLs and checks what a user of each SDK would
//! see. The signed ones are signed with keys the proxy holds (it verifies
//! both schemes; sig_cos_qiniu_qingstor.rs tests the refusals).

use serde_json::Value;

use crate::support::client;
use crate::vectors::{dimensions, magic, start};

const KEY: &str = "320x240.jpg";

/// The keys ci_sdk.py signs with. (Written after the photos bucket's own
/// lines: `[[keys]]` entries may sit between two `[[buckets]]`.)
const KEYS: &str = "[[keys]]\naccess_key_id = \"AKIDpixgate\"\nsecret_access_key = \"pixgate-secret\"\n\
     [[keys]]\naccess_key_id = \"qiniu-ak\"\nsecret_access_key = \"qiniu-sk\"\n";

#[tokio::test]
async fn cos_and_qiniu_sdks_build_requests_pixgate_answers() {
    let px = start(KEYS).await;
    // A second proxy whose photos bucket answers Qiniu.
    let qiniu = start(&format!("dialects = [\"qiniu\"]\n{KEYS}")).await;
    let endpoint = format!("http://{}", px.addr);
    let qiniu_endpoint = format!("http://{}", qiniu.addr);
    let dir = tempfile::tempdir().unwrap();
    let got = crate::support::sdk_script(
        "ci_sdk.py",
        &[
            endpoint.as_str(),
            qiniu_endpoint.as_str(),
            KEY,
            dir.path().to_str().unwrap(),
        ],
        "qcloud_cos and qiniu",
    )
    .await;

    // The SDK's own calls: ci_get_object wrote the processed image, and
    // ci_get_image_info parsed COS's string-valued imageInfo.
    let body = std::fs::read(dir.path().join("cos_ci_get_object")).unwrap();
    assert_eq!(magic(&body), "png");
    assert_eq!(dimensions(&body).unwrap(), (160, 120));
    let info = &got["cos_ci_get_image_info"];
    assert_eq!(
        (&info["width"], &info["height"]),
        (&"320".into(), &"240".into())
    );

    // The presigned URL: q-sign-* first, the rule (percent-encoded, empty
    // value) last.
    let url = got["cos_presigned"].as_str().unwrap();
    assert!(
        url.contains("q-signature=") && url.ends_with("%2Fformat%2Fpng="),
        "{url}"
    );
    let body = client()
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(magic(&body), "png", "{url}");
    assert_eq!(dimensions(&body).unwrap(), (160, 120));

    // The object URL with the rule appended as `ci_get_object` sends it.
    let url = format!(
        "{}?imageView2%2F2%2Fw%2F100%2Fformat%2Fwebp=",
        got["cos_object_url"].as_str().unwrap()
    );
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/webp");
    let body = res.bytes().await.unwrap();
    assert_eq!(magic(&body), "webp");
    assert_eq!(dimensions(&body).unwrap(), (100, 75));

    // imageInfo through a presigned URL: COS's strings.
    let url = got["cos_image_info"].as_str().unwrap();
    let body = client()
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let info: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["width"], "320");
    assert_eq!(info["format"], "jpeg");

    // Qiniu: imageView2/1 to 120×90, then rotated and written as PNG.
    assert_eq!(
        got["qiniu_fop"],
        "imageView2/1/w/120/h/90|imageMogr2/rotate/90/format/png"
    );
    let url = got["qiniu_private"].as_str().unwrap();
    assert!(
        url.contains("&e=") && url.contains("&token=qiniu-ak:"),
        "{url}"
    );
    let res = client().get(url).send().await.unwrap();
    assert!(
        res.headers().contains_key("x-reqid"),
        "answered by the Qiniu dialect"
    );
    let body = res.bytes().await.unwrap();
    assert_eq!(magic(&body), "png", "{url}");
    assert_eq!(dimensions(&body).unwrap(), (90, 120));
    px.stop().await;
    qiniu.stop().await;
}
