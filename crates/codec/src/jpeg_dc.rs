//! A progressive JPEG at 1/8 scale from its DC coefficients alone.
//!
//! At 1/8 scale every 8×8 block becomes one pixel, whose value is the
//! block's DC coefficient — so a progressive file, which stores all DC
//! coefficients in their own scans ahead of the AC data, can be decoded by
//! reading only those scans and skipping the AC scans' bytes unparsed.
//! libjpeg-turbo instead Huffman-decodes every scan (119 ms against the
//! ~10 ms this takes on the 12 MP corpus photo).
//!
//! The output matches libjpeg's 1/8 scaled decode: its 1×1 IDCT
//! (`(dc·q + 4) >> 3`, centred on 128), box-replicated chroma (libjpeg does
//! not use fancy upsampling at this scale) and its fixed-point YCbCr → RGB.
//! Anything unusual — baseline, arithmetic coding, 12-bit, CMYK, RGB-coded
//! or Adobe-transform-0 files, odd sampling factors, damage — returns
//! `None` and libjpeg decodes the file as usual.

use crate::frame::Frame;

struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant_table: usize,
    /// Latched when the component's first scan starts, as libjpeg does.
    quant_dc: Option<i32>,
    /// Blocks per row / column of the padded (whole-MCU) grid.
    grid_w: usize,
    /// Blocks actually inside the image (non-interleaved scans cover only these).
    real_w: usize,
    real_h: usize,
    dc: Vec<i32>,
    seen: bool,
}

#[derive(Clone)]
struct Huffman {
    /// Largest code of each length (index 1..=16), −1 when none.
    max_code: [i32; 18],
    /// `values` index of the first code of each length, minus that code.
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: Vec<u8>) -> Option<Huffman> {
        let mut max_code = [-1i32; 18];
        let mut offset = [0i32; 17];
        let mut code = 0i32;
        let mut k = 0i32;
        for len in 1..=16 {
            let n = i32::from(counts[len - 1]);
            offset[len] = k - code;
            if n > 0 {
                code += n;
                k += n;
                max_code[len] = code - 1;
            }
            if code > 1 << len {
                return None;
            }
            code <<= 1;
        }
        // Sentinel: any 17-bit code ends the search as an error.
        max_code[17] = i32::MAX;
        (k as usize <= values.len()).then_some(Huffman {
            max_code,
            offset,
            values,
        })
    }
}

/// Entropy-coded bits with byte stuffing undone; past a marker (or the
/// end) it yields zero bits, as libjpeg does.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            data,
            pos,
            buf: 0,
            count: 0,
            at_marker: false,
        }
    }

    fn fill(&mut self) {
        while self.count <= 56 {
            let mut byte = 0u8;
            if !self.at_marker {
                match self.data.get(self.pos) {
                    None => self.at_marker = true,
                    Some(&0xFF) => {
                        if self.data.get(self.pos + 1) == Some(&0) {
                            byte = 0xFF;
                            self.pos += 2;
                        } else {
                            self.at_marker = true;
                        }
                    }
                    Some(&b) => {
                        byte = b;
                        self.pos += 1;
                    }
                }
            }
            self.buf |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    fn bit(&mut self) -> u32 {
        if self.count == 0 {
            self.fill();
        }
        let b = (self.buf >> 63) as u32;
        self.buf <<= 1;
        self.count -= 1;
        b
    }

    fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.count < n {
            self.fill();
        }
        let v = (self.buf >> (64 - n)) as u32;
        self.buf <<= n;
        self.count -= n;
        v
    }

    fn decode(&mut self, table: &Huffman) -> Option<u8> {
        let mut code = self.bit() as i32;
        let mut len = 1;
        while code > table.max_code[len] {
            code = (code << 1) | self.bit() as i32;
            len += 1;
            if len > 16 {
                return None;
            }
        }
        table
            .values
            .get(usize::try_from(code + table.offset[len]).ok()?)
            .copied()
    }

    /// Skips to just past the restart marker that must come next.
    fn restart(&mut self) -> Option<()> {
        self.buf = 0;
        self.count = 0;
        self.at_marker = false;
        let at = find_marker(self.data, self.pos)?;
        if !(0xD0..=0xD7).contains(&self.data[at + 1]) {
            return None;
        }
        self.pos = at + 2;
        Some(())
    }
}

/// The position of the next marker (`FF xx`, xx not 0) at or after `from`,
/// restart markers included.
fn find_marker(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 1 < data.len() {
        if data[i] == 0xFF && data[i + 1] != 0 && data[i + 1] != 0xFF {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The next marker that is not a restart marker: where an AC scan ends.
fn end_of_scan(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let at = find_marker(data, i)?;
        if (0xD0..=0xD7).contains(&data[at + 1]) {
            i = at + 2;
        } else {
            return Some(at);
        }
    }
}

fn u16_at(d: &[u8], i: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *d.get(i)?,
        *d.get(i + 1)?,
    ])))
}

struct Decoder {
    width: usize,
    height: usize,
    h_max: usize,
    v_max: usize,
    mcus_x: usize,
    mcus_y: usize,
    components: Vec<Component>,
    dc_tables: [Option<Huffman>; 4],
    quant_dc: [Option<i32>; 4],
    restart_interval: usize,
}

/// Decodes `bytes` at 1/8 scale from its DC scans, or `None` when the file
/// is not a progressive JPEG this path handles. `size` is the frame size the
/// limits were checked against; a file whose frame header disagrees is left
/// to libjpeg.
pub fn decode_dc(bytes: &[u8], size: (u32, u32)) -> Option<Frame> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut d: Option<Decoder> = None;
    let mut dc_tables: [Option<Huffman>; 4] = Default::default();
    let mut quant_dc = [None; 4];
    let mut restart_interval = 0;
    let mut pos = 2;
    // A truncated file ends the loop early: what was read is used.
    while let Some(at) = find_marker(bytes, pos) {
        let marker = bytes[at + 1];
        if marker == 0xD9 {
            break;
        }
        if (0xD0..=0xD7).contains(&marker) {
            pos = at + 2;
            continue;
        }
        let len = u16_at(bytes, at + 2)?;
        let body = bytes.get(at + 4..(at + 2 + len).max(at + 4))?;
        pos = at + 2 + len;
        match marker {
            0xC2 => {
                let frame = Decoder::frame(body)?;
                if (frame.width, frame.height) != (size.0 as usize, size.1 as usize) {
                    return None;
                }
                d = Some(frame);
            }
            // Baseline, extended, lossless, arithmetic, hierarchical: not ours.
            0xC0 | 0xC1 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            // APP14 "Adobe" with transform 0: RGB-coded components.
            0xEE if body.starts_with(b"Adobe") && body.get(11) == Some(&0) => return None,
            0xC4 => read_dht(body, &mut dc_tables)?,
            0xDB => read_dqt(body, &mut quant_dc)?,
            0xDD => restart_interval = u16_at(body, 0)?,
            0xDA => {
                let dec = d.as_mut()?;
                dec.dc_tables = dc_tables.clone();
                dec.quant_dc = quant_dc;
                dec.restart_interval = restart_interval;
                pos = dec.scan(bytes, body, pos)?;
            }
            _ => {}
        }
    }
    d?.into_frame()
}

fn read_dht(mut body: &[u8], tables: &mut [Option<Huffman>; 4]) -> Option<()> {
    while !body.is_empty() {
        let class_id = *body.first()?;
        let counts: [u8; 16] = body.get(1..17)?.try_into().ok()?;
        let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let values = body.get(17..17 + n)?.to_vec();
        // Only DC tables (class 0) matter here.
        if class_id >> 4 == 0 {
            *tables.get_mut(usize::from(class_id & 0x0F))? = Some(Huffman::new(&counts, values)?);
        }
        body = &body[17 + n..];
    }
    Some(())
}

/// Only each table's DC step matters at 1/8; a truncated segment or a
/// table id past 3 declines the file.
fn read_dqt(body: &[u8], quant_dc: &mut [Option<i32>; 4]) -> Option<()> {
    let (tables, complete) = crate::jpeg::dqt_tables(body);
    for (id, table) in tables {
        *quant_dc.get_mut(usize::from(id))? = Some(i32::from(table[0]));
    }
    complete.then_some(())
}

impl Decoder {
    fn frame(body: &[u8]) -> Option<Decoder> {
        let precision = *body.first()?;
        let height = u16_at(body, 1)?;
        let width = u16_at(body, 3)?;
        let n = usize::from(*body.get(5)?);
        if precision != 8 || width == 0 || height == 0 || !(n == 1 || n == 3) {
            return None;
        }
        let mut raw = Vec::with_capacity(n);
        for i in 0..n {
            let c = body.get(6 + 3 * i..9 + 3 * i)?;
            let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 0x0F));
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
                return None;
            }
            raw.push((c[0], h, v, usize::from(c[2])));
        }
        // Component ids 'R','G','B' mean RGB-coded data to libjpeg.
        if n == 3 && raw.iter().map(|c| c.0).eq([b'R', b'G', b'B']) {
            return None;
        }
        let h_max = raw.iter().map(|c| c.1).max()?;
        let v_max = raw.iter().map(|c| c.2).max()?;
        if raw.iter().any(|c| h_max % c.1 != 0 || v_max % c.2 != 0) {
            return None;
        }
        let mcus_x = width.div_ceil(8 * h_max);
        let mcus_y = height.div_ceil(8 * v_max);
        let components = raw
            .into_iter()
            .map(|(id, h, v, quant_table)| {
                let grid_w = mcus_x * h;
                let grid_h = mcus_y * v;
                Component {
                    id,
                    h,
                    v,
                    quant_table,
                    quant_dc: None,
                    grid_w,
                    real_w: (width * h).div_ceil(h_max).div_ceil(8),
                    real_h: (height * v).div_ceil(v_max).div_ceil(8),
                    dc: vec![0; grid_w * grid_h],
                    seen: false,
                }
            })
            .collect();
        Some(Decoder {
            width,
            height,
            h_max,
            v_max,
            mcus_x,
            mcus_y,
            components,
            dc_tables: Default::default(),
            quant_dc: [None; 4],
            restart_interval: 0,
        })
    }

    /// One scan: DC scans are decoded, AC scans skipped. Returns where the
    /// scan's data ends.
    fn scan(&mut self, data: &[u8], header: &[u8], start: usize) -> Option<usize> {
        let ns = usize::from(*header.first()?);
        let mut members = Vec::with_capacity(ns);
        for i in 0..ns {
            let id = *header.get(1 + 2 * i)?;
            let table = usize::from(header.get(2 + 2 * i)? >> 4);
            let index = self.components.iter().position(|c| c.id == id)?;
            members.push((index, table));
        }
        let spectral = header.get(1 + 2 * ns..4 + 2 * ns)?;
        let (ss, ah, al) = (spectral[0], spectral[2] >> 4, spectral[2] & 0x0F);
        if ss != 0 {
            return end_of_scan(data, start);
        }
        if ns == 0 || al > 13 {
            return None;
        }
        for &(index, table) in &members {
            let c = &mut self.components[index];
            if c.quant_dc.is_none() {
                c.quant_dc = self.quant_dc[c.quant_table];
            }
            c.quant_dc?;
            if ah == 0 {
                self.dc_tables[table].as_ref()?;
                c.seen = true;
            }
        }
        let mut bits = Bits::new(data, start);
        let mut predictors = vec![0i32; members.len()];
        // One block per unit in a single-component scan, one MCU otherwise.
        let units: Vec<(usize, usize)> = if ns == 1 {
            let c = &self.components[members[0].0];
            (0..c.real_h)
                .flat_map(|y| (0..c.real_w).map(move |x| (x, y)))
                .collect()
        } else {
            (0..self.mcus_y)
                .flat_map(|y| (0..self.mcus_x).map(move |x| (x, y)))
                .collect()
        };
        for (n, &(ux, uy)) in units.iter().enumerate() {
            if self.restart_interval > 0 && n > 0 && n % self.restart_interval == 0 {
                bits.restart()?;
                predictors.fill(0);
            }
            for (m, &(index, table)) in members.iter().enumerate() {
                let c = &mut self.components[index];
                let (bw, bh) = if ns == 1 { (1, 1) } else { (c.h, c.v) };
                for by in 0..bh {
                    for bx in 0..bw {
                        let at = (uy * bh + by) * c.grid_w + ux * bw + bx;
                        let slot = c.dc.get_mut(at)?;
                        if ah == 0 {
                            let size = u32::from(bits.decode(self.dc_tables[table].as_ref()?)?);
                            if size > 11 {
                                return None;
                            }
                            let raw = bits.bits(size) as i32;
                            let diff = if size > 0 && raw < 1 << (size - 1) {
                                raw - (1 << size) + 1
                            } else {
                                raw
                            };
                            predictors[m] = predictors[m].wrapping_add(diff);
                            *slot = predictors[m].wrapping_shl(u32::from(al));
                        } else if bits.bit() == 1 {
                            *slot |= 1 << al;
                        }
                    }
                }
            }
        }
        end_of_scan(data, bits.pos)
    }

    fn into_frame(self) -> Option<Frame> {
        if self.components.iter().any(|c| !c.seen) {
            return None;
        }
        let (w, h) = (self.width.div_ceil(8), self.height.div_ceil(8));
        // Each component's 1/8-scale plane, sample = clamped IDCT 1×1.
        let planes: Vec<Vec<u8>> = self
            .components
            .iter()
            .map(|c| {
                let q = c.quant_dc.unwrap_or(1);
                c.dc.iter()
                    .map(|&dc| {
                        let v = ((i64::from(dc) * i64::from(q) + 4) >> 3) + 128;
                        v.clamp(0, 255) as u8
                    })
                    .collect()
            })
            .collect();
        let mut out = Vec::with_capacity(w * h * 3);
        if self.components.len() == 1 {
            let c = &self.components[0];
            for y in 0..h {
                for x in 0..w {
                    let v = planes[0][y * c.grid_w + x];
                    out.extend_from_slice(&[v, v, v]);
                }
            }
            return Some(Frame::new(w as u32, h as u32, 3, out));
        }
        let full: Vec<Vec<u8>> = (0..3)
            .map(|i| {
                let c = &self.components[i];
                upsample(
                    &planes[i],
                    c.grid_w,
                    (self.h_max / c.h, self.v_max / c.v),
                    w,
                    h,
                )
            })
            .collect();
        for ((&l, &cb), &cr) in full[0].iter().zip(&full[1]).zip(&full[2]) {
            out.extend_from_slice(&ycc_to_rgb(l, cb, cr));
        }
        Some(Frame::new(w as u32, h as u32, 3, out))
    }
}

/// A component plane (`stride` samples per row) brought to `w × h`.
/// 2×2-subsampled chroma is interpolated (libjpeg's "fancy" triangle
/// filter, 3:1 weights): libjpeg itself decodes such chroma with a 2×2 IDCT
/// from AC coefficients this path never reads, and the interpolation comes
/// closer to that than replication. Other factors are replicated, exactly
/// as libjpeg does at this scale.
fn upsample(plane: &[u8], stride: usize, factor: (usize, usize), w: usize, h: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(w * h);
    if factor != (2, 2) {
        for y in 0..h {
            let row = &plane[(y / factor.1) * stride..];
            out.extend((0..w).map(|x| row[x / factor.0]));
        }
        return out;
    }
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let at = |x: usize, y: usize| u32::from(plane[y.min(ch - 1) * stride + x.min(cw - 1)]);
    // Neighbour toward which an output sample leans: left/up for even, right/down for odd.
    let near = |o: usize, n: usize| -> (usize, usize) {
        let i = o / 2;
        let j = if o.is_multiple_of(2) {
            i.saturating_sub(1)
        } else {
            (i + 1).min(n - 1)
        };
        (i, j)
    };
    for y in 0..h {
        let (yi, yj) = near(y, ch);
        for x in 0..w {
            let (xi, xj) = near(x, cw);
            let v = 9 * at(xi, yi) + 3 * at(xj, yi) + 3 * at(xi, yj) + at(xj, yj);
            out.push(((v + 8) / 16) as u8);
        }
    }
    out
}

/// libjpeg's fixed-point YCbCr → RGB (jdcolor.c, 16 fraction bits), so the
/// result matches its decoder to the bit.
fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    const HALF: i32 = 1 << 15;
    let fix = |x: f64| (x * 65536.0 + 0.5) as i32;
    let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
    let r = y + ((fix(1.40200) * cr + HALF) >> 16);
    let g = y + ((-fix(0.34414) * cb - fix(0.71414) * cr + HALF) >> 16);
    let b = y + ((fix(1.77200) * cb + HALF) >> 16);
    [r, g, b].map(|v| v.clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huffman_tables_decode_their_codes() {
        // The standard luminance DC table (ITU T.81 K.3).
        let counts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
        let t = Huffman::new(&counts, (0..12).collect()).unwrap();
        // Category 0 is "00", category 5 is "110", category 11 is "111111110".
        let data = [0b0011_0111, 0b1111_1000];
        let mut bits = Bits::new(&data, 0);
        assert_eq!(bits.decode(&t), Some(0));
        assert_eq!(bits.decode(&t), Some(5));
        assert_eq!(bits.decode(&t), Some(11));
    }

    #[test]
    fn oversubscribed_tables_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3; // three 1-bit codes cannot exist
        assert!(Huffman::new(&counts, vec![0, 1, 2]).is_none());
    }

    #[test]
    fn stuffed_bytes_and_markers() {
        let data = [0xFF, 0x00, 0xAB, 0xFF, 0xD9];
        let mut bits = Bits::new(&data, 0);
        assert_eq!(bits.bits(8), 0xFF);
        assert_eq!(bits.bits(8), 0xAB);
        // Past the marker: zeros, and the position stays at the marker.
        assert_eq!(bits.bits(16), 0);
        assert_eq!(bits.pos, 3);
    }

    #[test]
    fn not_progressive_or_not_jpeg_is_declined() {
        assert!(decode_dc(b"not a jpeg", (1, 1)).is_none());
        assert!(decode_dc(&[0xFF, 0xD8, 0xFF, 0xC0, 0, 2], (1, 1)).is_none());
        assert!(decode_dc(&[0xFF, 0xD8], (1, 1)).is_none());
    }

    #[test]
    fn grey_ycc_is_grey() {
        assert_eq!(ycc_to_rgb(100, 128, 128), [100, 100, 100]);
        assert_eq!(ycc_to_rgb(0, 0, 255)[0], 178);
    }
}
