//! Only `crates/api/src/dialect/` knows a cloud: the server, `ops` and
//! `codec` name no dialect (no type, header, parameter or comment), so that
//! adding a dialect is one folder plus one line in `DIALECTS`.

use std::path::{Path, PathBuf};

/// Words (or parts of words: `CosExif`, `oss_info`) that name a cloud.
const NAMES: &[&str] = &[
    "oss",
    "qingstor",
    "cos",
    "tencent",
    "qiniu",
    "alibaba",
    "aliyun",
    "huawei",
    "volcengine",
    "baidu",
];

/// Words that contain a name but are maths, not a cloud.
const MATHS: &[&str] = &["cos", "sin_cos", "acos", "cosh"];

/// Header and parameter prefixes of the clouds' wires.
const HEADERS: &[&str] = &[
    "x-oss-",
    "x-cos-",
    "x-qs-",
    "x-obs-",
    "x-tos-",
    "x-bce-",
    "x-image-process",
];

/// The dialect names in `text`, as `line: word`.
fn dialect_names(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let lower = line.to_ascii_lowercase();
        for prefix in HEADERS.iter().filter(|h| lower.contains(*h)) {
            found.push(format!("{}: {prefix}", n + 1));
        }
        for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if MATHS.contains(&word) {
                continue;
            }
            let named = |p: &str| NAMES.contains(&p.to_ascii_lowercase().as_str());
            if named(word) || pieces(word).into_iter().any(named) {
                found.push(format!("{}: {word}", n + 1));
            }
        }
    }
    found
}

/// `CosExif` -> `Cos`, `Exif`; `oss_info` -> `oss`, `info`; `OSS` -> `OSS`.
fn pieces(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for part in word.split('_').filter(|p| !p.is_empty()) {
        let bytes = part.as_bytes();
        let mut start = 0;
        for i in 1..bytes.len() {
            let lower_to_upper = bytes[i - 1].is_ascii_lowercase() && bytes[i].is_ascii_uppercase();
            // `HTTPServer`: the last capital starts the next word.
            let acronym_end = bytes[i - 1].is_ascii_uppercase()
                && bytes[i].is_ascii_uppercase()
                && bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            let digit = bytes[i - 1].is_ascii_digit() != bytes[i].is_ascii_digit();
            if lower_to_upper || acronym_end || digit {
                out.push(&part[start..i]);
                start = i;
            }
        }
        out.push(&part[start..]);
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_scanner_finds_names_and_spares_maths() {
    for named in [
        "Operation::OssImage { steps }",
        "headers.get(\"x-oss-process\")",
        "MetadataRequest::CosExif",
        "fn cos_limits(m: &Metadata)",
        "// QingStor answers JSON",
        "\"x-qs-request-id\"",
        "COS reads at most 30000 px",
        "Dialect::QingStor => json",
    ] {
        assert!(!dialect_names(named).is_empty(), "not caught: {named}");
    }
    for clean in [
        "let (sin, cos) = theta.sin_cos();",
        "sx += rad.cos();",
        "OpsError::TooCostly(cost)",
        "lossy WebP costs more; glossy",
        "let qs = Query::parse(raw);",
    ] {
        let hits = dialect_names(clean);
        assert!(hits.is_empty(), "{clean}: {hits:?}");
    }
}

#[test]
fn server_ops_and_codec_name_no_dialect() {
    let root = crate::support::crate_dir().join("../..");
    let mut files = Vec::new();
    for dir in ["crates/server/src", "crates/ops/src", "crates/codec/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "the scan found too few files: {files:?}");
    let mut report = Vec::new();
    for path in files {
        let relative = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for hit in dialect_names(&text) {
            report.push(format!("{relative}:{hit}"));
        }
    }
    assert!(
        report.is_empty(),
        "dialect names in the server, ops or codec (move the code into crates/api: its dialect's folder, or signature/):\n{}",
        report.join("\n")
    );
}
