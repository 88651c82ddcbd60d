//! Retagging a wheel (stage 7): new file name, new `Tag:` lines in `WHEEL`, `RECORD`
//! refreshed for the changed member (and, given the members' digests, for every wrong line);
//! every other member copied raw, without recompression.
//! The result is written to a temp file in the destination directory and renamed into place, with
//! the mode a plain write gives (`--in-place`: the original's mode).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::filename::{WheelFilename, WheelFilenameError};
use super::metadata::find_dist_info;
use super::reader::{WheelArchive, WheelError};
use super::record::{self, RecordEntry};
use crate::platform::tags::PlatformTag;

/// Where a retagged wheel goes.
#[derive(Debug, Clone, Copy)]
pub enum Destination<'a> {
    /// Into this directory; the original stays.
    Dir(&'a Path),
    /// Replace the original (the new name may differ; the old file is removed after the rename).
    InPlace,
}

/// Why a wheel cannot be retagged.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    #[error(transparent)]
    Filename(#[from] WheelFilenameError),
    #[error(transparent)]
    Wheel(#[from] WheelError),
    #[error("`{0}` has no file name")]
    NoFileName(PathBuf),
    #[error("no platform tag given")]
    NoTags,
    #[error("`{path}`: `{member}` is not valid: {reason}")]
    DistInfo {
        path: PathBuf,
        member: String,
        reason: String,
    },
    #[error("cannot write `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `--in-place` could not remove the original: it is kept, and the retagged copy removed.
    #[error(
        "cannot replace `{original}`: it cannot be removed ({error}); it is kept as it was, \
         and `{retagged}` is not written"
    )]
    KeepOriginal {
        original: PathBuf,
        retagged: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
}

/// New `WHEEL` text: every `Tag:` line replaced by `tags` (where the first one stood), and
/// `Root-Is-Purelib` set to false for a platform wheel.
pub fn rewrite_wheel_file(text: &str, tags: &[String], platform: bool) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut placed = false;
    for line in text.lines() {
        let key = line
            .split_once(':')
            .map(|(k, _)| k.trim().to_ascii_lowercase());
        match key.as_deref() {
            Some("tag") => {
                if !placed {
                    for t in tags {
                        out.push_str(&format!("Tag: {t}\n"));
                    }
                    placed = true;
                }
            }
            Some("root-is-purelib") if platform => out.push_str("Root-Is-Purelib: false\n"),
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !placed {
        for t in tags {
            out.push_str(&format!("Tag: {t}\n"));
        }
    }
    out
}

/// Write `wheel` with `platform_tags` to `dest`; returns the new wheel's path.
pub fn retag(
    wheel: &Path,
    platform_tags: &[PlatformTag],
    dest: Destination<'_>,
) -> Result<PathBuf, RewriteError> {
    retag_refreshing(wheel, platform_tags, dest, &Digests::new())
}

/// Every file member's `RECORD` sha256 entry and size, as the audit read them.
pub type Digests = std::collections::BTreeMap<String, (String, u64)>;

/// [`retag`], with every other `RECORD` line made true to `digests` too ([`record::refresh`]).
pub fn retag_refreshing(
    wheel: &Path,
    platform_tags: &[PlatformTag],
    dest: Destination<'_>,
    digests: &Digests,
) -> Result<PathBuf, RewriteError> {
    if platform_tags.is_empty() {
        return Err(RewriteError::NoTags);
    }
    let old_name = wheel
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| RewriteError::NoFileName(wheel.to_path_buf()))?;
    let filename: WheelFilename = old_name.parse()?;
    let new_filename = filename.with_platform_tags(platform_tags.to_vec());
    let new_name = new_filename.to_string();
    let dir = match dest {
        Destination::Dir(d) => d.to_path_buf(),
        Destination::InPlace => wheel
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    let out_path = dir.join(&new_name);

    let mut archive = WheelArchive::open(wheel)?;
    let dist_info = find_dist_info(&archive, Some(&filename))?;
    let wheel_member = format!("{dist_info}/WHEEL");
    let record_member = format!("{dist_info}/RECORD");
    let bad = |member: &str, reason: String| RewriteError::DistInfo {
        path: wheel.to_path_buf(),
        member: member.to_string(),
        reason,
    };
    let wheel_text = String::from_utf8(archive.read(&wheel_member, 16 << 20)?)
        .map_err(|_| bad(&wheel_member, "not UTF-8".into()))?;
    let record_text = String::from_utf8(archive.read(&record_member, 64 << 20)?)
        .map_err(|_| bad(&record_member, "not UTF-8".into()))?;
    let is_platform = platform_tags.iter().any(|t| *t != PlatformTag::Any);
    let new_wheel = rewrite_wheel_file(&wheel_text, &new_filename.tag_triples(), is_platform);
    let mut entries =
        record::parse(&record_text).map_err(|e| bad(&record_member, e.to_string()))?;
    if !digests.is_empty() {
        record::refresh(&mut entries, digests);
    }
    let mut found = false;
    for e in entries.iter_mut().filter(|e| e.path == wheel_member) {
        e.hash = Some(record::sha256_entry(new_wheel.as_bytes()));
        e.size = Some(new_wheel.len() as u64);
        found = true;
    }
    if !found {
        entries.push(RecordEntry {
            path: wheel_member.clone(),
            hash: Some(record::sha256_entry(new_wheel.as_bytes())),
            size: Some(new_wheel.len() as u64),
        });
    }
    let new_record = record::write(&entries);

    let write_err = |source| RewriteError::Write {
        path: out_path.clone(),
        source,
    };
    let zip_err = |source| RewriteError::Zip {
        path: out_path.clone(),
        source,
    };
    let temp = crate::tempfiles::file_in(&dir, "retag").map_err(write_err)?;
    let replaces_original = matches!(dest, Destination::InPlace)
        || fs_err::canonicalize(wheel).ok() == fs_err::canonicalize(&out_path).ok();
    if replaces_original {
        let original = fs_err::metadata(wheel).map_err(write_err)?.permissions();
        temp.as_file()
            .set_permissions(original)
            .map_err(write_err)?;
    }
    let mut writer = ZipWriter::new(BufWriter::new(temp.reopen().map_err(write_err)?));
    for index in 0..archive.members().len() {
        let name = archive.members()[index].name.clone();
        let entry = archive.zip_mut().by_index_raw(index).map_err(zip_err)?;
        let replacement = if name == wheel_member {
            Some(new_wheel.as_bytes())
        } else if name == record_member {
            Some(new_record.as_bytes())
        } else {
            None
        };
        match replacement {
            Some(data) => {
                let options: SimpleFileOptions = entry
                    .options()
                    .compression_method(CompressionMethod::Deflated)
                    .large_file(false);
                drop(entry);
                writer.start_file(name.as_str(), options).map_err(zip_err)?;
                writer.write_all(data).map_err(write_err)?;
            }
            None => writer.raw_copy_file(entry).map_err(zip_err)?,
        }
    }
    let mut file = writer.finish().map_err(zip_err)?;
    file.flush().map_err(write_err)?;
    drop(file);
    temp.persist(&out_path).map_err(|e| write_err(e.error))?;
    if matches!(dest, Destination::InPlace)
        && new_name != old_name
        && let Err(source) = std::fs::remove_file(wheel)
    {
        let _ = std::fs::remove_file(&out_path);
        return Err(RewriteError::KeepOriginal {
            original: wheel.to_path_buf(),
            retagged: out_path,
            error: source,
        });
    }
    Ok(out_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_tag_lines_in_place() {
        let text = "Wheel-Version: 1.0\nGenerator: x\nRoot-Is-Purelib: true\nTag: py3-none-any\nBuild: 1\n";
        assert_eq!(
            rewrite_wheel_file(text, &["cp311-cp311-linux_armv7l".into()], true),
            "Wheel-Version: 1.0\nGenerator: x\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_armv7l\nBuild: 1\n"
        );
    }
}
