//! Audit (stage 6): read a wheel once, check its name, metadata and `RECORD`, and every
//! ELF in it against the platform tags and the target; derive the tags its binaries deserve.

use std::path::{Path, PathBuf};

use crate::platform::GlibcVersion;
use crate::platform::arch::{FloatAbi, TARGETS, Target};
use crate::platform::tags::PlatformTag;
use crate::wheel::filename::WheelFilename;
use crate::wheel::metadata::{WheelInfo, WheelMetadata};
use crate::wheel::reader::WheelError;

mod ar_stream;
pub mod arm_attributes;
mod checks;
pub mod elf;
pub mod elf_stream;
pub mod policy;
mod python_tags;
mod scan;
pub mod versions;

pub use checks::binary_findings;
pub use elf::ElfInfo;
pub use python_tags::python_findings;

/// What a finding is about; stable names for `--json` and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// The file name is not a valid wheel name (PEP 427/425).
    Filename,
    /// The file cannot be read as a wheel: not a zip, truncated, absurd sizes.
    Unreadable,
    /// A member path escapes the install directory (`..`, absolute, symlink out).
    UnsafePath,
    /// `METADATA`, `WHEEL` or `RECORD` missing or unreadable.
    DistInfo,
    /// `METADATA`/`WHEEL` disagree with the file name.
    NameMismatch,
    VersionMismatch,
    TagMismatch,
    /// `RECORD` hash, size, missing or extra entry.
    RecordHash,
    RecordSize,
    RecordMissing,
    RecordExtra,
    /// An ELF file that cannot be parsed (truncated, corrupt).
    ElfCorrupt,
    /// ELF machine, class or endianness do not match the tag or target.
    ElfMachine,
    /// Float ABI mismatch (ARM hard/soft, RISC-V soft/single/double/quad).
    FloatAbi,
    /// ARM `Tag_CPU_arch` newer than the tag or target runs.
    ArmCpuArch,
    /// Extension module suffix names another platform.
    ExtSuffix,
    /// A platform tag whose architecture is no known target (`linux_arm`, `linux_armv8l`).
    PlatformTag,
    /// A pure (`none-any` / `Root-Is-Purelib`) wheel that contains ELF files.
    PureWithBinaries,
    /// A `manylinux`/`musllinux` tag the symbol versions, libraries or libc do not allow.
    Manylinux,
    /// No Python/ABI tag of the file name installs on the Python asked for (`--python`).
    PythonTag,
    /// Calls into a runtime library the binary does not link (`__atomic_*` without
    /// `libatomic.so.1`): the import fails with `undefined symbol` on the device.
    UnresolvedSymbols,
}

/// One problem with a wheel: where, what was expected, what was found, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The wheel's file name.
    pub wheel: String,
    /// The member the finding is about, when there is one.
    pub member: Option<String>,
    pub kind: FindingKind,
    /// One line saying what is wrong.
    pub what: String,
    pub expected: String,
    pub found: String,
    pub hint: String,
}

/// One ELF member of a wheel.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ElfMember {
    pub member: String,
    pub info: ElfInfo,
}

/// Everything the audit learned about one wheel.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditReport {
    pub path: PathBuf,
    pub filename: Option<WheelFilename>,
    /// `--target`, when given.
    #[serde(serialize_with = "ser_target")]
    pub target: Option<&'static Target>,
    pub metadata: Option<WheelMetadata>,
    pub wheel_info: Option<WheelInfo>,
    pub elfs: Vec<ElfMember>,
    /// The ELF objects inside static libraries (`lib/libx.a(x.o)`), checked for the target's
    /// machine: a build that linked one for another CPU would crash on the device.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub archive_objects: Vec<ElfMember>,
    /// Every member name (to tell libraries shipped in the wheel from system ones).
    #[serde(skip)]
    pub members: Vec<String>,
    /// Each file member's `RECORD`-style sha256 and size, as read (empty when not hashed).
    #[serde(skip)]
    pub digests: std::collections::BTreeMap<String, (String, u64)>,
    /// What makes the wheel unsound.
    pub findings: Vec<Finding>,
    /// What the user should know but does not make the wheel unsound (e.g. newer-CPU code that
    /// the wheel's other binaries show is runtime-dispatched).
    pub notes: Vec<Finding>,
}

fn ser_target<S: serde::Serializer>(t: &Option<&'static Target>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(t.name),
        None => s.serialize_none(),
    }
}

impl AuditReport {
    /// True when nothing was found.
    pub fn is_sound(&self) -> bool {
        self.findings.is_empty()
    }

    /// The wheel's file name as a string (what findings call it).
    pub fn wheel_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The shared libraries the wheel's binaries load from the device's system: each `DT_NEEDED`
    /// name that is not shipped in the wheel, not part of glibc or the compiler's runtime, and
    /// not one the target's Python needs itself (zlib, expat). `pip install` does not bring these;
    /// the device must have them. Sorted, each once.
    pub fn system_libraries(&self) -> Vec<String> {
        let mut libs: Vec<String> = self
            .elfs
            .iter()
            .flat_map(|e| &e.info.needed)
            .filter(|lib| !policy::is_base_system(lib) && !self.bundles(lib))
            .cloned()
            .collect();
        libs.sort();
        libs.dedup();
        libs
    }

    /// True when a library of that file name ships inside the wheel.
    pub fn bundles(&self, lib: &str) -> bool {
        self.members
            .iter()
            .any(|m| m.rsplit('/').next() == Some(lib))
    }
}

/// Errors that stop an audit before it can say anything about the wheel.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Wheel(#[from] WheelError),
}

/// Audit the wheel at `path`, against `target` when given. Broken wheels give findings; only
/// I/O errors (missing file, permissions) are errors.
pub fn audit_wheel(
    path: &Path,
    target: Option<&'static Target>,
) -> Result<AuditReport, AuditError> {
    scan::audit(path, target)
}

/// Why the platform tag of a wheel cannot be derived from its binaries.
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    #[error("`{0}` contains no ELF files, so its binaries say nothing about its platform")]
    NoBinaries(String),
    #[error("`{wheel}` mixes binaries for different CPUs: {found}")]
    Mixed { wheel: String, found: String },
    #[error("`{wheel}`: `{member}` ({what}) matches no target pyx knows")]
    UnknownArch {
        wheel: String,
        member: String,
        what: String,
    },
    #[error("`{wheel}` cannot be tagged manylinux for `{arch}`: {reason}")]
    NotManylinux {
        wheel: String,
        arch: String,
        reason: String,
    },
    #[error("`{wheel}` holds files that are not valid ELF, so its platform cannot be derived")]
    Corrupt { wheel: String },
}

impl DeriveError {
    pub fn hint(&self) -> &'static str {
        match self {
            DeriveError::NoBinaries(_) => {
                "a pure wheel keeps `any`; give `--platform` to force a tag"
            }
            DeriveError::NotManylinux { .. } => {
                "drop `--manylinux` to tag it `linux_<arch>`, or rebuild against an older sysroot"
            }
            _ => "run `pyx inspect` on the wheel to see each binary",
        }
    }
}

/// The target a binary belongs to (machine, class, endianness, float ABI, ARM architecture).
pub fn target_of(info: &ElfInfo) -> Option<&'static Target> {
    let mut candidates = TARGETS.iter().filter(|t| {
        t.elf.machine == info.machine
            && t.elf.class == info.class
            && t.elf.endian == info.endian
            && (t.elf.float_abi.is_none() || t.elf.float_abi == info.float_abi)
    });
    if info.machine != crate::platform::arch::em::ARM {
        return candidates.next();
    }
    let cpu = info.arm_attributes.as_ref().and_then(|a| a.cpu_arch);
    match info.float_abi {
        Some(FloatAbi::Soft) => candidates.next(),
        Some(FloatAbi::Hard) => {
            let v6 = Target::lookup("armv6l");
            let v7 = Target::lookup("armv7l");
            match (cpu, v6.and_then(|t| t.elf.max_arm_cpu_arch)) {
                (Some(found), Some(max6)) if arm_attributes::cpu_arch_runs_on(found, max6) => v6,
                _ => v7,
            }
        }
        Some(FloatAbi::Single | FloatAbi::Double | FloatAbi::Quad) | None => None,
    }
}

/// The platform tags `--auto` gives a wheel: `linux_<arch>` of the target its binaries are for
/// (or the report's target, when they all run there), or with `manylinux` the oldest
/// `manylinux_2_X_<arch>` whose policy they meet, plus its legacy alias.
pub fn derive_platform_tags(
    report: &AuditReport,
    manylinux: bool,
) -> Result<Vec<PlatformTag>, DeriveError> {
    let wheel = report.wheel_name();
    if report
        .findings
        .iter()
        .any(|f| f.kind == FindingKind::ElfCorrupt)
    {
        return Err(DeriveError::Corrupt { wheel });
    }
    if report.elfs.is_empty() {
        return Err(DeriveError::NoBinaries(wheel));
    }
    let mut target: Option<&'static Target> = None;
    for e in &report.elfs {
        let t = target_of(&e.info).ok_or_else(|| DeriveError::UnknownArch {
            wheel: wheel.clone(),
            member: e.member.clone(),
            what: checks::describe_identity(&e.info),
        })?;
        target = match target {
            None => Some(t),
            Some(prev) if prev == t => Some(prev),
            // An armv6l binary runs on armv7l too: a mix is armv7l code.
            Some(prev) if same_abi(prev, t) => Some(if prev.name == "armv6l" { t } else { prev }),
            Some(prev) => {
                return Err(DeriveError::Mixed {
                    wheel,
                    found: format!("{} and {}", prev.name, t.name),
                });
            }
        };
    }
    let mut target = target.expect("at least one ELF");
    if let Some(wanted) = report.target
        && report
            .elfs
            .iter()
            .all(|e| checks::identity_findings(&e.info, wanted).is_empty())
    {
        target = wanted;
    }
    if !manylinux {
        return Ok(vec![PlatformTag::linux(target)]);
    }
    let not = |reason: String| DeriveError::NotManylinux {
        wheel: wheel.clone(),
        arch: target.name.to_string(),
        reason,
    };
    if let Some(e) = report.elfs.iter().find(|e| e.info.libc == elf::Libc::Musl) {
        return Err(not(format!("`{}` links musl, not glibc", e.member)));
    }
    let mut last_reason = format!("no manylinux policy covers `{}`", target.name);
    for policy in policy::policies_for(target.name) {
        let broken = report.elfs.iter().find_map(|e| {
            let v = policy.violations(
                target.name,
                &e.info.symbol_versions,
                &e.info.needed,
                &|lib| report.bundles(lib),
            );
            v.first().map(|v| format!("`{}` {v}", e.member))
        });
        match broken {
            Some(reason) => last_reason = reason,
            None => {
                let tag = PlatformTag::manylinux(policy.glibc, target);
                let mut tags = vec![tag.clone()];
                tags.extend(tag.legacy_alias());
                return Ok(tags);
            }
        }
    }
    Err(not(last_reason))
}

fn same_abi(a: &Target, b: &Target) -> bool {
    a.elf.machine == b.elf.machine
        && a.elf.float_abi == b.elf.float_abi
        && a.elf.class == b.elf.class
}

/// The oldest `manylinux_2_X` policy one binary meets on its own (`bundled` says which
/// libraries ship beside it), for the target its ELF header names.
pub fn manylinux_floor(info: &ElfInfo, bundled: &dyn Fn(&str) -> bool) -> Option<GlibcVersion> {
    if info.libc == elf::Libc::Musl {
        return None;
    }
    let arch = target_of(info)?.name;
    policy::policies_for(arch)
        .find(|p| {
            p.violations(arch, &info.symbol_versions, &info.needed, bundled)
                .is_empty()
        })
        .map(|p| p.glibc)
}
