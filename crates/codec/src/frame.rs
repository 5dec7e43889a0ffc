/// Decoded pixels: 8-bit RGB or RGBA, rows packed (no padding).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// 3 (RGB) or 4 (RGBA, straight alpha).
    pub channels: u8,
    pub data: Vec<u8>,
    /// The ICC profile the samples are in; `None`: sRGB. Set by the
    /// decoders, taken by `decode` (which converts) or by a caller that
    /// keeps wide gamut, and read by `encode` (which embeds or converts).
    /// Pixel operations make frames without one.
    pub icc: Option<Vec<u8>>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Frame({}x{}x{})", self.width, self.height, self.channels)
    }
}

impl Frame {
    pub fn new(width: u32, height: u32, channels: u8, data: Vec<u8>) -> Frame {
        debug_assert_eq!(
            data.len(),
            width as usize * height as usize * channels as usize
        );
        Frame {
            width,
            height,
            channels,
            data,
            icc: None,
        }
    }

    /// A frame filled with one pixel value (`px.len()` is the channel count).
    pub fn filled(width: u32, height: u32, px: &[u8]) -> Frame {
        let mut data = Vec::with_capacity(width as usize * height as usize * px.len());
        for _ in 0..width as usize * height as usize {
            data.extend_from_slice(px);
        }
        Frame::new(width, height, px.len() as u8, data)
    }

    pub fn has_alpha(&self) -> bool {
        self.channels == 4
    }

    pub fn stride(&self) -> usize {
        self.width as usize * self.channels as usize
    }

    pub fn pixel(&self, x: u32, y: u32) -> &[u8] {
        let c = self.channels as usize;
        let i = (y as usize * self.width as usize + x as usize) * c;
        &self.data[i..i + c]
    }

    /// RGBA copy (alpha 255) of an RGB frame; RGBA frames are returned as is.
    pub fn into_rgba(self) -> Frame {
        if self.channels == 4 {
            return self;
        }
        let mut data = Vec::with_capacity(self.data.len() / 3 * 4);
        for px in self.data.chunks_exact(3) {
            data.extend_from_slice(px);
            data.push(255);
        }
        Frame {
            icc: self.icc,
            ..Frame::new(self.width, self.height, 4, data)
        }
    }

    /// RGB, with any transparency composited over `bg`.
    pub fn flatten(self, bg: [u8; 3]) -> Frame {
        if self.channels == 3 {
            return self;
        }
        let mut data = Vec::with_capacity(self.data.len() / 4 * 3);
        for px in self.data.chunks_exact(4) {
            let a = u32::from(px[3]);
            for c in 0..3 {
                let v = (u32::from(px[c]) * a + u32::from(bg[c]) * (255 - a) + 127) / 255;
                data.push(v as u8);
            }
        }
        Frame {
            icc: self.icc,
            ..Frame::new(self.width, self.height, 3, data)
        }
    }

    /// Drops an alpha channel that is fully opaque everywhere.
    pub fn drop_opaque_alpha(self) -> Frame {
        if self.channels == 4 && self.data.chunks_exact(4).all(|p| p[3] == 255) {
            return self.flatten([0, 0, 0]);
        }
        self
    }
}

/// A lossy WebP's samples as VP8 codes them: 8-bit Y at full size, U and V
/// at half size (rounded up), rows packed. Decoder and encoder speak it
/// natively, so a picture that is only resized never passes through RGB.
#[derive(Clone, PartialEq, Eq)]
pub struct Yuv420 {
    pub width: u32,
    pub height: u32,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl std::fmt::Debug for Yuv420 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Yuv420({}x{})", self.width, self.height)
    }
}

impl Yuv420 {
    /// The chroma planes' size for a `width`×`height` picture.
    pub fn chroma_size(width: u32, height: u32) -> (u32, u32) {
        (width.div_ceil(2), height.div_ceil(2))
    }

    /// Zeroed planes for a `width`×`height` picture.
    pub fn new(width: u32, height: u32) -> Yuv420 {
        let (cw, ch) = Yuv420::chroma_size(width, height);
        let chroma = cw as usize * ch as usize;
        Yuv420 {
            width,
            height,
            y: vec![0; width as usize * height as usize],
            u: vec![0; chroma],
            v: vec![0; chroma],
        }
    }
}
