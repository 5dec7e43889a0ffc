//! Metadata answers: reads what a [`MetadataKind`] asks for (headers and
//! EXIF, the MD5, the average colour), checks its limits, and lets the kind
//! write its body. Which service's answer it is, this module never knows.
//! Only the average colour decodes pixels (JPEG at 1/8 scale).

use pixgate_api::metadata::{ColourBody, Facts, Metadata, MetadataKind, SourceLimits};
use pixgate_api::{Deliver, Plan};
use pixgate_codec::{CodecError, md5_hex, read_metadata};

use crate::error::OpsError;
use crate::pipeline::{Product, Settings, render};

pub fn metadata(
    bytes: &[u8],
    kind: &MetadataKind,
    settings: &Settings,
) -> Result<Product, OpsError> {
    let meta = if kind.reads.headers {
        let m = read_metadata(bytes)?;
        if let Some(limits) = &kind.limits {
            check(&m, limits)?;
        }
        Some(m)
    } else {
        None
    };
    let md5 = kind.reads.md5.then(|| md5_hex(bytes));
    let average = if kind.reads.average {
        Some(average(bytes, settings)?)
    } else {
        None
    };
    let facts = Facts {
        meta: meta.as_ref(),
        md5: md5.as_deref(),
        average: average.as_deref(),
    };
    Ok(Product::Json((kind.body)(&facts)))
}

/// A service's own input limits, read from the headers.
fn check(m: &Metadata, limits: &SourceLimits) -> Result<(), OpsError> {
    let pixels = u64::from(m.width) * u64::from(m.height) * u64::from(m.frames.max(1));
    if m.width > limits.side || m.height > limits.side || pixels > limits.pixels {
        return Err(CodecError::TooLarge(format!(
            "The image is {}x{} ({} frames); {} reads at most {} px a side and {} MP.",
            m.width,
            m.height,
            m.frames,
            limits.service,
            limits.side,
            limits.pixels / 1_000_000
        ))
        .into());
    }
    Ok(())
}

/// `0xrrggbb` of the whole image, as the pixel pipeline computes an
/// average colour (the metadata bodies write it as they please).
fn average(bytes: &[u8], settings: &Settings) -> Result<String, OpsError> {
    const HEX: ColourBody = ColourBody {
        canonical: "hex",
        write: |[r, g, b]| format!("0x{r:02x}{g:02x}{b:02x}"),
    };
    let plan = Plan {
        deliver: Deliver::Average(HEX),
        ..Plan::default()
    };
    match render(bytes, &plan, settings)? {
        Product::Json(hex) => Ok(hex),
        Product::Image { .. } => Err(OpsError::NotImplemented(
            "the average colour came back as an image".into(),
        )),
    }
}
