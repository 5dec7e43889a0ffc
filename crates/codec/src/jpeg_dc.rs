//! A JPEG at 1/8 scale from its DC coefficients alone.
//!
//! At 1/8 scale every 8×8 block becomes one pixel, whose value is the
//! block's DC coefficient — so a progressive file, which stores all DC
//! coefficients in their own scans ahead of the AC data, can be decoded by
//! reading only those scans and skipping the AC scans' bytes unparsed.
//! libjpeg-turbo instead Huffman-decodes every scan (119 ms against the
//! ~10 ms this takes on the 12 MP corpus photo).
//!
//! A baseline (sequential Huffman) file interleaves each block's AC
//! coefficients after its DC, so they must still be walked — but only
//! walked: a lookup table gives each AC code's length and the size of its
//! value, which is skipped unread, with no coefficient stored, dequantised
//! or transformed.
//!
//! The output matches libjpeg's 1/8 scaled decode: its 1×1 IDCT
//! (`(dc·q + 4) >> 3`, centred on 128), box-replicated chroma (libjpeg does
//! not use fancy upsampling at this scale) and its fixed-point YCbCr → RGB.
//! Anything unusual — arithmetic coding, 12-bit, CMYK, RGB-coded
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
    /// For every `LOOKUP_BITS`-bit prefix, the code it starts with as
    /// `length | symbol << 8`; 0 for a longer code.
    lookup: std::sync::Arc<[u16]>,
    /// As an AC table, for every prefix: the whole (code, value) pairs it
    /// holds, up to an end of block, as `bits | coefficients << 5 |
    /// end_of_block << 12` — several AC codes skipped with one lookup.
    runs: std::sync::Arc<[u16]>,
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
            // libjpeg refuses a table that uses the all-ones code.
            if code >= 1 << len {
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
            lookup: Default::default(),
            runs: Default::default(),
        })
    }

    /// The table with its lookups built (`runs` too for an AC table) —
    /// done per scan for the tables the scan uses, so a file full of table
    /// definitions costs no more than reading them.
    fn prepared(&self, ac: bool) -> Huffman {
        let mut lookup = vec![0u16; 1 << LOOKUP_BITS];
        for (prefix, slot) in lookup.iter_mut().enumerate() {
            for len in 1..=LOOKUP_BITS as usize {
                let code = (prefix >> (LOOKUP_BITS as usize - len)) as i32;
                if code <= self.max_code[len] {
                    if let Some(&symbol) = usize::try_from(code + self.offset[len])
                        .ok()
                        .and_then(|i| self.values.get(i))
                    {
                        *slot = len as u16 | u16::from(symbol) << 8;
                    }
                    break;
                }
            }
        }
        let runs = if ac { lookup_runs(&lookup) } else { Vec::new() };
        Huffman {
            lookup: lookup.into(),
            runs: runs.into(),
            ..self.clone()
        }
    }
}

/// The `runs` table from the single-code `lookup` (see `Huffman::runs`).
fn lookup_runs(lookup: &[u16]) -> Vec<u16> {
    (0..lookup.len())
        .map(|prefix| {
            let (mut used, mut coefficients) = (0u32, 0u32);
            loop {
                // The next code, read from the prefix's remaining bits
                // (padded with zeros: accepted only if it fits).
                let rest = (prefix << used) & ((1 << LOOKUP_BITS) - 1);
                let entry = lookup[rest];
                let len = u32::from(entry & 0xFF);
                let symbol = entry >> 8;
                let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 0x0F));
                let advance = if size == 0 { 16 } else { run + 1 };
                let end_of_block = size == 0 && run != 15;
                // A block holds 63 AC coefficients: longer runs are never
                // taken whole (and the count stays within its 7 bits).
                if entry == 0
                    || used + len + size > LOOKUP_BITS
                    || (!end_of_block && coefficients + advance > 63)
                {
                    return (used | coefficients << 5) as u16;
                }
                used += len + size;
                if end_of_block {
                    return (used | coefficients << 5 | 1 << 12) as u16;
                }
                coefficients += advance;
            }
        })
        .collect()
}

/// Bits a code is looked up by at once (a 8 KiB table per Huffman table);
/// longer codes (rare: the standard AC tables' longest) go bit by bit.
const LOOKUP_BITS: u32 = 12;

/// Entropy-coded bits with byte stuffing undone; past a marker (or the
/// end) it yields zero bits, as libjpeg does.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
    at_marker: bool,
    /// Of the `count` bits, how many at the end are zeros put in past the
    /// data (a marker or the end): reading into them means the scan's data
    /// ran out, which makes the file libjpeg's to judge.
    padding: u32,
    /// The restart marker number expected next (0–7).
    next_restart: u8,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Bits<'a> {
        Bits {
            data,
            pos,
            buf: 0,
            count: 0,
            at_marker: false,
            padding: 0,
            next_restart: 0,
        }
    }

    /// Whether bits past the scan's data have been read.
    fn overran(&self) -> bool {
        self.count < self.padding
    }

    // Inlined so the bit buffer can stay in registers in the hot loops.
    #[inline(always)]
    fn fill(&mut self) {
        // Eight bytes ahead without an 0xFF (so no stuffing, no marker):
        // as many whole bytes as fit, at once.
        if !self.at_marker
            && let Some(ahead) = self.data.get(self.pos..self.pos + 8)
        {
            let word = u64::from_be_bytes(ahead.try_into().unwrap_or([0xFF; 8]));
            let inverted = !word;
            let has_ff =
                inverted.wrapping_sub(0x0101_0101_0101_0101) & word & 0x8080_8080_8080_8080;
            let n = 63u32.saturating_sub(self.count) / 8;
            if has_ff == 0 && n > 0 {
                self.buf |= (word >> (64 - 8 * n)) << (64 - self.count - 8 * n);
                self.pos += n as usize;
                self.count += 8 * n;
                return;
            }
        }
        self.fill_bytewise();
    }

    /// Byte by byte, undoing stuffing and stopping at a marker.
    #[inline(never)]
    fn fill_bytewise(&mut self) {
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
            if self.at_marker {
                self.padding += 8;
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

    /// Walks one block's AC coefficients (1..=63) without keeping them:
    /// each code and the value bits after it are dropped in one shift.
    fn skip_ac(&mut self, table: &Huffman) -> Option<()> {
        let mut k = 1;
        while k < 64 {
            if self.count < 32 {
                self.fill();
            }
            let window = (self.buf >> (64 - LOOKUP_BITS)) as usize;
            let runs = u32::from(table.runs[window]);
            let (used, coefficients) = (runs & 31, (runs >> 5) & 127);
            if used != 0 && k + coefficients < 64 {
                self.buf <<= used;
                self.count -= used;
                if runs & 1 << 12 != 0 {
                    return Some(());
                }
                k += coefficients;
                continue;
            }
            let entry = table.lookup[window];
            let (len, symbol) = if entry != 0 {
                (u32::from(entry & 0xFF), (entry >> 8) as u8)
            } else {
                // Consumed by the bit-by-bit path (at most 16 of the ≥ 32 bits).
                (0, self.decode_slow(table)?)
            };
            let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 0x0F));
            // At most 12 + 15 bits, all buffered.
            self.buf <<= len + size;
            self.count -= len + size;
            if size == 0 {
                if run != 15 {
                    return Some(()); // end of block
                }
                k += 16;
            } else {
                k += run + 1;
            }
        }
        // A run past coefficient 63 is damage libjpeg warns about and
        // stops the block at; so does this.
        Some(())
    }

    #[inline(always)]
    fn decode(&mut self, table: &Huffman) -> Option<u8> {
        if self.count < 16 {
            self.fill();
        }
        let entry = table.lookup[(self.buf >> (64 - LOOKUP_BITS)) as usize];
        if entry == 0 {
            return self.decode_slow(table);
        }
        let len = u32::from(entry & 0xFF);
        self.buf <<= len;
        self.count -= len;
        Some((entry >> 8) as u8)
    }

    fn decode_slow(&mut self, table: &Huffman) -> Option<u8> {
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
        self.padding = 0;
        self.at_marker = false;
        let at = find_marker(self.data, self.pos)?;
        // RST0..RST7 in turn: another one means lost data.
        if self.data[at + 1] != 0xD0 + self.next_restart {
            return None;
        }
        self.next_restart = (self.next_restart + 1) % 8;
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

/// One scan member's state while its blocks are read.
struct Lane {
    plane: Vec<i32>,
    /// The DC table (none in a refinement scan).
    dc: Option<Huffman>,
    ac: Option<Huffman>,
    offsets: Vec<usize>,
    /// (blocks across, blocks down) from one unit to the next.
    step: (usize, usize),
    predictor: i32,
}

struct Decoder {
    width: usize,
    height: usize,
    h_max: usize,
    v_max: usize,
    mcus_x: usize,
    mcus_y: usize,
    components: Vec<Component>,
    /// Progressive (SOF2), else baseline/extended sequential (SOF0/SOF1).
    progressive: bool,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    quant_dc: [Option<i32>; 4],
    restart_interval: usize,
}

/// Decodes `bytes` at 1/8 scale from its DC coefficients, or `None` when
/// the file is not a Huffman-coded 8-bit JPEG this path handles. `size` is the frame size the
/// limits were checked against; a file whose frame header disagrees is left
/// to libjpeg.
pub fn decode_dc(bytes: &[u8], size: (u32, u32)) -> Option<Frame> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut d: Option<Decoder> = None;
    let mut dc_tables: [Option<Huffman>; 4] = Default::default();
    let mut ac_tables: [Option<Huffman>; 4] = Default::default();
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
            0xC0..=0xC2 => {
                // A second frame header is not a JPEG libjpeg would read so.
                if d.is_some() {
                    return None;
                }
                let mut frame = Decoder::frame(body)?;
                if (frame.width, frame.height) != (size.0 as usize, size.1 as usize) {
                    return None;
                }
                frame.progressive = marker == 0xC2;
                d = Some(frame);
            }
            // Lossless, arithmetic, hierarchical: not ours.
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            // APP14 "Adobe" with transform 0: RGB-coded components.
            0xEE if body.starts_with(b"Adobe") && body.get(11) == Some(&0) => return None,
            // AC tables only matter to a sequential frame: a progressive
            // one's are neither read nor judged here (a table defined before
            // the frame header is not kept: libjpeg takes that file).
            0xC4 => {
                let sequential = d.as_ref().is_some_and(|d| !d.progressive);
                read_dht(body, &mut dc_tables, sequential.then_some(&mut ac_tables))?;
            }
            0xDB => read_dqt(body, &mut quant_dc)?,
            0xDD => restart_interval = u16_at(body, 0)?,
            0xDA => {
                let dec = d.as_mut()?;
                dec.dc_tables = dc_tables.clone();
                if !dec.progressive {
                    dec.ac_tables = ac_tables.clone();
                }
                dec.quant_dc = quant_dc;
                dec.restart_interval = restart_interval;
                pos = dec.scan(bytes, body, pos)?;
            }
            _ => {}
        }
    }
    d?.into_frame()
}

fn read_dht(
    mut body: &[u8],
    dc: &mut [Option<Huffman>; 4],
    mut ac: Option<&mut [Option<Huffman>; 4]>,
) -> Option<()> {
    while !body.is_empty() {
        let class_id = *body.first()?;
        let counts: [u8; 16] = body.get(1..17)?.try_into().ok()?;
        let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let values = body.get(17..17 + n)?.to_vec();
        let id = usize::from(class_id & 0x0F);
        match class_id >> 4 {
            0 => *dc.get_mut(id)? = Some(Huffman::new(&counts, values)?),
            1 => {
                if let Some(ac) = ac.as_deref_mut() {
                    *ac.get_mut(id)? = Some(Huffman::new(&counts, values)?);
                }
            }
            _ => return None,
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
            progressive: true,
            dc_tables: Default::default(),
            ac_tables: Default::default(),
            quant_dc: [None; 4],
            restart_interval: 0,
        })
    }

    /// One scan: DC scans are decoded, progressive AC scans skipped,
    /// sequential scans decoded for DC with their AC codes walked. Returns
    /// where the scan's data ends.
    fn scan(&mut self, data: &[u8], header: &[u8], start: usize) -> Option<usize> {
        let ns = usize::from(*header.first()?);
        let mut members = Vec::with_capacity(ns);
        let mut ac: Vec<Huffman> = Vec::new();
        for i in 0..ns {
            let id = *header.get(1 + 2 * i)?;
            let tables = *header.get(2 + 2 * i)?;
            let index = self.components.iter().position(|c| c.id == id)?;
            members.push((index, usize::from(tables >> 4)));
            if !self.progressive {
                // Cloned so the block loop below borrows nothing of `self`.
                ac.push(
                    self.ac_tables
                        .get(usize::from(tables & 0x0F))?
                        .as_ref()?
                        .prepared(true),
                );
            }
        }
        let spectral = header.get(1 + 2 * ns..4 + 2 * ns)?;
        let (ss, se, ah, al) = (
            spectral[0],
            spectral[1],
            spectral[2] >> 4,
            spectral[2] & 0x0F,
        );
        if !self.progressive && (ss, se, ah, al) != (0, 63, 0, 0) {
            return None;
        }
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
                // A component's DC comes in one scan: a second is damage
                // (and would make the work grow with the headers).
                if c.seen {
                    return None;
                }
                self.dc_tables.get(table)?.as_ref()?;
                c.seen = true;
            }
        }
        // Per member: its DC plane (taken out of the component for the
        // scan), DC table, the block offsets of one unit, and a unit's
        // step across and down the plane. One block per unit in a
        // single-component scan, one MCU otherwise.
        let mut lanes = Vec::with_capacity(ns);
        for (m, &(index, table)) in members.iter().enumerate() {
            let c = &mut self.components[index];
            let (bw, bh) = if ns == 1 { (1, 1) } else { (c.h, c.v) };
            let offsets: Vec<usize> = (0..bh)
                .flat_map(|by| (0..bw).map(move |bx| (by, bx)))
                .map(|(by, bx)| by * c.grid_w + bx)
                .collect();
            lanes.push(Lane {
                plane: std::mem::take(&mut c.dc),
                dc: if ah == 0 {
                    Some(self.dc_tables.get(table)?.as_ref()?.prepared(false))
                } else {
                    None
                },
                ac: ac.get(m).cloned(),
                offsets,
                step: (bw, bh * c.grid_w),
                predictor: 0,
            });
        }
        let (units_x, units_y) = if ns == 1 {
            let c = &self.components[members[0].0];
            (c.real_w, c.real_h)
        } else {
            (self.mcus_x, self.mcus_y)
        };
        let mut bits = Bits::new(data, start);
        let decoded = (|| {
            // Units left before the next restart marker (none: never).
            let mut until_restart = self.restart_interval;
            for uy in 0..units_y {
                for ux in 0..units_x {
                    if self.restart_interval > 0 {
                        if until_restart == 0 {
                            bits.restart()?;
                            lanes.iter_mut().for_each(|l| l.predictor = 0);
                            until_restart = self.restart_interval;
                        }
                        until_restart -= 1;
                    }
                    for lane in &mut lanes {
                        let base = uy * lane.step.1 + ux * lane.step.0;
                        for &offset in &lane.offsets {
                            let slot = lane.plane.get_mut(base + offset)?;
                            if ah != 0 {
                                if bits.bit() == 1 {
                                    *slot |= 1 << al;
                                }
                                continue;
                            }
                            let size = u32::from(bits.decode(lane.dc.as_ref()?)?);
                            if size > 11 {
                                return None;
                            }
                            let raw = bits.bits(size) as i32;
                            let diff = if size > 0 && raw < 1 << (size - 1) {
                                raw - (1 << size) + 1
                            } else {
                                raw
                            };
                            lane.predictor = lane.predictor.wrapping_add(diff);
                            *slot = lane.predictor.wrapping_shl(u32::from(al));
                            if let Some(table) = &lane.ac {
                                bits.skip_ac(table)?;
                            }
                        }
                    }
                    // Data that ran out is libjpeg's to judge (and the work
                    // stays bounded by the file's length).
                    if bits.overran() {
                        return None;
                    }
                }
            }
            Some(())
        })();
        for (lane, &(index, _)) in lanes.into_iter().zip(&members) {
            self.components[index].dc = lane.plane;
        }
        decoded?;
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
    if factor == (1, 1) {
        for y in 0..h {
            out.extend_from_slice(&plane[y * stride..][..w]);
        }
        return out;
    }
    if factor != (2, 2) {
        for y in 0..h {
            let row = &plane[(y / factor.1) * stride..];
            out.extend((0..w).map(|x| row[x / factor.0]));
        }
        return out;
    }
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    // Per output row: the column sums 3·near row + far row, then 3:1
    // across, edges repeated.
    let mut sums = vec![0u32; cw];
    for y in 0..h {
        let i = y / 2;
        let j = if y.is_multiple_of(2) {
            i.saturating_sub(1)
        } else {
            (i + 1).min(ch - 1)
        };
        let (near, far) = (&plane[i * stride..][..cw], &plane[j * stride..][..cw]);
        for ((s, &a), &b) in sums.iter_mut().zip(near).zip(far) {
            *s = 3 * u32::from(a) + u32::from(b);
        }
        for x in 0..w {
            let i = x / 2;
            let j = if x.is_multiple_of(2) {
                i.saturating_sub(1)
            } else {
                (i + 1).min(cw - 1)
            };
            out.push(((3 * sums[i] + sums[j] + 8) / 16) as u8);
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
        let t = Huffman::new(&counts, (0..12).collect())
            .unwrap()
            .prepared(false);
        // Category 0 is "00", category 5 is "110", category 11 is "111111110".
        let data = [0b0011_0111, 0b1111_1000];
        let mut bits = Bits::new(&data, 0);
        assert_eq!(bits.decode(&t), Some(0));
        assert_eq!(bits.decode(&t), Some(5));
        assert_eq!(bits.decode(&t), Some(11));
    }

    #[test]
    fn one_lookup_drops_every_whole_ac_pair_up_to_the_end_of_block() {
        // The standard luminance AC table (ITU T.81 K.5): 0x01 is "00",
        // 0x02 "01", 0x03 "100", end of block "1010".
        let counts = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
        let mut values = vec![0x01, 0x02, 0x03, 0x00, 0x04, 0x11];
        // The rest (from "11010" on): two zeros then a 15-bit value.
        values.resize(162, 0x2F);
        let t = Huffman::new(&counts, values).unwrap().prepared(true);
        // "00"+"1" (one coefficient), "01"+"10" (another), "1010" (end).
        let entry = t.runs[0b0010_1101_0100];
        assert_eq!(entry & 31, 11, "bits used");
        assert_eq!((entry >> 5) & 127, 2, "coefficients");
        assert_ne!(entry & 1 << 12, 0, "end of block");
        // A pair whose value runs past the window is left to the next lookup.
        let entry = t.runs[0b1101_0000_0000];
        assert_eq!(entry & 31, 0);
        // A table giving the 16-zero run a 1-bit code: twelve of them fit
        // the window, but a block has 63 coefficients: three are taken.
        let t = Huffman::new(
            &[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            vec![0xF0, 0x00],
        )
        .unwrap()
        .prepared(true);
        let entry = t.runs[0];
        assert_eq!(
            (entry & 31, (entry >> 5) & 127, entry & 1 << 12),
            (3, 48, 0)
        );
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
