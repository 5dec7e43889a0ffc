//! Accept negotiation's neutral input: the formats a client admits, in the
//! bucket's order of preference. The server reads them from `Accept` and the
//! bucket's configuration; pixel code picks the first one the source and the
//! dialect's policy allow (an explicit `format,…` always wins). It is part
//! of the cache key, so two clients given different formats never share a
//! result or an ETag.

use crate::Format;

/// Most formats a bucket may list (AVIF, WebP and room to grow).
pub const MAX_PREFERRED: usize = 4;

/// Formats in order of preference; empty: no negotiation (the source's format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Preferred {
    formats: [Option<Format>; MAX_PREFERRED],
}

impl Preferred {
    /// The first [`MAX_PREFERRED`] distinct formats of `formats`, in order.
    pub fn new(formats: impl IntoIterator<Item = Format>) -> Preferred {
        let mut p = Preferred::default();
        let mut n = 0;
        for f in formats {
            if n == MAX_PREFERRED {
                break;
            }
            if !p.iter().any(|g| g == f) {
                p.formats[n] = Some(f);
                n += 1;
            }
        }
        p
    }

    pub fn iter(&self) -> impl Iterator<Item = Format> + '_ {
        self.formats.iter().map_while(|f| *f)
    }

    pub fn is_empty(&self) -> bool {
        self.formats[0].is_none()
    }

    /// `/negotiate,avif,webp` (nothing when empty): a key part, never
    /// parsed from a client's string.
    pub fn canonical(&self, out: &mut String) {
        if self.is_empty() {
            return;
        }
        out.push_str("/negotiate");
        for f in self.iter() {
            out.push(',');
            out.push_str(f.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_drops_repeats() {
        let p = Preferred::new([Format::Avif, Format::Webp, Format::Avif]);
        assert_eq!(p.iter().collect::<Vec<_>>(), [Format::Avif, Format::Webp]);
        let mut s = String::new();
        p.canonical(&mut s);
        assert_eq!(s, "/negotiate,avif,webp");
        let empty = Preferred::new([]);
        assert!(empty.is_empty());
        let mut s = String::new();
        empty.canonical(&mut s);
        assert_eq!(s, "");
    }
}
