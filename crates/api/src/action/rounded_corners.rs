//! `rounded-corners,r_N`.

use crate::error::PlanError;
use crate::params::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundedCorners {
    pub r: u32,
}

impl RoundedCorners {
    pub fn parse(p: &Params) -> Result<RoundedCorners, PlanError> {
        p.only(&["r"])?;
        let r = p
            .int("r", 1..=4096)?
            .ok_or_else(|| PlanError::missing("'rounded-corners' needs r, the corner radius."))?;
        Ok(RoundedCorners { r: r as u32 })
    }

    pub fn canonical(&self, out: &mut String) {
        out.push_str(&format!("rounded-corners,r_{}", self.r));
    }

    /// Capped at half the short side.
    pub fn radius(&self, w: u32, h: u32) -> u32 {
        self.r.min(w.min(h) / 2)
    }
}
