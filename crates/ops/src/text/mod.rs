//! Text for watermarks: the service's font names mapped to installed font
//! files, a fallback chain for the scripts and symbols the named font
//! lacks, each run shaped with rustybuzz (HarfBuzz's shaping in Rust:
//! Arabic joining, Indic reordering and conjuncts, mark positioning) and
//! laid out in visual order (unicode-bidi), glyphs rasterised with ab_glyph
//! (anti-aliased) and kept per (font, glyph, size) so a busy watermark
//! style does not re-rasterise every request.

mod itemize;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ab_glyph::{Font, FontVec, GlyphId, PxScale, point};

/// Font names and the files that provide them. The first four are the
/// service's own names (Debian's fonts-wqy-zenhei, fonts-wqy-microhei and
/// fonts-droid-fallback, and Noto Sans); the rest are the fallback chain's
/// script and symbol fonts (fonts-noto-core, fonts-symbola). The Founder
/// (fangzheng*) fonts are commercial and not packaged: they fall back like
/// any unknown name.
const FONT_FILES: [(&str, &[&str]); 10] = [
    ("wqy-zenhei", &["wqy-zenhei.ttc"]),
    ("wqy-microhei", &["wqy-microhei.ttc"]),
    (
        "droidsansfallback",
        &["DroidSansFallbackFull.ttf", "DroidSansFallback.ttf"],
    ),
    ("notosans", &["NotoSans-Regular.ttf"]),
    (
        "notosansarabic",
        &["NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf"],
    ),
    ("notosanshebrew", &["NotoSansHebrew-Regular.ttf"]),
    ("notosansdevanagari", &["NotoSansDevanagari-Regular.ttf"]),
    ("notosansthai", &["NotoSansThai-Regular.ttf"]),
    ("notosanssymbols2", &["NotoSansSymbols2-Regular.ttf"]),
    ("symbola", &["Symbola_hint.ttf", "Symbola.ttf"]),
];

/// The font a request gets when it names none this proxy has.
const DEFAULT_FONT: &str = "wqy-zenhei";

/// After the requested font, in this order: Latin, Greek and Cyrillic; the
/// right-to-left scripts; Devanagari; Thai; CJK; symbols and emoji (Symbola
/// has outlines, drawn in the text's colour like any glyph).
pub const DEFAULT_FALLBACKS: [&str; 10] = [
    "notosans",
    "notosansarabic",
    "notosanshebrew",
    "notosansdevanagari",
    "notosansthai",
    "wqy-zenhei",
    "wqy-microhei",
    "droidsansfallback",
    "notosanssymbols2",
    "symbola",
];

/// Glyph bitmaps kept, in bytes, before the cache starts over.
const GLYPH_CACHE_BYTES: usize = 32 << 20;

/// One rasterised glyph: coverage 0..=255, placed relative to the pen
/// position on the baseline.
#[derive(Debug)]
struct Coverage {
    left: i32,
    top: i32,
    w: u32,
    h: u32,
    data: Vec<u8>,
}

#[derive(Debug, Default)]
struct GlyphCache {
    map: HashMap<(usize, GlyphId, u32), Arc<Coverage>>,
    bytes: usize,
}

/// A font file, read on first use.
#[derive(Debug)]
struct FontFile {
    /// The known name it answers to, or its file name.
    name: String,
    path: PathBuf,
    loaded: OnceLock<Option<FontVec>>,
}

/// The fonts the watermark renderer may use, found under `dirs`.
#[derive(Debug)]
pub struct Fonts {
    files: Vec<FontFile>,
    /// The fallback chain, as indexes into `files`.
    fallbacks: Vec<usize>,
    glyphs: Mutex<GlyphCache>,
}

/// One glyph of a laid-out line: its font, and its origin (pen position on
/// the baseline) in the line's box.
#[derive(Debug, Clone, Copy)]
struct Placed {
    font: usize,
    id: GlyphId,
    x: i32,
    y: i32,
}

/// A line of text laid out: glyphs and their positions, and its size.
#[derive(Debug)]
pub struct Layout {
    pub w: u32,
    pub h: u32,
    size: u32,
    placed: Vec<Placed>,
    missing: Vec<char>,
}

impl Layout {
    /// The characters drawn as the font's missing-glyph box (glyph 0): no
    /// font of the chain has them.
    pub fn missing(&self) -> &[char] {
        &self.missing
    }

    /// The em size the line was laid out at, in pixels.
    pub fn size(&self) -> u32 {
        self.size
    }
}

/// A line of text laid out and drawn as coverage (0..=255), `w`×`h`.
#[derive(Debug)]
pub struct TextMask {
    pub w: u32,
    pub h: u32,
    pub data: Vec<u8>,
}

impl Fonts {
    /// The fonts under `dirs` with the default fallback chain
    /// ([`DEFAULT_FALLBACKS`]).
    pub fn new(dirs: &[PathBuf]) -> Fonts {
        Fonts::with_fallbacks(dirs, &DEFAULT_FALLBACKS)
    }

    /// The fonts under `dirs` (searched a few levels deep), with
    /// `fallbacks` tried in order for characters the requested font lacks.
    /// Each entry is a known font name (`notosansarabic`), a font file's
    /// name found under `dirs` (`NotoSansBengali-Regular.ttf`) or an
    /// absolute path; entries that resolve to nothing are skipped.
    pub fn with_fallbacks<S: AsRef<str>>(dirs: &[PathBuf], fallbacks: &[S]) -> Fonts {
        let mut found = HashMap::new();
        for dir in dirs {
            index(dir, 0, &mut found);
        }
        let mut files: Vec<FontFile> = Vec::new();
        let add = |files: &mut Vec<FontFile>, name: &str, path: &Path| {
            if let Some(i) = files.iter().position(|f| f.path == path) {
                return i;
            }
            files.push(FontFile {
                name: name.to_owned(),
                path: path.to_owned(),
                loaded: OnceLock::new(),
            });
            files.len() - 1
        };
        for (name, candidates) in FONT_FILES {
            if let Some(path) = candidates.iter().find_map(|c| found.get(*c)) {
                add(&mut files, name, path);
            }
        }
        let mut chain = Vec::new();
        for entry in fallbacks {
            let entry = entry.as_ref();
            let known = files.iter().position(|f| same_name(&f.name, entry));
            let path = Path::new(entry);
            let i = match known {
                Some(i) => i,
                None if path.is_absolute() && path.is_file() => add(&mut files, entry, path),
                None => match found.get(entry) {
                    Some(path) => add(&mut files, entry, &path.clone()),
                    None => continue,
                },
            };
            if !chain.contains(&i) {
                chain.push(i);
            }
        }
        Fonts {
            files,
            fallbacks: chain,
            glyphs: Mutex::new(GlyphCache::default()),
        }
    }

    /// The font files found (known names and the fallback chain), for other
    /// renderers of text (SVG).
    pub fn files(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.path.clone()).collect()
    }

    /// The known font names that resolved to a file.
    pub fn available(&self) -> Vec<&'static str> {
        FONT_FILES
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| self.files.iter().any(|f| f.name == *n))
            .collect()
    }

    fn font(&self, index: usize) -> Option<&FontVec> {
        self.files[index]
            .loaded
            .get_or_init(|| {
                let bytes = std::fs::read(&self.files[index].path).ok()?;
                FontVec::try_from_vec_and_index(bytes, 0).ok()
            })
            .as_ref()
    }

    /// The fonts to try for `name`, in order: the named one (or the
    /// default font for a name this proxy does not have), then the
    /// fallback chain; only fonts that load.
    fn chain(&self, name: &str) -> Vec<usize> {
        let named = |n: &str| self.files.iter().position(|f| same_name(&f.name, n));
        // Only known names: a request never names a file.
        let known = |n: &str| FONT_FILES.iter().any(|(k, _)| same_name(k, n));
        let first = named(name)
            .filter(|_| known(name))
            .or_else(|| named(DEFAULT_FONT));
        let mut chain = Vec::new();
        for i in first.into_iter().chain(self.fallbacks.iter().copied()) {
            if !chain.contains(&i) && self.font(i).is_some() {
                chain.push(i);
            }
        }
        chain
    }

    /// Where each glyph goes, and the size of the line: cheap (no
    /// rasterising), so callers can check the size against their limits
    /// before anything is drawn. `None` when no font is installed at all.
    pub fn layout(&self, text: &str, font: &str, size: u32) -> Option<Layout> {
        let chain = self.chain(font);
        let primary = *chain.first()?;
        let size = size.max(1);
        // One line: control characters (line breaks, tabs) are spaces.
        let text: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let runs = itemize::runs(&text, &chain, |f, c| {
            self.font(f).is_some_and(|font| font.glyph_id(c).0 != 0)
        });

        // Pen positions in pixels with the baseline at y = 0 (y down);
        // the box is moved to the top-left at the end.
        let mut glyphs: Vec<Placed> = Vec::new();
        let mut missing = Vec::new();
        let mut caret = 0.0f32;
        let (mut top, mut bottom) = self.extent(primary, size)?;
        let (mut left, mut right) = (0i32, 0i32);
        let mut used = vec![primary];
        for run in &runs {
            let Some(font) = self.font(run.font) else {
                continue;
            };
            let Some(face) = rustybuzz::Face::from_slice(font.as_slice(), 0) else {
                continue;
            };
            if !used.contains(&run.font) {
                used.push(run.font);
                let (t, b) = self.extent(run.font, size)?;
                (top, bottom) = (top.min(t), bottom.max(b));
            }
            let scale = size as f32 / f32::from(face.units_per_em().max(1) as u16);
            let mut buffer = rustybuzz::UnicodeBuffer::new();
            buffer.push_str(&text[run.range.clone()]);
            buffer.set_pre_context(&text[..run.range.start]);
            buffer.set_post_context(&text[run.range.end..]);
            buffer.set_direction(if run.rtl {
                rustybuzz::Direction::RightToLeft
            } else {
                rustybuzz::Direction::LeftToRight
            });
            if let Some(script) = run.script.and_then(|s| {
                let tag = s.short_name().as_bytes().try_into().ok()?;
                rustybuzz::Script::from_iso15924_tag(rustybuzz::ttf_parser::Tag::from_bytes(tag))
            }) {
                buffer.set_script(script);
            }
            let shaped = rustybuzz::shape(&face, &[], buffer);
            for (info, pos) in shaped.glyph_infos().iter().zip(shaped.glyph_positions()) {
                let id = GlyphId(info.glyph_id as u16);
                let x = (caret + pos.x_offset as f32 * scale).round() as i32;
                let y = (-pos.y_offset as f32 * scale).round() as i32;
                caret += pos.x_advance as f32 * scale;
                if id.0 == 0 {
                    let at = run.range.start + info.cluster as usize;
                    if let Some(c) = text.get(at..).and_then(|s| s.chars().next())
                        && !missing.contains(&c)
                    {
                        missing.push(c);
                    }
                }
                // Ink outside the advances (a mark before the first base,
                // a swash after the last) widens the box.
                if let Some(b) = face.glyph_bounding_box(rustybuzz::ttf_parser::GlyphId(id.0)) {
                    left = left.min(x + (f32::from(b.x_min) * scale).floor() as i32);
                    right = right.max(x + (f32::from(b.x_max) * scale).ceil() as i32);
                    top = top.min(y - (f32::from(b.y_max) * scale).ceil() as i32);
                    bottom = bottom.max(y - (f32::from(b.y_min) * scale).floor() as i32);
                }
                glyphs.push(Placed {
                    font: run.font,
                    id,
                    x,
                    y,
                });
            }
        }
        right = right.max(caret.ceil() as i32);
        for g in &mut glyphs {
            g.x -= left;
            g.y -= top;
        }
        Some(Layout {
            w: (right - left).max(1) as u32,
            h: (bottom - top).max(1) as u32,
            size,
            placed: glyphs,
            missing,
        })
    }

    /// The font's ascent (negative: above the baseline) and descent at
    /// `size`, in whole pixels.
    fn extent(&self, font: usize, size: u32) -> Option<(i32, i32)> {
        let font = self.font(font)?;
        let k = size as f32 / font.units_per_em().unwrap_or(1000.0);
        Some((
            -(font.ascent_unscaled() * k).ceil() as i32,
            (-font.descent_unscaled() * k).ceil() as i32,
        ))
    }

    /// Draws a laid-out line as coverage.
    pub fn draw(&self, layout: &Layout) -> Option<TextMask> {
        let (width, height) = (layout.w, layout.h);
        let mut data = vec![0u8; width as usize * height as usize];
        for p in &layout.placed {
            let glyph = self.glyph(p.font, p.id, layout.size)?;
            for gy in 0..glyph.h as i32 {
                let y = p.y + glyph.top + gy;
                if y < 0 || y >= height as i32 {
                    continue;
                }
                for gx in 0..glyph.w as i32 {
                    let x = p.x + glyph.left + gx;
                    if x < 0 || x >= width as i32 {
                        continue;
                    }
                    let c = glyph.data[(gy as u32 * glyph.w + gx as u32) as usize];
                    let slot = &mut data[y as usize * width as usize + x as usize];
                    *slot = (*slot).max(c);
                }
            }
        }
        Some(TextMask {
            w: width,
            h: height,
            data,
        })
    }

    fn glyph(&self, index: usize, id: GlyphId, size: u32) -> Option<Arc<Coverage>> {
        let key = (index, id, size);
        if let Some(hit) = self.lock().map.get(&key) {
            return Some(hit.clone());
        }
        let font = self.font(index)?;
        let glyph = id.with_scale_and_position(em_scale(font, size), point(0.0, 0.0));
        let coverage = match font.outline_glyph(glyph) {
            None => Coverage {
                left: 0,
                top: 0,
                w: 0,
                h: 0,
                data: Vec::new(),
            },
            Some(outline) => {
                let b = outline.px_bounds();
                let (w, h) = (b.width() as u32, b.height() as u32);
                let mut data = vec![0u8; w as usize * h as usize];
                outline.draw(|x, y, c| {
                    if x < w && y < h {
                        data[(y * w + x) as usize] = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
                    }
                });
                Coverage {
                    left: b.min.x as i32,
                    top: b.min.y as i32,
                    w,
                    h,
                    data,
                }
            }
        };
        let coverage = Arc::new(coverage);
        let mut cache = self.lock();
        if cache.bytes + coverage.data.len() > GLYPH_CACHE_BYTES {
            cache.map.clear();
            cache.bytes = 0;
        }
        cache.bytes += coverage.data.len();
        cache.map.insert(key, coverage.clone());
        Some(coverage)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GlyphCache> {
        // A panic while holding the lock leaves a usable cache.
        self.glyphs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Glyphs rasterised so far.
    #[cfg(test)]
    fn cached_glyphs(&self) -> usize {
        self.lock().map.len()
    }
}

/// Names compare without case, spaces, `-` or `_`.
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, ' ' | '-' | '_'))
            .flat_map(char::to_lowercase)
            .collect()
    };
    norm(a) == norm(b)
}

/// `size` as the em size (as in CSS and the service's `size_`), where
/// ab_glyph's `PxScale` is the ascent-to-descent height.
fn em_scale(font: &FontVec, size: u32) -> PxScale {
    let em = font.units_per_em().unwrap_or(1000.0);
    PxScale::from(size as f32 * font.height_unscaled() / em)
}

/// Records font files by file name, a few directory levels deep.
fn index(dir: &Path, depth: u32, found: &mut HashMap<String, PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth < 4 {
                index(&path, depth + 1, found);
            }
        } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
            found.entry(name.to_owned()).or_insert(path);
        }
    }
}

#[cfg(test)]
mod tests;
