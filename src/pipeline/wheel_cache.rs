//! The built-wheel cache: a wheel built from the same source, for the same target profile, with
//! the same settings and pyx version, is landed again instead of rebuilt.

use std::path::{Path, PathBuf};

use crate::pep517::ConfigSettings;

/// Everything a built wheel depends on; its hash names the cache entry. Fields are in
/// alphabetical order: the JSON they hash to is the key format since pyx 0.1.
#[derive(Debug, serde::Serialize)]
pub struct CacheKey<'a> {
    pub allow_pure_fallback: bool,
    pub config: &'a ConfigSettings,
    pub manylinux: bool,
    /// Hash of the target profile.
    pub profile: &'a str,
    pub pyx: &'static str,
    /// The Rust toolchain asked for (`RUSTC`, `PYX_RUST_TOOLCHAIN`), when any: a wheel built by
    /// another compiler is another build. Left out when unset, so other keys stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust: Option<String>,
    /// Content hash of the sdist or source tree.
    pub source: String,
}

impl CacheKey<'_> {
    /// The entry directory under `cache_root`: `built/<2 hex>/<sha256>`.
    pub fn entry_dir(&self, cache_root: &Path) -> PathBuf {
        let json = serde_json::to_string(self).expect("a cache key serializes");
        let key = crate::digest::sha256_hex(json.as_bytes());
        cache_root.join("built").join(&key[..2]).join(&key)
    }
}

/// What the built-wheel cache keeps next to a wheel.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct CachedInfo {
    pub backend: Option<String>,
    pub audit: String,
    pub tags: Vec<crate::platform::tags::PlatformTag>,
    pub log: Option<PathBuf>,
    /// The target build dependencies it was compiled against.
    #[serde(default)]
    pub build_dependencies: Vec<crate::pipeline::target_deps::BuildDependency>,
    /// The Rust toolchain that built it.
    #[serde(default)]
    pub rust: Option<crate::rust::RustReport>,
    /// The shared libraries it loads from the device's system (`None` in entries made before
    /// pyx recorded them).
    #[serde(default)]
    pub system_libraries: Option<Vec<crate::pipeline::SystemLibrary>>,
}

/// The file of an entry that holds its wheel's sha256, checked when the entry is used (entries of
/// older pyx versions have none: their zip directory is checked instead).
const WHEEL_SHA256: &str = "wheel.sha256";

/// Hold the lock of the entry `dir` (a file beside it) until the returned file is dropped: one
/// build of a cache key at a time.
pub fn lock_entry(dir: &Path) -> std::io::Result<std::fs::File> {
    let parent = dir.parent().expect("a cache entry has a parent");
    fs_err::create_dir_all(parent)?;
    let name = dir
        .file_name()
        .expect("a cache entry has a name")
        .to_string_lossy();
    let file = std::fs::File::create(parent.join(format!(".{name}.lock")))?;
    file.lock()?;
    Ok(file)
}

/// The wheel and info kept in `dir`, when a complete, intact entry is there. A damaged entry (its
/// wheel truncated or changed since it was stored, its info unreadable) is removed with a
/// warning, so the package is built again.
pub fn read_cached(dir: &Path) -> Option<(PathBuf, CachedInfo)> {
    let info = std::fs::read(dir.join("info.json")).ok();
    let wheel = std::fs::read_dir(dir).ok().and_then(|entries| {
        entries
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
    });
    let (info, wheel) = match (info, wheel) {
        (None, None) => return None,
        (Some(info), Some(wheel)) => (info, wheel),
        (Some(_), None) => return drop_damaged(dir, "it has no wheel"),
        (None, Some(_)) => return drop_damaged(dir, "its `info.json` is missing"),
    };
    let Ok(info) = serde_json::from_slice::<CachedInfo>(&info) else {
        return drop_damaged(dir, "its `info.json` is unreadable");
    };
    let stored = std::fs::read_to_string(dir.join(WHEEL_SHA256)).ok();
    let intact = match stored.as_deref().map(str::trim) {
        Some(stored) => match crate::digest::sha256_file(&wheel) {
            Ok(actual) if actual == stored => Ok(()),
            Ok(actual) => Err(format!(
                "`{}` has sha256 {actual}, stored {stored}",
                wheel.display()
            )),
            Err(e) => Err(format!("`{}` cannot be read: {e}", wheel.display())),
        },
        None => crate::wheel::reader::WheelArchive::open(&wheel)
            .map(drop)
            .map_err(|e| e.to_string()),
    };
    match intact {
        Ok(()) => Some((wheel, info)),
        Err(why) => drop_damaged(dir, &why),
    }
}

/// Replace the info of the entry `dir` (its lock held), atomically.
pub fn update_info(dir: &Path, info: &CachedInfo) -> std::io::Result<()> {
    let tmp = dir.join("info.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(info)?)?;
    std::fs::rename(tmp, dir.join("info.json"))
}

fn drop_damaged<T>(dir: &Path, why: &str) -> Option<T> {
    tracing::warn!(
        "the built-wheel cache entry `{}` is damaged ({why}); building the package again",
        dir.display()
    );
    if let Err(e) = std::fs::remove_dir_all(dir) {
        tracing::debug!("cannot remove `{}`: {e}", dir.display());
    }
    None
}

/// Move the staging dir (the wheel and its info) into the cache under `dest`, atomically. An old
/// entry is moved aside first; when another build stored the same key at the same moment, its entry
/// is used (the inputs, and so the wheels, are the same).
pub fn store_cached(
    staging: &Path,
    wheel: &Path,
    info: &CachedInfo,
    dest: &Path,
) -> std::io::Result<PathBuf> {
    std::fs::write(
        staging.join(WHEEL_SHA256),
        crate::digest::sha256_file(wheel)? + "\n",
    )?;
    std::fs::write(staging.join("info.json"), serde_json::to_vec_pretty(info)?)?;
    let name = wheel.file_name().expect("a wheel has a name").to_owned();
    let parent = dest.parent().expect("a cache entry has a parent");
    fs_err::create_dir_all(parent)?;
    if dest.exists() {
        let aside = crate::tempfiles::dir_in(parent, "replaced")?;
        if std::fs::rename(dest, aside.path().join("entry")).is_err() && !dest.exists() {
            tracing::debug!("another build replaced `{}` first", dest.display());
        }
    }
    match std::fs::rename(staging, dest) {
        Ok(()) => Ok(dest.join(name)),
        Err(e) => match read_cached(dest) {
            Some((existing, _)) => Ok(existing),
            None => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hash_every_input() {
        let config = ConfigSettings::new();
        let key = |source: &str, manylinux| CacheKey {
            allow_pure_fallback: false,
            config: &config,
            manylinux,
            profile: "p",
            pyx: "0.1.0",
            rust: None,
            source: source.into(),
        };
        let root = Path::new("/c");
        let a = key("s", false).entry_dir(root);
        // Keys without a Rust toolchain asked for are what they were before the field existed.
        let json = serde_json::to_string(&key("s", false)).unwrap();
        assert!(!json.contains("rust"), "{json}");
        let asked = CacheKey {
            rust: Some("RUSTC=/opt/rust/bin/rustc".into()),
            ..key("s", false)
        };
        assert_ne!(a, asked.entry_dir(root));
        assert!(a.starts_with("/c/built"));
        assert_eq!(a, key("s", false).entry_dir(root));
        assert_ne!(a, key("t", false).entry_dir(root));
        assert_ne!(a, key("s", true).entry_dir(root));
    }

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
            tags: vec!["linux_armv7l".parse().unwrap()],
            log: None,
            build_dependencies: Vec::new(),
            rust: None,
            system_libraries: Some(vec![crate::pipeline::SystemLibrary {
                soname: "libzmq.so.5".into(),
                package: Some("libzmq5".into()),
            }]),
        };
        let dest = dir.path().join("built/ab/abcd");
        assert!(read_cached(&dest).is_none());
        let stored = store_cached(&staging, &wheel, &info, &dest).unwrap();
        assert_eq!(stored, dest.join("foo-1.0-cp311-cp311-linux_armv7l.whl"));
        let (found, read) = read_cached(&dest).unwrap();
        assert_eq!(found, stored);
        assert_eq!(read.backend.as_deref(), Some("mesonpy"));
        assert_eq!(read.system_libraries, info.system_libraries);
        assert!(!staging.exists());
        // An entry from before pyx recorded system libraries says it does not know them.
        let old: CachedInfo = serde_json::from_str(
            r#"{"backend": null, "audit": "passed", "tags": [], "log": null}"#,
        )
        .unwrap();
        assert_eq!(old.system_libraries, None);
        let mut updated = read;
        updated.system_libraries = Some(Vec::new());
        update_info(&dest, &updated).unwrap();
        let (_, read) = read_cached(&dest).unwrap();
        assert_eq!(read.system_libraries, Some(Vec::new()));

        std::fs::create_dir(&staging).unwrap();
        std::fs::write(&wheel, b"rebuilt").unwrap();
        let again = store_cached(&staging, &wheel, &info, &dest).unwrap();
        assert_eq!(std::fs::read(again).unwrap(), b"rebuilt");
        let leftovers: Vec<_> = std::fs::read_dir(dest.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "the replaced entry is deleted");
    }

    /// A truncated wheel in the built-wheel cache failed every later run with `METADATA is
    /// unreadable`; it is dropped (with a warning) so the package is built again.
    #[test]
    fn damaged_entries_are_dropped_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let info = CachedInfo {
            backend: None,
            audit: "passed".into(),
            tags: Vec::new(),
            log: None,
            build_dependencies: Vec::new(),
            rust: None,
            system_libraries: None,
        };
        let good = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/wheels/good/demo-1.0-cp311-cp311-linux_armv7l.whl"
        );
        let store = |name: &str| {
            let staging = dir.path().join("staging");
            std::fs::create_dir_all(&staging).unwrap();
            let wheel = staging.join("demo-1.0-cp311-cp311-linux_armv7l.whl");
            std::fs::copy(good, &wheel).unwrap();
            store_cached(&staging, &wheel, &info, &dir.path().join(name)).unwrap()
        };
        let stored = store("built/aa/a");
        assert!(read_cached(&dir.path().join("built/aa/a")).is_some());
        let len = std::fs::metadata(&stored).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&stored)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
        assert!(read_cached(&dir.path().join("built/aa/a")).is_none());
        assert!(
            !dir.path().join("built/aa/a").exists(),
            "the entry is removed"
        );

        // An entry of an older pyx (no stored sha256) is checked by its zip directory.
        let old = store("built/bb/b");
        std::fs::remove_file(dir.path().join("built/bb/b").join(WHEEL_SHA256)).unwrap();
        assert!(read_cached(&dir.path().join("built/bb/b")).is_some());
        std::fs::write(&old, b"not a zip any more").unwrap();
        assert!(read_cached(&dir.path().join("built/bb/b")).is_none());
    }
}
