//! `docs/configuration.md` against the configuration structs: every key the
//! code accepts is documented, every documented key is accepted, and the
//! documented defaults are the code's. The accepted keys are read from the
//! code itself: an unknown key is refused with the list of expected ones.

use std::collections::BTreeSet;

use pixgate::config::Config;

const BUCKET: &str = "[[buckets]]\nname = \"docs\"\norigin = \"file:///tmp\"\n";

/// `(key, default)` rows of the reference's tables.
fn documented() -> Vec<(String, String)> {
    let path = crate::support::crate_dir().join("../../docs/configuration.md");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            let key = cells.first()?.strip_prefix("| `")?.strip_suffix('`')?;
            // Only configuration keys (section.key), not environment variables.
            key.contains('.').then(|| {
                (
                    key.to_owned(),
                    cells.get(1).unwrap_or(&"").trim().to_owned(),
                )
            })
        })
        .collect()
}

/// The fields serde expects where `toml` puts an unknown key.
fn expected_fields(toml: &str) -> Vec<String> {
    let e = Config::from_toml(toml, Vec::new()).expect_err("the probe key must be refused");
    let list = e
        .message
        .split_once("expected one of ")
        .map(|(_, l)| l)
        .or_else(|| e.message.split_once("expected ").map(|(_, l)| l))
        .unwrap_or_else(|| panic!("no field list in: {}", e.message));
    // "`a`, `b` or `c`", then the location on the next line.
    list.lines()
        .next()
        .unwrap_or_default()
        .split(", ")
        .flat_map(|p| p.split(" or "))
        .map(|f| f.trim_matches(|c| c == '`' || c == ' ').to_owned())
        .collect()
}

fn accepted() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for section in expected_fields(&format!("probe_ = 1\n{BUCKET}")) {
        match section.as_str() {
            "buckets" => {
                let probe = format!("{BUCKET}probe_ = 1\n");
                for field in expected_fields(&probe) {
                    if field == "protect" {
                        let probe = format!("{BUCKET}protect = {{ probe_ = 1 }}\n");
                        for sub in expected_fields(&probe) {
                            keys.insert(format!("buckets[].protect.{sub}"));
                        }
                    } else {
                        keys.insert(format!("buckets[].{field}"));
                    }
                }
            }
            "keys" => {
                let probe = format!(
                    "{BUCKET}[[keys]]\naccess_key_id = \"a\"\nsecret_access_key = \"b\"\nprobe_ = 1\n"
                );
                for field in expected_fields(&probe) {
                    keys.insert(format!("keys[].{field}"));
                }
            }
            table => {
                for field in expected_fields(&format!("[{table}]\nprobe_ = 1\n{BUCKET}")) {
                    keys.insert(format!("{table}.{field}"));
                }
            }
        }
    }
    keys
}

#[test]
fn every_key_in_the_code_is_documented_and_back() {
    let documented: BTreeSet<String> = documented().into_iter().map(|(k, _)| k).collect();
    let accepted = accepted();
    let missing: Vec<_> = accepted.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&accepted).collect();
    assert!(missing.is_empty(), "keys the docs do not list: {missing:?}");
    assert!(
        unknown.is_empty(),
        "documented keys the code refuses: {unknown:?}"
    );
    assert!(accepted.len() > 30, "{accepted:?}");
}

#[test]
fn the_documented_defaults_are_the_codes() {
    // A file that spells out every documented default of the global sections
    // must configure exactly what an empty file does.
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for (key, default) in documented() {
        if key.starts_with("buckets") || key.starts_with("keys") || default == "unset" {
            continue;
        }
        let (table, field) = key.split_once('.').unwrap();
        let value = default.trim_matches('`');
        match sections.iter_mut().find(|(t, _)| t == table) {
            Some((_, lines)) => lines.push(format!("{field} = {value}")),
            None => sections.push((table.to_owned(), vec![format!("{field} = {value}")])),
        }
    }
    let mut toml = String::new();
    for (table, lines) in &sections {
        toml.push_str(&format!("[{table}]\n{}\n", lines.join("\n")));
    }
    toml.push_str(BUCKET);
    let spelled = Config::from_toml(&toml, Vec::new()).unwrap_or_else(|e| panic!("{e:?}\n{toml}"));
    let implied = Config::from_toml(BUCKET, Vec::new()).unwrap();
    assert_eq!(
        format!("{:?}", spelled.server),
        format!("{:?}", implied.server)
    );
    assert_eq!(
        spelled.upstream.read_timeout_ms,
        implied.upstream.read_timeout_ms
    );
    assert_eq!(
        spelled.upstream.connect_timeout_ms,
        implied.upstream.connect_timeout_ms
    );
    assert_eq!(
        spelled.upstream.pool_max_idle_per_host,
        implied.upstream.pool_max_idle_per_host
    );
    assert_eq!(spelled.admission, implied.admission);
    assert_eq!(spelled.cache, implied.cache);
    assert_eq!(spelled.watermark, implied.watermark);
    assert_eq!(spelled.limits, implied.limits);

    // Per bucket: the documented defaults are what a bare bucket gets.
    let mut bucket = String::from(BUCKET);
    let mut protect = Vec::new();
    for (key, default) in documented() {
        let Some(field) = key.strip_prefix("buckets[].") else {
            continue;
        };
        if default == "unset" || default == "required" {
            continue;
        }
        let value = default.trim_matches('`');
        match field.strip_prefix("protect.") {
            Some(sub) => protect.push(format!("{sub} = {value}")),
            None => bucket.push_str(&format!("{field} = {value}\n")),
        }
    }
    bucket.push_str(&format!("protect = {{ {} }}\n", protect.join(", ")));
    let spelled =
        Config::from_toml(&bucket, Vec::new()).unwrap_or_else(|e| panic!("{e:?}\n{bucket}"));
    let (a, b) = (&spelled.buckets[0], &implied.buckets[0]);
    assert_eq!(a.region, b.region);
    assert_eq!(a.path_style, b.path_style);
    assert_eq!(a.acl, b.acl);
    assert_eq!(a.auto_orient, b.auto_orient);
    assert_eq!(a.separators, b.separators);
    assert_eq!(a.protect, b.protect);
    assert_eq!(a.styles, b.styles);
}
