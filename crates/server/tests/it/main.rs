//! Integration tests: real HTTP against pixgate, in front of a real S3 server
//! or a local directory, with images from the shared corpus.

// Test code: a panic with the failed call is the clearest report.
#![allow(clippy::unwrap_used)]

mod admission;
mod animation;
mod animation_more;
mod binary;
mod cache;
mod ci_sdk;
mod ci_watermark;
mod cli;
mod clone_sdk;
mod clone_vectors;
mod config_docs;
mod corpus;
mod dialect_names;
mod dialects;
mod formats_more;
mod hits;
mod hostile;
mod info;
mod negotiate;
mod operators;
mod oss_vectors;
mod pixels;
mod process;
mod qingstor_sdk;
mod qingstor_vectors;
mod qiniu_vectors;
mod s3_failures;
mod s3_originals;
mod save;
mod sdk;
mod sig_cos_qiniu_qingstor;
mod sig_obs_tos_bos;
mod smart_crop;
mod source_body;
mod styles_api;
mod support;
mod tencent_vectors;
mod text_scripts;
mod tiff;
mod vectors;
mod watermark;
mod wide_gamut;
mod writes;
