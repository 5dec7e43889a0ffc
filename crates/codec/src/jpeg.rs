//! A JPEG header walk: the segments before the first scan tell the size,
//! colour model, Adobe transform, EXIF block and quantisation tables —
//! everything needed before (or instead of) decoding.

/// What the header says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JpegHeader {
    pub width: u32,
    pub height: u32,
    pub components: u8,
    pub progressive: bool,
    /// Bits per sample (8 for almost every file; 12 for extended JPEGs,
    /// 2–16 for lossless ones).
    pub precision: u8,
    /// A lossless (SOF3/7/11/15) frame.
    pub lossless: bool,
    /// An APP14 "Adobe" segment: CMYK samples are stored inverted.
    pub adobe: bool,
    /// The TIFF payload of the APP1 "Exif" segment.
    pub exif: Option<(usize, usize)>,
    /// The first (luminance) quantisation table, in zigzag order.
    pub luma_table: Option<[u16; 64]>,
    /// APP2 ICC_PROFILE chunks as (sequence number, byte range).
    pub icc_chunks: Vec<(u8, usize, usize)>,
    /// JFIF density: (units 0 none / 1 dpi / 2 dpcm, x, y).
    pub jfif_density: Option<(u8, u16, u16)>,
}

impl JpegHeader {
    pub fn exif<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        self.exif.map(|(start, end)| &bytes[start..end])
    }

    /// The embedded ICC profile, its chunks joined in sequence order.
    pub fn icc(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        if self.icc_chunks.is_empty() {
            return None;
        }
        let mut chunks = self.icc_chunks.clone();
        chunks.sort_by_key(|c| c.0);
        let mut out = Vec::new();
        for (_, start, end) in chunks {
            out.extend_from_slice(&bytes[start..end]);
        }
        Some(out)
    }
}

/// Bytes of profile one APP2 segment holds (65535 minus the length field
/// and the 14-byte "ICC_PROFILE" header).
const ICC_CHUNK: usize = 65_519;

/// Whether `icc` fits the 255 APP2 segments a JPEG may split it into.
pub fn icc_fits(icc: &[u8]) -> bool {
    icc.len().div_ceil(ICC_CHUNK) <= 255
}

/// `jpeg` with `icc` embedded as APP2 "ICC_PROFILE" segments, placed after
/// SOI and a leading JFIF APP0 (where readers look for them). The caller
/// checks [`icc_fits`].
pub fn with_icc(jpeg: Vec<u8>, icc: &[u8]) -> Vec<u8> {
    let mut at = 2;
    if jpeg.get(2..4) == Some(&[0xFF, 0xE0]) {
        let len = jpeg
            .get(4..6)
            .map_or(0, |l| u16::from_be_bytes([l[0], l[1]]));
        at = (4 + usize::from(len)).min(jpeg.len());
    }
    let chunks: Vec<&[u8]> = icc.chunks(ICC_CHUNK).collect();
    let mut out = Vec::with_capacity(jpeg.len() + icc.len() + chunks.len() * 18);
    out.extend_from_slice(&jpeg[..at]);
    for (i, chunk) in chunks.iter().enumerate() {
        out.extend_from_slice(&[0xFF, 0xE2]);
        out.extend_from_slice(&((chunk.len() + 16) as u16).to_be_bytes());
        out.extend_from_slice(b"ICC_PROFILE\0");
        out.extend_from_slice(&[i as u8 + 1, chunks.len() as u8]);
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// Walks the markers up to the first SOS. `None` when the stream is not a
/// JPEG or ends before a frame header.
pub fn read_header(b: &[u8]) -> Option<JpegHeader> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut h = JpegHeader::default();
    let mut i = 2;
    let mut found_frame = false;
    // Bounded by the input length: every iteration advances by at least 2 bytes.
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            break;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if len < 2 || i + 2 + len > b.len() {
            return None;
        }
        let seg = &b[i + 4..i + 2 + len];
        match marker {
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if seg.len() < 6 {
                    return None;
                }
                h.height = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
                h.width = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
                h.components = seg[5];
                h.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                h.precision = seg[0];
                h.lossless = matches!(marker, 0xC3 | 0xC7 | 0xCB | 0xCF);
                found_frame = true;
            }
            0xE1 if seg.starts_with(b"Exif\0\0") && h.exif.is_none() => {
                h.exif = Some((i + 4 + 6, i + 2 + len));
            }
            0xEE if seg.starts_with(b"Adobe") => h.adobe = true,
            0xE0 if seg.starts_with(b"JFIF\0") && seg.len() >= 12 => {
                h.jfif_density = Some((
                    seg[7],
                    u16::from_be_bytes([seg[8], seg[9]]),
                    u16::from_be_bytes([seg[10], seg[11]]),
                ));
            }
            // "ICC_PROFILE\0", sequence number, count, then the data.
            0xE2 if seg.starts_with(b"ICC_PROFILE\0") && seg.len() > 14 => {
                h.icc_chunks.push((seg[12], i + 4 + 14, i + 2 + len));
            }
            0xDB => read_dqt(seg, &mut h),
            _ => {}
        }
        i += 2 + len;
    }
    found_frame.then_some(h)
}

fn read_dqt(seg: &[u8], h: &mut JpegHeader) {
    let (tables, _complete) = dqt_tables(seg);
    if h.luma_table.is_none() {
        h.luma_table = tables.into_iter().find(|(id, _)| *id == 0).map(|(_, t)| t);
    }
}

/// The quantisation tables of one DQT segment: (table id, values in zigzag
/// order), up to the first truncated one; `false` when the segment ended in
/// the middle of a table.
pub(crate) fn dqt_tables(mut seg: &[u8]) -> (Vec<(u8, [u16; 64])>, bool) {
    let mut tables = Vec::new();
    while let Some((&pq_tq, rest)) = seg.split_first() {
        let sixteen = pq_tq >> 4 == 1;
        let size = if sixteen { 128 } else { 64 };
        if rest.len() < size {
            return (tables, false);
        }
        let mut t = [0u16; 64];
        for (k, v) in t.iter_mut().enumerate() {
            *v = if sixteen {
                u16::from_be_bytes([rest[2 * k], rest[2 * k + 1]])
            } else {
                u16::from(rest[k])
            };
        }
        tables.push((pq_tq & 0x0F, t));
        seg = &rest[size..];
    }
    (tables, true)
}

/// The IJG (libjpeg) standard luminance table, quality 50, zigzag order.
const IJG_LUMA: [u16; 64] = [
    16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37,
    29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81,
    87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
];

/// The libjpeg quality (1–100) whose scaled standard table is closest to the
/// stored luminance table. Encoders using other tables get the nearest match.
pub fn estimate_quality(luma: &[u16; 64]) -> u8 {
    let mut best = (u64::MAX, 75u8);
    for q in 1..=100u32 {
        let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
        let err: u64 = IJG_LUMA
            .iter()
            .zip(luma)
            .map(|(&base, &actual)| {
                let expected = ((u32::from(base) * scale + 50) / 100).clamp(1, 255);
                let d = i64::from(expected) - i64::from(actual);
                (d * d) as u64
            })
            .sum();
        if err < best.0 {
            best = (err, q as u8);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_embedded_profile_reads_back_whole_across_segments() {
        let frame = crate::Frame::filled(16, 8, &[200, 30, 10]);
        let plain = crate::encode(frame, crate::Format::Jpg, &Default::default()).unwrap();
        // Not a real profile: the segments carry any bytes; 2½ segments' worth.
        let icc: Vec<u8> = (0..ICC_CHUNK * 5 / 2)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let out = with_icc(plain.clone(), &icc);
        let h = read_header(&out).unwrap();
        assert_eq!(h.icc_chunks.len(), 3);
        assert_eq!(h.icc(&out).unwrap(), icc);
        // Placed after the JFIF segment, and the image is untouched.
        assert_eq!(&out[2..4], [0xFF, 0xE0]);
        assert_eq!(read_header(&plain).unwrap().icc(&plain), None);
        let decode = |b: &[u8]| image::load_from_memory(b).unwrap().to_rgb8().into_raw();
        assert_eq!(decode(&out), decode(&plain));
        assert!(icc_fits(&icc) && !icc_fits(&vec![0; ICC_CHUNK * 255 + 1]));
    }

    fn table_for(q: u32) -> [u16; 64] {
        let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
        let mut t = [0u16; 64];
        for (k, v) in t.iter_mut().enumerate() {
            *v = ((u32::from(IJG_LUMA[k]) * scale + 50) / 100).clamp(1, 255) as u16;
        }
        t
    }

    #[test]
    fn quality_round_trips_through_the_standard_tables() {
        for q in [10, 50, 72, 80, 85, 90, 95] {
            assert_eq!(u32::from(estimate_quality(&table_for(q))), q);
        }
    }

    #[test]
    fn garbage_is_not_a_header() {
        assert_eq!(read_header(b"\xFF\xD8\xFF\xE0\x00"), None);
        assert_eq!(read_header(b"nope"), None);
        assert_eq!(read_header(b"\xFF\xD8\xFF\xC0\x00\x02"), None);
    }
}
