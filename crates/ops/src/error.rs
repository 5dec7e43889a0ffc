use pixgate_api::PlanError;
use pixgate_codec::CodecError;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpsError {
    /// A parameter that only fails against this image (crop start outside it).
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The output would exceed the output limits (400 InvalidArgument).
    #[error("{0}")]
    OutputTooLarge(String),
    /// An input too large for the action (400 ImageTooLarge).
    #[error("{0}")]
    InputTooLarge(String),
    #[error("{0}")]
    NotImplemented(String),
    /// A watermark image that cannot be read or decoded (400 WatermarkError).
    #[error("{0}")]
    Watermark(String),
    #[error("The request took longer than the proxy allows and was abandoned.")]
    DeadlineExceeded,
}
