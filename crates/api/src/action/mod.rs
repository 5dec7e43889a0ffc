//! One module per action: its parameters, their ranges and defaults, its
//! canonical form, and its layout maths. Pixels live in the `ops` crate.

pub mod blur;
pub mod circle;
pub mod crop;
pub mod flip;
pub mod format;
pub mod indexcrop;
pub mod negotiate;
pub mod placeholder;
pub mod quality;
pub mod resize;
pub mod rotate;
pub mod rounded_corners;
pub mod smart_crop;
pub mod watermark;
