//! Target sysroots: where they live in the cache, how to provision one from a Debian release's
//! packages ([`debian`], [`release`]), and how to recognise a complete one; the build Python
//! provisioned the same way ([`build_python`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cache::cache_dir;
use crate::platform::Target;

pub mod apt;
pub mod build_python;
pub mod debian;
pub mod release;
pub mod sources;

pub use debian::{DebianSysroot, SysrootInfo};
pub use release::DebianRelease;

/// Written last into a provisioned sysroot; a root without it is incomplete.
pub const MARKER: &str = ".pyx-sysroot.json";

/// The Debian packages `--with` values name: the flag repeats, and each value may be a comma- or
/// space-separated list (`--with libjpeg-dev,zlib1g-dev`, `--with "libjpeg-dev zlib1g-dev"`).
/// Duplicates are dropped, the order is kept; names are checked when the sysroot is provisioned.
pub fn package_list<S: AsRef<str>>(values: &[S]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in values
        .iter()
        .flat_map(|v| v.as_ref().split([',', ' ', '\t', '\n']))
        .filter(|n| !n.is_empty())
    {
        if !out.iter().any(|o| o == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// Where the cached sysroots live.
pub fn sysroots_dir() -> PathBuf {
    cache_dir().join("sysroots")
}

/// Where pyx keeps the Debian sysroot of `target` from `release`: `sysroots/trixie-riscv64`.
/// (Before releases, roots were `sysroots/<arch>-python3.11`; pyx no longer reads those.)
pub fn cached_path(target: &Target, release: &DebianRelease) -> Option<PathBuf> {
    let arch = target.debian_arch?;
    Some(sysroots_dir().join(format!("{}-{arch}", release.codename)))
}

/// The cached sysroot of `target` from `release`, if one is complete.
pub fn find_cached(target: &Target, release: &DebianRelease) -> Option<PathBuf> {
    cached_path(target, release).filter(|p| p.join(MARKER).is_file())
}

/// A directory in the sysroot cache: a complete sysroot, or one from an older pyx.
pub enum Cached {
    Root(PathBuf, SysrootInfo),
    /// `armhf-python3.11`: made before sysroots were kept per release; nothing uses it.
    OldLayout(PathBuf),
}

/// Every complete sysroot in the cache, with what it records about itself, then the directories
/// an older pyx left.
pub fn list_cached() -> Vec<Cached> {
    let Ok(entries) = fs_err::read_dir(sysroots_dir()) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    dirs.sort();
    let (mut roots, mut old) = (Vec::new(), Vec::new());
    for dir in dirs {
        match SysrootInfo::read(&dir) {
            Some(info) if !info.release.is_empty() => roots.push(Cached::Root(dir, info)),
            Some(_) => old.push(Cached::OldLayout(dir)),
            None => {}
        }
    }
    roots.extend(old);
    roots
}

/// Hold the lock of `dest` (a file beside it) while it is made, so concurrent pyx processes wait
/// instead of racing.
pub(crate) fn lock_for(dest: &Path) -> Result<File> {
    let parent = dest.parent().expect("a cache path has a parent");
    fs_err::create_dir_all(parent)?;
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    let lock = File::create(parent.join(format!(".{name}.lock")))?;
    lock.lock()
        .with_context(|| format!("cannot lock `{}`", dest.display()))?;
    Ok(lock)
}

/// An empty staging directory beside `dest`, to be renamed into place with [`replace_dir`].
pub(crate) fn staging_for(dest: &Path) -> Result<PathBuf> {
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    let staging = dest.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    if staging.exists() {
        fs_err::remove_dir_all(&staging)?;
    }
    fs_err::create_dir_all(&staging)?;
    Ok(staging)
}

/// Put `staging` where `dest` is, replacing an older `dest`.
pub(crate) fn replace_dir(staging: &Path, dest: &Path) -> Result<()> {
    if dest.exists() {
        let name = dest.file_name().unwrap_or_default().to_string_lossy();
        let trash = dest.with_file_name(format!(".{name}.old-{}", std::process::id()));
        fs_err::rename(dest, &trash)?;
        fs_err::rename(staging, dest)?;
        let _ = fs_err::remove_dir_all(&trash);
    } else {
        fs_err::rename(staging, dest)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_lists_split_on_commas_and_spaces() {
        assert_eq!(
            package_list(&[
                "libjpeg-dev,zlib1g-dev",
                "libffi-dev",
                " libpng-dev  libyaml-dev,"
            ]),
            [
                "libjpeg-dev",
                "zlib1g-dev",
                "libffi-dev",
                "libpng-dev",
                "libyaml-dev"
            ]
        );
        assert_eq!(
            package_list(&["zlib1g-dev", "zlib1g-dev,libffi-dev"]),
            ["zlib1g-dev", "libffi-dev"]
        );
        assert!(package_list(&[",", ""]).is_empty());
        assert!(package_list::<&str>(&[]).is_empty());
    }
}
