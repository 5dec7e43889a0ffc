//! `watermark`: builds the mark (image, text, or both side by side), applies
//! its opacity, and blends it at the gravity with margins — or tiles it over
//! the whole image with `fill_1`.

use pixgate_api::action::watermark::{MarkImage, MarkText, Oversize, Watermark};
use pixgate_api::geometry::{Gravity, Rect};
use pixgate_codec::{Frame, Limits, decode, probe};

use crate::action::{crop, orient, resize, rotate};
use crate::error::OpsError;
use crate::pipeline::{Settings, check_output, run_step, step_output};
use crate::text::{Fonts, Layout};

/// Transparent: the mark's background and its rotation's corners.
const CLEAR: [u8; 3] = [0, 0, 0];

/// Tiling checks the deadline after about this many pixels blended.
const CHECK_EVERY_PX: u64 = 1 << 20;
/// A tile's fixed cost, counted as this many pixels.
const TILE_OVERHEAD_PX: u64 = 64;

pub fn apply(frame: Frame, wm: &Watermark, settings: &Settings) -> Result<Frame, OpsError> {
    let mark = build(wm, frame.width, frame.height, settings)?;
    place(frame, mark.as_ref(), wm, settings)
}

/// The mark for a `main_w`×`main_h` image, opacity applied: built once per
/// request and placed on every frame of an animation. `None`: nothing to draw.
pub fn build(
    wm: &Watermark,
    main_w: u32,
    main_h: u32,
    settings: &Settings,
) -> Result<Option<Frame>, OpsError> {
    let image = match &wm.image {
        Some(m) => mark_image(m, main_w, main_h, settings)?,
        None => None,
    };
    let room = text_room(wm, main_w, main_h, image.as_ref().map(|i| i.width));
    let text = wm
        .text
        .as_ref()
        .map(|t| mark_text(t, room, settings))
        .transpose()?;
    let mut mark = match (image, text) {
        (Some(i), Some(t)) if wm.text_first => side_by_side(&t, &i, wm.align, wm.interval),
        (Some(i), Some(t)) => side_by_side(&i, &t, wm.align, wm.interval),
        (Some(m), None) | (None, Some(m)) => m,
        (None, None) => return Ok(None),
    };
    check_output(mark.width, mark.height, &settings.limits)?;
    if wm.opacity < 100 {
        for px in mark.data.chunks_exact_mut(4) {
            px[3] = ((u32::from(px[3]) * u32::from(wm.opacity) + 50) / 100) as u8;
        }
    }
    Ok(Some(mark))
}

/// Blends a built mark onto `frame` where the watermark says (or tiled).
pub fn place(
    frame: Frame,
    mark: Option<&Frame>,
    wm: &Watermark,
    settings: &Settings,
) -> Result<Frame, OpsError> {
    let Some(mark) = mark else {
        return Ok(frame);
    };
    let (w, h) = (frame.width, frame.height);
    let mut out = frame;
    if wm.fill {
        let step_x = (mark.width + wm.padx).max(1) as usize;
        let step_y = (mark.height + wm.pady).max(1) as usize;
        // The deadline is checked every million or so pixels blended (a
        // tile is at least one call's worth).
        let per_tile = u64::from(mark.width) * u64::from(mark.height) + TILE_OVERHEAD_PX;
        let mut since_check = 0u64;
        for y in (0..h as usize).step_by(step_y) {
            for x in (0..w as usize).step_by(step_x) {
                if since_check >= CHECK_EVERY_PX {
                    settings.stop.check()?;
                    since_check = 0;
                }
                blend(&mut out, mark, x as i64, y as i64);
                since_check += per_tile;
            }
        }
    } else {
        let (x, y) = position(wm, w, h, mark.width, mark.height);
        blend(&mut out, mark, x, y);
    }
    Ok(out)
}

/// Top-left of the mark: the gravity's anchor moved inward by the margins
/// (`x` for the left and right columns, `y` for the top and bottom rows) and
/// by `voffset` along the middle row.
pub fn position(wm: &Watermark, w: u32, h: u32, mw: u32, mh: u32) -> (i64, i64) {
    let (mut x, mut y) = wm.gravity.anchor(w, h, mw, mh);
    let (mx, my) = (i64::from(wm.x), i64::from(wm.y));
    match wm.gravity {
        Gravity::Nw | Gravity::West | Gravity::Sw => x += mx,
        Gravity::Ne | Gravity::East | Gravity::Se => x -= mx,
        Gravity::North | Gravity::Center | Gravity::South => {}
    }
    match wm.gravity {
        Gravity::Nw | Gravity::North | Gravity::Ne => y += my,
        Gravity::Sw | Gravity::South | Gravity::Se => y -= my,
        Gravity::West | Gravity::Center | Gravity::East => y += i64::from(wm.voffset),
    }
    (x, y)
}

/// The watermark object, decoded, oriented, scaled to `P` % of the main
/// image's width (or by its relative scale), then its own pre-processing,
/// then fitted to the main image as its `oversize` says (`None`: skipped).
fn mark_image(
    m: &MarkImage,
    main_w: u32,
    main_h: u32,
    settings: &Settings,
) -> Result<Option<Frame>, OpsError> {
    let bytes = settings.marks.get(&m.key).ok_or_else(|| {
        OpsError::Watermark(format!(
            "The watermark image '{}' could not be read from this bucket.",
            m.key
        ))
    })?;
    let limits = &settings.limits;
    let unreadable = |e| {
        OpsError::Watermark(format!(
            "The watermark image '{}' is not an image this proxy can read ({e}).",
            m.key
        ))
    };
    let p = probe(bytes).map_err(unreadable)?;
    let mut f = decode(bytes, &p, 1, limits).map_err(unreadable)?;
    if p.orientation != 1 {
        f = orient::apply_orientation(&f, p.orientation);
    }
    let mut f = f.into_rgba();
    if let Some((tw, th)) = m.percent_size(main_w, f.width, f.height) {
        check_output(tw, th, limits)?;
        f = resize::scale(&f, tw, th)?;
    }
    if let Some(scale) = m.scale {
        let (tw, th) = scale.size(main_w, main_h, f.width, f.height);
        check_output(tw, th, limits)?;
        f = resize::scale(&f, tw, th)?;
    }
    for step in &m.steps {
        let step = step.step();
        let (w, h) = (f.width, f.height);
        // The mark's own steps obey the output limits before allocating.
        let (nw, nh) = step_output(&step, w, h)?;
        check_output(nw, nh, limits)?;
        f = run_step(&step, f, w, h, true, settings)?;
    }
    let f = f.into_rgba();
    let (fw, fh) = (f.width, f.height);
    if fw <= main_w && fh <= main_h {
        return Ok(Some(f));
    }
    Ok(match m.oversize {
        Oversize::Overlay => Some(f),
        Oversize::Skip => None,
        Oversize::Shrink => {
            // The largest size with the mark's aspect ratio that fits.
            let k = (f64::from(main_w) / f64::from(fw)).min(f64::from(main_h) / f64::from(fh));
            let side = |v: u32| ((f64::from(v) * k).round() as u32).max(1);
            Some(resize::scale(
                &f,
                side(fw).min(main_w),
                side(fh).min(main_h),
            )?)
        }
        Oversize::Crop => Some(crop::crop(
            f,
            Rect {
                x: 0,
                y: 0,
                w: fw.min(main_w),
                h: fh.min(main_h),
            },
        )),
    })
}

/// The room a text mark has on a `main_w`×`main_h` image: the image less
/// the margins its gravity applies (all of it when tiled), less the image
/// mark and the interval beside it when there is one.
pub(crate) fn text_room(
    wm: &Watermark,
    main_w: u32,
    main_h: u32,
    image_w: Option<u32>,
) -> (u32, u32) {
    let (mut w, mut h) = (main_w, main_h);
    if !wm.fill {
        if !matches!(
            wm.gravity,
            Gravity::North | Gravity::Center | Gravity::South
        ) {
            w = w.saturating_sub(wm.x);
        }
        if !matches!(wm.gravity, Gravity::West | Gravity::Center | Gravity::East) {
            h = h.saturating_sub(wm.y);
        }
    }
    if let Some(iw) = image_w {
        w = w.saturating_sub(iw.saturating_add(wm.interval));
    }
    (w.max(1), h.max(1))
}

/// A text mark laid out: its line, and its shadow's offset.
#[derive(Debug)]
pub(crate) struct FittedText {
    pub layout: Layout,
    pub off: u32,
}

/// The text laid out at its size or, when the block (shadow and rotation
/// included) would not fit in `room`, at the largest smaller size where it
/// does (down to 1 px; a line too long even then is drawn and clipped).
/// Shrinking rather than cutting keeps the whole text readable when a
/// style meets a small image. The block at the requested size must still
/// be within the output limits, like any step's output: a request for a
/// 64 000-px line is refused, not shrunk. `Ok(None)`: no font at all.
pub(crate) fn fit_text(
    fonts: &Fonts,
    t: &MarkText,
    room: (u32, u32),
    limits: &Limits,
) -> Result<Option<FittedText>, OpsError> {
    let mut size = t.size.max(1);
    let mut first = true;
    // A few tries: the width is close to proportional to the size, so the
    // second is almost always the one.
    for _ in 0..8 {
        let Some(layout) = fonts.layout(&t.text, &t.font, size) else {
            return Ok(None);
        };
        // The shadow falls down-right by a 20th of the size (at least 1 px).
        let off = if t.shadow > 0 { (size / 20).max(1) } else { 0 };
        let (w, h) = (layout.w + off, layout.h + off);
        let (bw, bh) = if t.rotate == 0 {
            (w, h)
        } else {
            pixgate_api::action::rotate::Rotate { degrees: t.rotate }.output(w, h)
        };
        if first {
            check_output(w, h, limits)?;
            check_output(bw, bh, limits)?;
            first = false;
        }
        if (bw <= room.0 && bh <= room.1) || size == 1 {
            return Ok(Some(FittedText { layout, off }));
        }
        let k = (f64::from(room.0) / f64::from(bw)).min(f64::from(room.1) / f64::from(bh));
        size = ((f64::from(size) * k).floor() as u32).clamp(1, size - 1);
    }
    let off = if t.shadow > 0 { (size / 20).max(1) } else { 0 };
    Ok(fonts
        .layout(&t.text, &t.font, size)
        .map(|layout| FittedText { layout, off }))
}

/// The text in its colour, with its shadow, turned by its angle, fitted
/// to `room`.
fn mark_text(t: &MarkText, room: (u32, u32), settings: &Settings) -> Result<Frame, OpsError> {
    let fonts = settings.fonts.as_ref().ok_or_else(no_font)?;
    let FittedText { layout, off } =
        fit_text(fonts, t, room, &settings.limits)?.ok_or_else(no_font)?;
    let mask = fonts.draw(&layout).ok_or_else(no_font)?;
    let (w, h) = (mask.w + off, mask.h + off);
    let mut f = Frame::filled(w, h, &[0, 0, 0, 0]);
    let put = |f: &mut Frame, x: u32, y: u32, rgb: [u8; 3], a: u8| {
        let i = ((y * w + x) * 4) as usize;
        let under = [f.data[i], f.data[i + 1], f.data[i + 2], f.data[i + 3]];
        let px = over(under, [rgb[0], rgb[1], rgb[2], a]);
        f.data[i..i + 4].copy_from_slice(&px);
    };
    for y in 0..mask.h {
        for x in 0..mask.w {
            let c = mask.data[(y * mask.w + x) as usize];
            if c == 0 {
                continue;
            }
            if off > 0 {
                let a = (u32::from(c) * u32::from(t.shadow) / 100) as u8;
                put(&mut f, x + off, y + off, [0, 0, 0], a);
            }
        }
    }
    for y in 0..mask.h {
        for x in 0..mask.w {
            let c = mask.data[(y * mask.w + x) as usize];
            if c > 0 {
                put(&mut f, x, y, t.color, c);
            }
        }
    }
    if t.rotate != 0 {
        let r = pixgate_api::action::rotate::Rotate { degrees: t.rotate };
        let (ow, oh) = r.output(f.width, f.height);
        check_output(ow, oh, &settings.limits)?;
        f = rotate::rotate(&f, t.rotate, ow, oh, true, CLEAR, &settings.stop)?;
    }
    Ok(f)
}

fn no_font() -> OpsError {
    OpsError::NotImplemented(
        "Text watermarks need a font, and none is installed (see watermark.font_dirs).".into(),
    )
}

/// Two marks in a row, `interval` apart, aligned top (0), middle (1) or
/// bottom (2).
fn side_by_side(a: &Frame, b: &Frame, align: u8, interval: u32) -> Frame {
    let w = a.width + interval + b.width;
    let h = a.height.max(b.height);
    let mut out = Frame::filled(w, h, &[0, 0, 0, 0]);
    let top = |f: &Frame| match align {
        0 => 0,
        1 => (h - f.height) / 2,
        _ => h - f.height,
    };
    blend(&mut out, a, 0, i64::from(top(a)));
    blend(
        &mut out,
        b,
        i64::from(a.width + interval),
        i64::from(top(b)),
    );
    out
}

/// Source-over of an RGBA mark onto `dst` (RGB or RGBA) at (x, y), clipped.
fn blend(dst: &mut Frame, mark: &Frame, x: i64, y: i64) {
    let (dw, dh) = (i64::from(dst.width), i64::from(dst.height));
    let ch = dst.channels as usize;
    for my in 0..i64::from(mark.height) {
        let ty = y + my;
        if ty < 0 || ty >= dh {
            continue;
        }
        for mx in 0..i64::from(mark.width) {
            let tx = x + mx;
            if tx < 0 || tx >= dw {
                continue;
            }
            let m = ((my * i64::from(mark.width) + mx) * 4) as usize;
            let src = [
                mark.data[m],
                mark.data[m + 1],
                mark.data[m + 2],
                mark.data[m + 3],
            ];
            if src[3] == 0 {
                continue;
            }
            let d = ((ty * dw + tx) as usize) * ch;
            let under = if ch == 4 {
                [
                    dst.data[d],
                    dst.data[d + 1],
                    dst.data[d + 2],
                    dst.data[d + 3],
                ]
            } else {
                [dst.data[d], dst.data[d + 1], dst.data[d + 2], 255]
            };
            let px = over(under, src);
            dst.data[d..d + ch].copy_from_slice(&px[..ch]);
        }
    }
}

/// Straight-alpha "over": `top` on `under`.
fn over(under: [u8; 4], top: [u8; 4]) -> [u8; 4] {
    let ta = u32::from(top[3]);
    if ta == 255 {
        return top;
    }
    let ua = u32::from(under[3]) * (255 - ta) / 255;
    let oa = ta + ua;
    if oa == 0 {
        return [0, 0, 0, 0];
    }
    let mix = |t: u8, u: u8| ((u32::from(t) * ta + u32::from(u) * ua + oa / 2) / oa) as u8;
    [
        mix(top[0], under[0]),
        mix(top[1], under[1]),
        mix(top[2], under[2]),
        oa as u8,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_opacity_over_white_is_half_way() {
        assert_eq!(
            over([255, 255, 255, 255], [0, 0, 0, 128]),
            [127, 127, 127, 255]
        );
        assert_eq!(over([10, 20, 30, 255], [0, 0, 0, 0])[..3], [10, 20, 30]);
        assert_eq!(over([0, 0, 0, 0], [200, 100, 50, 100]), [200, 100, 50, 100]);
    }

    #[test]
    fn margins_move_the_mark_inward() {
        let mut wm = Watermark {
            opacity: 100,
            gravity: Gravity::Se,
            x: 10,
            y: 20,
            voffset: 0,
            fill: false,
            padx: 0,
            pady: 0,
            image: None,
            text: None,
            text_first: false,
            align: 0,
            interval: 0,
        };
        assert_eq!(position(&wm, 400, 300, 50, 30), (340, 250));
        wm.gravity = Gravity::Nw;
        assert_eq!(position(&wm, 400, 300, 50, 30), (10, 20));
        wm.gravity = Gravity::Center;
        wm.voffset = -15;
        assert_eq!(position(&wm, 400, 300, 50, 30), (175, 120));
    }

    fn corpus_fonts() -> crate::text::Fonts {
        let corpus = crate::test_corpus();
        crate::text::Fonts::new(&[corpus.join("fonts")])
    }

    fn text(s: &str, size: u32) -> MarkText {
        MarkText {
            text: s.into(),
            font: "notosans".into(),
            color: [0, 0, 0],
            size,
            shadow: 0,
            rotate: 0,
        }
    }

    #[test]
    fn text_room_is_the_image_less_margins_and_the_image_mark() {
        let mut wm = Watermark {
            opacity: 100,
            gravity: Gravity::Se,
            x: 10,
            y: 20,
            voffset: 0,
            fill: false,
            padx: 0,
            pady: 0,
            image: None,
            text: None,
            text_first: false,
            align: 0,
            interval: 5,
        };
        assert_eq!(text_room(&wm, 400, 300, None), (390, 280));
        assert_eq!(text_room(&wm, 400, 300, Some(100)), (285, 280));
        wm.gravity = Gravity::Center;
        assert_eq!(text_room(&wm, 400, 300, None), (400, 300));
        wm.gravity = Gravity::North;
        assert_eq!(text_room(&wm, 400, 300, None), (400, 280));
        wm.fill = true;
        wm.gravity = Gravity::Se;
        assert_eq!(text_room(&wm, 400, 300, None), (400, 300));
        assert_eq!(text_room(&wm, 5, 5, Some(100)), (1, 5));
    }

    #[test]
    fn a_text_wider_than_its_room_is_laid_out_smaller() {
        let fonts = corpus_fonts();
        let limits = pixgate_codec::Limits::default();
        let t = text("pixgate wide watermark", 100);
        let fit = |room| fit_text(&fonts, &t, room, &limits).unwrap().unwrap();
        // Room enough: the size asked for.
        let asked = fit((2000, 500));
        assert_eq!(asked.layout.size(), 100);
        // 390 px: the largest size that fits, nearly filling the room.
        let small = fit((390, 280));
        assert!(small.layout.w <= 390, "{}", small.layout.w);
        assert!(small.layout.w > 370, "{}", small.layout.w);
        assert!(small.layout.size() < 100);
        // Height counts too, and a turned line fits as turned.
        assert!(fit((2000, 60)).layout.h <= 60);
        let mut turned = text("pixgate wide watermark", 100);
        turned.rotate = 90;
        let tall = fit_text(&fonts, &turned, (300, 400), &limits)
            .unwrap()
            .unwrap();
        assert!(tall.layout.w <= 400 && tall.layout.h <= 300);
        // A line too long even at 1 px is laid out at 1 px (drawn clipped).
        assert_eq!(fit((1, 1)).layout.size(), 1);
    }

    #[test]
    fn a_text_over_the_output_limits_as_asked_is_refused() {
        let fonts = corpus_fonts();
        let limits = pixgate_codec::Limits::default();
        let t = text(&"W".repeat(64), 1000);
        let err = fit_text(&fonts, &t, (400, 300), &limits).unwrap_err();
        assert!(matches!(err, OpsError::OutputTooLarge(_)), "{err:?}");
        // No font: nothing to lay out.
        let none = crate::text::Fonts::new(&[]);
        assert!(
            fit_text(&none, &text("a", 40), (400, 300), &limits)
                .unwrap()
                .is_none()
        );
    }

    /// The shared corpus's 128×128 hopper.png as the mark, at the top-left
    /// of a white `w`×`h` image; the box of pixels it changed.
    fn mark_box(mark: MarkImage, w: u32, h: u32) -> Option<(u32, u32, u32, u32)> {
        use pixgate_codec::Limits;
        let corpus = crate::test_corpus();
        let bytes = std::fs::read(corpus.join("formats/hopper.png")).unwrap();
        let mut settings = Settings::new(Limits::default(), true, crate::stop::Stop::never());
        settings.marks.insert(mark.key.clone(), bytes.into());
        let wm = Watermark {
            opacity: 100,
            gravity: Gravity::Nw,
            x: 0,
            y: 0,
            voffset: 0,
            fill: false,
            padx: 0,
            pady: 0,
            image: Some(mark),
            text: None,
            text_first: false,
            align: 0,
            interval: 0,
        };
        let out = apply(Frame::filled(w, h, &[255, 255, 255]), &wm, &settings).unwrap();
        let mut b: Option<(u32, u32, u32, u32)> = None;
        for y in 0..h {
            for x in 0..w {
                let i = ((y * w + x) * 3) as usize;
                if out.data[i..i + 3] != [255, 255, 255] {
                    b = Some(b.map_or((x, y, x + 1, y + 1), |(x0, y0, x1, y1)| {
                        (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1))
                    }));
                }
            }
        }
        b
    }

    #[test]
    fn relative_scale_sizes_the_mark_from_the_main_image() {
        use pixgate_api::action::watermark::{MarkScale, ScaleBy};
        let mut m = MarkImage::new("hopper.png");
        // Half the main image's width: 200 px of a 400×300 image.
        m.scale = Some(MarkScale {
            by: ScaleBy::Width,
            permille: 500,
        });
        let (x0, y0, x1, y1) = mark_box(m.clone(), 400, 300).unwrap();
        assert!(x0 <= 2 && y0 <= 2, "{x0},{y0}");
        assert!(
            (198..=200).contains(&x1) && (198..=200).contains(&y1),
            "{x1}x{y1}"
        );
        // A fifth of the height: 60 px.
        m.scale = Some(MarkScale {
            by: ScaleBy::Height,
            permille: 200,
        });
        let (_, _, x1, y1) = mark_box(m, 400, 300).unwrap();
        assert!(
            (58..=60).contains(&x1) && (58..=60).contains(&y1),
            "{x1}x{y1}"
        );
    }

    #[test]
    fn a_mark_larger_than_the_image_is_overlaid_skipped_shrunk_or_cropped() {
        let with = |oversize| {
            let mut m = MarkImage::new("hopper.png");
            m.oversize = oversize;
            mark_box(m, 100, 60)
        };
        // Overlay: drawn and clipped; skip: not drawn at all.
        assert_eq!(with(Oversize::Overlay).map(|b| (b.2, b.3)), Some((100, 60)));
        assert_eq!(with(Oversize::Skip), None);
        // Shrink: scaled to 60×60, whole; crop: cut to 100×60.
        let (_, _, x1, y1) = with(Oversize::Shrink).unwrap();
        assert!(
            (58..=60).contains(&x1) && (58..=60).contains(&y1),
            "{x1}x{y1}"
        );
        assert_eq!(with(Oversize::Crop).map(|b| (b.2, b.3)), Some((100, 60)));
        // A mark that fits is drawn as it is whatever the rule.
        let mut m = MarkImage::new("hopper.png");
        m.oversize = Oversize::Skip;
        assert!(mark_box(m, 200, 200).is_some_and(|b| b.2 <= 128 && b.2 > 120));
    }
}
