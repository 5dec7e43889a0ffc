//! The official SDKs against a private bucket: boto3 (AWS Signature V4,
//! header and presigned) and oss2 (OSS V1 and V4, header and signed URL with
//! x-oss-process), from PyPI, talking to a running pixgate.

use crate::support::{Pixgate, client, corpus, xml_tag};

const AK: &str = "LTAIpixgateSdkTest";
const SK: &str = "s3cr3t/for+sdk=tests";
const KEY: &str = "concert-400x267.jpg";

async fn status_and_code(url: &str) -> (u16, String) {
    let res = client().get(url).send().await.unwrap();
    let status = res.status().as_u16();
    (
        status,
        xml_tag(&res.text().await.unwrap_or_default(), "Code").unwrap_or_default(),
    )
}

/// `url` with the byte at `at` replaced by a different one.
fn tamper(url: &str, at: usize) -> String {
    let mut b = url.as_bytes().to_vec();
    b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

#[tokio::test]
async fn boto3_and_oss2_sign_requests_pixgate_accepts() {
    let photos = corpus().join("photos").canonicalize().unwrap();
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"private\"\norigin = \"file://{}\"\nacl = \"private\"\n[[keys]]\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\n",
        photos.display()
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{}", px.addr);
    let urls = crate::support::sdk_script(
        "sdk.py",
        &[
            endpoint.as_str(),
            AK,
            SK,
            "private",
            KEY,
            dir.path().to_str().unwrap(),
        ],
        "boto3 and oss2",
    )
    .await;
    let url = |k: &str| urls[k].as_str().unwrap().to_owned();

    // The SDKs' own header-signed GETs succeeded (they raise otherwise).
    let original = std::fs::read(photos.join(KEY)).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("boto3_get")).unwrap(),
        original
    );
    let processed =
        image::load_from_memory(&std::fs::read(dir.path().join("oss2_get_process")).unwrap())
            .unwrap();
    assert_eq!((processed.width(), processed.height()), (100, 67));
    let processed =
        image::load_from_memory(&std::fs::read(dir.path().join("oss2v4_get_process")).unwrap())
            .unwrap();
    assert_eq!((processed.width(), processed.height()), (100, 67));

    // Their signed URLs work as they are…
    for (k, width) in [
        ("boto3_presigned", 400),
        ("oss2_signed", 100),
        ("oss2_signed_original", 400),
    ] {
        let res = client().get(url(k)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{k}");
        let img = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(img.width(), width, "{k}");
    }

    // …and not with one character changed: the signature, the process
    // string, or the key.
    let boto = url("boto3_presigned");
    let sig_at = boto.len() - 3;
    assert_eq!(
        status_and_code(&tamper(&boto, sig_at)).await,
        (403, "SignatureDoesNotMatch".into())
    );
    let key_at = boto.find(KEY).unwrap();
    assert_eq!(status_and_code(&tamper(&boto, key_at)).await.0, 403);

    let oss = url("oss2_signed");
    let sig_at = oss.find("Signature=").unwrap() + "Signature=".len() + 2;
    assert_eq!(
        status_and_code(&tamper(&oss, sig_at)).await,
        (403, "SignatureDoesNotMatch".into())
    );
    let process_changed = oss.replacen("w_100", "w_101", 1);
    assert_ne!(process_changed, oss);
    assert_eq!(
        status_and_code(&process_changed).await,
        (403, "SignatureDoesNotMatch".into())
    );
    let key_at = oss.find(KEY).unwrap();
    assert_eq!(status_and_code(&tamper(&oss, key_at)).await.0, 403);

    let v4 = url("oss2v4_signed");
    let sig_at = v4.find("x-oss-signature=").unwrap() + "x-oss-signature=".len() + 2;
    assert_eq!(
        status_and_code(&tamper(&v4, sig_at)).await,
        (403, "SignatureDoesNotMatch".into())
    );
    let process_changed = v4.replacen("w_100", "w_101", 1);
    assert_eq!(
        status_and_code(&process_changed).await,
        (403, "SignatureDoesNotMatch".into())
    );

    // Expired URLs, and anonymous access to the private bucket.
    for k in ["boto3_expired", "oss2_expired", "oss2v4_expired"] {
        assert_eq!(
            status_and_code(&url(k)).await,
            (403, "AccessDenied".into()),
            "{k}"
        );
    }
    assert_eq!(
        status_and_code(&px.url(&format!("/private/{KEY}"))).await,
        (403, "AccessDenied".into())
    );
    // A key the proxy does not hold.
    let unknown = oss.replace(AK, "LTAIsomebodyElse");
    assert_eq!(
        status_and_code(&unknown).await,
        (403, "InvalidAccessKeyId".into())
    );
    px.stop().await;
}
