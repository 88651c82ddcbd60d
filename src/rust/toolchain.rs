//! Which Rust toolchain builds for a target: the user's when it has the target's std (`RUSTC` set,
//! with `CARGO` or `cargo` on PATH; or `rustc` and `cargo` on PATH, e.g. rustup's after `rustup
//! target add`), else Debian's `rustc-web` with the target's `libstd-rust-web-dev` of the same
//! version. `PYX_RUST_TOOLCHAIN=debian` or `=user` forces one side. `CARGO` alone does not make
//! a toolchain the user's: cargo sets it for every process it runs.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use super::{RustError, RustTarget, debian};
use crate::env_vars;
use crate::platform::Target;

/// Where a toolchain comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolchainOrigin {
    /// pyx's copy of Debian's Rust: `rustc-web 1.96.0+dfsg1-1~deb12u2`.
    Debian { package: String },
    /// `RUSTC` (and `CARGO`) given in the environment.
    UserEnv,
    /// `rustc` found on PATH (rustup's proxy, a distribution's compiler).
    UserPath,
}

impl ToolchainOrigin {
    /// `debian` or `user`, as the report says it.
    pub fn kind(&self) -> &'static str {
        match self {
            ToolchainOrigin::Debian { .. } => "debian",
            ToolchainOrigin::UserEnv | ToolchainOrigin::UserPath => "user",
        }
    }
}

/// A Rust compiler and cargo that can build for one target.
#[derive(Debug, Clone)]
pub struct RustToolchain {
    pub rustc: PathBuf,
    pub cargo: PathBuf,
    /// `1.96.0`.
    pub version: String,
    pub origin: ToolchainOrigin,
    /// A directory holding exactly `rustc` and `cargo` (wrappers), put first on PATH so that
    /// backends running plain `cargo` (maturin) get this toolchain.
    pub bin: Option<PathBuf>,
}

impl fmt::Display for ToolchainOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolchainOrigin::Debian { package } => write!(f, "Debian {package}"),
            ToolchainOrigin::UserEnv => write!(f, "RUSTC/CARGO"),
            ToolchainOrigin::UserPath => write!(f, "`rustc` on PATH"),
        }
    }
}

impl RustToolchain {
    /// `Debian rustc-web 1.96.0+dfsg1-1~deb12u2`, `RUSTC=/opt/rust/bin/rustc`,
    /// `/root/.cargo/bin/rustc`: what the report's `from` says.
    pub fn describe(&self) -> String {
        match &self.origin {
            ToolchainOrigin::Debian { .. } => self.origin.to_string(),
            ToolchainOrigin::UserEnv => format!("RUSTC={}", self.rustc.display()),
            ToolchainOrigin::UserPath => self.rustc.display().to_string(),
        }
    }
}

/// What the environment asks of the toolchain choice (`RUSTC=...`, `PYX_RUST_TOOLCHAIN=...`), for
/// the built-wheel cache key; `None` when nothing is asked.
pub fn requested() -> Option<String> {
    let asked: Vec<String> = ["RUSTC", env_vars::PYX_RUST_TOOLCHAIN]
        .iter()
        .filter_map(|var| {
            let value = std::env::var(var).ok().filter(|v| !v.is_empty())?;
            Some(format!("{var}={value}"))
        })
        .collect();
    (!asked.is_empty()).then(|| asked.join(" "))
}

/// The toolchain for `target`, chosen once per process and target.
pub fn for_target(target: &'static Target) -> Result<RustToolchain, RustError> {
    static CHOSEN: Mutex<Option<HashMap<&'static str, RustToolchain>>> = Mutex::new(None);
    let mut chosen = CHOSEN.lock().expect("toolchain lock");
    if let Some(t) = chosen.as_ref().and_then(|m| m.get(target.name)) {
        return Ok(t.clone());
    }
    let toolchain = choose(target)?;
    chosen
        .get_or_insert_with(HashMap::new)
        .insert(target.name, toolchain.clone());
    Ok(toolchain)
}

fn choose(target: &'static Target) -> Result<RustToolchain, RustError> {
    let Some(rust) = RustTarget::of(target) else {
        return Err(RustError::NoStd {
            target: target.name,
            triple: "?",
            why: "pyx knows no Rust target for it".to_string(),
        });
    };
    let force = std::env::var(env_vars::PYX_RUST_TOOLCHAIN).unwrap_or_default();
    let debian = rust.no_debian_std.is_none() && target.debian_arch.is_some();
    if force != "debian" {
        if let Some(user) = user_toolchain(&rust, debian)? {
            return Ok(user);
        }
        if force == "user" {
            return Err(RustError::UserLacksTarget {
                which: "on PATH (`rustc`)".to_string(),
                triple: rust.triple,
                debian,
            });
        }
    }
    if let Some(why) = rust.no_debian_std {
        return Err(RustError::NoStd {
            target: target.name,
            triple: rust.triple,
            why: why.to_string(),
        });
    }
    let arch = target.debian_arch.ok_or_else(|| RustError::NoStd {
        target: target.name,
        triple: rust.triple,
        why: "Debian has no architecture for it".to_string(),
    })?;
    let root = debian::ensure(rust.triple, arch)?;
    let rustc = root.bin().join("rustc");
    let version = rustc_version(&rustc)?;
    Ok(RustToolchain {
        cargo: root.bin().join("cargo"),
        rustc,
        version,
        origin: ToolchainOrigin::Debian {
            package: root.info.label(),
        },
        bin: Some(root.bin()),
    })
}

/// The user's toolchain when it has the target's std: `RUSTC` (and `CARGO`) when set (an error if
/// it lacks the target), else `rustc` and `cargo` on PATH (`None` if they lack it).
fn user_toolchain(rust: &RustTarget, debian: bool) -> Result<Option<RustToolchain>, RustError> {
    let given = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty());
    let rustc = given("RUSTC");
    let from_env = rustc.is_some();
    let cargo = if from_env { given("CARGO") } else { None };
    let find = |given: Option<std::ffi::OsString>, name: &str| {
        given
            .map(PathBuf::from)
            .and_then(|p| which::which(&p).ok().or(Some(p)))
            .or_else(|| which::which(name).ok())
    };
    let (Some(rustc), Some(cargo)) = (find(rustc, "rustc"), find(cargo, "cargo")) else {
        return Ok(None);
    };
    let has_std = target_libdir(&rustc, rust.triple).is_some_and(|d| has_core(&d));
    if !has_std {
        if from_env {
            return Err(RustError::UserLacksTarget {
                which: format!("`RUSTC={}`", rustc.display()),
                triple: rust.triple,
                debian,
            });
        }
        tracing::debug!(
            "`{}` has no std for {}; not using it",
            rustc.display(),
            rust.triple
        );
        return Ok(None);
    }
    let version = rustc_version(&rustc)?;
    let origin = if from_env {
        ToolchainOrigin::UserEnv
    } else {
        ToolchainOrigin::UserPath
    };
    // Backends that run plain `cargo` (maturin) must get the given one too.
    let bin = from_env
        .then(|| super::env::user_wrappers(&rustc, &cargo))
        .transpose()?;
    Ok(Some(RustToolchain {
        rustc,
        cargo,
        version,
        origin,
        bin,
    }))
}

/// `rustc --print target-libdir --target TRIPLE`: where the target's std would be.
fn target_libdir(rustc: &Path, triple: &str) -> Option<PathBuf> {
    let out = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", triple])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// True when `dir` holds a `libcore-*.rlib`: the std of a target is installed there.
pub(super) fn has_core(dir: &Path) -> bool {
    fs_err::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("libcore-") && name.ends_with(".rlib")
        })
    })
}

/// The `release:` line of `rustc -vV` (`1.96.0`).
pub(super) fn rustc_version(rustc: &Path) -> Result<String, RustError> {
    let not_runnable = |message: String| RustError::NotRunnable {
        program: rustc.to_path_buf(),
        message,
    };
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| not_runnable(e.to_string()))?;
    if !out.status.success() {
        return Err(not_runnable(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    parse_release(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| not_runnable("`rustc -vV` printed no `release:` line".to_string()))
}

fn parse_release(verbose_version: &str) -> Option<String> {
    verbose_version
        .lines()
        .find_map(|l| l.strip_prefix("release: "))
        .map(|v| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_release_line_gives_the_version() {
        let text = "rustc 1.96.0 (ac68faa20 2026-05-25) (built from a source tarball)\n\
                    binary: rustc\ncommit-hash: ac68faa20\nhost: x86_64-unknown-linux-gnu\n\
                    release: 1.96.0\nLLVM version: 22.1.8\n";
        assert_eq!(parse_release(text).as_deref(), Some("1.96.0"));
        assert_eq!(parse_release("rustc 1.96.0"), None);
    }

    #[test]
    fn a_std_is_a_libcore_rlib() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_core(dir.path()));
        fs_err::write(dir.path().join("libcore-0123abcd.rlib"), "").unwrap();
        assert!(has_core(dir.path()));
    }
}
