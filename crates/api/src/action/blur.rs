//! `blur,r_N,s_N`: Gaussian blur, radius r (1–50), sigma s (1–50).

use crate::error::PlanError;
use crate::params::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blur {
    pub r: u32,
    pub s: u32,
}

impl Blur {
    pub fn parse(p: &Params) -> Result<Blur, PlanError> {
        if p.get("g").is_some() {
            return Err(PlanError::not_implemented(
                "'blur' with g (face blur) needs face detection, which this proxy does not have.",
            ));
        }
        p.only(&["r", "s"])?;
        let r = p.int("r", 1..=50)?;
        let s = p.int("s", 1..=50)?;
        match (r, s) {
            (Some(r), Some(s)) => Ok(Blur {
                r: r as u32,
                s: s as u32,
            }),
            _ => Err(PlanError::missing(
                "'blur' needs both r (radius) and s (sigma).",
            )),
        }
    }

    pub fn canonical(&self, out: &mut String) {
        out.push_str(&format!("blur,r_{},s_{}", self.r, self.s));
    }
}
