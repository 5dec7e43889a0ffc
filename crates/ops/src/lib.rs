//! Pixel work: one module per action under `action/`, and the pipeline that
//! runs a [`pixgate_api::Plan`] over a source image.

pub mod action;
pub mod cost;
mod error;
mod metadata;
mod pipeline;
mod stop;
mod text;

pub use error::OpsError;
pub use metadata::metadata;
pub use pipeline::{Product, Settings, output_format, process};
pub use stop::Stop;
pub use text::Fonts;
