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

/// Where the buckets keep their objects: the S3 upstream (`photos` in
/// `upstream`, `thumbs` in `thumbs-up`) or two local directories.
enum Store {
    S3(S3Server),
    Dirs(tempfile::TempDir, tempfile::TempDir),
}

impl Store {
    /// The stored bytes of `bucket`'s (pixgate's name) `key`, if any.
    async fn read(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        match self {
            Store::S3(s3) => {
                let upstream = if bucket == "thumbs" {
                    "thumbs-up"
                } else {
                    "upstream"
                };
                let path = format!("/{upstream}/{}", pixgate_origin::encode_path(key));
                let res = s3.request(reqwest::Method::GET, &path, Vec::new()).await;
                if res.status() == StatusCode::NOT_FOUND {
                    return None;
                }
                assert!(res.status().is_success(), "{key}: {}", res.status());
                Some(res.bytes().await.unwrap().to_vec())
            }
            Store::Dirs(photos, thumbs) => {
                let dir = if bucket == "thumbs" { thumbs } else { photos };
                std::fs::read(dir.path().join(key)).ok()
            }
        }
    }

    /// The stored object's format and size.
    async fn stored(&self, bucket: &str, key: &str) -> (&'static str, (u32, u32)) {
        let bytes = self
            .read(bucket, key)
            .await
            .unwrap_or_else(|| panic!("{bucket}/{key} was not written"));
        (magic(&bytes), dimensions(&bytes).unwrap())
    }
}

/// The two buckets over local directories, the source in `photos`.
fn local_config(photos: &std::path::Path, thumbs: &std::path::Path) -> String {
    format!(
        "[server]\ndefault_bucket = \"photos\"\n\
         [[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\nacl = \"private\"\n\
         [[buckets]]\nname = \"thumbs\"\norigin = \"file://{}\"\nacl = \"private\"\n\
         [[keys]]\naccess_key_id = \"{CAK}\"\nsecret_access_key = \"{CSK}\"\n",
        photos.display(),
        thumbs.display()
    )
}

async fn start_s3() -> (Store, Pixgate) {
    let s3 = S3Server::start().await;
    s3.create_bucket("upstream").await;
    s3.create_bucket("thumbs-up").await;
    s3.put("upstream", SOURCE, corpus_file(IMAGE)).await;
    let px = Pixgate::start(&config(&s3)).await;
    (Store::S3(s3), px)
}

async fn start_dirs() -> (Store, Pixgate) {
    let (photos, thumbs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let source = photos.path().join(SOURCE);
    std::fs::create_dir_all(source.parent().unwrap()).unwrap();
    std::fs::write(&source, corpus_file(IMAGE)).unwrap();
    let px = Pixgate::start(&local_config(photos.path(), thumbs.path())).await;
    (Store::Dirs(photos, thumbs), px)
}

#[tokio::test]
async fn sdks_save_processed_results_to_the_upstream() {
    let (store, px) = start_s3().await;
    sdks_save(&store, &px).await;
    px.stop().await;
}

#[tokio::test]
async fn sdks_save_processed_results_to_local_directories() {
    let (store, px) = start_dirs().await;
    sdks_save(&store, &px).await;
    px.stop().await;
}

async fn sdks_save(s3: &Store, px: &Pixgate) {
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
        "oss2, qcloud_cos, qingstor-sdk, esdk-obs-python and tos",
    )
    .await;

    // OSS: the JSON oss2 parses, the object in the named bucket.
    let oss = &got["oss"];
    assert_eq!(oss["bucket"], "thumbs");
    assert_eq!(oss["object"], "oss/out.jpg");
    assert_eq!(oss["status"], "OK");
    let size = s3.read("thumbs", "oss/out.jpg").await.unwrap().len();
    assert_eq!(oss["fileSize"].as_u64(), Some(size as u64));
    assert_eq!(s3.stored("thumbs", "oss/out.jpg").await, ("jpg", (100, 67)));
    assert_eq!(got["oss_same"]["bucket"], "");
    assert_eq!(s3.stored("photos", "oss/same.png").await, ("png", (50, 33)));
    assert_eq!(got["oss_wrong_secret"][0].as_u64(), Some(403));
    assert_eq!(got["oss_wrong_secret"][1], "SignatureDoesNotMatch");
    assert!(s3.read("photos", "oss/wrong.jpg").await.is_none());

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
    let original = s3.read("photos", "cos/up.jpg").await.unwrap();
    assert!(
        original == corpus_file(IMAGE),
        "the original was not stored as sent"
    );
    assert_eq!(
        s3.stored("photos", "cos/up-thumb.png").await,
        ("png", (100, 67))
    );
    assert_eq!(
        s3.stored("thumbs", "cos/rotated.jpg").await,
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
        s3.stored("photos", "cos/processed.jpg").await,
        ("jpg", (200, 134))
    );

    // QingStor: the image answers, and is stored.
    let qs = &got["qingstor"];
    assert_eq!(qs["status"], 200);
    assert_eq!(qs["content_type"], "image/jpeg");
    assert_eq!(s3.stored("thumbs", "qs/out.jpg").await, ("jpg", (120, 80)));

    // Huawei (the image answers) and Volcengine (OSS's JSON).
    assert_eq!(got["obs"]["status"], 200);
    assert_eq!(s3.stored("thumbs", "obs/out.jpg").await, ("jpg", (110, 73)));
    assert_eq!(got["tos"]["bucket"], "thumbs");
    assert_eq!(got["tos"]["object"], "tos/out.jpg");
    assert_eq!(got["tos"]["status"], "OK");
    assert_eq!(s3.stored("thumbs", "tos/out.jpg").await, ("jpg", (90, 60)));

    refusals(s3, px, &got).await;
}

/// Saves a signature does not cover, or no signature at all: 403, nothing
/// written.
async fn refusals(s3: &Store, px: &Pixgate, got: &Value) {
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
        ("photos", "oss/refused.jpg"),
        ("photos", "cos/refused.jpg"),
        ("photos", "qs/url.jpg"),
        ("photos", "obs/refused.jpg"),
    ] {
        assert!(s3.read(bucket, key).await.is_none(), "{key} was written");
    }
}

/// A save over a key pixgate has served drops what it cached for that key:
/// the next read sees the new object at once (well inside the source
/// freshness window, which would otherwise serve the old one).
#[tokio::test]
async fn a_save_drops_the_cached_results_of_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join(SOURCE);
    std::fs::create_dir_all(source.parent().unwrap()).unwrap();
    std::fs::write(&source, corpus_file(IMAGE)).unwrap();
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\nacl = \"public-read\"\n\
         [[keys]]\naccess_key_id = \"{CAK}\"\nsecret_access_key = \"{CSK}\"\n",
        dir.path().display()
    ))
    .await;
    let creds = S3Credentials {
        access_key_id: CAK.into(),
        secret_access_key: CSK.into(),
        session_token: None,
    };
    // A SigV4-signed saveas (SigV4 signs the method and every parameter).
    let save = |width: u32| {
        let url = px.url(&format!("/photos/{SOURCE}?x-oss-process"));
        let body = format!("x-oss-process=image/resize,w_{width}|sys/saveas,o_b3V0L3QuanBn"); // out/t.jpg
        let headers = sign_headers_with("POST", &url, body.as_bytes(), &creds, REGION).unwrap();
        let mut req = client().post(&url).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let v: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
            assert_eq!(v["object"], "out/t.jpg");
        }
    };
    let width = || async {
        let res = client()
            .get(px.url("/photos/out/t.jpg?x-oss-process=image/info"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let v: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        v["ImageWidth"]["value"].as_str().unwrap().to_owned()
    };
    save(50).await;
    assert_eq!(width().await, "50");
    save(80).await;
    assert_eq!(width().await, "80");
    px.stop().await;
}
