//! Styles: `x-oss-process=style/<name>` and `<key><separator><name>`.

use std::collections::BTreeMap;

/// The style a key names through a separator, and the real key before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StyledKey<'a> {
    pub key: &'a str,
    pub style: &'a str,
}

/// Splits `key` at the last occurrence of an enabled separator whose tail is
/// a defined style (`a-b.jpg-thumb` → `a-b.jpg` + `thumb`).
///
/// `@!` is the service's dedicated style separator: a tail after it that is
/// not a defined style is still reported (the caller answers NoSuchStyle).
/// For `-`, `_`, `/` and `!`, which ordinary keys contain, an unknown tail
/// means the whole string is a plain key.
/// The style a key names after one of the bucket's separators, as the
/// operation to run and the real key (what every dialect with styles in
/// the key answers).
pub fn style_in_key<'k>(
    key: &'k str,
    separators: &[String],
    styles: &BTreeMap<String, String>,
) -> Option<(crate::Operation, &'k str)> {
    let styled = split_styled_key(key, separators, styles)?;
    let op = crate::Operation::Style {
        name: styled.style.to_owned(),
        source: crate::ProcessSource::Path,
    };
    Some((op, styled.key))
}

pub fn split_styled_key<'a>(
    key: &'a str,
    separators: &[String],
    styles: &BTreeMap<String, String>,
) -> Option<StyledKey<'a>> {
    let mut best: Option<StyledKey<'a>> = None;
    for sep in separators {
        let Some(at) = key.rfind(sep.as_str()) else {
            continue;
        };
        let (head, tail) = (&key[..at], &key[at + sep.len()..]);
        if head.is_empty() || tail.is_empty() {
            continue;
        }
        if styles.contains_key(tail) || sep == "@!" {
            // The last separator wins (shortest tail); on the same tail the
            // longer separator (`@!` over `!`).
            if best.as_ref().is_none_or(|b| {
                tail.len() < b.style.len()
                    || (tail.len() == b.style.len() && head.len() < b.key.len())
            }) {
                best = Some(StyledKey {
                    key: head,
                    style: tail,
                });
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styles() -> BTreeMap<String, String> {
        [
            ("thumb", "image/resize,w_100"),
            ("s.m-1", "image/rotate,90"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect()
    }

    fn seps(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn separators() {
        let st = styles();
        let all = seps(&["@!", "-", "_", "/", "!"]);
        assert_eq!(
            split_styled_key("a.jpg@!thumb", &all, &st),
            Some(StyledKey {
                key: "a.jpg",
                style: "thumb"
            })
        );
        assert_eq!(
            split_styled_key("my-photo.jpg-thumb", &all, &st),
            Some(StyledKey {
                key: "my-photo.jpg",
                style: "thumb"
            })
        );
        assert_eq!(
            split_styled_key("dir/a.jpg!s.m-1", &all, &st),
            Some(StyledKey {
                key: "dir/a.jpg",
                style: "s.m-1"
            })
        );
        assert_eq!(split_styled_key("my-photo.jpg", &all, &st), None);
        assert_eq!(split_styled_key("dir/a_b.jpg", &all, &st), None);
        // `@!` with an unknown style is still a style request.
        assert_eq!(
            split_styled_key("a.jpg@!nope", &all, &st),
            Some(StyledKey {
                key: "a.jpg",
                style: "nope"
            })
        );
        // Separators not enabled on the bucket are plain characters.
        assert_eq!(split_styled_key("a.jpg-thumb", &seps(&["@!"]), &st), None);
    }
}
