//! Target sysroots: where they live in the cache, how to provision one from Debian's packages
//! ([`debian`]), and how to recognise a complete one.

use std::path::PathBuf;

use crate::cache::cache_dir;
use crate::platform::Target;

pub mod apt;
pub mod debian;

pub use debian::{DebianSysroot, SysrootInfo};

/// The Python version of pyx's Debian sysroots (Debian 12 ships 3.11).
pub const DEFAULT_PYTHON: &str = "3.11";

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

/// Where pyx keeps the Debian sysroot of `target` for Python `python` (`3.11`).
pub fn cached_path(target: &Target, python: &str) -> Option<PathBuf> {
    let arch = target.debian_arch?;
    Some(sysroots_dir().join(format!("{arch}-python{python}")))
}

/// The cached sysroot of `target` for the default Python, if one is complete.
pub fn find_cached(target: &Target) -> Option<PathBuf> {
    cached_path(target, DEFAULT_PYTHON).filter(|p| p.join(MARKER).is_file())
}

/// Every complete sysroot in the cache, with what it records about itself.
pub fn list_cached() -> Vec<(PathBuf, SysrootInfo)> {
    let Ok(entries) = fs_err::read_dir(sysroots_dir()) else {
        return Vec::new();
    };
    let mut roots: Vec<(PathBuf, SysrootInfo)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .filter_map(|p| SysrootInfo::read(&p).map(|info| (p, info)))
        .collect();
    roots.sort_by(|a, b| a.0.cmp(&b.0));
    roots
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
