//! Files pyx generates (wrappers, cross files, sysconfig data, scripts): written atomically and only
//! when their content changes, so build tools and compiler caches see stable inputs.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context, Result};

/// Write `content` to `path` unless it already holds exactly that; true when written.
pub fn write_if_changed(path: &Path, content: &str) -> Result<bool> {
    write_if_changed_mode(path, content, 0o644)
}

/// [`write_if_changed`] with the file's permissions set before it appears (atomic rename).
pub fn write_if_changed_mode(path: &Path, content: &str, mode: u32) -> Result<bool> {
    let same_mode = || fs_err::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o777 == mode);
    if fs_err::read(path).is_ok_and(|old| old == content.as_bytes()) && same_mode() {
        return Ok(false);
    }
    let dir = path.parent().context("a file path has a parent")?;
    fs_err::create_dir_all(dir)?;
    let mut tmp = crate::tempfiles::file_in(dir, "write")?;
    std::io::Write::write_all(&mut tmp, content.as_bytes())?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(true)
}

/// Point the symlink `link` at `to` unless it already does (replaced atomically).
pub fn symlink_if_changed(to: &Path, link: &Path) -> Result<()> {
    if fs_err::read_link(link).is_ok_and(|old| old == to) {
        return Ok(());
    }
    let tmp = link.with_extension(format!("pyx-tmp-{}", std::process::id()));
    let _ = fs_err::remove_file(&tmp);
    std::os::unix::fs::symlink(to, &tmp)
        .and_then(|()| std::fs::rename(&tmp, link))
        .with_context(|| format!("cannot link `{}` to `{}`", link.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sub/f.txt");
        assert!(write_if_changed(&file, "a").unwrap());
        assert!(!write_if_changed(&file, "a").unwrap());
        assert!(
            write_if_changed_mode(&file, "a", 0o755).unwrap(),
            "mode change"
        );
        assert!(write_if_changed(&file, "b").unwrap());
        assert_eq!(fs_err::read_to_string(&file).unwrap(), "b");
    }
}
