//! How a service shapes its output beyond the steps: default quality, the
//! GIF fallback, per-format size ceilings and what happens to animations.
//! It travels in the plan, so pixel code follows each dialect's rules
//! without knowing the dialect.

use std::fmt::Write;

use crate::Format;

/// AVIF's default quality: SSIMULACRA2 of JPEG q80 reached (measured).
pub const AVIF_QUALITY: u8 = 82;
/// HEIC's default quality: SSIMULACRA2 of JPEG q80 reached (measured).
pub const HEIC_QUALITY: u8 = 55;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Encoder quality when the plan names none; a JPEG source's own
    /// quality caps it.
    pub default_quality: u8,
    /// A GIF output asked of a non-GIF source keeps the source's format.
    pub gif_only_from_gif: bool,
    /// Largest output of a format, `(format, w, h)`; either orientation of
    /// the box is accepted.
    pub ceilings: &'static [(Format, u32, u32)],
    /// Animations are never enlarged, whatever the resize says.
    pub animations_shrink_only: bool,
    /// A resize by percent renders only the first frame of an animation.
    pub percent_flattens_animation: bool,
}

impl Policy {
    /// The rules the reference service (Alibaba OSS) documents, which the
    /// other dialects start from: quality 85 (its default is undocumented,
    /// "85-ish"), GIF only from GIF, AVIF ≤ 4096×2304, HEIC ≤ 4096×4096,
    /// WebP ≤ 16383×16383, animations never enlarged and flattened by
    /// percent resizes.
    pub const DEFAULT: Policy = Policy {
        default_quality: 85,
        gif_only_from_gif: true,
        ceilings: &[
            (Format::Avif, 4096, 2304),
            (Format::Heic, 4096, 4096),
            (Format::Webp, 16383, 16383),
        ],
        animations_shrink_only: true,
        percent_flattens_animation: true,
    };

    /// Encoder quality when the plan names none, for output `format`. AVIF
    /// and HEIC have their own scales: at the JPEG default they are no
    /// smaller than JPEG (HEIC three times larger), so each has the lowest
    /// quality whose SSIMULACRA2 score reaches JPEG q80's
    /// (`benches/benches/quality.rs`, results in benches/RESULTS.md); a JPEG
    /// source's quality caps only the JPEG-scale default.
    pub fn default_quality_for(&self, format: Format, source_quality: Option<u8>) -> u8 {
        match format {
            Format::Avif => AVIF_QUALITY,
            Format::Heic => HEIC_QUALITY,
            _ => self.default_quality.min(source_quality.unwrap_or(100)),
        }
    }

    /// The ceiling for `format`, if it has one.
    pub fn ceiling(&self, format: Format) -> Option<(u32, u32)> {
        self.ceilings
            .iter()
            .find(|(f, _, _)| *f == format)
            .map(|&(_, w, h)| (w, h))
    }

    /// Appends the policy to a cache key when it is not the default (two
    /// dialects' identical steps under different rules are different bytes).
    pub fn canonical(&self, out: &mut String) {
        if *self == Policy::DEFAULT {
            return;
        }
        let _ = write!(
            out,
            "/policy,q_{},gif_{},anim_{}{}",
            self.default_quality,
            u8::from(self.gif_only_from_gif),
            u8::from(self.animations_shrink_only),
            u8::from(self.percent_flattens_animation),
        );
        for (f, w, h) in self.ceilings {
            let _ = write!(out, ",{}_{w}x{h}", f.as_str());
        }
    }
}

impl Default for Policy {
    fn default() -> Policy {
        Policy::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avif_and_heic_have_their_own_measured_defaults() {
        let p = Policy::DEFAULT;
        assert_eq!(p.default_quality_for(Format::Avif, Some(60)), AVIF_QUALITY);
        assert_eq!(p.default_quality_for(Format::Heic, None), HEIC_QUALITY);
        // JPEG-scale outputs keep the dialect's default, capped by a JPEG
        // source's own quality.
        assert_eq!(p.default_quality_for(Format::Jpg, None), 85);
        assert_eq!(p.default_quality_for(Format::Webp, Some(70)), 70);
    }
}
