//! Hostile upstreams and clients (issue 13): trickling sources meet the
//! request deadline, identical cold requests beyond the line are refused, a
//! cheap file cannot buy expensive work, and CDN-facing headers are safe.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{Pixgate, client, corpus_file, metric, photos_dir, xml_tag};

/// An S3 stand-in: every GET answers 200 with `body`'s length and ETag,
/// after `delay`, then sends the body at `bytes_per_tick` every `tick`
/// (`None`: all at once).
async fn upstream(
    body: Vec<u8>,
    delay: Duration,
    trickle: Option<Duration>,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let body = std::sync::Arc::new(body);
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                // One request per connection is enough for these tests.
                if s.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                tokio::time::sleep(delay).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                if s.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                match trickle {
                    None => {
                        let _ = s.write_all(&body).await;
                    }
                    Some(tick) => {
                        for b in body.iter() {
                            if s.write_all(&[*b]).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(tick).await;
                        }
                    }
                }
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn trickling_sources_get_504_at_the_deadline_and_a_normal_request_still_answers() {
    // One byte every 100 ms: never silent long enough for the read timeout.
    let photo = corpus_file("photos/concert-400x267.jpg");
    let (trickling, _up) = upstream(photo, Duration::ZERO, Some(Duration::from_millis(100))).await;
    let px = Pixgate::start(&format!(
        "[admission]\nmax_concurrent = 2\nrequest_timeout_ms = 1500\n\
         [[buckets]]\nname = \"slow\"\norigin = \"s3://b\"\nendpoint = \"http://{trickling}\"\n\
         [[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let started = Instant::now();
    let slow: Vec<_> = (0..6)
        .map(|i| {
            let url = px.url(&format!("/slow/t{i}.jpg?x-oss-process=image/resize,w_10"));
            tokio::spawn(async move {
                let res = client().get(url).send().await.unwrap();
                let status = res.status().as_u16();
                (status, res.text().await.unwrap(), started.elapsed())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let res = client()
        .get(px.url("/local/phone-4032x3024.jpg?x-oss-process=image/resize,w_200"))
        .send()
        .await
        .unwrap();
    let normal = started.elapsed();
    assert!(
        matches!(res.status().as_u16(), 200 | 503),
        "{}",
        res.status()
    );
    assert!(normal < Duration::from_millis(2700), "{normal:?}");
    for task in slow {
        let (status, body, took) = task.await.unwrap();
        assert_eq!(status, 504, "{body}");
        assert_eq!(xml_tag(&body, "Code").as_deref(), Some("UpstreamTimeout"));
        assert!(
            took >= Duration::from_millis(1400) && took < Duration::from_millis(2500),
            "{took:?}"
        );
    }
    px.stop().await;
}

#[tokio::test]
async fn identical_cold_requests_past_the_line_are_refused() {
    // The source takes a second to arrive, so all 200 requests are waiting
    // on it (one revalidation, one render) at once.
    let photo = corpus_file("photos/concert-400x267.jpg");
    let (slow, _up) = upstream(photo, Duration::from_secs(1), None).await;
    let px = Pixgate::start(&format!(
        "[admission]\nmax_concurrent = 1\nprefetch = 0\nmax_queued = 8\n\
         [[buckets]]\nname = \"slow\"\norigin = \"s3://b\"\nendpoint = \"http://{slow}\"\n"
    ))
    .await;
    let url = px.url("/slow/a.jpg?x-oss-process=image/resize,w_100");
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { client().get(url).send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let busy = statuses.iter().filter(|s| **s == 503).count();
    assert_eq!(ok + busy, 200, "{statuses:?}");
    // One admitted plus eight in line: nobody else waited.
    assert!((1..=9).contains(&ok), "{ok} answered, {busy} refused");
    px.stop().await;
}

#[tokio::test]
async fn an_expensive_plan_on_a_small_source_is_refused_before_decoding() {
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let res = client()
        .get(px.url(
            "/local/concert-400x267.jpg?x-oss-process=image/resize,m_fixed,w_4096,h_4096,limit_0/blur,r_50,s_50",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    assert_eq!(xml_tag(&body, "Code").as_deref(), Some("ImageTooLarge"));
    assert!(body.contains("ms of processing"), "{body}");
    // Refused from the header: nothing was decoded.
    let m = crate::support::scrape(&px).await;
    assert_eq!(metric(&m, "pixgate_renders_total", &[]), 0.0, "{m}");
    // The same steps at an ordinary size are fine.
    let res = client()
        .get(px.url(
            "/local/concert-400x267.jpg?x-oss-process=image/resize,m_fixed,w_400,h_400/blur,r_50,s_50",
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    px.stop().await;
}

#[tokio::test]
async fn processing_may_come_from_a_header_so_responses_vary_on_it() {
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let vary = |res: &reqwest::Response| {
        res.headers()
            .get_all("vary")
            .iter()
            .map(|v| v.to_str().unwrap().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(",")
    };
    let processed = client()
        .get(px.url("/local/320x240.jpg"))
        .header("x-oss-process", "image/resize,w_100")
        .send()
        .await
        .unwrap();
    assert_eq!(processed.status(), 200);
    assert!(vary(&processed).contains("x-oss-process"));
    let original = client()
        .get(px.url("/local/320x240.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 200);
    assert!(vary(&original).contains("x-oss-process"));
    assert_ne!(
        processed.bytes().await.unwrap(),
        original.bytes().await.unwrap()
    );
    // Errors are never kept by a cache.
    for path in [
        "/local/missing.jpg",
        "/local/320x240.jpg?x-oss-process=image/resize,w_0",
    ] {
        let res = client().get(px.url(path)).send().await.unwrap();
        assert!(res.status().is_client_error(), "{path}");
        assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
    }
    px.stop().await;
}
