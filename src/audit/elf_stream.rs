//! Reading an ELF file from a stream (a zip member being decompressed) without holding it: only
//! the byte ranges [`elf::parse_from`] asks for are kept, so memory stays flat in the file's size.
//! Ranges it can name while they are still ahead are kept on the same pass; the rest (a string
//! table that lies before the dynamic section pointing to it) on another pass over the stream.

use std::ops::Range;

use super::elf::{self, ElfBytes, ElfError, ElfInfo, Partial};

/// Kept from the start of every ELF file: the headers, and in most files the dynamic string
/// table and version needs, which come right after them.
const PREFIX: u64 = 1 << 20;
/// Kept before the section header table, where `.ARM.attributes` lies in stripped files.
const TAIL: u64 = 256 << 10;
/// The most pyx keeps of one ELF file; a file that needs more is refused with this limit.
pub const MAX_KEPT: u64 = 16 << 20;
/// Passes over the stream after the first before a file is called corrupt.
const MAX_PASSES: usize = 4;

/// One kept byte range: `data` grows from `start` to `end` while the stream passes it.
struct Piece {
    start: u64,
    end: u64,
    data: Vec<u8>,
}

impl Piece {
    fn complete(&self) -> bool {
        self.start + self.data.len() as u64 == self.end
    }
}

/// An ELF file read from a stream, pass by pass: [`ElfStream::feed`] it every chunk of a pass.
pub struct ElfStream {
    size: u64,
    /// Offset of the next byte fed.
    pos: u64,
    pieces: Vec<Piece>,
    /// Ranges asked for, still ahead in this pass: the parse runs again once they are in.
    waiting: Vec<Range<u64>>,
    /// Ranges asked for after the stream had passed them: for the next pass.
    later: Vec<Range<u64>>,
    kept: u64,
    over_limit: bool,
    tail_planned: bool,
    prefix: u64,
    tail: u64,
}

impl ElfBytes for ElfStream {
    fn size(&self) -> u64 {
        self.size
    }

    fn get(&self, offset: u64, len: u64) -> Option<&[u8]> {
        if len == 0 {
            return Some(&[]);
        }
        let end = offset.checked_add(len)?;
        self.pieces.iter().find_map(|p| {
            let have = p.start + p.data.len() as u64;
            (p.start <= offset && end <= have)
                .then(|| &p.data[(offset - p.start) as usize..(end - p.start) as usize])
        })
    }
}

impl ElfStream {
    /// Start reading an ELF file of `size` bytes (its declared size).
    pub fn new(size: u64) -> Self {
        Self::with_windows(size, PREFIX, TAIL)
    }

    fn with_windows(size: u64, prefix: u64, tail: u64) -> Self {
        let mut s = ElfStream {
            size,
            pos: 0,
            pieces: Vec::new(),
            waiting: std::iter::once(0..16.min(size)).collect(),
            later: Vec::new(),
            kept: 0,
            over_limit: false,
            tail_planned: false,
            prefix,
            tail,
        };
        s.want(0..prefix.min(size));
        s
    }

    /// The next chunk of the stream. Where a range the parser waits for ends inside it, the
    /// parser runs there, so what it asks for next is kept from the rest of the chunk.
    pub fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            let pos = self.pos;
            let stop = self
                .waiting
                .iter()
                .map(|r| r.end)
                .filter(|&end| end > pos)
                .min()
                .map_or(chunk.len(), |end| ((end - pos) as usize).min(chunk.len()));
            let (now, rest) = chunk.split_at(stop);
            self.keep(now);
            chunk = rest;
            if self
                .waiting
                .iter()
                .any(|r| self.get(r.start, r.end - r.start).is_some())
            {
                self.plan();
            }
        }
    }

    fn keep(&mut self, chunk: &[u8]) {
        let (start, end) = (self.pos, self.pos + chunk.len() as u64);
        for p in self.pieces.iter_mut().filter(|p| !p.complete()) {
            let from = (p.start + p.data.len() as u64).max(start);
            let to = p.end.min(end);
            if from < to {
                p.data
                    .extend_from_slice(&chunk[(from - start) as usize..(to - start) as usize]);
            }
        }
        self.pos = end;
    }

    /// True while this pass still has ranges to keep ahead; once false, the rest of the stream
    /// need not be read (nor fed).
    pub fn wants_more(&self) -> bool {
        self.pieces.iter().any(|p| !p.complete())
    }

    /// Parse what was kept, streaming the file again with `restream` (which feeds a new pass
    /// from byte 0, and may stop when [`ElfStream::wants_more`] is false) while ranges are missing.
    pub fn finish(
        mut self,
        mut restream: impl FnMut(&mut ElfStream) -> Result<(), String>,
    ) -> Result<ElfInfo, ElfError> {
        for _ in 0..=MAX_PASSES {
            let needs = match elf::parse_from(&self) {
                Ok(info) => return Ok(info),
                Err(Partial::Error(e)) => return Err(e),
                Err(Partial::Needs(needs)) => needs,
            };
            if self.over_limit {
                return Err(ElfError::TooLarge { limit: MAX_KEPT });
            }
            self.pos = 0;
            self.pieces.retain(Piece::complete);
            self.waiting.clear();
            for r in needs.into_iter().chain(std::mem::take(&mut self.later)) {
                self.want(r);
            }
            if self.over_limit {
                return Err(ElfError::TooLarge { limit: MAX_KEPT });
            }
            restream(&mut self)
                .map_err(|e| ElfError::Corrupt(format!("cannot read it again: {e}")))?;
        }
        Err(ElfError::Corrupt(format!(
            "its headers still point to unread ranges after {MAX_PASSES} passes"
        )))
    }

    /// Ask the parser which ranges it lacks now, and keep those still ahead.
    fn plan(&mut self) {
        self.waiting.clear();
        if let Err(Partial::Needs(needs)) = elf::parse_from(&*self) {
            for r in needs {
                self.want(r);
            }
        }
        if !self.tail_planned
            && let Some(shoff) = self.section_table_offset()
        {
            self.tail_planned = true;
            if shoff > self.prefix {
                self.want(shoff.saturating_sub(self.tail).max(self.prefix)..shoff.min(self.size));
            }
        }
    }

    /// `e_shoff`, once the ELF header is in.
    fn section_table_offset(&self) -> Option<u64> {
        let ident = self.get(0, 64.min(self.size))?;
        let big = ident.get(5) == Some(&2);
        let field = match ident.get(4)? {
            1 => ident.get(32..36).map(|b| {
                let b: [u8; 4] = b.try_into().expect("4 bytes");
                u64::from(if big {
                    u32::from_be_bytes(b)
                } else {
                    u32::from_le_bytes(b)
                })
            }),
            2 => ident.get(40..48).map(|b| {
                let b: [u8; 8] = b.try_into().expect("8 bytes");
                if big {
                    u64::from_be_bytes(b)
                } else {
                    u64::from_le_bytes(b)
                }
            }),
            _ => None,
        }?;
        (field != 0).then_some(field)
    }

    /// Keep `r`: on this pass when it is still ahead, else on the next.
    fn want(&mut self, r: Range<u64>) {
        if r.is_empty()
            || self
                .pieces
                .iter()
                .any(|p| p.start <= r.start && r.end <= p.end)
        {
            if !r.is_empty() && self.get(r.start, r.end - r.start).is_none() {
                self.waiting.push(r);
            }
            return;
        }
        if r.start < self.pos {
            if !self.later.contains(&r) {
                self.later.push(r);
            }
            return;
        }
        let len = r.end - r.start;
        if self.kept + len > MAX_KEPT {
            self.over_limit = true;
            return;
        }
        self.kept += len;
        self.pieces.push(Piece {
            start: r.start,
            end: r.end,
            data: Vec::with_capacity(len.min(1 << 20) as usize),
        });
        self.waiting.push(r);
    }
}

/// Read the ELF file in `data` through an [`ElfStream`] fed in `chunk`-byte pieces; the result,
/// the passes and the bytes kept (tests).
#[cfg(test)]
fn read_chunked(data: &[u8], chunk: usize) -> (Result<ElfInfo, ElfError>, usize, u64) {
    read_with(data, chunk, PREFIX, TAIL)
}

#[cfg(test)]
fn read_with(
    data: &[u8],
    chunk: usize,
    prefix: u64,
    tail: u64,
) -> (Result<ElfInfo, ElfError>, usize, u64) {
    let feed = |s: &mut ElfStream| {
        for c in data.chunks(chunk) {
            if !s.wants_more() {
                break;
            }
            s.feed(c);
        }
    };
    let mut stream = ElfStream::with_windows(data.len() as u64, prefix, tail);
    feed(&mut stream);
    let mut passes = 1;
    let mut kept = stream.kept;
    let result = stream.finish(|s| {
        passes += 1;
        kept = kept.max(s.kept);
        feed(s);
        Ok(())
    });
    (result, passes, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/fixtures/elf/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// Every fixture reads the same from a stream as from memory, however it is chunked.
    #[test]
    fn streamed_files_read_as_whole_ones() {
        for name in [
            "aarch64-glibc234.so",
            "aarch64.so",
            "armv5tel.so",
            "armv6l.so",
            "armv7l.so",
            "i686.so",
            "mips64.so",
            "ppc64le.so",
            "s390x.so",
            "x86_64.so",
        ] {
            let data = fixture(name);
            let whole = elf::parse(&data).unwrap();
            for chunk in [1, 7, 64, 4096] {
                let (streamed, passes, _) = read_chunked(&data, chunk);
                assert_eq!(
                    streamed.as_ref(),
                    Ok(&whole),
                    "{name} in {chunk}-byte chunks"
                );
                assert_eq!(passes, 1, "{name}: small files are kept whole on one pass");
            }
        }
        let truncated = fixture("armv7l-truncated.so");
        assert_eq!(read_chunked(&truncated, 64).0, elf::parse(&truncated));
    }

    /// With only the ELF header kept up front, the string table and version needs (before the
    /// dynamic section that locates them) take a second pass, which keeps only what it needs.
    #[test]
    fn ranges_the_stream_has_passed_are_read_on_a_second_pass() {
        for name in ["armv7l.so", "aarch64-glibc234.so", "s390x.so", "mips64.so"] {
            let data = fixture(name);
            let whole = elf::parse(&data).unwrap();
            for chunk in [1, 16, 4096] {
                let (streamed, passes, kept) = read_with(&data, chunk, 64, 0);
                assert_eq!(
                    streamed.as_ref(),
                    Ok(&whole),
                    "{name} in {chunk}-byte chunks"
                );
                assert!((2..=3).contains(&passes), "{name}: {passes} passes");
                assert!(
                    kept < data.len() as u64 * 3 / 4,
                    "{name}: kept {kept} bytes"
                );
            }
        }
    }

    /// Damaged files (fixtures with bytes changed at random) read the same from a stream as from
    /// memory, and never panic.
    #[test]
    fn damaged_files_read_the_same_streamed_and_whole() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let names = [
            "armv7l.so",
            "aarch64.so",
            "s390x.so",
            "i686.so",
            "mips64.so",
        ];
        for round in 0..3000 {
            let mut data = fixture(names[round % names.len()]);
            for _ in 0..1 + next() % 4 {
                let at = (next() % data.len() as u64) as usize;
                data[at] = next() as u8;
            }
            let whole = elf::parse(&data);
            let (streamed, _, _) = read_with(&data, 1 + (next() % 200) as usize, 64, 128);
            match (&whole, &streamed) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "round {round}"),
                (Err(_), Err(_)) => {}
                _ => panic!("round {round}: {whole:?} but streamed {streamed:?}"),
            }
        }
    }
}
