//! What pyx reads from one ELF file (System V gABI, with goblin): identity, ARM float ABI and
//! CPU architecture, interpreter and libc, `DT_NEEDED`, and the newest symbol versions needed.

use goblin::elf::Elf;
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
}

/// Why bytes are not a readable ELF file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file (no `\\x7fELF` magic)")]
    NotElf,
    #[error("truncated or corrupt ELF file: {0}")]
    Corrupt(String),
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

/// Parse an ELF file from memory.
pub fn parse(data: &[u8]) -> Result<ElfInfo, ElfError> {
    if !is_elf(data) {
        return Err(ElfError::NotElf);
    }
    let corrupt = |e: goblin::error::Error| ElfError::Corrupt(e.to_string());
    let class = match data.get(EI_CLASS) {
        Some(&ELFCLASS32) => ElfClass::Elf32,
        Some(&ELFCLASS64) => ElfClass::Elf64,
        other => return Err(ElfError::Corrupt(format!("bad EI_CLASS {other:?}"))),
    };
    let endian = match data.get(EI_DATA) {
        Some(&ELFDATA2LSB) => Endian::Little,
        Some(&ELFDATA2MSB) => Endian::Big,
        other => return Err(ElfError::Corrupt(format!("bad EI_DATA {other:?}"))),
    };
    let header = Elf::parse_header(data).map_err(corrupt)?;
    check_extent(data, &header)?;
    let elf = Elf::parse(data).map_err(corrupt)?;
    let machine = elf.header.e_machine;
    let e_flags = elf.header.e_flags;

    let float_abi = FloatAbi::from_e_flags(machine, e_flags);
    let riscv_rvc = (machine == em::RISCV).then_some(e_flags & EF_RISCV_RVC != 0);
    let (arm_eabi, arm_attributes) = if machine == em::ARM {
        let attrs = elf
            .section_headers
            .iter()
            .find(|s| s.sh_type == SHT_ARM_ATTRIBUTES)
            .map(|s| {
                let start = s.sh_offset as usize;
                let bytes = start
                    .checked_add(s.sh_size as usize)
                    .and_then(|end| data.get(start..end))
                    .ok_or_else(|| {
                        ElfError::Corrupt("`.ARM.attributes` lies outside the file".into())
                    })?;
                arm_attributes::parse(bytes, endian == Endian::Big)
                    .map_err(|e| ElfError::Corrupt(e.to_string()))
            })
            .transpose()?;
        (Some(((e_flags & EF_ARM_EABIMASK) >> 24) as u8), attrs)
    } else {
        (None, None)
    };

    let mut symbol_versions = SymbolVersions::new();
    if let Some(verneed) = &elf.verneed {
        for need in verneed.iter() {
            for aux in need.iter() {
                let Some(name) = elf.dynstrtab.get_at(aux.vna_name) else {
                    continue;
                };
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
        }
    }
    let glibc_floor = symbol_versions
        .get("GLIBC")
        .and_then(|v| GlibcVersion::from_symbol_version(v));

    let interpreter = elf.interpreter.map(str::to_string);
    let needed: Vec<String> = elf.libraries.iter().map(|s| s.to_string()).collect();
    let libc = if interpreter
        .as_deref()
        .is_some_and(|i| i.contains("ld-musl"))
        || needed
            .iter()
            .any(|n| n.starts_with("libc.musl") || n.starts_with("ld-musl"))
    {
        Libc::Musl
    } else if interpreter.is_some()
        || symbol_versions.contains_key("GLIBC")
        || needed.iter().any(|n| n == "libc.so.6")
    {
        Libc::Glibc
    } else {
        Libc::None
    };

    Ok(ElfInfo {
        machine,
        machine_name: machine_name(machine),
        class,
        endian,
        e_flags,
        arm_eabi,
        float_abi,
        riscv_rvc,
        arm_attributes,
        interpreter,
        libc,
        soname: elf.soname.map(str::to_string),
        needed,
        symbol_versions,
        glibc_floor,
    })
}

/// Refuse a file cut short: the section and program header tables must lie inside the data.
fn check_extent(data: &[u8], h: &goblin::elf::Header) -> Result<(), ElfError> {
    let len = data.len() as u64;
    let table_end =
        |off: u64, num: u16, size: u16| off.saturating_add(u64::from(num) * u64::from(size));
    if h.e_shoff != 0 && table_end(h.e_shoff, h.e_shnum, h.e_shentsize) > len {
        return Err(ElfError::Corrupt(format!(
            "the section header table ends past the file's {len} bytes (the file is truncated)"
        )));
    }
    if h.e_phoff != 0 && table_end(h.e_phoff, h.e_phnum, h.e_phentsize) > len {
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
