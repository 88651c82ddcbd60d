//! A build Python from a Debian release's packages for the build machine's own architecture
//! (trixie's amd64 `python3.13` on a bookworm host), for when no Python of the target's version is
//! installed. Its interpreter is patched to load its own glibc and libraries (absolute
//! `PT_INTERP`, `DT_RPATH`), so it runs directly, and so do the subprocesses that start
//! `sys.executable`; pip comes from the release's own wheel.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::cache::cache_dir;
use crate::platform::Target;
use crate::printer::with_hint;
use crate::sysroot::apt::{PrivateApt, link_merged_usr, relativize_symlinks, unpack_all};
use crate::sysroot::release::DebianRelease;
use crate::sysroot::{lock_for, replace_dir, staging_for};

/// Written last into a provisioned build Python; a root without it is incomplete.
const MARKER: &str = ".pyx-python.json";

/// What a provisioned build Python records about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildPythonInfo {
    pub release: String,
    pub debian_arch: String,
    pub python: String,
    /// The directory the interpreter was patched for: a moved cache makes it stale.
    pub root: PathBuf,
    /// Every unpacked `.deb`: `name version`.
    pub packages: Vec<String>,
}

/// The build Python of one Debian release, in pyx's cache (`pythons/<release>-<arch>`).
#[derive(Debug, Clone, Copy)]
pub struct DebianPython {
    pub release: &'static DebianRelease,
}

impl DebianPython {
    /// Where it lives; `None` when Debian has no architecture for the build machine.
    pub fn root(&self) -> Option<PathBuf> {
        let (arch, _) = build_machine()?;
        Some(
            cache_dir()
                .join("pythons")
                .join(format!("{}-{arch}", self.release.codename)),
        )
    }

    /// Its interpreter inside `root`.
    pub fn interpreter(&self, root: &Path) -> PathBuf {
        root.join("usr/bin")
            .join(format!("python{}", self.release.python))
    }

    /// The interpreter when a complete copy, patched for where it is now, is in the cache.
    pub fn cached(&self) -> Option<PathBuf> {
        let root = self.root()?;
        let info: BuildPythonInfo =
            serde_json::from_str(&fs_err::read_to_string(root.join(MARKER)).ok()?).ok()?;
        (info.root == root).then(|| self.interpreter(&root))
    }

    /// The interpreter, provisioned on first use: the closure of `python3.X` and
    /// `python3.X-venv`, and `libpython3.X-dev` for its headers (without the C library headers
    /// it depends on, which the build machine's compiler never reads).
    pub fn ensure(&self) -> Result<PathBuf> {
        if let Some(exe) = self.cached() {
            return Ok(exe);
        }
        let (arch, multiarch) = build_machine().ok_or_else(|| {
            anyhow::anyhow!(
                "Debian has no architecture for this build machine (`{}`)",
                std::env::consts::ARCH
            )
        })?;
        let release = self.release;
        let root = self.root().expect("a build machine arch");
        let _lock = lock_for(&root)?;
        if let Some(exe) = self.cached() {
            return Ok(exe);
        }
        let python = release.python;
        eprintln!(
            "pyx: provisioning a build Python {python} from {release} ({arch}: \
             python{python}, python{python}-venv, libpython{python}-dev) into `{}`",
            root.display()
        );
        let apt = PrivateApt::new(release, arch)?;
        apt.update()?;
        let mut debs =
            apt.download(&[format!("python{python}"), format!("python{python}-venv")])?;
        debs.push(apt.download_alone(&format!("libpython{python}-dev"))?);

        let staging = staging_for(&root)?;
        unpack_all(&debs, &staging)?;
        relativize_symlinks(&staging)?;
        link_merged_usr(&staging)?;
        let libdir = root.join("usr/lib").join(multiarch);
        patch_interpreter(&self.interpreter(&staging), &libdir)?;
        fix_pyconfig(&staging, multiarch, &python.to_string())?;
        fix_wheel_dir(&staging, &root, &python.to_string())?;
        install_pip(&staging)?;
        replace_dir(&staging, &root)?;

        let exe = self.interpreter(&root);
        let out = Command::new(&exe)
            .args([
                "-I",
                "-c",
                "import ctypes, sqlite3, ssl, venv, ensurepip, pip",
            ])
            .output()
            .with_context(|| format!("cannot start the provisioned `{}`", exe.display()))?;
        if !out.status.success() {
            bail!(
                "the provisioned `{}` does not run: {}",
                exe.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        // Byte-compile the standard library once (startup 38 → 23 ms); a file that does not
        // compile (test data) only stays uncompiled.
        let _ = Command::new(&exe)
            .args(["-I", "-m", "compileall", "-q", "-j0"])
            .arg(root.join(format!("usr/lib/python{python}")))
            .arg(root.join("usr/lib/python3/dist-packages"))
            .output();
        let info = BuildPythonInfo {
            release: release.codename.to_string(),
            debian_arch: arch.to_string(),
            python: python.to_string(),
            root: root.clone(),
            packages: debs.iter().map(|d| super::debian::deb_label(d)).collect(),
        };
        fs_err::write(root.join(MARKER), serde_json::to_string_pretty(&info)?)?;
        Ok(exe)
    }
}

/// The build machine's Debian architecture and multiarch directory (`amd64`, `x86_64-linux-gnu`).
fn build_machine() -> Option<(&'static str, &'static str)> {
    let target = Target::lookup(std::env::consts::ARCH)?;
    Some((target.debian_arch?, target.multiarch))
}

/// Point the interpreter at the root's own loader and libraries: `PT_INTERP` is the loader's
/// absolute path (a relative one would resolve against the working directory), `DT_RPATH` the
/// library directory (it covers the `lib-dynload` modules too and wins over `LD_LIBRARY_PATH`).
/// `libdir` is the final path, not the staging one.
fn patch_interpreter(exe: &Path, libdir: &Path) -> Result<()> {
    let file = fs_err::OpenOptions::new()
        .read(true)
        .write(true)
        .open(exe)?;
    let mut file = file.into_parts().0;
    let fail = |e: elb::Error| anyhow::anyhow!("cannot patch `{}`: {e}", exe.display());
    let elf = elb::Elf::read(&mut file, 4096).map_err(fail)?;
    let mut patcher = elb::ElfPatcher::new(elf, file);
    let old = patcher
        .read_interpreter()
        .map_err(fail)?
        .ok_or_else(|| anyhow::anyhow!("`{}` has no ELF interpreter", exe.display()))?;
    let loader = Path::new(old.to_str().unwrap_or_default())
        .file_name()
        .map(|name| libdir.join(name))
        .context("the interpreter's loader has no file name")?;
    let cstring = |p: &Path| CString::new(p.as_os_str().as_encoded_bytes()).expect("no NUL");
    patcher.set_interpreter(&cstring(&loader)).map_err(fail)?;
    patcher
        .remove_dynamic_tag(elb::DynamicTag::Runpath)
        .map_err(fail)?;
    patcher
        .set_dynamic_tag(elb::DynamicTag::Rpath, cstring(libdir).as_c_str())
        .map_err(fail)?;
    patcher.finish().map_err(fail)?;
    Ok(())
}

/// Debian's `usr/include/python3.X/pyconfig.h` only includes `<multiarch>/python3.X/pyconfig.h`,
/// which the build machine's compiler does not find outside `/usr/include`: put the real one there.
fn fix_pyconfig(root: &Path, multiarch: &str, python: &str) -> Result<()> {
    let real = root.join(format!("usr/include/{multiarch}/python{python}/pyconfig.h"));
    if real.is_file() {
        fs_err::copy(
            &real,
            root.join(format!("usr/include/python{python}/pyconfig.h")),
        )?;
    }
    Ok(())
}

/// Debian's `ensurepip` installs the wheels in `WHEEL_PKG_DIR` (`/usr/share/python-wheels/`): the
/// build machine's, for another Python. Point it at the root's own.
fn fix_wheel_dir(staging: &Path, root: &Path, python: &str) -> Result<()> {
    let stdlib = staging.join(format!("usr/lib/python{python}"));
    for entry in fs_err::read_dir(&stdlib)? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if !name.starts_with("_sysconfigdata_") || path.is_symlink() {
            continue;
        }
        let text = fs_err::read_to_string(&path)?;
        let fixed = text.replace(
            "'WHEEL_PKG_DIR': '/usr/share/python-wheels/'",
            &format!(
                "'WHEEL_PKG_DIR': '{}/usr/share/python-wheels/'",
                root.display()
            ),
        );
        if fixed != text {
            fs_err::write(&path, fixed)?;
        }
    }
    Ok(())
}

/// Make `python -m pip` work in the root: the release's pip wheel unpacked into
/// `usr/lib/python3/dist-packages` (on Debian's `sys.path`), so build envs are filled with
/// `pip --python` like with any other build Python.
fn install_pip(root: &Path) -> Result<()> {
    let wheels = root.join("usr/share/python-wheels");
    let pip = fs_err::read_dir(&wheels)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("pip-"))
        })
        .ok_or_else(|| {
            with_hint(
                anyhow::anyhow!("no pip wheel in `{}`", wheels.display()),
                "the release's python3-pip-whl package should provide it",
            )
        })?;
    let site = root.join("usr/lib/python3/dist-packages");
    fs_err::create_dir_all(&site)?;
    let mut zip = zip::ZipArchive::new(fs_err::File::open(&pip)?)
        .with_context(|| format!("cannot read `{}`", pip.display()))?;
    zip.extract(&site)
        .with_context(|| format!("cannot unpack `{}`", pip.display()))?;
    Ok(())
}
