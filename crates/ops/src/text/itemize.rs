//! A line cut into runs a shaper can take: each run one bidi level (one
//! direction), one script and one font, in visual order (left to right).
//!
//! The unit of font choice is the grapheme cluster, so a base letter and
//! its marks (Thai vowels and tones, Devanagari matras, Arabic harakat)
//! always come from one font, which positions them against each other.

use std::ops::Range;

use unicode_bidi::BidiInfo;
use unicode_script::{Script, UnicodeScript};
use unicode_segmentation::UnicodeSegmentation;

/// A piece of the line to shape with one font in one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Run {
    /// Byte range in the line.
    pub range: Range<usize>,
    /// Index of the font in the caller's list of fonts.
    pub font: usize,
    pub rtl: bool,
    /// `None`: only Common and Inherited characters (spaces, digits,
    /// punctuation); the shaper guesses.
    pub script: Option<Script>,
}

/// Runs of `text` in visual order. `chain` lists the fonts to try, best
/// first; `covers(font, c)` says whether a font has a glyph for `c`. A
/// cluster no font has goes to the first font of the chain (which draws
/// its missing-glyph box).
pub(super) fn runs(text: &str, chain: &[usize], covers: impl Fn(usize, char) -> bool) -> Vec<Run> {
    let Some(&first) = chain.first() else {
        return Vec::new();
    };
    let bidi = BidiInfo::new(text, None);
    let mut out = Vec::new();
    for para in &bidi.paragraphs {
        let (levels, ranges) = bidi.visual_runs(para, para.range.clone());
        for range in ranges {
            let rtl = levels[range.start].is_rtl();
            let mut pieces = logical_pieces(text, range, rtl, first, chain, &covers);
            // A right-to-left run's pieces are read from its right end.
            if rtl {
                pieces.reverse();
            }
            out.extend(pieces);
        }
    }
    out
}

/// One bidi run split where the script or the font changes, in logical
/// order.
fn logical_pieces(
    text: &str,
    range: Range<usize>,
    rtl: bool,
    first: usize,
    chain: &[usize],
    covers: &impl Fn(usize, char) -> bool,
) -> Vec<Run> {
    let mut pieces: Vec<Run> = Vec::new();
    for (offset, cluster) in text[range.clone()].grapheme_indices(true) {
        let start = range.start + offset;
        let script = cluster_script(cluster);
        let needed: Vec<char> = cluster.chars().filter(|&c| !ignorable(c)).collect();
        let previous = pieces.last().map(|p| p.font);
        let has_all = |f: usize| needed.iter().all(|&c| covers(f, c));
        let font = match previous {
            // Controls and joiners, and spaces, digits and punctuation the
            // current font has, stay in the current run: a font change at
            // every space would break kerning and Arabic spacing.
            Some(p) if needed.is_empty() || (script.is_none() && has_all(p)) => p,
            _ => chain
                .iter()
                .copied()
                .find(|&f| has_all(f))
                .or_else(|| {
                    let base = *needed.first()?;
                    chain.iter().copied().find(|&f| covers(f, base))
                })
                .unwrap_or(first),
        };
        match pieces.last_mut() {
            Some(p)
                if p.font == font
                    && (script.is_none() || p.script.is_none() || p.script == script) =>
            {
                p.range.end = start + cluster.len();
                p.script = p.script.or(script);
            }
            _ => pieces.push(Run {
                range: start..start + cluster.len(),
                font,
                rtl,
                script,
            }),
        }
    }
    pieces
}

/// The cluster's own script: its first character's that is not Common or
/// Inherited.
fn cluster_script(cluster: &str) -> Option<Script> {
    cluster
        .chars()
        .map(|c| c.script())
        .find(|s| !matches!(s, Script::Common | Script::Inherited | Script::Unknown))
}

/// Default-ignorable characters (joiners, variation selectors, bidi
/// controls, tags): the shaper hides them when the font lacks them, so
/// they never decide which font a cluster takes.
pub(super) fn ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Font 0 has ASCII only, font 1 Arabic and the space, font 2 anything.
    fn covers(font: usize, c: char) -> bool {
        match font {
            0 => c.is_ascii(),
            1 => ('\u{0600}'..='\u{06FF}').contains(&c) || c == ' ',
            _ => true,
        }
    }

    fn texts<'a>(text: &'a str, runs: &[Run]) -> Vec<(&'a str, usize, bool)> {
        runs.iter()
            .map(|r| (&text[r.range.clone()], r.font, r.rtl))
            .collect()
    }

    #[test]
    fn a_mixed_line_is_in_visual_order() {
        // "abc " then the Arabic "سلام عليكم" then " xyz": the Arabic run is
        // one run (its space stays in the Arabic font), drawn between the
        // Latin ones and right to left.
        let text =
            "abc \u{0633}\u{0644}\u{0627}\u{0645} \u{0639}\u{0644}\u{064A}\u{0643}\u{0645} xyz";
        let r = runs(text, &[0, 1, 2], covers);
        assert_eq!(
            texts(text, &r),
            [
                ("abc ", 0, false),
                (
                    "\u{0633}\u{0644}\u{0627}\u{0645} \u{0639}\u{0644}\u{064A}\u{0643}\u{0645}",
                    1,
                    true
                ),
                (" xyz", 0, false),
            ]
        );
        assert_eq!(r[1].script, Some(Script::Arabic));
    }

    #[test]
    fn pieces_of_a_right_to_left_run_are_reversed() {
        // Arabic, an emoji only font 2 has, Arabic: in an RTL paragraph the
        // last logical piece is leftmost.
        let text =
            "\u{0645}\u{0631}\u{062D}\u{0628}\u{0627}\u{1F600}\u{0633}\u{0644}\u{0627}\u{0645}";
        let r = runs(text, &[0, 1, 2], covers);
        assert_eq!(
            texts(text, &r),
            [
                ("\u{0633}\u{0644}\u{0627}\u{0645}", 1, true),
                ("\u{1F600}", 2, true),
                ("\u{0645}\u{0631}\u{062D}\u{0628}\u{0627}", 1, true),
            ]
        );
    }

    #[test]
    fn marks_and_joiners_stay_with_their_base() {
        // e + combining acute (font 0 lacks it: the cluster goes to font 2
        // whole); a ZWJ alone joins the run before it.
        let text = "ae\u{0301}b\u{200D}";
        let r = runs(text, &[0, 1, 2], covers);
        assert_eq!(
            texts(text, &r),
            [
                ("a", 0, false),
                ("e\u{0301}", 2, false),
                ("b\u{200D}", 0, false)
            ]
        );
    }

    #[test]
    fn nothing_to_lay_out() {
        assert!(runs("", &[0], covers).is_empty());
        assert!(runs("abc", &[], covers).is_empty());
        // A character no font has falls to the first font.
        let r = runs("a\u{10FFFD}", &[0, 1], covers);
        assert_eq!(texts("a\u{10FFFD}", &r), [("a\u{10FFFD}", 0, false)]);
    }
}
