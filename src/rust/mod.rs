//! Rust extensions (maturin, setuptools-rust): which builds are Rust builds, the Rust target of
//! each row of the target table, the toolchain that serves it ([`toolchain`]: the user's when it
//! has the target's std, else Debian's `rustc-web` provisioned by [`debian`]), and what the build
//! sees ([`env`]: cargo's target, the shims as linker and C compiler, PyO3's configuration).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::crossenv::CrossEnv;
use crate::pep517::BuildSystem;
use crate::platform::Target;

pub mod debian;
pub mod env;
pub mod toolchain;

pub use env::RustEnv;
pub use toolchain::{RustToolchain, ToolchainOrigin};

/// The build machine's Rust target (pyx runs on x86_64).
pub const HOST_TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// How a package builds its Rust code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RustBuild {
    /// The `maturin` PEP 517 backend.
    Maturin,
    /// setuptools with `setuptools-rust` in its build requirements.
    SetuptoolsRust,
    /// Neither, but the source tree has a `Cargo.toml` near its top.
    Cargo,
}

impl RustBuild {
    pub fn as_str(self) -> &'static str {
        match self {
            RustBuild::Maturin => "maturin",
            RustBuild::SetuptoolsRust => "setuptools-rust",
            RustBuild::Cargo => "cargo",
        }
    }

    /// The Rust build of a source tree: its backend is maturin, `requires` (static, or with what
    /// `get_requires_for_build_wheel` added) names setuptools-rust, or a `Cargo.toml` sits at its
    /// top or up to two directories below (`rust/`, `src/rust/`).
    pub fn detect(source: &Path, build_system: &BuildSystem, requires: &[String]) -> Option<Self> {
        if build_system.backend_module().split('.').next() == Some("maturin") {
            return Some(RustBuild::Maturin);
        }
        let named = |want: &str| {
            requires.iter().any(|r| {
                let name: String = r
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                    .collect();
                crate::wheel::filename::normalize_name(&name) == want
            })
        };
        if named("setuptools-rust") {
            return Some(RustBuild::SetuptoolsRust);
        }
        if named("maturin") {
            return Some(RustBuild::Maturin);
        }
        let cargo = walkdir::WalkDir::new(source)
            .max_depth(3)
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !e.file_type().is_dir()
                    || !matches!(
                        e.file_name().to_str(),
                        Some("target" | "vendor" | "tests" | "include" | ".git" | "build")
                    )
            })
            .flatten()
            .any(|e| e.file_type().is_file() && e.file_name() == "Cargo.toml");
        cargo.then_some(RustBuild::Cargo)
    }

    /// True when the build certainly compiles Rust (a `Cargo.toml` alone may be a leftover).
    pub fn is_certain(self) -> bool {
        self != RustBuild::Cargo
    }
}

/// The Rust side of one row of the target table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RustTarget {
    /// Cargo's target triple (`armv7-unknown-linux-gnueabihf`).
    pub triple: &'static str,
    /// Why Debian's Rust cannot serve the target; `None` when its `libstd-rust-web-dev` of the
    /// target's architecture matches an amd64 `rustc-web`.
    pub no_debian_std: Option<&'static str>,
}

impl RustTarget {
    /// The Rust target of a row of the target table.
    pub fn of(target: &Target) -> Option<RustTarget> {
        let (triple, no_debian_std) = match target.name {
            "armv7l" => ("armv7-unknown-linux-gnueabihf", None),
            "aarch64" => ("aarch64-unknown-linux-gnu", None),
            "i686" => ("i686-unknown-linux-gnu", None),
            "x86_64" => ("x86_64-unknown-linux-gnu", None),
            "ppc64le" => ("powerpc64le-unknown-linux-gnu", None),
            "s390x" => ("s390x-unknown-linux-gnu", None),
            "riscv64" => (
                "riscv64gc-unknown-linux-gnu",
                Some(
                    "pyx provisions Debian 12's Rust (its amd64 compiler runs on this machine), \
                     and Debian 12 has no riscv64",
                ),
            ),
            "armv6l" => (
                "arm-unknown-linux-gnueabihf",
                Some("Debian's armhf Rust std is built for ARMv7, which an ARMv6 CPU cannot run"),
            ),
            "armv5tel" => (
                "armv5te-unknown-linux-gnueabi",
                Some(
                    "Debian 12 has no `libstd-rust-web-dev` for armel, only Rust 1.63's \
                     `libstd-rust-dev`, older than current PyO3 and crates accept",
                ),
            ),
            "mips64" => (
                "mips64el-unknown-linux-gnuabi64",
                Some(
                    "Debian 12's mips64el Rust std (1.70) has no amd64 compiler of the same \
                     version, and rustup ships the target's std only up to Rust 1.71",
                ),
            ),
            _ => return None,
        };
        Some(RustTarget {
            triple,
            no_debian_std,
        })
    }

    /// `CARGO_TARGET_<TRIPLE>_LINKER`'s middle part: `ARMV7_UNKNOWN_LINUX_GNUEABIHF`.
    pub fn env_upper(&self) -> String {
        self.triple.replace('-', "_").to_ascii_uppercase()
    }

    /// The `cc` crate's suffix: `armv7_unknown_linux_gnueabihf`.
    pub fn env_lower(&self) -> String {
        self.triple.replace('-', "_")
    }
}

/// Why a Rust build cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum RustError {
    #[error("no Rust toolchain with a standard library for `{target}` (`{triple}`): {why}")]
    NoStd {
        target: &'static str,
        triple: &'static str,
        why: String,
    },
    #[error("the Rust toolchain {which} has no standard library for `{triple}`")]
    UserLacksTarget {
        which: String,
        triple: &'static str,
        debian: bool,
    },
    #[error("cannot run the Rust compiler `{}`: {message}", program.display())]
    NotRunnable { program: PathBuf, message: String },
    #[error("cannot provision Debian's Rust for `{triple}`: {message}")]
    Provision {
        triple: &'static str,
        message: String,
        hint: String,
    },
    #[error("cannot write the Rust build files of the cross env: {0}")]
    Files(String),
}

impl RustError {
    pub fn hint(&self) -> String {
        match self {
            RustError::NoStd { triple, .. } => {
                // rustup's last release with std for the MIPS targets (tier 3 since 1.72).
                let install = if triple.starts_with("mips") {
                    format!(
                        "`rustup toolchain install 1.71 --target {triple}`, then run pyx with \
                         `RUSTUP_TOOLCHAIN=1.71`"
                    )
                } else {
                    format!("`rustup target add {triple}`")
                };
                format!(
                    "use a Rust toolchain that has the `{triple}` std: {install}, or set RUSTC \
                     (and CARGO) to one; Debian's Rust serves armv7l, aarch64, i686, ppc64le \
                     and s390x"
                )
            }
            RustError::UserLacksTarget { triple, debian, .. } => {
                let debian = if *debian {
                    format!(
                        ", or set {}=debian to use Debian's Rust",
                        crate::env_vars::PYX_RUST_TOOLCHAIN
                    )
                } else {
                    String::new()
                };
                format!("add the target (`rustup target add {triple}`){debian}")
            }
            RustError::NotRunnable { .. } => {
                "check RUSTC/CARGO; for pyx's own copy of Debian's Rust, remove \
                 `rust/` in pyx's cache and run again"
                    .to_string()
            }
            RustError::Provision { hint, .. } => hint.clone(),
            RustError::Files(_) => "check disk space and permissions of the cache".to_string(),
        }
    }
}

/// What the report says about a Rust build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustReport {
    /// `maturin`, `setuptools-rust` or `cargo`.
    pub build: RustBuild,
    /// Cargo's target triple.
    pub target: String,
    /// The compiler's version (`1.96.0`).
    pub rustc: String,
    /// `debian` (pyx's copy of Debian's Rust) or `user` (RUSTC/CARGO, or `rustc` on PATH).
    pub toolchain: String,
    /// Where it came from: `Debian rustc-web 1.96.0+dfsg1-1~deb12u2`, `RUSTC=/opt/rust/bin/rustc`.
    pub from: String,
}

/// A Rust build, ready: what the report says and what the hooks get.
pub struct Prepared {
    pub report: RustReport,
    pub env: RustEnv,
}

/// Set up a Rust build of `source` for the env's target, when it is one: detect it, choose (and
/// if needed provision) the toolchain, and write the build's files into the env. `Ok(None)` for
/// a build that is not Rust, or only has a `Cargo.toml` and no toolchain to serve it.
pub fn prepare(
    source: &Path,
    build_system: &BuildSystem,
    requires: &[String],
    env: &CrossEnv,
) -> Result<Option<Prepared>, RustError> {
    let Some(build) = RustBuild::detect(source, build_system, requires) else {
        return Ok(None);
    };
    let target = env.profile().target();
    let toolchain = match toolchain::for_target(target) {
        Ok(t) => t,
        Err(e) if !build.is_certain() => {
            tracing::info!("not setting up Rust for a `Cargo.toml` alone: {e}");
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let rust_target = RustTarget::of(target).expect("a toolchain is only found for a Rust target");
    let rust_env = env::for_build(&toolchain, &rust_target, env)?;
    Ok(Some(Prepared {
        report: RustReport {
            build,
            target: rust_target.triple.to_string(),
            rustc: toolchain.version.clone(),
            toolchain: toolchain.origin.kind().to_string(),
            from: toolchain.describe(),
        },
        env: rust_env,
    }))
}

/// The summary's note on Rust builds: each package with the toolchain that built it.
pub fn summary_note<'a>(rows: impl IntoIterator<Item = (String, &'a RustReport)>) -> String {
    let rows: Vec<(String, &RustReport)> = rows.into_iter().collect();
    if rows.is_empty() {
        return String::new();
    }
    rows.into_iter()
        .fold(
            crate::printer::Diagnostic::note("Rust extensions built"),
            |d, (package, r)| {
                d.field(
                    &package,
                    format!(
                        "{}, rustc {} for `{}` ({})",
                        r.build.as_str(),
                        r.rustc,
                        r.target,
                        r.from
                    ),
                )
            },
        )
        .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(backend: &str, requires: &[&str]) -> BuildSystem {
        BuildSystem {
            requires: requires.iter().map(|r| r.to_string()).collect(),
            backend: backend.to_string(),
            backend_path: Vec::new(),
        }
    }

    #[test]
    fn rust_builds_are_detected_by_backend_requirement_or_cargo_toml() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        let detect = |bs: &BuildSystem| RustBuild::detect(src, bs, &bs.requires);
        assert_eq!(
            detect(&system("maturin", &["maturin>=1,<2"])),
            Some(RustBuild::Maturin)
        );
        let sr = system(
            "setuptools.build_meta",
            &[
                "setuptools>=62",
                "setuptools_rust >= 1.7 ; python_version>'3'",
            ],
        );
        assert_eq!(detect(&sr), Some(RustBuild::SetuptoolsRust));
        let plain = system("setuptools.build_meta", &["setuptools"]);
        assert_eq!(detect(&plain), None);
        // What `get_requires_for_build_wheel` added (a setup.py's `setup_requires`) counts too.
        assert_eq!(
            RustBuild::detect(src, &plain, &["Setuptools-Rust".to_string()]),
            Some(RustBuild::SetuptoolsRust)
        );
        fs_err::create_dir_all(src.join("tests/crate")).unwrap();
        fs_err::write(src.join("tests/crate/Cargo.toml"), "").unwrap();
        assert_eq!(detect(&plain), None, "a test crate is not the build");
        fs_err::create_dir_all(src.join("src/rust")).unwrap();
        fs_err::write(src.join("src/rust/Cargo.toml"), "").unwrap();
        assert_eq!(detect(&plain), Some(RustBuild::Cargo));
        assert!(!RustBuild::Cargo.is_certain());
    }

    #[test]
    fn every_target_has_a_rust_triple_and_debian_serves_the_documented_ones() {
        let served: Vec<&str> = crate::platform::TARGETS
            .iter()
            .filter(|t| {
                RustTarget::of(t)
                    .expect("a Rust target")
                    .no_debian_std
                    .is_none()
            })
            .map(|t| t.name)
            .collect();
        assert_eq!(
            served,
            ["armv7l", "aarch64", "i686", "x86_64", "ppc64le", "s390x"]
        );
        let arm = RustTarget::of(Target::lookup("armv7l").unwrap()).unwrap();
        assert_eq!(arm.env_upper(), "ARMV7_UNKNOWN_LINUX_GNUEABIHF");
        assert_eq!(arm.env_lower(), "armv7_unknown_linux_gnueabihf");
    }

    #[test]
    fn a_target_without_std_names_what_would_work() {
        let mips = Target::lookup("mips64").unwrap();
        let rt = RustTarget::of(mips).unwrap();
        let e = RustError::NoStd {
            target: mips.name,
            triple: rt.triple,
            why: rt.no_debian_std.unwrap().to_string(),
        };
        insta::assert_snapshot!(e.to_string(), @"no Rust toolchain with a standard library for `mips64` (`mips64el-unknown-linux-gnuabi64`): Debian 12's mips64el Rust std (1.70) has no amd64 compiler of the same version, and rustup ships the target's std only up to Rust 1.71");
        insta::assert_snapshot!(e.hint(), @"use a Rust toolchain that has the `mips64el-unknown-linux-gnuabi64` std: `rustup toolchain install 1.71 --target mips64el-unknown-linux-gnuabi64`, then run pyx with `RUSTUP_TOOLCHAIN=1.71`, or set RUSTC (and CARGO) to one; Debian's Rust serves armv7l, aarch64, i686, ppc64le and s390x");
    }
}
