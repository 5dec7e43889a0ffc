//! `crop`: w, h (to the edge), x, y (0), g (nw), with the anchor model of SPEC §3.

use std::fmt::Write;

use crate::error::{PlanError, PlanErrorKind};
use crate::geometry::{Gravity, Rect};
use crate::params::Params;

/// Offsets and sizes beyond any image the proxy accepts are still numbers;
/// they are clipped (sizes) or refused at run time (start points).
const MAX: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    /// `None` (or 0): to the edge.
    pub w: Option<u32>,
    pub h: Option<u32>,
    pub x: u32,
    pub y: u32,
    pub g: Gravity,
}

impl Crop {
    pub fn parse(p: &Params) -> Result<Crop, PlanError> {
        // `r_1` is sent by the official SDK tests; the service accepts and ignores it.
        p.only(&["w", "h", "x", "y", "g", "r"])?;
        let g = match p.get("g") {
            None => Gravity::default(),
            Some(g) => Gravity::parse(g).ok_or_else(|| {
                PlanError::invalid(format!(
                    "The value '{g}' of 'g' in 'crop' is not one of {}.",
                    Gravity::NAMES.join(", ")
                ))
            })?,
        };
        let size = |name| -> Result<Option<u32>, PlanError> {
            Ok(p.int(name, 0..=MAX)?.filter(|v| *v > 0).map(|v| v as u32))
        };
        Ok(Crop {
            w: size("w")?,
            h: size("h")?,
            x: p.int("x", 0..=MAX)?.unwrap_or(0) as u32,
            y: p.int("y", 0..=MAX)?.unwrap_or(0) as u32,
            g,
        })
    }

    pub fn canonical(&self, out: &mut String) {
        let _ = write!(out, "crop");
        if let Some(w) = self.w {
            let _ = write!(out, ",w_{w}");
        }
        if let Some(h) = self.h {
            let _ = write!(out, ",h_{h}");
        }
        let _ = write!(out, ",x_{},y_{},g_{}", self.x, self.y, self.g.as_str());
    }

    /// The kept rectangle of a `W`×`H` image, clipped to it; a start point at
    /// or past the edge is the service's BadRequest.
    pub fn rect(&self, img_w: u32, img_h: u32) -> Result<Rect, PlanError> {
        let w = self.w.unwrap_or(img_w);
        let h = self.h.unwrap_or(img_h);
        let (ax, ay) = self.g.anchor(img_w, img_h, w, h);
        let sx = (ax + i64::from(self.x)).max(0);
        let sy = (ay + i64::from(self.y)).max(0);
        if sx >= i64::from(img_w) || sy >= i64::from(img_h) {
            return Err(PlanError {
                kind: PlanErrorKind::BadRequest,
                message: "Advance cut's position is out of image.".to_owned(),
            });
        }
        let (sx, sy) = (sx as u32, sy as u32);
        Ok(Rect {
            x: sx,
            y: sy,
            w: w.min(img_w - sx),
            h: h.min(img_h - sy),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(params: &[&str]) -> Result<Rect, PlanError> {
        Crop::parse(&Params::parse("crop", params))
            .unwrap()
            .rect(400, 267)
    }

    #[test]
    fn documented_vectors_on_400x267() {
        let r = rect(&["x_100", "y_50"]).unwrap();
        assert_eq!((r.w, r.h), (300, 217));
        let r = rect(&["x_100", "y_50", "w_100", "h_100"]).unwrap();
        assert_eq!((r.w, r.h), (100, 100));
        assert_eq!(
            rect(&["w_200", "h_200", "g_se"]).unwrap(),
            Rect {
                x: 200,
                y: 67,
                w: 200,
                h: 200
            }
        );
        assert_eq!(
            rect(&["x_0", "y_0", "w_10000", "h_10000"]).unwrap(),
            Rect {
                x: 0,
                y: 0,
                w: 400,
                h: 267
            }
        );
        assert_eq!(
            rect(&["w_100", "h_100", "x_100", "y_100", "r_1"])
                .unwrap()
                .w,
            100
        );
        let e = rect(&["x_10000", "y_10"]).unwrap_err();
        assert_eq!(e.kind, PlanErrorKind::BadRequest);
        assert_eq!(e.message, "Advance cut's position is out of image.");
        assert!(rect(&["x_400"]).is_err());
        assert_eq!(rect(&["x_399"]).unwrap().w, 1);
    }

    #[test]
    fn gravity_anchors_with_offsets() {
        assert_eq!(
            rect(&["w_100", "h_100", "g_center"]).unwrap(),
            Rect {
                x: 150,
                y: 83,
                w: 100,
                h: 100
            }
        );
        assert_eq!(
            rect(&["w_100", "h_100", "g_north", "y_10"]).unwrap(),
            Rect {
                x: 150,
                y: 10,
                w: 100,
                h: 100
            }
        );
        assert_eq!(rect(&["w_100", "h_100", "g_east", "x_10"]).unwrap().x, 310);
        assert_eq!(
            rect(&["w_100", "h_100", "g_sw"]).unwrap(),
            Rect {
                x: 0,
                y: 167,
                w: 100,
                h: 100
            }
        );
    }

    #[test]
    fn invalid_values() {
        for (params, needle) in [
            (&["w_abc"][..], "'w'"),
            (&["w_-1"], "'w'"),
            (&["h_abc"], "'h'"),
            (&["w_500", "h_500", "g_fac"], "'g'"),
            (&["z_1"], "'z'"),
        ] {
            let e = Crop::parse(&Params::parse("crop", params)).unwrap_err();
            assert!(e.message.contains(needle), "{params:?}: {}", e.message);
        }
    }
}
