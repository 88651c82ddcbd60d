//! manylinux policies (PEP 600): for each `manylinux_2_X` and architecture, the newest symbol
//! versions a binary may require and the system libraries it may link.
//!
//! Source: the `manylinux-policy.json` published by the PyPA in auditwheel 6.8.2
//! (<https://github.com/pypa/auditwheel>, `src/auditwheel/policy/manylinux-policy.json`),
//! licensed MIT (Copyright (c) 2016 Robert T. McGibbon). The table below keeps, per policy and
//! architecture, the newest numeric version of GLIBC, GLIBCXX, CXXABI and GCC, plus the library
//! allow-list; `bench/gen_policy.py` regenerates it. Non-numeric versions (`TM_1`, `LDBL_3.4`,
//! `FLOAT128`) are not checked.

use std::cmp::Ordering;

use super::versions::{SymbolVersions, compare_versions};
use crate::platform::GlibcVersion;

/// One manylinux policy.
#[derive(Debug)]
pub struct Policy {
    /// The glibc version the tag `manylinux_2_X` promises.
    pub glibc: GlibcVersion,
    /// `manylinux1`, `manylinux2010` or `manylinux2014`.
    pub legacy_alias: Option<&'static str>,
    /// Shared libraries a wheel may need from the system (`DT_NEEDED`).
    pub libraries: &'static [&'static str],
    /// Per wheel architecture: the newest GLIBC, GLIBCXX, CXXABI, GCC versions allowed.
    pub arches: &'static [(&'static str, [&'static str; 4])],
}

/// The symbol-version prefixes a policy limits, in the order of [`Policy::arches`].
pub const PREFIXES: [&str; 4] = ["GLIBC", "GLIBCXX", "CXXABI", "GCC"];

/// Something a binary needs that a policy does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyViolation {
    /// `PREFIX_version` newer than the policy's newest.
    SymbolVersion {
        prefix: &'static str,
        found: String,
        allowed: String,
    },
    /// A `DT_NEEDED` library that is neither allowed nor shipped in the wheel.
    Library(String),
}

impl std::fmt::Display for PolicyViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyViolation::SymbolVersion {
                prefix,
                found,
                allowed,
            } => write!(
                f,
                "needs `{prefix}_{found}`, newer than `{prefix}_{allowed}`"
            ),
            PolicyViolation::Library(lib) => {
                write!(
                    f,
                    "links `{lib}`, which is neither allowed nor in the wheel"
                )
            }
        }
    }
}

impl Policy {
    /// The newest allowed versions for a wheel architecture, if the policy covers it.
    pub fn limits(&self, arch: &str) -> Option<&[&'static str; 4]> {
        self.arches.iter().find(|(a, _)| *a == arch).map(|(_, v)| v)
    }

    /// What `needs`/`libraries` of one binary break in this policy (empty: it complies).
    /// `bundled` says whether a library name is shipped inside the wheel.
    pub fn violations(
        &self,
        arch: &str,
        needs: &SymbolVersions,
        libraries: &[String],
        bundled: &dyn Fn(&str) -> bool,
    ) -> Vec<PolicyViolation> {
        let mut out = Vec::new();
        let Some(limits) = self.limits(arch) else {
            return out;
        };
        for (prefix, allowed) in PREFIXES.iter().zip(limits) {
            if let Some(found) = needs.get(*prefix)
                && !allowed.is_empty()
                && compare_versions(found, allowed) == Ordering::Greater
            {
                out.push(PolicyViolation::SymbolVersion {
                    prefix,
                    found: found.clone(),
                    allowed: allowed.to_string(),
                });
            }
        }
        for lib in libraries {
            if !self.libraries.contains(&lib.as_str()) && !is_glibc_loader(lib) && !bundled(lib) {
                out.push(PolicyViolation::Library(lib.clone()));
            }
        }
        out
    }
}

/// True for glibc's dynamic loader (`ld-linux-aarch64.so.1`, `ld64.so.2`, `ld.so.1`): part of
/// glibc itself, so every policy allows linking it.
pub fn is_glibc_loader(lib: &str) -> bool {
    lib.starts_with("ld-linux") || lib.starts_with("ld64.so.") || lib == "ld.so.1"
}

/// True for a library every glibc system with the target's Python has: glibc's own (and its
/// loader), the compiler runtime (`libgcc_s`, `libstdc++`, `libatomic`), and zlib and expat, which
/// Python's standard library links.
pub fn is_base_system(lib: &str) -> bool {
    const BASE: &[&str] = &[
        "libc.so.6",
        "libm.so.6",
        "libmvec.so.1",
        "libanl.so.1",
        "libdl.so.2",
        "librt.so.1",
        "libnsl.so.1",
        "libutil.so.1",
        "libpthread.so.0",
        "libresolv.so.2",
        "libgcc_s.so.1",
        "libstdc++.so.6",
        "libatomic.so.1",
        "libz.so.1",
        "libexpat.so.1",
    ];
    BASE.contains(&lib) || is_glibc_loader(lib)
}

/// The policies that cover a wheel architecture, oldest glibc first.
pub fn policies_for(arch: &str) -> impl Iterator<Item = &'static Policy> + '_ {
    POLICIES.iter().filter(move |p| p.limits(arch).is_some())
}

/// The policy a `manylinux_2_X` tag is judged by: the newest one not newer than 2.X.
pub fn policy_for_tag(arch: &str, glibc: GlibcVersion) -> Option<&'static Policy> {
    policies_for(arch).filter(|p| p.glibc <= glibc).last()
}

pub static POLICIES: &[Policy] = &[
    Policy {
        glibc: GlibcVersion::new(2, 5),
        legacy_alias: Some("manylinux1"),
        libraries: LIBS_0,
        arches: &[
            ("i686", ["2.5", "3.4.8", "1.3.1", "4.2.0"]),
            ("x86_64", ["2.5", "3.4.8", "1.3.1", "4.2.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 12),
        legacy_alias: Some("manylinux2010"),
        libraries: LIBS_1,
        arches: &[
            ("i686", ["2.12", "3.4.13", "1.3.3", "4.5.0"]),
            ("x86_64", ["2.12", "3.4.13", "1.3.3", "4.3.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 17),
        legacy_alias: Some("manylinux2014"),
        libraries: LIBS_1,
        arches: &[
            ("aarch64", ["2.18", "3.4.19", "1.3.7", "4.7.0"]),
            ("armv7l", ["2.17", "3.4.19", "1.3.7", "4.7.0"]),
            ("i686", ["2.17", "3.4.19", "1.3.7", "4.8.0"]),
            ("ppc64", ["2.17", "3.4.19", "1.3.7", "4.8.0"]),
            ("ppc64le", ["2.17", "3.4.19", "1.3.7", "4.7.0"]),
            ("s390x", ["2.17", "3.4.19", "1.3.7", "4.7.0"]),
            ("x86_64", ["2.17", "3.4.19", "1.3.7", "4.8.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 24),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.24", "3.4.22", "1.3.10", "4.7.0"]),
            ("armv7l", ["2.24", "3.4.22", "1.3.10", "4.7.0"]),
            ("i686", ["2.24", "3.4.22", "1.3.10", "4.8.0"]),
            ("ppc64le", ["2.24", "3.4.22", "1.3.10", "4.7.0"]),
            ("s390x", ["2.24", "3.4.22", "1.3.10", "4.7.0"]),
            ("x86_64", ["2.24", "3.4.22", "1.3.10", "4.8.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 26),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.26", "3.4.24", "1.3.11", "7.0.0"]),
            ("armv7l", ["2.26", "3.4.24", "1.3.11", "7.0.0"]),
            ("i686", ["2.26", "3.4.24", "1.3.11", "7.0.0"]),
            ("ppc64le", ["2.26", "3.4.24", "1.3.11", "7.0.0"]),
            ("s390x", ["2.26", "3.4.24", "1.3.11", "7.0.0"]),
            ("x86_64", ["2.26", "3.4.22", "1.3.10", "4.8.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 27),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.27", "3.4.24", "1.3.11", "7.0.0"]),
            ("armv7l", ["2.27", "3.4.24", "1.3.11", "7.0.0"]),
            ("i686", ["2.27", "3.4.24", "1.3.11", "7.0.0"]),
            ("ppc64le", ["2.27", "3.4.24", "1.3.11", "7.0.0"]),
            ("s390x", ["2.27", "3.4.24", "1.3.11", "7.0.0"]),
            ("x86_64", ["2.27", "3.4.24", "1.3.11", "7.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 28),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.28", "3.4.24", "1.3.11", "7.0.0"]),
            ("armv7l", ["2.28", "3.4.24", "1.3.11", "7.0.0"]),
            ("i686", ["2.28", "3.4.24", "1.3.11", "7.0.0"]),
            ("ppc64le", ["2.28", "3.4.24", "1.3.11", "7.0.0"]),
            ("s390x", ["2.28", "3.4.24", "1.3.11", "7.0.0"]),
            ("x86_64", ["2.28", "3.4.24", "1.3.11", "7.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 31),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.31", "3.4.28", "1.3.12", "7.0.0"]),
            ("armv7l", ["2.31", "3.4.28", "1.3.12", "7.0.0"]),
            ("i686", ["2.31", "3.4.28", "1.3.12", "7.0.0"]),
            ("ppc64le", ["2.31", "3.4.28", "1.3.12", "7.0.0"]),
            ("riscv64", ["2.31", "3.4.28", "1.3.12", "7.0.0"]),
            ("s390x", ["2.31", "3.4.28", "1.3.12", "7.0.0"]),
            ("x86_64", ["2.31", "3.4.28", "1.3.12", "7.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 34),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.34", "3.4.29", "1.3.13", "11.0"]),
            ("armv7l", ["2.34", "3.4.29", "1.3.13", "7.0.0"]),
            ("i686", ["2.34", "3.4.29", "1.3.13", "7.0.0"]),
            ("ppc64le", ["2.34", "3.4.29", "1.3.13", "7.0.0"]),
            ("riscv64", ["2.34", "3.4.29", "1.3.13", "7.0.0"]),
            ("s390x", ["2.34", "3.4.29", "1.3.13", "7.0.0"]),
            ("x86_64", ["2.34", "3.4.29", "1.3.13", "7.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 35),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.35", "3.4.30", "1.3.13", "11.0"]),
            ("armv7l", ["2.35", "3.4.30", "1.3.13", "7.0.0"]),
            ("i686", ["2.35", "3.4.30", "1.3.13", "12.0.0"]),
            ("ppc64le", ["2.35", "3.4.30", "1.3.13", "7.0.0"]),
            ("riscv64", ["2.35", "3.4.30", "1.3.13", "7.0.0"]),
            ("s390x", ["2.35", "3.4.30", "1.3.13", "7.0.0"]),
            ("x86_64", ["2.35", "3.4.30", "1.3.13", "12.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 36),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.36", "3.4.30", "1.3.13", "11.0"]),
            ("armv7l", ["2.36", "3.4.30", "1.3.13", "7.0.0"]),
            ("i686", ["2.36", "3.4.30", "1.3.13", "12.0.0"]),
            ("loongarch64", ["2.36", "3.4.30", "1.3.13", "7.0.0"]),
            ("ppc64le", ["2.36", "3.4.30", "1.3.13", "7.0.0"]),
            ("riscv64", ["2.36", "3.4.30", "1.3.13", "7.0.0"]),
            ("s390x", ["2.36", "3.4.30", "1.3.13", "7.0.0"]),
            ("x86_64", ["2.36", "3.4.30", "1.3.13", "12.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 37),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.36", "3.4.30", "1.3.13", "11.0"]),
            ("armv7l", ["2.37", "3.4.30", "1.3.13", "7.0.0"]),
            ("i686", ["2.37", "3.4.30", "1.3.13", "12.0.0"]),
            ("loongarch64", ["2.36", "3.4.30", "1.3.13", "7.0.0"]),
            ("ppc64le", ["2.36", "3.4.30", "1.3.13", "7.0.0"]),
            ("riscv64", ["2.37", "3.4.30", "1.3.13", "7.0.0"]),
            ("s390x", ["2.36", "3.4.30", "1.3.13", "7.0.0"]),
            ("x86_64", ["2.36", "3.4.30", "1.3.13", "12.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 38),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.38", "3.4.30", "1.3.13", "11.0"]),
            ("armv7l", ["2.38", "3.4.30", "1.3.13", "7.0.0"]),
            ("i686", ["2.38", "3.4.30", "1.3.13", "12.0.0"]),
            ("loongarch64", ["2.38", "3.4.30", "1.3.13", "7.0.0"]),
            ("ppc64le", ["2.38", "3.4.30", "1.3.13", "7.0.0"]),
            ("riscv64", ["2.38", "3.4.30", "1.3.13", "7.0.0"]),
            ("s390x", ["2.38", "3.4.30", "1.3.13", "7.0.0"]),
            ("x86_64", ["2.38", "3.4.30", "1.3.13", "12.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 39),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.39", "3.4.33", "1.3.15", "14.0.0"]),
            ("armv7l", ["2.39", "3.4.33", "1.3.15", "14.0.0"]),
            ("i686", ["2.39", "3.4.33", "1.3.15", "14.0.0"]),
            ("loongarch64", ["2.39", "3.4.32", "1.3.15", "14.0.0"]),
            ("ppc64le", ["2.39", "3.4.33", "1.3.15", "14.0.0"]),
            ("riscv64", ["2.39", "3.4.33", "1.3.15", "14.0.0"]),
            ("s390x", ["2.39", "3.4.33", "1.3.15", "14.0.0"]),
            ("x86_64", ["2.39", "3.4.33", "1.3.15", "14.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 40),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.40", "3.4.33", "1.3.15", "14.0.0"]),
            ("armv7l", ["2.40", "3.4.33", "1.3.15", "14.0.0"]),
            ("i686", ["2.40", "3.4.33", "1.3.15", "14.0.0"]),
            ("loongarch64", ["2.40", "3.4.33", "1.3.15", "14.0.0"]),
            ("ppc64le", ["2.40", "3.4.33", "1.3.15", "14.0.0"]),
            ("riscv64", ["2.40", "3.4.33", "1.3.15", "14.0.0"]),
            ("s390x", ["2.40", "3.4.33", "1.3.15", "14.0.0"]),
            ("x86_64", ["2.40", "3.4.33", "1.3.15", "14.0.0"]),
        ],
    },
    Policy {
        glibc: GlibcVersion::new(2, 41),
        legacy_alias: None,
        libraries: LIBS_2,
        arches: &[
            ("aarch64", ["2.41", "3.4.33", "1.3.15", "14.0.0"]),
            ("armv7l", ["2.41", "3.4.33", "1.3.15", "14.0.0"]),
            ("i686", ["2.41", "3.4.33", "1.3.15", "14.0.0"]),
            ("loongarch64", ["2.41", "3.4.33", "1.3.15", "14.0.0"]),
            ("ppc64le", ["2.41", "3.4.33", "1.3.15", "14.0.0"]),
            ("riscv64", ["2.41", "3.4.33", "1.3.15", "14.0.0"]),
            ("s390x", ["2.41", "3.4.33", "1.3.15", "14.0.0"]),
            ("x86_64", ["2.41", "3.4.33", "1.3.15", "14.0.0"]),
        ],
    },
];
const LIBS_0: &[&str] = &[
    "libatomic.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libm.so.6",
    "libanl.so.1",
    "libdl.so.2",
    "librt.so.1",
    "libc.so.6",
    "libnsl.so.1",
    "libutil.so.1",
    "libpthread.so.0",
    "libX11.so.6",
    "libXext.so.6",
    "libXrender.so.1",
    "libICE.so.6",
    "libSM.so.6",
    "libGL.so.1",
    "libgobject-2.0.so.0",
    "libgthread-2.0.so.0",
    "libglib-2.0.so.0",
    "libresolv.so.2",
    "libz.so.1",
];
const LIBS_1: &[&str] = &[
    "libatomic.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libm.so.6",
    "libanl.so.1",
    "libdl.so.2",
    "librt.so.1",
    "libc.so.6",
    "libnsl.so.1",
    "libutil.so.1",
    "libpthread.so.0",
    "libX11.so.6",
    "libXext.so.6",
    "libXrender.so.1",
    "libICE.so.6",
    "libSM.so.6",
    "libGL.so.1",
    "libgobject-2.0.so.0",
    "libgthread-2.0.so.0",
    "libglib-2.0.so.0",
    "libresolv.so.2",
    "libexpat.so.1",
    "libz.so.1",
];
const LIBS_2: &[&str] = &[
    "libatomic.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libm.so.6",
    "libmvec.so.1",
    "libanl.so.1",
    "libdl.so.2",
    "librt.so.1",
    "libc.so.6",
    "libnsl.so.1",
    "libutil.so.1",
    "libpthread.so.0",
    "libX11.so.6",
    "libXext.so.6",
    "libXrender.so.1",
    "libICE.so.6",
    "libSM.so.6",
    "libGL.so.1",
    "libgobject-2.0.so.0",
    "libgthread-2.0.so.0",
    "libglib-2.0.so.0",
    "libresolv.so.2",
    "libexpat.so.1",
    "libz.so.1",
];
