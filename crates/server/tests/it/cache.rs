//! The result and source caches: single-flight, hits that never wait for a
//! worker, 304 without processing, revalidation, nothing cached on failure,
//! and the counters `/metrics` reports for them.

use std::sync::atomic::Ordering;

use futures_util::future::join_all;

use crate::s3_originals::s3_config;
use crate::support::{
    Pixgate, S3Server, SK, client, corpus_file, hold_the_admission, metric, one_admission_proxy,
    photos_dir, scrape,
};

const UPSTREAM: &str = "upstream-photos";

fn width_of(bytes: &[u8]) -> u32 {
    image::load_from_memory(bytes).unwrap().width()
}

#[tokio::test]
async fn identical_cold_requests_fetch_and_decode_once() {
    let s3 = S3Server::start().await;
    s3.create_bucket(UPSTREAM).await;
    s3.put(
        UPSTREAM,
        "phone.jpg",
        corpus_file("photos/phone-4032x3024.jpg"),
    )
    .await;
    let px = Pixgate::start(&format!(
        "{}[admission]\nmax_queued = 200\n",
        s3_config(&s3, true, SK, "")
    ))
    .await;
    let gets_before = s3.object_gets.load(Ordering::SeqCst);

    let url = px.url("/photos/phone.jpg?x-oss-process=image/resize,w_200");
    let http = client();
    let responses = join_all((0..100).map(|_| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let res = http.get(url).send().await.unwrap();
            let status = res.status().as_u16();
            let etag = res.headers()["etag"].to_str().unwrap().to_owned();
            (status, etag, res.bytes().await.unwrap())
        }
    }))
    .await;
    for (status, etag, body) in &responses {
        assert_eq!(*status, 200);
        assert_eq!(etag, &responses[0].1);
        assert_eq!(body, &responses[0].2);
    }
    assert_eq!(width_of(&responses[0].2), 200);

    assert_eq!(
        s3.object_gets.load(Ordering::SeqCst) - gets_before,
        1,
        "upstream GETs for 100 identical cold requests"
    );
    let m = scrape(&px).await;
    assert_eq!(metric(&m, "pixgate_renders_total", &[]), 1.0, "{m}");

    // Other sizes of the same source within the window: no new upstream GET.
    for w in [50, 80, 120] {
        let res = http
            .get(px.url(&format!(
                "/photos/phone.jpg?x-oss-process=image/resize,w_{w}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(width_of(&res.bytes().await.unwrap()), w);
    }
    assert_eq!(s3.object_gets.load(Ordering::SeqCst) - gets_before, 1);
    let m = scrape(&px).await;
    assert_eq!(metric(&m, "pixgate_renders_total", &[]), 4.0);
    px.stop().await;
}

#[tokio::test]
async fn hits_are_served_while_every_worker_is_busy() {
    let (px, _upstream) = one_admission_proxy().await;
    let cached = px.url("/local/320x240.jpg?x-oss-process=image/resize,w_30");
    let first = client().get(&cached).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let expected = first.bytes().await.unwrap();

    let held = hold_the_admission(&px).await;
    let m = scrape(&px).await;
    assert_eq!(metric(&m, "pixgate_admitted_requests", &[]), 1.0, "{m}");

    // The only admission is taken: new work is refused, cached work is not.
    let uncached = client()
        .get(px.url("/local/320x240.jpg?x-oss-process=image/resize,w_31"))
        .send()
        .await
        .unwrap();
    assert_eq!(uncached.status(), 503);
    for _ in 0..5 {
        let res = client().get(&cached).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.bytes().await.unwrap(), expected);
    }
    let m = scrape(&px).await;
    let hits = [("cache", "result"), ("outcome", "hit")];
    assert_eq!(metric(&m, "pixgate_cache_lookups_total", &hits), 5.0);
    assert_eq!(metric(&m, "pixgate_renders_total", &[]), 1.0);

    assert_eq!(held.await.unwrap(), 504);
    px.stop().await;
}

#[tokio::test]
async fn conditional_and_head_requests_do_no_work() {
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let url = px.url("/local/concert-400x267.jpg?x-oss-process=image/resize,w_100/format,png");
    // HEAD first: the work done for it serves the GET that follows.
    let head = client().head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let etag = head.headers()["etag"].to_str().unwrap().to_owned();
    let length = head.headers()["content-length"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(head.headers()["content-type"], "image/png");
    let get = client().get(&url).send().await.unwrap();
    assert_eq!(get.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(get.headers()["content-length"].to_str().unwrap(), length);
    assert_eq!(get.bytes().await.unwrap().len().to_string(), length);

    let res = client()
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
    assert!(res.bytes().await.unwrap().is_empty());

    let m = scrape(&px).await;
    assert_eq!(metric(&m, "pixgate_renders_total", &[]), 1.0, "{m}");
    px.stop().await;
}

#[tokio::test]
async fn a_replaced_source_is_seen_and_failures_are_not_cached() {
    let s3 = S3Server::start().await;
    s3.create_bucket(UPSTREAM).await;
    let px = Pixgate::start(&format!(
        "{}[cache]\nsource_fresh_ms = 0\n",
        s3_config(&s3, true, SK, "")
    ))
    .await;
    let url = px.url("/photos/p.jpg?x-oss-process=image/info");

    // Missing: a 404, and it is not remembered.
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 404);
    s3.put(UPSTREAM, "p.jpg", corpus_file("photos/320x240.jpg"))
        .await;
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let first_etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let info: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(info["ImageWidth"]["value"], "320");

    // Overwritten upstream: revalidation finds the new version.
    s3.put(UPSTREAM, "p.jpg", corpus_file("photos/concert-400x267.jpg"))
        .await;
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), first_etag);
    let info: serde_json::Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(info["ImageWidth"]["value"], "400");
    px.stop().await;
}

#[tokio::test]
async fn revalidation_of_an_unchanged_source_reads_no_body() {
    // The local directory honours If-None-Match as S3 does.
    let px = Pixgate::start(&format!(
        "[cache]\nsource_fresh_ms = 0\n[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    for w in [40, 50, 60] {
        let res = client()
            .get(px.url(&format!(
                "/local/concert-400x267.jpg?x-oss-process=image/resize,w_{w}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(width_of(&res.bytes().await.unwrap()), w);
    }
    let m = scrape(&px).await;
    assert_eq!(
        metric(&m, "pixgate_upstream_fetches_total", &[]),
        1.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "pixgate_upstream_bytes_total", &[]),
        corpus_file("photos/concert-400x267.jpg").len() as f64
    );
    px.stop().await;
}

#[tokio::test]
async fn metrics_count_hits_misses_and_statuses() {
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let url = px.url("/local/320x240.jpg?x-oss-process=image/resize,w_64");
    for _ in 0..4 {
        assert_eq!(client().get(&url).send().await.unwrap().status(), 200);
    }
    let missing = client()
        .get(px.url("/local/nope.jpg?x-oss-process=image/resize,w_64"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let res = client().get(px.url("/metrics")).send().await.unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let m = res.text().await.unwrap();
    let result = |outcome| [("cache", "result"), ("outcome", outcome)];
    assert_eq!(
        metric(&m, "pixgate_cache_lookups_total", &result("hit")),
        3.0,
        "{m}"
    );
    assert_eq!(
        metric(&m, "pixgate_cache_lookups_total", &result("miss")),
        1.0
    );
    let image = |status| {
        [
            ("dialect", "oss"),
            ("operation", "image"),
            ("status", status),
        ]
    };
    assert_eq!(metric(&m, "pixgate_requests_total", &image("200")), 4.0);
    assert_eq!(metric(&m, "pixgate_requests_total", &image("404")), 1.0);
    assert_eq!(
        metric(
            &m,
            "pixgate_upstream_errors_total",
            &[("kind", "no_such_key")]
        ),
        1.0
    );
    assert_eq!(
        metric(&m, "pixgate_actions_total", &[("action", "resize")]),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "pixgate_request_duration_seconds_count",
            &[("operation", "image")]
        ),
        5.0
    );
    assert!(metric(&m, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(metric(&m, "pixgate_cache_bytes", &[("cache", "result")]) > 0.0);
    px.stop().await;
}

/// Every cache's eviction counter is exported from the start, at 0, so a
/// dashboard's rate() works before the first eviction.
#[tokio::test]
async fn eviction_counters_exist_before_any_eviction() {
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        crate::support::photos_dir()
    ))
    .await;
    let text = crate::support::scrape(&px).await;
    for cache in ["source", "result"] {
        let line = format!("pixgate_cache_evictions_total{{cache=\"{cache}\"}} 0");
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
    px.stop().await;
}
