//! The target profile (stage 2, docs/architecture.md): everything known about one concrete target, computed once
//! from the target table, the sysroot, the target's sysconfig data and the probed toolchain.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::platform::toolchain::Toolchain;
use crate::platform::{GlibcVersion, Target};
use crate::printer::with_hint;
use crate::python::{BuildPython, Origin, PythonVersion, major_minor};
use crate::sysroot::DebianSysroot;
use crate::sysroot::release::{self, DebianRelease};

/// What the user said about the target (`--target`, `--sysroot`, `--target-python`, `--cc`,
/// `--cxx`), as the command layer hands it to [`TargetProfile::resolve`].
#[derive(Debug, Clone, Default)]
pub struct TargetRequest {
    pub target: Option<&'static Target>,
    /// A target root (Buildroot/Yocto SDK sysroot, unpacked image) instead of a Debian sysroot.
    pub sysroot: Option<PathBuf>,
    /// The target's Python inside an unpacked root (its sysconfig is read, never run).
    pub target_python: Option<PathBuf>,
    /// C and C++ compiler commands with arguments (default: `<triplet>-gcc`/`-g++` on PATH).
    pub cc: Option<String>,
    pub cxx: Option<String>,
    /// Debian packages to add to pyx's sysroot before the profile is made (`--with`).
    pub with: Vec<String>,
    /// The target's Python (`--python`): picks the Debian release and the build Python.
    pub python: Option<PythonVersion>,
    /// The Debian release of pyx's sysroot (`--debian`).
    pub release: Option<&'static DebianRelease>,
}

impl TargetRequest {
    /// True when the user gives the target root (`--sysroot`, `--target-python`).
    pub fn own_root(&self) -> bool {
        self.sysroot.is_some() || self.target_python.is_some()
    }

    /// The build Python for this request: of the version `--python`/`--debian` name, or the one
    /// Python of a given root; else `$PYX_BUILD_PYTHON` or `python3` when a Debian release ships
    /// its version, else one of the default release's version (found or provisioned).
    pub fn build_python(&self) -> Result<BuildPython> {
        if let Some(want) = self.python_version()? {
            // A target the release lacks (mips64 on trixie) is said before a build Python is
            // provisioned for nothing.
            if let (Some(target), false) = (self.target, self.own_root()) {
                self.sysroot_release()?.arch_of(target).map_err(|e| {
                    let hint = e.hint();
                    with_hint(e, hint)
                })?;
            }
            return BuildPython::find(Some(want));
        }
        if self.own_root() {
            return BuildPython::find(None);
        }
        match BuildPython::find(None) {
            Ok(build) if release_of(&build).is_some() => Ok(build),
            Ok(build) => {
                tracing::info!(
                    "no Debian release ships the build Python `{}` ({}): using {}",
                    build.executable.display(),
                    build.version,
                    release::DEFAULT
                );
                BuildPython::find(Some(release::DEFAULT.python))
            }
            Err(e) if std::env::var_os(crate::env_vars::PYX_BUILD_PYTHON).is_some() => Err(e),
            Err(_) => BuildPython::find(Some(release::DEFAULT.python)),
        }
    }

    /// The target Python's version when the request fixes it: `--python`, `--debian`'s Python,
    /// or the only Python in a given root.
    pub fn python_version(&self) -> Result<Option<PythonVersion>> {
        match (self.python, self.release) {
            (Some(python), Some(release)) if release.python != python => {
                return Err(with_hint(
                    anyhow::anyhow!(
                        "`--python {python}` and `--debian {}` disagree: {release} ships Python {}",
                        release.codename,
                        release.python
                    ),
                    "give one of them",
                ));
            }
            (_, Some(release)) if self.own_root() => {
                return Err(with_hint(
                    anyhow::anyhow!(
                        "`--debian {}` picks pyx's Debian sysroot, but the target root is given \
                         with --sysroot/--target-python",
                        release.codename
                    ),
                    "drop --debian, or name the root's Python with --python X.Y",
                ));
            }
            (Some(python), _) => return Ok(Some(python)),
            (None, Some(release)) => return Ok(Some(release.python)),
            (None, None) => {}
        }
        let root = match (&self.sysroot, &self.target_python) {
            (Some(root), _) => root.clone(),
            (None, Some(python)) => {
                let name = python.file_name().unwrap_or_default().to_string_lossy();
                if let Some(v) = name.strip_prefix("python").and_then(PythonVersion::of) {
                    return Ok(Some(v));
                }
                match root_of_python(&absolute(python)?) {
                    Ok(root) => root,
                    Err(_) => return Ok(None),
                }
            }
            (None, None) => return Ok(None),
        };
        Ok(only_python_in(&root))
    }

    /// The Debian release of pyx's sysroot for this request, before any build Python is found
    /// (`pyx sysroot`).
    pub fn sysroot_release(&self) -> Result<&'static DebianRelease> {
        match self.python_version()? {
            Some(python) => self.release.map_or_else(
                || {
                    DebianRelease::for_python(python).map_err(|e| {
                        let hint = e.hint();
                        with_hint(e, hint)
                    })
                },
                Ok,
            ),
            None => Ok(default_release()),
        }
    }

    /// The Debian release of pyx's sysroot for this request and build Python.
    pub fn debian_release(&self, build: &BuildPython) -> Result<&'static DebianRelease> {
        if let Some(release) = self.release {
            return Ok(release);
        }
        let python = self
            .python
            .or_else(|| build.python_version())
            .unwrap_or(release::DEFAULT.python);
        DebianRelease::for_python(python).map_err(|e| {
            let hint = e.hint();
            with_hint(e, hint)
        })
    }
}

/// The Debian release of a request that names none: the one that ships the version of
/// `$PYX_BUILD_PYTHON` or `python3`, else [`release::DEFAULT`].
pub fn default_release() -> &'static DebianRelease {
    let exe = match std::env::var_os(crate::env_vars::PYX_BUILD_PYTHON).filter(|p| !p.is_empty()) {
        Some(v) if v == crate::python::find::PROVISIONED => return release::DEFAULT,
        Some(exe) => PathBuf::from(exe),
        None => PathBuf::from("python3"),
    };
    BuildPython::probe(&exe, Origin::Given)
        .ok()
        .as_ref()
        .and_then(release_of)
        .unwrap_or(release::DEFAULT)
}

/// The Debian release that ships `build`'s Python version, if any.
fn release_of(build: &BuildPython) -> Option<&'static DebianRelease> {
    DebianRelease::for_python(build.python_version()?).ok()
}

/// The Python version of a root with exactly one `usr/lib/python3.X` holding sysconfig data.
fn only_python_in(root: &Path) -> Option<PythonVersion> {
    let mut found: Vec<PythonVersion> = ["usr/lib", "lib", "usr/local/lib"]
        .iter()
        .filter_map(|d| fs_err::read_dir(root.join(d)).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| has_sysconfigdata(&e.path()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            PythonVersion::of(name.strip_prefix("python")?)
        })
        .collect();
    found.sort();
    found.dedup();
    (found.len() == 1).then(|| found[0])
}

/// Everything known about the target a build is for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetProfile {
    /// The `--target` name (a row of the target table).
    pub target: String,
    /// The target root: headers, libraries and the target's Python live under it.
    pub sysroot: PathBuf,
    pub python: TargetPython,
    pub toolchain: Toolchain,
    /// The sysroot's glibc (`2.36`); `None` for another libc. Read once, here.
    #[serde(default)]
    pub glibc: Option<GlibcVersion>,
}

impl TargetProfile {
    /// The row of the target table this profile is for.
    pub fn target(&self) -> &'static Target {
        Target::lookup(&self.target).expect("a profile is only made for a known target")
    }

    /// Make the profile from the command line: the target root (given, derived from
    /// `--target-python`, or pyx's Debian sysroot, provisioned on first use), the target's
    /// Python read from its sysconfig data, and the toolchain proven by a probe compile.
    pub fn resolve(req: &TargetRequest, build: &BuildPython) -> Result<TargetProfile> {
        let (target, sysroot) = locate_root(req, build)?;
        let cache = cache_path(req, build, target, &sysroot);
        if let Some(profile) = read_cached(&cache) {
            return Ok(profile);
        }
        let profile = Self::read(req, build, target, sysroot)?;
        let written = fs_err::create_dir_all(cache.parent().expect("cache file has a parent"))
            .and_then(|()| fs_err::write(&cache, serde_json::to_vec(&profile).unwrap_or_default()));
        if let Err(e) = written {
            tracing::debug!("cannot cache the target profile: {e}");
        }
        Ok(profile)
    }

    fn read(
        req: &TargetRequest,
        build: &BuildPython,
        target: &'static Target,
        sysroot: PathBuf,
    ) -> Result<TargetProfile> {
        // The compiler probes run while the build Python reads the target's sysconfig data.
        let (python, toolchain) = std::thread::scope(|scope| {
            let toolchain = scope.spawn(|| {
                crate::platform::toolchain::resolve(
                    target,
                    req.cc.as_deref(),
                    req.cxx.as_deref(),
                    &sysroot,
                )
            });
            let python = TargetPython::read(&sysroot, req.target_python.as_deref(), build);
            (python, toolchain.join())
        });
        let python = python?;
        if major_minor(&python.version) != build.major_minor() {
            return Err(with_hint(
                ProfileError::VersionMismatch {
                    target: python.version.clone(),
                    build: build.version.clone(),
                    build_exe: build.executable.clone(),
                },
                if build.origin == Origin::Given {
                    format!(
                        "{} names a Python {}: point it at a Python {} or unset it to let pyx \
                         find or provision one",
                        crate::env_vars::PYX_BUILD_PYTHON,
                        build.major_minor(),
                        major_minor(&python.version)
                    )
                } else {
                    format!(
                        "name the target's Python with `--python {}` (pyx then finds or \
                         provisions a build Python of that version), or set {}",
                        major_minor(&python.version),
                        crate::env_vars::PYX_BUILD_PYTHON
                    )
                },
            ));
        }
        if python.multiarch != target.multiarch {
            tracing::warn!(
                "the target Python's MULTIARCH is `{}`, the table says `{}` for {target}; \
                 extension modules get the target Python's suffix `{}`",
                python.multiarch,
                target.multiarch,
                python.ext_suffix
            );
        }
        let toolchain = toolchain.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok(TargetProfile {
            target: target.name.to_string(),
            glibc: GlibcVersion::of_sysroot(&sysroot, &python.multiarch),
            sysroot,
            python,
            toolchain,
        })
    }
}

/// Bumped when [`TargetProfile`] learns something new, so profiles cached before are made again.
const PROFILE_FORMAT: u32 = 2;

/// Where the profile for these inputs is cached: a hash of everything it is read from (the
/// arguments, the build Python, the pyx version, and the paths and modification times of the
/// sysroot's Python files, the compilers and QEMU), so any change makes a new one.
fn cache_path(
    req: &TargetRequest,
    build: &BuildPython,
    target: &'static Target,
    sysroot: &Path,
) -> PathBuf {
    let mtime = |p: &Path| -> Option<u128> {
        let m = fs_err::metadata(p).ok()?.modified().ok()?;
        Some(m.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos())
    };
    let stdlib = sysroot
        .join("usr/lib")
        .join(format!("python{}", build.major_minor()));
    let tool = |cmd: Option<&str>, default: String| {
        let program = cmd
            .and_then(|c| c.split_whitespace().next().map(str::to_string))
            .unwrap_or(default);
        let path = which::which(&program).ok();
        (
            cmd.map(str::to_string),
            path.as_deref().and_then(mtime),
            path,
        )
    };
    let key = serde_json::json!([
        env!("CARGO_PKG_VERSION"),
        PROFILE_FORMAT,
        target.name,
        sysroot,
        req.target_python,
        build.executable,
        build.version,
        mtime(&stdlib),
        crate::python::sysconfigdata_mtimes(&stdlib),
        mtime(&sysroot.join(crate::sysroot::MARKER)),
        mtime(&sysroot.join("usr/include/features.h")),
        tool(req.cc.as_deref(), format!("{}-gcc", target.triplet)),
        tool(req.cxx.as_deref(), format!("{}-g++", target.triplet)),
        target.qemu.and_then(|q| which::which(q).ok()),
    ]);
    let hash = crate::digest::short_hash(key.to_string().as_bytes(), 12);
    crate::cache::cache_dir()
        .join("profiles")
        .join(format!("{}-{hash}.json", target.name))
}

fn read_cached(path: &Path) -> Option<TargetProfile> {
    serde_json::from_slice(&fs_err::read(path).ok()?).ok()
}

/// The target and its root directory, from `--target`, `--sysroot` and `--target-python`.
fn locate_root(req: &TargetRequest, build: &BuildPython) -> Result<(&'static Target, PathBuf)> {
    let given_root = match (&req.sysroot, &req.target_python) {
        (Some(root), _) => Some(absolute(root)?),
        (None, Some(python)) => Some(root_of_python(&absolute(python)?)?),
        (None, None) => None,
    };
    if let Some(root) = &given_root
        && !root.is_dir()
    {
        return Err(with_hint(
            anyhow::anyhow!("the target root `{}` does not exist", root.display()),
            "give the directory that holds the target's usr/ (a Buildroot/Yocto SDK sysroot or an unpacked image)",
        ));
    }
    let target = match (req.target, &given_root) {
        (Some(t), _) => t,
        (None, Some(root)) => {
            let python = TargetPython::read(root, req.target_python.as_deref(), build)?;
            infer_target(&python).ok_or_else(|| {
                with_hint(
                    anyhow::anyhow!(
                        "cannot tell the target from the root's MULTIARCH `{}`",
                        python.multiarch
                    ),
                    "name it with --target (`pyx targets` lists them)",
                )
            })?
        }
        (None, None) => {
            return Err(with_hint(
                ProfileError::NoTarget,
                "name one with --target armv7l (or aarch64, i686, ...; `pyx targets` lists them)",
            ));
        }
    };
    let root = match given_root {
        Some(root) if !req.with.is_empty() => {
            return Err(with_hint(
                anyhow::anyhow!(
                    "`--with {}` adds packages to pyx's Debian sysroot, but the target root is \
                     `{}`",
                    req.with.join(","),
                    root.display()
                ),
                "install the packages into that root (your SDK's or image's package manager), \
                 or drop --sysroot/--target-python to use pyx's Debian sysroot",
            ));
        }
        Some(root) => root,
        None => DebianSysroot {
            target,
            release: req.debian_release(build)?,
            with: &req.with,
        }
        .ensure(false)?,
    };
    Ok((target, root))
}

/// The table row whose multiarch matches the target Python's (the first, e.g. armv7l for armhf).
fn infer_target(python: &TargetPython) -> Option<&'static Target> {
    crate::platform::TARGETS
        .iter()
        .find(|t| t.multiarch == python.multiarch)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    Ok(std::path::absolute(path)?)
}

/// `<root>/usr/bin/python3.11` or `<root>/bin/python3` → `<root>`.
fn root_of_python(python: &Path) -> Result<PathBuf> {
    let bin = python.parent().filter(|p| p.ends_with("bin"));
    let root = bin.and_then(|bin| {
        let up = bin.parent()?;
        Some(if up.ends_with("usr") {
            up.parent()?.to_path_buf()
        } else {
            up.to_path_buf()
        })
    });
    root.ok_or_else(|| {
        with_hint(
            ProfileError::PythonOutsideRoot {
                path: python.to_path_buf(),
            },
            "give the target root itself with --sysroot DIR",
        )
    })
}

/// The target's Python as its own sysconfig data describes it (read, never run).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetPython {
    /// The interpreter inside the sysroot (run only under QEMU).
    pub executable: PathBuf,
    /// `major.minor.micro` of the target's Python.
    pub version: String,
    pub abiflags: String,
    /// `SOABI`, e.g. `cpython-311-arm-linux-gnueabihf`.
    pub soabi: String,
    /// `EXT_SUFFIX`, e.g. `.cpython-311-arm-linux-gnueabihf.so`.
    pub ext_suffix: String,
    /// `MULTIARCH`, e.g. `arm-linux-gnueabihf`.
    pub multiarch: String,
    /// Module name of the sysconfig data, e.g. `_sysconfigdata__linux_arm-linux-gnueabihf`.
    pub sysconfigdata_name: String,
    /// Path of that module inside the sysroot.
    pub sysconfigdata_path: PathBuf,
    /// The target's `Python.h` directory, inside the sysroot.
    pub include_dir: PathBuf,
    /// The target's standard library directory, inside the sysroot.
    pub stdlib_dir: PathBuf,
    /// The target's `LIBDIR` (where libpython lives), inside the sysroot.
    pub libdir: PathBuf,
    /// The prefix the target's sysconfig data was built for (`/usr` on Debian); paths under it are
    /// relocated into the sysroot.
    pub prefix: String,
    /// `build_time_vars` verbatim, as the target's sysconfig data declares them.
    pub config_vars: serde_json::Map<String, serde_json::Value>,
}

impl TargetPython {
    /// Read the target's Python from its root: `build-details.json` (PEP 739) when present, and
    /// the `_sysconfigdata_*.py` of the build Python's major.minor, parsed without running it.
    pub fn read(
        root: &Path,
        executable: Option<&Path>,
        build: &BuildPython,
    ) -> Result<TargetPython> {
        let want = build.major_minor();
        let stdlib = ["usr/lib", "lib", "usr/local/lib"]
            .iter()
            .map(|d| root.join(d).join(format!("python{want}")))
            .find(|d| d.is_dir())
            .or_else(|| find_any_stdlib(root))
            .ok_or_else(|| {
                with_hint(
                    ProfileError::NoPython {
                        root: root.to_path_buf(),
                    },
                    "for a Debian target let pyx provision the root (omit --sysroot), or add the \
                     target's python3 and libpython3-dev to your image",
                )
            })?;
        let data_path = pick_sysconfigdata(&stdlib, root, want)?;
        let vars = read_sysconfigdata(&data_path, build)?;
        let var = |k: &str| {
            vars.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let prefix = match var("prefix") {
            p if p.is_empty() => "/usr".to_string(),
            p => p,
        };
        let relocate = |p: String| -> PathBuf {
            let p = if p.is_empty() { prefix.clone() } else { p };
            root.join(p.trim_start_matches('/'))
        };
        let mut python = TargetPython {
            executable: PathBuf::new(),
            version: read_patchlevel(&relocate(var("INCLUDEPY"))).unwrap_or_else(|| var("VERSION")),
            abiflags: var("ABIFLAGS"),
            soabi: var("SOABI"),
            ext_suffix: var("EXT_SUFFIX"),
            multiarch: var("MULTIARCH"),
            sysconfigdata_name: data_path
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            sysconfigdata_path: data_path.clone(),
            include_dir: relocate(var("INCLUDEPY")),
            stdlib_dir: stdlib.clone(),
            libdir: relocate(var("LIBDIR")),
            prefix,
            config_vars: vars,
        };
        apply_build_details(&mut python, &stdlib);
        python.executable = match executable {
            Some(exe) => exe.to_path_buf(),
            None => {
                let version = major_minor(&python.version).to_string();
                ["usr/bin", "bin", "usr/local/bin"]
                    .iter()
                    .flat_map(|d| [format!("{d}/python{version}"), format!("{d}/python3")])
                    .map(|p| root.join(p))
                    .find(|p| p.symlink_metadata().is_ok())
                    .unwrap_or_else(|| root.join("usr/bin").join(format!("python{version}")))
            }
        };
        Ok(python)
    }
}

fn find_any_stdlib(root: &Path) -> Option<PathBuf> {
    let dir = root.join("usr/lib");
    let mut found: Vec<PathBuf> = fs_err::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python3."))
                && has_sysconfigdata(p)
        })
        .collect();
    found.sort();
    found.pop()
}

fn sysconfigdata_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with("_sysconfigdata_") && n.ends_with(".py")
            })
        })
        .collect();
    files.sort();
    files
}

fn has_sysconfigdata(dir: &Path) -> bool {
    !sysconfigdata_files(dir).is_empty()
}

/// The sysconfig data module CPython itself would load: `_sysconfigdata_{ABIFLAGS}_{MACHDEP}_{MULTIARCH}`.
/// Debian ships a second, older name beside it; debug builds (`_d_`) are skipped.
fn pick_sysconfigdata(stdlib: &Path, root: &Path, version: &str) -> Result<PathBuf> {
    let files = sysconfigdata_files(stdlib);
    let release: Vec<&PathBuf> = files
        .iter()
        .filter(|p| {
            !p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .starts_with("_sysconfigdata_d")
        })
        .collect();
    let best = release
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .contains("_linux_")
        })
        .or(release.first())
        .copied()
        .or(files.first());
    match best {
        Some(p) => Ok(p.clone()),
        None => Err(with_hint(
            ProfileError::NoSysconfigdata {
                root: root.to_path_buf(),
                version: version.to_string(),
                found: "nothing".to_string(),
            },
            "the target root needs the Python standard library (Debian: libpython3.X-stdlib)",
        )),
    }
}

fn read_sysconfigdata(
    path: &Path,
    build: &BuildPython,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let path_str = path.to_string_lossy();
    let out = build
        .run_script(
            include_str!("../../shims/read_sysconfigdata.py"),
            &[&path_str],
        )
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let reply: serde_json::Value = serde_json::from_str(out.trim())?;
    match reply.get("kind").and_then(|k| k.as_str()) {
        Some("sysconfigdata") => Ok(reply["build_time_vars"]
            .as_object()
            .cloned()
            .unwrap_or_default()),
        _ => Err(ProfileError::BadSysconfigdata {
            path: path.to_path_buf(),
            message: reply
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or("unexpected reply")
                .to_string(),
        }
        .into()),
    }
}

/// `#define PY_VERSION "3.11.2"` from the target's headers.
fn read_patchlevel(include: &Path) -> Option<String> {
    let text = fs_err::read_to_string(include.join("patchlevel.h")).ok()?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("#define PY_VERSION"))
        .map(|v| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// PEP 739 `build-details.json` (Python 3.14+), when the target ships one, is authoritative.
fn apply_build_details(python: &mut TargetPython, stdlib: &Path) {
    let Ok(text) = fs_err::read_to_string(stdlib.join("build-details.json")) else {
        return;
    };
    let Ok(d) = serde_json::from_str::<serde_json::Value>(&text) else {
        tracing::warn!(
            "ignoring an unreadable `{}`",
            stdlib.join("build-details.json").display()
        );
        return;
    };
    if let Some(v) = d.pointer("/language/version").and_then(|v| v.as_str())
        && !python.version.starts_with(v)
    {
        python.version = v.to_string();
    }
    if let Some(s) = d.pointer("/abi/extension_suffix").and_then(|v| v.as_str()) {
        python.ext_suffix = s.to_string();
    }
    if let Some(flags) = d.pointer("/abi/flags").and_then(|v| v.as_array()) {
        python.abiflags = flags.iter().filter_map(|f| f.as_str()).collect();
    }
    if let Some(m) = d
        .pointer("/implementation/_multiarch")
        .and_then(|v| v.as_str())
    {
        python.multiarch = m.to_string();
    }
}

/// Why a target profile could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("no target given")]
    NoTarget,
    #[error(
        "no Python found in the target root `{root}` (looked for usr/lib/python3.*/_sysconfigdata_*.py)"
    )]
    NoPython { root: PathBuf },
    #[error("the target root `{root}` has no sysconfig data for Python {version} (found: {found})")]
    NoSysconfigdata {
        root: PathBuf,
        version: String,
        found: String,
    },
    #[error(
        "the target's Python is {target}, but the build Python `{build_exe}` is {build}: \
         their major.minor must be equal"
    )]
    VersionMismatch {
        target: String,
        build: String,
        build_exe: PathBuf,
    },
    #[error("cannot read the target's sysconfig data `{path}`: {message}")]
    BadSysconfigdata { path: PathBuf, message: String },
    #[error(
        "`{path}` is not inside a target root (expected <root>/usr/bin/python3.X or <root>/bin/python3.X)"
    )]
    PythonOutsideRoot { path: PathBuf },
}
