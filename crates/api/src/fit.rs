//! The dialect-neutral *fit*: how a resize sizes its output, in no cloud's
//! words. OSS `resize`, Tencent/Qiniu `thumbnail` and `imageView2`, QingStor
//! `resize` and the OSS clones each translate their parameters into a
//! [`Fit`]; [`Fit::layout`] turns it and a source size into the boxes the
//! pixel code needs ([`Layout`]). The layout maths live here once and are
//! property-tested once for every dialect.

use crate::geometry::{Gravity, Rect, round_side};

/// One sizing instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// The size asked for.
    pub size: Size,
    /// Which way the scale may go; a scale it forbids leaves the image unchanged.
    pub upscale: Upscale,
    /// The box is itself an output size the service checks against its
    /// output limits, even where the layout would leave the image smaller
    /// (OSS refuses `m_fixed,w_5000,h_5000` whatever the source).
    pub strict_box: bool,
}

/// The size asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Each axis scaled by this percent (100 keeps it): uniform when `x == y`.
    Percent { x: u32, y: u32 },
    /// Proportional, with at most this many pixels (`Area@`).
    Area(u64),
    /// Fitted to a box, the way `kind` says.
    Box { sides: Sides, kind: BoxKind },
}

/// The sides of a box; an open side does not constrain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sides {
    /// Width and height.
    Wh { w: Option<u32>, h: Option<u32> },
    /// Long and short edge, turned to the source: a landscape (or square)
    /// source's width is the long edge, a portrait one's the short.
    LongShort {
        long: Option<u32>,
        short: Option<u32>,
    },
}

/// How the image meets its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoxKind {
    /// Inside the box, proportional (the smaller ratio).
    Inner,
    /// Covering the box, proportional (the larger ratio).
    Outer,
    /// Exactly the box, aspect ignored; an open side keeps the source's.
    Exact,
    /// Inner, then placed at `gravity` on a `color` canvas the size of the box.
    Pad { color: [u8; 3], gravity: Gravity },
    /// Outer, then cut to the box at `gravity`, moved `dx`, `dy` pixels
    /// inward from the edges the gravity names (right/down for the centre),
    /// never past the scaled image.
    Crop { gravity: Gravity, dx: u32, dy: u32 },
}

/// Which way the scale may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Upscale {
    /// Shrink only: a fit that would enlarge either axis changes nothing.
    #[default]
    Never,
    /// Enlarge only: a fit that would shrink either axis changes nothing.
    Only,
    /// Either way.
    Always,
}

impl Upscale {
    /// Whether scaling by `fx` × `fy` is allowed.
    fn allows(self, fx: f64, fy: f64) -> bool {
        match self {
            Upscale::Never => fx <= 1.0 && fy <= 1.0,
            Upscale::Only => fx >= 1.0 && fy >= 1.0,
            Upscale::Always => true,
        }
    }
}

/// What a fit does to a `W`×`H` image: the boxes the pixel code needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Nothing to do (or the upscale rule forbids the scale).
    Unchanged,
    /// Scale to exactly this size.
    Scale { w: u32, h: u32 },
    /// Scale, then keep `crop` of the scaled image.
    ScaleCrop { w: u32, h: u32, crop: Rect },
    /// Scale, then place at (`x`, `y`) on a `color` canvas.
    ScalePad {
        w: u32,
        h: u32,
        canvas_w: u32,
        canvas_h: u32,
        x: u32,
        y: u32,
        color: [u8; 3],
    },
}

impl Layout {
    /// The size of the image the step produces.
    pub fn output(&self, src_w: u32, src_h: u32) -> (u32, u32) {
        match *self {
            Layout::Unchanged => (src_w, src_h),
            Layout::Scale { w, h } => (w, h),
            Layout::ScaleCrop { crop, .. } => (crop.w, crop.h),
            Layout::ScalePad {
                canvas_w, canvas_h, ..
            } => (canvas_w, canvas_h),
        }
    }

    /// The size the source is scaled to before any crop or pad.
    pub fn scaled(&self, src_w: u32, src_h: u32) -> (u32, u32) {
        match *self {
            Layout::Unchanged => (src_w, src_h),
            Layout::Scale { w, h }
            | Layout::ScaleCrop { w, h, .. }
            | Layout::ScalePad { w, h, .. } => (w, h),
        }
    }
}

impl Sides {
    /// The box as width and height for a `src_w`×`src_h` source.
    pub fn resolve(self, src_w: u32, src_h: u32) -> (Option<u32>, Option<u32>) {
        match self {
            Sides::Wh { w, h } => (w, h),
            Sides::LongShort { long, short } if src_w >= src_h => (long, short),
            Sides::LongShort { long, short } => (short, long),
        }
    }
}

impl Fit {
    /// The same box covered rather than cut: a fill's scale without its
    /// crop (the crop is then chosen elsewhere).
    pub fn covering(self) -> Fit {
        match self.size {
            Size::Box {
                sides,
                kind: BoxKind::Crop { .. },
            } => Fit {
                size: Size::Box {
                    sides,
                    kind: BoxKind::Outer,
                },
                ..self
            },
            _ => self,
        }
    }
    /// The box to check against the output limits whatever the source
    /// (see [`Fit::strict_box`]).
    pub fn requested_box(&self) -> Option<(u32, u32)> {
        match self.size {
            Size::Box {
                sides:
                    Sides::Wh {
                        w: Some(w),
                        h: Some(h),
                    },
                ..
            } if self.strict_box => Some((w, h)),
            _ => None,
        }
    }

    /// The fit as text, every field written: the cache key of a resize no
    /// OSS parameters spell (`fit,box_inner,w_300,h_-,up_never`). Two fits
    /// write the same text only when they are equal.
    pub fn canonical(&self, out: &mut String) {
        use std::fmt::Write;
        let side = |v: Option<u32>| v.map_or("-".to_owned(), |v| v.to_string());
        out.push_str("fit");
        match self.size {
            Size::Percent { x, y } => {
                let _ = write!(out, ",pct_{x}x{y}");
            }
            Size::Area(a) => {
                let _ = write!(out, ",area_{a}");
            }
            Size::Box { sides, kind } => {
                let kind = match kind {
                    BoxKind::Inner => "inner".to_owned(),
                    BoxKind::Outer => "outer".to_owned(),
                    BoxKind::Exact => "exact".to_owned(),
                    BoxKind::Pad {
                        color: [r, g, b],
                        gravity,
                    } => format!("pad-{r:02X}{g:02X}{b:02X}-{}", gravity.as_str()),
                    BoxKind::Crop { gravity, dx, dy } => {
                        format!("crop-{}-{dx}-{dy}", gravity.as_str())
                    }
                };
                let _ = write!(out, ",box_{kind}");
                match sides {
                    Sides::Wh { w, h } => {
                        let _ = write!(out, ",w_{},h_{}", side(w), side(h));
                    }
                    Sides::LongShort { long, short } => {
                        let _ = write!(out, ",l_{},s_{}", side(long), side(short));
                    }
                }
            }
        }
        let up = match self.upscale {
            Upscale::Never => "never",
            Upscale::Only => "only",
            Upscale::Always => "always",
        };
        let _ = write!(out, ",up_{up},strict_{}", u8::from(self.strict_box));
    }

    /// True when the size is a percentage of the source.
    pub fn is_percent(&self) -> bool {
        matches!(self.size, Size::Percent { .. })
    }

    /// The same fit, never enlarging (animations). Enlarge-only that may not
    /// enlarge has nothing left to do: it becomes 100 %.
    pub fn never_enlarging(self) -> Fit {
        match self.upscale {
            Upscale::Only => Fit {
                size: Size::Percent { x: 100, y: 100 },
                upscale: Upscale::Never,
                strict_box: false,
            },
            _ => Fit {
                upscale: Upscale::Never,
                ..self
            },
        }
    }

    /// What the fit does to a `src_w`×`src_h` image. Computed sides round
    /// half away from zero and are never below 1; a side the box names
    /// exactly is kept exactly.
    pub fn layout(&self, src_w: u32, src_h: u32) -> Layout {
        let (sw, sh) = (f64::from(src_w), f64::from(src_h));
        match self.size {
            Size::Percent { x, y } => {
                let (fx, fy) = (f64::from(x) / 100.0, f64::from(y) / 100.0);
                if !self.upscale.allows(fx, fy) {
                    return Layout::Unchanged;
                }
                scale_to(round_side(sw * fx), round_side(sh * fy), src_w, src_h)
            }
            Size::Area(area) => {
                let f = (area as f64 / (sw * sh)).sqrt();
                if !self.upscale.allows(f, f) {
                    return Layout::Unchanged;
                }
                let (w, h) = area_sides(sw * f, sh * f, area);
                scale_to(w, h, src_w, src_h)
            }
            Size::Box { sides, kind } => self.box_layout(sides, kind, src_w, src_h),
        }
    }

    fn box_layout(&self, sides: Sides, kind: BoxKind, src_w: u32, src_h: u32) -> Layout {
        let (sw, sh) = (f64::from(src_w), f64::from(src_h));
        let (bw, bh) = sides.resolve(src_w, src_h);
        if bw.is_none() && bh.is_none() {
            return Layout::Unchanged;
        }
        if kind == BoxKind::Exact {
            let (w, h) = (bw.unwrap_or(src_w), bh.unwrap_or(src_h));
            let allowed = match self.upscale {
                Upscale::Never => w <= src_w && h <= src_h,
                Upscale::Only => w >= src_w && h >= src_h,
                Upscale::Always => true,
            };
            return if allowed {
                scale_to(w, h, src_w, src_h)
            } else {
                Layout::Unchanged
            };
        }
        let fx = bw.map(|b| f64::from(b) / sw);
        let fy = bh.map(|b| f64::from(b) / sh);
        let inner = matches!(kind, BoxKind::Inner | BoxKind::Pad { .. });
        let f = match (fx, fy) {
            (Some(a), Some(b)) if inner => a.min(b),
            (Some(a), Some(b)) => a.max(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => 1.0,
        };
        if !self.upscale.allows(f, f) {
            return Layout::Unchanged;
        }
        // The binding side is exact; the other rounds.
        let w = match bw {
            Some(b) if fx == Some(f) => b,
            _ => round_side(sw * f),
        };
        let h = match bh {
            Some(b) if fy == Some(f) => b,
            _ => round_side(sh * f),
        };
        match kind {
            BoxKind::Crop { gravity, dx, dy } => {
                let (cw, ch) = (bw.unwrap_or(w).min(w), bh.unwrap_or(h).min(h));
                let (x, y) = place(gravity, (w, h), (cw, ch), (dx, dy));
                Layout::ScaleCrop {
                    w,
                    h,
                    crop: Rect { x, y, w: cw, h: ch },
                }
            }
            BoxKind::Pad { color, gravity } => {
                let (canvas_w, canvas_h) = (bw.unwrap_or(w).max(w), bh.unwrap_or(h).max(h));
                let (x, y) = place(gravity, (canvas_w, canvas_h), (w, h), (0, 0));
                Layout::ScalePad {
                    w,
                    h,
                    canvas_w,
                    canvas_h,
                    x,
                    y,
                    color,
                }
            }
            _ => scale_to(w, h, src_w, src_h),
        }
    }
}

fn scale_to(w: u32, h: u32, src_w: u32, src_h: u32) -> Layout {
    if (w, h) == (src_w, src_h) {
        Layout::Unchanged
    } else {
        Layout::Scale { w, h }
    }
}

/// Sides for an area cap: truncated, as ImageMagick's `@` geometry does (so
/// the cap holds), then shortened where a side clamped to 1 left the other
/// too long.
fn area_sides(w: f64, h: f64, area: u64) -> (u32, u32) {
    let side = |v: f64| (v + 1e-9).floor().clamp(1.0, f64::from(u32::MAX)) as u32;
    let (mut w, mut h) = (side(w), side(h));
    let area = area.max(1);
    if u64::from(w) * u64::from(h) > area {
        h = (area / u64::from(w)).max(1) as u32;
    }
    if u64::from(w) * u64::from(h) > area {
        w = (area / u64::from(h)).max(1) as u32;
    }
    (w, h)
}

/// Top-left of a `small` box inside a `big` one (each side of `small` at most
/// `big`'s) at `g`, moved `d` inward and kept inside. The centre is
/// `(big − small) / 2`, rounded down.
fn place(g: Gravity, big: (u32, u32), small: (u32, u32), d: (u32, u32)) -> (u32, u32) {
    let axis = |free: u32, d: u32, at: Edge| match at {
        Edge::Start => d.min(free),
        Edge::Middle => (free / 2).saturating_add(d).min(free),
        Edge::End => free.saturating_sub(d),
    };
    let (col, row) = edges(g);
    (
        axis(big.0 - small.0, d.0, col),
        axis(big.1 - small.1, d.1, row),
    )
}

#[derive(Clone, Copy)]
enum Edge {
    Start,
    Middle,
    End,
}

/// Column and row of a gravity.
fn edges(g: Gravity) -> (Edge, Edge) {
    use Edge::*;
    match g {
        Gravity::Nw => (Start, Start),
        Gravity::North => (Middle, Start),
        Gravity::Ne => (End, Start),
        Gravity::West => (Start, Middle),
        Gravity::Center => (Middle, Middle),
        Gravity::East => (End, Middle),
        Gravity::Sw => (Start, End),
        Gravity::South => (Middle, End),
        Gravity::Se => (End, End),
    }
}

#[cfg(test)]
mod tests;
