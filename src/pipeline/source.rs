//! Source trees to build from: unpacked sdists and copies of local source directories, each
//! identified by a content hash (the key of the built-wheel cache).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::digest::{hex, sha256_file};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not an sdist pyx can unpack (expected `.tar.gz`, `.tgz` or `.zip`)", path.display())]
    Format { path: PathBuf },
    #[error("`{}` contains an unsafe path `{member}`", archive.display())]
    UnsafePath { archive: PathBuf, member: String },
    #[error(
        "`{}` does not appear to be a Python project: neither `pyproject.toml` nor `setup.py` \
         (nor `setup.cfg`) found",
        path.display()
    )]
    NotAProject { path: PathBuf },
}

/// Refuse a directory pip would refuse: a project has `pyproject.toml`, `setup.py` or `setup.cfg`.
pub fn check_project(dir: &Path) -> Result<(), SourceError> {
    if ["pyproject.toml", "setup.py", "setup.cfg"]
        .iter()
        .any(|f| dir.join(f).is_file())
    {
        return Ok(());
    }
    Err(SourceError::NotAProject {
        path: dir.to_path_buf(),
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A source to build: an sdist archive or a local source directory.
#[derive(Debug, Clone)]
pub enum SourceTree {
    Sdist(PathBuf),
    Dir(PathBuf),
}

impl SourceTree {
    /// The content hash the built-wheel cache is keyed by: the sdist's sha256, or
    /// [`tree_hash`] of the directory.
    pub fn content_hash(&self) -> Result<String, SourceError> {
        match self {
            SourceTree::Sdist(p) => sha256_file(p).map_err(io(p)),
            SourceTree::Dir(d) => tree_hash(d),
        }
    }
}

/// What a copied or hashed source tree leaves out: VCS data and caches anywhere, and the
/// top-level `build/` and `dist/` of an earlier build, unless they are a Python package.
fn is_skipped(entry: &walkdir::DirEntry) -> bool {
    let name = entry.file_name().to_string_lossy();
    if matches!(
        &*name,
        ".git" | ".hg" | ".svn" | "__pycache__" | ".tox" | ".nox" | ".venv"
    ) || name.ends_with(".egg-info")
    {
        return true;
    }
    entry.depth() == 1
        && matches!(&*name, "build" | "dist")
        && entry.file_type().is_dir()
        && !entry.path().join("__init__.py").is_file()
}

/// True when a source tree has C, C++, Cython or Fortran sources outside tests and docs, or a
/// `setup.py` that declares extension modules.
pub fn declares_extensions(project: &Path) -> bool {
    if std::fs::read_to_string(project.join("setup.py"))
        .is_ok_and(|t| t.contains("Extension(") || t.contains("ext_modules"))
    {
        return true;
    }
    let not_shipped = |e: &walkdir::DirEntry| {
        matches!(
            &*e.file_name().to_string_lossy(),
            "tests" | "test" | "testing" | "docs" | "doc" | "examples" | "benchmarks"
        )
    };
    walkdir::WalkDir::new(project)
        .max_depth(6)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !(is_skipped(e) || not_shipped(e)))
        .flatten()
        .any(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_file()
                && [".c", ".cc", ".cpp", ".cxx", ".pyx", ".f90", ".f"]
                    .iter()
                    .any(|ext| name.ends_with(ext))
        })
}

/// `name-version` from an sdist file name (`foo_bar-1.0.tar.gz` → (`foo_bar`, `1.0`)).
pub fn sdist_name_version(filename: &str) -> Option<(String, String)> {
    let stem = [".tar.gz", ".zip", ".tgz", ".tar.bz2", ".tar.xz"]
        .iter()
        .find_map(|ext| filename.strip_suffix(ext))?;
    let (name, version) = stem.rsplit_once('-')?;
    Some((name.to_string(), version.to_string()))
}

/// The project name a source directory declares statically (`[project] name` in
/// `pyproject.toml`, or `name` in `setup.cfg`'s `[metadata]`).
pub fn project_name(dir: &Path) -> Option<pep508_rs::PackageName> {
    use std::str::FromStr;
    let from_pyproject = std::fs::read_to_string(dir.join("pyproject.toml"))
        .ok()
        .and_then(|t| toml::from_str::<toml::Table>(&t).ok())
        .and_then(|t| t.get("project")?.get("name")?.as_str().map(str::to_string));
    let name = from_pyproject.or_else(|| {
        let cfg = std::fs::read_to_string(dir.join("setup.cfg")).ok()?;
        let mut in_metadata = false;
        for line in cfg.lines().map(str::trim) {
            if line.starts_with('[') {
                in_metadata = line == "[metadata]";
            } else if in_metadata
                && let Some((k, v)) = line.split_once('=')
                && k.trim() == "name"
            {
                return Some(v.trim().to_string());
            }
        }
        None
    })?;
    pep508_rs::PackageName::from_str(&name).ok()
}

/// A content hash of a source directory: every kept file's relative path, mode and bytes.
pub fn tree_hash(dir: &Path) -> Result<String, SourceError> {
    let mut hasher = Sha256::new();
    let walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_skipped(e));
    for entry in walker {
        let entry = entry.map_err(|e| SourceError::Io {
            path: dir.to_path_buf(),
            source: e.into(),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
        hasher.update(rel.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(
            sha256_file(entry.path())
                .map_err(io(entry.path()))?
                .as_bytes(),
        );
    }
    Ok(hex(&hasher.finalize()))
}

/// Copy a local source directory into `dest` (the build never writes into the user's tree).
pub fn copy_tree(src: &Path, dest: &Path) -> Result<(), SourceError> {
    let walker = walkdir::WalkDir::new(src)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_skipped(e));
    for entry in walker {
        let entry = entry.map_err(|e| SourceError::Io {
            path: src.to_path_buf(),
            source: e.into(),
        })?;
        let rel = entry.path().strip_prefix(src).unwrap_or(entry.path());
        let target = dest.join(rel);
        if entry.file_type().is_dir() {
            fs_err::create_dir_all(&target).map_err(io(&target))?;
        } else if entry.file_type().is_file() {
            fs_err::copy(entry.path(), &target).map_err(io(&target))?;
        }
    }
    Ok(())
}

/// Unpack an sdist into `dest`; returns its project directory (the single top-level directory,
/// or `dest` itself when the archive has none).
pub fn unpack_sdist(archive: &Path, dest: &Path) -> Result<PathBuf, SourceError> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    fs_err::create_dir_all(dest).map_err(io(dest))?;
    if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        unpack_tar_gz(archive, dest)?;
    } else if name.ends_with(".zip") {
        let file = std::fs::File::open(archive).map_err(io(archive))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| SourceError::Io {
            path: archive.to_path_buf(),
            source: std::io::Error::other(e),
        })?;
        for i in 0..zip.len() {
            let mut member = zip.by_index(i).map_err(|e| SourceError::Io {
                path: archive.to_path_buf(),
                source: std::io::Error::other(e),
            })?;
            let Some(rel) = member.enclosed_name() else {
                return Err(SourceError::UnsafePath {
                    archive: archive.to_path_buf(),
                    member: member.name().map(|n| n.to_string()).unwrap_or_default(),
                });
            };
            let out = dest.join(rel);
            if member.is_dir() {
                fs_err::create_dir_all(&out).map_err(io(&out))?;
                continue;
            }
            if let Some(parent) = out.parent() {
                fs_err::create_dir_all(parent).map_err(io(parent))?;
            }
            let mut f = fs_err::File::create(&out).map_err(io(&out))?;
            std::io::copy(&mut member, &mut f).map_err(io(&out))?;
        }
    } else {
        return Err(SourceError::Format {
            path: archive.to_path_buf(),
        });
    }
    let entries: Vec<PathBuf> = std::fs::read_dir(dest)
        .map_err(io(dest))?
        .flatten()
        .map(|e| e.path())
        .collect();
    let project = match entries.as_slice() {
        [only] if only.is_dir() => only.clone(),
        _ => dest.to_path_buf(),
    };
    check_project(&project).map_err(|_| SourceError::NotAProject {
        path: archive.to_path_buf(),
    })?;
    Ok(project)
}

/// Members up to this size are handed to the writer threads; a larger one is written by the
/// reading thread as it is read, so memory stays bounded.
const HANDED_OFF: u64 = 1 << 20;

/// A `.tar.gz` sdist into `dest`: its files and directories (links and devices are skipped), with
/// the archive's permission bits and modification times. Creating files costs the kernel more
/// than inflating them (numpy's 8 250 members: 0.15 s inflating, 0.3-0.7 s creating on ext4), so
/// one thread reads the archive and makes the directories while the others write the files.
fn unpack_tar_gz(archive: &Path, dest: &Path) -> Result<(), SourceError> {
    use std::io::Read;
    use std::sync::{Mutex, mpsc};

    struct Member {
        path: PathBuf,
        data: Vec<u8>,
        mode: u32,
        mtime: u64,
    }
    fn write(path: &Path, data: &mut dyn Read, mode: u32, mtime: u64) -> std::io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let open = || {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
        };
        // a member the archive holds twice: the later one wins, as with tar
        let mut f = open().or_else(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => std::fs::remove_file(path).and_then(|()| open()),
            _ => Err(e),
        })?;
        std::io::copy(data, &mut f)?;
        // as tar does: a zero time would read as "never modified" to some tools
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(mtime.max(1));
        f.set_times(
            std::fs::FileTimes::new()
                .set_accessed(when)
                .set_modified(when),
        )?;
        f.set_permissions(std::fs::Permissions::from_mode(mode & 0o777))
    }

    let file = std::fs::File::open(archive).map_err(io(archive))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let writers = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    let (send, receive) = mpsc::sync_channel::<Member>(256);
    let receive = Mutex::new(receive);
    let failed: Mutex<Option<SourceError>> = Mutex::new(None);
    // members the archive holds again (the later copy wins, as with tar), in archive order
    let mut later: Vec<Member> = Vec::new();
    let fail = |e: SourceError| {
        failed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(e);
    };
    std::thread::scope(|scope| {
        for _ in 0..writers {
            scope.spawn(|| {
                loop {
                    let next = receive.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    let Ok(m) = next else { break };
                    if let Err(e) = write(&m.path, &mut m.data.as_slice(), m.mode, m.mtime) {
                        fail(io(&m.path)(e));
                        break;
                    }
                }
            });
        }
        let mut read = || -> Result<(), SourceError> {
            // Only files and directories are made, so no member can lead out of `dest` through
            // a link: checking each path's components is enough.
            let mut made = std::collections::HashSet::new();
            let mut files = std::collections::HashSet::new();
            for entry in tar.entries().map_err(io(archive))? {
                if failed.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                    return Ok(());
                }
                let mut entry = entry.map_err(io(archive))?;
                let kind = entry.header().entry_type();
                if !(kind.is_file() || kind.is_dir()) {
                    continue;
                }
                let member = entry.path().map_err(io(archive))?.into_owned();
                let Some(out) = enclosed(dest, &member) else {
                    return Err(SourceError::UnsafePath {
                        archive: archive.to_path_buf(),
                        member: member.display().to_string(),
                    });
                };
                let dir = if kind.is_dir() {
                    Some(out.as_path())
                } else {
                    out.parent()
                };
                if let Some(dir) = dir.filter(|d| made.insert(d.to_path_buf())) {
                    fs_err::create_dir_all(dir).map_err(io(dir))?;
                }
                if !kind.is_file() {
                    continue;
                }
                let mode = entry.header().mode().unwrap_or(0o644);
                let mtime = entry.header().mtime().unwrap_or(0);
                let again = !files.insert(out.clone());
                if !again && entry.size() > HANDED_OFF {
                    write(&out, &mut entry, mode, mtime).map_err(io(&out))?;
                    continue;
                }
                let mut data = Vec::with_capacity(entry.size() as usize);
                entry.read_to_end(&mut data).map_err(io(archive))?;
                let member = Member {
                    path: out,
                    data,
                    mode,
                    mtime,
                };
                if again {
                    // a writer may still hold the first copy: this one is written after them
                    later.push(member);
                    continue;
                }
                if send.send(member).is_err() {
                    return Ok(()); // every writer stopped: its error is recorded
                }
            }
            Ok(())
        };
        let result = read();
        drop(send);
        if let Err(e) = result {
            fail(e);
        }
    });
    if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    for m in later {
        write(&m.path, &mut m.data.as_slice(), m.mode, m.mtime).map_err(io(&m.path))?;
    }
    Ok(())
}

/// The text of the project's `pyproject.toml` (`Ok(None)`: it has none), read from the source
/// tree or straight out of the sdist, before it is unpacked: the build env can be made meanwhile.
pub fn read_pyproject(tree: &SourceTree) -> std::io::Result<Option<String>> {
    use std::io::Read;
    const LIMIT: u64 = 1 << 20;
    let is_pyproject = |member: &Path| {
        let parts: Vec<_> = member
            .components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect();
        parts.len() <= 2
            && parts
                .last()
                .is_some_and(|p| p.as_os_str() == "pyproject.toml")
    };
    let read = |r: &mut dyn Read| {
        let mut text = String::new();
        r.take(LIMIT).read_to_string(&mut text).map(|_| text)
    };
    let archive = match tree {
        SourceTree::Dir(d) => {
            return match std::fs::read_to_string(d.join("pyproject.toml")) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            };
        }
        SourceTree::Sdist(p) => p,
    };
    let name = archive.to_string_lossy().to_lowercase();
    let file = std::fs::File::open(archive)?;
    if name.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(file).map_err(std::io::Error::other)?;
        for i in 0..zip.len() {
            let mut member = zip.by_index(i).map_err(std::io::Error::other)?;
            if member.enclosed_name().is_some_and(|n| is_pyproject(&n)) {
                return read(&mut member).map(Some);
            }
        }
        return Ok(None);
    }
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    for entry in tar.entries()? {
        let mut entry = entry?;
        if entry.header().entry_type().is_file() && is_pyproject(&entry.path()?) {
            return read(&mut entry).map(Some);
        }
    }
    Ok(None)
}

/// `member` under `dest` when every component of it is a plain name (no `..`, root or prefix).
fn enclosed(dest: &Path, member: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = dest.to_path_buf();
    let mut any = false;
    for part in member.components() {
        match part {
            Component::Normal(name) => {
                out.push(name);
                any = true;
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdist_members_stay_inside_the_destination() {
        let dest = Path::new("/scratch/src");
        assert_eq!(
            enclosed(dest, Path::new("./numpy-2.4.6/numpy/__init__.py")),
            Some(PathBuf::from("/scratch/src/numpy-2.4.6/numpy/__init__.py"))
        );
        for bad in ["../x", "a/../../x", "/etc/passwd", ".", ""] {
            assert_eq!(enclosed(dest, Path::new(bad)), None, "{bad}");
        }
    }

    #[test]
    fn pyproject_is_read_out_of_the_sdist_before_it_is_unpacked() {
        let dir = tempfile::tempdir().unwrap();
        let tar_gz = |name: &str, members: &[(&str, &str)]| {
            let archive = dir.path().join(name);
            let gz = flate2::write::GzEncoder::new(
                std::fs::File::create(&archive).unwrap(),
                flate2::Compression::fast(),
            );
            let mut tar = tar::Builder::new(gz);
            for (path, text) in members {
                let mut header = tar::Header::new_gnu();
                header.set_size(text.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                tar.append_data(&mut header, path, text.as_bytes()).unwrap();
            }
            tar.into_inner().unwrap().finish().unwrap();
            SourceTree::Sdist(archive)
        };
        let read = |tree: &SourceTree| read_pyproject(tree).unwrap();
        let top = tar_gz(
            "a-1.0.tar.gz",
            &[
                ("a-1.0/setup.py", ""),
                ("a-1.0/tests/pyproject.toml", "nested"),
                ("a-1.0/pyproject.toml", "[build-system]"),
            ],
        );
        assert_eq!(read(&top).as_deref(), Some("[build-system]"));
        let flat = tar_gz("b-1.0.tar.gz", &[("./pyproject.toml", "flat")]);
        assert_eq!(read(&flat).as_deref(), Some("flat"));
        let legacy = tar_gz("c-1.0.tar.gz", &[("c-1.0/setup.py", "")]);
        assert_eq!(read(&legacy), None);

        let zip_path = dir.path().join("d-1.0.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        zip.start_file(
            "d-1.0/pyproject.toml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut zip, b"zipped").unwrap();
        zip.finish().unwrap();
        assert_eq!(
            read(&SourceTree::Sdist(zip_path)).as_deref(),
            Some("zipped")
        );

        let tree = dir.path().join("tree");
        std::fs::create_dir_all(&tree).unwrap();
        assert_eq!(read(&SourceTree::Dir(tree.clone())), None);
        std::fs::write(tree.join("pyproject.toml"), "dir").unwrap();
        assert_eq!(read(&SourceTree::Dir(tree)).as_deref(), Some("dir"));
        assert!(read_pyproject(&SourceTree::Sdist(dir.path().join("missing.tar.gz"))).is_err());
    }

    #[test]
    fn sdist_names() {
        assert_eq!(
            sdist_name_version("markupsafe-3.0.2.tar.gz"),
            Some(("markupsafe".into(), "3.0.2".into()))
        );
        assert_eq!(
            sdist_name_version("foo_bar-1.0rc1.zip"),
            Some(("foo_bar".into(), "1.0rc1".into()))
        );
        assert_eq!(sdist_name_version("foo.whl"), None);
    }

    #[test]
    fn unpack_tar_gz_and_hash_trees() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src/demo-1.0");
        std::fs::create_dir_all(src.join("pkg")).unwrap();
        std::fs::create_dir_all(src.join(".git")).unwrap();
        std::fs::write(src.join("pkg/__init__.py"), "x = 1\n").unwrap();
        std::fs::write(src.join(".git/HEAD"), "ref").unwrap();
        std::fs::write(src.join("setup.py"), "").unwrap();
        let archive = dir.path().join("demo-1.0.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&archive).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        tar.append_dir_all("demo-1.0", &src).unwrap();
        tar.into_inner().unwrap().finish().unwrap();

        let out = dir.path().join("out");
        let project = unpack_sdist(&archive, &out).unwrap();
        assert_eq!(project, out.join("demo-1.0"));
        assert!(project.join("pkg/__init__.py").is_file());

        std::fs::write(
            src.join("pyproject.toml"),
            "[project]\nname = \"Demo_Pkg\"\n",
        )
        .unwrap();
        assert_eq!(project_name(&src).unwrap().as_ref(), "demo-pkg");
        let copy = dir.path().join("copy");
        copy_tree(&src, &copy).unwrap();
        assert!(!copy.join(".git").exists());
        let before = tree_hash(&src).unwrap();
        assert_eq!(before, tree_hash(&copy).unwrap());
        std::fs::write(src.join(".git/HEAD"), "other").unwrap();
        assert_eq!(before, tree_hash(&src).unwrap());
        std::fs::write(src.join("pkg/__init__.py"), "x = 2\n").unwrap();
        assert_ne!(before, tree_hash(&src).unwrap());
    }

    /// The writer threads keep what tar keeps: every file's bytes, mode and time, the later copy
    /// of a member the archive holds twice, a big member (written as it is read); links are not
    /// made.
    #[test]
    fn unpacking_keeps_contents_modes_times_and_the_last_copy() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("many-1.0.tar.gz");
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&archive).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut add = |path: &str, data: &[u8], mode: u32, kind: tar::EntryType| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(kind);
            header.set_size(data.len() as u64);
            header.set_mode(mode);
            header.set_mtime(1_600_000_000);
            if kind.is_symlink() {
                header.set_link_name("setup.py").unwrap();
            }
            header.set_cksum();
            tar.append_data(&mut header, path, data).unwrap();
        };
        add(
            "many-1.0/setup.py",
            b"first",
            0o644,
            tar::EntryType::Regular,
        );
        add(
            "many-1.0/configure",
            b"#!/bin/sh\n",
            0o755,
            tar::EntryType::Regular,
        );
        for i in 0..600 {
            let text = format!("n = {i}\n");
            let path = format!("many-1.0/pkg{}/m{i}.py", i % 7);
            add(&path, text.as_bytes(), 0o644, tar::EntryType::Regular);
        }
        let big: Vec<u8> = (0..3 * HANDED_OFF).map(|i| (i % 251) as u8).collect();
        add(
            "many-1.0/data/big.bin",
            &big,
            0o644,
            tar::EntryType::Regular,
        );
        add("many-1.0/link", b"", 0o777, tar::EntryType::Symlink);
        add(
            "many-1.0/setup.py",
            b"second",
            0o600,
            tar::EntryType::Regular,
        );
        tar.into_inner().unwrap().finish().unwrap();

        let project = unpack_sdist(&archive, &dir.path().join("out")).unwrap();
        assert_eq!(fs_err::read(project.join("setup.py")).unwrap(), b"second");
        let mode = |p: &str| {
            fs_err::metadata(project.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("setup.py"), 0o600);
        assert_eq!(mode("configure"), 0o755);
        for i in [0, 299, 599] {
            let path = project.join(format!("pkg{}/m{i}.py", i % 7));
            assert_eq!(fs_err::read_to_string(&path).unwrap(), format!("n = {i}\n"));
        }
        assert_eq!(fs_err::read(project.join("data/big.bin")).unwrap(), big);
        let mtime = fs_err::metadata(project.join("configure"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(
            mtime,
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000)
        );
        assert!(!project.join("link").exists() && !project.join("link").is_symlink());
    }

    /// A local project whose code lives in a `build` package lost it when every folder named
    /// `build` was skipped; only an earlier build's top-level output is left out now.
    #[test]
    fn a_build_subpackage_is_kept_and_build_output_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("proj");
        for (file, text) in [
            ("pyproject.toml", "[project]\nname = \"proj\"\n"),
            ("build/__init__.py", "x = 1\n"),
            ("proj/build/steps.py", "y = 2\n"),
            ("proj/dist/x.py", "z = 3\n"),
            ("dist/proj-1.0.tar.gz", "old"),
        ] {
            let path = src.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let copy = dir.path().join("copy");
        copy_tree(&src, &copy).unwrap();
        assert!(copy.join("build/__init__.py").is_file());
        assert!(copy.join("proj/build/steps.py").is_file());
        assert!(copy.join("proj/dist/x.py").is_file());
        assert!(!copy.join("dist").exists(), "the old sdist is build output");
        let before = tree_hash(&src).unwrap();
        std::fs::write(src.join("build/__init__.py"), "x = 2\n").unwrap();
        assert_ne!(
            before,
            tree_hash(&src).unwrap(),
            "the build package is hashed"
        );
        let again = tree_hash(&src).unwrap();
        std::fs::write(src.join("dist/proj-1.0.tar.gz"), "new").unwrap();
        assert_eq!(again, tree_hash(&src).unwrap(), "dist/ is not");
    }

    /// A directory without a project file became `unknown-0.0.0-py3-none-any.whl`, exit 0.
    #[test]
    fn a_directory_without_project_files_is_not_a_project() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("README"), "notes").unwrap();
        let e = check_project(dir.path()).unwrap_err();
        assert!(
            e.to_string()
                .contains("does not appear to be a Python project")
        );
        std::fs::write(dir.path().join("setup.cfg"), "[metadata]\n").unwrap();
        assert!(check_project(dir.path()).is_ok());
    }

    #[test]
    fn extensions_are_found_outside_tests_and_build_output() {
        let dir = tempfile::tempdir().unwrap();
        let write = |file: &str| {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        };
        write("pkg/__init__.py");
        write("tests/helper.c");
        write("build/temp/x.c");
        assert!(!declares_extensions(dir.path()));
        write("pkg/_speedups.c");
        assert!(declares_extensions(dir.path()));
    }
}
