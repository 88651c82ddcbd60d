//! Which build Python serves a target Python `X.Y`, in this order: `$PYX_BUILD_PYTHON`,
//! `pythonX.Y` on PATH, pyenv's and uv's installs, else one provisioned from the Debian release
//! that ships `X.Y` (`PYX_BUILD_PYTHON=debian` asks for that one directly).

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::{BuildPython, PythonVersion};
use crate::env_vars;
use crate::printer::with_hint;
use crate::sysroot::build_python::DebianPython;
use crate::sysroot::release::{self, DebianRelease};

/// The `PYX_BUILD_PYTHON` value that asks for the build Python pyx provisions from Debian.
pub const PROVISIONED: &str = "debian";

/// Where a build Python was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// `$PYX_BUILD_PYTHON`.
    #[default]
    Given,
    Path,
    Pyenv,
    Uv,
    /// Provisioned by pyx from a Debian release's packages.
    Debian,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Given => env_vars::PYX_BUILD_PYTHON,
            Origin::Path => "PATH",
            Origin::Pyenv => "pyenv",
            Origin::Uv => "uv",
            Origin::Debian => "provisioned from Debian",
        })
    }
}

/// The build Python for a target Python `want`; `None` when nothing fixes the target's version
/// yet (then the build Python's version picks the Debian release).
pub fn find(want: Option<PythonVersion>) -> Result<BuildPython> {
    let given = std::env::var_os(env_vars::PYX_BUILD_PYTHON).filter(|p| !p.is_empty());
    match (given, want) {
        (Some(v), _) if v == PROVISIONED => {
            let release = match want {
                Some(v) => DebianRelease::for_python(v).map_err(|e| {
                    let hint = e.hint();
                    with_hint(e, hint)
                })?,
                None => release::DEFAULT,
            };
            provisioned(release)
        }
        (Some(exe), _) => BuildPython::probe(Path::new(&exe), Origin::Given).map_err(|e| {
            with_hint(
                e.context(format!(
                    "cannot run the build Python `{}` (from {})",
                    exe.to_string_lossy(),
                    env_vars::PYX_BUILD_PYTHON
                )),
                format!(
                    "point {} at a working Python, or unset it to let pyx find one",
                    env_vars::PYX_BUILD_PYTHON
                ),
            )
        }),
        (None, None) => BuildPython::probe(Path::new("python3"), Origin::Path).map_err(|e| {
            with_hint(
                e.context("cannot run the build Python `python3`"),
                format!(
                    "install python3, point {} at a Python, or name the target's Python with \
                     --python X.Y",
                    env_vars::PYX_BUILD_PYTHON
                ),
            )
        }),
        (None, Some(want)) => match installed(want) {
            Some(found) => Ok(found),
            None => {
                let release = DebianRelease::for_python(want).map_err(|e| {
                    let hint = format!(
                        "no Python {want} is installed here either (looked on PATH and in pyenv's \
                         and uv's installs); {}",
                        e.hint()
                    );
                    with_hint(e, hint)
                })?;
                provisioned(release)
            }
        },
    }
}

/// The build Python [`find`] would use for `want`, without provisioning one (for `pyx
/// targets`): `$PYX_BUILD_PYTHON`, an installed one, or the one pyx provisioned earlier.
pub fn locate(want: PythonVersion) -> Option<BuildPython> {
    let cached = || {
        let release = DebianRelease::for_python(want).ok()?;
        let exe = DebianPython { release }.cached()?;
        BuildPython::probe(&exe, Origin::Debian).ok()
    };
    match std::env::var_os(env_vars::PYX_BUILD_PYTHON).filter(|p| !p.is_empty()) {
        Some(v) if v == PROVISIONED => cached(),
        Some(exe) => BuildPython::probe(Path::new(&exe), Origin::Given).ok(),
        None => installed(want).or_else(cached),
    }
}

/// The first installed interpreter of `want` that runs: on PATH, then pyenv's, then uv's.
fn installed(want: PythonVersion) -> Option<BuildPython> {
    let name = format!("python{want}");
    let on_path = which::which_all(&name)
        .map(|found| found.collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .map(|p| (p, Origin::Path))
        .chain(pyenv_installs(want).into_iter().map(|p| (p, Origin::Pyenv)))
        .chain(uv_installs(want).into_iter().map(|p| (p, Origin::Uv)))
        .find_map(|(exe, origin)| {
            // A pyenv shim for a version that is not selected fails here: try the next.
            match BuildPython::probe(&exe, origin) {
                Ok(py) if py.python_version() == Some(want) => Some(py),
                Ok(py) => {
                    tracing::debug!("`{}` is Python {}, not {want}", exe.display(), py.version);
                    None
                }
                Err(e) => {
                    tracing::debug!("`{}` does not run: {e:#}", exe.display());
                    None
                }
            }
        })
}

/// `$PYENV_ROOT/versions/X.Y.Z/bin/pythonX.Y` (default root `~/.pyenv`), newest first; no
/// free-threaded or development builds.
fn pyenv_installs(want: PythonVersion) -> Vec<PathBuf> {
    let root = std::env::var_os(env_vars::PYENV_ROOT)
        .filter(|r| !r.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".pyenv")));
    let Some(versions) = root.map(|r| r.join("versions")) else {
        return Vec::new();
    };
    installs(&versions, want, |name| name.to_string())
}

/// `$UV_PYTHON_INSTALL_DIR/cpython-X.Y.Z-linux-<arch>-gnu/bin/pythonX.Y` (default
/// `$XDG_DATA_HOME/uv/python`, then `~/.local/share/uv/python`), newest first.
fn uv_installs(want: PythonVersion) -> Vec<PathBuf> {
    let dir = std::env::var_os(env_vars::UV_PYTHON_INSTALL_DIR)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os(env_vars::XDG_DATA_HOME)
                .filter(|d| !d.is_empty())
                .map(|d| PathBuf::from(d).join("uv/python"))
        })
        .or_else(|| home().map(|h| h.join(".local/share/uv/python")));
    let Some(dir) = dir else {
        return Vec::new();
    };
    let suffix = format!("-linux-{}-gnu", std::env::consts::ARCH);
    installs(&dir, want, |name| {
        name.strip_prefix("cpython-")
            .and_then(|n| n.strip_suffix(&suffix))
            .unwrap_or_default()
            .to_string()
    })
}

/// The `bin/pythonX.Y` of each directory in `dir` whose name gives (through `version_of`) a plain
/// `X.Y.Z`, newest `Z` first.
fn installs(dir: &Path, want: PythonVersion, version_of: impl Fn(&str) -> String) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = version_of(&e.file_name().to_string_lossy());
            let patch = version
                .strip_prefix(&format!("{want}."))
                .and_then(|p| p.parse::<u32>().ok())?;
            let exe = e.path().join("bin").join(format!("python{want}"));
            exe.is_file().then_some((patch, exe))
        })
        .collect();
    found.sort_by_key(|(patch, _)| std::cmp::Reverse(*patch));
    found.into_iter().map(|(_, exe)| exe).collect()
}

fn home() -> Option<PathBuf> {
    std::env::var_os(env_vars::HOME)
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The build Python of `release`, provisioned into pyx's cache when not there yet.
fn provisioned(release: &'static DebianRelease) -> Result<BuildPython> {
    let exe = DebianPython { release }.ensure()?;
    BuildPython::probe(&exe, Origin::Debian).map_err(|e| {
        with_hint(
            e.context(format!(
                "the build Python pyx provisioned from {release} does not run"
            )),
            format!(
                "remove `{}` to provision it again, or point {} at a Python {}",
                exe.parent()
                    .and_then(|p| p.parent())
                    .and_then(|p| p.parent())
                    .unwrap_or(&exe)
                    .display(),
                env_vars::PYX_BUILD_PYTHON,
                release.python
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_are_found_newest_first_without_other_builds() {
        let dir = tempfile::tempdir().unwrap();
        for (name, file) in [
            ("3.13.0", "python3.13"),
            ("3.13.9", "python3.13"),
            ("3.13.2t", "python3.13"),
            ("3.13-dev", "python3.13"),
            ("3.12.1", "python3.12"),
            ("3.13.4", "python3"),
        ] {
            let bin = dir.path().join(name).join("bin");
            fs_err::create_dir_all(&bin).unwrap();
            fs_err::write(bin.join(file), "").unwrap();
        }
        let want = PythonVersion::new(3, 13);
        let found = installs(dir.path(), want, |n| n.to_string());
        assert_eq!(
            found,
            [
                dir.path().join("3.13.9/bin/python3.13"),
                dir.path().join("3.13.0/bin/python3.13")
            ]
        );
    }
}
