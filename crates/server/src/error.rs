//! Every failure a client can see, and the one place it is mapped to the wire:
//! status and code (SPEC §7); the body is the request's dialect's
//! (`Dialect::render_error`).

use pixgate_api::{DialectError, PlanError, PlanErrorKind};
use pixgate_codec::CodecError;
use pixgate_ops::OpsError;
use pixgate_origin::OriginError;

/// The codes the proxy answers with; [`Code::status`] is the only status table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    MissingArgument,
    ImageTooLarge,
    BadRequest,
    WatermarkError,
    InvalidObjectName,
    AccessDenied,
    SignatureDoesNotMatch,
    InvalidAccessKeyId,
    RequestTimeTooSkewed,
    RequestExpired,
    NoSuchKey,
    NoSuchBucket,
    NoSuchStyle,
    MethodNotAllowed,
    InvalidRange,
    InternalError,
    NotImplemented,
    /// Upstream storage could not be reached or answered unexpectedly.
    UpstreamUnreachable,
    UpstreamError,
    UpstreamTimeout,
    ServiceUnavailable,
    // Writes (issue 19).
    XAmzContentSHA256Mismatch,
    BadDigest,
    IncompleteBody,
    InvalidRequest,
    EntityTooLarge,
    MissingContentLength,
    NoSuchUpload,
    InvalidPart,
    InvalidPartOrder,
    MalformedXML,
}

impl Code {
    pub fn status(self) -> u16 {
        match self {
            Code::InvalidArgument
            | Code::MissingArgument
            | Code::ImageTooLarge
            | Code::BadRequest
            | Code::WatermarkError
            | Code::InvalidObjectName
            | Code::XAmzContentSHA256Mismatch
            | Code::BadDigest
            | Code::IncompleteBody
            | Code::InvalidRequest
            | Code::EntityTooLarge
            | Code::InvalidPart
            | Code::InvalidPartOrder
            | Code::MalformedXML => 400,
            Code::MissingContentLength => 411,
            Code::AccessDenied
            | Code::SignatureDoesNotMatch
            | Code::InvalidAccessKeyId
            | Code::RequestTimeTooSkewed
            | Code::RequestExpired => 403,
            Code::NoSuchKey | Code::NoSuchBucket | Code::NoSuchStyle | Code::NoSuchUpload => 404,
            Code::MethodNotAllowed => 405,
            Code::InvalidRange => 416,
            Code::InternalError => 500,
            Code::NotImplemented => 501,
            Code::UpstreamUnreachable | Code::UpstreamError => 502,
            Code::ServiceUnavailable => 503,
            Code::UpstreamTimeout => 504,
        }
    }

    /// An error the source image or the work on it caused (its size, its
    /// bytes, a step that cannot run on it): what `ignore-error` forgives.
    pub fn is_about_the_image(self) -> bool {
        matches!(
            self,
            Code::InvalidArgument
                | Code::MissingArgument
                | Code::ImageTooLarge
                | Code::BadRequest
                | Code::WatermarkError
                | Code::NotImplemented
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidArgument => "InvalidArgument",
            Code::MissingArgument => "MissingArgument",
            Code::ImageTooLarge => "ImageTooLarge",
            Code::BadRequest => "BadRequest",
            Code::WatermarkError => "WatermarkError",
            Code::InvalidObjectName => "InvalidObjectName",
            Code::AccessDenied => "AccessDenied",
            Code::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Code::InvalidAccessKeyId => "InvalidAccessKeyId",
            Code::RequestTimeTooSkewed => "RequestTimeTooSkewed",
            Code::RequestExpired => "RequestExpired",
            Code::NoSuchKey => "NoSuchKey",
            Code::NoSuchBucket => "NoSuchBucket",
            Code::NoSuchStyle => "NoSuchStyle",
            Code::MethodNotAllowed => "MethodNotAllowed",
            Code::InvalidRange => "InvalidRange",
            Code::InternalError => "InternalError",
            Code::NotImplemented => "NotImplemented",
            Code::UpstreamUnreachable => "UpstreamUnreachable",
            Code::UpstreamError => "UpstreamError",
            Code::UpstreamTimeout => "UpstreamTimeout",
            Code::ServiceUnavailable => "ServiceUnavailable",
            Code::XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
            Code::BadDigest => "BadDigest",
            Code::IncompleteBody => "IncompleteBody",
            Code::InvalidRequest => "InvalidRequest",
            Code::EntityTooLarge => "EntityTooLarge",
            Code::MissingContentLength => "MissingContentLength",
            Code::NoSuchUpload => "NoSuchUpload",
            Code::InvalidPart => "InvalidPart",
            Code::InvalidPartOrder => "InvalidPartOrder",
            Code::MalformedXML => "MalformedXML",
        }
    }
}

/// A failure with a message written for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Object size for `Content-Range: bytes */size` on a 416.
    pub range_size: Option<u64>,
    /// A dialect whose shape answers instead of the request's own (a
    /// signature refused in its cloud's terms).
    pub shape: Option<&'static str>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            range_size: None,
            shape: None,
        }
    }
}

impl ApiError {
    /// A response that could not be assembled: a bug, reported without detail.
    pub fn internal(e: http::Error) -> ApiError {
        tracing::error!(error = %e, "could not build a response");
        ApiError::new(Code::InternalError, "The response could not be built.")
    }
}

impl From<OriginError> for ApiError {
    fn from(e: OriginError) -> ApiError {
        let code = match &e {
            OriginError::NoSuchKey => Code::NoSuchKey,
            OriginError::NoSuchBucket => Code::NoSuchBucket,
            OriginError::AccessDenied | OriginError::OutsideRoot => Code::AccessDenied,
            OriginError::InvalidKey(_) => Code::InvalidObjectName,
            OriginError::RangeNotSatisfiable { .. } => Code::InvalidRange,
            OriginError::Unreachable(_) => Code::UpstreamUnreachable,
            OriginError::Timeout => Code::UpstreamTimeout,
            OriginError::UpstreamStatus { .. } => Code::UpstreamError,
            OriginError::Io(_) => Code::InternalError,
            OriginError::Refused { code, .. } => match code.as_str() {
                "XAmzContentSHA256Mismatch" => Code::XAmzContentSHA256Mismatch,
                "BadDigest" | "InvalidDigest" => Code::BadDigest,
                "IncompleteBody" => Code::IncompleteBody,
                "EntityTooLarge" => Code::EntityTooLarge,
                "MissingContentLength" => Code::MissingContentLength,
                "NoSuchUpload" => Code::NoSuchUpload,
                "InvalidPart" => Code::InvalidPart,
                "InvalidPartOrder" => Code::InvalidPartOrder,
                "MalformedXML" => Code::MalformedXML,
                _ => Code::InvalidRequest,
            },
            OriginError::ContentSha256Mismatch => Code::XAmzContentSHA256Mismatch,
            OriginError::BadDigest => Code::BadDigest,
            OriginError::IncompleteBody(_) => Code::IncompleteBody,
            OriginError::Unsupported(_) => Code::NotImplemented,
        };
        let mut api = ApiError::new(code, e.to_string());
        if let OriginError::RangeNotSatisfiable { size } = e {
            api.range_size = size;
        }
        api
    }
}

impl From<PlanError> for ApiError {
    fn from(e: PlanError) -> ApiError {
        let code = match e.kind {
            PlanErrorKind::InvalidArgument => Code::InvalidArgument,
            PlanErrorKind::MissingArgument => Code::MissingArgument,
            PlanErrorKind::BadRequest => Code::BadRequest,
            PlanErrorKind::NotImplemented => Code::NotImplemented,
            PlanErrorKind::NoSuchStyle => Code::NoSuchStyle,
            PlanErrorKind::Watermark => Code::WatermarkError,
        };
        ApiError::new(code, e.message)
    }
}

impl From<OpsError> for ApiError {
    fn from(e: OpsError) -> ApiError {
        let code = match &e {
            OpsError::Plan(p) => return p.clone().into(),
            OpsError::Codec(c) => match c {
                CodecError::UnknownFormat
                | CodecError::UnsupportedInput { .. }
                | CodecError::Corrupt(_)
                | CodecError::Unsupported(_) => Code::BadRequest,
                CodecError::TooLarge(_) => Code::ImageTooLarge,
                CodecError::UnsupportedOutput { .. } => Code::NotImplemented,
                CodecError::Internal(_) => Code::InternalError,
            },
            OpsError::OutputTooLarge(_) => Code::InvalidArgument,
            OpsError::InputTooLarge(_) => Code::ImageTooLarge,
            OpsError::NotImplemented(_) => Code::NotImplemented,
            OpsError::Watermark(_) => Code::WatermarkError,
            OpsError::TooCostly(_) => Code::ImageTooLarge,
            OpsError::DeadlineExceeded | OpsError::Cancelled => Code::ServiceUnavailable,
        };
        if code == Code::InternalError {
            tracing::error!(error = %e, "image processing failed");
        }
        ApiError::new(code, e.to_string())
    }
}

impl From<pixgate_api::signature::Denied> for ApiError {
    fn from(e: pixgate_api::signature::Denied) -> ApiError {
        use pixgate_api::signature::Code as Sig;
        let code = match e.code {
            Sig::AccessDenied => Code::AccessDenied,
            Sig::SignatureDoesNotMatch => Code::SignatureDoesNotMatch,
            Sig::InvalidAccessKeyId => Code::InvalidAccessKeyId,
            Sig::RequestTimeTooSkewed => Code::RequestTimeTooSkewed,
            Sig::RequestExpired => Code::RequestExpired,
        };
        ApiError {
            shape: e.shape,
            ..ApiError::new(code, e.message)
        }
    }
}

impl From<DialectError> for ApiError {
    fn from(e: DialectError) -> ApiError {
        ApiError::new(Code::InvalidArgument, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_origin_error_gets_a_sensible_status() {
        let cases = [
            (OriginError::NoSuchKey, 404),
            (OriginError::NoSuchBucket, 404),
            (OriginError::AccessDenied, 403),
            (OriginError::OutsideRoot, 403),
            (OriginError::InvalidKey("x"), 400),
            (OriginError::RangeNotSatisfiable { size: Some(3) }, 416),
            (OriginError::Unreachable("refused".into()), 502),
            (OriginError::Timeout, 504),
            (
                OriginError::UpstreamStatus {
                    status: 500,
                    code: None,
                },
                502,
            ),
            (OriginError::Io("x".into()), 500),
        ];
        for (e, status) in cases {
            assert_eq!(ApiError::from(e.clone()).code.status(), status, "{e:?}");
        }
    }
}
