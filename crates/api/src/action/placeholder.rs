//! `blurhash[,x_N,y_N]` and `thumbhash`: a placeholder of the image as JSON
//! (an extension of the OSS grammar). They end the process string, like
//! `average-hue`: the hash is of the image the steps before produced.
//! Pixel code computes the hash; the bodies are written here.

use base64::Engine;
use serde_json::json;

use crate::error::PlanError;
use crate::params::Params;

/// BlurHash components when the string names none (BlurHash's own example).
pub const DEFAULT_COMPONENTS: (u8, u8) = (4, 3);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `x` × `y` components, each 1–9 (the format's range).
    BlurHash {
        x: u8,
        y: u8,
    },
    ThumbHash,
}

impl Placeholder {
    /// Reads `blurhash[,x_N][,y_N]` or `thumbhash` (no parameters).
    pub fn parse(p: &Params) -> Result<Placeholder, PlanError> {
        match p.action() {
            "thumbhash" => {
                if !p.is_empty() {
                    return Err(PlanError::invalid("'thumbhash' takes no parameters."));
                }
                Ok(Placeholder::ThumbHash)
            }
            _ => {
                p.only(&["x", "y"])?;
                let (dx, dy) = DEFAULT_COMPONENTS;
                let x = p.int("x", 1..=9)?.map_or(dx, |v| v as u8);
                let y = p.int("y", 1..=9)?.map_or(dy, |v| v as u8);
                Ok(Placeholder::BlurHash { x, y })
            }
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Placeholder::BlurHash { .. } => "blurhash",
            Placeholder::ThumbHash => "thumbhash",
        }
    }

    pub fn canonical(&self, out: &mut String) {
        match self {
            Placeholder::BlurHash { x, y } => out.push_str(&format!("blurhash,x_{x},y_{y}")),
            Placeholder::ThumbHash => out.push_str("thumbhash"),
        }
    }

    /// The JSON answer: the hash with the size of the image it describes
    /// (the hash alone does not carry it; ThumbHash only its aspect ratio).
    pub fn body(&self, hash: &Hash, width: u32, height: u32) -> String {
        let value = match hash {
            Hash::Text(s) => json!(s),
            Hash::Bytes(b) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
        };
        json!({ self.name(): value, "width": width, "height": height }).to_string()
    }
}

/// A computed hash: BlurHash is text (base 83), ThumbHash bytes (sent as
/// standard base64, as its reference site shows it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hash {
    Text(String),
    Bytes(Vec<u8>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(action: &str, raw: &[&str]) -> Result<Placeholder, PlanError> {
        Placeholder::parse(&Params::parse(action, raw))
    }

    #[test]
    fn components_default_and_range() {
        assert_eq!(
            parse("blurhash", &[]).unwrap(),
            Placeholder::BlurHash { x: 4, y: 3 }
        );
        assert_eq!(
            parse("blurhash", &["y_9", "x_1"]).unwrap(),
            Placeholder::BlurHash { x: 1, y: 9 }
        );
        for bad in [&["x_0"][..], &["y_10"], &["x_a"], &["z_3"], &["5"]] {
            assert!(parse("blurhash", bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse("thumbhash", &[]).unwrap(), Placeholder::ThumbHash);
        assert!(parse("thumbhash", &["x_3"]).is_err());
    }

    #[test]
    fn bodies_name_the_hash_and_the_size() {
        let b = Placeholder::BlurHash { x: 4, y: 3 }.body(&Hash::Text("LEHV6n".into()), 40, 30);
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["blurhash"], "LEHV6n");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(40), Some(30))
        );
        let t = Placeholder::ThumbHash.body(&Hash::Bytes(vec![1, 2, 3]), 5, 6);
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        assert_eq!(v["thumbhash"], "AQID");
    }
}
