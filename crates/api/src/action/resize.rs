//! `resize`: m, w, h, l, s, p, limit, color (SPEC §3).

use std::fmt::Write;

use crate::error::PlanError;
use crate::geometry::{Rect, round_side};
use crate::params::Params;

pub const MAX_SIDE: i64 = 16384;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Lfit,
    Mfit,
    Fill,
    Pad,
    Fixed,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "lfit" => Mode::Lfit,
            "mfit" => Mode::Mfit,
            "fill" => Mode::Fill,
            "pad" => Mode::Pad,
            "fixed" => Mode::Fixed,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Mode::Lfit => "lfit",
            Mode::Mfit => "mfit",
            Mode::Fill => "fill",
            Mode::Pad => "pad",
            Mode::Fixed => "fixed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    pub mode: Mode,
    pub w: Option<u32>,
    pub h: Option<u32>,
    pub l: Option<u32>,
    pub s: Option<u32>,
    /// Percent, used only when none of w, h, l, s is given.
    pub p: Option<u32>,
    /// Never enlarge (default true).
    pub limit: bool,
    /// Pad colour, RGB.
    pub color: [u8; 3],
}

/// What `resize` does to a `W`×`H` image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeLayout {
    /// `limit_1` and the target is larger than the source, or nothing to do.
    Unchanged,
    /// Scale to exactly this size.
    Scale { w: u32, h: u32 },
    /// Scale, then keep `crop` of the scaled image (fill).
    ScaleCrop { w: u32, h: u32, crop: Rect },
    /// Scale, then centre on a canvas of `color` (pad).
    ScalePad {
        w: u32,
        h: u32,
        canvas_w: u32,
        canvas_h: u32,
        x: u32,
        y: u32,
    },
}

impl ResizeLayout {
    /// The size of the image the step produces.
    pub fn output(&self, src_w: u32, src_h: u32) -> (u32, u32) {
        match *self {
            ResizeLayout::Unchanged => (src_w, src_h),
            ResizeLayout::Scale { w, h } => (w, h),
            ResizeLayout::ScaleCrop { crop, .. } => (crop.w, crop.h),
            ResizeLayout::ScalePad {
                canvas_w, canvas_h, ..
            } => (canvas_w, canvas_h),
        }
    }

    /// The size the source is scaled to before any crop or pad.
    pub fn scaled(&self, src_w: u32, src_h: u32) -> (u32, u32) {
        match *self {
            ResizeLayout::Unchanged => (src_w, src_h),
            ResizeLayout::Scale { w, h }
            | ResizeLayout::ScaleCrop { w, h, .. }
            | ResizeLayout::ScalePad { w, h, .. } => (w, h),
        }
    }
}

impl Resize {
    pub fn parse(p: &Params) -> Result<Resize, PlanError> {
        p.only(&["m", "w", "h", "l", "s", "p", "limit", "color"])?;
        let side = |name| p.int(name, 1..=MAX_SIDE).map(|v| v.map(|v| v as u32));
        let mode = match p.get("m") {
            None => Mode::default(),
            Some(m) => Mode::parse(m).ok_or_else(|| {
                PlanError::invalid(format!(
                    "The value '{m}' of 'm' in 'resize' is not one of lfit, mfit, fill, pad, fixed."
                ))
            })?,
        };
        let color = match p.get("color") {
            None => [255, 255, 255],
            Some(c) => parse_hex_color(c).ok_or_else(|| {
                PlanError::invalid(format!(
                    "The value '{c}' of 'color' in 'resize' is not six hex digits RRGGBB."
                ))
            })?,
        };
        let r = Resize {
            mode,
            w: side("w")?,
            h: side("h")?,
            l: side("l")?,
            s: side("s")?,
            p: p.int("p", 1..=1000)?.map(|v| v as u32),
            limit: p.int("limit", 0..=1)?.is_none_or(|v| v == 1),
            color,
        };
        if r.w.is_none() && r.h.is_none() && r.l.is_none() && r.s.is_none() && r.p.is_none() {
            return Err(PlanError::missing(
                "'resize' needs at least one of w, h, l, s or p.",
            ));
        }
        Ok(r)
    }

    /// Defaults written out, parameters in a fixed order; `p` only when it
    /// is used (it is ignored beside w, h, l, s).
    pub fn canonical(&self, out: &mut String) {
        let _ = write!(out, "resize,m_{}", self.mode.as_str());
        for (name, v) in [("w", self.w), ("h", self.h), ("l", self.l), ("s", self.s)] {
            if let Some(v) = v {
                let _ = write!(out, ",{name}_{v}");
            }
        }
        if self.uses_percent()
            && let Some(p) = self.p
        {
            let _ = write!(out, ",p_{p}");
        }
        let _ = write!(out, ",limit_{}", u8::from(self.limit));
        if self.mode == Mode::Pad {
            let [r, g, b] = self.color;
            let _ = write!(out, ",color_{r:02X}{g:02X}{b:02X}");
        }
    }

    /// The box asked for when both sides are given: the service refuses an
    /// oversized request (`m_fixed,w_5000,h_5000`) even if `limit_1` would
    /// leave a small source unchanged.
    pub fn requested_box(&self) -> Option<(u32, u32)> {
        Some((self.w?, self.h?))
    }

    /// True when the size comes from `p` (no w, h, l or s given).
    pub fn uses_percent(&self) -> bool {
        self.w.is_none() && self.h.is_none() && self.l.is_none() && self.s.is_none()
    }

    /// The target box: (w, h), either side possibly open.
    fn target_box(&self, src_w: u32, src_h: u32) -> (Option<f64>, Option<f64>) {
        let (mut w, mut h) = (self.w, self.h);
        if w.is_none() && h.is_none() {
            // l/s name the long and short sides of the source.
            let (long, short) = (self.l, self.s);
            if src_w >= src_h {
                (w, h) = (long, short);
            } else {
                (w, h) = (short, long);
            }
        }
        // fill, pad and fixed with one side: a square box (the service's own
        // example: 200×100 with h_100,m_fixed gives 100×100).
        if matches!(self.mode, Mode::Fill | Mode::Pad | Mode::Fixed) {
            match (w, h) {
                (Some(v), None) => h = Some(v),
                (None, Some(v)) => w = Some(v),
                _ => {}
            }
        }
        (w.map(f64::from), h.map(f64::from))
    }

    pub fn layout(&self, src_w: u32, src_h: u32) -> ResizeLayout {
        let (sw, sh) = (f64::from(src_w), f64::from(src_h));
        let (bw, bh) = self.target_box(src_w, src_h);
        if bw.is_none() && bh.is_none() {
            let Some(p) = self.p else {
                return ResizeLayout::Unchanged;
            };
            let f = f64::from(p) / 100.0;
            if self.limit && f > 1.0 {
                return ResizeLayout::Unchanged;
            }
            return self.scale_to(round_side(sw * f), round_side(sh * f), src_w, src_h);
        }
        let fx = bw.map(|b| b / sw);
        let fy = bh.map(|b| b / sh);
        match self.mode {
            Mode::Fixed => {
                let (w, h) = (bw.map_or(src_w, round_side), bh.map_or(src_h, round_side));
                if self.limit && (w > src_w || h > src_h) {
                    return ResizeLayout::Unchanged;
                }
                self.scale_to(w, h, src_w, src_h)
            }
            Mode::Lfit | Mode::Mfit | Mode::Fill | Mode::Pad => {
                let f = match (fx, fy, self.mode) {
                    (Some(a), Some(b), Mode::Lfit | Mode::Pad) => a.min(b),
                    (Some(a), Some(b), _) => a.max(b),
                    (Some(a), None, _) | (None, Some(a), _) => a,
                    (None, None, _) => 1.0,
                };
                if self.limit && f > 1.0 {
                    return ResizeLayout::Unchanged;
                }
                // The binding side is exact; the other rounds.
                let w = if fx == Some(f) {
                    bw.map_or(src_w, round_side)
                } else {
                    round_side(sw * f)
                };
                let h = if fy == Some(f) {
                    bh.map_or(src_h, round_side)
                } else {
                    round_side(sh * f)
                };
                match self.mode {
                    Mode::Fill => {
                        let (cw, ch) = (
                            bw.map_or(w, round_side).min(w),
                            bh.map_or(h, round_side).min(h),
                        );
                        ResizeLayout::ScaleCrop {
                            w,
                            h,
                            crop: Rect {
                                x: (w - cw) / 2,
                                y: (h - ch) / 2,
                                w: cw,
                                h: ch,
                            },
                        }
                    }
                    Mode::Pad => {
                        let (cw, ch) = (
                            bw.map_or(w, round_side).max(w),
                            bh.map_or(h, round_side).max(h),
                        );
                        ResizeLayout::ScalePad {
                            w,
                            h,
                            canvas_w: cw,
                            canvas_h: ch,
                            x: (cw - w) / 2,
                            y: (ch - h) / 2,
                        }
                    }
                    _ => self.scale_to(w, h, src_w, src_h),
                }
            }
        }
    }

    fn scale_to(&self, w: u32, h: u32, src_w: u32, src_h: u32) -> ResizeLayout {
        if (w, h) == (src_w, src_h) {
            ResizeLayout::Unchanged
        } else {
            ResizeLayout::Scale { w, h }
        }
    }
}

pub fn parse_hex_color(s: &str) -> Option<[u8; 3]> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let v = u32::from_str_radix(s, 16).ok()?;
    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resize(params: &[&str]) -> Resize {
        Resize::parse(&Params::parse("resize", params)).unwrap()
    }

    fn out(params: &[&str], w: u32, h: u32) -> (u32, u32) {
        resize(params).layout(w, h).output(w, h)
    }

    #[test]
    fn documented_vectors() {
        // Reference §8 B, on 200×100.
        assert_eq!(out(&["w_150", "h_80", "m_lfit"], 200, 100), (150, 75));
        assert_eq!(out(&["w_150", "h_80", "m_mfit"], 200, 100), (160, 80));
        assert_eq!(out(&["w_150", "h_80", "m_fill"], 200, 100), (150, 80));
        assert_eq!(out(&["w_150", "h_80", "m_pad"], 200, 100), (150, 80));
        assert_eq!(out(&["w_150", "h_80", "m_fixed"], 200, 100), (150, 80));
        assert_eq!(out(&["h_50"], 200, 100), (100, 50));
        assert_eq!(out(&["h_100", "m_fixed", "limit_0"], 200, 100), (100, 100));
        // On the 400×267 example.
        assert_eq!(out(&["w_100"], 400, 267), (100, 67));
        assert_eq!(out(&["w_200"], 400, 267), (200, 134));
        assert_eq!(out(&["m_mfit", "w_100", "h_200"], 400, 267), (300, 200));
        assert_eq!(out(&["w_500"], 400, 267), (400, 267));
        assert_eq!(out(&["w_500", "limit_0"], 400, 267), (500, 334));
        assert_eq!(out(&["l_100"], 400, 267), (100, 67));
        assert_eq!(out(&["s_100"], 400, 267), (150, 100));
        assert_eq!(out(&["p_50"], 400, 267), (200, 134));
        assert_eq!(out(&["m_fixed", "w_800", "h_500"], 400, 267), (400, 267));
        assert_eq!(out(&["m_fixed", "w_100", "h_100"], 400, 267), (100, 100));
    }

    #[test]
    fn pad_centres_and_fill_crops() {
        let l = resize(&["w_150", "h_80", "m_pad"]).layout(200, 100);
        assert_eq!(
            l,
            ResizeLayout::ScalePad {
                w: 150,
                h: 75,
                canvas_w: 150,
                canvas_h: 80,
                x: 0,
                y: 2
            }
        );
        let l = resize(&["w_150", "h_80", "m_fill"]).layout(200, 100);
        assert_eq!(
            l,
            ResizeLayout::ScaleCrop {
                w: 160,
                h: 80,
                crop: Rect {
                    x: 5,
                    y: 0,
                    w: 150,
                    h: 80
                }
            }
        );
    }

    #[test]
    fn errors_name_the_parameter() {
        for (params, needle) in [
            (&["w_0"][..], "'w'"),
            (&["h_0"], "'h'"),
            (&["l_0"], "'l'"),
            (&["s_0"], "'s'"),
            (&["p_0"], "'p'"),
            (&["w_100", "limit_3"], "'limit'"),
            (&["w_100", "m_abc"], "'m'"),
            (&["w_16385"], "'w'"),
            (&["w_100", "color_GGGGGG"], "'color'"),
            (&["w_100", "q_1"], "'q'"),
            (&[], "at least one"),
        ] {
            let e = Resize::parse(&Params::parse("resize", params)).unwrap_err();
            assert!(e.message.contains(needle), "{params:?}: {}", e.message);
        }
    }

    #[test]
    fn geometry_properties_hold_over_a_grid() {
        // Sides >= 1, within the box for lfit, covering it for mfit, never
        // enlarged under limit_1, aspect kept within rounding.
        for (sw, sh) in [
            (1, 1),
            (7, 3),
            (400, 267),
            (267, 400),
            (4032, 3024),
            (1, 5000),
        ] {
            for b in [1u32, 2, 50, 333, 1000, 16384] {
                for m in ["lfit", "mfit"] {
                    for limit in ["limit_0", "limit_1"] {
                        let r = resize(&[
                            &format!("m_{m}"),
                            &format!("w_{b}"),
                            &format!("h_{b}"),
                            limit,
                        ]);
                        let (w, h) = r.layout(sw, sh).output(sw, sh);
                        assert!(w >= 1 && h >= 1);
                        if limit == "limit_1" {
                            assert!(
                                w <= sw.max(1) && h <= sh.max(1),
                                "{sw}x{sh} {m} {b}: {w}x{h}"
                            );
                        } else if m == "lfit" {
                            assert!(w <= b && h <= b, "{sw}x{sh} lfit {b}: {w}x{h}");
                        } else {
                            assert!(w >= b && h >= b, "{sw}x{sh} mfit {b}: {w}x{h}");
                        }
                        // Each side is off by at most half a pixel (unless clamped to 1).
                        if w > 1 && h > 1 {
                            let src_ratio = f64::from(sw) / f64::from(sh);
                            let ratio = f64::from(w) / f64::from(h);
                            let tol = 0.5 / f64::from(w) + 0.5 / f64::from(h) + 1e-9;
                            assert!(
                                (ratio / src_ratio - 1.0).abs() <= tol * 1.01,
                                "{sw}x{sh} {m} {b}: {w}x{h}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn canonical_fills_defaults_in_order() {
        let mut s = String::new();
        resize(&["w_100", "h_50"]).canonical(&mut s);
        assert_eq!(s, "resize,m_lfit,w_100,h_50,limit_1");
        let mut s = String::new();
        resize(&["color_ff0000", "m_pad", "w_10", "p_50"]).canonical(&mut s);
        assert_eq!(s, "resize,m_pad,w_10,limit_1,color_FF0000");
    }
}
