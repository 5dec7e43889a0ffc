use thiserror::Error;

/// Why an origin could not serve an object. Messages are safe to show a
/// client: they never carry credentials, signed URLs or upstream addresses.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OriginError {
    #[error("The specified key does not exist.")]
    NoSuchKey,
    #[error("The upstream bucket does not exist.")]
    NoSuchBucket,
    #[error("The upstream storage denied access to the object.")]
    AccessDenied,
    #[error("The object key is not allowed: {0}.")]
    InvalidKey(&'static str),
    #[error("The object key resolves outside the bucket's directory.")]
    OutsideRoot,
    #[error("The requested range is not satisfiable.")]
    RangeNotSatisfiable {
        /// The object's size, for `Content-Range: bytes */size`.
        size: Option<u64>,
    },
    #[error("The upstream storage is unreachable ({0}).")]
    Unreachable(String),
    #[error("The upstream storage did not answer in time.")]
    Timeout,
    #[error("The upstream storage answered with an unexpected status {status}{}.", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    UpstreamStatus { status: u16, code: Option<String> },
    #[error("The object could not be read ({0}).")]
    Io(String),
    /// The upstream refused a write for a reason the client can fix; its S3
    /// code (an identifier) is passed on.
    #[error("The upstream storage refused the request ({code}).")]
    Refused { status: u16, code: String },
    #[error("The body's SHA-256 does not match the x-amz-content-sha256 that was signed.")]
    ContentSha256Mismatch,
    #[error("The body's MD5 does not match its Content-MD5.")]
    BadDigest,
    #[error("The body ended before its announced length ({0}).")]
    IncompleteBody(String),
    #[error("{0}")]
    Unsupported(&'static str),
}

impl OriginError {
    /// A short, fixed name for metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            OriginError::NoSuchKey => "no_such_key",
            OriginError::NoSuchBucket => "no_such_bucket",
            OriginError::AccessDenied => "access_denied",
            OriginError::InvalidKey(_) | OriginError::OutsideRoot => "invalid_key",
            OriginError::RangeNotSatisfiable { .. } => "range",
            OriginError::Unreachable(_) => "unreachable",
            OriginError::Timeout => "timeout",
            OriginError::UpstreamStatus { .. } => "status",
            OriginError::Io(_) => "io",
            OriginError::Refused { .. } => "refused",
            OriginError::ContentSha256Mismatch | OriginError::BadDigest => "integrity",
            OriginError::IncompleteBody(_) => "incomplete",
            OriginError::Unsupported(_) => "unsupported",
        }
    }
}
