use super::*;

/// Lays out and draws, as the watermark does (it checks sizes between).
fn render(fonts: &Fonts, text: &str, font: &str, size: u32) -> Option<TextMask> {
    fonts.draw(&fonts.layout(text, font, size)?)
}

fn corpus_fonts() -> Fonts {
    let dir = crate::test_corpus().join("fonts");
    Fonts::new(&[dir])
}

/// Debian's fonts, as `scripts/install-deps` installs them.
fn system_fonts() -> Fonts {
    let fonts = Fonts::new(&[PathBuf::from("/usr/share/fonts")]);
    for name in [
        "notosans",
        "notosansarabic",
        "notosanshebrew",
        "notosansdevanagari",
        "notosansthai",
        "wqy-zenhei",
        "symbola",
    ] {
        assert!(
            fonts.available().contains(&name),
            "{name} is not installed: run scripts/install-deps"
        );
    }
    fonts
}

/// The fonts the glyphs of a layout came from, by name, left to right.
fn fonts_used(fonts: &Fonts, layout: &Layout) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in &layout.placed {
        let name = &fonts.files[p.font].name;
        if names.last() != Some(name) {
            names.push(name.clone());
        }
    }
    names
}

fn ids(layout: &Layout) -> Vec<u16> {
    layout.placed.iter().map(|p| p.id.0).collect()
}

#[test]
fn glyphs_are_rasterised_once_per_size() {
    let fonts = corpus_fonts();
    assert_eq!(fonts.available(), ["notosans"]);
    let first = render(&fonts, "Hello", "notosans", 40).unwrap();
    // H, e, l, o.
    assert_eq!(fonts.cached_glyphs(), 4);
    let again = render(&fonts, "Hello", "notosans", 40).unwrap();
    assert_eq!(fonts.cached_glyphs(), 4);
    assert_eq!(first.data, again.data);
    render(&fonts, "Hello", "notosans", 41).unwrap();
    assert_eq!(fonts.cached_glyphs(), 8);
}

#[test]
fn size_is_the_em_size_and_unknown_fonts_fall_back() {
    let fonts = corpus_fonts();
    let m = render(&fonts, "M", "notosans", 100).unwrap();
    // An 'M' is most of an em wide; the line is about 1.36 em high.
    assert!((70..=100).contains(&m.w), "width {}", m.w);
    assert!((120..=145).contains(&m.h), "height {}", m.h);
    assert!(m.data.contains(&255));
    assert!(m.data.iter().any(|&c| c > 0 && c < 255), "anti-aliased");
    let fallback = render(&fonts, "M", "fangzhengkaiti", 100).unwrap();
    assert_eq!(fallback.data, m.data);
}

#[test]
fn no_fonts_means_no_text() {
    assert!(render(&Fonts::new(&[]), "a", "wqy-zenhei", 40).is_none());
}

#[test]
fn latin_is_kerned_by_the_shaper() {
    // Noto Sans kerns "AV" (GPOS): the pair is narrower than its letters'
    // advances added up.
    let fonts = corpus_fonts();
    let pair = fonts.layout("AV", "notosans", 100).unwrap();
    let a = fonts.layout("A", "notosans", 100).unwrap();
    let v = fonts.layout("V", "notosans", 100).unwrap();
    assert!(pair.w + 3 < a.w + v.w, "{} vs {}+{}", pair.w, a.w, v.w);
}

#[test]
fn arabic_is_joined_and_right_to_left() {
    let fonts = system_fonts();
    // "سلام": four letters, each in its joining form.
    let word = "\u{0633}\u{0644}\u{0627}\u{0645}";
    let shaped = fonts.layout(word, "wqy-zenhei", 40).unwrap();
    assert!(shaped.missing().is_empty(), "{:?}", shaped.missing());
    assert_eq!(fonts_used(&fonts, &shaped), ["notosansarabic"]);
    // Each letter alone is its isolated form: the joined word uses other
    // glyphs for every letter (initial, medial, final; lam-alef may
    // ligate), so the shaped glyphs are not the isolated ones.
    let isolated: Vec<u16> = word
        .chars()
        .map(|c| ids(&fonts.layout(&c.to_string(), "wqy-zenhei", 40).unwrap())[0])
        .collect();
    let joined = ids(&shaped);
    assert!(
        joined.iter().filter(|g| isolated.contains(g)).count() <= 1,
        "joined {joined:?}, isolated {isolated:?}"
    );
    // Visual order: the first letter (seen) is the rightmost glyph.
    let first = fonts.layout("\u{0633}\u{0640}", "wqy-zenhei", 40).unwrap();
    let seen_initial = ids(&first)[ids(&first).len() - 1];
    let last = shaped.placed.last().unwrap();
    assert_eq!(last.id.0, seen_initial, "seen is not drawn rightmost");
    assert!(shaped.placed.iter().all(|p| p.x <= last.x));
}

#[test]
fn mixed_latin_and_arabic_keep_their_order() {
    let fonts = system_fonts();
    // "abc سلام xyz": Latin left, the Arabic word in the middle, Latin
    // right; the Arabic word from the Arabic font, right to left.
    let line = fonts
        .layout("abc \u{0633}\u{0644}\u{0627}\u{0645} xyz", "notosans", 40)
        .unwrap();
    assert_eq!(
        fonts_used(&fonts, &line),
        ["notosans", "notosansarabic", "notosans"]
    );
    let xs: Vec<i32> = line.placed.iter().map(|p| p.x).collect();
    // Latin glyphs advance left to right; so does the whole line.
    assert!(xs[..4].windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    assert!(xs[xs.len() - 3..].windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    // An Arabic-first line is right to left: its Latin word is on the left.
    let rtl = fonts
        .layout("\u{0633}\u{0644}\u{0627}\u{0645} abc", "notosans", 40)
        .unwrap();
    assert_eq!(fonts_used(&fonts, &rtl), ["notosans", "notosansarabic"]);
}

#[test]
fn hebrew_is_right_to_left() {
    let fonts = system_fonts();
    // "שלום": shin is the rightmost glyph.
    let word = fonts
        .layout("\u{05E9}\u{05DC}\u{05D5}\u{05DD}", "wqy-zenhei", 40)
        .unwrap();
    let shin = ids(&fonts.layout("\u{05E9}", "wqy-zenhei", 40).unwrap())[0];
    assert_eq!(fonts_used(&fonts, &word), ["notosanshebrew"]);
    assert_eq!(word.placed.last().unwrap().id.0, shin);
}

#[test]
fn devanagari_forms_conjuncts_and_reorders_the_i_matra() {
    let fonts = system_fonts();
    // "कि": the i-matra (U+093F) is written after ka but drawn before it.
    let ki = fonts.layout("\u{0915}\u{093F}", "wqy-zenhei", 40).unwrap();
    let ka = ids(&fonts.layout("\u{0915}", "wqy-zenhei", 40).unwrap())[0];
    assert_eq!(fonts_used(&fonts, &ki), ["notosansdevanagari"]);
    assert_eq!(ids(&ki).len(), 2);
    assert_eq!(ids(&ki)[1], ka, "the matra is not moved before ka");
    // "क्ष" (ka, virama, ssa) is one conjunct glyph, no visible virama.
    let ksha = fonts
        .layout("\u{0915}\u{094D}\u{0937}", "wqy-zenhei", 40)
        .unwrap();
    assert_eq!(ids(&ksha).len(), 1, "{:?}", ids(&ksha));
    assert!(ksha.missing().is_empty());
}

#[test]
fn thai_marks_sit_on_their_base() {
    let fonts = system_fonts();
    let layout = |t: &str| fonts.layout(t, "wqy-zenhei", 40).unwrap();
    // "ที่": tho thahan, sara ii, mai ek stacked on one base.
    let stacked = layout("\u{0E17}\u{0E35}\u{0E48}");
    assert_eq!(fonts_used(&fonts, &stacked), ["notosansthai"]);
    assert!(stacked.missing().is_empty());
    // The marks take no advance: the cluster is as wide as its base.
    let base = layout("\u{0E17}");
    assert!(stacked.w <= base.w + 2, "{} vs {}", stacked.w, base.w);
    // Over a vowel the tone mark is the font's raised form (its GSUB),
    // not the low one it has on a bare base ("ท่").
    let bare = layout("\u{0E17}\u{0E48}");
    assert_ne!(ids(&stacked)[2], ids(&bare)[1]);
    // On a tall consonant ("ปี่", po pla's stem rises into the mark zone)
    // both marks move left of where they sit on tho thahan.
    let tall = layout("\u{0E1B}\u{0E35}\u{0E48}");
    assert!(
        ids(&tall)[1] != ids(&stacked)[1] && tall.placed[2].x < stacked.placed[2].x,
        "{:?} vs {:?}",
        tall.placed,
        stacked.placed
    );
}

#[test]
fn emoji_and_every_script_draw_no_missing_glyph() {
    let fonts = system_fonts();
    for text in [
        "Hello \u{6C34}\u{5370} \u{0645}\u{0631}\u{062D}\u{0628}\u{0627}",
        "\u{0928}\u{092E}\u{0938}\u{094D}\u{0924}\u{0947} \u{0E2A}\u{0E27}\u{0E31}\u{0E2A}\u{0E14}\u{0E35}",
        "\u{1F600}\u{1F44D}\u{2764}\u{FE0F} ok",
        "\u{05E9}\u{05DC}\u{05D5}\u{05DD} \u{041F}\u{0440}\u{0438}\u{0432}\u{0435}\u{0442} \u{03B1}\u{03B2}",
    ] {
        let layout = fonts.layout(text, "wqy-zenhei", 40).unwrap();
        assert!(
            layout.missing().is_empty(),
            "{text}: {:?}",
            layout.missing()
        );
        let mask = fonts.draw(&layout).unwrap();
        assert!(
            mask.data.iter().filter(|&&c| c > 128).count() > 100,
            "{text}"
        );
    }
    let smile = fonts.layout("\u{1F600}", "wqy-zenhei", 40).unwrap();
    assert_eq!(fonts_used(&fonts, &smile), ["symbola"]);
}

#[test]
fn a_character_no_font_has_is_reported() {
    let fonts = corpus_fonts();
    // Noto Sans alone has no Arabic.
    let layout = fonts.layout("a\u{0633}b", "notosans", 40).unwrap();
    assert_eq!(layout.missing(), ['\u{0633}']);
    assert_eq!(ids(&layout).iter().filter(|&&g| g == 0).count(), 1);
}

#[test]
fn the_fallback_chain_is_configurable() {
    let dirs = [PathBuf::from("/usr/share/fonts")];
    let _ = system_fonts();
    // Without the Arabic font in the chain, Arabic is missing; with its
    // file named, it is drawn.
    let latin_only = Fonts::with_fallbacks(&dirs, &["notosans"]);
    let l = latin_only.layout("\u{0633}", "notosans", 40).unwrap();
    assert_eq!(l.missing(), ['\u{0633}']);
    let by_file = Fonts::with_fallbacks(&dirs, &["notosans", "NotoSansArabic-Regular.ttf"]);
    let l = by_file.layout("\u{0633}", "notosans", 40).unwrap();
    assert!(l.missing().is_empty());
    // An absolute path works too; a name that resolves to nothing is
    // skipped.
    let arabic = by_file
        .files
        .iter()
        .find(|f| f.name == "notosansarabic")
        .unwrap();
    let path = arabic.path.to_str().unwrap().to_owned();
    let by_path = Fonts::with_fallbacks(&dirs, &["no-such-font", &path]);
    assert_eq!(by_path.fallbacks.len(), 1);
    let l = by_path.layout("\u{0633}", "notosans", 40).unwrap();
    assert!(l.missing().is_empty());
}

#[test]
fn control_characters_are_spaces() {
    let fonts = corpus_fonts();
    let tab = fonts.layout("a\tb\nc", "notosans", 40).unwrap();
    let spaced = fonts.layout("a b c", "notosans", 40).unwrap();
    assert_eq!(ids(&tab), ids(&spaced));
    assert!(tab.missing().is_empty());
}

#[test]
fn any_text_lays_out_without_panicking() {
    let fonts = system_fonts();
    // Deterministic pseudo-random lines mixing every plane's characters,
    // marks without bases, lone joiners and bidi controls.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pools: [(u32, u32); 8] = [
        (0x20, 0x7F),
        (0x300, 0x36F),
        (0x590, 0x6FF),
        (0x900, 0x97F),
        (0xE00, 0xE7F),
        (0x2000, 0x206F),
        (0x1F300, 0x1F6FF),
        (0, 0x10FFFF),
    ];
    for _ in 0..200 {
        let len = (next() % 64) as usize;
        let text: String = (0..len)
            .filter_map(|_| {
                let (lo, hi) = pools[(next() % pools.len() as u64) as usize];
                char::from_u32(lo + (next() % u64::from(hi - lo)) as u32)
            })
            .collect();
        let layout = fonts.layout(&text, "wqy-zenhei", 12).unwrap();
        fonts.draw(&layout).unwrap();
    }
}
