//! Attention crop: `w`×`h` cut where the image is most interesting (edges,
//! skin tones, saturated colour), the window chosen from the pixels at run
//! time. OSS syntax extension `crop,w_,h_,g_auto` and
//! `resize,m_fill,w_,h_,g_auto`; Tencent and Qiniu `scrop`.

use std::fmt::Write;

use crate::error::PlanError;
use crate::params::Params;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmartCrop {
    pub w: u32,
    pub h: u32,
}

impl SmartCrop {
    /// `crop,w_,h_,g_auto`: both sides, no offsets (the window is chosen).
    pub fn parse_crop(p: &Params) -> Result<SmartCrop, PlanError> {
        p.only(&["w", "h", "g", "r"])?;
        let side = |name| -> Result<u32, PlanError> {
            match p.int(name, 1..=crate::action::resize::MAX_SIDE)? {
                Some(v) => Ok(v as u32),
                None => Err(PlanError::invalid(format!(
                    "'crop' with 'g_auto' needs '{name}': the size of the window to choose."
                ))),
            }
        };
        Ok(SmartCrop {
            w: side("w")?,
            h: side("h")?,
        })
    }

    /// The window's size in a `img_w`×`img_h` image (never larger).
    pub fn output(&self, img_w: u32, img_h: u32) -> (u32, u32) {
        (self.w.min(img_w).max(1), self.h.min(img_h).max(1))
    }

    pub fn canonical(&self, out: &mut String) {
        let _ = write!(out, "crop,w_{},h_{},g_auto", self.w, self.h);
    }
}
