//! Shapes shared by the layout maths of several actions.

/// A pixel rectangle inside an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The nine anchor positions of `crop` (and watermarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gravity {
    #[default]
    Nw,
    North,
    Ne,
    West,
    Center,
    East,
    Sw,
    South,
    Se,
}

impl Gravity {
    pub const NAMES: [&'static str; 9] = [
        "nw", "north", "ne", "west", "center", "east", "sw", "south", "se",
    ];

    pub fn parse(s: &str) -> Option<Gravity> {
        Some(match s {
            "nw" => Gravity::Nw,
            "north" => Gravity::North,
            "ne" => Gravity::Ne,
            "west" => Gravity::West,
            "center" => Gravity::Center,
            "east" => Gravity::East,
            "sw" => Gravity::Sw,
            "south" => Gravity::South,
            "se" => Gravity::Se,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        Gravity::NAMES[self as usize]
    }

    /// Top-left of a `w`×`h` box placed at this anchor in a `big_w`×`big_h`
    /// image (SPEC §3: nw (0,0), north (W/2−w/2, 0), … se (W−w, H−h)).
    /// Negative where the box is larger than the image.
    pub fn anchor(self, big_w: u32, big_h: u32, w: u32, h: u32) -> (i64, i64) {
        let (bw, bh, w, h) = (big_w as i64, big_h as i64, w as i64, h as i64);
        let cx = bw / 2 - w / 2;
        let cy = bh / 2 - h / 2;
        match self {
            Gravity::Nw => (0, 0),
            Gravity::North => (cx, 0),
            Gravity::Ne => (bw - w, 0),
            Gravity::West => (0, cy),
            Gravity::Center => (cx, cy),
            Gravity::East => (bw - w, cy),
            Gravity::Sw => (0, bh - h),
            Gravity::South => (cx, bh - h),
            Gravity::Se => (bw - w, bh - h),
        }
    }
}

/// Rounds half away from zero, never below 1: the service's rule for a
/// computed side ("四舍五入", minimum 1 px).
pub fn round_side(v: f64) -> u32 {
    let r = v.round();
    if r < 1.0 {
        1
    } else if r > u32::MAX as f64 {
        u32::MAX
    } else {
        r as u32
    }
}
