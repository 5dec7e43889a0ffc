//! `resize`: m, w, h, l, s, p, limit, color (SPEC §3).

use std::fmt::Write;

use crate::error::PlanError;
use crate::fit::{BoxKind, Fit, Layout, Sides, Size, Upscale};
use crate::geometry::Gravity;
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

/// A `resize` step: what it does, and how the process string spelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resize {
    /// What the step does, in no dialect's words: the pipeline reads only this.
    pub fit: Fit,
    /// OSS's parameters as written, defaults filled: what `canonical`
    /// writes. `None` for a fit another dialect built (its canonical form is
    /// then the fit's own, [`Fit::canonical`]).
    pub spelling: Option<Spelling>,
}

/// `resize`'s parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spelling {
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
        let r = Spelling {
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
        Ok(Resize {
            fit: r.fit(),
            spelling: Some(r),
        })
    }

    /// A step that does what `fit` says, spelled in no dialect's words.
    pub fn from_fit(fit: Fit) -> Resize {
        Resize {
            fit,
            spelling: None,
        }
    }

    pub fn canonical(&self, out: &mut String) {
        match &self.spelling {
            Some(s) => s.canonical(out),
            None => self.fit.canonical(out),
        }
    }

    /// What the step does to a `src_w`×`src_h` image.
    pub fn layout(&self, src_w: u32, src_h: u32) -> Layout {
        self.fit.layout(src_w, src_h)
    }
}

impl Spelling {
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

    /// True when the size comes from `p` (no w, h, l or s given).
    pub fn uses_percent(&self) -> bool {
        self.w.is_none() && self.h.is_none() && self.l.is_none() && self.s.is_none()
    }

    /// The neutral fit these parameters ask for:
    /// - `p` alone: a uniform percent;
    /// - `w`/`h` (these win) or else `l`/`s`: a box, long/short turned to the
    ///   source; lfit inner, mfit outer, fixed exact, fill outer + centre
    ///   crop, pad inner + centre pad in `color`;
    /// - fill, pad and fixed with one side: a square box (the service's own
    ///   example: 200×100 with h_100,m_fixed gives 100×100);
    /// - `limit_1` never enlarges, `limit_0` scales either way;
    /// - a box with `w` and `h` both given is checked against the output
    ///   limits whatever the source.
    pub fn fit(&self) -> Fit {
        let upscale = if self.limit {
            Upscale::Never
        } else {
            Upscale::Always
        };
        let strict_box = self.w.is_some() && self.h.is_some();
        if self.uses_percent() {
            let p = self.p.unwrap_or(100);
            return Fit {
                size: Size::Percent { x: p, y: p },
                upscale,
                strict_box,
            };
        }
        let mut sides = if self.w.is_some() || self.h.is_some() {
            Sides::Wh {
                w: self.w,
                h: self.h,
            }
        } else {
            Sides::LongShort {
                long: self.l,
                short: self.s,
            }
        };
        let kind = match self.mode {
            Mode::Lfit => BoxKind::Inner,
            Mode::Mfit => BoxKind::Outer,
            Mode::Fixed => BoxKind::Exact,
            Mode::Fill => BoxKind::Crop {
                gravity: Gravity::Center,
                dx: 0,
                dy: 0,
            },
            Mode::Pad => BoxKind::Pad {
                color: self.color,
                gravity: Gravity::Center,
            },
        };
        if matches!(self.mode, Mode::Fill | Mode::Pad | Mode::Fixed) {
            let one = match sides {
                Sides::Wh {
                    w: Some(v),
                    h: None,
                }
                | Sides::Wh {
                    w: None,
                    h: Some(v),
                }
                | Sides::LongShort {
                    long: Some(v),
                    short: None,
                }
                | Sides::LongShort {
                    long: None,
                    short: Some(v),
                } => Some(v),
                _ => None,
            };
            if let Some(v) = one {
                sides = Sides::Wh {
                    w: Some(v),
                    h: Some(v),
                };
            }
        }
        Fit {
            size: Size::Box { sides, kind },
            upscale,
            strict_box,
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
    use crate::geometry::Rect;

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
            Layout::ScalePad {
                w: 150,
                h: 75,
                canvas_w: 150,
                canvas_h: 80,
                x: 0,
                y: 2,
                color: [255, 255, 255]
            }
        );
        let l = resize(&["w_150", "h_80", "m_fill"]).layout(200, 100);
        assert_eq!(
            l,
            Layout::ScaleCrop {
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
