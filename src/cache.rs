//! pyx's cache directory: sysroots, build envs, downloaded sdists, built wheels.

use std::path::PathBuf;

use crate::env_vars;

/// `$PYX_CACHE_DIR`, else `$XDG_CACHE_HOME/pyx`, else `~/.cache/pyx`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(env_vars::PYX_CACHE_DIR).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os(env_vars::XDG_CACHE_HOME).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("pyx");
    }
    let home = std::env::var_os(env_vars::HOME).unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache").join("pyx")
}
