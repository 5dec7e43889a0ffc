//! Styles managed by API (issue 19): the OSS SDKs put, get, list and
//! delete styles through pixgate; the styles live in the bucket
//! (`.pixgate/styles.json`, never served, written or listed as an object)
//! and render by `style/<name>` and `key@!name`; a second pixgate over the
//! same bucket serves a style put through the first within
//! `server.styles_refresh_ms`.

use std::time::{Duration, Instant};

use http::StatusCode;
use pixgate_origin::S3Credentials;
use pixgate_origin::sigv4::sign_headers_with;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{AK, Pixgate, REGION, S3Server, SK, client, corpus_file, xml_tag};

const CAK: &str = "AKstylesClient";
const CSK: &str = "client/secret+for=styles";
const UPSTREAM: &str = "upstream";
const IMAGE: &str = "photos/concert-400x267.jpg";

/// A public-read bucket over `s3` with one configured style, `cfg`.
fn config(s3: &S3Server, refresh_ms: u64) -> String {
    format!(
        "[server]\nstyles_refresh_ms = {refresh_ms}\n[[buckets]]\nname = \"photos\"\norigin = \"s3://{UPSTREAM}\"\nendpoint = \"{}\"\nregion = \"{REGION}\"\npath_style = true\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\nacl = \"public-read\"\nstyles = {{ cfg = \"image/resize,w_50\" }}\n[[keys]]\naccess_key_id = \"{CAK}\"\nsecret_access_key = \"{CSK}\"\n",
        s3.endpoint()
    )
}

async fn upstream() -> S3Server {
    let s3 = S3Server::start().await;
    s3.create_bucket(UPSTREAM).await;
    s3.put(UPSTREAM, "pic.jpg", corpus_file(IMAGE)).await;
    s3
}

async fn script(args: &[&str]) -> Value {
    crate::support::sdk_script("styles_api.py", args, "oss2 and alibabacloud-oss-v2").await
}

async fn put_style(px: &Pixgate, name: &str, content: &str) -> Value {
    let endpoint = format!("http://{}", px.addr);
    script(&["put", &endpoint, CAK, CSK, "photos", name, content]).await
}

/// An anonymous GET: its status and, when it is an image, its size.
async fn render(px: &Pixgate, path: &str) -> (StatusCode, Option<(u32, u32)>, String) {
    let res = client().get(px.url(path)).send().await.unwrap();
    let status = res.status();
    let bytes = res.bytes().await.unwrap();
    let dims = image::load_from_memory(&bytes)
        .ok()
        .map(|i| (i.width(), i.height()));
    let code = xml_tag(&String::from_utf8_lossy(&bytes), "Code").unwrap_or_default();
    (status, dims, code)
}

/// A request signed (SigV4) with the client key.
async fn signed(px: &Pixgate, method: &str, path: &str, body: &[u8]) -> reqwest::Response {
    let url = px.url(path);
    let creds = S3Credentials {
        access_key_id: CAK.into(),
        secret_access_key: CSK.into(),
        session_token: None,
    };
    let headers = sign_headers_with(method, &url, body, &creds, REGION).unwrap();
    let mut req = client()
        .request(method.parse().unwrap(), &url)
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn sdk_style_calls_put_get_list_delete_and_render() {
    let s3 = upstream().await;
    let px = Pixgate::start(&config(&s3, 10_000)).await;
    let endpoint = format!("http://{}", px.addr);
    let got = script(&["suite", &endpoint, CAK, CSK, "photos"]).await;

    assert_eq!(got["put"], 200);
    assert_eq!(got["get"][0], "small");
    assert_eq!(got["get"][1], "image/resize,w_100");
    assert!(got["get"][2].as_str().unwrap().ends_with(" GMT"));
    assert_eq!(
        got["list"],
        json!([
            ["cfg", "image/resize,w_50"],
            ["small", "image/resize,w_100"],
            ["tiny", "image/resize,w_40"]
        ])
    );
    assert_eq!(got["delete"], 204);
    assert_eq!(got["get_deleted"], json!([404, "NoSuchStyle"]));
    assert_eq!(got["delete_deleted"], json!([404, "NoSuchStyle"]));
    assert_eq!(got["bad_name"], json!([400, "InvalidArgument"]));
    assert_eq!(got["long_name"], json!([400, "InvalidArgument"]));
    assert_eq!(got["empty_content"], json!([400, "InvalidArgument"]));
    assert_eq!(got["bad_content"], json!([400, "InvalidArgument"]));
    assert_eq!(got["configured"], json!([403, "AccessDenied"]));
    assert_eq!(got["fifty_first"], json!([400, "InvalidArgument"]));
    assert_eq!(got["count_full"], 50);
    assert_eq!(got["count_after"], 2);
    assert_eq!(got["v2_put"], 200);
    assert_eq!(got["v2_get"], json!(["v2style", "image/resize,w_60"]));
    assert_eq!(got["v2_list"], json!(["cfg", "small", "v2style"]));
    assert_eq!(got["v2_delete"], 204);

    // The stored style renders both ways; the deleted one is gone.
    let style = render(&px, "/photos/pic.jpg?x-oss-process=style/small").await;
    assert_eq!((style.0, style.1), (StatusCode::OK, Some((100, 67))));
    let sep = render(&px, "/photos/pic.jpg@!small").await;
    assert_eq!((sep.0, sep.1), (StatusCode::OK, Some((100, 67))));
    let cfg = render(&px, "/photos/pic.jpg@!cfg").await;
    assert_eq!(cfg.1, Some((50, 33)));
    let gone = render(&px, "/photos/pic.jpg?x-oss-process=style/tiny").await;
    assert_eq!(
        (gone.0, gone.2.as_str()),
        (StatusCode::NOT_FOUND, "NoSuchStyle")
    );

    // A style changed through pixgate renders its new content at once (the
    // plan, and so the result cache key, follow the content).
    assert_eq!(
        put_style(&px, "small", "image/resize,w_80").await["status"],
        200
    );
    let style = render(&px, "/photos/pic.jpg?x-oss-process=style/small").await;
    assert_eq!(style.1, Some((80, 53)));

    // The styles live in the bucket…
    let stored = s3.get(UPSTREAM, ".pixgate/styles.json").await;
    let stored: Value = serde_json::from_slice(&stored.bytes().await.unwrap()).unwrap();
    let names: Vec<&str> = stored["styles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["small"]);
    // …but clients cannot read, write or list them as objects.
    let read = render(&px, "/photos/.pixgate/styles.json").await;
    assert_eq!(
        (read.0, read.2.as_str()),
        (StatusCode::NOT_FOUND, "NoSuchKey")
    );
    let read = signed(&px, "GET", "/photos/.pixgate/styles.json", b"").await;
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
    let write = signed(&px, "PUT", "/photos/.pixgate/styles.json", b"{}").await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let write = signed(&px, "DELETE", "/photos/.pixgate/styles.json", b"").await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let listed = signed(&px, "GET", "/photos?list-type=2", b"").await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed = listed.text().await.unwrap();
    assert!(listed.contains("<Key>pic.jpg</Key>"), "{listed}");
    assert!(!listed.contains(".pixgate"), "{listed}");
    let listed = signed(&px, "GET", "/photos?list-type=2&delimiter=%2F", b"").await;
    let listed = listed.text().await.unwrap();
    assert!(!listed.contains(".pixgate"), "{listed}");
    // Nothing above changed the stored styles.
    let after = s3.get(UPSTREAM, ".pixgate/styles.json").await;
    let after: Value = serde_json::from_slice(&after.bytes().await.unwrap()).unwrap();
    assert_eq!(after["styles"][0]["content"], "image/resize,w_80");

    // Anonymous style calls are refused in OSS's shape, and change nothing.
    let res = client()
        .put(px.url("/photos?style&styleName=anon"))
        .body("<Style><Content>image/resize,w_10</Content></Style>")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.headers().contains_key("x-oss-request-id"));
    let body = res.text().await.unwrap();
    assert_eq!(xml_tag(&body, "Code").as_deref(), Some("AccessDenied"));
    let res = client().get(px.url("/photos?style")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let anon = render(&px, "/photos/pic.jpg?x-oss-process=style/anon").await;
    assert_eq!(anon.0, StatusCode::NOT_FOUND);
    px.stop().await;
}

#[tokio::test]
async fn a_style_put_through_one_replica_is_served_by_another() {
    let s3 = upstream().await;
    let a = Pixgate::start(&config(&s3, 200)).await;
    let b = Pixgate::start(&config(&s3, 200)).await;
    // b knows the bucket has no such style yet.
    let before = render(&b, "/photos/pic.jpg?x-oss-process=style/fresh").await;
    assert_eq!(
        (before.0, before.2.as_str()),
        (StatusCode::NOT_FOUND, "NoSuchStyle")
    );

    assert_eq!(
        put_style(&a, "fresh", "image/resize,w_120").await["status"],
        200
    );
    let put_at = Instant::now();
    // Within the interval (plus a request's time), b renders it.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let seen = wait_for(&b, "/photos/pic.jpg@!fresh", Some((120, 80))).await;
    assert!(
        seen.duration_since(put_at) < Duration::from_secs(3),
        "b served the new style only after {:?}",
        seen.duration_since(put_at)
    );

    // A change and a delete travel the same way.
    assert_eq!(
        put_style(&a, "fresh", "image/resize,w_60").await["status"],
        200
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    wait_for(
        &b,
        "/photos/pic.jpg?x-oss-process=style/fresh",
        Some((60, 40)),
    )
    .await;
    let endpoint = format!("http://{}", a.addr);
    let deleted = script(&["delete", &endpoint, CAK, CSK, "photos", "fresh"]).await;
    assert_eq!(deleted["status"], 204);
    tokio::time::sleep(Duration::from_millis(250)).await;
    wait_for(&b, "/photos/pic.jpg?x-oss-process=style/fresh", None).await;
    a.stop().await;
    b.stop().await;
}

/// Polls `path` on `px` (for at most 3 s) until it renders at `dims`
/// (`None`: until it answers NoSuchStyle); when it did.
async fn wait_for(px: &Pixgate, path: &str, dims: Option<(u32, u32)>) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (status, got, code) = render(px, path).await;
        let done = match dims {
            Some(d) => got == Some(d),
            None => status == StatusCode::NOT_FOUND && code == "NoSuchStyle",
        };
        if done {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "{path}: still {status} {got:?} {code}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A refused write with a small body leaves the connection usable: the
/// next request on it is answered (SDKs reuse connections).
#[tokio::test]
async fn a_refused_write_keeps_the_connection_alive() {
    let s3 = upstream().await;
    let px = Pixgate::start(&config(&s3, 10_000)).await;
    let mut conn = tokio::net::TcpStream::connect(px.addr).await.unwrap();
    let body = vec![b'x'; 20_000];
    let head = format!(
        "PUT /photos/anon.jpg HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
        px.addr,
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    // The body arrives after the refusal could have been written: unread,
    // it would end the connection.
    conn.write_all(&body[..1000]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.write_all(&body[1000..]).await.unwrap();
    let first = read_response(&mut conn).await;
    assert!(first.starts_with("HTTP/1.1 403"), "{first}");
    let next = format!(
        "GET /photos/pic.jpg?x-oss-process=style/cfg HTTP/1.1\r\nHost: {}\r\n\r\n",
        px.addr
    );
    conn.write_all(next.as_bytes()).await.unwrap();
    let second = read_response(&mut conn).await;
    assert!(second.starts_with("HTTP/1.1 200"), "{second}");
    px.stop().await;
}

/// One response's head, its body read by Content-Length ("" when the
/// connection closed first).
async fn read_response(conn: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), conn.read(&mut byte)).await {
            Ok(Ok(1)) => buf.push(byte[0]),
            _ => return String::from_utf8_lossy(&buf).into_owned(),
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    conn.read_exact(&mut body).await.unwrap();
    head
}

/// A local-directory bucket keeps its styles in `<root>/.pixgate/`, and
/// serves neither them nor lists them.
#[tokio::test]
async fn a_local_directory_keeps_its_styles_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pic.jpg"), corpus_file(IMAGE)).unwrap();
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n[[keys]]\naccess_key_id = \"{CAK}\"\nsecret_access_key = \"{CSK}\"\n",
        dir.path().display()
    ))
    .await;
    assert_eq!(
        put_style(&px, "local", "image/resize,w_100").await["status"],
        200
    );
    let stored = std::fs::read(dir.path().join(".pixgate/styles.json")).unwrap();
    let stored: Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(stored["styles"][0]["content"], "image/resize,w_100");
    let style = render(&px, "/photos/pic.jpg@!local").await;
    assert_eq!((style.0, style.1), (StatusCode::OK, Some((100, 67))));
    let read = render(&px, "/photos/.pixgate/styles.json").await;
    assert_eq!(read.0, StatusCode::NOT_FOUND);
    let listed = signed(&px, "GET", "/photos?prefix=", b"").await;
    let listed = listed.text().await.unwrap();
    assert!(listed.contains("<Key>pic.jpg</Key>"), "{listed}");
    assert!(!listed.contains(".pixgate"), "{listed}");
    px.stop().await;
}

/// Tencent CI's style calls from cos-python-sdk-v5 (COS signatures): add,
/// get, list and delete; a style added this way renders like any other.
#[tokio::test]
async fn cos_sdk_style_calls() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pic.jpg"), corpus_file(IMAGE)).unwrap();
    let px = Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"photos\"\n[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n[[keys]]\naccess_key_id = \"{CAK}\"\nsecret_access_key = \"{CSK}\"\n",
        dir.path().display()
    ))
    .await;
    let endpoint = format!("http://{}", px.addr);
    let got = crate::support::sdk_script(
        "styles_api.py",
        &["cos", &endpoint, CAK, CSK, "photos"],
        "oss2 and cos-python-sdk-v5",
    )
    .await;
    assert_eq!(got["get"], json!(["cstyle", "imageMogr2/thumbnail/100x"]));
    assert_eq!(got["list"], json!(["cstyle"]));
    assert_eq!(got["bad_name"], json!([400, "InvalidArgument"]));
    let style = render(&px, "/pic.jpg@!cstyle").await;
    assert_eq!((style.0, style.1), (StatusCode::OK, Some((100, 67))));
    px.stop().await;
}
