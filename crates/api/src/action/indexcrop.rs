//! `indexcrop`: cut into slices of `x` (or `y`) pixels, keep slice `i`.

use std::fmt::Write;

use crate::error::PlanError;
use crate::geometry::Rect;
use crate::params::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    X,
    Y,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexCrop {
    pub axis: Axis,
    pub len: u32,
    pub i: u32,
}

impl IndexCrop {
    pub fn parse(p: &Params) -> Result<IndexCrop, PlanError> {
        p.only(&["x", "y", "i"])?;
        let x = p.int("x", 1..=1_000_000)?;
        let y = p.int("y", 1..=1_000_000)?;
        let i = p.int("i", 0..=1_000_000)?.unwrap_or(0) as u32;
        // Both given: y wins, as the service documents.
        let (axis, len) = match (x, y) {
            (_, Some(y)) => (Axis::Y, y),
            (Some(x), None) => (Axis::X, x),
            (None, None) => {
                return Err(PlanError::missing(
                    "'indexcrop' needs x or y (the slice length).",
                ));
            }
        };
        Ok(IndexCrop {
            axis,
            len: len as u32,
            i,
        })
    }

    pub fn canonical(&self, out: &mut String) {
        let axis = match self.axis {
            Axis::X => "x",
            Axis::Y => "y",
        };
        let _ = write!(out, "indexcrop,{axis}_{},i_{}", self.len, self.i);
    }

    /// The slice to keep, or `None` when `i` is past the last slice (the
    /// service then returns the image unchanged). The last slice may be short.
    pub fn rect(&self, w: u32, h: u32) -> Option<Rect> {
        let total = match self.axis {
            Axis::X => w,
            Axis::Y => h,
        };
        let start = u64::from(self.i) * u64::from(self.len);
        if start >= u64::from(total) {
            return None;
        }
        let start = start as u32;
        let len = self.len.min(total - start);
        Some(match self.axis {
            Axis::X => Rect {
                x: start,
                y: 0,
                w: len,
                h,
            },
            Axis::Y => Rect {
                x: 0,
                y: start,
                w,
                h: len,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ic(params: &[&str]) -> Result<IndexCrop, PlanError> {
        IndexCrop::parse(&Params::parse("indexcrop", params))
    }

    #[test]
    fn documented_vectors() {
        assert_eq!(ic(&["y_100", "i_10"]).unwrap().rect(400, 267), None);
        assert_eq!(
            ic(&["x_100", "i_0"]).unwrap().rect(400, 267),
            Some(Rect {
                x: 0,
                y: 0,
                w: 100,
                h: 267
            })
        );
        assert_eq!(
            ic(&["y_100", "i_2"]).unwrap().rect(400, 267),
            Some(Rect {
                x: 0,
                y: 200,
                w: 400,
                h: 67
            })
        );
        assert_eq!(
            ic(&["x_250", "i_1"]).unwrap().rect(400, 267).unwrap().w,
            150
        );
        assert_eq!(ic(&["x_10", "y_100"]).unwrap().axis, Axis::Y);
    }

    #[test]
    fn errors() {
        assert!(ic(&["x_0", "i_0"]).unwrap_err().message.contains("'x'"));
        assert!(ic(&["y_abc", "i_0"]).unwrap_err().message.contains("'y'"));
        assert!(ic(&["x_100", "i_abc"]).unwrap_err().message.contains("'i'"));
        assert!(ic(&["i_1"]).is_err());
    }
}
