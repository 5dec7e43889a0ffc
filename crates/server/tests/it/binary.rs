//! The `pixgate` binary as a user runs it: the README's command, config
//! refusal, SIGTERM.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;

use crate::support::{client, corpus, metric, photos_dir, xml_tag};

const BIN: &str = env!("CARGO_BIN_EXE_pixgate");

/// Starts the binary and waits for its "listening" log line.
fn spawn(args: &[&str]) -> (Child, SocketAddr) {
    let (child, addr, _log) = spawn_logged(args);
    (child, addr)
}

/// Like [`spawn`], keeping every log line the binary writes.
fn spawn_logged(
    args: &[&str],
) -> (
    Child,
    SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    spawn_with_env(args, &[])
}

/// Like [`spawn_logged`], with extra environment variables.
fn spawn_with_env(
    args: &[&str],
    envs: &[(&str, &str)],
) -> (
    Child,
    SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("PIXGATE_LOG", "info")
        .envs(envs.iter().copied())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("pixgate exited before listening")
            .unwrap();
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
        // The same line as JSON.
        if let Some(rest) = line.split("\"addr\":\"").nth(1) {
            break rest.split('"').next().unwrap().parse().unwrap();
        }
    };
    // Keep draining the log so the child never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            kept.lock().unwrap().push(line);
        }
    });
    (child, addr, log)
}

/// The README's run command on `dir`, on an ephemeral port.
fn serve_root(dir: &std::path::Path) -> (Child, SocketAddr) {
    spawn(&[
        "serve",
        "--root",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

#[tokio::test]
async fn the_readme_run_command_serves_a_directory() {
    let photos = corpus().join("photos");
    let (child, addr) = serve_root(&photos);
    let http = client();
    let mut served = 0;
    for entry in std::fs::read_dir(&photos).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let expected = std::fs::read(&path).unwrap();
        for url in [
            format!("http://{addr}/{name}"),
            format!("http://{addr}/local/{name}"),
        ] {
            let res = http.get(&url).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{url}");
            assert_eq!(res.headers()["content-type"], "image/jpeg");
            assert!(
                res.bytes().await.unwrap() == expected,
                "{url}: bytes differ"
            );
        }
        served += 1;
    }
    assert!(served >= 10, "only {served} photos in the corpus");

    let url = format!("http://{addr}/phone-4032x3024.jpg");
    let res = http
        .get(&url)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(res.bytes().await.unwrap().len(), 100);
    // Originals go out with sendfile: a range from the middle and one to
    // the end are the file's own bytes too.
    let whole = std::fs::read(photos.join("phone-4032x3024.jpg")).unwrap();
    let n = whole.len();
    for (range, expected) in [
        ("bytes=100000-1100000", &whole[100_000..=1_100_000]),
        ("bytes=-5000", &whole[n - 5000..]),
    ] {
        let res = http.get(&url).header("range", range).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert!(
            res.bytes().await.unwrap() == expected,
            "{range}: bytes differ"
        );
    }
    let res = http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let res = http.head(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], etag.as_str());

    let res = http
        .get(format!("http://{addr}/missing.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let id = res.headers()["x-oss-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = res.text().await.unwrap();
    assert_eq!(xml_tag(&body, "Code").as_deref(), Some("NoSuchKey"));
    assert_eq!(xml_tag(&body, "RequestId"), Some(id));

    let res = http.patch(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        xml_tag(&res.text().await.unwrap(), "Code").as_deref(),
        Some("MethodNotAllowed")
    );
    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        let res = http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap(), body);
    }

    assert!(terminate(child).success(), "SIGTERM must exit 0");
}

fn refused(args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn an_invalid_config_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pixgate.toml");
    std::fs::write(
        &file,
        "[[buckets]]\nname = \"photos\"\norigin = \"s3://p\"\nacl = \"world-writable\"\n",
    )
    .unwrap();
    let stderr = refused(&["serve", "--config", file.to_str().unwrap()], &[]);
    assert!(stderr.contains("buckets[0].acl"), "{stderr}");

    std::fs::write(
        &file,
        "[[buckets]]\nname = \"photos\"\norigin = \"s3://p\"\n",
    )
    .unwrap();
    let stderr = refused(
        &["serve", "--config", file.to_str().unwrap()],
        &[("PIXGATE__SERVER__DEFAULT_BUCKET", "nope")],
    );
    assert!(stderr.contains("server.default_bucket"), "{stderr}");

    let stderr = refused(&["serve", "--root", "/definitely/not/here"], &[]);
    assert!(stderr.contains("--root"), "{stderr}");

    // --root reads the environment too: a bad override stops it.
    let root = dir.path().to_str().unwrap();
    let stderr = refused(
        &["serve", "--root", root],
        &[("PIXGATE__CACHE__RESULT_BYTES", "lots")],
    );
    assert!(stderr.contains("cache.result_bytes"), "{stderr}");
}

#[test]
fn the_example_config_is_valid_and_lists_the_defaults() {
    let example = crate::support::crate_dir().join("../../deploy/pixgate.example.toml");
    let config = pixgate::config::Config::load(&example, Vec::new()).unwrap();
    let defaults = pixgate::config::Config::default();
    assert_eq!(config.server.listen, defaults.server.listen);
    assert_eq!(
        config.server.shutdown_timeout_ms,
        defaults.server.shutdown_timeout_ms
    );
    assert_eq!(
        config.upstream.connect_timeout_ms,
        defaults.upstream.connect_timeout_ms
    );
    assert_eq!(
        config.upstream.read_timeout_ms,
        defaults.upstream.read_timeout_ms
    );
    assert_eq!(
        config.upstream.pool_max_idle_per_host,
        defaults.upstream.pool_max_idle_per_host
    );
    assert_eq!(
        config.buckets[0].protect,
        pixgate::config::ProtectConfig::default()
    );
    assert_eq!(config.server.cache_control, defaults.server.cache_control);
    assert_eq!(config.limits, defaults.limits);
    assert_eq!(config.admission, defaults.admission);
    assert_eq!(config.cache, defaults.cache);
    assert_eq!(config.watermark, defaults.watermark);
    assert_eq!(config.telemetry, defaults.telemetry);
    assert_eq!(
        config.server.max_connections,
        defaults.server.max_connections
    );
    assert_eq!(
        config.server.header_read_timeout_ms,
        defaults.server.header_read_timeout_ms
    );
}

/// Waits until the server at `addr` has a request in progress besides the
/// `/metrics` scrape asking (a loaded machine may take a while to read it).
async fn wait_in_flight(addr: SocketAddr) {
    for _ in 0..200 {
        let m = crate::support::scrape_at(addr).await;
        if metric(&m, "pixgate_in_flight_requests", &[]) >= 2.0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the request never reached the server");
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests_and_refuses_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pixgate.toml");
    // A drain window no debug build on a loaded machine outlasts: this test
    // is about draining, not about the window (the test below is).
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_timeout_ms = 120000\n\
             [[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
            photos_dir()
        ),
    )
    .unwrap();
    let (child, addr) = spawn(&["serve", "--config", config.to_str().unwrap()]);
    // A request that takes seconds (a large blur).
    let slow = tokio::spawn(async move {
        let url = format!(
            "http://{addr}/local/phone-4032x3024.jpg?x-oss-process=image/resize,w_1500/blur,r_10,s_6"
        );
        let res = client().get(url).send().await.unwrap();
        (res.status().as_u16(), res.bytes().await.unwrap().len())
    });
    wait_in_flight(addr).await;
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The listener is closed: a new connection is refused.
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after SIGTERM"
    );
    let (code, len) = slow.await.unwrap();
    assert_eq!(code, 200, "the in-flight request must complete");
    assert!(len > 1000);
    let mut child = child;
    assert!(child.wait().unwrap().success(), "exit 0 after draining");
}

#[tokio::test]
async fn sigterm_during_long_pixel_work_exits_within_the_shutdown_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pixgate.toml");
    // No cost limit and a long deadline: only shutdown can stop this job.
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nshutdown_timeout_ms = 1000\n\
             [limits]\nmax_work_ms = 0\n[admission]\nrequest_timeout_ms = 120000\n\
             [[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
            photos_dir()
        ),
    )
    .unwrap();
    let (mut child, addr) = spawn(&["serve", "--config", config.to_str().unwrap()]);
    let blur = "blur,r_50,s_50/".repeat(8);
    let slow = tokio::spawn(async move {
        let url =
            format!("http://{addr}/local/phone-4032x3024.jpg?x-oss-process=image/crop,x_1/{blur}");
        client().get(url).send().await.map(|r| r.status().as_u16())
    });
    wait_in_flight(addr).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!slow.is_finished(), "the job should still be running");
    let signalled = std::time::Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let took = signalled.elapsed();
    assert!(exited.success(), "{exited:?}");
    assert!(
        took < std::time::Duration::from_secs(2),
        "exit took {took:?}"
    );
    // The client was told nothing good: the job was abandoned.
    assert_ne!(slow.await.unwrap().ok(), Some(200));
}

#[test]
fn process_command_matches_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.webp");
    let photo = corpus().join("photos/phone-4032x3024.jpg");
    let ok = Command::new(BIN)
        .args([
            "process",
            photo.to_str().unwrap(),
            "image/resize,w_300/format,webp",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{ok:?}");
    let img = image::open(&out).unwrap();
    assert_eq!(img.width(), 300);
    assert_eq!(
        image::guess_format(&std::fs::read(&out).unwrap()).unwrap(),
        image::ImageFormat::WebP
    );

    // A bad process string: non-zero exit, and the message the server sends.
    let bad = Command::new(BIN)
        .args([
            "process",
            photo.to_str().unwrap(),
            "image/resize,w_0",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8(bad.stderr).unwrap();
    let server_message = pixgate_api::Plan::parse("resize,w_0").unwrap_err().message;
    assert!(stderr.contains(&server_message), "{stderr}");
    assert!(stderr.contains("InvalidArgument"), "{stderr}");

    let example = crate::support::crate_dir().join("../../deploy/pixgate.example.toml");
    let check = Command::new(BIN)
        .arg("check-config")
        .arg(&example)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
}

/// Spans reach an OpenTelemetry collector over OTLP/HTTP. No collector
/// installs from the registries here, so a stand-in accepts the POSTs and
/// keeps their (protobuf) bodies; the exporter, its encoding and its flush
/// on SIGTERM are the real ones.
#[tokio::test]
async fn request_spans_are_exported_over_otlp() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};

    let collector = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = collector.local_addr().unwrap().port();
    // (request line, body) of every POST the stand-in collector received.
    type Posts = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let received: Posts = Arc::default();
    let sink = received.clone();
    std::thread::spawn(move || {
        for stream in collector.incoming() {
            let Ok(mut s) = stream else { break };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            // Headers, then Content-Length bytes of body.
            let (head_end, length) = loop {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    break (i + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let request_line = String::from_utf8_lossy(&buf[..buf.len().min(80)])
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            sink.lock()
                .unwrap()
                .push((request_line, buf[head_end.min(buf.len())..].to_vec()));
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pixgate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[telemetry]\notlp_endpoint = \"http://127.0.0.1:{port}/v1/traces\"\nservice_name = \"pixgate-otlp-test\"\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
            photos_dir()
        ),
    )
    .unwrap();
    let (child, addr) = spawn(&["serve", "--config", config.to_str().unwrap()]);
    let res = client()
        .get(format!(
            "http://{addr}/local/320x240.jpg?x-oss-process=image/resize,w_10"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // SIGTERM: the server drains and the exporter flushes before exit.
    assert!(terminate(child).success());
    let got = received.lock().unwrap();
    let (line, body) = got.first().expect("no OTLP export arrived");
    assert!(line.starts_with("POST /v1/traces"), "{line}");
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"pixgate-otlp-test"), "service.name missing");
    assert!(has(b"request"), "the request span is missing");
    assert!(
        has(b"/local/320x240.jpg"),
        "the span's path attribute is missing"
    );
}

/// Probes are polled every few seconds: their request lines are debug, so
/// an info log shows the traffic, not the health checks.
#[tokio::test]
async fn probes_stay_out_of_the_info_log() {
    let photos = corpus().join("photos");
    let (child, addr, log) = spawn_logged(&[
        "serve",
        "--root",
        photos.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let http = client();
    for path in ["/healthz", "/readyz", "/metrics", "/320x240.jpg"] {
        let res = http
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        res.bytes().await.unwrap();
    }
    assert!(terminate(child).success());
    // The reader thread takes the last lines after the exit.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("path=\"/320x240.jpg\""), "{log}");
    for probe in ["/healthz", "/readyz", "/metrics"] {
        assert!(
            !log.contains(&format!("path=\"{probe}\"")),
            "{probe} logged:\n{log}"
        );
    }
}

/// An S3 "upstream" that answers every request with `body` after `delay`,
/// telling `arrived` when a request came in: a slow origin on demand (the
/// real S3 server cannot be made slow).
async fn slow_upstream(
    body: Vec<u8>,
    delay: std::time::Duration,
) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (arrived, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let (body, arrived) = (body.clone(), arrived.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = arrived.send(());
                tokio::time::sleep(delay).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\nETag: \"slow\"\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(&body).await;
            });
        }
    });
    (addr, rx)
}

/// SIGTERM during a request: readiness fails at once, new connections are
/// still accepted during the pre-stop delay, the request in flight
/// completes, and the process exits cleanly.
#[tokio::test]
async fn sigterm_fails_readiness_first_keeps_accepting_and_finishes_in_flight_work() {
    let key = "concert-400x267.jpg";
    let original = std::fs::read(corpus().join("photos").join(key)).unwrap();
    let (upstream, mut arrived) =
        slow_upstream(original.clone(), std::time::Duration::from_millis(2500)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pixgate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\npre_stop_ms = 1500\nshutdown_timeout_ms = 10000\n\
             [[buckets]]\nname = \"slow\"\norigin = \"s3://slow\"\nendpoint = \"http://{upstream}\"\n\
             [[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n",
            photos_dir()
        ),
    )
    .unwrap();
    let (child, addr) = spawn(&["serve", "--config", config.to_str().unwrap()]);
    // Every request on its own connection: what a new client does.
    let fresh = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    let in_flight = tokio::spawn({
        let url = format!("http://{addr}/slow/{key}");
        let http = fresh();
        async move {
            let res = http.get(url).send().await.unwrap();
            (res.status(), res.bytes().await.unwrap())
        }
    });
    arrived
        .recv()
        .await
        .expect("the request reached the upstream");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let res = fresh()
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("a new connection is accepted during the pre-stop delay");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().contains("shutting down"));
    let res = fresh()
        .get(format!("http://{addr}/photos/{key}"))
        .send()
        .await
        .expect("requests are still served during the pre-stop delay");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().len(), original.len());

    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(body == original, "the in-flight answer is complete");
    let mut child = child;
    assert!(child.wait().unwrap().success(), "SIGTERM must exit 0");
    assert!(
        fresh()
            .get(format!("http://{addr}/healthz"))
            .send()
            .await
            .is_err(),
        "the listener is closed after the drain"
    );
}

/// `PIXGATE_LOG_FORMAT=json`: one JSON object per line, each field once
/// (the request span's fields are not repeated in a span list or in the
/// event).
#[tokio::test]
async fn json_log_lines_name_each_field_once() {
    let photos = corpus().join("photos");
    let (child, addr, log) = spawn_with_env(
        &[
            "serve",
            "--root",
            photos.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[("PIXGATE_LOG_FORMAT", "json")],
    );
    let res = client()
        .get(format!(
            "http://{addr}/320x240.jpg?x-oss-process=image/resize,w_10"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.bytes().await.unwrap();
    assert!(terminate(child).success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let lines = log.lock().unwrap().clone();
    let mut requests = 0;
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v.get("spans").is_none(), "{line}");
        let (Some(fields), Some(span)) = (v["fields"].as_object(), v["span"].as_object()) else {
            continue;
        };
        for k in fields.keys() {
            assert!(!span.contains_key(k), "{k} twice: {line}");
        }
        if fields["message"] == "request" {
            requests += 1;
            assert_eq!(span["path"], "/320x240.jpg", "{line}");
            assert_eq!(span["status"], 200, "{line}");
            assert!(span["request_id"].is_string(), "{line}");
            assert_eq!(fields["cache"], "miss", "{line}");
            assert!(fields["ms"].as_f64().unwrap() > 0.0, "{line}");
        }
    }
    assert_eq!(requests, 1, "{lines:?}");
}

/// A container configured by its environment alone: no file, no `--root`.
#[tokio::test]
async fn a_configuration_from_the_environment_alone_serves() {
    let origin = format!("file://{}", photos_dir());
    let (child, addr, _log) = spawn_with_env(
        &["serve"],
        &[
            ("PIXGATE__SERVER__LISTEN", "127.0.0.1:0"),
            ("PIXGATE__SERVER__CACHE_CONTROL", "public, max-age=5"),
            ("PIXGATE__BUCKETS__0__NAME", "photos"),
            ("PIXGATE__BUCKETS__0__ORIGIN", &origin),
            (
                "PIXGATE__BUCKETS__0__STYLES",
                "{ thumb = \"image/resize,w_50\" }",
            ),
        ],
    );
    let res = client()
        .get(format!(
            "http://{addr}/photos/320x240.jpg?x-oss-process=style/thumb"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=5");
    let img = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((img.width(), img.height()), (50, 38));
    assert!(terminate(child).success());
}

/// `--root` layers the environment over its built-in configuration like
/// every mode does.
#[tokio::test]
async fn root_mode_honours_environment_overrides() {
    let photos = photos_dir();
    let (child, addr, _log) = spawn_with_env(
        &["serve", "--root", &photos, "--listen", "127.0.0.1:0"],
        &[
            ("PIXGATE__SERVER__CACHE_CONTROL", "public, max-age=7"),
            ("PIXGATE__SERVER__ORIGINAL_CACHE_CONTROL", "no-cache"),
        ],
    );
    let http = client();
    let res = http
        .get(format!(
            "http://{addr}/320x240.jpg?x-oss-process=image/resize,w_10"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "public, max-age=7");
    let res = http
        .get(format!("http://{addr}/320x240.jpg"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert!(terminate(child).success());
}
