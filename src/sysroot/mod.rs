//! Target sysroots: where they live in the cache, how to provision one from Debian's packages
//! ([`debian`]), and how to recognise a complete one.

use std::path::PathBuf;

use crate::cache::cache_dir;
use crate::target::Target;

/// The Python version of pyx's Debian sysroots (Debian 12 ships 3.11).
pub const DEFAULT_PYTHON: &str = "3.11";

/// Written last into a provisioned sysroot; a root without it is incomplete.
pub const MARKER: &str = ".pyx-sysroot.json";

/// Where pyx keeps the Debian sysroot of `target` for Python `python` (`3.11`).
pub fn cached_path(target: &Target, python: &str) -> Option<PathBuf> {
    let arch = target.debian_arch?;
    Some(
        cache_dir()
            .join("sysroots")
            .join(format!("{arch}-python{python}")),
    )
}

/// The cached sysroot of `target` for the default Python, if one is complete.
pub fn find_cached(target: &Target) -> Option<PathBuf> {
    cached_path(target, DEFAULT_PYTHON).filter(|p| p.join(MARKER).is_file())
}
