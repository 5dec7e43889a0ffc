//! One module per action: the pixel work. Parameters and layout maths live in
//! `pixgate_api::action`, so each file here only moves pixels.

pub mod adjust;
pub mod average_hue;
pub mod blur;
pub mod crop;
pub mod flip;
pub mod frames;
pub mod grayscale;
pub mod mask;
pub mod orient;
pub mod placeholder;
pub mod resize;
pub mod rotate;
pub mod sharpen;
pub mod smart_crop;
pub mod watermark;
