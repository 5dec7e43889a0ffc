//! `PIXGATE__SECTION__KEY=value` overrides, applied to the parsed TOML tree
//! before it is typed, so an override is validated exactly like the file.
//!
//! Path segments are lower-cased; a number indexes an array
//! (`PIXGATE__BUCKETS__0__ENDPOINT`). Values are read as TOML when they parse
//! as a boolean, number, array or inline table, else as a plain string; quote
//! a string that looks like a number (`PIXGATE__BUCKETS__0__NAME='"2024"'`).

use toml::Value;

use super::ConfigError;

pub const PREFIX: &str = "PIXGATE__";

/// Where overrides landed: the key (`buckets[0].endpoint`, as errors name
/// it) and the variable that set it.
pub type Origins = Vec<(String, String)>;

/// Applies every `PIXGATE__…` variable in `vars` to `root`; a variable that
/// cannot be applied is a problem named after it, and the others still apply.
pub fn apply_overrides(
    root: &mut Value,
    vars: impl IntoIterator<Item = (String, String)>,
) -> (Vec<ConfigError>, Origins) {
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(name, _)| name.starts_with(PREFIX))
        .collect();
    // Deterministic order, and array elements created in index order.
    vars.sort();
    let mut problems = Vec::new();
    let mut origins = Vec::new();
    for (name, raw) in vars {
        let path: Vec<String> = name[PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        if path.iter().any(String::is_empty) {
            problems.push(ConfigError {
                key: name,
                message: "empty path segment in the variable name".to_owned(),
            });
            continue;
        }
        let mut key = String::new();
        match set(root, &path, parse_value(&raw), &mut key) {
            Ok(()) => origins.push((key, name)),
            Err(message) => problems.push(ConfigError { key: name, message }),
        }
    }
    (problems, origins)
}

fn parse_value(raw: &str) -> Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut table) => table
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_owned())),
        Err(_) => Value::String(raw.to_owned()),
    }
}

/// Sets `path` below `node`, writing the key it reached into `key`.
fn set(node: &mut Value, path: &[String], value: Value, key: &mut String) -> Result<(), String> {
    let Some((head, rest)) = path.split_first() else {
        *node = value;
        return Ok(());
    };
    match node {
        Value::Table(table) => {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(head);
            let child = table.entry(head.clone()).or_insert_with(|| empty_for(rest));
            set(child, rest, value, key)
        }
        Value::Array(items) => {
            let index: usize = head
                .parse()
                .map_err(|_| format!("'{head}' must be an array index"))?;
            if index == items.len() {
                items.push(empty_for(rest));
            }
            let len = items.len();
            let child = items.get_mut(index).ok_or_else(|| {
                format!(
                    "index {index} is past the end of an array of {len} (add elements in order)"
                )
            })?;
            key.push_str(&format!("[{index}]"));
            set(child, rest, value, key)
        }
        _ => Err(format!(
            "'{head}' is below a value that is not a table or array"
        )),
    }
}

/// The container a missing path segment needs: an array when the next segment is an index.
fn empty_for(rest: &[String]) -> Value {
    match rest.first() {
        Some(next) if next.parse::<usize>().is_ok() => Value::Array(Vec::new()),
        _ => Value::Table(toml::Table::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(toml_text: &str, vars: &[(&str, &str)]) -> Result<(Value, Origins), ConfigError> {
        let mut v: Value = toml::from_str(toml_text).unwrap();
        let (mut problems, origins) = apply_overrides(
            &mut v,
            vars.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())),
        );
        match problems.is_empty() {
            true => Ok((v, origins)),
            false => Err(problems.remove(0)),
        }
    }

    #[test]
    fn nested_keys_arrays_and_types() {
        let v = apply(
            "[server]\nlisten = \"127.0.0.1:1\"\n[[buckets]]\nname = \"a\"\n",
            &[
                ("PIXGATE__SERVER__LISTEN", "0.0.0.0:9"),
                ("PIXGATE__BUCKETS__0__PATH_STYLE", "false"),
                ("PIXGATE__BUCKETS__1__NAME", "b"),
                ("PIXGATE__UPSTREAM__READ_TIMEOUT_MS", "250"),
                ("OTHER", "ignored"),
            ],
        )
        .unwrap();
        let (v, origins) = v;
        assert_eq!(v["server"]["listen"].as_str(), Some("0.0.0.0:9"));
        assert_eq!(v["buckets"][0]["path_style"].as_bool(), Some(false));
        assert_eq!(v["buckets"][1]["name"].as_str(), Some("b"));
        assert_eq!(v["upstream"]["read_timeout_ms"].as_integer(), Some(250));
        // Each override's key, written as errors name keys.
        let keys: Vec<(&str, &str)> = origins
            .iter()
            .map(|(k, n)| (k.as_str(), n.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("buckets[0].path_style", "PIXGATE__BUCKETS__0__PATH_STYLE"),
                ("buckets[1].name", "PIXGATE__BUCKETS__1__NAME"),
                ("server.listen", "PIXGATE__SERVER__LISTEN"),
                (
                    "upstream.read_timeout_ms",
                    "PIXGATE__UPSTREAM__READ_TIMEOUT_MS"
                ),
            ]
        );
    }

    #[test]
    fn every_bad_variable_is_reported_and_the_good_ones_apply() {
        let mut v: Value = toml::from_str("[[buckets]]\nname = \"a\"\n").unwrap();
        let vars = [
            ("PIXGATE__BUCKETS__5__NAME", "x"),
            ("PIXGATE__SERVER____X", "x"),
            ("PIXGATE__SERVER__LISTEN", "0.0.0.0:1"),
            ("PIXGATE__SERVER__LISTEN__PORT", "1"),
        ];
        let (problems, origins) = apply_overrides(
            &mut v,
            vars.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())),
        );
        let named: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            named,
            [
                "PIXGATE__BUCKETS__5__NAME",
                "PIXGATE__SERVER__LISTEN__PORT",
                "PIXGATE__SERVER____X"
            ]
        );
        assert_eq!(origins.len(), 1);
        assert_eq!(v["server"]["listen"].as_str(), Some("0.0.0.0:1"));
    }

    #[test]
    fn bad_paths_name_the_variable() {
        let err = apply(
            "[[buckets]]\nname = \"a\"\n",
            &[("PIXGATE__BUCKETS__5__NAME", "x")],
        )
        .unwrap_err();
        assert_eq!(err.key, "PIXGATE__BUCKETS__5__NAME");
        let err = apply("", &[("PIXGATE__SERVER____X", "x")]).unwrap_err();
        assert_eq!(err.key, "PIXGATE__SERVER____X");
    }
}
