//! The checks of one wheel's binaries against its platform tags and the target.

use super::arm_attributes::{cpu_arch_name, cpu_arch_runs_on};
use super::elf::{ElfInfo, Libc, machine_name};
use super::{ElfMember, Finding, FindingKind, policy, target_of};
use crate::platform::arch::{ElfClass, Endian, FloatAbi, Target};
use crate::platform::tags::PlatformTag;

/// A finding before it is tied to a wheel and member.
pub(crate) struct Issue {
    pub kind: FindingKind,
    pub what: String,
    pub expected: String,
    pub found: String,
    pub hint: String,
}

impl Issue {
    /// A CPU-architecture finding restated for a wheel whose other binaries show runtime dispatch.
    fn into_dispatch_note(self) -> Issue {
        Issue {
            what: format!("{} without a runtime CPU check", self.what),
            hint: "the wheel's other binaries are built for the target's CPU, so this code is most \
                   likely runtime-dispatched SIMD (safe); if it is not, rebuild it for the target's CPU"
                .to_string(),
            ..self
        }
    }

    fn into_finding(self, wheel: &str, member: Option<&str>) -> Finding {
        Finding {
            wheel: wheel.to_string(),
            member: member.map(str::to_string),
            kind: self.kind,
            what: self.what,
            expected: self.expected,
            found: self.found,
            hint: self.hint,
        }
    }
}

fn class_name(c: ElfClass) -> &'static str {
    match c {
        ElfClass::Elf32 => "32-bit",
        ElfClass::Elf64 => "64-bit",
    }
}

fn endian_name(e: Endian) -> &'static str {
    match e {
        Endian::Little => "little-endian",
        Endian::Big => "big-endian",
    }
}

/// `hard-float (e_flags 0x400)`, `double-float (e_flags 0x4)`.
fn float_name(machine: u16, f: Option<FloatAbi>) -> String {
    match f {
        Some(f) => format!("{} (e_flags {:#x})", f.name(), f.e_flags(machine)),
        None => "no float ABI flag".to_string(),
    }
}

/// `EM_ARM, 32-bit, little-endian, hard-float, v7`: what a binary is.
pub(crate) fn describe_identity(info: &ElfInfo) -> String {
    let mut s = format!(
        "{}, {}, {}",
        info.machine_name,
        class_name(info.class),
        endian_name(info.endian)
    );
    if info.arm_eabi.is_some() || info.riscv_rvc.is_some() {
        s.push_str(&format!(", {}", float_name(info.machine, info.float_abi)));
    }
    if info.riscv_rvc == Some(true) {
        s.push_str(", RVC");
    }
    if let Some(arch) = info.arm_attributes.as_ref().and_then(|a| a.cpu_arch) {
        s.push_str(&format!(", ARM {}", cpu_arch_name(arch)));
    }
    s
}

fn describe_target(t: &Target) -> String {
    format!(
        "{}, {}, {}",
        machine_name(t.elf.machine),
        class_name(t.elf.class),
        endian_name(t.elf.endian)
    )
}

/// How one binary disagrees with a target (empty: it runs there).
pub(crate) fn identity_findings(info: &ElfInfo, target: &Target) -> Vec<Issue> {
    let t = &target.elf;
    if info.machine != t.machine || info.class != t.class || info.endian != t.endian {
        let found_as =
            target_of(info).map_or_else(|| info.machine_name.clone(), |t| t.name.to_string());
        return vec![Issue {
            kind: FindingKind::ElfMachine,
            what: format!("is {found_as} code, not {}", target.name),
            expected: describe_target(target),
            found: describe_identity(info),
            hint: format!(
                "the build used another machine's compiler; rebuild with `pyx wheel --target {}` \
                 (run with -v to see the compiler calls)",
                target.name
            ),
        }];
    }
    let mut out = Vec::new();
    if let Some(want) = t.float_abi
        && info.float_abi != Some(want)
    {
        out.push(Issue {
            kind: FindingKind::FloatAbi,
            what: format!("has the wrong float ABI for {}", target.name),
            expected: float_name(t.machine, Some(want)),
            found: float_name(info.machine, info.float_abi),
            hint: format!(
                "{} needs `{}-gcc`; a mismatched float ABI crashes or fails to load on the device",
                target.name, target.triplet
            ),
        });
    }
    if let (Some(max), Some(found)) = (
        t.max_arm_cpu_arch,
        info.arm_attributes.as_ref().and_then(|a| a.cpu_arch),
    ) && !cpu_arch_runs_on(found, max)
    {
        out.push(Issue {
            kind: FindingKind::ArmCpuArch,
            what: format!(
                "is ARM {} code, which does not run on {}",
                cpu_arch_name(found),
                target.name
            ),
            expected: format!("ARM {} or older (Tag_CPU_arch {max})", cpu_arch_name(max)),
            found: format!("ARM {} (Tag_CPU_arch {found})", cpu_arch_name(found)),
            hint: if target.name == "armv6l" {
                "compile for armv6l (`-march=armv6+fp -marm`, which `pyx wheel --target armv6l` \
                 passes), or tag the wheel `linux_armv7l`"
                    .to_string()
            } else {
                format!(
                    "compile for {} with `{}-gcc` and its default flags",
                    target.name, target.triplet
                )
            },
        });
    }
    out
}

/// The multiarch part of an extension module suffix: `arm-linux-gnueabihf` for
/// `mod.cpython-311-arm-linux-gnueabihf.so`.
pub(crate) fn ext_suffix_multiarch(member: &str) -> Option<&str> {
    let base = member.rsplit('/').next()?;
    let rest = base.strip_suffix(".so")?;
    let (_, tail) = rest.rsplit_once(".cpython-")?;
    let (_, multiarch) = tail.split_once('-')?;
    (!multiarch.is_empty()).then_some(multiarch)
}

fn ext_suffix_issue(member: &str, target: &Target) -> Option<Issue> {
    let multiarch = ext_suffix_multiarch(member)?;
    (multiarch != target.multiarch).then(|| Issue {
        kind: FindingKind::ExtSuffix,
        what: format!(
            "is an extension module for `{multiarch}`, not {}",
            target.name
        ),
        expected: format!("`.cpython-XY-{}.so`", target.multiarch),
        found: format!("`-{multiarch}.so`"),
        hint: "the build read the build machine's EXT_SUFFIX; build in a cross env \
               (`pyx wheel --target ...`) so sysconfig answers like the target"
            .to_string(),
    })
}

/// Findings about a wheel's platform tags and every binary in it: against each tag's target,
/// `target` when given, the manylinux policy, and purity.
pub fn binary_findings(
    wheel: &str,
    elfs: &[ElfMember],
    members: &[String],
    platform_tags: &[PlatformTag],
    target: Option<&'static Target>,
    root_is_purelib: bool,
) -> (Vec<Finding>, Vec<Finding>) {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let derived = elfs.iter().find_map(|e| target_of(&e.info));
    let mut check_targets: Vec<&'static Target> = target.into_iter().collect();
    for tag in platform_tags {
        let Some(arch) = tag.arch() else { continue };
        match tag.target() {
            Some(t) => {
                if let Some(want) = target
                    && want != t
                {
                    out.push(
                        Issue {
                            kind: FindingKind::PlatformTag,
                            what: format!("is tagged for {}, not the target {}", t.name, want.name),
                            expected: format!("a `{}` platform tag", want.name),
                            found: format!("`{tag}`"),
                            hint: format!("pip on a {} device will refuse it", want.name),
                        }
                        .into_finding(wheel, None),
                    );
                }
                if !check_targets.contains(&t) {
                    check_targets.push(t);
                }
            }
            None => out.push(
                Issue {
                    kind: FindingKind::PlatformTag,
                    what: format!("platform tag `{tag}` names no CPU a device's pip reports"),
                    expected: derived.or(target).map_or_else(
                        || "a tag like `linux_armv7l`".to_string(),
                        |t| format!("`{}`", PlatformTag::linux(t)),
                    ),
                    found: format!("`{tag}` (architecture `{arch}`)"),
                    hint: "run `pyx retag --auto` on the wheel to derive the tag from its binaries"
                        .to_string(),
                }
                .into_finding(wheel, None),
            ),
        }
    }
    for t in &check_targets {
        let dispatched = shows_runtime_dispatch(elfs, t);
        for e in elfs {
            for issue in identity_findings(&e.info, t) {
                if dispatched && issue.kind == FindingKind::ArmCpuArch {
                    notes.push(
                        issue
                            .into_dispatch_note()
                            .into_finding(wheel, Some(&e.member)),
                    );
                } else {
                    out.push(issue.into_finding(wheel, Some(&e.member)));
                }
            }
        }
    }
    for m in members {
        for t in &check_targets {
            if let Some(issue) = ext_suffix_issue(m, t) {
                out.push(issue.into_finding(wheel, Some(m)));
            }
        }
    }
    let pure_tag =
        !platform_tags.is_empty() && platform_tags.iter().all(|t| *t == PlatformTag::Any);
    if let Some(first) = elfs.first()
        && (pure_tag || root_is_purelib)
    {
        out.push(
            Issue {
                kind: FindingKind::PureWithBinaries,
                what: format!(
                    "is a pure wheel ({}) but contains {} ELF file(s)",
                    if pure_tag {
                        "platform `any`"
                    } else {
                        "`Root-Is-Purelib: true`"
                    },
                    elfs.len()
                ),
                expected: "no compiled code, or a platform tag and `Root-Is-Purelib: false`"
                    .to_string(),
                found: format!("`{}` is {}", first.member, describe_identity(&first.info)),
                hint: "tag the wheel with `pyx retag --auto` (it also fixes `WHEEL`)".to_string(),
            }
            .into_finding(wheel, Some(&first.member)),
        );
    }
    out.extend(atomics_findings(wheel, elfs));
    let bundled = |lib: &str| members.iter().any(|m| m.rsplit('/').next() == Some(lib));
    for tag in platform_tags {
        match tag {
            PlatformTag::Manylinux { glibc, arch, .. } => {
                let Some(policy) = policy::policy_for_tag(arch, *glibc) else {
                    out.push(
                        Issue {
                            kind: FindingKind::Manylinux,
                            what: format!("claims `{tag}`, but no manylinux policy covers it"),
                            expected: format!("`linux_{arch}` or a published manylinux policy"),
                            found: format!("`{tag}`"),
                            hint: format!("tag it `linux_{arch}` (`pyx retag --auto`)"),
                        }
                        .into_finding(wheel, None),
                    );
                    continue;
                };
                for e in elfs {
                    if e.info.libc == Libc::Musl {
                        out.push(
                            Issue {
                                kind: FindingKind::Manylinux,
                                what: format!("links musl but the wheel claims `{tag}`"),
                                expected: "glibc".to_string(),
                                found: "musl".to_string(),
                                hint: "tag musl wheels `musllinux_1_X_<arch>`".to_string(),
                            }
                            .into_finding(wheel, Some(&e.member)),
                        );
                        continue;
                    }
                    let v =
                        policy.violations(arch, &e.info.symbol_versions, &e.info.needed, &bundled);
                    if !v.is_empty() {
                        out.push(
                            Issue {
                                kind: FindingKind::Manylinux,
                                what: format!("breaks the `{tag}` policy"),
                                expected: format!(
                                    "at most `GLIBC_{}` and only the policy's system libraries",
                                    policy.limits(arch).map_or("?", |l| l[0])
                                ),
                                found: v
                                    .iter()
                                    .map(|v| v.to_string())
                                    .collect::<Vec<_>>()
                                    .join("; "),
                                hint: "retag with `pyx retag --auto --manylinux` for the tag it \
                                       meets, or build against an older sysroot"
                                    .to_string(),
                            }
                            .into_finding(wheel, Some(&e.member)),
                        );
                    }
                }
            }
            PlatformTag::Musllinux { .. } => {
                for e in elfs.iter().filter(|e| e.info.libc == Libc::Glibc) {
                    out.push(
                        Issue {
                            kind: FindingKind::Manylinux,
                            what: format!("links glibc but the wheel claims `{tag}`"),
                            expected: "musl".to_string(),
                            found: "glibc".to_string(),
                            hint: "tag glibc wheels `linux_<arch>` or `manylinux_2_X_<arch>`"
                                .to_string(),
                        }
                        .into_finding(wheel, Some(&e.member)),
                    );
                }
            }
            _ => {}
        }
    }
    (out, notes)
}

/// Binaries that call libatomic (`__atomic_*`, which GCC emits for atomics the CPU has no
/// instruction for: riscv64's 1- and 2-byte ones, 8-byte ones on older ARM) but link neither it
/// nor a library of the wheel that does: Python loads extensions with `RTLD_NOW`, so the import
/// fails with `undefined symbol` on the device.
fn atomics_findings(wheel: &str, elfs: &[ElfMember]) -> Vec<Finding> {
    let links_atomic = |info: &ElfInfo| info.needed.iter().any(|n| n.starts_with("libatomic.so"));
    elfs.iter()
        .filter(|e| !e.info.undefined_atomics.is_empty() && !links_atomic(&e.info))
        .filter(|e| {
            !elfs.iter().any(|other| {
                other
                    .info
                    .soname
                    .as_ref()
                    .is_some_and(|s| e.info.needed.contains(s))
                    && links_atomic(&other.info)
            })
        })
        .map(|e| {
            Issue {
                kind: FindingKind::UnresolvedSymbols,
                what: "calls libatomic but does not link it: the import fails with \
                       `undefined symbol` on the device"
                    .to_string(),
                expected: "`libatomic.so.1` among its needed libraries, or the atomics \
                           linked in (`libatomic.a`)"
                    .to_string(),
                found: format!(
                    "undefined {}; needed: {}",
                    e.info.undefined_atomics.join(", "),
                    if e.info.needed.is_empty() {
                        "none".to_string()
                    } else {
                        e.info.needed.join(", ")
                    }
                ),
                hint: "rebuild with `pyx wheel`, whose shims link the compiler's libatomic \
                       (or add `-latomic` to the link)"
                    .to_string(),
            }
            .into_finding(wheel, Some(&e.member))
        })
        .collect()
}

/// True when the wheel's ARM binaries mix code for `target`'s CPU with code for a newer one: the
/// build's baseline was right and only some files were compiled for newer CPUs on purpose, the
/// pattern of runtime SIMD dispatch (numpy's ARMv8 loops run on an armv7l board only behind a CPU
/// check). When every binary is newer, the compiler itself targeted the wrong CPU.
fn shows_runtime_dispatch(elfs: &[ElfMember], target: &Target) -> bool {
    let Some(max) = target.elf.max_arm_cpu_arch else {
        return false;
    };
    let arches: Vec<u8> = elfs
        .iter()
        .filter(|e| e.info.machine == target.elf.machine)
        .filter_map(|e| e.info.arm_attributes.as_ref().and_then(|a| a.cpu_arch))
        .collect();
    arches.iter().any(|&a| cpu_arch_runs_on(a, max))
        && arches.iter().any(|&a| !cpu_arch_runs_on(a, max))
}

/// Objects in the wheel's static libraries that are not the target's machine, class or endianness
/// (relocatable objects carry no float-ABI flag, and their CPU level may be newer: static
/// libraries carry dispatched code too).
pub fn archive_findings(wheel: &str, objects: &[ElfMember], target: &Target) -> Vec<Finding> {
    objects
        .iter()
        .flat_map(|o| {
            identity_findings(&o.info, target)
                .into_iter()
                .filter(|i| i.kind == FindingKind::ElfMachine)
                .map(|i| {
                    Issue {
                        hint: "the static library was built for another machine; code linked \
                               from it would not run on the target: rebuild it for the target"
                            .to_string(),
                        ..i
                    }
                    .into_finding(wheel, Some(&o.member))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ext_suffix() {
        assert_eq!(
            ext_suffix_multiarch("pkg/_x.cpython-311-x86_64-linux-gnu.so"),
            Some("x86_64-linux-gnu")
        );
        assert_eq!(ext_suffix_multiarch("pkg/_x.abi3.so"), None);
        assert_eq!(ext_suffix_multiarch("pkg/_x.cpython-311.so"), None);
    }
}
