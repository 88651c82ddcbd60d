//! Opening a wheel (a zip, PEP 427) defensively: the central directory is read, never the whole
//! file; member names that escape the archive, absurd declared sizes and zip bombs are refused
//! before any member is decompressed.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use zip::ZipArchive;
use zip::result::ZipError;

/// Limits a wheel must stay under to be read at all.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest declared uncompressed size of one member.
    pub max_member_size: u64,
    /// Largest sum of declared uncompressed sizes.
    pub max_total_size: u64,
    /// Largest uncompressed/compressed ratio for a member over 1 MiB (deflate tops out near 1032).
    pub max_ratio: u64,
    pub max_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_member_size: 4 << 30,
            max_total_size: 16 << 30,
            max_ratio: 1100,
            max_members: 500_000,
        }
    }
}

/// Why a wheel cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("cannot read `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not a readable zip archive: {source}")]
    NotZip {
        path: PathBuf,
        #[source]
        source: ZipError,
    },
    #[error("`{path}`: member `{member}` cannot be read: {source}")]
    Member {
        path: PathBuf,
        member: String,
        #[source]
        source: ZipError,
    },
    #[error("`{path}`: member `{member}` {reason}")]
    Unsafe {
        path: PathBuf,
        member: String,
        reason: String,
    },
    #[error("`{path}` declares {what}, over the limit of {limit}")]
    TooLarge {
        path: PathBuf,
        what: String,
        limit: String,
    },
    #[error("`{path}` has no member `{member}`")]
    Missing { path: PathBuf, member: String },
    #[error("`{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl WheelError {
    /// A suggestion for the user, shown as `hint:`.
    pub fn hint(&self) -> &'static str {
        match self {
            WheelError::Io { .. } => "check that the path exists and is readable",
            WheelError::NotZip { .. } => {
                "the file is truncated or not a wheel; download or build it again"
            }
            WheelError::Unsafe { .. } | WheelError::TooLarge { .. } => {
                "do not install this wheel; rebuild it from source"
            }
            _ => "rebuild the wheel; it does not follow PEP 427",
        }
    }
}

/// One member of the central directory, as declared.
#[derive(Debug, Clone)]
pub struct MemberInfo {
    pub name: String,
    pub size: u64,
    pub compressed_size: u64,
    pub is_dir: bool,
    pub is_symlink: bool,
    pub unix_mode: Option<u32>,
}

/// An open wheel whose central directory has passed the safety checks.
pub struct WheelArchive {
    path: PathBuf,
    zip: ZipArchive<BufReader<File>>,
    members: Vec<MemberInfo>,
    limits: Limits,
}

impl WheelArchive {
    /// Open `path` with the default [`Limits`].
    pub fn open(path: &Path) -> Result<Self, WheelError> {
        Self::open_with(path, Limits::default())
    }

    pub fn open_with(path: &Path, limits: Limits) -> Result<Self, WheelError> {
        let file = File::open(path).map_err(|source| WheelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let zip = ZipArchive::new(BufReader::new(file)).map_err(|source| match source {
            ZipError::Io(source) => WheelError::Io {
                path: path.to_path_buf(),
                source,
            },
            source => WheelError::NotZip {
                path: path.to_path_buf(),
                source,
            },
        })?;
        let mut archive = WheelArchive {
            path: path.to_path_buf(),
            zip,
            members: Vec::new(),
            limits,
        };
        archive.check_directory()?;
        Ok(archive)
    }

    fn check_directory(&mut self) -> Result<(), WheelError> {
        let path = self.path.clone();
        let limits = self.limits;
        if self.zip.len() > limits.max_members {
            return Err(WheelError::TooLarge {
                path,
                what: format!("{} members", self.zip.len()),
                limit: limits.max_members.to_string(),
            });
        }
        if self.zip.has_duplicate_names() {
            return Err(WheelError::Invalid {
                path,
                message: "the zip directory lists a member name twice".into(),
            });
        }
        let mut total: u64 = 0;
        let mut symlinks = Vec::new();
        for i in 0..self.zip.len() {
            let entry = self
                .zip
                .by_index_raw(i)
                .map_err(|source| WheelError::NotZip {
                    path: path.clone(),
                    source,
                })?;
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            if let Err(reason) = check_member_name(&name) {
                return Err(WheelError::Unsafe {
                    path,
                    member: name,
                    reason: reason.into(),
                });
            }
            let info = MemberInfo {
                size: entry.size(),
                compressed_size: entry.compressed_size(),
                is_dir: entry.is_dir(),
                is_symlink: entry.is_symlink(),
                unix_mode: entry.unix_mode(),
                name,
            };
            if info.size > limits.max_member_size {
                return Err(WheelError::TooLarge {
                    path,
                    what: format!("`{}` of {} bytes", info.name, info.size),
                    limit: format!("{} bytes", limits.max_member_size),
                });
            }
            if info.size > 1 << 20 && info.size / info.compressed_size.max(1) > limits.max_ratio {
                return Err(WheelError::TooLarge {
                    path,
                    what: format!(
                        "`{}` expanding {} bytes to {}, a zip bomb's ratio",
                        info.name, info.compressed_size, info.size
                    ),
                    limit: format!("{}:1", limits.max_ratio),
                });
            }
            total = total.saturating_add(info.size);
            if info.is_symlink {
                symlinks.push(i);
            }
            self.members.push(info);
        }
        if total > limits.max_total_size {
            return Err(WheelError::TooLarge {
                path,
                what: format!("{total} bytes uncompressed in total"),
                limit: format!("{} bytes", limits.max_total_size),
            });
        }
        for i in symlinks {
            let name = self.members[i].name.clone();
            let target = self.read_index(i, 4096)?;
            let target = String::from_utf8_lossy(&target).into_owned();
            if symlink_escapes(&name, &target) {
                return Err(WheelError::Unsafe {
                    path,
                    member: name,
                    reason: format!("is a symlink to `{target}`, outside the wheel"),
                });
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every member, in central-directory order.
    pub fn members(&self) -> &[MemberInfo] {
        &self.members
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Read a member whole; refuses members declared larger than `limit` bytes.
    pub fn read(&mut self, name: &str, limit: u64) -> Result<Vec<u8>, WheelError> {
        let index = self
            .members
            .iter()
            .position(|m| m.name == name)
            .ok_or_else(|| WheelError::Missing {
                path: self.path.clone(),
                member: name.to_string(),
            })?;
        self.read_index(index, limit)
    }

    /// Read the member at `index` whole, at most `limit` bytes.
    pub fn read_index(&mut self, index: usize, limit: u64) -> Result<Vec<u8>, WheelError> {
        let mut buf = Vec::new();
        self.stream_index(index, limit, false, |r| {
            r.read_to_end(&mut buf)?;
            Ok(())
        })?;
        Ok(buf)
    }

    /// Give `f` a reader over the decompressed member at `index` that stops after its declared
    /// size (and at most `limit` bytes); a member whose data ends early or runs on is an error.
    /// With `partial`, `f` may stop early and the rest is not read (nor checked).
    pub fn stream_index(
        &mut self,
        index: usize,
        limit: u64,
        partial: bool,
        f: impl FnOnce(&mut dyn Read) -> std::io::Result<()>,
    ) -> Result<(), WheelError> {
        let info = &self.members[index];
        let name = info.name.clone();
        if info.size > limit {
            return Err(WheelError::TooLarge {
                path: self.path.clone(),
                what: format!("`{name}` of {} bytes", info.size),
                limit: format!("{limit} bytes"),
            });
        }
        let declared = info.size;
        let member_err = |source| WheelError::Member {
            path: self.path.clone(),
            member: name.clone(),
            source,
        };
        let entry = self.zip.by_index(index).map_err(member_err)?;
        let mut counted = CountingReader {
            inner: entry.take(declared + 1),
            count: 0,
        };
        f(&mut counted).map_err(|e| member_err(ZipError::Io(e)))?;
        if partial {
            return Ok(());
        }
        std::io::copy(&mut counted, &mut std::io::sink())
            .map_err(|e| member_err(ZipError::Io(e)))?;
        if counted.count != declared {
            return Err(member_err(ZipError::InvalidArchive(
                format!("declared {declared} bytes, holds {}", counted.count).into(),
            )));
        }
        Ok(())
    }

    /// The underlying zip, for raw copies.
    pub fn zip_mut(&mut self) -> &mut ZipArchive<BufReader<File>> {
        &mut self.zip
    }
}

struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Check a member name for paths that would land outside an install directory.
pub fn check_member_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("has an empty name");
    }
    if name.contains('\0') {
        return Err("has a NUL byte in its name");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Err("has an absolute path");
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Err("has a drive-letter path");
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return Err("has a `..` path component");
    }
    Ok(())
}

/// True when a symlink member `name` pointing at `target` resolves outside the archive root.
pub fn symlink_escapes(name: &str, target: &str) -> bool {
    if target.starts_with('/') || target.starts_with('\\') {
        return true;
    }
    let mut depth: i64 = name.split('/').filter(|c| !c.is_empty()).count() as i64 - 1;
    for c in target.split(['/', '\\']) {
        match c {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        assert!(check_member_name("pkg/mod.so").is_ok());
        assert_eq!(
            check_member_name("../evil"),
            Err("has a `..` path component")
        );
        assert_eq!(
            check_member_name("a/../../b"),
            Err("has a `..` path component")
        );
        assert_eq!(
            check_member_name("/etc/passwd"),
            Err("has an absolute path")
        );
        assert_eq!(check_member_name("C:/x"), Err("has a drive-letter path"));
    }

    #[test]
    fn symlinks() {
        assert!(!symlink_escapes("pkg/libs/a.so", "b.so.1"));
        assert!(!symlink_escapes("pkg/libs/a.so", "../b.so"));
        assert!(symlink_escapes("pkg/a.so", "../../b.so"));
        assert!(symlink_escapes("a.so", "/lib/libc.so.6"));
    }
}
