//! Method, dialect, addressing and access failures, each in its dialect's
//! error format, against a local-directory bucket.

use reqwest::StatusCode;

use crate::support::{Pixgate, client, corpus, photos_dir, raw_get, xml_tag};

/// Buckets over corpus/photos: `local` (open), `locked` (private),
/// `guarded` (source protection on).
async fn start() -> Pixgate {
    let d = photos_dir();
    Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"local\"\n\
         [[buckets]]\nname = \"local\"\norigin = \"file://{d}\"\n\
         [[buckets]]\nname = \"locked\"\norigin = \"file://{d}\"\nacl = \"private\"\n\
         [[buckets]]\nname = \"guarded\"\norigin = \"file://{d}\"\nprotect = {{ enabled = true, suffixes = [\"jpg\"] }}\nstyles = {{ small = \"image/resize,w_100\" }}\n"
    ))
    .await
}

async fn oss_error(res: reqwest::Response) -> (StatusCode, String, String) {
    let status = res.status();
    assert_eq!(res.headers()["content-type"], "application/xml");
    let id = res.headers()["x-oss-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = res.text().await.unwrap();
    assert_eq!(xml_tag(&body, "RequestId"), Some(id));
    let message = xml_tag(&body, "Message").unwrap();
    (status, xml_tag(&body, "Code").unwrap(), message)
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let px = start().await;
    // PUT and DELETE are writes now (writes.rs): unsigned ones are 403.
    for method in ["POST", "PATCH", "OPTIONS"] {
        let res = client()
            .request(method.parse().unwrap(), px.url("/320x240.jpg"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["allow"], "GET, HEAD");
        let (status, code, message) = oss_error(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed")
        );
        assert!(message.contains(method), "{message}");
    }
    px.stop().await;
}

#[tokio::test]
async fn traversal_never_leaves_the_bucket() {
    let px = start().await;
    for path in [
        "/%2e%2e/exif/no_exif.jpg",
        "/local/%2E%2E/exif/no_exif.jpg",
        "/dir/..%2f..%2fetc/passwd",
        "/..%5c..%5cetc%5cpasswd",
        "/%2Fetc%2Fpasswd",
        "/../../etc/passwd",
        "/local/../../etc/passwd",
    ] {
        let (status, headers, body) = raw_get(px.addr, path).await;
        assert_eq!(status, 400, "{path}");
        assert!(headers.contains(&("content-type".into(), "application/xml".into())));
        assert_eq!(
            xml_tag(&body, "Code").as_deref(),
            Some("InvalidObjectName"),
            "{path}"
        );
    }
    px.stop().await;
}

#[tokio::test]
async fn symlinks_out_of_the_root_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let bucket = root.path().join("bucket");
    std::fs::create_dir(&bucket).unwrap();
    std::fs::write(root.path().join("secret.txt"), b"secret").unwrap();
    std::os::unix::fs::symlink(root.path().join("secret.txt"), bucket.join("link.jpg")).unwrap();
    std::os::unix::fs::symlink(corpus().join("photos/320x240.jpg"), bucket.join("in.jpg")).unwrap();
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"b12\"\norigin = \"file://{}\"\n",
        bucket.display()
    ))
    .await;
    let res = client().get(px.url("/b12/link.jpg")).send().await.unwrap();
    let (status, code, _) = oss_error(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "AccessDenied")
    );
    // A link to a file outside is refused even when that file is public elsewhere.
    let res = client().get(px.url("/b12/in.jpg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    px.stop().await;
}

#[tokio::test]
async fn unknown_buckets_and_listing() {
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        corpus().join("photos").canonicalize().unwrap().display()
    ))
    .await;
    let res = client().get(px.url("/other/a.jpg")).send().await.unwrap();
    let (status, code, message) = oss_error(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "NoSuchBucket")
    );
    assert!(message.contains("'other'"), "{message}");
    // Listing is a signed call (writes.rs): anonymous, it is refused.
    let res = client().get(px.url("/local/")).send().await.unwrap();
    let (status, code, _) = oss_error(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "AccessDenied")
    );
    px.stop().await;
}

#[tokio::test]
async fn other_process_namespaces_are_invalid_arguments() {
    let px = start().await;
    for q in [
        "x-oss-process=video/snapshot,t_1000",
        "x-oss-process=doc/preview",
        "x-oss-process=",
    ] {
        let res = client()
            .get(px.url(&format!("/320x240.jpg?{q}")))
            .send()
            .await
            .unwrap();
        let (status, code, _) = oss_error(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "InvalidArgument"),
            "{q}"
        );
    }
    // The header form is read too.
    let res = client()
        .get(px.url("/320x240.jpg"))
        .header("x-oss-process", "audio/convert")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    px.stop().await;
}

#[tokio::test]
async fn qingstor_errors_are_json() {
    let px = start().await;
    let res = client()
        .get(px.url("/320x240.jpg?image"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body = res.text().await.unwrap();
    assert!(body.starts_with("{\"code\":\"invalid_argument\""), "{body}");
    let res = client()
        .get(px.url("/missing.jpg?image&action=info"))
        .send()
        .await
        .unwrap();
    // No processing yet, but the QingStor shape is kept for every failure.
    assert_eq!(res.headers()["content-type"], "application/json");
    px.stop().await;
}

#[tokio::test]
async fn private_and_protected_buckets() {
    let px = start().await;
    let res = client()
        .get(px.url("/locked/320x240.jpg"))
        .send()
        .await
        .unwrap();
    let (status, code, _) = oss_error(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "AccessDenied")
    );
    // A signature with a key the proxy does not hold does not open the door.
    let res = client()
        .get(px.url("/locked/320x240.jpg"))
        .header("authorization", "OSS AK:c2lnbmF0dXJl")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = client()
        .get(px.url("/guarded/320x240.jpg"))
        .send()
        .await
        .unwrap();
    let (status, code, message) = oss_error(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "AccessDenied")
    );
    assert!(message.contains("style"), "{message}");
    let res = client()
        .get(px.url("/guarded/320x240.jpg?x-oss-process=image/resize,w_10"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A style passes protection, by query or by separator.
    let res = client()
        .get(px.url("/guarded/320x240.jpg@!small"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .get(px.url("/guarded/320x240.jpg?x-oss-process=style/small"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    px.stop().await;
}

#[tokio::test]
async fn each_dialect_names_the_request_id_its_way_and_vary_lists_process_headers() {
    let px = start().await;
    for (query, own) in [
        ("x-oss-process=image/info", "x-oss-request-id"),
        ("image&action=info", "x-qs-request-id"),
        ("imageInfo", "x-cos-request-id"),
        ("exif", "x-cos-request-id"),
    ] {
        for path in ["/320x240.jpg", "/missing.jpg"] {
            let res = client()
                .get(px.url(&format!("{path}?{query}")))
                .send()
                .await
                .unwrap();
            // Every response keeps x-oss-request-id; the dialect's own
            // header carries the same id.
            let id = &res.headers()["x-oss-request-id"];
            assert_eq!(&res.headers()[own], id, "{path}?{query}");
            assert_eq!(res.headers()["vary"], "x-oss-process", "{path}?{query}");
        }
    }
    px.stop().await;
}

/// Qiniu's management-API credentials (`QBox`, `Qiniu`; downloads sign the
/// URL instead) are no more than an anonymous request: a public bucket answers it, a
/// private one refuses it as it refuses anonymous requests.
#[tokio::test]
async fn unverified_schemes_count_as_anonymous() {
    let px = start().await;
    for auth in ["QBox ak:c2lnbmF0dXJl", "Qiniu ak:c2lnbmF0dXJl"] {
        let get = |path: &str| {
            client()
                .get(px.url(path))
                .header("authorization", auth)
                .send()
        };
        let res = get("/320x240.jpg?x-oss-process=image/resize,w_10")
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{auth}");
        let (status, code, _) = oss_error(get("/locked/320x240.jpg").await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "AccessDenied"),
            "{auth}"
        );
    }
    // A scheme no cloud uses is still refused outright.
    let res = client()
        .get(px.url("/320x240.jpg"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    px.stop().await;
}
