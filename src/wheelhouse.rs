//! The output directory: wheels land here atomically, never replacing a good wheel with a bad one.

use std::path::{Path, PathBuf};

/// A directory of finished wheels (`-w`, default `./wheelhouse`).
#[derive(Debug, Clone)]
pub struct Wheelhouse {
    dir: PathBuf,
}

/// What failed: making the wheelhouse, or one step of landing a wheel in it.
#[derive(Debug, thiserror::Error)]
pub enum WheelhouseError {
    #[error("cannot create the wheelhouse directory `{}`: {source}", dir.display())]
    Create {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot put `{}` into the wheelhouse `{}`: {step} failed: {source}", file.display(), dir.display())]
    Land {
        file: PathBuf,
        dir: PathBuf,
        /// `creating a temp file in it`, `copying the wheel`, `renaming it into place`.
        step: &'static str,
        source: std::io::Error,
    },
}

impl Wheelhouse {
    /// Open (and create) the directory.
    pub fn open(dir: &Path) -> Result<Wheelhouse, WheelhouseError> {
        std::fs::create_dir_all(dir).map_err(|source| WheelhouseError::Create {
            dir: dir.to_path_buf(),
            source,
        })?;
        crate::tempfiles::sweep(dir, 1, true);
        Ok(Wheelhouse {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Copy a finished, audited wheel in under its own file name: written to a temp file in the
    /// wheelhouse, then renamed over any old copy, so readers never see a partial wheel. A wheel
    /// with identical content is left alone.
    pub fn land(&self, wheel: &Path) -> Result<PathBuf, WheelhouseError> {
        let name = wheel.file_name().expect("a wheel path has a file name");
        let dest = self.dir.join(name);
        let err = |step| {
            move |source| WheelhouseError::Land {
                file: wheel.to_path_buf(),
                dir: self.dir.clone(),
                step,
                source,
            }
        };
        if same_content(wheel, &dest) {
            return Ok(dest);
        }
        let mut tmp = crate::tempfiles::file_in(&self.dir, "landing")
            .map_err(err("creating a temp file in it"))?;
        let mut src = std::fs::File::open(wheel).map_err(err("reading the wheel"))?;
        std::io::copy(&mut src, tmp.as_file_mut()).map_err(err("copying the wheel"))?;
        tmp.as_file()
            .sync_all()
            .map_err(err("writing the wheel to disk"))?;
        tmp.persist(&dest)
            .map_err(|e| err("renaming it into place")(e.error))?;
        Ok(dest)
    }
}

fn same_content(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    ma.len() == mb.len()
        && match (std::fs::read(a), std::fs::read(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lands_atomically_and_replaces_old_copies() {
        let dir = tempfile::tempdir().unwrap();
        let house = Wheelhouse::open(&dir.path().join("wh")).unwrap();
        let built = dir.path().join("foo-1.0-cp311-cp311-linux_armv7l.whl");
        std::fs::write(&built, b"first").unwrap();
        let landed = house.land(&built).unwrap();
        assert_eq!(std::fs::read(&landed).unwrap(), b"first");
        std::fs::write(&built, b"second").unwrap();
        house.land(&built).unwrap();
        assert_eq!(std::fs::read(&landed).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(house.dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            [std::ffi::OsString::from(
                "foo-1.0-cp311-cp311-linux_armv7l.whl"
            )]
        );
    }

    /// Landed wheels were 0600 (tempfile's mode): a web server serving the wheelhouse could not
    /// read them.
    #[test]
    fn landed_wheels_get_the_mode_of_a_plain_write() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let house = Wheelhouse::open(&dir.path().join("wh")).unwrap();
        let built = dir.path().join("foo-1.0-py3-none-any.whl");
        std::fs::write(&built, b"wheel").unwrap();
        std::fs::set_permissions(&built, std::fs::Permissions::from_mode(0o600)).unwrap();
        let landed = house.land(&built).unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&landed), mode(&plain));
    }

    /// A wheelhouse that cannot be created said `cannot put ro1/sub into the wheelhouse ro1/sub`.
    #[test]
    fn errors_say_what_failed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), b"").unwrap();
        let e = Wheelhouse::open(&dir.path().join("file/sub")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "cannot create the wheelhouse directory `{}/file/sub`: Not a directory (os error 20)",
                dir.path().display()
            )
        );
        let house = Wheelhouse::open(dir.path()).unwrap();
        let e = house.land(&dir.path().join("gone.whl")).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("`: reading the wheel failed: No such file or directory (os error 2)"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_source_leaves_the_good_wheel() {
        let dir = tempfile::tempdir().unwrap();
        let house = Wheelhouse::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("foo-1.0-py3-none-any.whl"), b"good").unwrap();
        let gone = dir.path().join("build/foo-1.0-py3-none-any.whl");
        assert!(house.land(&gone).is_err());
        assert_eq!(
            std::fs::read(dir.path().join("foo-1.0-py3-none-any.whl")).unwrap(),
            b"good"
        );
    }
}
