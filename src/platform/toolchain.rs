//! The cross toolchain of a target: find the compiler and binutils, then prove with a probe compile
//! that the compiler emits ELF for the target and read the target's long-double format from it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use goblin::elf::Elf;
use goblin::elf::header::machine_to_str;

use crate::platform::Target;
use crate::platform::arch::{ElfClass, ElfIdentity, Endian, FloatAbi, em};
use crate::printer::with_hint;
use serde::{Deserialize, Serialize};

/// The cross tools for the target, as resolved and proven by a probe compile.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Toolchain {
    /// C compiler command and its fixed arguments (`["arm-linux-gnueabihf-gcc"]`,
    /// `["zig", "cc", "-target", "arm-linux-gnueabihf"]`).
    pub cc: Vec<String>,
    pub cxx: Vec<String>,
    pub ar: Vec<String>,
    pub ranlib: Vec<String>,
    pub strip: Vec<String>,
    pub ld: Vec<String>,
    pub readelf: Vec<String>,
    /// Long-double format (numpy/meson names), probed from a compiled object.
    pub long_double: String,
    /// The QEMU user-mode emulator for the target, when installed.
    pub qemu: Option<PathBuf>,
    /// The libatomic the shims end every link with, so an atomic the compiler turns into a
    /// library call (riscv64's 1- and 2-byte ones with GCC 12, armel's 8-byte ones) resolves
    /// instead of failing at import (`undefined symbol: __atomic_compare_exchange_1`).
    #[serde(default)]
    pub libatomic: Option<AtomicLibrary>,
}

/// How a link gets libatomic's functions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AtomicLibrary {
    /// The compiler's `libatomic.a`, every object of which runs on the target: the members a
    /// module calls are linked into it, hidden; nothing is needed on the device.
    Static(PathBuf),
    /// `-latomic` as needed (what GCC's `-pthread` adds on these targets): the module then needs
    /// `libatomic.so.1` (Debian's `libatomic1`) on the device.
    Shared,
}

/// Why a toolchain cannot be used for a target.
#[derive(Debug, thiserror::Error)]
pub enum ToolchainError {
    #[error("no `{tool}` on PATH: the {what} for `{target}` is missing")]
    Missing {
        tool: String,
        what: &'static str,
        target: &'static str,
    },
    #[error("cannot split the compiler command `{0}` into words (unbalanced quotes?)")]
    BadCommand(String),
    #[error("the probe compile with `{command}` failed: {stderr}")]
    ProbeFailed { command: String, stderr: String },
    #[error("`{command}` compiles for {found}, expected {expected} for `{target}`")]
    WrongTarget {
        command: String,
        found: String,
        expected: String,
        target: &'static str,
    },
    #[error("cannot read the long-double format from the probe object of `{command}`: {why}")]
    LongDouble { command: String, why: String },
}

/// Find and prove the cross tools for `target`: `cc`/`cxx` are whole commands (split shell-style)
/// or `None` for `<triplet>-gcc`/`<triplet>-g++` on PATH.
pub fn resolve(
    target: &'static Target,
    cc: Option<&str>,
    cxx: Option<&str>,
    sysroot: &Path,
) -> Result<Toolchain> {
    let cc = match cc {
        Some(cmd) => split_command(cmd)?,
        None => vec![find_tool(target, "gcc", "C compiler")?],
    };
    let cxx = match cxx {
        Some(cmd) => {
            let words = split_command(cmd)?;
            probe_compiler(target, &words, sysroot, Lang::Cxx)?;
            words
        }
        None => which::which(format!("{}-g++", target.triplet))
            .map(|_| vec![format!("{}-g++", target.triplet)])
            .unwrap_or_default(),
    };
    let probe = probe(target, &cc, sysroot)?;
    let libatomic = find_libatomic(target, &cc, sysroot);
    Ok(Toolchain {
        cc,
        cxx,
        ar: vec![find_binutil(target, "ar")?],
        ranlib: vec![find_binutil(target, "ranlib")?],
        strip: vec![find_binutil(target, "strip")?],
        ld: vec![find_binutil(target, "ld")?],
        readelf: vec![find_binutil(target, "readelf")?],
        long_double: probe.long_double.to_string(),
        qemu: target.qemu.and_then(|q| which::which(q).ok()),
        libatomic,
    })
}

/// The compiler's libatomic (`cc -print-file-name`): its `libatomic.a` when every object in it
/// runs on the target, else its `libatomic.so`. Debian 12's armel archive carries ARMv7 variants
/// (picked at run time by ifunc) that an ARMv5TE module must not contain.
fn find_libatomic(target: &'static Target, cc: &[String], sysroot: &Path) -> Option<AtomicLibrary> {
    let file = |name: &str| -> Option<PathBuf> {
        let out = Command::new(&cc[0])
            .args(&cc[1..])
            .args(target.cflags)
            .arg(format!("--sysroot={}", sysroot.display()))
            .arg(format!("-print-file-name={name}"))
            .output()
            .ok()?;
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        (out.status.success() && path.is_absolute() && path.is_file()).then_some(path)
    };
    if let Some(archive) = file("libatomic.a") {
        match fs_err::read(&archive)
            .map_err(|e| e.to_string())
            .and_then(|bytes| archive_runs_on(target, &bytes))
        {
            Ok(()) => return Some(AtomicLibrary::Static(archive)),
            Err(why) => tracing::debug!("not linking `{}`: {why}", archive.display()),
        }
    }
    file("libatomic.so").map(|_| AtomicLibrary::Shared)
}

/// Every ELF object of a static library is for the target's machine and, on ARM, of an
/// architecture the target's CPU runs.
fn archive_runs_on(target: &'static Target, bytes: &[u8]) -> Result<(), String> {
    use crate::audit::arm_attributes::{self, SHT_ARM_ATTRIBUTES};
    let archive = goblin::archive::Archive::parse(bytes).map_err(|e| e.to_string())?;
    for name in archive.members() {
        let data = archive.extract(name, bytes).map_err(|e| e.to_string())?;
        if !data.starts_with(b"\x7fELF") {
            continue;
        }
        let elf = Elf::parse(data).map_err(|e| format!("{name}: {e}"))?;
        let found = FoundIdentity::read(data).map_err(|e| format!("{name}: {e}"))?;
        if !found.matches_machine(&target.elf) {
            return Err(format!("{name} is for another machine"));
        }
        let Some(max) = target.elf.max_arm_cpu_arch else {
            continue;
        };
        let arch = elf
            .section_headers
            .iter()
            .find(|s| s.sh_type == SHT_ARM_ATTRIBUTES)
            .and_then(|s| data.get(s.sh_offset as usize..(s.sh_offset + s.sh_size) as usize))
            .and_then(|a| arm_attributes::parse(a, !elf.little_endian).ok())
            .and_then(|a| a.cpu_arch);
        if let Some(arch) = arch.filter(|&a| !arm_attributes::cpu_arch_runs_on(a, max)) {
            return Err(format!(
                "{name} is {} code",
                arm_attributes::cpu_arch_name(arch)
            ));
        }
    }
    Ok(())
}

/// What the probe object says about the compiler.
#[derive(Debug, PartialEq, Eq)]
pub struct Probe {
    pub long_double: &'static str,
}

/// Split `--cc "clang --target=armv7-linux-gnueabihf"` into words.
pub fn split_command(cmd: &str) -> Result<Vec<String>, ToolchainError> {
    match shlex::split(cmd) {
        Some(words) if !words.is_empty() => Ok(words),
        _ => Err(ToolchainError::BadCommand(cmd.to_string())),
    }
}

fn find_tool(target: &'static Target, tool: &str, what: &'static str) -> Result<String> {
    let name = format!("{}-{tool}", target.triplet);
    if which::which(&name).is_ok() {
        return Ok(name);
    }
    Err(with_hint(
        ToolchainError::Missing {
            tool: name,
            what,
            target: target.name,
        },
        format!(
            "install it with `apt-get install {}`, or pass `--cc` with a compiler for `{}`",
            target.gcc_package, target.triplet
        ),
    ))
}

/// `<triplet>-ar` and friends, else `llvm-ar` (for `--cc clang ...`).
fn find_binutil(target: &'static Target, tool: &str) -> Result<String> {
    let name = format!("{}-{tool}", target.triplet);
    if which::which(&name).is_ok() {
        return Ok(name);
    }
    let llvm = format!("llvm-{tool}");
    if which::which(&llvm).is_ok() {
        return Ok(llvm);
    }
    Err(with_hint(
        ToolchainError::Missing {
            tool: name,
            what: "binutils",
            target: target.name,
        },
        format!(
            "install it with `apt-get install binutils-{}`",
            target.triplet
        ),
    ))
}

/// A struct whose bytes between the two markers are `-123456789.0L` in the target's format
/// (the technique numpy's build uses, written afresh).
const PROBE_SOURCE: &str = r#"
typedef struct { char before[16]; long double value; char after[8]; } pyx_probe_t;
pyx_probe_t pyx_probe = { "<pyx-ld-probe>\n", -123456789.0L, "</pyx>\n" };
"#;
const BEFORE: &[u8] = b"<pyx-ld-probe>\n\0";
const AFTER: &[u8] = b"</pyx>\n\0";

/// Compile and link the probe (a data-only shared object: the linker sets the ARM float-ABI flags)
/// with `cc --sysroot`, then check its ELF identity and read its long double.
pub fn probe(target: &'static Target, cc: &[String], sysroot: &Path) -> Result<Probe> {
    probe_compiler(target, cc, sysroot, Lang::C)
}

/// Which compiler a probe is for: its flag and Debian package appear in hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    C,
    Cxx,
}

impl Lang {
    fn flag(self) -> &'static str {
        match self {
            Lang::C => "--cc",
            Lang::Cxx => "--cxx",
        }
    }

    fn package(self, target: &Target) -> String {
        match self {
            Lang::C => target.gcc_package.to_string(),
            Lang::Cxx => target.gcc_package.replacen("gcc", "g++", 1),
        }
    }
}

fn probe_compiler(
    target: &'static Target,
    cc: &[String],
    sysroot: &Path,
    lang: Lang,
) -> Result<Probe> {
    let command = cc.join(" ");
    let dir = crate::tempfiles::dir_in(&std::env::temp_dir(), "probe")
        .context("cannot create a temp dir for the compiler probe")?;
    let src = dir.path().join(match lang {
        Lang::C => "probe.c",
        Lang::Cxx => "probe.cpp",
    });
    let obj = dir.path().join("probe.so");
    fs_err::write(&src, PROBE_SOURCE)?;
    let out = Command::new(&cc[0])
        .args(&cc[1..])
        .args(target.cflags)
        .arg(format!("--sysroot={}", sysroot.display()))
        .args(["-O0", "-fPIC", "-shared", "-nostdlib", "-o"])
        .arg(&obj)
        .arg(&src)
        .output()
        .map_err(|e| {
            with_hint(
                anyhow::Error::new(e).context(format!("cannot run the C compiler `{command}`")),
                format!(
                    "install `{}` or pass `--cc` with a compiler for `{}`",
                    target.gcc_package, target.triplet
                ),
            )
        })?;
    if !out.status.success() {
        return Err(ToolchainError::ProbeFailed {
            command,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }
        .into());
    }
    let bytes = fs_err::read(&obj)?;
    check_identity(target, &command, &bytes, lang)?;
    let long_double = long_double_format(&bytes).map_err(|why| ToolchainError::LongDouble {
        command: command.clone(),
        why,
    })?;
    Ok(Probe { long_double })
}

/// The ELF identity of an object, as far as a target check needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundIdentity {
    pub machine: u16,
    pub class: ElfClass,
    pub endian: Endian,
    pub float_abi: Option<FloatAbi>,
}

impl FoundIdentity {
    pub fn read(bytes: &[u8]) -> Result<FoundIdentity, goblin::error::Error> {
        let elf = Elf::parse(bytes)?;
        let machine = elf.header.e_machine;
        // An ARM object without the hard-float flag is soft-float code.
        let float_abi = FloatAbi::from_e_flags(machine, elf.header.e_flags)
            .or((machine == em::ARM).then_some(FloatAbi::Soft));
        Ok(FoundIdentity {
            machine,
            class: if elf.is_64 {
                ElfClass::Elf64
            } else {
                ElfClass::Elf32
            },
            endian: if elf.little_endian {
                Endian::Little
            } else {
                Endian::Big
            },
            float_abi,
        })
    }

    /// Machine, class and endianness only: relocatable objects (`.o` in a static library) carry
    /// no float-ABI flag; the linker sets it.
    pub fn matches_machine(&self, want: &ElfIdentity) -> bool {
        self.machine == want.machine && self.class == want.class && self.endian == want.endian
    }

    pub fn matches(&self, want: &ElfIdentity) -> bool {
        self.machine == want.machine
            && self.class == want.class
            && self.endian == want.endian
            && (want.float_abi.is_none() || self.float_abi == want.float_abi)
    }
}

/// `EM_ARM, ELF32, little-endian, hard-float`.
pub fn describe(machine: u16, class: ElfClass, endian: Endian, float: Option<FloatAbi>) -> String {
    let mut s = format!(
        "EM_{} (e_machine {machine}), {}, {}",
        machine_to_str(machine),
        match class {
            ElfClass::Elf32 => "ELF32",
            ElfClass::Elf64 => "ELF64",
        },
        match endian {
            Endian::Little => "little-endian",
            Endian::Big => "big-endian",
        }
    );
    if let Some(float) = float {
        s.push_str(&format!(", {}", float.name()));
    }
    s
}

fn check_identity(target: &'static Target, command: &str, bytes: &[u8], lang: Lang) -> Result<()> {
    let found = FoundIdentity::read(bytes).with_context(|| {
        format!("the probe object of `{command}` is not an ELF file pyx can read")
    })?;
    if found.matches(&target.elf) {
        return Ok(());
    }
    let want = target.elf;
    Err(with_hint(
        ToolchainError::WrongTarget {
            command: command.to_string(),
            found: describe(found.machine, found.class, found.endian, found.float_abi),
            expected: describe(want.machine, want.class, want.endian, want.float_abi),
            target: target.name,
        },
        format!(
            "that is not a cross compiler for `{triplet}`: install `{package}` (`apt-get install \
             {package}`) and drop `{flag}`, or pass `{flag}` with a compiler that targets `{triplet}`",
            triplet = target.triplet,
            package = lang.package(target),
            flag = lang.flag(),
        ),
    ))
}

/// The long-double format (numpy/meson names) of the bytes between the probe's markers.
pub fn long_double_format(object: &[u8]) -> Result<&'static str, String> {
    let start = find(object, BEFORE).ok_or("the probe marker is not in the object")? + BEFORE.len();
    let len = find(&object[start..], AFTER).ok_or("the probe end marker is not in the object")?;
    let value = &object[start..start + len];
    known_formats()
        .into_iter()
        .find(|(_, bytes)| bytes.as_slice() == value)
        .map(|(name, _)| name)
        .ok_or_else(|| format!("{len} bytes {value:02x?} match no known format"))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `-123456789.0` in every long-double format numpy knows, with the padding `sizeof` adds.
fn known_formats() -> Vec<(&'static str, Vec<u8>)> {
    const V: u64 = 123_456_789;
    const EXP: u32 = 26; // 2^26 <= V < 2^27
    let double = (-(V as f64)).to_bits();
    // x87 extended: sign + 15-bit exponent, then a 64-bit significand with an explicit integer bit.
    let ext_exp: u16 = 0x8000 | (16383 + EXP as u16);
    let ext_mant: u64 = V << (63 - EXP);
    let mut intel = ext_mant.to_le_bytes().to_vec();
    intel.extend(ext_exp.to_le_bytes());
    let pad = |mut v: Vec<u8>, n: usize| {
        v.resize(n, 0);
        v
    };
    // IEEE binary128: sign + 15-bit exponent + 112-bit fraction (hidden integer bit).
    let quad: u128 = (u128::from(0x8000u16 | (16383 + EXP as u16)) << 112)
        | ((u128::from(V) - (1 << EXP)) << (112 - EXP));
    let dd = |f: fn(u64) -> [u8; 8]| {
        let mut v = f(double).to_vec();
        v.extend(f(0));
        v
    };
    vec![
        ("IEEE_DOUBLE_LE", double.to_le_bytes().to_vec()),
        ("IEEE_DOUBLE_BE", double.to_be_bytes().to_vec()),
        ("INTEL_EXTENDED_12_BYTES_LE", pad(intel.clone(), 12)),
        ("INTEL_EXTENDED_16_BYTES_LE", pad(intel, 16)),
        ("IEEE_QUAD_LE", quad.to_le_bytes().to_vec()),
        ("IEEE_QUAD_BE", quad.to_be_bytes().to_vec()),
        ("IBM_DOUBLE_DOUBLE_LE", dd(u64::to_le_bytes)),
        ("IBM_DOUBLE_DOUBLE_BE", dd(u64::to_be_bytes)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_with(value: &[u8]) -> Vec<u8> {
        let mut v = b"junk".to_vec();
        v.extend(BEFORE);
        v.extend(value);
        v.extend(AFTER);
        v
    }

    #[test]
    fn long_double_formats_round_trip() {
        for (name, bytes) in known_formats() {
            assert_eq!(long_double_format(&object_with(&bytes)), Ok(name));
        }
    }

    #[test]
    fn x87_extended_bytes() {
        // -123456789.0L as gcc emits it for i386 (read from a real object).
        let bytes = [0, 0, 0, 0, 0xa0, 0xa2, 0x79, 0xeb, 0x19, 0xc0, 0, 0];
        assert_eq!(
            long_double_format(&object_with(&bytes)),
            Ok("INTEL_EXTENDED_12_BYTES_LE")
        );
    }

    #[test]
    fn unknown_bytes_are_an_error() {
        let err = long_double_format(&object_with(&[1, 2, 3])).unwrap_err();
        assert_eq!(err, "3 bytes [01, 02, 03] match no known format");
    }

    #[test]
    fn split_command_keeps_quoted_words() {
        assert_eq!(
            split_command("zig cc -target 'arm-linux-gnueabihf'").unwrap(),
            ["zig", "cc", "-target", "arm-linux-gnueabihf"]
        );
        assert!(split_command("clang '--target").is_err());
    }

    /// Every installed cross gcc emits the table's ELF identity and long double.
    #[test]
    fn real_cross_compilers_match_the_table() {
        let sysroot = tempfile::tempdir().unwrap();
        for target in crate::platform::TARGETS {
            let gcc = format!("{}-gcc", target.triplet);
            if which::which(&gcc).is_err() {
                continue;
            }
            let probe = probe(target, &[gcc], sysroot.path()).unwrap();
            assert_eq!(probe.long_double, target.long_double, "{}", target.name);
        }
    }

    #[test]
    fn host_gcc_is_refused_for_armv7l() {
        let sysroot = tempfile::tempdir().unwrap();
        let target = Target::lookup("armv7l").unwrap();
        let err = probe(target, &["gcc".into()], sysroot.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`gcc` compiles for EM_X86_64 (e_machine 62), ELF64, little-endian, expected \
             EM_ARM (e_machine 40), ELF32, little-endian, hard-float for `armv7l`"
        );
    }
}
