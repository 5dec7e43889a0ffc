//! The OSS-clone clouds' Python SDKs (esdk-obs-python, tos,
//! bce-python-sdk, from PyPI) against a running pixgate over a public
//! bucket: the processing parameter each SDK puts on the wire is served,
//! and each SDK reads pixgate's errors as its cloud's. (Signatures over a
//! private bucket: sig_obs_tos_bos.rs.)

use serde_json::Value;

use crate::support::{Pixgate, corpus};

const KEY: &str = "concert-400x267.jpg";

fn size(path: &std::path::Path) -> (u32, u32) {
    let img = image::load_from_memory(&std::fs::read(path).unwrap()).unwrap();
    (img.width(), img.height())
}

#[tokio::test]
async fn obs_tos_and_bos_sdks_get_processed_images() {
    let photos = corpus().join("photos").canonicalize().unwrap();
    let px = Pixgate::start(&format!(
        // BOS's SDK always signs: with a key pixgate knows (its signature
        // is verified, and an unknown key would be refused).
        "[server]\ndefault_bucket = \"photos\"\n[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n[[keys]]\naccess_key_id = \"ak\"\nsecret_access_key = \"sk\"\n",
        photos.display()
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{}", px.addr);
    let got = crate::support::sdk_script(
        "clone_sdk.py",
        &[
            endpoint.as_str(),
            "photos",
            KEY,
            dir.path().to_str().unwrap(),
        ],
        "esdk-obs-python, tos and bce-python-sdk",
    )
    .await;
    let call = |k: &str| {
        (
            got[k]["status"].as_u64().unwrap(),
            got[k]["code"].as_str().unwrap().to_owned(),
        )
    };
    let file = |k: &str| dir.path().join(k);

    // Huawei OBS: getObject(imageProcess=…) sends x-image-process.
    assert_eq!(call("obs_resize"), (200, String::new()));
    assert_eq!(size(&file("obs_resize")), (100, 100));
    assert_eq!(call("obs_crop").0, 200);
    assert_eq!(size(&file("obs_crop")), (120, 50));
    let info: Value = serde_json::from_slice(&std::fs::read(file("obs_info")).unwrap()).unwrap();
    assert_eq!(info["width"], 400);
    assert_eq!(info["height"], 267);
    assert_eq!(info["format"], "JPEG");
    // The SDK read the XML error's code.
    assert_eq!(call("obs_bad"), (400, "InvalidArgument".into()));

    // Volcengine TOS: get_object(process=…) sends x-tos-process.
    assert_eq!(call("tos_resize").0, 200);
    assert_eq!(size(&file("tos_resize")), (100, 67));
    let info: Value = serde_json::from_slice(&std::fs::read(file("tos_info")).unwrap()).unwrap();
    assert_eq!(info["ImageWidth"]["value"], "400");
    // The SDK parsed the JSON error and found the request id header.
    assert_eq!(call("tos_bad"), (400, "InvalidArgument".into()));
    assert!(!got["tos_bad"]["request_id"].as_str().unwrap().is_empty());

    // Baidu BOS: a presigned URL with x-bce-process.
    assert_eq!(call("bos_resize").0, 200);
    assert_eq!(size(&file("bos_resize")), (200, 67));
    assert_eq!(size(&file("bos_rotate")), (267, 400));
    assert_eq!(call("bos_bad"), (400, "InvalidArgument".into()));
    // Its header-signed request (bce-auth-v1, verified).
    assert_eq!(call("bos_signed_get").0, 200);
    assert_eq!(size(&file("bos_signed_get")), (100, 67));
    px.stop().await;
}
