//! What clients see when the upstream fails: refused credentials, a stopped
//! server, a silent one, a missing bucket. Never a credential or an upstream
//! address in the answer.

use pixgate::config::Config;
use reqwest::StatusCode;

use crate::s3_originals::s3_config;
use crate::support::{
    AK, Pixgate, REGION, S3Server, SK, client, corpus_file, dead_port, silent_server, xml_tag,
};

/// Status and `<Code>` of a GET, after checking the body leaks nothing.
async fn get_code(url: &str, upstream_port: u16) -> (StatusCode, String) {
    let res = client().get(url).send().await.unwrap();
    let status = res.status();
    assert_eq!(res.headers()["content-type"], "application/xml");
    let body = res.text().await.unwrap();
    for secret in [
        SK,
        "X-Amz-Signature",
        "AWS4-HMAC-SHA256",
        &upstream_port.to_string(),
    ] {
        assert!(
            !body.contains(secret),
            "error body leaks {secret:?}: {body}"
        );
    }
    (status, xml_tag(&body, "Code").unwrap_or_default())
}

fn config_at(port: u16, extra: &str) -> String {
    format!(
        "[upstream]\n{extra}\n[[buckets]]\nname = \"photos\"\norigin = \"s3://b\"\nendpoint = \"http://127.0.0.1:{port}\"\nregion = \"{REGION}\"\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\n"
    )
}

#[tokio::test]
async fn a_wrong_secret_is_access_denied() {
    let s3 = S3Server::start().await;
    s3.create_bucket("upstream-photos").await;
    s3.put(
        "upstream-photos",
        "a.jpg",
        corpus_file("photos/320x240.jpg"),
    )
    .await;
    let px = Pixgate::start(&s3_config(&s3, true, "not-the-secret", "")).await;
    let (status, code) = get_code(&px.url("/photos/a.jpg"), s3.addr.port()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "AccessDenied")
    );
    px.stop().await;
}

#[tokio::test]
async fn a_missing_upstream_bucket_is_404_and_not_ready() {
    let s3 = S3Server::start().await;
    let px = Pixgate::start(&s3_config(&s3, true, SK, "")).await;
    // s3s-fs answers NoSuchKey where AWS says NoSuchBucket; either is a 404
    // (the Code mapping itself is unit-tested in the origin crate).
    let (status, code) = get_code(&px.url("/photos/a.jpg"), s3.addr.port()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(code == "NoSuchBucket" || code == "NoSuchKey", "{code}");
    // Readiness reports it too.
    let res = client().get(px.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.text().await.unwrap().contains("bucket photos"));
    px.stop().await;
}

#[tokio::test]
async fn a_stopped_upstream_is_502() {
    let port = dead_port().await;
    let px = Pixgate::start(&config_at(port, "")).await;
    let (status, code) = get_code(&px.url("/photos/a.jpg"), port).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_GATEWAY, "UpstreamUnreachable")
    );
    let res = client().get(px.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    // Liveness does not depend on upstreams.
    let res = client().get(px.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    px.stop().await;
}

#[tokio::test]
async fn a_silent_upstream_is_504() {
    let (addr, _server) = silent_server().await;
    let px = Pixgate::start(&config_at(addr.port(), "read_timeout_ms = 300")).await;
    let (status, code) = get_code(&px.url("/photos/a.jpg"), addr.port()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::GATEWAY_TIMEOUT, "UpstreamTimeout")
    );
    px.stop().await;
}

#[tokio::test]
async fn ready_when_the_upstream_answers() {
    let s3 = S3Server::start().await;
    s3.create_bucket("upstream-photos").await;
    let px = Pixgate::start(&s3_config(&s3, true, SK, "")).await;
    let res = client().get(px.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ready\n");
    px.stop().await;
}

#[tokio::test]
async fn credentials_come_from_aws_environment_variables() {
    let s3 = S3Server::start().await;
    s3.create_bucket("bkt").await;
    s3.put("bkt", "a.jpg", corpus_file("photos/320x240.jpg"))
        .await;
    let toml = format!(
        "[[buckets]]\nname = \"photos\"\norigin = \"s3://bkt\"\nendpoint = \"{}\"\n",
        s3.endpoint()
    );
    let mut config = Config::from_toml(&toml, Vec::new()).unwrap();
    config.server.listen = "127.0.0.1:0".parse().unwrap();

    let env = |name: &str| match name {
        "AWS_ACCESS_KEY_ID" => Some(AK.to_owned()),
        "AWS_SECRET_ACCESS_KEY" => Some(SK.to_owned()),
        _ => None,
    };
    let px = Pixgate::start_with_env(config.clone(), env).await;
    let res = client().get(px.url("/photos/a.jpg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    px.stop().await;

    // No credentials anywhere: requests go unsigned and this S3 refuses them.
    let px = Pixgate::start_with_env(config, |_| None).await;
    let (status, code) = get_code(&px.url("/photos/a.jpg"), s3.addr.port()).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "AccessDenied")
    );
    px.stop().await;
}
