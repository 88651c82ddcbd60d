//! The build machine's Python: found once for the target's Python version ([`find`]),
//! described by a probe script from `shims/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

pub mod find;
pub mod version;

pub use find::Origin;
pub use version::PythonVersion;

/// The build machine's interpreter as its probe describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildPython {
    pub executable: PathBuf,
    /// `major.minor.micro`.
    pub version: String,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    /// The build Python's own header directory: a compile that names it is using host headers.
    pub include: PathBuf,
    pub platinclude: PathBuf,
    pub stdlib: PathBuf,
    pub ext_suffix: String,
    pub multiarch: Option<String>,
    /// Where pyx found it (not part of the probe's reply).
    #[serde(default)]
    pub origin: Origin,
}

impl BuildPython {
    /// The build Python for a target Python `want` (see [`find::find`]): `$PYX_BUILD_PYTHON`,
    /// else `pythonX.Y` on PATH, pyenv's or uv's, else one provisioned from Debian; without
    /// `want`, `$PYX_BUILD_PYTHON` or `python3` on PATH.
    pub fn find(want: Option<PythonVersion>) -> Result<BuildPython> {
        find::find(want)
    }

    /// Describe the interpreter `exe` with the probe script.
    pub fn probe(exe: &Path, origin: Origin) -> Result<BuildPython> {
        // With `site`: some Pythons (Debian's) set a venv's `sys.prefix` there.
        let out = run_script_raw(
            exe,
            &["-I", "-B"],
            include_str!("../../shims/probe_build_python.py"),
            &[],
        )?;
        let mut me: BuildPython = serde_json::from_str(out.trim())
            .with_context(|| format!("unexpected reply from the build Python probe: {out}"))?;
        me.origin = origin;
        Ok(me)
    }

    /// `3.11` as a [`PythonVersion`].
    pub fn python_version(&self) -> Option<PythonVersion> {
        PythonVersion::of(&self.version)
    }

    /// `"3.11"`.
    pub fn major_minor(&self) -> &str {
        major_minor(&self.version)
    }

    /// Run an embedded script that needs only the standard library with this interpreter, in
    /// isolated mode and without `site` (its `.pth` files cost more than the script); returns its
    /// stdout.
    pub fn run_script(&self, script: &str, args: &[&str]) -> Result<String> {
        run_script_raw(&self.executable, &["-I", "-B", "-S"], script, args)
    }
}

/// Modification times (ns) of the `_sysconfigdata_*.py` files in a target's stdlib directory.
pub fn sysconfigdata_mtimes(stdlib: &Path) -> Vec<(String, u128)> {
    let Ok(entries) = fs_err::read_dir(stdlib) else {
        return Vec::new();
    };
    let mut out: Vec<(String, u128)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("_sysconfigdata_")
        })
        .filter_map(|e| {
            let modified = e.metadata().ok()?.modified().ok()?;
            let ns = modified
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_nanos();
            Some((e.file_name().to_string_lossy().into_owned(), ns))
        })
        .collect();
    out.sort();
    out
}

/// `"3.11.7"` → `"3.11"`.
pub fn major_minor(version: &str) -> &str {
    match version.match_indices('.').nth(1) {
        Some((i, _)) => &version[..i],
        None => version,
    }
}

fn run_script_raw(python: &Path, flags: &[&str], script: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(python)
        .args(flags)
        .args(["-c", script])
        .args(args)
        .output()
        .with_context(|| format!("failed to start `{}`", python.display()))?;
    if !out.status.success() {
        bail!(
            "`{}` exited with {}: {}",
            python.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).context("the Python script printed invalid UTF-8")
}

#[cfg(test)]
mod tests {
    #[test]
    fn major_minor() {
        assert_eq!(super::major_minor("3.11.7"), "3.11");
        assert_eq!(super::major_minor("3.11"), "3.11");
    }
}
