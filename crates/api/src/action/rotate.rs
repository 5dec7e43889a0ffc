//! `rotate,N`: clockwise by any whole angle; the canvas grows to hold it.

use crate::error::PlanError;
use crate::geometry::round_side;
use crate::params::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotate {
    /// 0..360 (360 is stored as 0).
    pub degrees: u32,
}

impl Rotate {
    pub fn parse(p: &Params) -> Result<Rotate, PlanError> {
        let d = p.single_int(0..=360)?;
        Ok(Rotate {
            degrees: (d % 360) as u32,
        })
    }

    pub fn canonical(&self, out: &mut String) {
        out.push_str(&format!("rotate,{}", self.degrees));
    }

    /// The bounding box of a `W`×`H` image turned by the angle.
    pub fn output(&self, w: u32, h: u32) -> (u32, u32) {
        match self.degrees {
            0 | 180 => (w, h),
            90 | 270 => (h, w),
            d => {
                let rad = f64::from(d).to_radians();
                let (s, c) = (rad.sin().abs(), rad.cos().abs());
                let (w, h) = (f64::from(w), f64::from(h));
                (round_side(w * c + h * s), round_side(w * s + h * c))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rot(v: &str) -> Result<Rotate, PlanError> {
        Rotate::parse(&Params::parse("rotate", &[v]))
    }

    #[test]
    fn sizes() {
        assert_eq!(rot("90").unwrap().output(400, 267), (267, 400));
        assert_eq!(rot("360").unwrap().output(400, 267), (400, 267));
        assert_eq!(rot("45").unwrap().output(300, 200), (354, 354));
        assert!(rot("400").is_err());
        assert!(rot("abc").is_err());
        assert!(Rotate::parse(&Params::parse("rotate", &["90", "200", "300"])).is_err());
        assert!(Rotate::parse(&Params::parse("rotate", &[])).is_err());
    }
}
