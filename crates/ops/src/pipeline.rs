//! The whole offline pipeline for one request: probe -> limits -> cost
//! (refused over the work budget, see cost.rs) -> decode (shrinking on load
//! when the plan allows) -> orient -> steps, each checked against the output
//! limits before it allocates -> encode.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;

use pixgate_api::action::crop::Crop;
use pixgate_api::fit::Layout;
use pixgate_api::geometry::Gravity;
use pixgate_api::{Deliver, Format, Plan, PlanError, Step};
use pixgate_codec::{
    Budget, EncodeOptions, Frame, Gamut, Limits, Probe, decode_animation, decode_vector,
    decode_with_gamut, encode, encode_animation, probe, shrink_factor, to_srgb,
};

use crate::action::{
    adjust, average_hue, blur, crop, flip, frames, grayscale, mask, orient, placeholder, resize,
    rotate, sharpen, smart_crop, watermark,
};
use crate::cost;
use crate::error::OpsError;
use crate::stop::Stop;
use crate::text::Fonts;
use crate::webp_planes;

const WHITE: [u8; 3] = [255, 255, 255];

#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: Limits,
    /// The bucket's default for plans without `auto-orient`.
    pub auto_orient: bool,
    /// Whether a wide-gamut source keeps its samples and ICC profile,
    /// embedded in the output where the format allows, or becomes sRGB.
    pub gamut: Gamut,
    /// When to abandon the work (checked between steps and inside long ones).
    pub stop: Stop,
    /// Fonts for text watermarks; `None`: text watermarks are refused.
    pub fonts: Option<Arc<Fonts>>,
    /// The bytes of every object the plan's image watermarks name, fetched
    /// beforehand by the caller (pixel work does no I/O).
    pub marks: HashMap<String, Bytes>,
}

impl Settings {
    /// Settings without fonts or watermark images.
    pub fn new(limits: Limits, auto_orient: bool, stop: Stop) -> Settings {
        Settings {
            limits,
            auto_orient,
            gamut: Gamut::Srgb,
            stop,
            fonts: None,
            marks: HashMap::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Product {
    Image {
        bytes: Vec<u8>,
        format: Format,
    },
    /// `average-hue`.
    Json(String),
}

/// The output format: the plan's, else the source's; `gif` on a non-GIF
/// source keeps the source format where the dialect's policy says so.
/// A source-only format (SVG) stands for its default output (PNG).
pub fn output_format(plan: &Plan, source: Format) -> Format {
    let source = source.default_output();
    match plan.output.format {
        Some(Format::Gif) if source != Format::Gif && plan.policy.gif_only_from_gif => source,
        Some(f) => f,
        None => source,
    }
}

/// Runs a plan that delivers pixels (an image, or a colour computed from
/// them); metadata answers are `metadata.rs`'s.
pub(crate) fn render(bytes: &[u8], plan: &Plan, settings: &Settings) -> Result<Product, OpsError> {
    let original = bytes;
    let limits = &settings.limits;
    let p = probe(bytes)?;
    limits.check_probe(&p)?;
    let format = crate::negotiate::format(plan, &p, settings.auto_orient);
    let animated = keeps_animation(plan, &p, format);
    let orientation = if animated || !plan.auto_orient.unwrap_or(settings.auto_orient) {
        1
    } else {
        p.orientation
    };
    let shrink = if animated {
        1
    } else {
        decode_shrink(plan, &p, orientation)
    };
    // What the work will cost, refused before any pixel is decoded.
    let source = cost::Source {
        probe: &p,
        bytes,
        shrink,
        orientation,
    };
    let estimate = if animated {
        cost::animation(source, plan, format, settings)
    } else {
        cost::still(source, plan, format, settings)
    };
    cost::check(&estimate, limits, &settings.stop)?;
    if animated {
        return process_animation(bytes, plan, &p, format, settings);
    }
    let alpha_ok = format.keeps_alpha();

    // Every pixel buffer is reserved before it exists (RGBA as the upper
    // bound), and the source bytes count too.
    let mut budget = Budget::new(limits.max_request_bytes);
    budget.reserve(bytes.len() as u64, "the source")?;
    // A vector source is drawn at the size its first resize needs.
    let vector = (p.format == Format::Svg).then(|| vector_size(plan, &p));
    let decoded = match vector {
        Some((w, h)) => rgba_bytes(w, h),
        None => rgba_bytes(p.width.div_ceil(shrink), p.height.div_ceil(shrink)),
    };
    budget.reserve(decoded, "the decoded image")?;
    if let Some(size) = webp_planes::applies(plan, &p, format, orientation, shrink)
        && let Some(product) = webp_planes::render(bytes, plan, &p, size, settings, &mut budget)?
    {
        return Ok(product);
    }
    let mut frame = match vector {
        Some(size) => {
            let fonts = settings
                .fonts
                .as_ref()
                .map(|f| f.files())
                .unwrap_or_default();
            let stopped = || settings.stop.check().is_err();
            match decode_vector(bytes, &p, size, &fonts, limits, &stopped) {
                Ok(frame) => frame,
                // Abandoned while rendering: say so, not "bad image".
                Err(e) => {
                    settings.stop.check()?;
                    return Err(e.into());
                }
            }
        }
        None => decode_with_gamut(bytes, &p, shrink, limits, settings.gamut)?,
    };
    // A watermark is drawn in sRGB: the frame joins it there.
    if plan.steps.iter().any(|s| matches!(s, Step::Watermark(_))) {
        to_srgb(&mut frame);
    }
    // The steps work on the samples as they are; the profile rejoins the
    // frame for the encoder (pixel operations make frames without one).
    let icc = frame.icc.take();
    budget.release(decoded.saturating_sub(frame_bytes(&frame)));
    if orientation != 1 {
        check_rotatable(&frame, limits)?;
        let size = frame_bytes(&frame);
        budget.reserve(size, "auto-orient")?;
        frame = orient::apply_orientation(&frame, orientation);
        budget.release(size);
    }
    // Layout maths speak in the source's (oriented) size, even when the
    // frame was decoded smaller.
    let (mut w, mut h) = if orientation >= 5 {
        (p.height, p.width)
    } else {
        (p.width, p.height)
    };
    for step in &plan.steps {
        settings.stop.check()?;
        let (nw, nh) = checked_step_output(step, w, h, limits)?;
        let (before, reserved) = (frame_bytes(&frame), rgba_bytes(nw, nh));
        budget.reserve(reserved, step.name())?;
        frame = match step {
            Step::Watermark(wm) => {
                let mark = watermark::build(wm, frame.width, frame.height, settings)?;
                let size = mark.as_ref().map_or(0, frame_bytes);
                budget.reserve(size, "the watermark")?;
                let out = watermark::place(frame, mark.as_ref(), wm, settings)?;
                budget.release(size);
                out
            }
            _ => run_step(step, frame, w, h, alpha_ok, settings)?,
        };
        // The input frame is gone; the reservation becomes the real size.
        budget.release((before + reserved).saturating_sub(frame_bytes(&frame)));
        (w, h) = (frame.width, frame.height);
    }

    frame.icc = icc;
    if !matches!(plan.deliver, Deliver::Image | Deliver::Metadata(_)) {
        // Colours and placeholders are read in sRGB, as every viewer would.
        to_srgb(&mut frame);
    }
    match plan.deliver {
        Deliver::Average(body) => {
            return Ok(Product::Json((body.write)(average_hue::average_hue(
                &frame,
            ))));
        }
        // The size the steps produced (the frame may be smaller: shrink-on-load).
        Deliver::Placeholder(kind) => {
            let hash = placeholder::hash(&frame, kind)?;
            return Ok(Product::Json(kind.body(&hash, w, h)));
        }
        Deliver::Image | Deliver::Metadata(_) => {}
    }
    settings.stop.check()?;
    check_format_size(plan, format, frame.width, frame.height)?;
    // The encoded output, at most about the size of the pixels.
    budget.reserve(frame_bytes(&frame), "encoding")?;
    let opts = EncodeOptions {
        quality: output_quality(plan, &p, format),
        progressive: plan.output.interlace.unwrap_or(false),
        background: WHITE,
    };
    let encoded = match plan.output.size_limit {
        Some(limit) if format == Format::Jpg => {
            fit_size(frame, &opts, limit.bytes, &settings.stop)?
        }
        _ => encode(frame, format, &opts)?,
    };
    // `size-limit/…!`: whichever of the source and the result is smaller.
    if plan.output.size_limit.is_some_and(|l| l.or_source) && encoded.len() > original.len() {
        return Ok(Product::Image {
            bytes: original.to_vec(),
            format: p.format,
        });
    }
    Ok(Product::Image {
        bytes: encoded,
        format,
    })
}

/// The quality the plan asks of `format` (a JPEG source's own quality
/// resolves relative and default values).
pub(crate) fn output_quality(plan: &Plan, p: &Probe, format: Format) -> u8 {
    let source_quality = if p.format == Format::Jpg {
        p.quality
    } else {
        None
    };
    plan.output.quality.map_or(
        plan.policy.default_quality_for(format, source_quality),
        |q| q.resolve(source_quality),
    )
}

/// Most JPEG encodes one `size-limit` may spend (a binary search on the
/// quality; the cost model counts them).
pub(crate) const SIZE_LIMIT_ENCODES: u32 = 6;

/// The JPEG at the highest quality, at most `opts.quality`, whose size is
/// at most `max` bytes; the smallest tried when none fits.
fn fit_size(
    frame: Frame,
    opts: &EncodeOptions,
    max: u64,
    stop: &Stop,
) -> Result<Vec<u8>, OpsError> {
    let at = |q: u8| -> Result<Vec<u8>, OpsError> {
        stop.check()?;
        let o = EncodeOptions {
            quality: q,
            ..*opts
        };
        Ok(encode(frame.clone(), Format::Jpg, &o)?)
    };
    let first = at(opts.quality)?;
    if first.len() as u64 <= max {
        return Ok(first);
    }
    let (mut lo, mut hi) = (1u8, opts.quality.saturating_sub(1).max(1));
    let mut best: Option<Vec<u8>> = None;
    let mut smallest = first;
    for _ in 1..SIZE_LIMIT_ENCODES {
        if lo > hi {
            break;
        }
        let q = lo + (hi - lo) / 2;
        let out = at(q)?;
        if out.len() as u64 <= max {
            lo = q + 1;
            best = Some(out);
        } else {
            hi = q.saturating_sub(1);
            if q == 1 || out.len() < smallest.len() {
                smallest = out;
            }
            if q == 1 {
                break;
            }
        }
    }
    Ok(best.unwrap_or(smallest))
}

/// An animated source stays animated when the output can animate (GIF,
/// WebP, AVIF; PNG only from an APNG — an animated GIF asked for as PNG
/// gives its first frame, as the clouds do) and every step is one that
/// runs frame by frame: resize (not by percent where the policy says so),
/// crop, indexcrop, rotate, flip and image watermarks.
/// Anything else renders the first frame.
pub(crate) fn keeps_animation(plan: &Plan, p: &Probe, format: Format) -> bool {
    p.frames > 1
        && (matches!(format, Format::Gif | Format::Webp | Format::Avif)
            || (format == Format::Png && p.format == Format::Png))
        && plan.deliver == Deliver::Image
        && plan.steps.iter().all(|s| match s {
            Step::Resize(r) => !(r.fit.is_percent() && plan.policy.percent_flattens_animation),
            Step::Crop(_)
            | Step::SmartCrop(_)
            | Step::IndexCrop(_)
            | Step::Rotate(_)
            | Step::Flip(_) => true,
            Step::Watermark(w) => w.text.is_none(),
            _ => false,
        })
}

/// Runs the steps on every frame. Where the policy says so, animations are
/// never enlarged, even by a resize that may enlarge.
fn process_animation(
    bytes: &[u8],
    plan: &Plan,
    p: &Probe,
    format: Format,
    settings: &Settings,
) -> Result<Product, OpsError> {
    let limits = &settings.limits;
    let mut budget = Budget::new(limits.max_request_bytes);
    budget.reserve(bytes.len() as u64, "the source")?;
    let canvas = rgba_bytes(p.extent.0.max(p.width), p.extent.1.max(p.height));
    budget.reserve(
        canvas.saturating_mul(u64::from(p.frames.max(1))),
        "the decoded frames",
    )?;
    let mut anim = decode_animation(bytes, p, limits)?;
    if let Some(n) = plan.output.max_frames {
        anim = frames::keep(anim, n);
    }
    let (mut w, mut h) = (anim.frames[0].width, anim.frames[0].height);
    for step in &plan.steps {
        settings.stop.check()?;
        let step = match step {
            Step::Resize(r) => {
                if let Some((bw, bh)) = r.fit.requested_box() {
                    check_output(bw, bh, limits)?;
                }
                let mut r = *r;
                if plan.policy.animations_shrink_only {
                    r.fit = r.fit.never_enlarging();
                }
                Step::Resize(r)
            }
            // One window for every frame (chosen on the first), so the
            // animation does not jump.
            Step::SmartCrop(c) => {
                let r = smart_crop::window(&anim.frames[0], c.w, c.h);
                Step::Crop(Crop {
                    w: Some(r.w),
                    h: Some(r.h),
                    x: r.x,
                    y: r.y,
                    g: Gravity::Nw,
                })
            }
            other => other.clone(),
        };
        let (nw, nh) = step_output(&step, w, h)?;
        check_output(nw, nh, limits)?;
        let before: u64 = anim.frames.iter().map(frame_bytes).sum();
        let reserved = rgba_bytes(nw, nh).saturating_mul(anim.frames.len() as u64);
        budget.reserve(reserved, step.name())?;
        // A watermark's mark is built once and placed on every frame.
        let mark = match &step {
            Step::Watermark(wm) => watermark::build(wm, w, h, settings)?,
            _ => None,
        };
        let mark_size = mark.as_ref().map_or(0, frame_bytes);
        budget.reserve(mark_size, "the watermark")?;
        anim.frames = anim
            .frames
            .into_iter()
            .map(|f| {
                settings.stop.check()?;
                match &step {
                    Step::Watermark(wm) => watermark::place(f, mark.as_ref(), wm, settings),
                    _ => run_step(&step, f, w, h, true, settings),
                }
            })
            .collect::<Result<_, _>>()?;
        budget.release(mark_size);
        let after: u64 = anim.frames.iter().map(frame_bytes).sum();
        budget.release((before + reserved).saturating_sub(after));
        (w, h) = (anim.frames[0].width, anim.frames[0].height);
    }
    check_format_size(plan, format, w, h)?;
    let quality = plan
        .output
        .quality
        .map_or(plan.policy.default_quality_for(format, None), |q| {
            q.resolve(None)
        });
    let bytes = encode_animation(anim, format, quality)?;
    Ok(Product::Image { bytes, format })
}

/// How far a JPEG or a still WebP is shrunk on load (`orientation`: its
/// EXIF value): only when the first step is a resize that downsizes, and
/// never below the size that resize needs.
pub fn decode_shrink(plan: &Plan, p: &Probe, orientation: u8) -> u32 {
    if !p.shrinks_on_load() {
        return 1;
    }
    let (ow, oh) = if orientation >= 5 {
        (p.height, p.width)
    } else {
        (p.width, p.height)
    };
    let need = match plan.steps.first() {
        Some(Step::Resize(r)) => match r.fit.layout(ow, oh) {
            Layout::Unchanged => return 1,
            l => l.scaled(ow, oh),
        },
        // The colour mean needs no detail.
        None if matches!(plan.deliver, Deliver::Average(_)) => (1, 1),
        // A placeholder is computed from a thumbnail of at most 100 px a side.
        None if matches!(plan.deliver, Deliver::Placeholder(_)) => placeholder::thumb_size(ow, oh),
        _ => return 1,
    };
    let need = if orientation >= 5 {
        (need.1, need.0)
    } else {
        need
    };
    match shrink_factor(p.width, p.height, need) {
        // libwebp's shrinking rescaler at 1/2 costs more than it saves
        // (13.1 ms against 11.5 for a full decode of formats/4.webp) and its
        // box filter, resized again, blurs: a full decode and one Lanczos
        // pass scores about 9 SSIMULACRA2 points higher. Above 4 MP the
        // quarter-size frame's memory matters more; at 1/4 and below the
        // rescaler pays in time too.
        2 if p.format == Format::Webp && u64::from(p.width) * u64::from(p.height) <= 4 << 20 => 1,
        factor => factor,
    }
}

/// The size a vector source is rendered at: what the plan's first resize
/// makes of its nominal size (larger or smaller), else the nominal size.
pub(crate) fn vector_size(plan: &Plan, p: &Probe) -> (u32, u32) {
    match plan.steps.first() {
        Some(Step::Resize(r)) => r.fit.layout(p.width, p.height).scaled(p.width, p.height),
        _ => (p.width, p.height),
    }
}

pub(crate) fn rgba_bytes(w: u32, h: u32) -> u64 {
    u64::from(w) * u64::from(h) * 4
}

fn frame_bytes(f: &Frame) -> u64 {
    f.data.len() as u64
}

pub(crate) fn check_output(w: u32, h: u32, limits: &Limits) -> Result<(), OpsError> {
    if w > limits.max_output_side
        || h > limits.max_output_side
        || u64::from(w) * u64::from(h) > limits.max_output_pixels
    {
        return Err(OpsError::OutputTooLarge(format!(
            "The output would be {w}x{h}; each side must be at most {} and the area at most {} pixels.",
            limits.max_output_side, limits.max_output_pixels
        )));
    }
    Ok(())
}

/// The plan's per-format output ceilings (its dialect's policy).
pub(crate) fn check_format_size(
    plan: &Plan,
    format: Format,
    w: u32,
    h: u32,
) -> Result<(), OpsError> {
    let Some((max_w, max_h)) = plan.policy.ceiling(format) else {
        return Ok(());
    };
    // Either orientation of the box is accepted (2304×4096 is as large as 4096×2304).
    let fits = (w <= max_w && h <= max_h) || (w <= max_h && h <= max_w);
    if !fits {
        return Err(OpsError::OutputTooLarge(format!(
            "A {} output can be at most {max_w}x{max_h}; this one would be {w}x{h}.",
            format.as_str()
        )));
    }
    Ok(())
}

fn check_rotatable(f: &Frame, limits: &Limits) -> Result<(), OpsError> {
    if f.width > limits.max_rotate_side || f.height > limits.max_rotate_side {
        return Err(OpsError::InputTooLarge(
            "Picture exceed the maximum allowable rotation range".into(),
        ));
    }
    Ok(())
}

/// The size a step makes of a `w`×`h` frame, refused over the output
/// limits (a resize's requested box too) before anything is allocated.
pub(crate) fn checked_step_output(
    step: &Step,
    w: u32,
    h: u32,
    limits: &Limits,
) -> Result<(u32, u32), OpsError> {
    if let Step::Resize(r) = step
        && let Some((bw, bh)) = r.fit.requested_box()
    {
        check_output(bw, bh, limits)?;
    }
    let (nw, nh) = step_output(step, w, h)?;
    check_output(nw, nh, limits)?;
    Ok((nw, nh))
}

/// The size a step produces from a `w`×`h` image, without touching pixels.
pub(crate) fn step_output(step: &Step, w: u32, h: u32) -> Result<(u32, u32), PlanError> {
    Ok(match step {
        Step::Resize(r) => r.fit.layout(w, h).output(w, h),
        Step::Crop(c) => {
            let r = c.rect(w, h)?;
            (r.w, r.h)
        }
        Step::IndexCrop(c) => c.rect(w, h).map_or((w, h), |r| (r.w, r.h)),
        Step::SmartCrop(c) => c.output(w, h),
        Step::Circle(c) => {
            let side = 2 * c.radius(w, h) + 1;
            (side.min(w), side.min(h))
        }
        Step::Rotate(r) => r.output(w, h),
        Step::RoundedCorners(_)
        | Step::Blur(_)
        | Step::Bright(_)
        | Step::Contrast(_)
        | Step::Sharpen(_)
        | Step::Watermark(_)
        | Step::Flip(_)
        | Step::Grayscale => (w, h),
    })
}

/// Runs one step, consuming the frame (steps that change nothing return it
/// without a copy). `w`×`h` is the size the layout maths use (the source's
/// size for a first resize after shrink-on-load).
pub(crate) fn run_step(
    step: &Step,
    f: Frame,
    w: u32,
    h: u32,
    alpha_ok: bool,
    settings: &Settings,
) -> Result<Frame, OpsError> {
    let limits = &settings.limits;
    Ok(match step {
        Step::Resize(r) => match r.fit.layout(w, h) {
            Layout::Unchanged if (f.width, f.height) == (w, h) => f,
            Layout::Unchanged => resize::scale(&f, w, h)?,
            Layout::Scale { w, h } => resize::scale(&f, w, h)?,
            Layout::ScaleCrop { w, h, crop: rect } => crop::crop(resize::scale(&f, w, h)?, rect),
            Layout::ScalePad {
                w,
                h,
                canvas_w,
                canvas_h,
                x,
                y,
                color,
            } => crop::pad(&resize::scale(&f, w, h)?, canvas_w, canvas_h, x, y, color),
        },
        Step::Crop(c) => {
            let rect = c.rect(f.width, f.height)?;
            crop::crop(f, rect)
        }
        Step::IndexCrop(c) => match c.rect(f.width, f.height) {
            Some(r) => crop::crop(f, r),
            None => f,
        },
        Step::SmartCrop(c) => {
            let rect = smart_crop::window(&f, c.w, c.h);
            crop::crop(f, rect)
        }
        Step::Circle(c) => {
            let r = c.radius(f.width, f.height);
            mask::circle(f, r, alpha_ok, WHITE)
        }
        Step::RoundedCorners(c) => {
            let r = c.radius(f.width, f.height);
            mask::rounded_corners(f, r, alpha_ok, WHITE)
        }
        Step::Rotate(r) if r.degrees == 0 => f,
        Step::Rotate(r) => {
            check_rotatable(&f, limits)?;
            let (ow, oh) = r.output(f.width, f.height);
            rotate::rotate(&f, r.degrees, ow, oh, alpha_ok, WHITE, &settings.stop)?
        }
        Step::Blur(b) => blur::blur(&f, b.r, b.s, &settings.stop)?,
        Step::Bright(v) => adjust::bright(&f, *v),
        Step::Contrast(v) => adjust::contrast(&f, *v),
        Step::Sharpen(v) => sharpen::sharpen(&f, *v, &settings.stop)?,
        Step::Watermark(wm) => watermark::apply(f, wm, settings)?,
        Step::Flip(d) => flip::flip(&f, *d),
        Step::Grayscale => grayscale::grayscale(f),
    })
}
