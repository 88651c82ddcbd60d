//! What pyx reads from one ELF file (System V gABI): identity, ARM float ABI and CPU
//! architecture, interpreter and libc, `DT_NEEDED`, and the newest symbol versions needed. Only
//! the headers and the few sections holding these are read, so a file need not be in memory.

use std::ops::Range;

use goblin::elf::header::{EI_CLASS, EI_DATA, ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB};

use super::arm_attributes::{self, ArmAttributes, SHT_ARM_ATTRIBUTES};
pub use super::versions::SymbolVersions;
use super::versions::compare_versions;
use crate::platform::GlibcVersion;
use crate::platform::arch::{EF_RISCV_RVC, ElfClass, Endian, FloatAbi, em};

/// `EF_ARM_EABIMASK`: the EABI version in the top byte of an ARM `e_flags`.
const EF_ARM_EABIMASK: u32 = 0xff00_0000;

/// The C library an ELF file was linked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Libc {
    Glibc,
    Musl,
    /// No interpreter, libc or libc symbol versions: static, or links nothing.
    None,
}

/// Everything pyx reads from one ELF file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ElfInfo {
    pub machine: u16,
    pub machine_name: String,
    pub class: ElfClass,
    pub endian: Endian,
    pub e_flags: u32,
    /// ARM: EABI version from `e_flags` (5 for every current Linux toolchain).
    pub arm_eabi: Option<u8>,
    /// ARM: hard- or soft-float from `e_flags`; RISC-V: soft, single, double or quad.
    pub float_abi: Option<FloatAbi>,
    /// RISC-V: the file uses compressed instructions (`EF_RISCV_RVC`).
    pub riscv_rvc: Option<bool>,
    /// ARM: the file-scope `.ARM.attributes`.
    pub arm_attributes: Option<ArmAttributes>,
    pub interpreter: Option<String>,
    pub libc: Libc,
    pub soname: Option<String>,
    pub needed: Vec<String>,
    pub symbol_versions: SymbolVersions,
    /// The oldest glibc the `GLIBC_` versions allow (the `manylinux_2_X` floor).
    pub glibc_floor: Option<GlibcVersion>,
    /// Undefined, non-weak dynamic symbols that only libatomic defines (`__atomic_*`): GCC
    /// turns some atomic operations into calls to it. Empty when the symbol table was not read
    /// (no `.dynsym` section, or one larger than pyx reads).
    pub undefined_atomics: Vec<String>,
}

/// Why bytes are not a readable ELF file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file (no `\\x7fELF` magic)")]
    NotElf,
    #[error("truncated or corrupt ELF file: {0}")]
    Corrupt(String),
    /// Its headers and the sections pyx reads add up to more than pyx reads of one file.
    #[error("reading its headers and dynamic sections would take more than {limit} bytes")]
    TooLarge { limit: u64 },
}

/// True when `data` starts with the ELF magic.
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// The usual name of an `e_machine` value.
pub fn machine_name(machine: u16) -> String {
    match machine {
        em::I386 => "EM_386".into(),
        em::MIPS => "EM_MIPS".into(),
        em::PPC64 => "EM_PPC64".into(),
        em::S390 => "EM_S390".into(),
        em::ARM => "EM_ARM".into(),
        em::X86_64 => "EM_X86_64".into(),
        em::AARCH64 => "EM_AARCH64".into(),
        em::RISCV => "EM_RISCV".into(),
        20 => "EM_PPC".into(),
        2 => "EM_SPARC".into(),
        43 => "EM_SPARCV9".into(),
        258 => "EM_LOONGARCH".into(),
        other => format!("EM_{other}"),
    }
}

/// Bytes of an ELF file: all of it in memory, or the pieces of it read so far
/// ([`super::elf_stream::ElfStream`]).
pub trait ElfBytes {
    /// The size of the whole file.
    fn size(&self) -> u64;
    /// `len` bytes at `offset`, or `None` when they have not been read.
    fn get(&self, offset: u64, len: u64) -> Option<&[u8]>;
}

impl ElfBytes for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn get(&self, offset: u64, len: u64) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(len).ok()?)?;
        self.get(start..end)
    }
}

/// Why [`parse_from`] gave no answer yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partial {
    Error(ElfError),
    /// These byte ranges must be read first.
    Needs(Vec<Range<u64>>),
}

impl From<ElfError> for Partial {
    fn from(e: ElfError) -> Self {
        Partial::Error(e)
    }
}

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const SHT_DYNAMIC: u32 = 6;
const SHT_DYNSYM: u32 = 11;
/// The most of `.dynsym` pyx reads to look for libatomic calls; a larger table is not checked.
const MAX_DYNSYM: u64 = 4 << 20;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_SONAME: u64 = 14;
const DT_VERNEED: u64 = 0x6fff_fffe;
const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
/// A dynamic string table up to this size is read whole, a bigger one name by name.
const WHOLE_STRTAB: u64 = 1 << 20;
/// The longest library or version name read.
const MAX_NAME: u64 = 4096;
/// How much of a version-needs table located only through `DT_VERNEED` is read.
const VERNEED_WINDOW: u64 = 64 << 10;

/// Parse an ELF file from memory.
pub fn parse(data: &[u8]) -> Result<ElfInfo, ElfError> {
    match parse_from(data) {
        Ok(info) => Ok(info),
        Err(Partial::Error(e)) => Err(e),
        Err(Partial::Needs(_)) => unreachable!("a whole file has every range"),
    }
}

/// Only the ELF header's identity (machine, class, endianness, ARM flags), for objects inside a
/// static library, where nothing else is checked.
pub fn parse_header(data: &[u8]) -> Result<ElfInfo, ElfError> {
    match Reader::new(data).and_then(|mut r| r.header()) {
        Ok(Some(h)) => Ok(h.identity()),
        Ok(None) => Err(ElfError::Corrupt("shorter than an ELF header".into())),
        Err(Partial::Error(e)) => Err(e),
        Err(Partial::Needs(_)) => Err(ElfError::Corrupt("shorter than an ELF header".into())),
    }
}

/// Parse what pyx reads from an ELF file out of `bytes`, reading only the headers and the
/// sections it needs (the program and section headers, `PT_INTERP`, the dynamic section, the
/// names it points to, the version needs, `.ARM.attributes`). When some of them have not been
/// read, says which ranges (all it can tell at this point) must be.
pub fn parse_from<B: ElfBytes + ?Sized>(bytes: &B) -> Result<ElfInfo, Partial> {
    let mut r = Reader::new(bytes)?;
    let Some(h) = r.header()? else {
        return Err(r.into_needs());
    };
    check_extent(r.size(), &h)?;
    let mut info = h.identity();
    let phdrs = r.program_headers(&h)?;
    let shdrs = r.section_headers(&h)?;

    if h.machine == em::ARM
        && let Some(shdrs) = &shdrs
        && let Some(s) = shdrs.iter().find(|s| s.kind == SHT_ARM_ATTRIBUTES)
        && let Some(data) = r.get(s.offset, s.size, "`.ARM.attributes`")?
    {
        info.arm_attributes =
            Some(arm_attributes::parse(data, h.big).map_err(|e| ElfError::Corrupt(e.to_string()))?);
    }
    let Some(phdrs) = phdrs else {
        return Err(r.into_needs());
    };
    if let Some(p) = phdrs.iter().find(|p| p.kind == PT_INTERP)
        && let Some(data) = r.get(p.offset, p.filesz, "`PT_INTERP`")?
    {
        let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
        info.interpreter = Some(String::from_utf8_lossy(&data[..end]).into_owned());
    }
    let dynamic = match phdrs.iter().find(|p| p.kind == PT_DYNAMIC) {
        Some(p) => Some((p.offset, p.filesz)),
        None => shdrs
            .iter()
            .flatten()
            .find(|s| s.kind == SHT_DYNAMIC)
            .map(|s| (s.offset, s.size)),
    };
    let dyns = match dynamic {
        Some((offset, size)) => r
            .get(offset, size, "the dynamic section")?
            .map(|data| r.dynamic(data)),
        None => Some(Dynamic::default()),
    };
    let Some(dyns) = dyns else {
        return Err(r.into_needs());
    };
    let strtab = dyns
        .strtab
        .and_then(|vaddr| to_offset(&phdrs, vaddr))
        .map(|offset| (offset, dyns.strsz));
    // The version needs: their section, or (in a file without one) what `DT_VERNEED` points to.
    let verneed =
        shdrs.as_ref().map(
            |shdrs| match shdrs.iter().find(|s| s.kind == SHT_GNU_VERNEED) {
                Some(s) => Some((s.offset, s.size, u64::from(s.info))),
                None => dyns.verneed.and_then(|vaddr| {
                    let offset = to_offset(&phdrs, vaddr)?;
                    let len = VERNEED_WINDOW.min(r.size().saturating_sub(offset));
                    Some((offset, len, dyns.verneednum))
                }),
            },
        );
    let names = match verneed {
        Some(Some((offset, len, count))) => match r.get(offset, len, "the version needs")? {
            Some(data) => Some(r.verneed_names(data, count)?),
            None => None,
        },
        Some(None) => Some(Vec::new()),
        None => None,
    };

    let Some((str_offset, str_size)) = strtab else {
        if !r.needs.is_empty() {
            return Err(r.into_needs());
        }
        return Ok(finish(info, Vec::new(), None, Vec::new()));
    };
    if str_offset
        .checked_add(str_size)
        .is_none_or(|end| end > r.size())
    {
        return Err(ElfError::Corrupt(format!(
            "the dynamic string table lies past the end of the file ({} bytes)",
            r.size()
        ))
        .into());
    }
    if str_size <= WHOLE_STRTAB && r.bytes.get(str_offset, str_size).is_none() {
        r.needs.push(str_offset..str_offset + str_size);
        return Err(r.into_needs());
    }
    let needed: Vec<Option<String>> = dyns
        .needed
        .iter()
        .map(|&n| r.string(str_offset, str_size, n))
        .collect();
    let soname = dyns.soname.and_then(|n| r.string(str_offset, str_size, n));
    let versions: Vec<Option<String>> = names
        .iter()
        .flatten()
        .map(|&n| r.string(str_offset, str_size, n))
        .collect();
    let undefined_atomics = match shdrs.iter().flatten().find(|s| s.kind == SHT_DYNSYM) {
        Some(s) if s.size <= MAX_DYNSYM && str_size <= WHOLE_STRTAB => {
            match r.get(s.offset, s.size, "the dynamic symbols")? {
                Some(data) => r.undefined_atomics(data, str_offset, str_size),
                None => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    if names.is_none() || !r.needs.is_empty() {
        return Err(r.into_needs());
    }
    let mut info = finish(
        info,
        needed.into_iter().flatten().collect(),
        soname,
        versions.into_iter().flatten().collect(),
    );
    info.undefined_atomics = undefined_atomics;
    Ok(info)
}

/// The file offset of a virtual address, through the `PT_LOAD` segment that maps it.
fn to_offset(phdrs: &[ProgramHeader], vaddr: u64) -> Option<u64> {
    phdrs
        .iter()
        .find(|p| p.kind == PT_LOAD && p.vaddr <= vaddr && vaddr - p.vaddr < p.filesz)
        .and_then(|p| p.offset.checked_add(vaddr - p.vaddr))
}

/// Fill in the libraries, soname and symbol versions, and the libc they mean.
fn finish(
    mut info: ElfInfo,
    needed: Vec<String>,
    soname: Option<String>,
    version_names: Vec<String>,
) -> ElfInfo {
    let mut symbol_versions = SymbolVersions::new();
    for name in &version_names {
        let Some((prefix, version)) = name.rsplit_once('_') else {
            continue;
        };
        if !version.starts_with(|c: char| c.is_ascii_digit())
            || !version.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        {
            continue;
        }
        let newer = symbol_versions
            .get(prefix)
            .is_none_or(|old| compare_versions(version, old).is_gt());
        if newer {
            symbol_versions.insert(prefix.to_string(), version.to_string());
        }
    }
    info.glibc_floor = symbol_versions
        .get("GLIBC")
        .and_then(|v| GlibcVersion::from_symbol_version(v));
    info.libc = if info
        .interpreter
        .as_deref()
        .is_some_and(|i| i.contains("ld-musl"))
        || needed
            .iter()
            .any(|n| n.starts_with("libc.musl") || n.starts_with("ld-musl"))
    {
        Libc::Musl
    } else if info.interpreter.is_some()
        || symbol_versions.contains_key("GLIBC")
        || needed.iter().any(|n| n == "libc.so.6")
    {
        Libc::Glibc
    } else {
        Libc::None
    };
    info.symbol_versions = symbol_versions;
    info.needed = needed;
    info.soname = soname;
    info
}

/// The ELF header fields pyx uses.
struct Header {
    class: ElfClass,
    big: bool,
    machine: u16,
    flags: u32,
    phoff: u64,
    phentsize: u16,
    phnum: u16,
    shoff: u64,
    shentsize: u16,
    shnum: u16,
}

impl Header {
    fn identity(&self) -> ElfInfo {
        let float_abi = FloatAbi::from_e_flags(self.machine, self.flags);
        let arm_eabi =
            (self.machine == em::ARM).then_some(((self.flags & EF_ARM_EABIMASK) >> 24) as u8);
        let riscv_rvc = (self.machine == em::RISCV).then_some(self.flags & EF_RISCV_RVC != 0);
        ElfInfo {
            machine: self.machine,
            machine_name: machine_name(self.machine),
            class: self.class,
            endian: if self.big {
                Endian::Big
            } else {
                Endian::Little
            },
            e_flags: self.flags,
            arm_eabi,
            float_abi,
            riscv_rvc,
            arm_attributes: None,
            interpreter: None,
            libc: Libc::None,
            soname: None,
            needed: Vec::new(),
            symbol_versions: SymbolVersions::new(),
            glibc_floor: None,
            undefined_atomics: Vec::new(),
        }
    }
}

struct ProgramHeader {
    kind: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
}

struct SectionHeader {
    kind: u32,
    offset: u64,
    size: u64,
    info: u32,
}

/// What the dynamic section says, as raw values.
#[derive(Default)]
struct Dynamic {
    needed: Vec<u64>,
    soname: Option<u64>,
    strtab: Option<u64>,
    strsz: u64,
    verneed: Option<u64>,
    verneednum: u64,
}

/// Reads fields of one ELF file out of [`ElfBytes`], noting the ranges it lacks.
struct Reader<'a, B: ?Sized> {
    bytes: &'a B,
    big: bool,
    wide: bool,
    needs: Vec<Range<u64>>,
}

impl<'a, B: ElfBytes + ?Sized> Reader<'a, B> {
    fn new(bytes: &'a B) -> Result<Self, Partial> {
        Ok(Reader {
            bytes,
            big: false,
            wide: false,
            needs: Vec::new(),
        })
    }

    fn size(&self) -> u64 {
        self.bytes.size()
    }

    fn into_needs(self) -> Partial {
        Partial::Needs(self.needs)
    }

    /// `len` bytes at `offset`: an error when they lie past the end, `None` (and noted) when
    /// they have not been read.
    fn get(&mut self, offset: u64, len: u64, what: &str) -> Result<Option<&'a [u8]>, ElfError> {
        let size = self.size();
        let end = offset
            .checked_add(len)
            .filter(|&end| end <= size)
            .ok_or_else(|| {
                ElfError::Corrupt(format!(
                    "{what} lies past the end of the file ({size} bytes)"
                ))
            })?;
        let got = self.bytes.get(offset, len);
        if got.is_none() {
            self.needs.push(offset..end);
        }
        Ok(got)
    }

    fn u16(&self, b: &[u8], at: usize) -> u16 {
        let v = [b[at], b[at + 1]];
        if self.big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    }

    fn u32(&self, b: &[u8], at: usize) -> u32 {
        let v = b[at..at + 4].try_into().expect("4 bytes");
        if self.big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    }

    fn u64(&self, b: &[u8], at: usize) -> u64 {
        let v = b[at..at + 8].try_into().expect("8 bytes");
        if self.big {
            u64::from_be_bytes(v)
        } else {
            u64::from_le_bytes(v)
        }
    }

    /// An address-sized field: 4 bytes in ELFCLASS32, 8 in ELFCLASS64.
    fn word(&self, b: &[u8], at: usize) -> u64 {
        if self.wide {
            self.u64(b, at)
        } else {
            u64::from(self.u32(b, at))
        }
    }

    fn header(&mut self) -> Result<Option<Header>, Partial> {
        let size = self.size();
        let Some(ident) = self.bytes.get(0, 16.min(size)) else {
            self.needs.push(0..64.min(size));
            return Ok(None);
        };
        if !is_elf(ident) {
            return Err(ElfError::NotElf.into());
        }
        let class = match ident.get(EI_CLASS) {
            Some(&ELFCLASS32) => ElfClass::Elf32,
            Some(&ELFCLASS64) => ElfClass::Elf64,
            other => return Err(ElfError::Corrupt(format!("bad EI_CLASS {other:?}")).into()),
        };
        self.big = match ident.get(EI_DATA) {
            Some(&ELFDATA2LSB) => false,
            Some(&ELFDATA2MSB) => true,
            other => return Err(ElfError::Corrupt(format!("bad EI_DATA {other:?}")).into()),
        };
        self.wide = class == ElfClass::Elf64;
        let len = if self.wide { 64 } else { 52 };
        if size < len {
            return Err(ElfError::Corrupt(format!(
                "the file's {size} bytes are shorter than an ELF header"
            ))
            .into());
        }
        let Some(b) = self.get(0, len, "the ELF header")? else {
            return Ok(None);
        };
        let (phoff, shoff, rest) = if self.wide {
            (self.u64(b, 32), self.u64(b, 40), 48)
        } else {
            (u64::from(self.u32(b, 28)), u64::from(self.u32(b, 32)), 36)
        };
        let h = Header {
            class,
            big: self.big,
            machine: self.u16(b, 18),
            flags: self.u32(b, rest),
            phoff,
            phentsize: self.u16(b, rest + 6),
            phnum: self.u16(b, rest + 8),
            shoff,
            shentsize: self.u16(b, rest + 10),
            shnum: self.u16(b, rest + 12),
        };
        Ok(Some(h))
    }

    fn program_headers(&mut self, h: &Header) -> Result<Option<Vec<ProgramHeader>>, Partial> {
        if h.phoff == 0 || h.phnum == 0 {
            return Ok(Some(Vec::new()));
        }
        let entsize = u64::from(h.phentsize);
        if entsize < if self.wide { 56 } else { 32 } {
            return Err(ElfError::Corrupt(format!("e_phentsize {entsize} is too small")).into());
        }
        let Some(b) = self.get(h.phoff, entsize * u64::from(h.phnum), "the program headers")?
        else {
            return Ok(None);
        };
        Ok(Some(
            b.chunks_exact(entsize as usize)
                .map(|p| {
                    if self.wide {
                        ProgramHeader {
                            kind: self.u32(p, 0),
                            offset: self.u64(p, 8),
                            vaddr: self.u64(p, 16),
                            filesz: self.u64(p, 32),
                        }
                    } else {
                        ProgramHeader {
                            kind: self.u32(p, 0),
                            offset: u64::from(self.u32(p, 4)),
                            vaddr: u64::from(self.u32(p, 8)),
                            filesz: u64::from(self.u32(p, 16)),
                        }
                    }
                })
                .collect(),
        ))
    }

    fn section_headers(&mut self, h: &Header) -> Result<Option<Vec<SectionHeader>>, Partial> {
        if h.shoff == 0 {
            return Ok(Some(Vec::new()));
        }
        let entsize = u64::from(h.shentsize);
        if entsize < if self.wide { 64 } else { 40 } {
            return Err(ElfError::Corrupt(format!("e_shentsize {entsize} is too small")).into());
        }
        let section = |r: &Self, s: &[u8]| {
            if r.wide {
                SectionHeader {
                    kind: r.u32(s, 4),
                    offset: r.u64(s, 24),
                    size: r.u64(s, 32),
                    info: r.u32(s, 44),
                }
            } else {
                SectionHeader {
                    kind: r.u32(s, 4),
                    offset: u64::from(r.u32(s, 16)),
                    size: u64::from(r.u32(s, 20)),
                    info: r.u32(s, 28),
                }
            }
        };
        let mut count = u64::from(h.shnum);
        if count == 0 {
            // More than SHN_LORESERVE sections: the count is the first header's `sh_size`.
            let Some(first) = self.get(h.shoff, entsize, "the section headers")? else {
                return Ok(None);
            };
            count = section(self, first).size;
        }
        let len = count.checked_mul(entsize).ok_or_else(|| {
            ElfError::Corrupt(format!("{count} section headers overflow the file"))
        })?;
        let Some(b) = self.get(h.shoff, len, "the section headers")? else {
            return Ok(None);
        };
        Ok(Some(
            b.chunks_exact(entsize as usize)
                .map(|s| section(self, s))
                .collect(),
        ))
    }

    fn dynamic(&self, b: &[u8]) -> Dynamic {
        let entsize = if self.wide { 16 } else { 8 };
        let mut d = Dynamic::default();
        for e in b.chunks_exact(entsize) {
            let (tag, val) = (self.word(e, 0), self.word(e, entsize / 2));
            match tag {
                DT_NULL => break,
                DT_NEEDED => d.needed.push(val),
                DT_SONAME => d.soname = Some(val),
                DT_STRTAB => d.strtab = Some(val),
                DT_STRSZ => d.strsz = val,
                DT_VERNEED => d.verneed = Some(val),
                DT_VERNEEDNUM => d.verneednum = val,
                _ => {}
            }
        }
        d
    }

    /// The `vna_name` string offsets of `count` `Elf_Verneed` entries (and their `Elf_Vernaux`)
    /// in `b`, the version-needs table.
    fn verneed_names(&self, b: &[u8], count: u64) -> Result<Vec<u64>, ElfError> {
        let out_of = || ElfError::Corrupt("a version need points outside its table".into());
        let at = |offset: u64| -> Result<usize, ElfError> {
            usize::try_from(offset)
                .ok()
                .filter(|&o| o.checked_add(16).is_some_and(|end| end <= b.len()))
                .ok_or_else(out_of)
        };
        let mut names = Vec::new();
        let mut need = 0u64;
        for _ in 0..count.min(b.len() as u64 / 16) {
            let n = at(need)?;
            let cnt = self.u16(b, n + 2);
            let mut aux = need + u64::from(self.u32(b, n + 8));
            for _ in 0..cnt.min((b.len() / 16) as u16) {
                let a = at(aux)?;
                names.push(u64::from(self.u32(b, a + 8)));
                let next = self.u32(b, a + 12);
                if next == 0 {
                    break;
                }
                aux += u64::from(next);
            }
            let next = self.u32(b, n + 12);
            if next == 0 {
                break;
            }
            need += u64::from(next);
        }
        Ok(names)
    }

    /// The NUL-terminated name at `name` in the string table at `offset` (`size` bytes); `None`
    /// for an offset outside the table, or (noted) when its bytes have not been read.
    /// The undefined, non-weak `__atomic_*` symbols of a `.dynsym` table, named through the
    /// dynamic string table (read whole).
    fn undefined_atomics(&mut self, table: &[u8], str_offset: u64, str_size: u64) -> Vec<String> {
        const SHN_UNDEF: u16 = 0;
        const STB_WEAK: u8 = 2;
        let entsize = if self.wide { 24 } else { 16 };
        let mut out = Vec::new();
        for sym in table.chunks_exact(entsize).skip(1) {
            let (info, shndx) = if self.wide {
                (sym[4], self.u16(sym, 6))
            } else {
                (sym[12], self.u16(sym, 14))
            };
            if shndx != SHN_UNDEF || info >> 4 == STB_WEAK {
                continue;
            }
            let name = u64::from(self.u32(sym, 0));
            if let Some(name) = self.string(str_offset, str_size, name)
                && name.starts_with("__atomic_")
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
        out
    }

    fn string(&mut self, offset: u64, size: u64, name: u64) -> Option<String> {
        if name >= size {
            return None;
        }
        let len = MAX_NAME.min(size - name);
        let b = match self.bytes.get(offset, size) {
            Some(table) => &table[name as usize..(name + len) as usize],
            None => match self.bytes.get(offset + name, len) {
                Some(b) => b,
                None => {
                    self.needs.push(offset + name..offset + name + len);
                    return None;
                }
            },
        };
        let end = b.iter().position(|&c| c == 0)?;
        Some(String::from_utf8_lossy(&b[..end]).into_owned())
    }
}

/// Refuse a file cut short: the section and program header tables must lie inside the data.
fn check_extent(len: u64, h: &Header) -> Result<(), ElfError> {
    let table_end =
        |off: u64, num: u16, size: u16| off.saturating_add(u64::from(num) * u64::from(size));
    if h.shoff != 0 && table_end(h.shoff, h.shnum, h.shentsize) > len {
        return Err(ElfError::Corrupt(format!(
            "the section header table ends past the file's {len} bytes (the file is truncated)"
        )));
    }
    if h.phoff != 0 && table_end(h.phoff, h.phnum, h.phentsize) > len {
        return Err(ElfError::Corrupt(format!(
            "the program header table ends past the file's {len} bytes (the file is truncated)"
        )));
    }
    Ok(())
}

/// Symbol versions for display: `GLIBC_2.34, GLIBCXX_3.4.30`.
pub fn describe_versions(v: &SymbolVersions) -> String {
    v.iter()
        .map(|(k, v)| format!("{k}_{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_elf_and_garbage() {
        assert_eq!(parse(b"hello"), Err(ElfError::NotElf));
        assert!(parse(b"\x7fELF\x01\x01\x01").is_err());
        assert!(parse(b"\x7fELF\x09").is_err());
    }

    /// Found by fuzz/elf: a section header offset near `u64::MAX` overflowed the extent check.
    #[test]
    fn huge_header_offsets_are_corrupt_not_a_panic() {
        let mut data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/elf/aarch64.so"
        ))
        .unwrap();
        data[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(parse(&data), Err(ElfError::Corrupt(_))));
    }
}
