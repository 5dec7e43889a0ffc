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
    /// The plan would cost more work than one request may use, by the cost
    /// model's estimate before any pixel is decoded (400 ImageTooLarge).
    #[error("{0}")]
    TooCostly(String),
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
    /// The server is shutting down and gave up on the job.
    #[error("The proxy is shutting down; the request was abandoned.")]
    Cancelled,
}
