//! Temp entries pyx makes beside the files they become (scratch dirs, build envs and overlays being
//! filled, downloads and wheels being written): each is named after its owner, a pyx process
//! that holds a lock for as long as it runs, so an interrupted run's leftovers are known as such.
//! They are removed when pyx is interrupted ([`crate::interrupt`]) and, after a `kill -9` or a
//! crash, swept by the next run once their owner is gone.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

/// Every temp entry pyx names starts with this, then the owner's token and a `-`.
const PREFIX: &str = ".pyx-tmp-";
/// Temp names of a pyx before owners were named.
const LEGACY: [&str; 4] = [".tmp", ".pyx-landing-", ".pyx-retag-", ".replaced-"];
/// An entry whose owner cannot be asked (no lock file: made by another cache's pyx, or by a pyx
/// before owners were recorded) is swept once it is this old.
const UNOWNED_AGE: Duration = Duration::from_secs(24 * 3600);

/// This process as an owner: its token (`<pid>-<hex>`, unique even across PID namespaces) and
/// the lock it holds on `<cache>/owners/<token>.lock` until it exits.
struct Owner {
    token: String,
    _lock: Option<std::fs::File>,
}

static OWNER: OnceLock<Owner> = OnceLock::new();

/// This process's token, once it has made a temp entry (a sweep alone takes no lock).
fn own_token() -> Option<&'static str> {
    OWNER.get().map(|o| o.token.as_str())
}

fn owner() -> &'static Owner {
    OWNER.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let token = format!("{}-{:06x}", std::process::id(), nanos & 0xff_ffff);
        let dir = owners_dir();
        let lock = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::File::create(dir.join(format!("{token}.lock"))))
            .and_then(|f| f.try_lock().map(|()| f).map_err(std::io::Error::other));
        if let Err(e) = &lock {
            tracing::debug!("cannot hold an owner lock in `{}`: {e}", dir.display());
        }
        Owner {
            token,
            _lock: lock.ok(),
        }
    })
}

fn owners_dir() -> PathBuf {
    crate::cache::cache_dir().join("owners")
}

/// Directories this process made temp entries in, for [`remove_own`].
fn watched() -> &'static Mutex<Vec<PathBuf>> {
    static WATCHED: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    WATCHED.get_or_init(|| Mutex::new(Vec::new()))
}

/// Note that this process makes temp entries in `dir`.
pub fn watch(dir: &Path) {
    let mut dirs = watched().lock().unwrap_or_else(|e| e.into_inner());
    if !dirs.iter().any(|d| d == dir) {
        dirs.push(dir.to_path_buf());
    }
}

/// The name prefix of this process's temp entries for `what`: `.pyx-tmp-<token>-<what>-`.
pub fn prefix(what: &str) -> String {
    format!("{PREFIX}{}-{what}-", owner().token)
}

/// A temp dir in `parent` (for a tree that is renamed into place when complete).
pub fn dir_in(parent: &Path, what: &str) -> std::io::Result<tempfile::TempDir> {
    watch(parent);
    tempfile::Builder::new()
        .prefix(&prefix(what))
        .tempdir_in(parent)
}

/// A temp file in `dir` for a temp-then-rename write of a file others read (a wheel, a
/// download): created with mode 0666 & ~umask, the mode a plain `File::create` gives
/// (tempfile's default, 0600, would make the renamed file private to this user).
pub fn file_in(dir: &Path, what: &str) -> std::io::Result<tempfile::NamedTempFile> {
    watch(dir);
    tempfile::Builder::new()
        .prefix(&prefix(what))
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
}

/// Remove this process's temp entries (on an interrupt: their guards will not run).
pub fn remove_own() -> usize {
    let mine = own_token().map(|t| format!("{PREFIX}{t}-"));
    let pid = std::process::id();
    let mut dirs = watched().lock().unwrap_or_else(|e| e.into_inner()).clone();
    dirs.push(crate::cache::cache_dir().join("sysroots"));
    let mut removed = 0;
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = mine.as_deref().is_some_and(|m| name.starts_with(m))
                || sysroot_staging(&name).is_some_and(|(_, owner)| owner == pid);
            if ours && remove(&entry.path()) {
                removed += 1;
            }
        }
    }
    removed
}

/// Sweep the cache's temp entries whose owner is gone: scratch dirs, build envs, sysroots and
/// Debian's Rust (a root or a target's std) being provisioned, downloads, overlays, replaced built
/// wheels, and pyx's entries in the system temp dir. Cheap: it lists a few directories.
pub fn sweep_cache() {
    let cache = crate::cache::cache_dir();
    for (dir, depth) in [
        ("scratch", 1),
        ("build-envs", 1),
        ("sysroots", 1),
        ("downloads", 3),
        ("target-deps", 2),
        ("built", 2),
        ("rust", 1),
        ("rust", 2),
    ] {
        sweep(&cache.join(dir), depth, true);
    }
    // Other programs' `.tmp*` are not pyx's: only its own names are swept here.
    sweep(&std::env::temp_dir(), 1, false);
    sweep_owner_locks();
}

/// Remove the temp entries at `depth` below `dir` whose owner is gone; with `legacy`, also the
/// day-old temp entries of a pyx that did not name owners (`.tmp*`, `.pyx-landing-*`, ...).
pub fn sweep(dir: &Path, depth: usize, legacy: bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if depth > 1 {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                sweep(&path, depth - 1, legacy);
            }
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_stale(dir, &name, &path, legacy) && remove(&path) {
            tracing::info!("removed `{}`, left by an interrupted pyx", path.display());
        }
    }
}

/// True when `name` in `dir` is a temp entry whose owner is gone.
fn is_stale(dir: &Path, name: &str, path: &Path, legacy: bool) -> bool {
    if let Some(rest) = name.strip_prefix(PREFIX) {
        let mut fields = rest.splitn(3, '-');
        let (Some(pid), Some(hex)) = (fields.next(), fields.next()) else {
            return old(path);
        };
        let token = format!("{pid}-{hex}");
        if Some(token.as_str()) == own_token() {
            return false;
        }
        let lock = owners_dir().join(format!("{token}.lock"));
        return match std::fs::File::open(&lock) {
            Ok(file) => file.try_lock().is_ok(),
            Err(_) => old(path),
        };
    }
    if let Some((stem, pid)) = sysroot_staging(name) {
        // The sysroot's provisioning lock is held for as long as its staging dir is in use.
        return legacy
            && pid != std::process::id()
            && std::fs::File::open(dir.join(format!("{stem}.lock")))
                .is_ok_and(|f| f.try_lock().is_ok());
    }
    legacy && LEGACY.iter().any(|p| name.starts_with(p)) && old(path)
}

/// `.<arch>-python3.11.tmp-<pid>` (or `.old-<pid>`), a sysroot being provisioned or replaced:
/// its name without the suffix, and the pid.
fn sysroot_staging(name: &str) -> Option<(&str, u32)> {
    let (stem, pid) = name.rsplit_once('-')?;
    let stem = stem
        .strip_suffix(".tmp")
        .or_else(|| stem.strip_suffix(".old"))?;
    (name.starts_with('.') && !stem.is_empty()).then_some(())?;
    Some((stem, pid.parse().ok()?))
}

fn old(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > UNOWNED_AGE)
}

/// Remove the lock files of owners that are gone.
fn sweep_owner_locks() {
    let mine = own_token().map(|t| format!("{t}.lock"));
    for entry in std::fs::read_dir(owners_dir())
        .into_iter()
        .flatten()
        .flatten()
    {
        if Some(entry.file_name().to_string_lossy().as_ref()) == mine.as_deref() {
            continue;
        }
        let gone = std::fs::File::open(entry.path()).is_ok_and(|f| f.try_lock().is_ok());
        if gone {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn remove(path: &Path) -> bool {
    let result = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        tracing::debug!("cannot remove `{}`: {e}", path.display());
    }
    result.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysroot_staging_names() {
        assert_eq!(
            sysroot_staging(".armhf-python3.11.tmp-4242"),
            Some((".armhf-python3.11", 4242))
        );
        assert_eq!(
            sysroot_staging(".bookworm-armhf.old-7"),
            Some((".bookworm-armhf", 7))
        );
        assert_eq!(sysroot_staging("armhf-python3.11"), None);
        assert_eq!(sysroot_staging(".armhf-python3.11.lock"), None);
        assert_eq!(sysroot_staging(".x.tmp-12ab"), None);
    }

    /// Temp files were 0600, unreadable to a web server or another user once renamed.
    #[test]
    fn temp_files_get_the_mode_of_a_plain_write() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let tmp = file_in(dir.path(), "t").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(tmp.path()), mode(&plain));
        assert!(
            tmp.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix("t"))
        );
    }
}
