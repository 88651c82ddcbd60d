//! The built-wheel cache: a wheel built from the same source, for the same target profile, with
//! the same settings and pyx version, is landed again instead of rebuilt.

use std::path::{Path, PathBuf};

/// What the built-wheel cache keeps next to a wheel.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CachedInfo {
    pub backend: Option<String>,
    pub audit: String,
    pub tags: Vec<String>,
    pub log: Option<PathBuf>,
}

/// The wheel and info kept in `dir`, when a complete entry is there.
pub fn read_cached(dir: &Path) -> Option<(PathBuf, CachedInfo)> {
    let info: CachedInfo =
        serde_json::from_slice(&std::fs::read(dir.join("info.json")).ok()?).ok()?;
    let wheel = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))?;
    Some((wheel, info))
}

/// Move the staging dir (the wheel and its info) into the cache under `dest`, atomically.
pub fn store_cached(
    staging: &Path,
    wheel: &Path,
    info: &CachedInfo,
    dest: &Path,
) -> std::io::Result<PathBuf> {
    std::fs::write(staging.join("info.json"), serde_json::to_vec_pretty(info)?)?;
    let name = wheel.file_name().expect("a wheel has a name").to_owned();
    if let Some(parent) = dest.parent() {
        fs_err::create_dir_all(parent)?;
    }
    if dest.exists() {
        fs_err::remove_dir_all(dest)?;
    }
    fs_err::rename(staging, dest)?;
    Ok(dest.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_entries_are_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join("staging");
        std::fs::create_dir(&staging).unwrap();
        let wheel = staging.join("foo-1.0-cp311-cp311-linux_armv7l.whl");
        std::fs::write(&wheel, b"wheel").unwrap();
        let info = CachedInfo {
            backend: Some("mesonpy".into()),
            audit: "passed".into(),
            tags: vec!["linux_armv7l".into()],
            log: None,
        };
        let dest = dir.path().join("built/ab/abcd");
        assert!(read_cached(&dest).is_none());
        let stored = store_cached(&staging, &wheel, &info, &dest).unwrap();
        assert_eq!(stored, dest.join("foo-1.0-cp311-cp311-linux_armv7l.whl"));
        let (found, read) = read_cached(&dest).unwrap();
        assert_eq!(found, stored);
        assert_eq!(read.backend.as_deref(), Some("mesonpy"));
        assert!(!staging.exists());
    }
}
