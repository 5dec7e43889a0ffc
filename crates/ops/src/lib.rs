//! Pixel work: one module per action under `action/`, and the pipeline that
//! runs a [`pixgate_api::Plan`] over a source image.

pub mod action;
pub mod cost;
mod error;
mod metadata;
mod negotiate;
mod pipeline;
mod stop;
mod text;
mod webp_planes;

pub use error::OpsError;
pub use metadata::metadata;
pub use pipeline::{Product, Settings, decode_shrink, output_format};

use pixgate_api::{Deliver, Plan};

/// Runs `plan` on a source: a metadata answer reads headers (no pixel
/// work), everything else goes through the pixel pipeline.
pub fn process(bytes: &[u8], plan: &Plan, settings: &Settings) -> Result<Product, OpsError> {
    match &plan.deliver {
        Deliver::Metadata(kind) => metadata::metadata(bytes, kind, settings),
        Deliver::Image | Deliver::Average(_) | Deliver::Placeholder(_) => {
            pipeline::render(bytes, plan, settings)
        }
    }
}
pub use stop::Stop;
pub use text::{DEFAULT_FALLBACKS, Fonts};

/// The shared test corpus: `PIXGATE_CORPUS`, else `../shared/corpus`
/// beside the checkout (found at run time: a target dir may be shared
/// between checkouts).
#[cfg(test)]
fn test_corpus() -> std::path::PathBuf {
    let beside = || {
        let krate = std::env::var_os("CARGO_MANIFEST_DIR");
        let krate = krate.unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
        std::path::PathBuf::from(krate).join("../../../shared/corpus")
    };
    std::env::var_os("PIXGATE_CORPUS").map_or_else(beside, Into::into)
}
