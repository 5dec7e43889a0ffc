//! Text for watermarks: the service's font names mapped to installed font
//! files, fonts loaded once, glyphs rasterised (anti-aliased, ab_glyph) and
//! kept per (font, glyph, size) so a busy watermark style does not
//! re-rasterise every request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ab_glyph::{Font, FontVec, GlyphId, PxScale, ScaleFont, point};

/// The service's font names and the files that provide them (Debian's
/// fonts-wqy-zenhei, fonts-wqy-microhei and fonts-droid-fallback, and Noto
/// Sans). The Founder (fangzheng*) fonts are commercial and not packaged:
/// they fall back like any unknown name.
const FONT_FILES: [(&str, &[&str]); 4] = [
    ("wqy-zenhei", &["wqy-zenhei.ttc"]),
    ("wqy-microhei", &["wqy-microhei.ttc"]),
    (
        "droidsansfallback",
        &["DroidSansFallbackFull.ttf", "DroidSansFallback.ttf"],
    ),
    ("notosans", &["NotoSans-Regular.ttf"]),
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

/// The fonts the watermark renderer may use, found under `dirs`.
#[derive(Debug)]
pub struct Fonts {
    files: HashMap<&'static str, PathBuf>,
    loaded: Vec<OnceLock<Option<FontVec>>>,
    glyphs: Mutex<GlyphCache>,
}

/// A line of text laid out: glyphs and their pen positions, and its size.
#[derive(Debug)]
pub struct Layout {
    pub w: u32,
    pub h: u32,
    ascent: i32,
    size: u32,
    placed: Vec<(usize, GlyphId, i32)>,
}

/// A line of text laid out and drawn as coverage (0..=255), `w`×`h`.
#[derive(Debug)]
pub struct TextMask {
    pub w: u32,
    pub h: u32,
    pub data: Vec<u8>,
}

impl Fonts {
    /// Looks for the known font files under each directory (recursively).
    pub fn new(dirs: &[PathBuf]) -> Fonts {
        let mut found = HashMap::new();
        for dir in dirs {
            index(dir, 0, &mut found);
        }
        let mut files = HashMap::new();
        for (name, candidates) in FONT_FILES {
            if let Some(path) = candidates.iter().find_map(|c| found.get(*c)) {
                files.insert(name, path.clone());
            }
        }
        Fonts {
            files,
            loaded: FONT_FILES.iter().map(|_| OnceLock::new()).collect(),
            glyphs: Mutex::new(GlyphCache::default()),
        }
    }

    /// The font names that resolved to a file.
    pub fn available(&self) -> Vec<&'static str> {
        FONT_FILES
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| self.files.contains_key(n))
            .collect()
    }

    fn font(&self, index: usize) -> Option<&FontVec> {
        self.loaded[index]
            .get_or_init(|| {
                let path = self.files.get(FONT_FILES[index].0)?;
                let bytes = std::fs::read(path).ok()?;
                FontVec::try_from_vec_and_index(bytes, 0).ok()
            })
            .as_ref()
    }

    /// The fonts to try for `name`, in order: the named one, then every
    /// other installed font (for glyphs the first lacks, and for unknown
    /// or uninstalled names).
    fn chain(&self, name: &str) -> Vec<usize> {
        let wanted = name.to_ascii_lowercase().replace([' ', '_'], "-");
        let first = FONT_FILES
            .iter()
            .position(|(n, _)| *n == wanted || n.replace('-', "") == wanted.replace('-', ""));
        first
            .into_iter()
            .chain(0..FONT_FILES.len())
            .filter(|&i| self.font(i).is_some())
            .fold(Vec::new(), |mut v, i| {
                if !v.contains(&i) {
                    v.push(i);
                }
                v
            })
    }

    /// Where each glyph goes, and the size of the line: cheap, so callers
    /// can check the size against their limits before anything is drawn.
    /// `None` when no font is installed at all.
    pub fn layout(&self, text: &str, font: &str, size: u32) -> Option<Layout> {
        let chain = self.chain(font);
        let primary = self.font(*chain.first()?)?;
        let metrics = primary.as_scaled(em_scale(primary, size));
        let ascent = metrics.ascent().ceil() as i32;
        let height = (metrics.ascent() - metrics.descent()).ceil().max(1.0) as u32;

        // Each character from the first font of the chain that has it.
        let mut placed = Vec::with_capacity(text.len());
        let mut caret = 0.0f32;
        let mut previous: Option<(usize, GlyphId)> = None;
        for ch in text.chars() {
            let (index, id) = chain
                .iter()
                .find_map(|&i| {
                    let id = self.font(i)?.glyph_id(ch);
                    (id.0 != 0).then_some((i, id))
                })
                .unwrap_or((chain[0], GlyphId(0)));
            let face = self.font(index)?;
            let scaled = face.as_scaled(em_scale(face, size));
            if let Some((pi, pid)) = previous
                && pi == index
            {
                caret += scaled.kern(pid, id);
            }
            placed.push((index, id, caret.round() as i32));
            caret += scaled.h_advance(id);
            previous = Some((index, id));
        }
        Some(Layout {
            w: caret.ceil().max(1.0) as u32,
            h: height,
            ascent,
            size,
            placed,
        })
    }

    /// Draws a laid-out line as coverage.
    pub fn draw(&self, layout: &Layout) -> Option<TextMask> {
        let (width, height) = (layout.w, layout.h);
        let mut data = vec![0u8; width as usize * height as usize];
        for &(index, id, x) in &layout.placed {
            let glyph = self.glyph(index, id, layout.size)?;
            for gy in 0..glyph.h as i32 {
                let y = layout.ascent + glyph.top + gy;
                if y < 0 || y >= height as i32 {
                    continue;
                }
                for gx in 0..glyph.w as i32 {
                    let px = x + glyph.left + gx;
                    if px < 0 || px >= width as i32 {
                        continue;
                    }
                    let c = glyph.data[(gy as u32 * glyph.w + gx as u32) as usize];
                    let slot = &mut data[y as usize * width as usize + px as usize];
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
mod tests {
    use super::*;

    /// Lays out and draws, as the watermark does (it checks sizes between).
    fn render(fonts: &Fonts, text: &str, font: &str, size: u32) -> Option<TextMask> {
        fonts.draw(&fonts.layout(text, font, size)?)
    }

    fn corpus_fonts() -> Fonts {
        let dir = std::env::var_os("PIXGATE_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
            })
            .join("fonts");
        Fonts::new(&[dir])
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
}
