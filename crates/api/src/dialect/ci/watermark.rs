//! `watermark/1` (image) and `watermark/2` (text) of the Tencent CI /
//! Qiniu grammar, as a neutral watermark step.

use super::Flavour;
use crate::{PlanError, Step};

/// One `watermark/…` pipeline segment (the text after `watermark/`).
pub(super) fn parse(segment: &str, flavour: Flavour) -> Result<Step, PlanError> {
    let _ = flavour;
    Err(PlanError::not_implemented(format!(
        "The watermark 'watermark/{segment}' is not supported yet."
    )))
}
