//! Saves through pixgate with the clouds' own SDKs (issue 19): oss2
//! `process_object` with `sys/saveas`, cos-python-sdk-v5 `ci_put_object`
//! with `Pic-Operations` and `ci_image_process`, qingstor-sdk
//! `image_process` with `save`, esdk-obs-python and tos save parameters —
//! each result lands in the upstream S3
//! bucket with the size its process string asks for. Refused, with nothing
//! written: anonymous saves, a presigned GET replayed as a save, a COS
//! signature that does not list the Pic-Operations header, a QingStor URL
//! signature (it never covers `action`), save parameters added to a COS
//! URL that does not list them.

use http::StatusCode;
use pixgate_origin::S3Credentials;
use pixgate_origin::sigv4::sign_headers_with;
use serde_json::Value;

use crate::support::{AK, Pixgate, REGION, S3Server, SK, client, corpus, corpus_file, xml_tag};
use crate::vectors::{dimensions, magic};

const CAK: &str = "AKIDsaveClient";
const CSK: &str = "save-client-secret";
const SOURCE: &str = "src/concert.jpg";
const IMAGE: &str = "photos/concert-400x267.jpg";

/// `photos` (the default bucket, for COS's single-host requests) and
/// `thumbs`, each over its own upstream bucket; both private.
fn config(s3: &S3Server) -> String {
    let bucket = |name: &str, upstream: &str| {
        format!(
            "[[buckets]]\nname = \"{name}\"\norigin = \"s3://{upstream}\"\nendpoint = \"{}\"\nregion = \"{REGION}\"\npath_style = true\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\nacl = \"private\"\n",
            s3.endpoint()
        )
    };
    format!(
        "[server]\ndefault_bucket = \"photos\"\n{}{}[[keys]]\naccess_key_id = \"{CAK}\"\nsecret_access_key = \"{CSK}\"\n",
        bucket("photos", "upstream"),
        bucket("thumbs", "thumbs-up")
    )
}

/// The upstream's status for an object (HEAD, signed with its key).
async fn upstream_status(s3: &S3Server, bucket: &str, key: &str) -> StatusCode {
    let url = format!(
        "{}/{bucket}/{}",
        s3.endpoint(),
        pixgate_origin::encode_path(key)
    );
    let creds = S3Credentials {
        access_key_id: AK.into(),
        secret_access_key: SK.into(),
        session_token: None,
    };
    let headers = sign_headers_with("HEAD", &url, b"", &creds, REGION).unwrap();
    let mut req = client().head(&url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send().await.unwrap().status()
}

/// The stored object's format and size, straight from the upstream.
async fn stored(s3: &S3Server, bucket: &str, key: &str) -> (&'static str, (u32, u32)) {
    let bytes = s3.get(bucket, key).await.bytes().await.unwrap();
    (magic(&bytes), dimensions(&bytes).unwrap())
}

async fn start() -> (S3Server, Pixgate) {
    let s3 = S3Server::start().await;
    s3.create_bucket("upstream").await;
    s3.create_bucket("thumbs-up").await;
    s3.put("upstream", SOURCE, corpus_file(IMAGE)).await;
    let px = Pixgate::start(&config(&s3)).await;
    (s3, px)
}

#[tokio::test]
async fn sdks_save_processed_results_to_the_upstream() {
    let (s3, px) = start().await;
    let image = corpus().join(IMAGE);
    let got: Value = crate::support::sdk_script(
        "save.py",
        &[
            format!("http://{}", px.addr).as_str(),
            CAK,
            CSK,
            SOURCE,
            image.to_str().unwrap(),
        ],
        "oss2, qcloud_cos and qingstor-sdk",
    )
    .await;

    // OSS: the JSON oss2 parses, the object in the named bucket.
    let oss = &got["oss"];
    assert_eq!(oss["bucket"], "thumbs");
    assert_eq!(oss["object"], "oss/out.jpg");
    assert_eq!(oss["status"], "OK");
    let size = s3
        .get("thumbs-up", "oss/out.jpg")
        .await
        .bytes()
        .await
        .unwrap()
        .len();
    assert_eq!(oss["fileSize"].as_u64(), Some(size as u64));
    assert_eq!(
        stored(&s3, "thumbs-up", "oss/out.jpg").await,
        ("jpg", (100, 67))
    );
    assert_eq!(got["oss_same"]["bucket"], "");
    assert_eq!(
        stored(&s3, "upstream", "oss/same.png").await,
        ("png", (50, 33))
    );
    assert_eq!(got["oss_wrong_secret"][0].as_u64(), Some(403));
    assert_eq!(got["oss_wrong_secret"][1], "SignatureDoesNotMatch");
    assert_eq!(
        upstream_status(&s3, "upstream", "oss/wrong.jpg").await,
        StatusCode::NOT_FOUND
    );

    // CI on upload: the original stored as sent, both copies beside it.
    let put = &got["cos_put"];
    assert_eq!(put["OriginalInfo"]["Key"], "cos/up.jpg");
    assert_eq!(put["OriginalInfo"]["ImageInfo"]["Width"], "400");
    assert_eq!(put["OriginalInfo"]["ImageInfo"]["Height"], "267");
    let objects = put["ProcessResults"]["Object"].as_array().unwrap();
    assert_eq!(objects[0]["Key"], "cos/up-thumb.png");
    assert_eq!(objects[0]["Format"], "png");
    assert_eq!(
        (&objects[0]["Width"], &objects[0]["Height"]),
        (&"100".into(), &"67".into())
    );
    assert_eq!(objects[1]["Key"], "cos/rotated.jpg");
    let original = s3
        .get("upstream", "cos/up.jpg")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(
        original == corpus_file(IMAGE),
        "the original was not stored as sent"
    );
    assert_eq!(
        stored(&s3, "upstream", "cos/up-thumb.png").await,
        ("png", (100, 67))
    );
    assert_eq!(
        stored(&s3, "thumbs-up", "cos/rotated.jpg").await,
        ("jpg", (267, 400))
    );
    // CI on a stored object (`POST ?image_process`).
    let object = &got["cos_process"]["ProcessResults"]["Object"];
    assert_eq!(object["Key"], "cos/processed.jpg");
    assert_eq!(
        (&object["Width"], &object["Height"]),
        (&"200".into(), &"134".into())
    );
    assert_eq!(
        stored(&s3, "upstream", "cos/processed.jpg").await,
        ("jpg", (200, 134))
    );

    // QingStor: the image answers, and is stored.
    let qs = &got["qingstor"];
    assert_eq!(qs["status"], 200);
    assert_eq!(qs["content_type"], "image/jpeg");
    assert_eq!(
        stored(&s3, "thumbs-up", "qs/out.jpg").await,
        ("jpg", (120, 80))
    );

    // Huawei (the image answers) and Volcengine (OSS's JSON).
    assert_eq!(got["obs"]["status"], 200);
    assert_eq!(
        stored(&s3, "thumbs-up", "obs/out.jpg").await,
        ("jpg", (110, 73))
    );
    assert_eq!(got["tos"]["bucket"], "thumbs");
    assert_eq!(got["tos"]["object"], "tos/out.jpg");
    assert_eq!(got["tos"]["status"], "OK");
    assert_eq!(
        stored(&s3, "thumbs-up", "tos/out.jpg").await,
        ("jpg", (90, 60))
    );

    refusals(&s3, &px, &got).await;
    px.stop().await;
}

/// Saves a signature does not cover, or no signature at all: 403, nothing
/// written.
async fn refusals(s3: &S3Server, px: &Pixgate, got: &Value) {
    let saveas = format!(
        "x-oss-process=image/resize,w_10|sys/saveas,o_{}",
        "b3NzL3JlZnVzZWQuanBn" // oss/refused.jpg
    );
    // Anonymous.
    let res = client()
        .post(px.url(&format!("/photos/{SOURCE}?x-oss-process")))
        .body(saveas.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        xml_tag(&res.text().await.unwrap(), "Code").as_deref(),
        Some("AccessDenied")
    );
    // A presigned GET replayed as the POST, or with saveas added.
    let presigned = got["oss_presigned_get"].as_str().unwrap();
    let res = client().post(presigned).body(saveas).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let added = presigned.replace(
        "x-oss-process=image%2Fresize%2Cw_100",
        "x-oss-process=image%2Fresize%2Cw_100%7Csys%2Fsaveas%2Co_b3NzL3JlZnVzZWQuanBn",
    );
    assert_ne!(added, presigned);
    let res = client().get(&added).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // COS: a presigned GET as a PUT with rules; an Authorization that does
    // not sign the header (the signature itself is valid).
    let rules = r#"{"rules":[{"fileid":"/cos/refused.jpg","rule":"imageMogr2/thumbnail/10x"}]}"#;
    let res = client()
        .put(got["cos_presigned_get"].as_str().unwrap())
        .header("Pic-Operations", rules)
        .body(corpus_file(IMAGE))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = client()
        .post(px.url(&format!("/{SOURCE}?image_process=")))
        .header(
            "authorization",
            got["cos_auth_without_header"].as_str().unwrap(),
        )
        .header("Pic-Operations", rules)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = res.text().await.unwrap();
    assert_eq!(
        xml_tag(&body, "Code").as_deref(),
        Some("AccessDenied"),
        "{body}"
    );
    assert!(body.contains("pic-operations"), "{body}");
    let res = client()
        .post(px.url(&format!("/{SOURCE}?image_process=")))
        .header("Pic-Operations", rules)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Another cloud's save parameters added to a COS read URL: COS signs
    // only the parameters it lists, so the URL still verifies, but it does
    // not cover the save.
    let res = client()
        .get(format!(
            "{}&x-image-process=image/resize,w_10&x-image-save-object=obs/refused.jpg",
            got["cos_presigned_get"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("x-image-process"));

    // QingStor: a URL signature never covers `action`.
    let res = client()
        .get(got["qingstor_url_save"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(body["code"], "permission_denied");

    for (bucket, key) in [
        ("upstream", "oss/refused.jpg"),
        ("upstream", "cos/refused.jpg"),
        ("upstream", "qs/url.jpg"),
        ("upstream", "obs/refused.jpg"),
    ] {
        assert_eq!(
            upstream_status(s3, bucket, key).await,
            StatusCode::NOT_FOUND,
            "{key}"
        );
    }
}
