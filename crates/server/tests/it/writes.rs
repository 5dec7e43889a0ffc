//! Writes through pixgate (issue 19): boto3 and oss2 put, copy, list and
//! delete through pixgate, to a real S3 server (s3s-fs) and to a local
//! directory; unsigned, wrongly signed and replayed writes write nothing;
//! a write drops what the caches held for its key.

use std::path::Path;

use http::StatusCode;
use pixgate_origin::S3Credentials;
use pixgate_origin::sigv4::sign_headers_with;
use serde_json::Value;

use crate::support::{AK, Pixgate, REGION, S3Server, SK, client, corpus, corpus_file, xml_tag};

/// The client's key at pixgate (not the upstream's).
const CAK: &str = "AKwritesClient";
pub(crate) const CSK: &str = "client/secret+for=writes";
const UPSTREAM: &str = "upstream";
pub(crate) const IMAGE: &str = "photos/concert-400x267.jpg";

pub(crate) fn keys() -> String {
    format!("[[keys]]\naccess_key_id = \"{CAK}\"\nsecret_access_key = \"{CSK}\"\n")
}

fn s3_bucket(s3: &S3Server) -> String {
    format!(
        "[[buckets]]\nname = \"photos\"\norigin = \"s3://{UPSTREAM}\"\nendpoint = \"{}\"\nregion = \"{REGION}\"\npath_style = true\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\nacl = \"private\"\n",
        s3.endpoint()
    )
}

pub(crate) fn local_bucket(dir: &Path) -> String {
    format!(
        "[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\nacl = \"public-read\"\n",
        dir.display()
    )
}

/// Runs writes.py against `px`; its JSON answer.
async fn sdk_writes(px: &Pixgate) -> Value {
    let image = corpus().join(IMAGE);
    let big = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(big.path(), big_body()).unwrap();
    crate::support::sdk_script(
        "writes.py",
        &[
            format!("http://{}", px.addr).as_str(),
            CAK,
            CSK,
            "photos",
            image.to_str().unwrap(),
            big.path().to_str().unwrap(),
        ],
        "boto3 and oss2",
    )
    .await
}

/// 11 MiB that do not repeat: three parts of a 5 MiB multipart upload.
fn big_body() -> Vec<u8> {
    (0u32..11 * 1024 * 1024 / 4)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// What the SDKs saw, the same whatever the bucket's origin.
fn assert_sdk_answers(got: &Value) {
    let size = corpus_file(IMAGE).len() as u64;
    assert!(got["put_etag"].as_str().unwrap().starts_with('"'));
    assert_eq!(
        strings(&got["list"]),
        ["w/a.jpg", "w/b c.jpg", "w/sub/deep.jpg"]
    );
    assert_eq!(got["list_sizes"][0].as_u64(), Some(size));
    assert_eq!(strings(&got["list_delimited"]), ["w/a.jpg", "w/b c.jpg"]);
    assert_eq!(strings(&got["list_prefixes"]), ["w/sub/"]);
    assert_eq!(
        strings(&got["paged"]),
        ["w/a.jpg", "w/b c.jpg", "w/sub/deep.jpg"]
    );
    assert_eq!(
        strings(&got["list_v1"]),
        ["w/a.jpg", "w/b c.jpg", "w/sub/deep.jpg"]
    );
    assert_eq!(
        strings(&got["list_after_delete"]),
        ["w/b c.jpg", "w/sub/deep.jpg"]
    );
    assert_eq!(got["wrong_secret"][0].as_u64(), Some(403));
    assert_eq!(got["wrong_secret"][1], "SignatureDoesNotMatch");
    assert!(!got["oss_put_etag"].as_str().unwrap().is_empty());
    assert_eq!(
        strings(&got["oss_list"]),
        ["w/b c.jpg", "w/oss.jpg", "w/sub/deep.jpg"]
    );
}

/// A PUT of `body` to pixgate signed (SigV4 header) with `secret`.
pub(crate) async fn signed_put(
    px: &Pixgate,
    path: &str,
    body: Vec<u8>,
    secret: &str,
) -> reqwest::Response {
    let url = px.url(path);
    let creds = S3Credentials {
        access_key_id: CAK.into(),
        secret_access_key: secret.into(),
        session_token: None,
    };
    let headers = sign_headers_with("PUT", &url, &body, &creds, REGION).unwrap();
    let mut req = client().put(&url).body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send().await.unwrap()
}

/// Unsigned, replayed and tampered writes: 403 (or 400 for a body that is
/// not the signed one), and nothing written.
async fn assert_refused_writes(
    px: &Pixgate,
    presigned_get: &str,
    mismatch: Option<&str>,
    exists: impl Fn(&str) -> bool,
) {
    let image = corpus_file(IMAGE);
    let res = client()
        .put(px.url("/photos/w/anonymous.jpg"))
        .body(image.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        xml_tag(&res.text().await.unwrap(), "Code").as_deref(),
        Some("AccessDenied")
    );
    let res = client()
        .delete(px.url("/photos/w/b%20c.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The method is signed: a GET URL does not sign a PUT.
    let res = client()
        .put(presigned_get)
        .body(image.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        xml_tag(&res.text().await.unwrap(), "Code").as_deref(),
        Some("SignatureDoesNotMatch")
    );

    // A body other than the one whose SHA-256 was signed.
    let url = px.url("/photos/w/swapped.jpg");
    let creds = S3Credentials {
        access_key_id: CAK.into(),
        secret_access_key: CSK.into(),
        session_token: None,
    };
    let headers = sign_headers_with("PUT", &url, b"the signed body", &creds, REGION).unwrap();
    let mut req = client().put(&url).body("another body!!!");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let res = req.send().await.unwrap();
    match mismatch {
        Some(code) => {
            assert_eq!(res.status(), StatusCode::BAD_REQUEST);
            assert_eq!(
                xml_tag(&res.text().await.unwrap(), "Code").as_deref(),
                Some(code)
            );
        }
        // s3s breaks the body stream on a hash mismatch and answers 500
        // (AWS S3 answers 400 XAmzContentSHA256Mismatch, passed on as is):
        // pixgate reports the upstream's failure.
        None => assert_eq!(res.status(), StatusCode::BAD_GATEWAY),
    }

    for key in [
        "w/anonymous.jpg",
        "w/replayed.jpg",
        "w/wrong-secret.jpg",
        "w/swapped.jpg",
    ] {
        assert!(!exists(key), "{key} was written");
    }
}

/// HeadObject straight to the upstream.
async fn upstream_status(s3: &S3Server, key: &str) -> StatusCode {
    let path = format!("/{UPSTREAM}/{}", pixgate_origin::encode_path(key));
    s3.request(reqwest::Method::HEAD, &path, Vec::new())
        .await
        .status()
}

#[tokio::test]
async fn sdk_writes_reach_an_s3_upstream() {
    let s3 = S3Server::start().await;
    s3.create_bucket(UPSTREAM).await;
    let px = Pixgate::start(&format!("{}{}", s3_bucket(&s3), keys())).await;
    let got = sdk_writes(&px).await;
    assert_sdk_answers(&got);

    // In the upstream bucket, with the bytes and type the SDK sent.
    let res = s3.get(UPSTREAM, "w/b c.jpg").await;
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(res.bytes().await.unwrap() == corpus_file(IMAGE));
    s3.get(UPSTREAM, "w/oss.jpg").await;
    assert_eq!(got["multipart"], "ok");
    assert_eq!(got["abort"], "ok");
    let res = s3.get(UPSTREAM, "w/big.bin").await;
    assert!(
        res.bytes().await.unwrap() == big_body(),
        "multipart object differs"
    );
    let status = |key: &'static str| upstream_status(&s3, key);
    assert_eq!(status("w/a.jpg").await, StatusCode::NOT_FOUND);
    assert_eq!(status("w/oss-gone.jpg").await, StatusCode::NOT_FOUND);

    assert_refused_writes(&px, got["presigned_get"].as_str().unwrap(), None, |_| false).await;
    for key in [
        "w/anonymous.jpg",
        "w/replayed.jpg",
        "w/wrong-secret.jpg",
        "w/swapped.jpg",
    ] {
        assert_eq!(status(key).await, StatusCode::NOT_FOUND, "{key}");
    }
    // The anonymous DELETE removed nothing.
    assert_eq!(status("w/b c.jpg").await, StatusCode::OK);
    px.stop().await;
}

#[tokio::test]
async fn sdk_writes_reach_a_local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let px = Pixgate::start(&format!("{}{}", local_bucket(dir.path()), keys())).await;
    let got = sdk_writes(&px).await;
    assert_sdk_answers(&got);
    let image = corpus_file(IMAGE);
    assert!(std::fs::read(dir.path().join("w/b c.jpg")).unwrap() == image);
    assert!(std::fs::read(dir.path().join("w/oss.jpg")).unwrap() == image);
    assert!(!dir.path().join("w/a.jpg").exists());
    assert!(!dir.path().join("w/oss-gone.jpg").exists());
    assert_eq!(got["multipart"], "ok");
    assert_eq!(got["abort"], "ok");
    assert!(std::fs::read(dir.path().join("w/big.bin")).unwrap() == big_body());
    let root = dir.path().to_path_buf();
    assert_refused_writes(
        &px,
        got["presigned_get"].as_str().unwrap(),
        Some("XAmzContentSHA256Mismatch"),
        |key| root.join(key).exists(),
    )
    .await;
    // Nothing but the objects: no temporary file left behind.
    let mut names: Vec<_> = std::fs::read_dir(dir.path().join("w"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    // …and the anonymous DELETE removed nothing.
    assert_eq!(names, ["b c.jpg", "big.bin", "oss.jpg", "sub"]);
    px.stop().await;
}

/// With sources trusted for a minute, a replaced object is still served new
/// at once: the write dropped the cached source and results.
#[tokio::test]
async fn a_write_drops_the_cached_versions_of_its_key() {
    for upstream in ["s3", "local"] {
        let s3 = S3Server::start().await;
        s3.create_bucket(UPSTREAM).await;
        let dir = tempfile::tempdir().unwrap();
        let bucket = if upstream == "s3" {
            s3_bucket(&s3)
        } else {
            local_bucket(dir.path())
        };
        let px = Pixgate::start(&format!(
            "[cache]\nsource_fresh_ms = 60000\n{bucket}{}",
            keys()
        ))
        .await;
        let res = signed_put(&px, "/photos/pic.jpg", corpus_file(IMAGE), CSK).await;
        assert_eq!(res.status(), StatusCode::OK, "{upstream}");

        let processed = async |px: &Pixgate| {
            let url = px.url("/photos/pic.jpg?x-oss-process=image/resize,w_100");
            let creds = S3Credentials {
                access_key_id: CAK.into(),
                secret_access_key: CSK.into(),
                session_token: None,
            };
            let headers = sign_headers_with("GET", &url, b"", &creds, REGION).unwrap();
            let mut req = client().get(&url);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            let img = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
            (img.width(), img.height())
        };
        assert_eq!(processed(&px).await, (100, 67), "{upstream}");
        assert_eq!(processed(&px).await, (100, 67), "{upstream}");
        let res = signed_put(
            &px,
            "/photos/pic.jpg",
            corpus_file("photos/320x240.jpg"),
            CSK,
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{upstream}");
        assert_eq!(processed(&px).await, (100, 75), "{upstream}: stale result");
        px.stop().await;
    }
}
