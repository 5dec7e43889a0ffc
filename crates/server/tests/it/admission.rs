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

    // A body that stops coming is the upstream's timeout.
    assert_eq!(held.await.unwrap(), 504);
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
async fn work_past_the_deadline_is_abandoned_and_the_worker_freed() {
    // The cost model is off so the work starts; one worker, one deadline.
    let px = Pixgate::start(&format!(
        "[limits]\nmax_work_ms = 0\n[admission]\nmax_concurrent = 1\nrequest_timeout_ms = 1000\n\
         [[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let started = Instant::now();
    let res = client()
        .get(px.url(
            "/local/phone-4032x3024.jpg?x-oss-process=image/crop,x_1/blur,r_50,s_50/blur,r_50,s_50/blur,r_50,s_50",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let answered = started.elapsed();
    assert!(answered < Duration::from_secs(2), "{answered:?}");
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("longer than the proxy allows")
    );
    // The only worker is free again: a small request, with the same 1 s
    // deadline, gets 503 as long as the abandoned blur holds it (the three
    // blurs take far longer than the 5 s allowed here). A few tries, so a
    // loaded machine's slow small request is not taken for a held worker.
    let mut statuses = Vec::new();
    while started.elapsed() < Duration::from_secs(5) {
        let res = client()
            .get(px.url("/local/320x240.jpg?x-oss-process=image/resize,w_10"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 200 {
            break;
        }
    }
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
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
async fn at_the_connection_cap_the_oldest_idle_connection_makes_room() {
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

    // A newcomer is served at once: the idle connection is closed for it.
    let started = Instant::now();
    let res = client().get(px.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));
    let closed = tokio::time::timeout(Duration::from_secs(2), first.read(&mut buf)).await;
    assert!(
        matches!(closed, Ok(Ok(0)) | Ok(Err(_))),
        "the idle connection was left open past the cap"
    );
    px.stop().await;
}

#[tokio::test]
async fn at_the_connection_cap_with_every_connection_working_newcomers_get_503() {
    let (stalling, _upstream) = crate::support::stalling_server().await;
    let px = Pixgate::start(&format!(
        "[server]\nmax_connections = 1\n[upstream]\nread_timeout_ms = 3000\n\
         [[buckets]]\nname = \"slow\"\norigin = \"s3://b\"\nendpoint = \"http://{stalling}\"\n"
    ))
    .await;
    // The only connection is working (an upstream that never sends a body).
    let held = tokio::spawn({
        let url = px.url("/slow/a.jpg");
        // Reading the body keeps the request (and its connection) working.
        async move { client().get(url).send().await?.bytes().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (status, headers, _) = crate::support::raw_get(px.addr, "/healthz").await;
    assert_eq!(status, 503);
    assert!(headers.iter().any(|(k, v)| k == "retry-after" && v == "1"));
    assert!(started.elapsed() < Duration::from_secs(1));
    held.abort();
    px.stop().await;
}

#[tokio::test]
async fn silent_and_preface_only_connections_are_closed_after_the_header_timeout() {
    let px = Pixgate::start(&format!(
        "[server]\nheader_read_timeout_ms = 400\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let silent = tokio::net::TcpStream::connect(px.addr).await.unwrap();
    let mut preface = tokio::net::TcpStream::connect(px.addr).await.unwrap();
    preface
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    for mut s in [silent, preface] {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "a connection without a request stayed open");
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(350) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    // Health checks are unaffected, and the closes are counted.
    assert_eq!(
        client()
            .get(px.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let m = crate::support::scrape(&px).await;
    let silent = [("reason", "silent")];
    assert_eq!(
        crate::support::metric(&m, "pixgate_connections_closed_total", &silent),
        2.0,
        "{m}"
    );
    px.stop().await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_after_the_send_timeout() {
    let px = Pixgate::start(&format!(
        "[server]\nsend_timeout_ms = 300\nmax_connections = 1\n\
         [[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    // A small receive window: the 4 MB original cannot all sit in buffers.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(px.addr).await.unwrap();
    s.write_all(b"GET /local/phone-4032x3024.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The connection was closed for the stalled reader: the cap's only
    // slot serves a newcomer, and the stalled client got a cut-short body.
    let res = client().get(px.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the stalled connection is still open");
    assert!(got.len() < 4_000_000, "{} bytes arrived", got.len());
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
