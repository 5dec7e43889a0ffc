//! Persisting a processed result (issue 19), in no cloud's words: OSS
//! `sys/saveas`, Tencent CI `Pic-Operations`, QingStor `save`, Huawei and
//! Volcengine save parameters all become a [`SaveRequest`]: which outputs
//! to compute from the source and where to write each, what the signature
//! must cover for the write to go ahead, and (for the dialect that renders
//! the answer) what the client asked for.

use crate::{Plan, PlanError};

/// What one output is computed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveWork {
    Plan(Result<Plan, PlanError>),
    /// A style of the source's bucket, by name.
    Style(String),
}

/// One object to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveOutput {
    pub work: SaveWork,
    /// The names the target bucket may go by, the client's own first
    /// (a COS `name-appid` also by its bare name); empty: the source's.
    pub bucket: Vec<String>,
    pub key: String,
}

/// The parts of the request a signature must cover for the write to be
/// the one that was signed (the method always).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    pub params: Vec<&'static str>,
    pub headers: Vec<&'static str>,
    /// Only a header signature will do (the URL form leaves the save
    /// parameter unsigned: anyone holding a read URL could add it).
    pub header_form: bool,
}

/// Where the request's save form is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Complete from the query and headers.
    Ready,
    /// In the request body (OSS): the server reads it (small) and hands it
    /// to [`crate::dialect::Dialect::save_body`].
    Body,
}

/// A request to process an object and write the results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveRequest {
    pub outputs: Vec<SaveOutput>,
    pub needs: Needs,
    pub form: Form,
    /// The request body is an original to store at the request's key
    /// first; the outputs are computed from it (CI `Pic-Operations` on PUT).
    pub upload: bool,
    /// The answer describes the original too (CI `is_pic_info`).
    pub original_info: bool,
    /// The answer carries the first output's bytes (QingStor answers a
    /// save like any other action).
    pub answer_image: bool,
}

/// What the server stored, for the dialect to answer with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedObject {
    /// The bucket as the client named it (`None`: left to the source's).
    pub requested_bucket: Option<String>,
    pub bucket: String,
    pub key: String,
    pub size: u64,
    /// File extension of the stored format (`jpg`, `png`, …).
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
    /// Quoted, as S3 answers it.
    pub etag: Option<String>,
}

/// The answer to a save: the original (when it was uploaded or asked
/// about) and each output written, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub original: Option<SavedObject>,
    pub outputs: Vec<SavedObject>,
    /// The request's [`SaveRequest::original_info`].
    pub original_info: bool,
    /// `Host` the request came to (CI answers each object's location).
    pub host: String,
}

/// Decodes a base64 name as the clouds accept it: URL-safe or standard
/// alphabet, padding optional; `None` if it is not base64 of UTF-8.
pub fn b64_name(s: &str) -> Option<String> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let cfg = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let url = GeneralPurpose::new(&base64::alphabet::URL_SAFE, cfg);
    let std = GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    let bytes = url.decode(s).or_else(|_| std.decode(s)).ok()?;
    String::from_utf8(bytes).ok().filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decode_in_either_alphabet_with_or_without_padding() {
        assert_eq!(
            b64_name("dGh1bWJzL2NhdC5qcGc").as_deref(),
            Some("thumbs/cat.jpg")
        );
        assert_eq!(b64_name("YWJjLnBuZw==").as_deref(), Some("abc.png"));
        assert_eq!(b64_name("YWJjLnBuZw").as_deref(), Some("abc.png"));
        assert_eq!(b64_name("a-_b").is_some(), b64_name("a+/b").is_some());
        assert_eq!(b64_name("!!"), None);
        assert_eq!(b64_name(""), None);
    }
}
