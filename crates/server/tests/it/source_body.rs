//! How the source body's framing reaches the image path: many small chunks,
//! no Content-Length (chunked), more or fewer bytes than announced. Each is
//! processed, or answered with a clear upstream error — never a 500 or a hang.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{Pixgate, client, corpus_file, xml_tag};

/// How the fake upstream frames the body.
#[derive(Clone, Copy)]
enum Framing {
    /// Content-Length, the body in `n`-byte writes with a pause between some.
    Chunks(usize),
    /// Transfer-Encoding: chunked, `n`-byte chunks, no length announced.
    Chunked(usize),
    /// Content-Length of the file, then the file and `n` stray bytes.
    Longer(usize),
    /// Content-Length of the file, then only its first `n` bytes and close.
    Shorter(usize),
}

/// An "upstream" that answers every GET with `body` framed as asked.
async fn upstream(body: Vec<u8>, framing: Framing) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                // Read the request head (small GETs fit one read).
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let head = |extra: &str| {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nETag: \"e1\"\r\nConnection: close\r\n{extra}\r\n"
                    )
                };
                let len = body.len();
                let _ = match framing {
                    Framing::Chunks(n) => {
                        let _ = s
                            .write_all(head(&format!("Content-Length: {len}\r\n")).as_bytes())
                            .await;
                        for (i, c) in body.chunks(n).enumerate() {
                            if s.write_all(c).await.is_err() {
                                return;
                            }
                            let _ = s.flush().await;
                            // Separate TCP segments now and then.
                            if i % 16 == 0 {
                                tokio::time::sleep(Duration::from_millis(1)).await;
                            }
                        }
                        Ok(())
                    }
                    Framing::Chunked(n) => {
                        let _ = s
                            .write_all(head("Transfer-Encoding: chunked\r\n").as_bytes())
                            .await;
                        for c in body.chunks(n) {
                            let mut frame = format!("{:x}\r\n", c.len()).into_bytes();
                            frame.extend_from_slice(c);
                            frame.extend_from_slice(b"\r\n");
                            if s.write_all(&frame).await.is_err() {
                                return;
                            }
                        }
                        s.write_all(b"0\r\n\r\n").await
                    }
                    Framing::Longer(extra) => {
                        let mut out = head(&format!("Content-Length: {len}\r\n")).into_bytes();
                        out.extend_from_slice(&body);
                        out.extend(std::iter::repeat_n(0xAB, extra));
                        s.write_all(&out).await
                    }
                    Framing::Shorter(keep) => {
                        let mut out = head(&format!("Content-Length: {len}\r\n")).into_bytes();
                        out.extend_from_slice(&body[..keep]);
                        s.write_all(&out).await
                    }
                };
                let _ = s.shutdown().await;
            });
        }
    });
    (addr, task)
}

async fn start(framing: Framing, extra_config: &str) -> (Pixgate, tokio::task::JoinHandle<()>) {
    let body = corpus_file("photos/flowers-1920x1080.jpg");
    let (addr, task) = upstream(body, framing).await;
    let px = Pixgate::start(&format!(
        "{extra_config}\n[[buckets]]\nname = \"photos\"\norigin = \"s3://b\"\nendpoint = \"http://{addr}\"\n"
    ))
    .await;
    (px, task)
}

/// Status, `<Code>` (for errors) and width (for images) of a resize to 300.
async fn resize(px: &Pixgate) -> (StatusCode, String, u32) {
    let res = tokio::time::timeout(
        Duration::from_secs(20),
        client()
            .get(px.url("/photos/f.jpg?x-oss-process=image/resize,w_300"))
            .send(),
    )
    .await
    .expect("no answer within 20 s")
    .unwrap();
    let status = res.status();
    let bytes = res.bytes().await.unwrap();
    if status == StatusCode::OK {
        let img = image::load_from_memory(&bytes).unwrap();
        (status, String::new(), img.width())
    } else {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        (status, xml_tag(&text, "Code").unwrap_or(text), 0)
    }
}

#[tokio::test]
async fn a_body_in_many_small_chunks_is_processed() {
    let (px, _up) = start(Framing::Chunks(1000), "").await;
    assert_eq!(resize(&px).await, (StatusCode::OK, String::new(), 300));
    px.stop().await;
}

#[tokio::test]
async fn a_body_without_content_length_is_processed() {
    let (px, _up) = start(Framing::Chunked(4096), "").await;
    assert_eq!(resize(&px).await, (StatusCode::OK, String::new(), 300));
    px.stop().await;
}

#[tokio::test]
async fn a_body_without_content_length_past_the_cap_is_too_large() {
    // The 85 kB photo, announced by nobody, against a 50 kB cap.
    let (px, _up) = start(
        Framing::Chunked(4096),
        "[limits]\nmax_source_bytes = 50000\n",
    )
    .await;
    let (status, code, _) = resize(&px).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "ImageTooLarge")
    );
    px.stop().await;
}

#[tokio::test]
async fn bytes_past_the_announced_length_are_not_part_of_the_source() {
    // HTTP framing ends the body at Content-Length: the image is whole.
    let (px, _up) = start(Framing::Longer(5000), "").await;
    assert_eq!(resize(&px).await, (StatusCode::OK, String::new(), 300));
    px.stop().await;
}

#[tokio::test]
async fn a_body_shorter_than_announced_is_an_upstream_error() {
    let (px, _up) = start(Framing::Shorter(20_000), "").await;
    let (status, code, _) = resize(&px).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_GATEWAY, "UpstreamError")
    );
    px.stop().await;
}
