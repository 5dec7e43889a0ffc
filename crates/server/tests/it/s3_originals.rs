//! Originals through a real S3 server (s3s-fs, SigV4 verified), in both
//! upstream addressing styles and all three client addressing styles.

use pixgate_origin::encode_path;
use reqwest::StatusCode;

use crate::support::{
    AK, Pixgate, REGION, S3_DOMAIN, S3Server, SK, client, client_resolving, corpus_file, xml_tag,
};

const UPSTREAM: &str = "upstream-photos";
const PHOTO: &str = "photos/concert-400x267.jpg";
/// Keys S3 servers are strict about: reserved bytes, spaces, UTF-8.
const ODD_KEYS: &[&str] = &["dir/with space+plus=(1)&'.jpg", "照片/猫.jpg"];

async fn s3_with_photos() -> S3Server {
    let s3 = S3Server::start().await;
    s3.create_bucket(UPSTREAM).await;
    s3.put(UPSTREAM, "concert.jpg", corpus_file(PHOTO)).await;
    for key in ODD_KEYS {
        s3.put(UPSTREAM, key, corpus_file("photos/320x240.jpg"))
            .await;
    }
    s3
}

/// A pixgate config whose bucket `photos` reads `UPSTREAM` from `s3`.
pub fn s3_config(s3: &S3Server, path_style: bool, secret: &str, extra_server: &str) -> String {
    let port = s3.addr.port();
    let (endpoint, resolve) = if path_style {
        (format!("http://127.0.0.1:{port}"), String::new())
    } else {
        // Virtual-host upstream: <bucket>.s3.pixgate.test:<port>, a non-default
        // port that must appear in the signed Host.
        (
            format!("http://{S3_DOMAIN}:{port}"),
            format!("resolve = \"127.0.0.1:{port}\"\n"),
        )
    };
    format!(
        "[server]\n{extra_server}\n[[buckets]]\nname = \"photos\"\norigin = \"s3://{UPSTREAM}\"\nendpoint = \"{endpoint}\"\nregion = \"{REGION}\"\npath_style = {path_style}\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{secret}\"\n{resolve}"
    )
}

/// Everything the foundation promises for originals, checked through `get`.
async fn check_originals(http: &reqwest::Client, base: &str, s3: &S3Server) {
    let expected = corpus_file(PHOTO);
    let direct = s3.get(UPSTREAM, "concert.jpg").await;
    let direct_headers = direct.headers().clone();

    // Identical bytes, and S3's own validators and type passed through.
    let res = http.get(format!("{base}concert.jpg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for h in ["etag", "last-modified", "content-type", "content-length"] {
        assert_eq!(res.headers().get(h), direct_headers.get(h), "header {h}");
    }
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(res.headers().contains_key("x-oss-request-id"));
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let last_modified = res.headers()["last-modified"].to_str().unwrap().to_owned();
    assert_eq!(res.bytes().await.unwrap(), expected);

    // Ranges.
    let res = http
        .get(format!("{base}concert.jpg"))
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 0-99/{}", expected.len()).as_str()
    );
    assert_eq!(res.bytes().await.unwrap(), expected[..100]);
    let res = http
        .get(format!("{base}concert.jpg"))
        .header("range", "bytes=-100")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(res.bytes().await.unwrap(), expected[expected.len() - 100..]);
    let res = http
        .get(format!("{base}concert.jpg"))
        .header("range", format!("bytes={}-", expected.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        xml_tag(&res.text().await.unwrap(), "Code").as_deref(),
        Some("InvalidRange")
    );

    // Conditional requests answered by pixgate (s3s-fs ignores them).
    let res = http
        .get(format!("{base}concert.jpg"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());
    let res = http
        .get(format!("{base}concert.jpg"))
        .header("if-none-match", "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .get(format!("{base}concert.jpg"))
        .header("if-modified-since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // HEAD: the same headers, no body.
    let res = http
        .head(format!("{base}concert.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-length"],
        expected.len().to_string().as_str()
    );
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());

    // Keys with reserved bytes and UTF-8 reach S3 intact.
    let small = corpus_file("photos/320x240.jpg");
    for key in ODD_KEYS {
        let res = http
            .get(format!("{base}{}", encode_path(key)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{key}");
        assert_eq!(res.bytes().await.unwrap(), small, "{key}");
    }

    // A missing key: NoSuchKey XML whose RequestId is the header's.
    let res = http.get(format!("{base}missing.jpg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(res.headers()["content-type"], "application/xml");
    let id = res.headers()["x-oss-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = res.text().await.unwrap();
    assert_eq!(xml_tag(&body, "Code").as_deref(), Some("NoSuchKey"));
    assert_eq!(xml_tag(&body, "RequestId"), Some(id));
}

#[tokio::test]
async fn path_style_upstream_path_style_client() {
    let s3 = s3_with_photos().await;
    let px = Pixgate::start(&s3_config(&s3, true, SK, "")).await;
    check_originals(&client(), &px.url("/photos/"), &s3).await;
    px.stop().await;
}

#[tokio::test]
async fn virtual_host_upstream_and_virtual_host_client() {
    let s3 = s3_with_photos().await;
    let px = Pixgate::start(&s3_config(&s3, false, SK, "domain = \"img.pixgate.test\"")).await;
    let http = client_resolving("photos.img.pixgate.test", px.addr);
    let base = format!("http://photos.img.pixgate.test:{}/", px.addr.port());
    check_originals(&http, &base, &s3).await;

    // An unknown bucket under the domain.
    let http = client_resolving("nope.img.pixgate.test", px.addr);
    let res = http
        .get(format!(
            "http://nope.img.pixgate.test:{}/concert.jpg",
            px.addr.port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = res.text().await.unwrap();
    assert_eq!(xml_tag(&body, "Code").as_deref(), Some("NoSuchBucket"));
    assert_eq!(
        xml_tag(&body, "HostId").as_deref(),
        Some(format!("nope.img.pixgate.test:{}", px.addr.port()).as_str())
    );
    px.stop().await;
}

#[tokio::test]
async fn single_bucket_mode() {
    let s3 = s3_with_photos().await;
    let px = Pixgate::start(&s3_config(&s3, true, SK, "default_bucket = \"photos\"")).await;
    check_originals(&client(), &px.url("/"), &s3).await;
    px.stop().await;
}

#[tokio::test]
async fn a_large_object_streams_intact() {
    let s3 = S3Server::start().await;
    s3.create_bucket(UPSTREAM).await;
    // 12 MiB of a non-repeating pattern: larger than any single buffer.
    let big: Vec<u8> = (0u32..12 * 1024 * 1024 / 4)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    s3.put(UPSTREAM, "big.bin", big.clone()).await;
    let px = Pixgate::start(&s3_config(&s3, true, SK, "")).await;
    let res = client()
        .get(px.url("/photos/big.bin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.content_length(), Some(big.len() as u64));
    let got = res.bytes().await.unwrap();
    assert!(got == big, "streamed bytes differ");
    px.stop().await;
}

/// An object stored without a type (or S3's generic one) is served with the
/// type its bytes show, on GET and HEAD alike; one whose bytes are no image
/// keeps what was stored.
#[tokio::test]
async fn an_original_stored_without_a_type_gets_the_type_its_bytes_show() {
    let s3 = S3Server::start().await;
    s3.create_bucket(UPSTREAM).await;
    // `put` names a type only for `.jpg` keys.
    s3.put(UPSTREAM, "untyped-photo", corpus_file(PHOTO)).await;
    s3.put(
        UPSTREAM,
        "untyped-png",
        corpus_file("formats/Flag_of_the_Netherlands-alpha.png"),
    )
    .await;
    s3.put(UPSTREAM, "notes", b"just some text".to_vec()).await;
    let stored = s3.get(UPSTREAM, "untyped-photo").await;
    let stored_type = stored.headers().get("content-type").cloned();
    assert!(
        stored_type
            .as_ref()
            .is_none_or(|t| t.to_str().unwrap().contains("octet-stream")),
        "the upstream stored a real type: {stored_type:?}"
    );
    let px = Pixgate::start(&s3_config(&s3, true, SK, "")).await;
    let http = client();
    for (key, expected) in [
        ("untyped-photo", "image/jpeg"),
        ("untyped-png", "image/png"),
    ] {
        let res = http
            .get(px.url(&format!("/photos/{key}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], expected, "GET {key}");
        let body = res.bytes().await.unwrap();
        assert_eq!(
            body.len(),
            s3.get(UPSTREAM, key).await.bytes().await.unwrap().len()
        );
        let res = http
            .head(px.url(&format!("/photos/{key}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-type"], expected, "HEAD {key}");
    }
    let res = http.get(px.url("/photos/notes")).send().await.unwrap();
    assert_eq!(res.headers().get("content-type"), stored_type.as_ref());
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"just some text");
    px.stop().await;
}
