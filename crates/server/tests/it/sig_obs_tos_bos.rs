//! Huawei OBS, Volcengine TOS and Baidu BOS signatures, verified (issue 17):
//! their official SDKs (esdk-obs-python, tos, bce-python-sdk, from PyPI)
//! sign requests to a running pixgate over a private bucket. Header-signed
//! reads with each cloud's processing parameter and presigned URLs are
//! served; a URL with one character changed (signature, process string,
//! key) or past its expiry is refused in that cloud's error shape, with its
//! own code.

use serde_json::Value;

use crate::support::{Pixgate, client_resolving, corpus, xml_tag};

const AK: &str = "HWTOSBCEpixgateTest";
const SK: &str = "s3cr3t/for+clone=sdks";
const KEY: &str = "concert-400x267.jpg";
/// OBS's virtual-host domain (`<bucket>.obs.test` reaches the proxy).
const OBS_DOMAIN: &str = "obs.test";
const BUCKET: &str = "private";

/// What pixgate answered: status, the error code the body carries (XML
/// `Code`, or JSON `Code` / `code`), and the image's size if it is one.
async fn get(http: &reqwest::Client, url: &str) -> (u16, String, Option<(u32, u32)>) {
    let res = http.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    if status == 200 {
        let img = image::load_from_memory(&body).unwrap();
        return (status, String::new(), Some((img.width(), img.height())));
    }
    let text = String::from_utf8_lossy(&body);
    let code = match serde_json::from_str::<Value>(&text) {
        Ok(v) => v["Code"]
            .as_str()
            .or(v["code"].as_str())
            .unwrap_or("")
            .to_owned(),
        Err(_) => xml_tag(&text, "Code").unwrap_or_default(),
    };
    (status, code, None)
}

/// `url` with the character right after the first `marker` changed.
fn change_after(url: &str, marker: &str) -> String {
    let at = url
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {url}"))
        + marker.len();
    let mut b = url.as_bytes().to_vec();
    b[at] = if b[at] == b'a' { b'b' } else { b'a' };
    String::from_utf8(b).unwrap()
}

/// The three one-character changes the issue names: in the signature
/// (after `sig_marker`), in the process string, in the key.
fn tampered(url: &str, sig_marker: &str) -> [(&'static str, String); 3] {
    assert!(url.contains("w_100") && url.contains("400x267"), "{url}");
    [
        ("signature", change_after(url, sig_marker)),
        ("process", url.replacen("w_100", "w_101", 1)),
        ("key", url.replacen("400x267", "400x268", 1)),
    ]
}

#[tokio::test]
async fn obs_tos_and_bos_sdks_sign_requests_pixgate_verifies() {
    let photos = corpus().join("photos").canonicalize().unwrap();
    // A private bucket, addressed by path, by virtual host (OBS) and as
    // the default bucket (TOS's custom domain).
    let px = Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"{BUCKET}\"\ndomain = \"{OBS_DOMAIN}\"\n[[buckets]]\nname = \"{BUCKET}\"\norigin = \"file://{}\"\nacl = \"private\"\n[[keys]]\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\n",
        photos.display()
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{}", px.addr);
    let got = crate::support::sdk_script(
        "sig_obs_tos_bos.py",
        &[
            endpoint.as_str(),
            OBS_DOMAIN,
            AK,
            SK,
            BUCKET,
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
    let url = |k: &str| got[k].as_str().unwrap().to_owned();
    let size = |k: &str| {
        let img = image::load_from_memory(&std::fs::read(dir.path().join(k)).unwrap()).unwrap();
        (img.width(), img.height())
    };
    let http = client_resolving(&format!("{BUCKET}.{OBS_DOMAIN}"), px.addr);

    // The bucket is private: an unsigned read is refused.
    let anonymous = format!("{endpoint}/{BUCKET}/{KEY}?x-image-process=image/resize,w_100");
    assert_eq!(get(&http, &anonymous).await.0, 403);

    // ---- Huawei OBS: header-signed getObject with x-image-process, in the
    // AWS V2 form (IP endpoint), the OBS form (virtual host) and V4.
    for k in ["obs_v2_get", "obs_obs_get", "obs_v4_get"] {
        assert_eq!(call(k), (200, String::new()), "{k}");
        assert_eq!(size(k), (100, 67), "{k}");
    }
    // The SDK read OBS's XML error for a wrong secret.
    assert_eq!(
        call("obs_wrong_secret"),
        (403, "SignatureDoesNotMatch".into())
    );
    // Its signed URLs (AWSAccessKeyId, AccessKeyId, X-Amz-*) are served…
    for (k, prefix) in [
        ("obs_v2_url", "AWSAccessKeyId="),
        ("obs_obs_url", "&AccessKeyId="),
        ("obs_v4_url", "X-Amz-Signature="),
    ] {
        let u = url(k);
        assert!(u.contains(prefix), "{u}");
        assert_eq!(
            get(&http, &u).await,
            (200, String::new(), Some((100, 67))),
            "{u}"
        );
    }
    // …and refused, in OBS's XML with its codes, once changed or expired.
    for k in ["obs_v2_url", "obs_obs_url"] {
        for (what, u) in tampered(&url(k), "&Signature=") {
            assert_eq!(
                get(&http, &u).await,
                (403, "SignatureDoesNotMatch".into(), None),
                "{k}, {what}: {u}"
            );
        }
    }
    for k in ["obs_v2_expired", "obs_obs_expired"] {
        // OBS names an expired URL RequestTimeTooSkewed ("Request has expired.").
        assert_eq!(
            get(&http, &url(k)).await,
            (403, "RequestTimeTooSkewed".into(), None),
            "{k}"
        );
    }

    // ---- Volcengine TOS: get_object(process=…) and pre_signed_url.
    assert_eq!(call("tos_get"), (200, String::new()));
    assert_eq!(size("tos_get"), (100, 67));
    assert_eq!(
        call("tos_wrong_secret"),
        (403, "SignatureDoesNotMatch".into())
    );
    let tos_url = url("tos_url");
    assert!(tos_url.contains("x-tos-process="), "{tos_url}");
    assert_eq!(
        get(&http, &tos_url).await,
        (200, String::new(), Some((100, 67)))
    );
    for (what, u) in tampered(&tos_url, "X-Tos-Signature=") {
        assert_eq!(
            get(&http, &u).await,
            (403, "SignatureDoesNotMatch".into(), None),
            "{what}: {u}"
        );
    }
    // Expired (X-Tos-Expires=1, read two seconds later): AccessDenied.
    assert_eq!(
        get(&http, &url("tos_expired")).await,
        (403, "AccessDenied".into(), None)
    );

    // ---- Baidu BOS: the header-signed GET with x-bce-process and
    // generate_pre_signed_url.
    assert_eq!(call("bos_get"), (200, String::new()));
    assert_eq!(size("bos_get"), (100, 67));
    assert_eq!(
        call("bos_wrong_secret"),
        (403, "SignatureDoesNotMatch".into())
    );
    let bos_url = url("bos_url");
    assert!(bos_url.contains("authorization=bce-auth-v1"), "{bos_url}");
    assert_eq!(
        get(&http, &bos_url).await,
        (200, String::new(), Some((100, 67)))
    );
    // The signature follows the (empty) signed-header list: `%2F%2F`.
    for (what, u) in tampered(&bos_url, "%2F%2F") {
        assert_eq!(
            get(&http, &u).await,
            (403, "SignatureDoesNotMatch".into(), None),
            "{what}: {u}"
        );
    }
    // BOS documents RequestExpired with 400.
    assert_eq!(
        get(&http, &url("bos_expired")).await,
        (400, "RequestExpired".into(), None)
    );
    px.stop().await;
}
