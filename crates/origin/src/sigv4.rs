//! AWS Signature V4 request signing (header form), as S3 expects it.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::S3Credentials;

impl S3Credentials {
    pub(crate) fn identity(&self) -> Identity {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "pixgate-config",
        )
        .into()
    }
}

/// The headers (`authorization`, `x-amz-date`, `x-amz-content-sha256`, and
/// the session token if any) that sign `method url` with `body` for S3.
///
/// `url` must already be percent-encoded exactly as it will be sent; it is
/// signed as is (no second encoding, no path normalisation), which is what
/// S3 requires. Headers added to the request afterwards travel unsigned.
pub fn sign_headers(
    method: &str,
    url: &str,
    body: &[u8],
    identity: &Identity,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    sign_s3(
        method,
        url,
        &[],
        SignableBody::Bytes(body),
        identity,
        region,
        time,
    )
}

/// Signs with plain credentials; for clients (and tests) that hold no [`Identity`].
pub fn sign_headers_with(
    method: &str,
    url: &str,
    body: &[u8],
    credentials: &S3Credentials,
    region: &str,
) -> Result<Vec<(String, String)>, String> {
    sign_headers(
        method,
        url,
        body,
        &credentials.identity(),
        region,
        SystemTime::now(),
    )
}

/// Like [`sign_headers`], for a body that streams: `payload` is the
/// `x-amz-content-sha256` value to sign (the client's own body hash,
/// `UNSIGNED-PAYLOAD`, …) and `headers` are signed along (S3 wants every
/// `x-amz-*` header signed).
pub fn sign_headers_streaming(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    payload: &str,
    identity: &Identity,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    sign_s3(
        method,
        url,
        headers,
        SignableBody::Precomputed(payload.to_owned()),
        identity,
        region,
        time,
    )
}

/// S3's SigV4 header form: the URL signed as sent (no second encoding, no
/// path normalisation), `x-amz-content-sha256` among the signed headers.
fn sign_s3(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: SignableBody<'_>,
    identity: &Identity,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| format!("signing parameters: {e}"))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        body,
    )
    .map_err(|e| format!("not a signable request: {e}"))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("signing: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect())
}
