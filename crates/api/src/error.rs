use thiserror::Error;

/// Which wire code a plan error becomes (the server maps it to a status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanErrorKind {
    InvalidArgument,
    MissingArgument,
    BadRequest,
    NotImplemented,
    NoSuchStyle,
    /// A watermark image that cannot be used (outside the bucket, missing).
    Watermark,
}

/// A process string the proxy will not run, with a message naming the step
/// and parameter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct PlanError {
    pub kind: PlanErrorKind,
    pub message: String,
}

impl PlanError {
    pub fn invalid(message: impl Into<String>) -> PlanError {
        PlanError {
            kind: PlanErrorKind::InvalidArgument,
            message: message.into(),
        }
    }

    pub fn missing(message: impl Into<String>) -> PlanError {
        PlanError {
            kind: PlanErrorKind::MissingArgument,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> PlanError {
        PlanError {
            kind: PlanErrorKind::BadRequest,
            message: message.into(),
        }
    }

    pub fn watermark(message: impl Into<String>) -> PlanError {
        PlanError {
            kind: PlanErrorKind::Watermark,
            message: message.into(),
        }
    }

    pub fn not_implemented(message: impl Into<String>) -> PlanError {
        PlanError {
            kind: PlanErrorKind::NotImplemented,
            message: message.into(),
        }
    }
}
