//! Real parts for the integration tests: an S3 server (s3s + s3s-fs, real
//! SigV4 verification) and pixgate itself, both on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use pixgate::config::Config;
use pixgate::server::Server;
use pixgate_origin::S3Credentials;
use pixgate_origin::sigv4::sign_headers_with;
use s3s::S3Result;
use s3s::auth::SimpleAuth;
use s3s::host::{S3Host, SingleDomain, VirtualHost};
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const AK: &str = "AKPIXGATETEST";
pub const SK: &str = "secret/key+for=tests";
pub const REGION: &str = "us-east-1";
/// The S3 server's virtual-host base domain; resolved by config, not DNS.
pub const S3_DOMAIN: &str = "s3.pixgate.test";

/// This crate's directory, found at run time (a target dir may be shared
/// between checkouts at different paths); outside cargo, where it was built.
pub fn crate_dir() -> PathBuf {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR");
    PathBuf::from(dir.unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()))
}

/// `../shared/corpus`, or `$PIXGATE_CORPUS`. Never copied into the repo.
pub fn corpus() -> PathBuf {
    let dir = std::env::var_os("PIXGATE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../../../shared/corpus"));
    assert!(
        dir.join("photos").is_dir(),
        "the shared corpus is missing at {} (set PIXGATE_CORPUS)",
        dir.display()
    );
    dir
}

pub fn corpus_file(rel: &str) -> Vec<u8> {
    std::fs::read(corpus().join(rel)).expect("corpus file")
}

/// s3s matches the whole Host header, port included; strip the port, and
/// treat hosts outside the domain (127.0.0.1) as path style.
struct LoopbackHost(SingleDomain);

impl S3Host for LoopbackHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let bare = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
        if bare == S3_DOMAIN || bare.ends_with(&format!(".{S3_DOMAIN}")) {
            self.0.parse_host_header(bare)
        } else {
            Ok(VirtualHost::new(bare))
        }
    }
}

/// A running S3 server; dropped, it stops accepting.
pub struct S3Server {
    pub addr: SocketAddr,
    /// Object GETs answered so far (a counting upstream).
    pub object_gets: Arc<AtomicUsize>,
    _root: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl S3Server {
    pub async fn start() -> S3Server {
        let root = tempfile::tempdir().unwrap();
        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(AK, SK));
        builder.set_host(LoopbackHost(SingleDomain::new(S3_DOMAIN).unwrap()));
        let service = builder.build();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stopped) = oneshot::channel::<()>();
        let object_gets = Arc::new(AtomicUsize::new(0));
        let counter = object_gets.clone();
        let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
            // `/bucket/key`: two non-empty segments.
            let is_object = req.uri().path().trim_matches('/').contains('/');
            if req.method() == http::Method::GET && is_object {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            Service::call(&service, req)
        });
        tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let (socket, _) = tokio::select! {
                    a = listener.accept() => a.unwrap(),
                    _ = &mut stopped => break,
                };
                socket.set_nodelay(true).unwrap();
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(conn);
            }
        });
        S3Server {
            addr,
            object_gets,
            _root: root,
            _stop: stop,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// A request signed with the server's key, sent straight to S3; it
    /// must succeed.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let res = self.request(method, path, body).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res
    }

    /// A request signed with the server's key, sent straight to S3,
    /// whatever its answer.
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let url = format!("{}{}", self.endpoint(), path);
        let creds = S3Credentials {
            access_key_id: AK.into(),
            secret_access_key: SK.into(),
            session_token: None,
        };
        let headers = sign_headers_with(method.as_str(), &url, &body, &creds, REGION).unwrap();
        let mut req = reqwest::Client::new().request(method, &url).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        if path.ends_with(".jpg") {
            req = req.header("content-type", "image/jpeg");
        }
        req.send().await.unwrap()
    }

    /// CreateBucket through the S3 API.
    pub async fn create_bucket(&self, bucket: &str) {
        self.send(reqwest::Method::PUT, &format!("/{bucket}"), Vec::new())
            .await;
    }

    /// GetObject straight from S3: what pixgate must pass through.
    pub async fn get(&self, bucket: &str, key: &str) -> reqwest::Response {
        let path = format!("/{bucket}/{}", pixgate_origin::encode_path(key));
        self.send(reqwest::Method::GET, &path, Vec::new()).await
    }

    /// PutObject through the S3 API, signed like any SDK would.
    pub async fn put(&self, bucket: &str, key: &str, body: Vec<u8>) {
        let path = format!("/{bucket}/{}", pixgate_origin::encode_path(key));
        self.send(reqwest::Method::PUT, &path, body).await;
    }
}

/// pixgate served in-process on an ephemeral port.
pub struct Pixgate {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Pixgate {
    pub async fn start(toml: &str) -> Pixgate {
        let mut config = Config::from_toml(toml, Vec::new()).expect("valid test config");
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        Pixgate::start_config(config).await
    }

    pub async fn start_config(config: Config) -> Pixgate {
        Pixgate::start_with_env(config, |_| None).await
    }

    /// Starts with `env` standing in for the process environment (`AWS_*`).
    pub async fn start_with_env(config: Config, env: impl Fn(&str) -> Option<String>) -> Pixgate {
        let server = Server::bind_with_env(&config, env)
            .await
            .expect("pixgate binds");
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Pixgate {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap();
        }
    }
}

/// The `/metrics` text of the server at `addr`.
pub async fn scrape_at(addr: SocketAddr) -> String {
    let res = client()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// The `/metrics` text of `px`.
pub async fn scrape(px: &Pixgate) -> String {
    scrape_at(px.addr).await
}

/// The value of a sample in a Prometheus text exposition, e.g.
/// `metric(text, "pixgate_renders_total", &[])`; 0 when absent.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            let (n, rest) = series.split_once('{').unwrap_or((series, ""));
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|(_, value)| value.parse::<f64>().unwrap())
        .sum()
}

/// Keep-alive client; every test talks real HTTP to pixgate.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A client that reaches `host` (any port) at `addr`, for virtual-host names.
pub fn client_resolving(host: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .resolve(host, addr)
        .build()
        .unwrap()
}

/// A port nothing listens on (bound, then released).
pub async fn dead_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// An "upstream" that accepts connections and never answers.
pub async fn silent_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let held = Arc::new(tokio::sync::Mutex::new(Vec::new()));
        while let Ok((s, _)) = l.accept().await {
            held.lock().await.push(s);
        }
    });
    (addr, task)
}

/// An "upstream" that answers every request with the headers of a 100 kB
/// JPEG and then never sends the body.
pub async fn stalling_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let held = Arc::new(tokio::sync::Mutex::new(Vec::new()));
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\nETag: \"stall\"\r\n\r\n",
                )
                .await;
            held.lock().await.push(s);
        }
    });
    (addr, task)
}

/// `../shared/corpus/photos`, absolute, for `file://` origins.
pub fn photos_dir() -> String {
    corpus()
        .join("photos")
        .canonicalize()
        .unwrap()
        .display()
        .to_string()
}

/// pixgate with a single admission (one worker, no prefetch, no queue), a
/// bucket `local` of the corpus photos and a bucket `slow` whose upstream
/// sends headers and never a body (read timeout 4 s). Keep the handle: it
/// is the upstream.
pub async fn one_admission_proxy() -> (Pixgate, tokio::task::JoinHandle<()>) {
    let (stalling, upstream) = stalling_server().await;
    let px = Pixgate::start(&format!(
        "[admission]\nmax_concurrent = 1\nprefetch = 0\nmax_queued = 0\n[upstream]\nread_timeout_ms = 4000\n\
         [[buckets]]\nname = \"slow\"\norigin = \"s3://b\"\nendpoint = \"http://{stalling}\"\n\
         [[buckets]]\nname = \"local\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    (px, upstream)
}

/// Takes the only admission of [`one_admission_proxy`] with a request that
/// reads a body that never comes; resolves to its status once the read
/// times out.
pub async fn hold_the_admission(px: &Pixgate) -> tokio::task::JoinHandle<u16> {
    let held = tokio::spawn({
        let url = px.url("/slow/a.jpg?x-oss-process=image/resize,w_10");
        async move { client().get(url).send().await.unwrap().status().as_u16() }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    held
}

/// The text of `<tag>` in an XML error body.
pub fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = body[start..].find(&format!("</{tag}>"))? + start;
    Some(body[start..end].to_owned())
}

/// A raw HTTP/1.1 GET with the path sent byte for byte (URL libraries resolve
/// `%2e%2e` and `..` before sending, which would hide traversal attempts).
/// Returns the status, the lower-cased headers and the body.
pub async fn raw_get(addr: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

/// Runs `tests/it/<script>` (an SDK driver) with `args` and returns the JSON
/// it prints. `needs` names the Python packages, for the failure message.
pub async fn sdk_script(script: &str, args: &[&str], needs: &str) -> serde_json::Value {
    let path = crate_dir().join("tests/it").join(script);
    let out = tokio::process::Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("python3 with {needs} (scripts/install-deps): {e}"));
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}
