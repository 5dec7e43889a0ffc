//! What an operator configures around the images: the admin listener,
//! `Cache-Control` per bucket for originals and processed results, and the
//! download overrides (`response-*`) on signed requests.

use crate::support::{Pixgate, client, dead_port, metric, photos_dir};

const KEY: &str = "concert-400x267.jpg";
const AK: &str = "LTAIoperatorsTest";
const SK: &str = "operators/secret+key";

#[tokio::test]
async fn an_admin_listener_takes_metrics_and_readiness_off_the_public_port() {
    let admin = format!("127.0.0.1:{}", dead_port().await);
    let px = Pixgate::start(&format!(
        "[server]\nadmin_listen = \"{admin}\"\ndefault_bucket = \"photos\"\n\
         [[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let http = client();
    // The public port: liveness stays, the rest are ordinary (missing) keys.
    let res = http.get(px.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    for path in ["/metrics", "/readyz"] {
        let res = http.get(px.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path} on the public port");
        let body = res.text().await.unwrap();
        assert!(!body.contains("pixgate_requests"), "{path}: {body}");
        assert!(!body.contains("ready"), "{path}: {body}");
    }
    assert_eq!(
        http.get(px.url(&format!("/{KEY}")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The admin port: the probes and metrics, nothing else.
    let res = http
        .get(format!("http://{admin}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("pixgate_requests_total"));
    // The standard process series, the build, and zero-valued series of
    // every known label set before anything happened.
    assert!(metric(&text, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(metric(&text, "process_open_fds", &[]) >= 3.0);
    assert!(metric(&text, "process_max_fds", &[]) >= metric(&text, "process_open_fds", &[]));
    assert!(metric(&text, "process_start_time_seconds", &[]) > 1.7e9);
    assert!(text.contains("\nprocess_cpu_seconds_total "), "{text}");
    assert_eq!(
        metric(
            &text,
            "pixgate_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    for (name, labels) in [
        ("pixgate_upstream_errors_total", ("kind", "timeout")),
        ("pixgate_connections_closed_total", ("reason", "refused")),
        ("pixgate_cache_lookups_total", ("outcome", "miss")),
        ("pixgate_cache_evictions_total", ("cache", "result")),
    ] {
        let series = format!("{name}{{");
        let line = text
            .lines()
            .find(|l| {
                l.starts_with(&series) && l.contains(&format!("{}=\"{}\"", labels.0, labels.1))
            })
            .unwrap_or_else(|| panic!("{name} {labels:?} absent at start:\n{text}"));
        assert!(line.ends_with(" 0"), "{line}");
    }
    let res = http
        .get(format!("http://{admin}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (res.status().as_u16(), res.text().await.unwrap()),
        (200, "ready\n".to_owned())
    );
    let res = http
        .get(format!("http://{admin}/{KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "no object is served on the admin port");
    px.stop().await;
}

#[tokio::test]
async fn cache_control_is_set_per_bucket_for_originals_and_results() {
    let photos = photos_dir();
    let px = Pixgate::start(&format!(
        "[server]\ncache_control = \"public, max-age=600\"\n\
         [[buckets]]\nname = \"tuned\"\norigin = \"file://{photos}\"\n\
         cache_control = \"public, max-age=86400, immutable\"\n\
         original_cache_control = \"public, max-age=60\"\n\
         [[buckets]]\nname = \"plain\"\norigin = \"file://{photos}\"\n"
    ))
    .await;
    let http = client();
    let cc = |res: &reqwest::Response| {
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let process = "?x-oss-process=image/resize,w_100";
    let res = http
        .get(px.url(&format!("/tuned/{KEY}{process}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        cc(&res).as_deref(),
        Some("public, max-age=86400, immutable")
    );
    let res = http
        .get(px.url(&format!("/tuned/{KEY}")))
        .send()
        .await
        .unwrap();
    assert_eq!(cc(&res).as_deref(), Some("public, max-age=60"));
    // The other bucket: the server's value for results; originals from a
    // directory carry none (an S3 object's own would pass through).
    let res = http
        .get(px.url(&format!("/plain/{KEY}{process}")))
        .send()
        .await
        .unwrap();
    assert_eq!(cc(&res).as_deref(), Some("public, max-age=600"));
    let res = http
        .get(px.url(&format!("/plain/{KEY}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(cc(&res), None);
    px.stop().await;
}

/// A presigned URL from boto3 carrying the `response-*` overrides, as a
/// download link names its file.
fn presign(endpoint: &str, bucket: &str, key: &str, extra: &str) -> String {
    let script = format!(
        "import boto3, botocore\n\
         s3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='{AK}',\n\
             aws_secret_access_key='{SK}', region_name='us-east-1',\n\
             config=botocore.config.Config(signature_version='s3v4', s3={{'addressing_style': 'path'}}))\n\
         print(s3.generate_presigned_url('get_object', Params=dict(Bucket='{bucket}', Key='{key}', {extra}), ExpiresIn=600))\n"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3 with boto3 (scripts/install-deps)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn signed_downloads_honour_the_response_overrides() {
    let photos = photos_dir();
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"private\"\norigin = \"file://{photos}\"\nacl = \"private\"\n\
         [[buckets]]\nname = \"public\"\norigin = \"file://{photos}\"\n\
         [[keys]]\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\n"
    ))
    .await;
    let endpoint = format!("http://{}", px.addr);
    let url = presign(
        &endpoint,
        "private",
        KEY,
        "ResponseContentDisposition='attachment; filename=\"concert.jpg\"', \
         ResponseContentType='application/octet-stream', ResponseCacheControl='no-cache', \
         ResponseExpires='Wed, 01 Dec 2094 16:00:00 GMT'",
    );
    let res = client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    let h = res.headers().clone();
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"concert.jpg\""
    );
    assert_eq!(h["content-type"], "application/octet-stream");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["expires"], "Wed, 01 Dec 2094 16:00:00 GMT");
    let body = res.bytes().await.unwrap();
    assert_eq!(
        body.as_ref(),
        std::fs::read(format!("{photos}/{KEY}")).unwrap()
    );

    // An anonymous request cannot rewrite the headers a CDN would keep.
    let res = client()
        .get(px.url(&format!(
            "/public/{KEY}?response-content-disposition=attachment&response-content-type=text/html"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert!(!res.headers().contains_key("content-disposition"));
    px.stop().await;
}
