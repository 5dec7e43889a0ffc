//! Table-driven HTTP vectors for every dialect, and the conformance table
//! written from them (`docs/conformance.md`).
//!
//! Each dialect's test module exports `pub const VECTORS: &[Vector]` and
//! runs them with [`run`] against a proxy from [`start`]; the table test
//! below lists every module's vectors. After changing vectors, rewrite the
//! table with `PIXGATE_BLESS=1 cargo test --test it conformance_table`.

use std::fmt::Write;

use crate::support::{Pixgate, client, corpus, corpus_file};

/// One URL and what a user of that cloud sees.
#[derive(Debug, Clone, Copy)]
pub struct Vector {
    /// The dialect as `docs/conformance.md` names it (`Tencent imageMogr2`).
    pub dialect: &'static str,
    /// The action or parameter form the vector covers (`thumbnail/!50p`).
    pub form: &'static str,
    /// Path and query, sent to a proxy from [`start`] (bucket `photos` as
    /// the default bucket: `/320x240.jpg?…`; `/formats/…` is the formats
    /// folder of the corpus through bucket `formats`, path style).
    pub url: &'static str,
    pub expect: Expect,
}

impl Vector {
    pub const fn image(
        dialect: &'static str,
        form: &'static str,
        url: &'static str,
        format: &'static str,
        w: u32,
        h: u32,
    ) -> Vector {
        let expect = Expect::Image { format, w, h };
        Vector {
            dialect,
            form,
            url,
            expect,
        }
    }

    pub const fn json(
        dialect: &'static str,
        form: &'static str,
        url: &'static str,
        field: &'static str,
        value: &'static str,
    ) -> Vector {
        let expect = Expect::Json { field, value };
        Vector {
            dialect,
            form,
            url,
            expect,
        }
    }

    pub const fn error(
        dialect: &'static str,
        form: &'static str,
        url: &'static str,
        status: u16,
        shape: &'static str,
        code: &'static str,
    ) -> Vector {
        let expect = Expect::Error {
            status,
            shape,
            code,
        };
        Vector {
            dialect,
            form,
            url,
            expect,
        }
    }

    pub const fn original(
        dialect: &'static str,
        form: &'static str,
        url: &'static str,
        file: &'static str,
    ) -> Vector {
        let expect = Expect::Original { file };
        Vector {
            dialect,
            form,
            url,
            expect,
        }
    }
}

/// What the answer must be.
#[derive(Debug, Clone, Copy)]
pub enum Expect {
    /// 200, an image of this format (by its magic bytes) and size.
    Image {
        format: &'static str,
        w: u32,
        h: u32,
    },
    /// The stored object's bytes, unchanged (e.g. `ignore-error/1`).
    Original { file: &'static str },
    /// 200 with a JSON body holding `field` = `value` (a metadata answer;
    /// `value` is compared with the JSON value's text, strings unquoted).
    Json {
        field: &'static str,
        value: &'static str,
    },
    /// An error: status, the body's content type (`xml` or `json`) and the
    /// error code in it (`""` for a dialect whose errors carry no code).
    Error {
        status: u16,
        shape: &'static str,
        code: &'static str,
    },
}

/// A proxy over the corpus: default bucket `photos` (`corpus/photos`) and
/// bucket `formats` (`corpus/formats`), both public.
pub async fn start(extra_bucket_toml: &str) -> Pixgate {
    let root = corpus().canonicalize().unwrap();
    let (photos, formats) = (root.join("photos"), root.join("formats"));
    Pixgate::start(&format!(
        "[server]\ndefault_bucket = \"photos\"\n\
         [[buckets]]\nname = \"photos\"\norigin = \"file://{}\"\n{extra_bucket_toml}\n\
         [[buckets]]\nname = \"formats\"\norigin = \"file://{}\"\n",
        photos.display(),
        formats.display()
    ))
    .await
}

/// Runs every vector and panics listing every one that failed.
pub async fn run(px: &Pixgate, vectors: &[Vector]) {
    let mut failures = Vec::new();
    for v in vectors {
        if let Err(e) = check(px, v).await {
            failures.push(format!("{} {} ({}): {e}", v.dialect, v.url, v.form));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

async fn check(px: &Pixgate, v: &Vector) -> Result<(), String> {
    let res = client()
        .get(px.url(v.url))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|c| c.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    let text = || String::from_utf8_lossy(&body).into_owned();
    match v.expect {
        Expect::Image { format, w, h } => {
            if status != 200 {
                return Err(format!("status {status}: {}", text()));
            }
            let got = magic(&body);
            if got != format {
                return Err(format!("format {got}, want {format}"));
            }
            let (gw, gh) = dimensions(&body)?;
            if (gw, gh) != (w, h) {
                return Err(format!("size {gw}x{gh}, want {w}x{h}"));
            }
        }
        Expect::Original { file } => {
            if status != 200 {
                return Err(format!("status {status}: {}", text()));
            }
            if body.as_ref() != corpus_file(file).as_slice() {
                return Err(format!("the body is not the stored {file}"));
            }
        }
        Expect::Json { field, value } => {
            if status != 200 {
                return Err(format!("status {status}: {}", text()));
            }
            let json: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| format!("{e}: {}", text()))?;
            let got = match json.pointer(&format!("/{}", field.replace('.', "/"))) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => return Err(format!("no field {field} in {}", text())),
            };
            if got != value {
                return Err(format!("{field} = {got}, want {value}"));
            }
        }
        Expect::Error {
            status: want,
            shape,
            code,
        } => {
            if status != want {
                return Err(format!("status {status}, want {want}: {}", text()));
            }
            if !content_type.contains(shape) {
                return Err(format!("content type {content_type}, want {shape}"));
            }
            let got = error_code(&text(), shape)?;
            if !code.is_empty() && got != code {
                return Err(format!("code {got}, want {code}: {}", text()));
            }
        }
    }
    Ok(())
}

/// The error code of an XML (`<Code>`) or JSON (`code`, else `Code`) error
/// body; a JSON body with only a message (`{"error": …}`) has code `""`.
fn error_code(body: &str, shape: &str) -> Result<String, String> {
    if shape == "xml" {
        return crate::support::xml_tag(body, "Code").ok_or_else(|| format!("no <Code> in {body}"));
    }
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {body}"))?;
    if json.get("error").is_none() && json.get("message").is_none() && json.get("Message").is_none()
    {
        return Err(format!("no message in {body}"));
    }
    Ok(match json.get("code").or_else(|| json.get("Code")) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    })
}

/// The format a body's first bytes name.
pub fn magic(b: &[u8]) -> &'static str {
    match b {
        [0xFF, 0xD8, 0xFF, ..] => "jpg",
        [0x89, b'P', b'N', b'G', ..] => "png",
        [b'G', b'I', b'F', b'8', ..] => "gif",
        [b'B', b'M', ..] => "bmp",
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => "webp",
        [b'I', b'I', 42, 0, ..] | [b'M', b'M', 0, 42, ..] => "tiff",
        [
            _,
            _,
            _,
            _,
            b'f',
            b't',
            b'y',
            b'p',
            b'a',
            b'v',
            b'i',
            b'f',
            ..,
        ] => "avif",
        [
            _,
            _,
            _,
            _,
            b'f',
            b't',
            b'y',
            b'p',
            b'h',
            b'e',
            b'i',
            b'c' | b'x',
            ..,
        ]
        | [
            _,
            _,
            _,
            _,
            b'f',
            b't',
            b'y',
            b'p',
            b'm',
            b'i',
            b'f',
            b'1',
            ..,
        ] => "heic",
        _ => "unknown",
    }
}

/// Width and height of an encoded image (formats the `image` crate reads;
/// AVIF and HEIC through their `ispe` box).
pub fn dimensions(b: &[u8]) -> Result<(u32, u32), String> {
    if matches!(magic(b), "avif" | "heic") {
        let at = b
            .windows(4)
            .position(|w| w == b"ispe")
            .ok_or("no ispe box")?;
        let n = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        return Ok((n(at + 8), n(at + 12)));
    }
    image::ImageReader::new(std::io::Cursor::new(b))
        .with_guessed_format()
        .map_err(|e| e.to_string())?
        .into_dimensions()
        .map_err(|e| e.to_string())
}

/// Every dialect's vectors, in the table's order.
fn all() -> Vec<&'static [Vector]> {
    vec![
        crate::oss_vectors::VECTORS,
        crate::qingstor_vectors::VECTORS,
        crate::tencent_vectors::VECTORS,
        crate::qiniu_vectors::VECTORS,
        crate::ci_watermark::VECTORS,
        crate::clone_vectors::VECTORS,
    ]
}

/// The conformance table as markdown.
fn table() -> String {
    let mut out = String::from(
        "# Conformance\n\n\
         Generated from the HTTP test vectors (`crates/server/tests/it/vectors.rs` and the\n\
         dialect modules beside it); every row is a request the test suite sends and the answer\n\
         it checks. Do not edit by hand: `PIXGATE_BLESS=1 cargo test --test it conformance_table`.\n",
    );
    let vectors: Vec<&Vector> = all().into_iter().flatten().collect();
    let mut dialects: Vec<&str> = Vec::new();
    for v in &vectors {
        if !dialects.contains(&v.dialect) {
            dialects.push(v.dialect);
        }
    }
    for d in dialects {
        let rows: Vec<&&Vector> = vectors.iter().filter(|v| v.dialect == d).collect();
        let _ = write!(
            out,
            "\n## {d} ({} vectors)\n\n| form | request | result |\n|---|---|---|\n",
            rows.len()
        );
        for v in rows {
            let result = match v.expect {
                Expect::Image { format, w, h } => format!("200, {format} {w}×{h}"),
                Expect::Original { .. } => "200, the original bytes".to_owned(),
                Expect::Json { field, value } => format!("200, JSON `{field}` = `{value}`"),
                Expect::Error {
                    status,
                    shape,
                    code: "",
                } => format!("{status}, {shape} error"),
                Expect::Error {
                    status,
                    shape,
                    code,
                } => format!("{status}, {shape} `{code}`"),
            };
            let _ = writeln!(
                out,
                "| {} | `{}` | {result} |",
                v.form.replace('|', "\\|"),
                v.url.replace('|', "\\|")
            );
        }
    }
    out
}

#[test]
fn conformance_table_is_current() {
    let path = crate::support::crate_dir().join("../../docs/conformance.md");
    let want = table();
    if std::env::var_os("PIXGATE_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/conformance.md is stale: run PIXGATE_BLESS=1 cargo test --test it conformance_table"
    );
}
