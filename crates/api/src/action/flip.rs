//! Mirroring: a neutral step (Tencent `flip/vertical|horizontal`; OSS has
//! no spelling for it).

/// Which way to mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flip {
    /// Left and right swap.
    Horizontal,
    /// Top and bottom swap.
    Vertical,
}

impl Flip {
    pub fn canonical(&self, out: &mut String) {
        out.push_str(match self {
            Flip::Horizontal => "flip,h",
            Flip::Vertical => "flip,v",
        });
    }
}
