//! The grammar Tencent Cloud Infinite inherited from Qiniu: bare-query
//! specs (`?imageMogr2/thumbnail/300x/format/webp`), `imageView2/<mode>/…`,
//! `watermark/1|2/…`, joined with `|`. Not a dialect itself: the `cos` and
//! `qiniu` dialects parse with it, each in its own [`Flavour`].

mod watermark;

/// Where the two clouds read the same grammar differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Tencent,
    Qiniu,
}
