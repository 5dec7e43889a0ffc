//! Metadata answers: OSS `image/info`, QingStor `?image&action=info`, COS
//! `?exif`, `?imageInfo` and `?imageAve`. Only `imageInfo`'s colour and
//! `imageAve` decode pixels (JPEG at 1/8 scale); the rest read headers.

use pixgate_api::Plan;
use pixgate_codec::info::{cos_exif, cos_image_info, md5_hex, oss_info, qingstor_info};
use pixgate_codec::{CodecError, Metadata, read_metadata};

use crate::error::OpsError;
use crate::pipeline::{Product, Settings, process};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataRequest {
    OssInfo,
    QingStorInfo,
    CosExif,
    CosImageInfo,
    CosImageAve,
}

impl MetadataRequest {
    /// A stable name for cache keys and ETags.
    pub fn canonical(self) -> &'static str {
        match self {
            MetadataRequest::OssInfo => "image/info",
            MetadataRequest::QingStorInfo => "qingstor/image/info",
            MetadataRequest::CosExif => "cos/exif",
            MetadataRequest::CosImageInfo => "cos/imageInfo",
            MetadataRequest::CosImageAve => "cos/imageAve",
        }
    }
}

pub fn metadata(
    bytes: &[u8],
    request: MetadataRequest,
    settings: &Settings,
) -> Result<Product, OpsError> {
    let json = match request {
        MetadataRequest::OssInfo => oss_info(&read_metadata(bytes)?),
        MetadataRequest::QingStorInfo => qingstor_info(&read_metadata(bytes)?),
        MetadataRequest::CosExif => {
            let m = read_metadata(bytes)?;
            cos_limits(&m)?;
            cos_exif(&m)
        }
        MetadataRequest::CosImageInfo => {
            let m = read_metadata(bytes)?;
            cos_limits(&m)?;
            cos_image_info(&m, &md5_hex(bytes), &average(bytes, settings)?)
        }
        MetadataRequest::CosImageAve => format!("{{\"RGB\": \"{}\"}}", average(bytes, settings)?),
    };
    Ok(Product::Json(json))
}

/// COS's own input limits (its documentation): ≤ 30000 px a side, ≤ 250 MP
/// (frames counted).
fn cos_limits(m: &Metadata) -> Result<(), OpsError> {
    let pixels = u64::from(m.width) * u64::from(m.height) * u64::from(m.frames.max(1));
    if m.width > 30_000 || m.height > 30_000 || pixels > 250_000_000 {
        return Err(CodecError::TooLarge(format!(
            "The image is {}x{} ({} frames); COS reads at most 30000 px a side and 250 MP.",
            m.width, m.height, m.frames
        ))
        .into());
    }
    Ok(())
}

/// `0xrrggbb` of the whole image, by the average-hue action.
fn average(bytes: &[u8], settings: &Settings) -> Result<String, OpsError> {
    let plan = Plan::parse("average-hue")?;
    match process(bytes, &plan, settings)? {
        Product::Json(json) => Ok(json
            .split('"')
            .find(|s| s.starts_with("0x"))
            .unwrap_or("0x000000")
            .to_owned()),
        Product::Image { .. } => Err(OpsError::NotImplemented(
            "average-hue returned an image".into(),
        )),
    }
}
