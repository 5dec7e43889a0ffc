//! The cost model: before any pixel is decoded, the work a plan will do on
//! a source, in milliseconds of one core of the reference machine, from the
//! header (size, frames, format, the shrink-on-load factor) and the steps'
//! sizes. `pipeline::process` refuses a plan whose estimate is over
//! `Limits::max_work_ms` (400 ImageTooLarge), so that a small file and a
//! long process string cannot hold a worker for seconds.
//!
//! The walk mirrors the pipeline: each step's output size comes from the
//! same layout maths, and it stops where the pipeline would fail (a step
//! over the output limits, a format's size ceiling), so the estimate is the
//! work done before that error, and the more specific error still wins.
//!
//! The constants are nanoseconds of one core per unit of work, measured on
//! the reference machine (2-core AMD EPYC VM, SSE2 build, `--release`) as
//! process CPU time with `cargo test --release -p pixgate-ops --lib
//! cost::tests::calibrate -- --ignored --nocapture --test-threads 1`, which
//! prints each measurement and the estimate beside the measured time of
//! whole plans. They are rounded up: the estimate errs on the high side.

use pixgate_api::action::watermark::Watermark;
use pixgate_api::fit::Layout;
use pixgate_api::{Deliver, Format, Plan, Step};
use pixgate_codec::{Limits, Probe, probe};

use std::time::Instant;

use crate::action::{blur, sharpen, watermark};
use crate::error::OpsError;
use crate::pipeline::{Settings, check_format_size, check_output, step_output};
use crate::stop::Stop;

/// Nanoseconds of one core per unit; see the module comment for the
/// measuring command. Each is the measured figure rounded up by 5–15 %.
/// "px" is an output pixel of the stage unless named otherwise; "channel"
/// a pixel's channel (3 for RGB, 4 for RGBA).
mod ns {
    /// Baseline JPEG (libjpeg-turbo): per byte of the file (entropy
    /// decoding), plus per decoded pixel (IDCT, colour). The 12 MP photo
    /// (2.9 MB) decoded at 1/1, 1/2, 1/4, 1/8: 114, 59, 52, 39 ms.
    pub const JPEG_BYTE: f64 = 16.0;
    pub const JPEG_PX: f64 = 6.5;
    /// Progressive JPEG, the same file progressive (2.7 MB): 320, 280,
    /// 207 ms at 1/1, 1/2, 1/4; at 1/8 only the DC scans are read, 17 ms,
    /// counted per source pixel.
    pub const JPEG_PROGRESSIVE_BYTE: f64 = 95.0;
    pub const JPEG_PROGRESSIVE_PX: f64 = 10.0;
    pub const JPEG_DC_SOURCE_PX: f64 = 1.6;
    /// A baseline file at 1/8 goes through the same DC decoder, which walks
    /// every AC code: per byte, 25 ms for the 12 MP photo's 2.9 MB (8.6,
    /// rounded up).
    pub const JPEG_DC_BASELINE_BYTE: f64 = 9.0;
    /// Other decoders, per source pixel (and frame): the 12 MP photo
    /// encoded by pixgate in each format and decoded (PNG 11.9, WebP 15.3,
    /// GIF 20.9, BMP 3.8, TIFF 4.8 ns/px); WebP 21.5 on formats/4.webp;
    /// HEIF 67 on formats/IMG_5195.HEIC (8.5 MP camera file: the case
    /// that matters, rounded up by 7 % only), 81 on samplefilehub.heif
    /// (0.3 MP), 73 on a 1 MP AVIF, 34 on pitm.avif; a 1 MP HEIC written by
    /// pixgate's x265 (ultrafast, q85) decodes at about 130 (dense files
    /// decode slower: this errs low).
    pub const PNG_PX: f64 = 13.0;
    pub const WEBP_PX: f64 = 23.0;
    pub const GIF_PX: f64 = 22.0;
    pub const BMP_PX: f64 = 4.5;
    pub const TIFF_PX: f64 = 5.5;
    pub const HEIF_PX: f64 = 72.0;
    /// JPEG XL (jxl-oxide, one thread) and SVG (resvg, per drawn pixel):
    /// estimates, not yet measured here (codec's `jxl::tests::speed`
    /// measures both in --release); a complex SVG costs more per pixel.
    pub const JXL_PX: f64 = 60.0;
    pub const SVG_PX: f64 = 30.0;
    /// Auto-orient and right-angle rotations (a permutation, cache-hostile):
    /// 14.2 ns/px on the 12 MP photo.
    pub const ORIENT_PX: f64 = 15.0;
    /// A pixel copied (crop, pad, clone): 3.4 ns/px.
    pub const COPY_PX: f64 = 4.0;
    /// fast_image_resize Lanczos3, per channel and filter tap, taps being
    /// 6 × max(1, shrink ratio) per pass, plus per output pixel: 12 MP to
    /// 400×300 in 29 ms (0.12 ns/tap), to 2016×1512 in 34 ms, and
    /// 1155×866 to 4096×3072 in 97 ms (the per-pixel part: 5 ns).
    pub const RESIZE_TAP: f64 = 0.12;
    pub const RESIZE_PX: f64 = 5.0;
    /// Blur, per channel and tap (two passes), plus per channel (widening,
    /// rounding): 12 MP RGB at r_3 (7 taps) 167 ms, r_10 (21) 295 ms,
    /// r_50 (101) 990 ms, fitted as 0.12 ns/tap + 2.9 ns/channel.
    pub const BLUR_TAP: f64 = 0.125;
    pub const BLUR_CHANNEL: f64 = 3.0;
    /// Sharpen's mask after its 7-tap blur: 270 ms for 12 MP, 96 ms of it
    /// past the blur (2.6 ns/channel).
    pub const SHARPEN_CHANNEL: f64 = 3.0;
    /// Arbitrary-angle rotate (bilinear, f64, RGBA in and out): 2016×1512 at
    /// 45° (2495×2495) in 320 ms, 51 ns per output pixel.
    pub const ROTATE_PX: f64 = 55.0;
    /// Circle and rounded corners: 13.3 ns/px with a clone (3.4).
    pub const MASK_PX: f64 = 12.0;
    /// Bright and contrast: 4.9 ns/px.
    pub const ADJUST_PX: f64 = 5.5;
    /// Average-hue: 64.8 ns/px.
    pub const HUE_PX: f64 = 70.0;
    /// Watermark, per mark pixel blended and per tile: a 128×128 mark tiled
    /// over 12 MP (768 tiles, 12.6 M pixels) in 181 ms, 14.4 ns/px; an 8×8
    /// one (190 512 tiles, 12.2 M pixels) in 191 ms.
    pub const BLEND_PX: f64 = 15.0;
    pub const TILE: f64 = 100.0;
    /// Text watermark, per pixel of the drawn line: 1 ns/px with the glyphs
    /// cached; rasterising new glyphs costs more, not measured apart: a
    /// generous bound (a line is at most the output limit).
    pub const TEXT_PX: f64 = 10.0;
    /// Encoders, per output pixel (and frame), on the 12 MP photo at q85:
    /// JPEG 6.7, progressive JPEG 23.4, PNG 17.8, WebP 55.8, GIF 216.5,
    /// BMP 6.0, TIFF 4.2 ns/px.
    pub const ENC_JPG_PX: f64 = 7.5;
    pub const ENC_JPG_PROGRESSIVE_PX: f64 = 25.0;
    pub const ENC_PNG_PX: f64 = 19.0;
    pub const ENC_WEBP_PX: f64 = 60.0;
    pub const ENC_GIF_PX: f64 = 230.0;
    pub const ENC_BMP_PX: f64 = 6.5;
    pub const ENC_TIFF_PX: f64 = 4.5;
    /// AVIF (aom, speed 8) per image and per pixel: 160×120 in 26 ms,
    /// 500×375 in 170, 1000×750 in 530, 2000×1500 in 1440.
    pub const ENC_AVIF_IMAGE: f64 = 60e6;
    pub const ENC_AVIF_PX: f64 = 600.0;
    /// HEIC (x265, preset ultrafast) per image and per pixel, the slower of
    /// two runs: 160×120 in 17 ms, 500×375 in 118, 1000×750 in 410,
    /// 2000×1500 in 1540 (about 0.5 µs/px; the 12 MP photo took 6.1 s of
    /// CPU in codec's `heif::tests::x265_presets`).
    pub const ENC_HEIC_IMAGE: f64 = 20e6;
    pub const ENC_HEIC_PX: f64 = 550.0;
    /// Lossless JPEG XL (zune-jpegxl), per pixel: an estimate, as above.
    pub const ENC_JXL_PX: f64 = 30.0;
}

/// The work a plan would do, by stage.
#[derive(Debug, Clone, Default)]
pub struct Estimate {
    /// (stage, nanoseconds), stages in first-seen order, summed.
    parts: Vec<(&'static str, f64)>,
}

impl Estimate {
    fn add(&mut self, stage: &'static str, ns: f64) {
        match self.parts.iter_mut().find(|(s, _)| *s == stage) {
            Some((_, v)) => *v += ns,
            None => self.parts.push((stage, ns)),
        }
    }

    fn merge(&mut self, other: &Estimate, times: f64) {
        for &(s, v) in &other.parts {
            self.add(s, v * times);
        }
    }

    /// The whole estimate, in milliseconds (rounded up).
    pub fn ms(&self) -> u64 {
        to_ms(self.total_ns())
    }

    fn total_ns(&self) -> f64 {
        self.parts.iter().map(|(_, v)| v).sum()
    }

    /// One stage's share, in milliseconds (0 when absent).
    pub fn stage_ms(&self, stage: &str) -> u64 {
        to_ms(
            self.parts
                .iter()
                .filter(|(s, _)| *s == stage)
                .map(|(_, v)| v)
                .sum(),
        )
    }

    /// The three largest stages, "blur 1400 ms, encoding 130 ms, …".
    fn main_costs(&self) -> String {
        let mut parts = self.parts.clone();
        parts.sort_by(|a, b| b.1.total_cmp(&a.1));
        parts
            .iter()
            .take(3)
            .map(|&(s, v)| format!("{s} {} ms", to_ms(v)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn to_ms(ns: f64) -> u64 {
    (ns / 1e6).ceil() as u64
}

/// Refuses an estimate over `limits.max_work_ms` with `TooCostly`; and,
/// first, one that cannot finish before the request's deadline — more than
/// twice the time left, so that an estimate on the high side does not turn
/// away work that would have finished — with `DeadlineExceeded`, as the
/// pipeline would after decoding: when the deadline is the tighter bound,
/// it is the one reported. `max_work_ms = 0` turns the cost model off: no
/// refusal on an estimate at all (the deadline still stops the work).
pub fn check(e: &Estimate, limits: &Limits, stop: &Stop) -> Result<(), OpsError> {
    stop.check()?;
    if limits.max_work_ms == 0 {
        return Ok(());
    }
    let ms = e.ms();
    if let Some(deadline) = stop.deadline() {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .as_millis();
        if u128::from(ms) > 2 * left {
            return Err(OpsError::DeadlineExceeded);
        }
    }
    if ms <= limits.max_work_ms {
        return Ok(());
    }
    Err(OpsError::TooCostly(format!(
        "This request would need about {ms} ms of processing ({}); one request may use at most {} ms.",
        e.main_costs(),
        limits.max_work_ms
    )))
}

/// The source as the pipeline will decode it.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub probe: &'a Probe,
    /// The file.
    pub bytes: &'a [u8],
    /// JPEG shrink-on-load factor (1, 2, 4, 8).
    pub shrink: u32,
    /// EXIF orientation that will be applied (1: none).
    pub orientation: u8,
}

/// A still image: decode, orient, steps, encode to `format`.
pub fn still(src: Source<'_>, plan: &Plan, format: Format, settings: &Settings) -> Estimate {
    let limits = &settings.limits;
    let p = src.probe;
    let mut e = Estimate::default();
    // An SVG is drawn at the size its first resize needs (pipeline.rs).
    let (dw, dh) = if p.format == Format::Svg {
        crate::pipeline::vector_size(plan, p)
    } else {
        (p.width.div_ceil(src.shrink), p.height.div_ceil(src.shrink))
    };
    e.add(
        "decoding",
        if p.format == Format::Svg {
            ns::SVG_PX * px(dw, dh)
        } else {
            decode_ns(src.bytes, p, src.shrink)
        },
    );
    let mut c = channels(p.format);
    // Frame size, and the size the layout maths use (the source's).
    let (mut fw, mut fh) = if src.orientation >= 5 {
        (dh, dw)
    } else {
        (dw, dh)
    };
    let (mut w, mut h) = p.oriented_size();
    if src.orientation != 1 {
        if dw.max(dh) > limits.max_rotate_side {
            return e;
        }
        e.add("auto-orient", ns::ORIENT_PX * px(dw, dh));
    }
    let alpha_ok = format.keeps_alpha();
    for step in &plan.steps {
        let Some((nw, nh)) = checked_output(step, w, h, limits) else {
            return e;
        };
        let Some(ns) = step_ns(step, (fw, fh), (w, h), (nw, nh), &mut c, alpha_ok, settings) else {
            return e;
        };
        e.add(step.name(), ns);
        (fw, fh, w, h) = (nw, nh, nw, nh);
    }
    if matches!(plan.deliver, Deliver::Average(_)) {
        e.add("average-hue", ns::HUE_PX * px(w, h));
        return e;
    }
    // A thumbnail of the frame, then a few components over ≤ 100×100 px.
    if let Deliver::Placeholder(p) = plan.deliver {
        e.add(p.name(), ns::HUE_PX * px(w, h));
        return e;
    }
    if check_format_size(plan, format, w, h).is_ok() {
        let progressive = plan.output.interlace.unwrap_or(false);
        let encodes = if plan.output.size_limit.is_some() && format == Format::Jpg {
            crate::pipeline::SIZE_LIMIT_ENCODES
        } else {
            1
        };
        e.add(
            "encoding",
            encode_ns(format, progressive, w, h) * f64::from(encodes),
        );
    }
    e
}

/// An animation kept animated: every frame decoded, run through the steps
/// (never enlarged) and encoded.
pub fn animation(src: Source<'_>, plan: &Plan, format: Format, settings: &Settings) -> Estimate {
    let limits = &settings.limits;
    let p = src.probe;
    let frames = f64::from(p.frames.max(1));
    let mut e = Estimate::default();
    let canvas = px(p.extent.0.max(p.width), p.extent.1.max(p.height));
    // Every frame is composed on the whole canvas.
    let per_px = decode_ns(src.bytes, p, 1) / px(p.width, p.height).max(1.0);
    e.add("decoding", per_px * canvas * frames);
    let (mut w, mut h) = (p.width, p.height);
    let mut c = 4;
    let mut one_frame = Estimate::default();
    let mut finished = true;
    for step in &plan.steps {
        let step = match step {
            Step::Resize(r) => {
                let mut r = *r;
                r.fit = r.fit.never_enlarging();
                Step::Resize(r)
            }
            other => other.clone(),
        };
        let Some((nw, nh)) = checked_output(&step, w, h, limits) else {
            finished = false;
            break;
        };
        let Some(ns) = step_ns(&step, (w, h), (w, h), (nw, nh), &mut c, true, settings) else {
            finished = false;
            break;
        };
        one_frame.add(step.name(), ns);
        (w, h) = (nw, nh);
    }
    e.merge(&one_frame, frames);
    if finished && check_format_size(plan, format, w, h).is_ok() {
        e.add("encoding", encode_ns(format, false, w, h) * frames);
    }
    e
}

/// The step's output size, or `None` where the pipeline refuses it.
fn checked_output(step: &Step, w: u32, h: u32, limits: &Limits) -> Option<(u32, u32)> {
    if let Step::Resize(r) = step
        && let Some((bw, bh)) = r.fit.requested_box()
    {
        check_output(bw, bh, limits).ok()?;
    }
    let (nw, nh) = step_output(step, w, h).ok()?;
    check_output(nw, nh, limits).ok()?;
    Some((nw, nh))
}

/// One step on a `frame`-sized image whose layout size is `layout`, giving
/// `out`; `c` is the channel count, updated. `None` where the step will
/// fail before its pixel work (a rotation over the side limit, a missing
/// watermark).
fn step_ns(
    step: &Step,
    frame: (u32, u32),
    layout: (u32, u32),
    out: (u32, u32),
    c: &mut u32,
    alpha_ok: bool,
    settings: &Settings,
) -> Option<f64> {
    let (fw, fh) = frame;
    let (ow, oh) = out;
    let cf = f64::from(*c);
    Some(match step {
        Step::Resize(r) => {
            let (w, h) = layout;
            match r.fit.layout(w, h) {
                Layout::Unchanged if frame == layout => 0.0,
                Layout::Unchanged => resize_ns(frame, layout, cf),
                l => {
                    let scaled = l.scaled(w, h);
                    let mut ns = resize_ns(frame, scaled, cf);
                    if !matches!(l, Layout::Scale { .. }) {
                        ns += ns::COPY_PX * px(ow, oh);
                    }
                    ns
                }
            }
        }
        Step::Crop(_) | Step::IndexCrop(_) => ns::COPY_PX * px(ow, oh),
        // Scoring a copy of at most 256² pixels, every window position,
        // then the copy out.
        Step::SmartCrop(_) => {
            let side = f64::from(crate::action::smart_crop::SCORE_SIDE);
            ns::ADJUST_PX * 4.0 * side * side + ns::COPY_PX * px(ow, oh)
        }
        Step::Circle(_) | Step::RoundedCorners(_) => {
            if alpha_ok {
                *c = 4;
            }
            ns::MASK_PX * px(ow, oh)
        }
        Step::Rotate(r) if r.degrees == 0 => 0.0,
        Step::Rotate(_) if fw.max(fh) > settings.limits.max_rotate_side => return None,
        Step::Rotate(r) if r.degrees.is_multiple_of(90) => ns::ORIENT_PX * px(ow, oh),
        Step::Rotate(_) => {
            *c = if alpha_ok { 4 } else { 3 };
            ns::ROTATE_PX * px(ow, oh)
        }
        Step::Blur(b) => convolution_ns(px(fw, fh), cf, blur::kernel_radius(b.r, f64::from(b.s))),
        Step::Sharpen(_) => {
            convolution_ns(px(fw, fh), cf, sharpen::RADIUS) + ns::SHARPEN_CHANNEL * px(fw, fh) * cf
        }
        Step::Bright(_) | Step::Contrast(_) | Step::Grayscale => ns::ADJUST_PX * px(fw, fh),
        Step::Flip(_) => ns::ORIENT_PX * px(ow, oh),
        Step::Watermark(wm) => watermark_ns(wm, fw, fh, settings)?,
    })
}

fn px(w: u32, h: u32) -> f64 {
    f64::from(w) * f64::from(h)
}

/// What the decoder gives before any step: JPEG and BMP are RGB here; the
/// others may carry alpha (RGBA: the dearer case).
fn channels(f: Format) -> u32 {
    match f {
        Format::Jpg | Format::Bmp => 3,
        _ => 4,
    }
}

/// Decoding the first frame of `bytes` (shrunk on load by `shrink`: JPEG).
fn decode_ns(bytes: &[u8], p: &Probe, shrink: u32) -> f64 {
    let source = px(p.width, p.height);
    let len = bytes.len() as f64;
    match p.format {
        Format::Jpg => {
            let decoded = px(p.width.div_ceil(shrink), p.height.div_ceil(shrink));
            match (pixgate_codec::jpeg_is_progressive(bytes), shrink >= 8) {
                (true, true) => ns::JPEG_DC_SOURCE_PX * source,
                // Bytes walked, or blocks visited for a file with little data.
                (false, true) => {
                    (ns::JPEG_DC_BASELINE_BYTE * len).max(ns::JPEG_DC_SOURCE_PX * source)
                }
                (true, false) => {
                    ns::JPEG_PROGRESSIVE_BYTE * len + ns::JPEG_PROGRESSIVE_PX * decoded
                }
                (false, _) => ns::JPEG_BYTE * len + ns::JPEG_PX * decoded,
            }
        }
        Format::Png => ns::PNG_PX * source,
        Format::Webp => ns::WEBP_PX * source,
        Format::Gif => ns::GIF_PX * source,
        Format::Bmp => ns::BMP_PX * source,
        Format::Tiff => ns::TIFF_PX * source,
        Format::Avif | Format::Heic => ns::HEIF_PX * source,
        Format::Jxl => ns::JXL_PX * source,
        Format::Svg => ns::SVG_PX * source,
    }
}

/// Lanczos3 from `from` to `to`: rows first (each of `from.1` rows to
/// `to.0` pixels), then columns, 6 taps per pass widened by the shrink ratio.
fn resize_ns(from: (u32, u32), to: (u32, u32), c: f64) -> f64 {
    if from == to {
        return 0.0;
    }
    let taps = |src: u32, dst: u32| 6.0 * (f64::from(src) / f64::from(dst.max(1))).max(1.0);
    let rows = f64::from(from.1) * f64::from(to.0) * taps(from.0, to.0);
    let cols = px(to.0, to.1) * taps(from.1, to.1);
    ns::RESIZE_TAP * c * (rows + cols) + ns::RESIZE_PX * px(to.0, to.1)
}

/// A separable convolution of `radius` on `pixels` of `c` channels.
fn convolution_ns(pixels: f64, c: f64, radius: u32) -> f64 {
    let taps = f64::from(2 * radius + 1);
    pixels * c * (ns::BLUR_TAP * 2.0 * taps + ns::BLUR_CHANNEL)
}

/// Encoding one `w`×`h` image (or frame).
fn encode_ns(f: Format, progressive: bool, w: u32, h: u32) -> f64 {
    let n = px(w, h);
    match f {
        Format::Jpg if progressive => ns::ENC_JPG_PROGRESSIVE_PX * n,
        Format::Jpg => ns::ENC_JPG_PX * n,
        Format::Png => ns::ENC_PNG_PX * n,
        Format::Webp => ns::ENC_WEBP_PX * n,
        Format::Gif => ns::ENC_GIF_PX * n,
        Format::Bmp => ns::ENC_BMP_PX * n,
        Format::Tiff => ns::ENC_TIFF_PX * n,
        Format::Avif => ns::ENC_AVIF_IMAGE + ns::ENC_AVIF_PX * n,
        Format::Heic => ns::ENC_HEIC_IMAGE + ns::ENC_HEIC_PX * n,
        Format::Jxl => ns::ENC_JXL_PX * n,
        // Never an output (pipeline::output_format writes SVG as PNG).
        Format::Svg => ns::ENC_PNG_PX * n,
    }
}

/// A watermark on a `w`×`h` image: the mark built (decoded and
/// pre-processed, or text drawn), then blended once or tiled.
fn watermark_ns(wm: &Watermark, w: u32, h: u32, settings: &Settings) -> Option<f64> {
    let limits = &settings.limits;
    let mut ns = 0.0;
    let image = match &wm.image {
        Some(m) => {
            let bytes = settings.marks.get(&m.key)?;
            let p = probe(bytes).ok()?;
            ns += decode_ns(bytes, &p, 1);
            let (mut mw, mut mh) = p.oriented_size();
            ns += ns::ORIENT_PX * px(mw, mh);
            if let Some((tw, th)) = m.percent_size(w, mw, mh) {
                check_output(tw, th, limits).ok()?;
                ns += resize_ns((mw, mh), (tw, th), 4.0);
                (mw, mh) = (tw, th);
            }
            let mut c = 4;
            for step in &m.steps {
                let step = step.step();
                let out = checked_output(&step, mw, mh, limits)?;
                ns += step_ns(&step, (mw, mh), (mw, mh), out, &mut c, true, settings)?;
                (mw, mh) = out;
            }
            Some((mw, mh))
        }
        None => None,
    };
    let text = match &wm.text {
        Some(t) => {
            let fonts = settings.fonts.as_ref()?;
            let room = watermark::text_room(wm, w, h, image.map(|i| i.0));
            let watermark::FittedText { layout, off } =
                watermark::fit_text(fonts, t, room, limits).ok()??;
            let (tw, th) = (layout.w + off, layout.h + off);
            check_output(tw, th, limits).ok()?;
            ns += ns::TEXT_PX * px(tw, th);
            if t.rotate == 0 {
                Some((tw, th))
            } else {
                let r = pixgate_api::action::rotate::Rotate { degrees: t.rotate };
                let (rw, rh) = r.output(tw, th);
                check_output(rw, rh, limits).ok()?;
                ns += ns::ROTATE_PX * px(rw, rh);
                Some((rw, rh))
            }
        }
        None => None,
    };
    let (mw, mh) = match (image, text) {
        (Some(i), Some(t)) => {
            let side = (i.0 + wm.interval + t.0, i.1.max(t.1));
            ns += ns::BLEND_PX * (px(i.0, i.1) + px(t.0, t.1)) + ns::COPY_PX * px(side.0, side.1);
            side
        }
        (Some(m), None) | (None, Some(m)) => m,
        (None, None) => return Some(ns),
    };
    check_output(mw, mh, limits).ok()?;
    if wm.opacity < 100 {
        ns += ns::ADJUST_PX * px(mw, mh);
    }
    if wm.fill {
        let tiles_x = f64::from(w.div_ceil((mw + wm.padx).max(1)));
        let tiles_y = f64::from(h.div_ceil((mh + wm.pady).max(1)));
        ns += tiles_x * tiles_y * (ns::TILE + ns::BLEND_PX * px(mw, mh));
    } else {
        ns += ns::BLEND_PX * px(mw, mh);
    }
    Some(ns)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;
    use std::time::Duration;

    use pixgate_codec::{EncodeOptions, decode, encode};

    use super::*;
    use crate::action::{mask, orient, resize, rotate};
    use crate::process;
    use crate::text::Fonts;

    fn corpus() -> PathBuf {
        crate::test_corpus()
    }

    fn read(rel: &str) -> Vec<u8> {
        std::fs::read(corpus().join(rel)).expect("the shared corpus beside the checkout")
    }

    fn settings() -> Settings {
        let mut s = Settings::new(Limits::default(), true, Stop::never());
        s.fonts = Some(Arc::new(Fonts::new(&[corpus().join("fonts")])));
        s.marks
            .insert("hopper.png".into(), read("formats/hopper.png").into());
        s
    }

    /// The estimate `process` would make for `plan` on `bytes`.
    fn estimate(bytes: &[u8], plan: &str, settings: &Settings) -> Estimate {
        let plan = Plan::parse(plan).expect("a valid plan");
        let p = probe(bytes).expect("probe");
        let format = crate::pipeline::output_format(&plan, p.format);
        let orientation = if plan.auto_orient.unwrap_or(settings.auto_orient) {
            p.orientation
        } else {
            1
        };
        let src = Source {
            probe: &p,
            bytes,
            shrink: crate::pipeline::decode_shrink(&plan, &p, orientation),
            orientation,
        };
        if crate::pipeline::keeps_animation(&plan, &p, format) {
            animation(src, &plan, format, settings)
        } else {
            still(src, &plan, format, settings)
        }
    }

    const HOSTILE: &str = "resize,m_fixed,w_4096,h_4096,limit_0/blur,r_50,s_50";

    #[test]
    fn the_hostile_plan_is_refused_before_decoding() {
        let small = read("photos/concert-400x267.jpg");
        let s = settings();
        let e = estimate(&small, HOSTILE, &s);
        // 1.55 s of CPU measured in release on the reference machine.
        assert!(e.ms() > Limits::default().max_work_ms, "{e:?}");
        assert!(e.stage_ms("blur") > e.stage_ms("resize"), "{e:?}");
        let plan = Plan::parse(HOSTILE).unwrap();
        match process(&small, &plan, &s) {
            Err(OpsError::TooCostly(m)) => {
                assert!(m.contains("This request would need about"), "{m}");
                assert!(m.contains("blur"), "{m}");
                assert!(m.contains("at most 1500 ms"), "{m}");
            }
            other => panic!("expected TooCostly, got {other:?}"),
        }
        // 0 means no cost limit.
        let mut free = settings();
        free.limits.max_work_ms = 0;
        assert!(check(&e, &free.limits, &Stop::never()).is_ok());
    }

    #[test]
    fn ordinary_plans_are_under_the_budget() {
        let s = settings();
        let budget = Limits::default().max_work_ms;
        let photo = read("photos/phone-4032x3024.jpg");
        let progressive = read("photos/phone-4032x3024-progressive.jpg");
        let small = read("photos/concert-400x267.jpg");
        // Thumbnails, and the documented examples on small photos: far under.
        for (bytes, plan) in [
            (&photo, "resize,w_400/quality,Q_80"),
            (&progressive, "resize,w_400/format,webp"),
            (&progressive, "resize,w_1000"),
            (&photo, "resize,m_fill,w_300,h_300/format,png"),
            (&photo, "resize,w_200/blur,r_3,s_2"),
            (&photo, "resize,w_200/sharpen,100"),
            (&photo, "resize,w_200/rotate,90"),
            (&small, "blur,r_3,s_2"),
            (&small, "rotate,45/format,png"),
            (&small, "circle,r_100/format,png"),
            (&small, "resize,w_120/format,heic"),
            (&small, "resize,w_120/format,avif"),
            (&small, "resize,w_500,limit_0"),
            (
                &photo,
                "resize,w_400/watermark,image_aG9wcGVyLnBuZw==,t_90,g_se,x_10,y_10",
            ),
            (&photo, "resize,w_400/watermark,text_cGl4Z2F0ZQ==,size_40"),
        ] {
            let e = estimate(bytes, plan, &s);
            assert!(e.ms() < budget / 4, "{plan}: {} ms {e:?}", e.ms());
        }
        // Full-size work on the 12 MP photo: under.
        for plan in [
            "blur,r_3,s_2",
            "sharpen,100",
            "rotate,90",
            "format,webp",
            "format,png",
            "circle,r_100/format,png",
            "resize,w_1000/format,avif",
        ] {
            let e = estimate(&photo, plan, &s);
            assert!(e.ms() < budget, "{plan}: {} ms {e:?}", e.ms());
        }
        // The largest source the pixel limit admits, 250 MP (a 20 MB
        // JPEG, decoded at 1/8), to a thumbnail.
        let mut big = probe(&photo).unwrap();
        (big.width, big.height, big.extent) = (20_000, 12_500, (20_000, 12_500));
        let plan = Plan::parse("resize,w_400").unwrap();
        let shrink = crate::pipeline::decode_shrink(&plan, &big, 1);
        assert_eq!(shrink, 8);
        let big_file = [photo.as_slice(), &vec![0; 17 << 20]].concat();
        let src = Source {
            probe: &big,
            bytes: &big_file,
            shrink,
            orientation: 1,
        };
        let e = still(src, &plan, Format::Jpg, &s);
        assert!(e.ms() < budget / 2, "{e:?}");
        // A 12 MP HEIC camera file (an iPhone's) to a HEIC thumbnail (its
        // own format): decoding ~0.9 s and x265 ~0.04 s, under the budget.
        let heic = read("formats/IMG_5195.HEIC");
        let mut p12 = probe(&heic).unwrap();
        (p12.width, p12.height, p12.extent) = (4032, 3024, (4032, 3024));
        let src = Source {
            probe: &p12,
            bytes: &heic,
            shrink: 1,
            orientation: 1,
        };
        let e = still(src, &plan, Format::Heic, &s);
        assert!(e.ms() < budget, "{e:?}");
        // The largest blur on a 12 MP photo is allowed, just.
        let e = estimate(&photo, "blur,r_50,s_50", &s);
        assert!(e.ms() < budget, "{e:?}");
    }

    #[test]
    fn the_estimate_grows_with_the_parameters() {
        let s = settings();
        let photo = read("photos/phone-4032x3024.jpg");
        let ms = |plan: &str| estimate(&photo, plan, &s).ms();
        assert!(ms("blur,r_3,s_1") < ms("blur,r_10,s_5"));
        assert!(ms("blur,r_10,s_5") < ms("blur,r_50,s_50"));
        // The kernel is cut at 3σ: r_50 with s_2 is r_6.
        assert_eq!(ms("blur,r_50,s_2"), ms("blur,r_6,s_2"));
        assert!(ms("resize,w_400") < ms("resize,w_2000"));
        assert!(ms("resize,w_400/rotate,10") < ms("resize,w_2000/rotate,10"));
        assert!(ms("resize,w_200/format,jpg") < ms("resize,w_200/format,heic"));
        assert!(ms("resize,w_1000/format,avif") < ms("resize,w_2000/format,avif"));
        let tiles = |pad: u32| {
            ms(&format!(
                "watermark,image_aG9wcGVyLnBuZz94LW9zcy1wcm9jZXNzPWltYWdlL3Jlc2l6ZSx3Xzg=,fill_1,padx_{pad},pady_{pad}"
            ))
        };
        assert!(tiles(100) < tiles(0));
        // Frames count: every frame of an animation is decoded, processed
        // and encoded.
        let anim = read("formats/rotating-squares.gif");
        let frames = u64::from(probe(&anim).unwrap().frames);
        assert!(frames > 1);
        let a = estimate(&anim, "rotate,45", &s);
        let mut one = probe(&anim).unwrap();
        one.frames = 1;
        let plan = Plan::parse("rotate,45").unwrap();
        let src = Source {
            probe: &one,
            bytes: &anim,
            shrink: 1,
            orientation: 1,
        };
        let single = animation(src, &plan, Format::Gif, &s);
        let ratio = a.total_ns() / single.total_ns();
        assert!((ratio - frames as f64).abs() < 1e-6, "{a:?} {single:?}");
    }

    #[test]
    fn more_specific_errors_still_win() {
        let s = settings();
        let photo = read("photos/phone-4032x3024.jpg");
        // Over the output limits: the walk stops there (nothing after it is
        // counted), and the pipeline answers OutputTooLarge.
        let huge = "resize,m_fixed,w_16384,h_16384,limit_0/blur,r_50,s_50";
        let e = estimate(&photo, huge, &s);
        assert_eq!(e.stage_ms("blur"), 0, "{e:?}");
        assert!(matches!(
            process(&photo, &Plan::parse(huge).unwrap(), &s),
            Err(OpsError::OutputTooLarge(_))
        ));
        // Work before the failing step counts.
        let late = "blur,r_50,s_50/resize,m_fixed,w_16384,h_16384,limit_0";
        assert!(estimate(&photo, late, &s).stage_ms("blur") > 0);
        // AVIF's 4096×2304 ceiling: no encoding is estimated, and the
        // pipeline answers with the ceiling.
        let e = estimate(&photo, "format,avif", &s);
        assert_eq!(e.stage_ms("encoding"), 0);
        assert!(matches!(
            process(&photo, &Plan::parse("format,avif").unwrap(), &s),
            Err(OpsError::OutputTooLarge(_))
        ));
    }

    #[test]
    fn a_deadline_tighter_than_the_estimate_is_reported_as_such() {
        let small = read("photos/concert-400x267.jpg");
        let s = settings();
        let e = estimate(&small, HOSTILE, &s);
        let soon = Stop::new(Some(Instant::now() + Duration::from_millis(50)), None);
        assert!(matches!(
            check(&e, &s.limits, &soon),
            Err(OpsError::DeadlineExceeded)
        ));
        let cheap = estimate(&small, "resize,w_100", &s);
        assert!(check(&cheap, &s.limits, &soon).is_ok());
        let later = Stop::new(Some(Instant::now() + Duration::from_secs(30)), None);
        assert!(matches!(
            check(&e, &s.limits, &later),
            Err(OpsError::TooCostly(_))
        ));
        // With the cost model off, the work starts and the deadline stops it.
        let off = Limits {
            max_work_ms: 0,
            ..s.limits
        };
        assert!(check(&e, &off, &soon).is_ok());
    }

    /// CPU time of the whole process (every thread), in nanoseconds.
    fn cpu_ns() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        let fields: Vec<f64> = stat
            .rsplit_once(')')
            .map_or("", |(_, r)| r)
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0.0))
            .collect();
        // utime and stime, in ticks of 10 ms (fields 14 and 15).
        (fields[11] + fields[12]) * 1e7
    }

    /// Nanoseconds of CPU per run of `f`, repeated to at least 0.5 s.
    fn measure<T>(mut f: impl FnMut() -> T) -> f64 {
        let start = cpu_ns();
        let mut runs = 0.0;
        loop {
            std::hint::black_box(f());
            runs += 1.0;
            let spent = cpu_ns() - start;
            if spent >= 5e8 {
                return spent / runs;
            }
        }
    }

    fn report(what: &str, ns: f64, units: f64, unit: &str) {
        println!(
            "{what:<44} {:>9.1} ms  {:>8.2} ns/{unit}",
            ns / 1e6,
            ns / units
        );
    }

    /// Prints the measurements behind the constants in `ns`, and the
    /// estimate beside the measured time of whole plans. A measurement,
    /// not a check: run it alone, in release, on an idle machine.
    #[test]
    #[ignore = "a measurement: run in --release, see the module comment"]
    fn calibrate() {
        let limits = Limits {
            max_work_ms: 0,
            ..Limits::default()
        };
        let never = Stop::never();
        for file in [
            "photos/phone-4032x3024.jpg",
            "photos/phone-4032x3024-progressive.jpg",
        ] {
            let bytes = read(file);
            let p = probe(&bytes).unwrap();
            for shrink in [1, 2, 4, 8] {
                let t = measure(|| decode(&bytes, &p, shrink, &limits).unwrap());
                let out = px(p.width.div_ceil(shrink), p.height.div_ceil(shrink));
                println!(
                    "decode {file} 1/{shrink}: {:.1} ms, {} bytes, {out} px; model {:.1} ms",
                    t / 1e6,
                    bytes.len(),
                    decode_ns(&bytes, &p, shrink) / 1e6
                );
            }
        }
        let bytes = read("photos/phone-4032x3024.jpg");
        let p = probe(&bytes).unwrap();
        let full = decode(&bytes, &p, 1, &limits).unwrap();
        let n = px(full.width, full.height);
        let small = resize::scale(&full, 1155, 866).unwrap();
        let opts = EncodeOptions {
            quality: 85,
            ..EncodeOptions::default()
        };
        for (format, frame) in [
            (Format::Jpg, &full),
            (Format::Png, &full),
            (Format::Webp, &full),
            (Format::Gif, &full),
            (Format::Bmp, &full),
            (Format::Tiff, &full),
            (Format::Avif, &small),
            (Format::Heic, &small),
        ] {
            let m = px(frame.width, frame.height);
            let t = measure(|| encode(frame.clone(), format, &opts).unwrap());
            report(&format!("encode {}", format.as_str()), t, m, "px");
            let out = encode(frame.clone(), format, &opts).unwrap();
            let q = probe(&out).unwrap();
            let t = measure(|| decode(&out, &q, 1, &limits).unwrap());
            report(&format!("decode {}", format.as_str()), t, m, "px");
        }
        // HEIF at several sizes (a fixed cost per image, then per pixel),
        // and the corpus's camera files decoded.
        for (w, h) in [(160, 120), (500, 375), (1000, 750), (2000, 1500)] {
            let f = resize::scale(&full, w, h).unwrap();
            for format in [Format::Avif, Format::Heic] {
                let t = measure(|| encode(f.clone(), format, &opts).unwrap());
                report(
                    &format!("encode {} {w}x{h}", format.as_str()),
                    t,
                    px(w, h),
                    "px",
                );
            }
        }
        for file in [
            "formats/IMG_5195.HEIC",
            "formats/pitm.avif",
            "formats/samplefilehub.heif",
            "formats/4.webp",
            "formats/5_webp_a.webp",
            "formats/gradients-rgb8.png",
        ] {
            let bytes = read(file);
            let q = probe(&bytes).unwrap();
            let t = measure(|| decode(&bytes, &q, 1, &limits).unwrap());
            report(&format!("decode {file}"), t, px(q.width, q.height), "px");
        }
        let progressive = EncodeOptions {
            progressive: true,
            ..opts
        };
        let t = measure(|| encode(full.clone(), Format::Jpg, &progressive).unwrap());
        report("encode jpg progressive", t, n, "px");
        let t = measure(|| full.clone());
        report("clone (subtracted from the steps below)", t, n, "px");
        let t = measure(|| orient::apply_orientation(&full, 6));
        report("orient 6", t, n, "px");
        for (from, to) in [
            (&full, (400, 300)),
            (&full, (2016, 1512)),
            (&small, (4096, 3072)),
        ] {
            let t = measure(|| resize::scale(from, to.0, to.1).unwrap());
            let model = resize_ns((from.width, from.height), to, 3.0);
            let taps = (model - ns::COPY_PX * px(to.0, to.1)) / ns::RESIZE_TAP;
            report(
                &format!("resize {}x{} -> {}x{}", from.width, from.height, to.0, to.1),
                t,
                taps,
                "tap",
            );
        }
        for (r, s) in [(3, 2), (10, 5), (50, 50)] {
            let t = measure(|| blur::blur(&full, r, s, &never).unwrap());
            let taps = f64::from(2 * blur::kernel_radius(r, f64::from(s)) + 1);
            report(&format!("blur r{r} s{s}"), t, n * 3.0 * 2.0 * taps, "tap");
        }
        let t = measure(|| sharpen::sharpen(&full, 100, &never).unwrap());
        report("sharpen 100", t, n * 3.0, "px-channel");
        let quarter = resize::scale(&full, 2016, 1512).unwrap();
        let t = measure(|| rotate::rotate(&quarter, 45, 2495, 2495, false, [255; 3], &never));
        report(
            "rotate 45 (2016x1512 -> 2495x2495)",
            t,
            px(2495, 2495),
            "px",
        );
        let t = measure(|| mask::circle(full.clone(), 1500, true, [255; 3]));
        report("circle (with a clone)", t, n, "px");
        let t = measure(|| crate::action::adjust::contrast(&full, 50));
        report("contrast", t, n, "px");
        let t = measure(|| crate::action::average_hue::average_hue(&full));
        report("average-hue", t, n, "px");
        let s = settings();
        for (mark, what) in [
            ("aG9wcGVyLnBuZw==", "hopper 128x128"),
            (
                "aG9wcGVyLnBuZz94LW9zcy1wcm9jZXNzPWltYWdlL3Jlc2l6ZSx3Xzg=",
                "hopper at 8x8",
            ),
        ] {
            let plan = Plan::parse(&format!("watermark,image_{mark},fill_1,t_50")).unwrap();
            let Step::Watermark(wm) = &plan.steps[0] else {
                unreachable!()
            };
            let t = measure(|| crate::action::watermark::apply(full.clone(), wm, &s).unwrap());
            let model = watermark_ns(wm, full.width, full.height, &s).unwrap();
            println!(
                "watermark fill, {what}: {:.1} ms; model {:.1} ms",
                t / 1e6,
                model / 1e6
            );
        }
        let fonts = s.fonts.clone().unwrap();
        let t = measure(|| {
            let l = fonts.layout("pixgate 1234567890", "notosans", 200).unwrap();
            fonts.draw(&l).unwrap()
        });
        let l = fonts.layout("pixgate 1234567890", "notosans", 200).unwrap();
        report(
            "text 18 chars at 200 px (cached glyphs)",
            t,
            px(l.w, l.h),
            "px",
        );

        println!("\nwhole plans: estimate / measured (CPU)");
        let free = Settings {
            limits,
            ..settings()
        };
        for (file, plan) in [
            ("photos/phone-4032x3024.jpg", "resize,w_400/quality,Q_80"),
            ("photos/phone-4032x3024-progressive.jpg", "resize,w_400"),
            ("photos/phone-4032x3024.jpg", "crop,x_1/resize,w_400"),
            ("photos/phone-4032x3024.jpg", "blur,r_3,s_2"),
            ("photos/phone-4032x3024.jpg", "blur,r_50,s_50"),
            ("photos/phone-4032x3024.jpg", "sharpen,100"),
            ("photos/phone-4032x3024.jpg", "rotate,90"),
            ("photos/phone-4032x3024.jpg", "resize,w_2000/rotate,30"),
            ("photos/phone-4032x3024.jpg", "format,webp"),
            ("photos/phone-4032x3024.jpg", "format,png"),
            ("photos/phone-4032x3024.jpg", "resize,w_1000/format,avif"),
            ("photos/phone-4032x3024.jpg", "resize,w_1000/format,heic"),
            (
                "photos/flowers-1920x1080.jpg",
                "resize,w_300/watermark,text_cGl4Z2F0ZQ==,size_40,fill_1",
            ),
            ("photos/concert-400x267.jpg", HOSTILE),
            ("formats/rotating-squares.gif", "resize,w_100"),
            ("formats/4.webp", "resize,w_200"),
            ("formats/gradients-rgb8.png", "resize,w_200"),
            ("formats/IMG_5195.HEIC", "resize,w_200"),
        ] {
            let bytes = read(file);
            let plan_parsed = Plan::parse(plan).unwrap();
            let e = estimate(&bytes, plan, &free);
            let t = measure(|| process(&bytes, &plan_parsed, &free).unwrap());
            println!(
                "{:>7} / {:>7.0} ms  {file} {plan}  [{}]",
                e.ms(),
                t / 1e6,
                e.main_costs()
            );
        }
    }

    /// A still WebP of up to 4 MP is decoded whole where libwebp would
    /// shrink it only by half (its rescaler is slower than a full decode,
    /// and blurs): the
    /// answer is the full picture resized once. Larger shrinks still scale
    /// in the decoder.
    #[test]
    fn a_still_webp_halved_is_decoded_whole_and_resized_once() {
        let bytes = read("formats/4.webp");
        let p = probe(&bytes).unwrap();
        assert_eq!((p.width, p.height), (1024, 772));
        let at = |plan: &str| crate::pipeline::decode_shrink(&Plan::parse(plan).unwrap(), &p, 1);
        assert_eq!(at("resize,m_lfit,w_508,h_508"), 1);
        assert_eq!(at("resize,w_200"), 4);
        // A large WebP keeps the decoder's halving (a quarter of the memory).
        let mut big = p.clone();
        (big.width, big.height) = (8000, 6000);
        let plan = Plan::parse("resize,w_3000").unwrap();
        assert_eq!(crate::pipeline::decode_shrink(&plan, &big, 1), 2);
        let plan = Plan::parse("resize,m_lfit,w_508,h_508/format,png").unwrap();
        let Ok(crate::Product::Image { bytes: png, .. }) = process(&bytes, &plan, &settings())
        else {
            panic!("no image");
        };
        let out = decode(&png, &probe(&png).unwrap(), 1, &Limits::default()).unwrap();
        let full = decode(&bytes, &p, 1, &Limits::default()).unwrap();
        let reference = resize::scale(&full, out.width, out.height).unwrap();
        assert_eq!((out.width, out.height), (508, 383));
        let worst = out
            .data
            .iter()
            .zip(&reference.data)
            .map(|(a, b)| a.abs_diff(*b))
            .max()
            .unwrap();
        assert!(worst <= 1, "differs from one resize by {worst}");
    }
}
