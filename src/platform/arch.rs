//! The target table: every CPU pyx builds for, with the facts that stay fixed for it
//! (ELF identity, names used by Debian, GNU, CPython, meson, CMake and QEMU).
//!
//! Anything that can be read off the real target (sysconfig, long-double format) is read there;
//! this table holds what is needed before a sysroot exists.

use std::fmt;
use std::str::FromStr;

/// ELF `e_machine` values used in the table (from the System V ABI and `goblin::elf::header`).
pub mod em {
    pub const I386: u16 = 3;
    pub const MIPS: u16 = 8;
    pub const PPC64: u16 = 21;
    pub const S390: u16 = 22;
    pub const ARM: u16 = 40;
    pub const X86_64: u16 = 62;
    pub const AARCH64: u16 = 183;
    pub const RISCV: u16 = 243;
}

/// ELF class: 32- or 64-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ElfClass {
    Elf32,
    Elf64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Endian {
    Little,
    Big,
}

/// The float ABI an ELF file's `e_flags` record: ARM EABI (`EF_ARM_ABI_FLOAT_HARD` 0x400 /
/// `_SOFT` 0x200: `Hard`, `Soft`) or RISC-V (`EF_RISCV_FLOAT_ABI`, mask 0x6: soft 0, single 2,
/// double 4, quad 6; RISC-V ELF psABI). Files of one ABI do not link or load with another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum FloatAbi {
    Hard,
    Soft,
    Single,
    Double,
    Quad,
}

const EF_ARM_ABI_FLOAT_SOFT: u32 = 0x200;
const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;
const EF_RISCV_FLOAT_ABI: u32 = 0x6;
/// RISC-V `e_flags`: the file uses compressed (C extension) instructions.
pub const EF_RISCV_RVC: u32 = 0x1;

impl FloatAbi {
    /// The float ABI of a file for `machine` with these `e_flags`; `None` for machines without
    /// one in `e_flags`, and for ARM files that carry neither flag.
    pub fn from_e_flags(machine: u16, e_flags: u32) -> Option<FloatAbi> {
        match machine {
            em::ARM if e_flags & EF_ARM_ABI_FLOAT_HARD != 0 => Some(FloatAbi::Hard),
            em::ARM if e_flags & EF_ARM_ABI_FLOAT_SOFT != 0 => Some(FloatAbi::Soft),
            em::RISCV => Some(match e_flags & EF_RISCV_FLOAT_ABI {
                0 => FloatAbi::Soft,
                2 => FloatAbi::Single,
                4 => FloatAbi::Double,
                _ => FloatAbi::Quad,
            }),
            _ => None,
        }
    }

    /// `hard-float`, `double-float`: the ABI's usual name.
    pub fn name(self) -> &'static str {
        match self {
            FloatAbi::Hard => "hard-float",
            FloatAbi::Soft => "soft-float",
            FloatAbi::Single => "single-float",
            FloatAbi::Double => "double-float",
            FloatAbi::Quad => "quad-float",
        }
    }

    /// The `e_flags` bits that say so on `machine` (`0x400`, `0x4`).
    pub fn e_flags(self, machine: u16) -> u32 {
        match (machine, self) {
            (em::ARM, FloatAbi::Hard) => EF_ARM_ABI_FLOAT_HARD,
            (em::ARM, FloatAbi::Soft) => EF_ARM_ABI_FLOAT_SOFT,
            (_, FloatAbi::Soft) => 0,
            (_, FloatAbi::Single) => 2,
            (_, FloatAbi::Double) => 4,
            (_, FloatAbi::Quad) => 6,
            (_, FloatAbi::Hard) => EF_ARM_ABI_FLOAT_HARD,
        }
    }
}

/// What a correct ELF file for a target looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElfIdentity {
    pub machine: u16,
    pub class: ElfClass,
    pub endian: Endian,
    /// ARM and RISC-V: the float ABI the target's libc and Python use.
    pub float_abi: Option<FloatAbi>,
    /// ARM only: the `Tag_CPU_arch` (ARM ABI addenda) of the oldest CPU the target covers,
    /// e.g. 10 (v7) for armv7l, 7 (v6KZ, the ARM1176) for armv6l.
    pub max_arm_cpu_arch: Option<u8>,
}

/// One row of the target table.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    /// The `--target` name; also the architecture part of its wheel platform tag (`linux_<name>`).
    pub name: &'static str,
    /// Debian's architecture name, when Debian has one for this target.
    pub debian_arch: Option<&'static str>,
    /// The GNU triplet of the cross tools (`<triplet>-gcc`).
    pub triplet: &'static str,
    /// CPython's `MULTIARCH` / `sys.implementation._multiarch`; also Debian's library directory.
    pub multiarch: &'static str,
    pub elf: ElfIdentity,
    /// Extra compiler flags every compile for this target needs (armv6l reuses the armhf compiler).
    pub cflags: &'static [&'static str],
    pub meson_cpu_family: &'static str,
    pub meson_cpu: &'static str,
    /// `CMAKE_SYSTEM_PROCESSOR`.
    pub cmake_processor: &'static str,
    /// Long-double format as expected; the cross env probes the real one from a compiled object.
    pub long_double: &'static str,
    /// The QEMU user-mode emulator, or `None` when the target runs natively here.
    pub qemu: Option<&'static str>,
    /// Extra `qemu` arguments (a CPU model matching the target).
    pub qemu_args: &'static [&'static str],
    /// The Debian package that provides `<triplet>-gcc`.
    pub gcc_package: &'static str,
    /// Other names accepted for `--target`.
    pub aliases: &'static [&'static str],
}

impl Target {
    pub fn endian_name(&self) -> &'static str {
        match self.elf.endian {
            Endian::Little => "little",
            Endian::Big => "big",
        }
    }

    pub fn is_64bit(&self) -> bool {
        self.elf.class == ElfClass::Elf64
    }

    /// The `linux_<arch>` platform tag (PEP 425) for this target.
    pub fn linux_platform_tag(&self) -> String {
        format!("linux_{}", self.name)
    }

    /// `sysconfig.get_platform()` as the target's own Python reports it on a correct device.
    pub fn sysconfig_platform(&self) -> String {
        format!("linux-{}", self.name)
    }

    /// The target whose wheel architecture (the part after `linux_` / `manylinux_X_Y_`) is `arch`.
    pub fn from_wheel_arch(arch: &str) -> Option<&'static Target> {
        TARGETS.iter().find(|t| t.name == arch)
    }

    /// Look up a `--target` value: a table name or any alias, case-insensitively.
    pub fn lookup(name: &str) -> Option<&'static Target> {
        let name = name.trim().to_ascii_lowercase();
        TARGETS
            .iter()
            .find(|t| t.name == name || t.aliases.iter().any(|a| *a == name))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// A `--target` value that is in no row of the table.
#[derive(Debug, thiserror::Error)]
#[error("unknown target `{0}` (known: {known}; Debian and GNU names work too, see `pyx targets`)", known = known_names())]
pub struct UnknownTarget(pub String);

fn known_names() -> String {
    TARGETS
        .iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A validated `--target` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetName(pub &'static Target);

impl FromStr for TargetName {
    type Err = UnknownTarget;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::lookup(s)
            .map(TargetName)
            .ok_or_else(|| UnknownTarget(s.to_string()))
    }
}

const fn elf(
    machine: u16,
    class: ElfClass,
    endian: Endian,
    float_abi: Option<FloatAbi>,
    max_arm_cpu_arch: Option<u8>,
) -> ElfIdentity {
    ElfIdentity {
        machine,
        class,
        endian,
        float_abi,
        max_arm_cpu_arch,
    }
}

use ElfClass::{Elf32, Elf64};
use Endian::{Big, Little};

/// `Tag_CPU_arch` values from the ARM ABI "Addenda" (section 2.4): 4 = v5TE, 6 = v6, 7 = v6KZ,
/// 8 = v6T2, 9 = v6K, 10 = v7, 14 = v8-A. The v6 family is not ordered by number (see
/// `audit::arm_attributes::cpu_arch_runs_on`).
pub mod arm_cpu_arch {
    pub const V5TE: u8 = 4;
    /// The ARM1176 of the Raspberry Pi 1 and Zero.
    pub const V6KZ: u8 = 7;
    pub const V7: u8 = 10;
}

/// The target table (docs/targets.md), verified against Debian 12's cross toolchains (riscv64
/// against Debian 13's root with Debian 12's `riscv64-linux-gnu-gcc`).
pub static TARGETS: &[Target] = &[
    Target {
        name: "armv7l",
        debian_arch: Some("armhf"),
        triplet: "arm-linux-gnueabihf",
        multiarch: "arm-linux-gnueabihf",
        elf: elf(
            em::ARM,
            Elf32,
            Little,
            Some(FloatAbi::Hard),
            Some(arm_cpu_arch::V7),
        ),
        cflags: &[],
        meson_cpu_family: "arm",
        meson_cpu: "armv7l",
        cmake_processor: "armv7l",
        long_double: "IEEE_DOUBLE_LE",
        qemu: Some("qemu-arm"),
        qemu_args: &[],
        gcc_package: "gcc-arm-linux-gnueabihf",
        aliases: &["armhf", "arm-linux-gnueabihf", "armv7", "armv7hl"],
    },
    Target {
        name: "armv6l",
        debian_arch: Some("armhf"),
        triplet: "arm-linux-gnueabihf",
        multiarch: "arm-linux-gnueabihf",
        elf: elf(
            em::ARM,
            Elf32,
            Little,
            Some(FloatAbi::Hard),
            Some(arm_cpu_arch::V6KZ),
        ),
        cflags: &["-march=armv6+fp", "-marm"],
        meson_cpu_family: "arm",
        meson_cpu: "armv6l",
        cmake_processor: "armv6l",
        long_double: "IEEE_DOUBLE_LE",
        qemu: Some("qemu-arm"),
        qemu_args: &["-cpu", "arm1176"],
        gcc_package: "gcc-arm-linux-gnueabihf",
        aliases: &["armv6", "raspbian"],
    },
    Target {
        name: "armv5tel",
        debian_arch: Some("armel"),
        triplet: "arm-linux-gnueabi",
        multiarch: "arm-linux-gnueabi",
        elf: elf(
            em::ARM,
            Elf32,
            Little,
            Some(FloatAbi::Soft),
            Some(arm_cpu_arch::V5TE),
        ),
        cflags: &[],
        meson_cpu_family: "arm",
        meson_cpu: "armv5tel",
        cmake_processor: "armv5tel",
        long_double: "IEEE_DOUBLE_LE",
        qemu: Some("qemu-arm"),
        qemu_args: &["-cpu", "arm926"],
        gcc_package: "gcc-arm-linux-gnueabi",
        aliases: &["armel", "arm-linux-gnueabi", "armv5te", "armv5"],
    },
    Target {
        name: "aarch64",
        debian_arch: Some("arm64"),
        triplet: "aarch64-linux-gnu",
        multiarch: "aarch64-linux-gnu",
        elf: elf(em::AARCH64, Elf64, Little, None, None),
        cflags: &[],
        meson_cpu_family: "aarch64",
        meson_cpu: "aarch64",
        cmake_processor: "aarch64",
        long_double: "IEEE_QUAD_LE",
        qemu: Some("qemu-aarch64"),
        // Debian arm64's baseline, ARMv8.0-A; QEMU's default `max` CPU has SVE, where OpenBLAS's
        // kernels in numpy's own aarch64 wheel missed numpy's float32 QR tolerance.
        qemu_args: &["-cpu", "cortex-a53"],
        gcc_package: "gcc-aarch64-linux-gnu",
        aliases: &["arm64", "aarch64-linux-gnu", "armv8"],
    },
    Target {
        name: "i686",
        debian_arch: Some("i386"),
        triplet: "i686-linux-gnu",
        multiarch: "i386-linux-gnu",
        elf: elf(em::I386, Elf32, Little, None, None),
        cflags: &[],
        meson_cpu_family: "x86",
        meson_cpu: "i686",
        cmake_processor: "i686",
        long_double: "INTEL_EXTENDED_12_BYTES_LE",
        qemu: Some("qemu-i386"),
        qemu_args: &[],
        gcc_package: "gcc-i686-linux-gnu",
        aliases: &["i386", "x86", "i686-linux-gnu", "i386-linux-gnu", "ia32"],
    },
    Target {
        name: "x86_64",
        debian_arch: Some("amd64"),
        triplet: "x86_64-linux-gnu",
        multiarch: "x86_64-linux-gnu",
        elf: elf(em::X86_64, Elf64, Little, None, None),
        cflags: &[],
        meson_cpu_family: "x86_64",
        meson_cpu: "x86_64",
        cmake_processor: "x86_64",
        long_double: "INTEL_EXTENDED_16_BYTES_LE",
        qemu: None,
        qemu_args: &[],
        gcc_package: "gcc",
        aliases: &["amd64", "x86_64-linux-gnu", "x64"],
    },
    Target {
        name: "ppc64le",
        debian_arch: Some("ppc64el"),
        triplet: "powerpc64le-linux-gnu",
        multiarch: "powerpc64le-linux-gnu",
        elf: elf(em::PPC64, Elf64, Little, None, None),
        cflags: &[],
        meson_cpu_family: "ppc64",
        meson_cpu: "ppc64le",
        cmake_processor: "ppc64le",
        long_double: "IBM_DOUBLE_DOUBLE_LE",
        qemu: Some("qemu-ppc64le"),
        qemu_args: &[],
        gcc_package: "gcc-powerpc64le-linux-gnu",
        aliases: &["ppc64el", "powerpc64le", "powerpc64le-linux-gnu"],
    },
    Target {
        name: "s390x",
        debian_arch: Some("s390x"),
        triplet: "s390x-linux-gnu",
        multiarch: "s390x-linux-gnu",
        elf: elf(em::S390, Elf64, Big, None, None),
        cflags: &[],
        meson_cpu_family: "s390x",
        meson_cpu: "s390x",
        cmake_processor: "s390x",
        long_double: "IEEE_QUAD_BE",
        qemu: Some("qemu-s390x"),
        qemu_args: &[],
        gcc_package: "gcc-s390x-linux-gnu",
        aliases: &["s390x-linux-gnu"],
    },
    Target {
        name: "mips64",
        debian_arch: Some("mips64el"),
        triplet: "mips64el-linux-gnuabi64",
        multiarch: "mips64el-linux-gnuabi64",
        elf: elf(em::MIPS, Elf64, Little, None, None),
        cflags: &[],
        meson_cpu_family: "mips64",
        meson_cpu: "mips64el",
        cmake_processor: "mips64el",
        long_double: "IEEE_QUAD_LE",
        qemu: Some("qemu-mips64el"),
        qemu_args: &[],
        gcc_package: "gcc-mips64el-linux-gnuabi64",
        aliases: &["mips64el", "mips64el-linux-gnuabi64"],
    },
    Target {
        name: "riscv64",
        // Debian 13 (trixie) and later; Debian 12 has no riscv64.
        debian_arch: Some("riscv64"),
        triplet: "riscv64-linux-gnu",
        multiarch: "riscv64-linux-gnu",
        // RV64GC with the LP64D ABI (double-float); RVC code runs on it, so RVC is not checked.
        elf: elf(em::RISCV, Elf64, Little, Some(FloatAbi::Double), None),
        cflags: &[],
        meson_cpu_family: "riscv64",
        meson_cpu: "riscv64",
        cmake_processor: "riscv64",
        long_double: "IEEE_QUAD_LE",
        qemu: Some("qemu-riscv64"),
        qemu_args: &[],
        gcc_package: "gcc-riscv64-linux-gnu",
        aliases: &["riscv64-linux-gnu", "rv64"],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_to_one_target() {
        for (alias, name) in [
            ("armhf", "armv7l"),
            ("arm64", "aarch64"),
            ("i386", "i686"),
            ("x86", "i686"),
            ("ppc64el", "ppc64le"),
            ("armel", "armv5tel"),
            ("mips64el", "mips64"),
            ("powerpc64le-linux-gnu", "ppc64le"),
            ("ARMHF", "armv7l"),
        ] {
            assert_eq!(Target::lookup(alias).map(|t| t.name), Some(name), "{alias}");
        }
    }

    #[test]
    fn float_abis_come_from_e_flags() {
        // readelf: `Flags: 0x5, RVC, double-float ABI` (trixie's python3.13 and our builds).
        assert_eq!(
            FloatAbi::from_e_flags(em::RISCV, 0x5),
            Some(FloatAbi::Double)
        );
        assert_eq!(FloatAbi::from_e_flags(em::RISCV, 0x1), Some(FloatAbi::Soft));
        assert_eq!(
            FloatAbi::from_e_flags(em::ARM, 0x0500_0400),
            Some(FloatAbi::Hard)
        );
        assert_eq!(
            FloatAbi::from_e_flags(em::ARM, 0x0500_0200),
            Some(FloatAbi::Soft)
        );
        assert_eq!(FloatAbi::from_e_flags(em::ARM, 0x0500_0000), None);
        assert_eq!(FloatAbi::from_e_flags(em::AARCH64, 0x5), None);
        assert_eq!(FloatAbi::Double.e_flags(em::RISCV), 0x4);
        assert_eq!(FloatAbi::Hard.e_flags(em::ARM), 0x400);
    }

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for t in TARGETS {
            assert!(seen.insert(t.name), "{}", t.name);
            for a in t.aliases {
                assert!(seen.insert(a), "{a} is used twice");
            }
        }
    }

    #[test]
    fn unknown_target_names_the_value() {
        let err = "sparc".parse::<TargetName>().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown target `sparc` (known: armv7l, ")
        );
    }
}
