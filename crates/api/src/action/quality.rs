//! `quality`: q (relative to the source's quality), Q (absolute, capped by
//! it); and the forms only other dialects spell: a forced value and a floor.

use crate::error::PlanError;
use crate::params::{Params, parse_int};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// A percent of the source's quality (OSS `q_`, Tencent `rquality`).
    Relative(u8),
    /// This value, but never above the source's (OSS `Q_`, Tencent `quality/N`).
    Absolute(u8),
    /// This value whatever the source's (Tencent and Qiniu `quality/N!`).
    Forced(u8),
    /// The source's quality, but never below this value (Tencent `lquality`).
    AtLeast(u8),
}

impl Quality {
    pub fn parse(p: &Params) -> Result<Quality, PlanError> {
        p.only_named(&["q", "Q"])?;
        // Both given: Q wins.
        if let Some(q) = p.int("Q", 1..=100)? {
            return Ok(Quality::Absolute(q as u8));
        }
        if let Some(q) = p.int("q", 1..=100)? {
            return Ok(Quality::Relative(q as u8));
        }
        // `quality,90`: a bare value is read as absolute (the service range-checks
        // it, 0040-00000310, but documents nothing more).
        let v = p.single()?;
        Ok(Quality::Absolute(
            parse_int("quality", "value", v, &(1..=100))? as u8,
        ))
    }

    pub fn canonical(&self, out: &mut String) {
        match self {
            Quality::Relative(q) => out.push_str(&format!("quality,q_{q}")),
            Quality::Absolute(q) => out.push_str(&format!("quality,Q_{q}")),
            Quality::Forced(q) => out.push_str(&format!("quality,forced_{q}")),
            Quality::AtLeast(q) => out.push_str(&format!("quality,floor_{q}")),
        }
    }

    /// The encoder quality, given the source's own quality when it is known
    /// (a JPEG source; for other sources `q` acts like `Q`).
    pub fn resolve(self, source: Option<u8>) -> u8 {
        match (self, source) {
            (Quality::Relative(q), Some(src)) => {
                ((u32::from(src) * u32::from(q) + 50) / 100).clamp(1, 100) as u8
            }
            (Quality::Absolute(q), Some(src)) => q.min(src),
            (Quality::AtLeast(q), Some(src)) => q.max(src),
            (Quality::Forced(q), _) => q,
            (Quality::Relative(q) | Quality::Absolute(q) | Quality::AtLeast(q), None) => q,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(params: &[&str]) -> Result<Quality, PlanError> {
        Quality::parse(&Params::parse("quality", params))
    }

    #[test]
    fn documented_examples() {
        assert_eq!(q(&["q_90"]).unwrap().resolve(Some(100)), 90);
        assert_eq!(q(&["q_90"]).unwrap().resolve(Some(80)), 72);
        assert_eq!(q(&["Q_90"]).unwrap().resolve(Some(95)), 90);
        assert_eq!(q(&["Q_90"]).unwrap().resolve(Some(80)), 80);
        assert_eq!(q(&["q_50", "Q_70"]).unwrap(), Quality::Absolute(70));
        assert_eq!(q(&["90"]).unwrap(), Quality::Absolute(90));
        assert!(q(&["Q_200"]).unwrap_err().message.contains("'Q'"));
        assert!(q(&["q_200"]).unwrap_err().message.contains("'q'"));
        assert!(q(&["200"]).is_err());
        assert!(q(&[]).is_err());
        assert_eq!(Quality::Forced(90).resolve(Some(70)), 90);
        assert_eq!(Quality::AtLeast(60).resolve(Some(70)), 70);
        assert_eq!(Quality::AtLeast(80).resolve(Some(70)), 80);
        assert_eq!(Quality::AtLeast(80).resolve(None), 80);
    }
}
