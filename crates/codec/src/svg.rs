//! SVG, rasterised with resvg at the size the plan needs (the vector
//! analogue of JPEG shrink-on-load: `w_300` renders 300 pixels wide, not
//! the nominal size scaled afterwards).
//!
//! Nothing outside the file is read: no `resources_dir`, an image-href
//! resolver that refuses every URL and path (only `data:` images are
//! drawn, each checked against the limits by its header first), no nested
//! SVG images. resvg runs no scripts. Text uses the configured fonts only.
//! Bounded: the source bytes (the byte cap), the element count and nesting
//! depth (checked on a cheap XML parse before usvg, whose converter
//! recurses), the nominal size (source limits), the rendered size (output
//! limits), and pattern tiles (whose buffers resvg sizes from the file).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use resvg::tiny_skia;
use resvg::usvg::{self, fontdb};

use crate::error::{CodecError, plain};
use crate::frame::Frame;
use crate::limits::Limits;

/// Elements an SVG may have. A 20 MB file of empty `<g/>`s would otherwise
/// cost seconds of tree building; real icons and illustrations have a few
/// thousand.
const MAX_ELEMENTS: usize = 200_000;
/// Element nesting; usvg converts groups recursively (a deeper file would
/// overflow the stack of the worker thread).
const MAX_DEPTH: usize = 256;
/// A resolution-independent size when the file gives none (usvg's own
/// fallback for `width="100%"` without a viewBox).
const DEFAULT_SIZE: f64 = 100.0;

fn corrupt(what: impl std::fmt::Display) -> CodecError {
    CodecError::Corrupt(format!(
        "the SVG is not valid ({})",
        plain(&what.to_string())
    ))
}

/// The SVG's nominal size in pixels (rounded up, at least 1), as usvg
/// resolves it: width/height with their units, else the viewBox, else
/// 100×100. Also refuses oversized or over-deep documents.
pub(crate) fn nominal_size(bytes: &[u8]) -> Result<(u32, u32), CodecError> {
    let text = std::str::from_utf8(bytes).map_err(|_| corrupt("it is not UTF-8 text"))?;
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        nodes_limit: (MAX_ELEMENTS * 4) as u32,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => too_complex(),
        e => corrupt(e),
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err(corrupt("its root element is not <svg>"));
    }
    check_structure(&doc)?;
    let (w, h) = size_of(root);
    if !(w.is_finite() && h.is_finite()) || w <= 0.0 || h <= 0.0 {
        return Err(CodecError::Corrupt(format!(
            "the SVG declares a size of {w}x{h}"
        )));
    }
    let px = |v: f64| v.ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
    Ok((px(w), px(h)))
}

fn too_complex() -> CodecError {
    CodecError::TooLarge(format!(
        "The SVG has more than {MAX_ELEMENTS} elements or nests them deeper than {MAX_DEPTH}."
    ))
}

/// Element count and depth, walked without recursion.
fn check_structure(doc: &roxmltree::Document) -> Result<(), CodecError> {
    let mut elements = 0usize;
    let mut stack = vec![(doc.root_element(), 1usize)];
    while let Some((node, depth)) = stack.pop() {
        elements += 1;
        if elements > MAX_ELEMENTS || depth > MAX_DEPTH {
            return Err(too_complex());
        }
        stack.extend(
            node.children()
                .filter(|c| c.is_element())
                .map(|c| (c, depth + 1)),
        );
    }
    Ok(())
}

/// usvg's `resolve_svg_size`, in f64.
fn size_of(svg: roxmltree::Node) -> (f64, f64) {
    let length = |name: &str| -> Option<svgtypes::Length> { svg.attribute(name)?.parse().ok() };
    let view_box = svg
        .attribute("viewBox")
        .and_then(|v| v.parse::<svgtypes::ViewBox>().ok())
        .filter(|v| v.w > 0.0 && v.h > 0.0);
    let font_size = 12.0;
    let (width, height) = (length("width"), length("height"));
    let absolute = |l: svgtypes::Length, of: f64| -> f64 {
        use svgtypes::LengthUnit as U;
        let n = l.number;
        match l.unit {
            U::None | U::Px => n,
            U::Em => n * font_size,
            U::Ex => n * font_size / 2.0,
            U::In => n * 96.0,
            U::Cm => n * 96.0 / 2.54,
            U::Mm => n * 96.0 / 25.4,
            U::Pt => n * 4.0 / 3.0,
            U::Pc => n * 16.0,
            U::Percent => of * n / 100.0,
        }
    };
    match view_box {
        Some(vb) => {
            let w = width.map_or(vb.w, |l| absolute(l, vb.w));
            let h = height.map_or(vb.h, |l| absolute(l, vb.h));
            match (width, height) {
                (Some(_), None) => (w, vb.h * w / vb.w),
                (None, Some(_)) => (vb.w * h / vb.h, h),
                _ => (w, h),
            }
        }
        None => (
            width.map_or(DEFAULT_SIZE, |l| absolute(l, DEFAULT_SIZE)),
            height.map_or(DEFAULT_SIZE, |l| absolute(l, DEFAULT_SIZE)),
        ),
    }
}

/// Renders at exactly `size` (each axis scaled from the nominal size).
/// `fonts`: font files text may use; `stopped`: whether the request was
/// abandoned (checked between parsing and drawing; resvg's drawing itself
/// cannot be interrupted, which is why the element count is bounded).
pub(crate) fn render(
    bytes: &[u8],
    size: (u32, u32),
    nominal: (u32, u32),
    fonts: &[PathBuf],
    limits: &Limits,
    stopped: &dyn Fn() -> bool,
) -> Result<Frame, CodecError> {
    let (w, h) = size;
    if w == 0 || h == 0 {
        return Err(CodecError::Corrupt(format!(
            "cannot render an SVG at {w}x{h}"
        )));
    }
    // At its own size the source limits apply (checked on the probe);
    // any other size is an output the plan asked for.
    if size != nominal
        && (w > limits.max_output_side
            || h > limits.max_output_side
            || u64::from(w) * u64::from(h) > limits.max_output_pixels)
    {
        return Err(CodecError::TooLarge(format!(
            "The SVG would be rendered at {w}x{h}; each side must be at most {} and the area at most {} pixels.",
            limits.max_output_side, limits.max_output_pixels
        )));
    }
    let mut opt = usvg::Options {
        resources_dir: None,
        image_href_resolver: resolver(*limits),
        ..usvg::Options::default()
    };
    // Loading fonts costs time and memory: only for documents with text.
    if contains(bytes, b"text") {
        let (db, family) = font_db(fonts);
        opt.fontdb = db;
        if let Some(family) = family {
            opt.font_family = family;
        }
    }
    let tree = usvg::Tree::from_data(bytes, &opt).map_err(|e| match e {
        usvg::Error::ElementsLimitReached => too_complex(),
        e => corrupt(e),
    })?;
    if stopped() {
        return Err(CodecError::TooLarge(
            "The SVG rendering was abandoned.".into(),
        ));
    }
    let ts = tiny_skia::Transform::from_scale(
        w as f32 / tree.size().width(),
        h as f32 / tree.size().height(),
    );
    check_patterns(tree.root(), ts, limits)?;
    let mut pixmap = tiny_skia::Pixmap::new(w, h).ok_or_else(|| {
        CodecError::TooLarge(format!("An SVG canvas of {w}x{h} cannot be allocated."))
    })?;
    resvg::render(&tree, ts, &mut pixmap.as_mut());
    let mut data = Vec::with_capacity(w as usize * h as usize * 4);
    for px in pixmap.pixels() {
        let c = px.demultiply();
        data.extend_from_slice(&[c.red(), c.green(), c.blue(), c.alpha()]);
    }
    Ok(Frame::new(w, h, 4, data).drop_opaque_alpha())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Pattern tiles are rendered into their own buffer, sized by the tile's
/// rect times the scale it is drawn at: a 100000-unit tile would allocate
/// tens of gigabytes. Tiles are held to the output pixel limit.
fn check_patterns(
    root: &usvg::Group,
    base: tiny_skia::Transform,
    limits: &Limits,
) -> Result<(), CodecError> {
    let mut groups = vec![root];
    let mut seen = 0usize;
    while let Some(g) = groups.pop() {
        seen += 1;
        if seen > MAX_ELEMENTS * 4 {
            return Err(too_complex());
        }
        if let Some(c) = g.clip_path() {
            groups.push(c.root());
        }
        if let Some(m) = g.mask() {
            groups.push(m.root());
        }
        for node in g.children() {
            match node {
                usvg::Node::Group(g) => groups.push(g),
                usvg::Node::Text(t) => groups.push(t.flattened()),
                usvg::Node::Image(_) => {}
                usvg::Node::Path(p) => {
                    let paints = [p.fill().map(|f| f.paint()), p.stroke().map(|s| s.paint())];
                    for paint in paints.into_iter().flatten() {
                        if let usvg::Paint::Pattern(pat) = paint {
                            let ts = base
                                .pre_concat(p.abs_transform())
                                .pre_concat(pat.transform());
                            let (sx, sy) = ts.get_scale();
                            let tw = f64::from(pat.rect().width() * sx);
                            let th = f64::from(pat.rect().height() * sy);
                            let side = f64::from(limits.max_output_side);
                            if tw > side || th > side || tw * th > limits.max_output_pixels as f64 {
                                return Err(CodecError::TooLarge(format!(
                                    "An SVG pattern tile would be {}x{} pixels; each side must be at most {} and the area at most {} pixels.",
                                    tw.round(),
                                    th.round(),
                                    limits.max_output_side,
                                    limits.max_output_pixels
                                )));
                            }
                            groups.push(pat.root());
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Only `data:` images, of the raster formats resvg draws, each within the
/// source limits by its header and all of them together within the source
/// pixel limit. Every path and URL is refused without being looked at.
fn resolver(limits: Limits) -> usvg::ImageHrefResolver<'static> {
    let left = Arc::new(AtomicU64::new(limits.max_source_pixels));
    usvg::ImageHrefResolver {
        resolve_data: Box::new(move |_mime, data: Arc<Vec<u8>>, _opts| {
            let p = crate::probe::probe(&data).ok()?;
            limits.check_probe(&p).ok()?;
            let px = u64::from(p.width) * u64::from(p.height);
            left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(px))
                .ok()?;
            match p.format {
                pixgate_api::Format::Jpg => Some(usvg::ImageKind::JPEG(data)),
                pixgate_api::Format::Png => Some(usvg::ImageKind::PNG(data)),
                pixgate_api::Format::Gif => Some(usvg::ImageKind::GIF(data)),
                pixgate_api::Format::Webp => Some(usvg::ImageKind::WEBP(data)),
                _ => None,
            }
        }),
        resolve_string: Box::new(|_href, _opts| None),
    }
}

/// Font files larger than this are skipped (a stray archive or a huge
/// collection must not be read into memory for a label).
const MAX_FONT_FILE: u64 = 64 << 20;

type FontCache = Option<(Vec<PathBuf>, Arc<fontdb::Database>, Option<String>)>;
static FONTS: Mutex<FontCache> = Mutex::new(None);

/// A font database of `files`, built once per set of files (a server has
/// one), and the family to use where the SVG names none we have.
fn font_db(files: &[PathBuf]) -> (Arc<fontdb::Database>, Option<String>) {
    let mut cache = FONTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((key, db, family)) = cache.as_ref()
        && key.as_slice() == files
    {
        return (db.clone(), family.clone());
    }
    let mut db = fontdb::Database::new();
    for path in files {
        load(&mut db, path);
    }
    // Generic families (sans-serif, serif, …) and the default resolve to
    // the first font given (the watermark's default face).
    let family = db
        .faces()
        .next()
        .and_then(|f| f.families.first().map(|(name, _)| name.clone()));
    if let Some(f) = &family {
        db.set_sans_serif_family(f.clone());
        db.set_serif_family(f.clone());
        db.set_monospace_family(f.clone());
        db.set_cursive_family(f.clone());
        db.set_fantasy_family(f.clone());
    }
    let db = Arc::new(db);
    *cache = Some((files.to_vec(), db.clone(), family.clone()));
    (db, family)
}

fn load(db: &mut fontdb::Database, path: &Path) {
    let small = std::fs::metadata(path).is_ok_and(|m| m.len() <= MAX_FONT_FILE);
    if small && let Ok(data) = std::fs::read(path) {
        db.load_font_data(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(svg: &str) -> Result<(u32, u32), CodecError> {
        nominal_size(svg.as_bytes())
    }

    #[test]
    fn nominal_size_follows_width_height_and_view_box() {
        let ns = r#"xmlns="http://www.w3.org/2000/svg""#;
        assert_eq!(
            size(&format!(r#"<svg {ns} width="120" height="80"/>"#)).unwrap(),
            (120, 80)
        );
        assert_eq!(
            size(&format!(r#"<svg {ns} viewBox="0 0 50 25"/>"#)).unwrap(),
            (50, 25)
        );
        assert_eq!(
            size(&format!(r#"<svg {ns} width="100" viewBox="0 0 50 25"/>"#)).unwrap(),
            (100, 50)
        );
        assert_eq!(
            size(&format!(r#"<svg {ns} width="1in" height="72pt"/>"#)).unwrap(),
            (96, 96)
        );
        assert_eq!(size(&format!(r#"<svg {ns}/>"#)).unwrap(), (100, 100));
        assert!(size(&format!(r#"<svg {ns} width="0" height="10"/>"#)).is_err());
        assert!(size("<html/>").is_err());
        assert!(size("<svg").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_before_usvg() {
        let deep = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg">{}{}</svg>"#,
            "<g>".repeat(MAX_DEPTH + 1),
            "</g>".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(size(&deep), Err(CodecError::TooLarge(_))));
    }

    #[test]
    fn renders_at_the_requested_size() {
        let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">
            <rect width="5" height="10" fill="#f00"/><rect x="5" width="5" height="10" fill="#00f"/></svg>"##;
        let f = render(svg, (300, 300), (10, 10), &[], &Limits::default(), &|| {
            false
        })
        .unwrap();
        assert_eq!((f.width, f.height, f.channels), (300, 300, 3));
        assert_eq!(f.pixel(10, 150), &[255, 0, 0]);
        assert_eq!(f.pixel(290, 150), &[0, 0, 255]);
    }

    #[test]
    fn an_abandoned_request_is_not_drawn() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#;
        let stopped = || true;
        assert!(render(svg, (10, 10), (10, 10), &[], &Limits::default(), &stopped).is_err());
    }

    #[test]
    fn a_huge_pattern_tile_is_refused() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">
            <defs><pattern id="p" width="100000" height="100000" patternUnits="userSpaceOnUse">
            <rect width="5" height="5" fill="red"/></pattern></defs>
            <rect width="10" height="10" fill="url(#p)"/></svg>"#;
        let e = render(svg, (10, 10), (10, 10), &[], &Limits::default(), &|| false).unwrap_err();
        assert!(matches!(e, CodecError::TooLarge(_)), "{e}");
    }
}
