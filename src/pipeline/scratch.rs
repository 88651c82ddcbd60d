//! A build's scratch directory (the unpacked source and the backend's build tree), removed in the
//! background once the build is done: numpy's source and build tree took 7.7 s to delete on the
//! benchmark machine, time the run need not wait for.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Names of scratch directories being removed; a run sweeps those an earlier one left.
const TRASH_PREFIX: &str = ".trash-";

/// A new directory under `root` that goes away when dropped, without blocking the drop.
pub struct ScratchDir {
    dir: Option<tempfile::TempDir>,
}

impl ScratchDir {
    pub fn new_in(root: &Path) -> std::io::Result<ScratchDir> {
        Ok(ScratchDir {
            dir: Some(crate::tempfiles::dir_in(root, "build")?),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("held until dropped").path()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            remove_in_background(&dir.keep());
        }
    }
}

/// Rename `dir` out of the way and remove it with `rm -rf` in a process of its own session, so
/// neither this run nor an interrupt waits for it; where that cannot start, remove it here.
fn remove_in_background(dir: &Path) {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let trash = if name.starts_with(TRASH_PREFIX) {
        dir.to_path_buf()
    } else {
        let trash = dir.with_file_name(format!("{TRASH_PREFIX}{}-{name}", std::process::id()));
        match std::fs::rename(dir, &trash) {
            Ok(()) => trash,
            Err(_) => dir.to_path_buf(),
        }
    };
    use std::os::unix::process::CommandExt;
    let spawned = Command::new("rm")
        .arg("-rf")
        .arg("--")
        .arg(&trash)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    match spawned {
        // Reaped here if it ends before pyx does; else it finishes on its own.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => {
            tracing::debug!(
                "cannot start `rm` ({e}): removing `{}` now",
                trash.display()
            );
            let _ = std::fs::remove_dir_all(&trash);
        }
    }
}

/// Remove what earlier runs left being removed under `root` (their `rm` was stopped).
pub fn sweep(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let leftovers: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(TRASH_PREFIX))
        .map(|e| e.path())
        .collect();
    for dir in leftovers {
        remove_in_background(&dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gone_soon(path: &Path) -> bool {
        let start = std::time::Instant::now();
        while path.exists() {
            if start.elapsed().as_secs() > 20 {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        true
    }

    #[test]
    fn a_dropped_scratch_dir_is_moved_aside_and_removed() {
        let root = tempfile::tempdir().unwrap();
        let scratch = ScratchDir::new_in(root.path()).unwrap();
        let path = scratch.path().to_path_buf();
        std::fs::create_dir_all(path.join("src/deep/tree")).unwrap();
        std::fs::write(path.join("src/deep/tree/file.c"), "int x;").unwrap();
        drop(scratch);
        assert!(!path.exists(), "moved out of the way at once");
        let start = std::time::Instant::now();
        while std::fs::read_dir(root.path()).unwrap().next().is_some() {
            assert!(start.elapsed().as_secs() < 20, "removed in the background");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    #[test]
    fn leftovers_of_an_earlier_run_are_swept() {
        let root = tempfile::tempdir().unwrap();
        let leftover = root.path().join(format!("{TRASH_PREFIX}1-.tmpAbc"));
        std::fs::create_dir_all(leftover.join("build")).unwrap();
        let kept = root.path().join(".tmpBusy");
        std::fs::create_dir_all(&kept).unwrap();
        sweep(root.path());
        assert!(gone_soon(&leftover));
        assert!(kept.exists(), "a scratch dir in use is not touched");
    }
}
