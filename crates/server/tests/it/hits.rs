//! Repeated anonymous process URLs answered from memory (`hits.rs`): the
//! same bytes and headers as the first answer, and never an answer the
//! full path would not give — after a write through the proxy, a source
//! changed upstream, a conditional request, or a signed one.

use http::StatusCode;

use crate::support::{Pixgate, client, corpus_file, metric, scrape};
use crate::writes::{CSK, IMAGE, keys, local_bucket, signed_put};

const URL: &str = "/photos/pic.jpg?x-oss-process=image/resize,w_100";

/// (status, headers, body) of an anonymous GET.
async fn get(px: &Pixgate, extra: &[(&str, &str)]) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    get_url(px, URL, extra).await
}

async fn get_url(
    px: &Pixgate,
    url: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut req = client().get(px.url(url));
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.bytes().await.unwrap().to_vec())
}

/// A response's header names, each once, sorted.
fn names(h: &http::HeaderMap) -> Vec<String> {
    let mut names: Vec<String> = h.keys().map(|k| k.as_str().to_owned()).collect();
    names.sort();
    names
}

fn size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).unwrap();
    (img.width(), img.height())
}

#[tokio::test]
async fn a_repeated_url_is_answered_alike_and_follows_writes() {
    let dir = tempfile::tempdir().unwrap();
    let px = Pixgate::start(&format!(
        "[cache]\nsource_fresh_ms = 60000\n{}{}",
        local_bucket(dir.path()),
        keys()
    ))
    .await;
    let res = signed_put(&px, "/photos/pic.jpg", corpus_file(IMAGE), CSK).await;
    assert_eq!(res.status(), StatusCode::OK);

    let (status, first, body) = get(&px, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(size(&body), (100, 67));
    // A browser's and a CDN's usual headers still take the remembered answer.
    let browser = [
        ("user-agent", "Mozilla/5.0"),
        ("accept", "image/avif,image/webp,*/*"),
        ("accept-encoding", "gzip, br"),
        ("x-forwarded-for", "203.0.113.7"),
    ];
    for extra in [&[][..], &browser] {
        let (status, again, bytes) = get(&px, extra).await;
        assert_eq!(status, StatusCode::OK);
        assert!(bytes == body, "the same bytes");
        for name in [
            "etag",
            "last-modified",
            "cache-control",
            "content-type",
            "content-length",
        ] {
            assert_eq!(again.get(name), first.get(name), "{name}");
        }
        let vary = |h: &http::HeaderMap| -> Vec<String> {
            h.get_all("vary")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(vary(&again), vary(&first));
        assert_ne!(
            again["x-oss-request-id"], first["x-oss-request-id"],
            "each answer has its own request id"
        );
        assert_eq!(names(&again), names(&first), "the same headers");
    }
    let m = scrape(&px).await;
    assert_eq!(metric(&m, "pixgate_renders_total", &[]), 1.0, "{m}");
    let hits = [("cache", "result"), ("outcome", "hit")];
    assert_eq!(metric(&m, "pixgate_cache_lookups_total", &hits), 2.0, "{m}");
    // Remembered answers count as requests too, in the same series.
    let image = [
        ("dialect", "oss"),
        ("operation", "image"),
        ("status", "200"),
    ];
    assert_eq!(metric(&m, "pixgate_requests_total", &image), 3.0, "{m}");
    let timed = [("operation", "image")];
    let count = "pixgate_request_duration_seconds_count";
    assert_eq!(metric(&m, count, &timed), 3.0, "{m}");

    // Another dialect's answer (Tencent CI's imageView2) carries its own
    // request id header too, on the first answer and on the remembered
    // one alike.
    let cos = "/photos/pic.jpg?imageView2/2/w/100";
    let (_, first_cos, _) = get_url(&px, cos, &[]).await;
    let (status, again, bytes) = get_url(&px, cos, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(size(&bytes), (100, 67));
    assert_eq!(names(&again), names(&first_cos));
    for h in [&first_cos, &again] {
        let id = h["x-cos-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 24, "{id:?}");
        assert_eq!(id, h["x-oss-request-id"], "one id under both names");
    }
    assert_ne!(again["x-cos-request-id"], first_cos["x-cos-request-id"]);
    let m = scrape(&px).await;
    assert_eq!(metric(&m, "pixgate_cache_lookups_total", &hits), 3.0, "{m}");

    // A conditional request is still answered 304.
    let etag = first["etag"].to_str().unwrap().to_owned();
    let (status, _, bytes) = get(&px, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(bytes.is_empty());

    // A write through the proxy: the next answer is the new picture's.
    let res = signed_put(
        &px,
        "/photos/pic.jpg",
        corpus_file("photos/320x240.jpg"),
        CSK,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, after, bytes) = get(&px, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(size(&bytes), (100, 75), "stale result after a write");
    assert_ne!(after["etag"], first["etag"]);
    let (_, _, again) = get(&px, &[]).await;
    assert!(again == bytes);
    px.stop().await;
}

/// A source replaced behind the proxy's back is seen once its validators
/// are due: the remembered answer is not served past them.
#[tokio::test]
async fn a_source_changed_upstream_is_seen_when_its_validators_are_due() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pic.jpg"), corpus_file(IMAGE)).unwrap();
    let px = Pixgate::start(&format!(
        "[cache]\nsource_fresh_ms = 1000\n{}",
        local_bucket(dir.path())
    ))
    .await;
    for _ in 0..3 {
        let (status, _, bytes) = get(&px, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(size(&bytes), (100, 67));
    }
    // A different size of file, so its validators change too.
    std::fs::write(
        dir.path().join("pic.jpg"),
        corpus_file("photos/320x240.jpg"),
    )
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (status, _, bytes) = get(&px, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        size(&bytes),
        (100, 75),
        "stale result after an upstream change"
    );
    px.stop().await;
}

/// The headers a remembered answer ignores must be ones no code reads for
/// an anonymous answer (a guard by name: a new reader of, say, `referer`
/// must decide what remembered answers do with it).
#[test]
fn no_code_reads_a_header_the_remembered_answers_ignore() {
    let crates = crate::support::crate_dir().join("..");
    let mut found = Vec::new();
    let mut dirs = vec![crates];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("tests") && !path.ends_with("target") {
                    dirs.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("hits.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap().to_ascii_lowercase();
            // Source code only: a file's unit tests may name anything.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for name in pixgate::hits::PASSIVE_HEADERS {
                if *name != "host" && code.contains(&format!("\"{name}\"")) {
                    found.push(format!("{}: {name}", path.display()));
                }
            }
        }
    }
    // Named, but not read from a request a remembered answer could serve:
    let known = [
        // a signature (signed requests are never remembered);
        "signature/qiniu.rs: x-forwarded-proto",
        // the upstream's answer, and a written object's metadata;
        "origin/src/s3.rs: cache-control",
        "server/src/write.rs: cache-control",
        // `Vary: Accept` (Accept is read by negotiation, and buckets that
        // negotiate are never remembered).
        "server/src/handler.rs: accept",
    ];
    found.retain(|f| !known.iter().any(|k| f.ends_with(k)));
    assert!(found.is_empty(), "{found:#?}");
}
