//! Where each configuration key was written: its line in the TOML file (from
//! the `toml` crate's spans) or the `PIXGATE__…` variable that set it, so
//! every problem can point at what to edit.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

use super::ConfigError;

/// Where a problem's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A line of the file (1-based).
    Line(usize),
    /// An environment variable.
    Var(String),
    /// Neither: a default, a missing key, or the command line.
    Unknown,
}

/// One configuration problem and where to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub error: ConfigError,
    pub origin: Origin,
}

/// Every problem of one configuration (a file, or `--root`'s built-in one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems {
    /// The file's path as given, or what stood in for a file.
    pub file: String,
    pub list: Vec<Problem>,
}

impl Problems {
    pub fn one(source: impl Into<String>, error: ConfigError) -> Problems {
        Problems {
            file: source.into(),
            list: vec![Problem {
                error,
                origin: Origin::Unknown,
            }],
        }
    }
}

impl std::fmt::Display for Problems {
    /// One line per problem: `file:LINE: key: message`, or
    /// `PIXGATE__VAR: key: message` for a value from the environment.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, p) in self.list.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match &p.origin {
                Origin::Line(n) => write!(f, "{}:{n}: ", self.file)?,
                Origin::Var(name) => write!(f, "{name}: ")?,
                Origin::Unknown => write!(f, "{}: ", self.file)?,
            }
            // A problem of the file itself or of a variable's name is
            // named by its origin already.
            let key = p.error.key.as_str();
            let named = key == "(file)"
                || key == self.file
                || matches!(&p.origin, Origin::Var(name) if name == key);
            if named {
                write!(f, "{}", p.error.message)?;
            } else {
                write!(f, "`{}`: {}", p.error.key, p.error.message)?;
            }
        }
        Ok(())
    }
}

/// Keys (as problems name them: `buckets[0].styles.thumb`) with their
/// origin; the environment's override the file's.
#[derive(Debug, Default)]
pub struct Locator {
    lines: Vec<(String, usize)>,
    vars: Vec<(String, String)>,
}

impl Locator {
    /// The lines of every key in `text`; none when it does not parse.
    pub fn new(text: &str) -> Locator {
        let mut lines = Vec::new();
        if let Ok(Node::Table(entries)) = toml::from_str::<Node>(text) {
            walk_table(&entries, "", text, &mut lines);
        }
        Locator {
            lines,
            vars: Vec::new(),
        }
    }

    /// Keys set by `PIXGATE__…` variables: (key, variable).
    pub fn with_vars(mut self, vars: Vec<(String, String)>) -> Locator {
        self.vars = vars;
        self
    }

    /// The key's origin, else its nearest enclosing key's (a missing
    /// `buckets[0].origin` points at its `[[buckets]]` line).
    pub fn origin(&self, key: &str) -> Origin {
        let mut key = key;
        loop {
            if let Some((_, var)) = self.vars.iter().rev().find(|(k, _)| k == key) {
                return Origin::Var(var.clone());
            }
            if let Some((_, line)) = self.lines.iter().find(|(k, _)| k == key) {
                return Origin::Line(*line);
            }
            match parent(key) {
                Some(p) => key = p,
                None => return Origin::Unknown,
            }
        }
    }

    pub fn locate(&self, error: ConfigError) -> Problem {
        Problem {
            origin: self.origin(&error.key),
            error,
        }
    }
}

/// `a.b[2]` -> `a.b`, `a.b` -> `a`, `a` -> none.
fn parent(key: &str) -> Option<&str> {
    key.rfind(['.', '[']).map(|i| &key[..i])
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

fn walk_table(
    entries: &[(String, Spanned<Node>)],
    prefix: &str,
    text: &str,
    out: &mut Vec<(String, usize)>,
) {
    for (name, value) in entries {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        walk(value, key, text, out);
    }
}

fn walk(value: &Spanned<Node>, key: String, text: &str, out: &mut Vec<(String, usize)>) {
    out.push((key.clone(), line_of(text, value.span().start)));
    match value.get_ref() {
        Node::Leaf => {}
        Node::Table(entries) => walk_table(entries, &key, text, out),
        Node::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, format!("{key}[{i}]"), text, out);
            }
        }
    }
}

/// The shape of a TOML document with the span of every value.
#[derive(Debug)]
enum Node {
    Leaf,
    Table(Vec<(String, Spanned<Node>)>),
    Array(Vec<Spanned<Node>>),
}

/// How `toml` hands a datetime to serde: a one-entry map under this key.
const DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any TOML value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_str<E>(self, _: &str) -> Result<Node, E> {
                Ok(Node::Leaf)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Node::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    // A datetime's parts carry no spans; it is one value.
                    if key == DATETIME_KEY {
                        map.next_value::<IgnoredAny>()?;
                        return Ok(Node::Leaf);
                    }
                    entries.push((key, map.next_value()?));
                }
                Ok(Node::Table(entries))
            }
        }
        d.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_their_lines() {
        let text = "# comment\n[server]\nlisten = \"x\"\n\n[[buckets]]\nname = \"a\"\nstyles = { t = \"image/x\" }\n[buckets.protect]\nenabled = 1\n\n[[buckets]]\norigin = 5\nwhen = 1979-05-27\nseparators = [\n  \"@!\",\n  \"-\",\n]\n";
        let l = Locator::new(text);
        let at = |k: &str| l.origin(k);
        assert_eq!(at("server"), Origin::Line(2));
        assert_eq!(at("server.listen"), Origin::Line(3));
        assert_eq!(at("buckets[0]"), Origin::Line(5));
        assert_eq!(at("buckets[0].styles.t"), Origin::Line(7));
        assert_eq!(at("buckets[0].protect.enabled"), Origin::Line(9));
        assert_eq!(at("buckets[1].origin"), Origin::Line(12));
        assert_eq!(at("buckets[1].when"), Origin::Line(13));
        assert_eq!(at("buckets[1].separators[1]"), Origin::Line(16));
        // A key the file does not have: its table's line.
        assert_eq!(at("buckets[1].name"), Origin::Line(11));
        assert_eq!(at("keys[0].access_key_id"), Origin::Unknown);
        // The environment's value overrides the file's.
        let l = Locator::new(text).with_vars(vec![(
            "server.listen".to_owned(),
            "PIXGATE__SERVER__LISTEN".to_owned(),
        )]);
        assert_eq!(
            l.origin("server.listen"),
            Origin::Var("PIXGATE__SERVER__LISTEN".to_owned())
        );
        assert_eq!(Locator::new("not toml [").origin("a"), Origin::Unknown);
    }

    #[test]
    fn problems_print_one_line_each() {
        let e = |key: &str, message: &str| ConfigError {
            key: key.to_owned(),
            message: message.to_owned(),
        };
        let p = Problems {
            file: "px.toml".to_owned(),
            list: vec![
                Problem {
                    error: e("server.listen", "bad"),
                    origin: Origin::Line(3),
                },
                Problem {
                    error: e("buckets[0].acl", "worse"),
                    origin: Origin::Var("PIXGATE__BUCKETS__0__ACL".to_owned()),
                },
                Problem {
                    error: e("PIXGATE__X____Y", "empty path segment"),
                    origin: Origin::Var("PIXGATE__X____Y".to_owned()),
                },
                Problem {
                    error: e("buckets", "none"),
                    origin: Origin::Unknown,
                },
            ],
        };
        assert_eq!(
            p.to_string(),
            "px.toml:3: `server.listen`: bad\n\
             PIXGATE__BUCKETS__0__ACL: `buckets[0].acl`: worse\n\
             PIXGATE__X____Y: empty path segment\n\
             px.toml: `buckets`: none"
        );
    }
}
