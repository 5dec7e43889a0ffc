//! Admission control and connection hygiene: busy → 503 with Retry-After
//! while cheap requests still pass; a deadline abandons long work; slow
//! headers and the connection cap are enforced.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{
    Pixgate, client, hold_the_admission, one_admission_proxy, photos_dir, xml_tag,
};

#[tokio::test]
async fn busy_means_503_and_cheap_requests_do_not_wait() {
    let (px, _upstream) = one_admission_proxy().await;
    // One processed request holds the only slot, reading a body that never comes.
    let held = hold_the_admission(&px).await;

    let res = client()
        .get(px.url("/local/320x240.jpg?x-oss-process=image/resize,w_10"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(
        xml_tag(&res.text().await.unwrap(), "Code").as_deref(),
        Some("ServiceUnavailable")
    );

    // Originals and health checks are not pixel work: they do not wait.
    let started = Instant::now();
    assert_eq!(
        client()
            .get(px.url("/local/320x240.jpg"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client()
            .get(px.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    assert_eq!(held.await.unwrap(), 502);
    // The slot is free again.
    let res = client()
        .get(px.url("/local/320x240.jpg?x-oss-process=image/resize,w_10"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    px.stop().await;
}

#[tokio::test]
async fn work_past_the_deadline_is_abandoned() {
    let px = Pixgate::start(&format!(
        "[admission]\nrequest_timeout_ms = 5\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let res = client()
        .get(px.url(
            "/local/phone-4032x3024.jpg?x-oss-process=image/crop,x_1/blur,r_50,s_50/blur,r_50,s_50",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("longer than the proxy allows")
    );
    px.stop().await;
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let px = Pixgate::start(&format!(
        "[server]\nheader_read_timeout_ms = 300\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let mut s = tokio::net::TcpStream::connect(px.addr).await.unwrap();
    s.write_all(b"GET /local/320x240.jpg HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server kept a half-sent request open");
    assert!(started.elapsed() < Duration::from_secs(3));
    px.stop().await;
}

#[tokio::test]
async fn the_connection_cap_holds_new_clients_back() {
    let px = Pixgate::start(&format!(
        "[server]\nmax_connections = 1\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    // One client holds the only connection (an idle keep-alive one).
    let mut first = tokio::net::TcpStream::connect(px.addr).await.unwrap();
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let n = first.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    assert!(
        quick.get(px.url("/healthz")).send().await.is_err(),
        "a second connection was served"
    );
    drop(first);
    let res = client().get(px.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    px.stop().await;
}

#[tokio::test]
async fn a_request_over_its_memory_budget_is_refused_before_allocating() {
    let px = Pixgate::start(&format!(
        "[limits]\nmax_request_bytes = 8388608\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    // Shrink-on-load: the source (4 MB) and a 504×378 frame fit in 8 MiB.
    let res = client()
        .get(px.url("/local/phone-4032x3024.jpg?x-oss-process=image/resize,w_400"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A full-size decode of the 12 MP photo would need 48 MiB of pixels.
    let res = client()
        .get(px.url("/local/phone-4032x3024.jpg?x-oss-process=image/crop,w_100,h_100"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body = res.text().await.unwrap();
    assert_eq!(xml_tag(&body, "Code").as_deref(), Some("ImageTooLarge"));
    assert!(body.contains("at most 8388608"), "{body}");
    px.stop().await;
}
