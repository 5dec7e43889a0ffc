//! `circle,r_N`: the inscribed circle of radius r, in the square around it.

use crate::error::PlanError;
use crate::params::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Circle {
    pub r: u32,
}

impl Circle {
    pub fn parse(p: &Params) -> Result<Circle, PlanError> {
        p.only(&["r"])?;
        let r = p
            .int("r", 1..=4096)?
            .ok_or_else(|| PlanError::missing("'circle' needs r, the radius."))?;
        Ok(Circle { r: r as u32 })
    }

    pub fn canonical(&self, out: &mut String) {
        out.push_str(&format!("circle,r_{}", self.r));
    }

    /// The radius used on a `W`×`H` image: capped at (short side − 1) / 2,
    /// so the output square of side 2r+1 fits (r_100 on 400×267 → 201×201).
    pub fn radius(&self, w: u32, h: u32) -> u32 {
        self.r.min(w.min(h).saturating_sub(1) / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radius_is_capped() {
        let c = Circle::parse(&Params::parse("circle", &["r_100"])).unwrap();
        assert_eq!(c.radius(400, 267), 100);
        let c = Circle::parse(&Params::parse("circle", &["r_4096"])).unwrap();
        assert_eq!(c.radius(400, 267), 133);
        assert!(Circle::parse(&Params::parse("circle", &["r_5000"])).is_err());
        assert!(Circle::parse(&Params::parse("circle", &["r_abc"])).is_err());
    }
}
