//! The command line as a user runs it: `process` (stdin/stdout, the output
//! format from the file name, styles from a configuration), `sign` (URLs a
//! running pixgate accepts), `health`, `serve` without a mode and
//! `check-config` with every problem at once. Every case runs the real
//! binary.

use std::path::Path;
use std::process::{Output, Stdio};

use tokio::io::AsyncWriteExt;

use crate::support::{Pixgate, client, corpus, dead_port, photos_dir, silent_server, xml_tag};

const BIN: &str = env!("CARGO_BIN_EXE_pixgate");

/// The binary, without `PIXGATE__…` variables the test runner may have.
fn pixgate(args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args).stdin(Stdio::null()).kill_on_drop(true);
    for (name, _) in std::env::vars() {
        if name.starts_with("PIXGATE__") {
            cmd.env_remove(name);
        }
    }
    cmd
}

async fn run(args: &[&str]) -> Output {
    pixgate(args).output().await.unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn photo(name: &str) -> String {
    corpus().join("photos").join(name).display().to_string()
}

fn format_of(bytes: &[u8]) -> image::ImageFormat {
    image::guess_format(bytes).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test]
async fn process_picks_the_output_format_from_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let src = photo("320x240.jpg");
    for (name, format) in [
        ("out.webp", image::ImageFormat::WebP),
        ("out.PNG", image::ImageFormat::Png),
        ("out.bmp", image::ImageFormat::Bmp),
        ("out.jpeg", image::ImageFormat::Jpeg),
    ] {
        let out = dir.path().join(name);
        let res = run(&["process", &src, "image/resize,w_100", path(&out)]).await;
        assert!(res.status.success(), "{name}: {}", stderr(&res));
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(format_of(&bytes), format, "{name}");
        assert_eq!(image::load_from_memory(&bytes).unwrap().width(), 100);
    }

    // The process string's own format wins, and the mismatch is said.
    let out = dir.path().join("named.webp");
    let res = run(&["process", &src, "image/resize,w_100/format,png", path(&out)]).await;
    assert!(res.status.success(), "{}", stderr(&res));
    assert_eq!(
        format_of(&std::fs::read(&out).unwrap()),
        image::ImageFormat::Png
    );
    assert!(
        stderr(&res).contains("the result is png"),
        "{}",
        stderr(&res)
    );
    // So do the output rules: OSS writes GIF only from a GIF source.
    let out = dir.path().join("still.gif");
    let res = run(&["process", &src, "image/resize,w_100", path(&out)]).await;
    assert!(res.status.success(), "{}", stderr(&res));
    assert_eq!(
        format_of(&std::fs::read(&out).unwrap()),
        image::ImageFormat::Jpeg
    );
    assert!(
        stderr(&res).contains("the result is jpg"),
        "{}",
        stderr(&res)
    );

    // An extension that names no format: refused, saying what to do.
    let out = dir.path().join("out.xyz");
    let res = run(&["process", &src, "image/resize,w_100", path(&out)]).await;
    assert_eq!(res.status.code(), Some(1));
    let msg = stderr(&res);
    assert!(msg.contains("out.xyz") && msg.contains("format,"), "{msg}");
    assert!(!out.exists());
    // …unless the string names one.
    let res = run(&[
        "process",
        &src,
        "image/resize,w_100/format,webp",
        path(&out),
    ])
    .await;
    assert!(res.status.success(), "{}", stderr(&res));
    assert_eq!(
        format_of(&std::fs::read(&out).unwrap()),
        image::ImageFormat::WebP
    );
    // info writes JSON whatever the name.
    let out = dir.path().join("info.json");
    let res = run(&["process", &src, "image/info", path(&out)]).await;
    assert!(res.status.success(), "{}", stderr(&res));
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(info["ImageWidth"]["value"], "320");
}

#[tokio::test]
async fn process_reads_stdin_and_writes_stdout() {
    let src = std::fs::read(photo("320x240.jpg")).unwrap();
    let mut child = pixgate(&["process", "-", "image/resize,w_80", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&src).await.unwrap();
    drop(stdin);
    let res = child.wait_with_output().await.unwrap();
    assert!(res.status.success(), "{}", stderr(&res));
    // `-` has no extension: the source's format.
    assert_eq!(format_of(&res.stdout), image::ImageFormat::Jpeg);
    assert_eq!(image::load_from_memory(&res.stdout).unwrap().width(), 80);

    // A file in, standard output out, format from the string.
    let res = run(&[
        "process",
        &photo("320x240.jpg"),
        "image/resize,w_60/format,webp",
        "-",
    ])
    .await;
    assert!(res.status.success(), "{}", stderr(&res));
    assert_eq!(format_of(&res.stdout), image::ImageFormat::WebP);
}

#[tokio::test]
async fn process_resolves_styles_from_a_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let photos = photos_dir();
    let two = dir.path().join("two.toml");
    std::fs::write(
        &two,
        format!(
            "[[buckets]]\nname = \"photos\"\norigin = \"file://{photos}\"\n\
             styles = {{ thumb = \"image/resize,m_fill,w_64,h_64\" }}\n\
             [[buckets]]\nname = \"other\"\norigin = \"file://{photos}\"\n\
             styles = {{ wide = \"image/resize,w_200,h_50,m_fixed\" }}\n"
        ),
    )
    .unwrap();
    let src = photo("320x240.jpg");
    let out = dir.path().join("thumb.png");
    let style = |cfg: &Path, bucket: Option<&str>, style: &str| {
        let mut args = vec!["process", "--config", path(cfg)]
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        if let Some(b) = bucket {
            args.extend(["--bucket".to_owned(), b.to_owned()]);
        }
        args.extend([src.clone(), style.to_owned(), path(&out).to_owned()]);
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args).await
        }
    };

    // Two buckets, no default: the bucket must be named.
    let res = style(&two, None, "style/thumb").await;
    assert_eq!(res.status.code(), Some(1));
    assert!(stderr(&res).contains("--bucket"), "{}", stderr(&res));
    let res = style(&two, Some("photos"), "style/thumb").await;
    assert!(res.status.success(), "{}", stderr(&res));
    let img = image::open(&out).unwrap();
    assert_eq!((img.width(), img.height()), (64, 64));
    assert_eq!(
        format_of(&std::fs::read(&out).unwrap()),
        image::ImageFormat::Png
    );
    let res = style(&two, Some("other"), "style/wide").await;
    assert!(res.status.success(), "{}", stderr(&res));
    assert_eq!(image::open(&out).unwrap().width(), 200);
    // A style the bucket lacks: its styles are listed.
    let res = style(&two, Some("other"), "style/thumb").await;
    assert_eq!(res.status.code(), Some(1));
    assert!(stderr(&res).contains("wide"), "{}", stderr(&res));
    let res = style(&two, Some("nope"), "style/thumb").await;
    assert!(stderr(&res).contains("photos, other"), "{}", stderr(&res));

    // One bucket (or a default bucket): no --bucket needed.
    let one = dir.path().join("one.toml");
    std::fs::write(
        &one,
        format!(
            "[[buckets]]\nname = \"photos\"\norigin = \"file://{photos}\"\n\
             styles = {{ thumb = \"image/resize,m_fill,w_32,h_32\" }}\n"
        ),
    )
    .unwrap();
    let res = style(&one, None, "style/thumb").await;
    assert!(res.status.success(), "{}", stderr(&res));
    assert_eq!(image::open(&out).unwrap().width(), 32);

    // Without a configuration: say where styles come from.
    let res = run(&["process", &src, "style/thumb", path(&out)]).await;
    assert_eq!(res.status.code(), Some(1));
    assert!(stderr(&res).contains("--config"), "{}", stderr(&res));
    // Neither `image/` nor `style/`: the message says exactly that.
    let res = run(&["process", &src, "resize,w_10", path(&out)]).await;
    assert_eq!(res.status.code(), Some(1));
    let msg = stderr(&res);
    assert!(
        msg.contains("neither 'image/'") && msg.contains("nor 'style/'"),
        "{msg}"
    );
}

const AK: &str = "AKCLISIGN";
const SK: &str = "cli/secret+key=";

/// A private bucket served by pixgate, and a configuration file for `sign`
/// that names the same keys and the server's address.
async fn private_pixgate(dir: &Path) -> (Pixgate, std::path::PathBuf) {
    let body = format!(
        "[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\nacl = \"private\"\n\
         styles = {{ thumb = \"image/resize,m_fill,w_40,h_40\" }}\n\
         [[keys]]\naccess_key_id = \"AKOTHER\"\nsecret_access_key = \"other\"\n\
         [[keys]]\naccess_key_id = \"{AK}\"\nsecret_access_key = \"{SK}\"\n",
        photos_dir()
    );
    let px = Pixgate::start(&body).await;
    let file = dir.join("sign.toml");
    std::fs::write(&file, format!("[server]\nlisten = \"{}\"\n{body}", px.addr)).unwrap();
    (px, file)
}

async fn status_and_code(url: &str) -> (u16, Option<String>, bytes::Bytes) {
    let res = client().get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.bytes().await.unwrap();
    let code = xml_tag(&String::from_utf8_lossy(&body), "Code");
    (status, code, body)
}

#[tokio::test]
async fn sign_prints_urls_a_running_pixgate_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let (px, file) = private_pixgate(dir.path()).await;
    let cfg = path(&file);
    let unsigned = px.url("/photos/320x240.jpg?x-oss-process=image/resize,w_100");
    assert_eq!(status_and_code(&unsigned).await.0, 403);

    for scheme in ["oss-v1", "oss-v4", "sigv4"] {
        let res = run(&[
            "sign",
            "--config",
            cfg,
            "--scheme",
            scheme,
            "--key-id",
            AK,
            "--expires",
            "600",
            "--process",
            "image/resize,w_100",
            "photos/320x240.jpg",
        ])
        .await;
        assert!(res.status.success(), "{scheme}: {}", stderr(&res));
        let url = stdout(&res).trim().to_owned();
        assert!(url.starts_with(&px.url("/photos/320x240.jpg?")), "{url}");
        let (status, _, body) = status_and_code(&url).await;
        assert_eq!(status, 200, "{scheme}: {url}");
        assert_eq!(image::load_from_memory(&body).unwrap().width(), 100);
        // Another width than the one signed: refused.
        let tampered = url.replace("w_100", "w_101");
        let (status, code, _) = status_and_code(&tampered).await;
        assert_eq!(status, 403, "{scheme}: {tampered}");
        assert_eq!(code.as_deref(), Some("SignatureDoesNotMatch"), "{scheme}");
    }

    // A full URL with its own query (a style), signed with the first key
    // by default: that key is not the server's… both are, so it passes.
    let res = run(&[
        "sign",
        "--config",
        cfg,
        "--scheme",
        "sigv4",
        &px.url("/photos/320x240.jpg?x-oss-process=style/thumb"),
    ])
    .await;
    assert!(res.status.success(), "{}", stderr(&res));
    let url = stdout(&res).trim().to_owned();
    assert!(url.contains("AKOTHER"), "{url}");
    let (status, _, body) = status_and_code(&url).await;
    assert_eq!(status, 200, "{url}");
    assert_eq!(image::load_from_memory(&body).unwrap().width(), 40);

    // Mistakes are sentences, not panics.
    for (args, needle) in [
        (vec!["--key-id", "AKNOPE", "photos/a.jpg"], "AKNOPE"),
        (vec!["nobucket/a.jpg"], "nobucket"),
        (
            vec!["--scheme", "sigv4", "--expires", "999999", "photos/a.jpg"],
            "604800",
        ),
        (vec!["photos"], "BUCKET/KEY"),
    ] {
        let mut all = vec!["sign", "--config", cfg];
        all.extend(args);
        let res = run(&all).await;
        assert_eq!(res.status.code(), Some(1), "{all:?}");
        assert!(stderr(&res).contains(needle), "{all:?}: {}", stderr(&res));
    }
    px.stop().await;

    // A configuration without [[keys]] cannot sign.
    let bare = dir.path().join("bare.toml");
    std::fs::write(
        &bare,
        format!(
            "[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n",
            photos_dir()
        ),
    )
    .unwrap();
    let res = run(&["sign", "--config", path(&bare), "photos/a.jpg"]).await;
    assert_eq!(res.status.code(), Some(1));
    assert!(stderr(&res).contains("[[keys]]"), "{}", stderr(&res));
}

#[tokio::test]
async fn health_exits_zero_on_2xx_and_says_why_otherwise() {
    let px = Pixgate::start(&format!(
        "[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n",
        photos_dir()
    ))
    .await;
    let res = run(&["health", &px.url("/healthz")]).await;
    assert!(res.status.success(), "{}", stderr(&res));
    assert!(stdout(&res).contains("200"), "{}", stdout(&res));

    let res = run(&["health", &px.url("/photos/missing.jpg")]).await;
    assert_eq!(res.status.code(), Some(1));
    assert!(stderr(&res).contains("404"), "{}", stderr(&res));
    px.stop().await;

    let port = dead_port().await;
    let res = run(&["health", &format!("http://127.0.0.1:{port}/healthz")]).await;
    assert_eq!(res.status.code(), Some(1));
    assert!(stderr(&res).contains("cannot connect"), "{}", stderr(&res));

    // A server that never answers: bounded by --timeout.
    let (addr, _silent) = silent_server().await;
    let started = std::time::Instant::now();
    let res = run(&[
        "health",
        "--timeout",
        "1",
        &format!("http://{addr}/healthz"),
    ])
    .await;
    assert_eq!(res.status.code(), Some(1));
    assert!(
        stderr(&res).contains("no answer within 1 s"),
        "{}",
        stderr(&res)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let res = run(&["health", "https://127.0.0.1/healthz"]).await;
    assert_eq!(res.status.code(), Some(1));
    assert_eq!(stderr(&res).lines().count(), 1, "{}", stderr(&res));
}

#[tokio::test]
async fn serve_without_a_mode_names_both() {
    let res = run(&["serve"]).await;
    assert_eq!(res.status.code(), Some(2));
    let msg = stderr(&res);
    assert!(
        msg.contains("--root DIR") && msg.contains("--config FILE"),
        "{msg}"
    );
    let res = run(&["serve", "--help"]).await;
    assert!(res.status.success());
    let help = stdout(&res);
    assert!(
        help.contains("--root") && help.contains("--config"),
        "{help}"
    );
    assert!(help.contains("PIXGATE__"), "{help}");
}

#[tokio::test]
async fn check_config_reports_every_problem_with_its_line_or_variable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[server]\n\
         listen = \"nope\"\n\
         shutdown_timeout_ms = 0\n\
         \n\
         [[buckets]]\n\
         name = \"Photos\"\n\
         origin = \"s3://p\"\n\
         acl = \"everyone\"\n\
         typo = 1\n\
         \n\
         [[buckets]]\n\
         origin = \"ftp://x\"\n",
    )
    .unwrap();
    let f = path(&file);
    let expected = [
        format!("{f}:2: `server.listen`"),
        format!("{f}:3: `server.shutdown_timeout_ms`"),
        format!("{f}:6: `buckets[0].name`"),
        format!("{f}:8: `buckets[0].acl`"),
        format!("{f}:9: `buckets[0].typo`"),
        format!("{f}:11: `buckets[1].name`"),
        format!("{f}:12: `buckets[1].origin`"),
        "PIXGATE__CACHE__RESULT_BYTES: `cache.result_bytes`".to_owned(),
    ];
    for command in [vec!["check-config", f], vec!["serve", "--config", f]] {
        let res = pixgate(&command)
            .env("PIXGATE__CACHE__RESULT_BYTES", "lots")
            .output()
            .await
            .unwrap();
        assert_eq!(res.status.code(), Some(2), "{command:?}");
        let msg = stderr(&res);
        let lines: Vec<&str> = msg.lines().collect();
        for (line, want) in lines.iter().zip(&expected) {
            assert!(
                line.starts_with(want.as_str()),
                "{command:?}: {line:?} is not {want:?}\n{msg}"
            );
        }
        assert_eq!(lines.len(), expected.len() + 1, "{msg}");
        assert!(lines[expected.len()].contains("8 problems"), "{msg}");
        // Library types never print in debug form.
        assert!(!msg.contains("Error {") && !msg.contains("::"), "{msg}");
    }

    // A clean file passes, with the environment's overrides checked too.
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        format!(
            "[[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n",
            photos_dir()
        ),
    )
    .unwrap();
    let res = run(&["check-config", path(&good)]).await;
    assert!(res.status.success(), "{}", stderr(&res));
    // A configuration from the environment alone.
    let res = pixgate(&["check-config", "/dev/null"])
        .env("PIXGATE__BUCKETS__0__NAME", "photos")
        .env(
            "PIXGATE__BUCKETS__0__ORIGIN",
            format!("file://{}", photos_dir()),
        )
        .output()
        .await
        .unwrap();
    assert!(res.status.success(), "{}", stderr(&res));
    let res = pixgate(&["check-config", path(&good)])
        .env("PIXGATE__SERVER__ADMIN_LISTEN", "0.0.0.0:8080")
        .env("PIXGATE__SERVER__LISTEN", "0.0.0.0:8080")
        .output()
        .await
        .unwrap();
    assert_eq!(res.status.code(), Some(2));
    assert!(
        stderr(&res).starts_with("PIXGATE__SERVER__ADMIN_LISTEN: `server.admin_listen`"),
        "{}",
        stderr(&res)
    );
}
