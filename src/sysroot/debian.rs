//! Provision a target root from a Debian release's packages of the target's architecture, with a
//! private apt state (pyx's sources for that release, never the host's package database), `apt-get
//! install --download-only` for the dependency closure and `dpkg-deb -x` to unpack.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::platform::Target;
use crate::printer::with_hint;
use crate::sysroot::apt::{PrivateApt, link_merged_usr, relativize_symlinks, unpack_all};
use crate::sysroot::release::DebianRelease;
use crate::sysroot::{MARKER, cached_path, lock_for, replace_dir, staging_for};

/// What a complete sysroot records about itself in its marker file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SysrootInfo {
    pub target: String,
    pub debian_arch: String,
    /// The release's codename (`trixie`); empty in roots made before releases.
    #[serde(default)]
    pub release: String,
    pub python: String,
    /// Packages asked for (`python3.11`, `libpython3.11-dev`, `libc6-dev`, `libstdc++6`, and
    /// `--with` ones).
    pub requested: Vec<String>,
    /// Every unpacked `.deb`: `name version`.
    pub packages: Vec<String>,
}

impl SysrootInfo {
    pub fn read(root: &Path) -> Option<SysrootInfo> {
        let text = fs_err::read_to_string(root.join(MARKER)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// The release the root was provisioned from.
    pub fn release(&self) -> Option<&'static DebianRelease> {
        DebianRelease::lookup(&self.release).filter(|_| !self.release.is_empty())
    }
}

/// A request for a Debian sysroot.
#[derive(Debug, Clone)]
pub struct DebianSysroot<'a> {
    pub target: &'static Target,
    /// The release whose packages (and so whose Python) the root gets.
    pub release: &'static DebianRelease,
    /// Extra packages of the target architecture (`libffi-dev`, ...).
    pub with: &'a [String],
}

impl DebianSysroot<'_> {
    fn requested(&self) -> Vec<String> {
        // What a Debian device running Python has, plus the headers to build against: C++
        // extensions (numpy) need libstdc++ at run time under `pyx test`, and modules linked
        // with `-latomic` (armel's 8-byte atomics) libatomic.
        let python = self.release.python;
        let mut pkgs = vec![
            format!("python{python}"),
            format!("libpython{python}-dev"),
            "libc6-dev".to_string(),
            "libstdc++6".to_string(),
            "libatomic1".to_string(),
        ];
        for p in self.with {
            if !pkgs.contains(p) {
                pkgs.push(p.clone());
            }
        }
        pkgs
    }

    /// The sysroot directory, provisioning it (or adding missing `--with` packages) when needed.
    /// Safe to call from several processes at once; an interrupted run never leaves a root that
    /// looks complete.
    pub fn ensure(&self, force: bool) -> Result<PathBuf> {
        let (target, release) = (self.target, self.release);
        let arch = release.arch_of(target).map_err(|e| {
            let hint = e.hint();
            with_hint(e, hint)
        })?;
        if let Some(bad) = self.with.iter().find(|p| !is_package_name(p)) {
            let hint = match bad.split_once(':') {
                Some((name, _)) if is_package_name(name) => {
                    format!("give `{name}` without the architecture: pyx adds the {arch} packages")
                }
                _ => "give Debian package names (`libjpeg-dev`, `zlib1g-dev`), separated by \
                      commas or spaces"
                    .to_string(),
            };
            return Err(with_hint(
                anyhow::anyhow!("`{bad}` is not a Debian package name"),
                hint,
            ));
        }
        let dest = cached_path(target, release).expect("target has a Debian arch");
        let requested = self.requested();
        let complete = |dest: &Path| {
            SysrootInfo::read(dest)
                .is_some_and(|info| requested.iter().all(|p| info.requested.contains(p)))
        };
        if !force && complete(&dest) {
            return Ok(dest);
        }
        let _lock = lock_for(&dest)?;
        if !force && complete(&dest) {
            return Ok(dest);
        }
        // Keep what an earlier provisioning asked for, so `--with` adds rather than replaces.
        let mut requested = requested.clone();
        if let Some(old) = SysrootInfo::read(&dest) {
            for p in old.requested {
                if !requested.contains(&p) {
                    requested.push(p);
                }
            }
        }

        eprintln!(
            "pyx: provisioning the {target} sysroot ({release} {arch}: {}) into `{}`",
            requested.join(", "),
            dest.display()
        );
        let apt = PrivateApt::new(release, arch)?;
        apt.update()?;
        let debs = apt.download(&requested)?;

        let staging = staging_for(&dest)?;
        unpack_all(&debs, &staging)?;
        relativize_symlinks(&staging)?;
        if release.merged_usr {
            link_merged_usr(&staging)?;
        }

        let info = SysrootInfo {
            target: target.name.to_string(),
            debian_arch: arch.to_string(),
            release: release.codename.to_string(),
            python: release.python.to_string(),
            requested,
            packages: debs.iter().map(|d| deb_label(d)).collect(),
        };
        fs_err::write(staging.join(MARKER), serde_json::to_string_pretty(&info)?)?;
        replace_dir(&staging, &dest)?;
        Ok(dest)
    }
}

/// Debian policy §5.6.7: lower-case letters, digits, `+`, `-` and `.`, at least two characters,
/// starting with a letter or digit (so a name never reaches apt as an option).
fn is_package_name(name: &str) -> bool {
    name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

/// A file a build looked for in the sysroot and did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MissingFile {
    /// `#include <ffi.h>` → `ffi.h`, `libxml/parser.h`.
    Header(String),
    /// `-lz` → `z`.
    Library(String),
    /// A pkg-config module: `libxml-2.0`.
    PkgConfig(String),
    /// A program in `usr/bin`: `xml2-config`.
    Program(String),
}

impl MissingFile {
    /// The name stem a `-dev` package is searched by: `ffi.h` → `ffi`, `libxml/parser.h` → `xml`,
    /// `xml2-config` → `xml2`.
    pub fn stem(&self) -> String {
        let f = match self {
            MissingFile::Header(f) | MissingFile::Library(f) | MissingFile::PkgConfig(f) => f,
            // `xml2-config` → `xml2`, `pg_config` → `pg`.
            MissingFile::Program(p) => p
                .strip_suffix("-config")
                .or_else(|| p.strip_suffix("_config"))
                .unwrap_or(p),
        };
        let stem = f.split('/').next().unwrap_or(f);
        let stem = stem
            .trim_end_matches(".hpp")
            .trim_end_matches(".hh")
            .trim_end_matches(".h");
        let stem = stem.strip_prefix("lib").unwrap_or(stem);
        stem.split(['-', '_'])
            .next()
            .unwrap_or(stem)
            .to_ascii_lowercase()
    }

    /// The stems to search by, likeliest first: [`MissingFile::stem`], then, for a header named
    /// after its library (`jpeglib.h` of libjpeg), the stem without that `lib`.
    pub fn stems(&self) -> Vec<String> {
        let stem = self.stem();
        let mut stems = vec![stem.clone()];
        if let Some(short) = stem.strip_suffix("lib").filter(|s| s.len() >= 2) {
            stems.push(short.to_string());
        }
        stems
    }

    /// True when `path` (a `dpkg-deb -c` member path) is this file.
    fn is(&self, path: &str) -> bool {
        match self {
            // `usr/include/ffi.h`, `usr/include/<multiarch>/ffi.h`, `usr/include/libxml2/libxml/parser.h`.
            MissingFile::Header(h) => path
                .split_once("/include/")
                .is_some_and(|(_, rest)| rest == h || rest.ends_with(&format!("/{h}"))),
            MissingFile::Library(l) => {
                path.ends_with(&format!("/lib{l}.so")) || path.ends_with(&format!("/lib{l}.a"))
            }
            MissingFile::PkgConfig(m) => path.ends_with(&format!("/pkgconfig/{m}.pc")),
            MissingFile::Program(p) => path.ends_with(&format!("/bin/{p}")),
        }
    }
}

/// The `-dev` package that ships `missing`, from the packages of the release and architecture
/// `sysroot` was provisioned from: candidates by name from pyx's private package lists, each
/// checked by downloading it (into the private apt cache) and reading its file list. `None` for a
/// root pyx did not make (`--sysroot`) or when no candidate ships the file.
pub fn dev_package_for(sysroot: &Path, missing: &MissingFile) -> Option<String> {
    let info = SysrootInfo::read(sysroot)?;
    let apt = PrivateApt::existing(info.release()?, &info.debian_arch)?;
    missing
        .stems()
        .iter()
        .find_map(|stem| dev_package_by_stem(&apt, missing, stem))
}

/// For each of `sonames`, the package of the sysroot that ships that shared library
/// (`libzmq.so.5` → `libzmq5`): the one a device needs installed for a wheel that links it. Read
/// from the `.deb` files the root was unpacked from, likeliest names first, each listed at most
/// once. `None` for a root pyx did not make (`--sysroot`), or when none of its packages ships the
/// library.
pub fn runtime_packages_for(sysroot: &Path, sonames: &[String]) -> Vec<Option<String>> {
    if sonames.is_empty() {
        return Vec::new();
    }
    let root = SysrootInfo::read(sysroot).and_then(|info| {
        let apt = PrivateApt::existing(info.release()?, &info.debian_arch)?;
        Some((info, apt))
    });
    let Some((info, apt)) = root else {
        return vec![None; sonames.len()];
    };
    let names: Vec<&str> = info
        .packages
        .iter()
        .filter_map(|p| p.split_whitespace().next())
        .filter(|n| !n.ends_with("-dev") && !n.ends_with("-doc"))
        .collect();
    let mut listed: HashMap<&str, Vec<String>> = HashMap::new();
    sonames
        .iter()
        .map(|soname| {
            let stem = soname.split(".so").next().unwrap_or(soname);
            let mut ranked = names.clone();
            ranked.sort_by_key(|n| (!n.starts_with(stem), !n.starts_with("lib"), n.len()));
            ranked
                .into_iter()
                .find(|name| {
                    listed
                        .entry(name)
                        .or_insert_with(|| file_names_in(&apt, name))
                        .contains(soname)
                })
                .map(str::to_string)
        })
        .collect()
}

/// The names of the files the downloaded package `name` ships (`dpkg-deb -c`); none when it is
/// not downloaded.
fn file_names_in(apt: &PrivateApt, name: &str) -> Vec<String> {
    let Some(deb) = apt.downloaded(name) else {
        return Vec::new();
    };
    let Ok(out) = Command::new("dpkg-deb").arg("-c").arg(&deb).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            // `-rw-r--r-- root/root 1234 2023-01-01 00:00 ./usr/lib/x/libz.so.1 -> libz.so.1.2`
            let member = line.split(" -> ").next().unwrap_or(line);
            let path = member.split_whitespace().last()?;
            Some(path.rsplit('/').next().unwrap_or(path).to_string())
        })
        .collect()
}

/// [`dev_package_for`] with one name stem.
fn dev_package_by_stem(apt: &PrivateApt, missing: &MissingFile, stem: &str) -> Option<String> {
    let stem = regex::escape(stem);
    // A program's package may carry a flavour (`libcurl4-openssl-dev` ships `curl-config`).
    let flavour = if matches!(missing, MissingFile::Program(_)) {
        "[a-z0-9.+-]*"
    } else {
        "[a-z0-9.]*"
    };
    let pattern = format!("^(lib)?{stem}[0-9.]*{flavour}-dev$");
    let out = apt
        .apt("apt-cache")
        .args(["search", "--names-only", &pattern])
        .output()
        .ok()?;
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(" - ").next())
        .map(|n| n.trim().to_string())
        .collect();
    // Likeliest first: `libffi-dev`; `libxml2-dev`, `zlib1g-dev`; other `lib*`; the rest.
    let rank = |n: &str| {
        let after_lib = n.strip_prefix(&format!("lib{stem}"));
        if n == format!("lib{stem}-dev") {
            0
        } else if after_lib.is_some_and(|r| r.starts_with(|c: char| !c.is_ascii_lowercase()))
            || n.starts_with(&format!("{stem}lib"))
        {
            1
        } else if n.starts_with("lib") {
            2
        } else {
            3
        }
    };
    names.sort_by_key(|n| (rank(n), n.len()));
    names.into_iter().take(8).find(|name| {
        let Ok(deb) = apt.download_alone(name) else {
            return false;
        };
        Command::new("dpkg-deb")
            .arg("-c")
            .arg(&deb)
            .output()
            .is_ok_and(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.split_whitespace().last().is_some_and(|p| missing.is(p)))
            })
    })
}

/// `python3.11_3.11.2-6+deb12u8_armhf.deb` → `python3.11 3.11.2-6+deb12u8`.
pub(crate) fn deb_label(deb: &Path) -> String {
    let name = deb.file_name().unwrap_or_default().to_string_lossy();
    let mut parts = name.trim_end_matches(".deb").split('_');
    let pkg = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default().replace("%3a", ":");
    format!("{pkg} {version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_by_their_stem_and_path() {
        let program = |n: &str| MissingFile::Program(n.to_string());
        assert_eq!(program("xml2-config").stem(), "xml2");
        assert_eq!(program("libpng-config").stem(), "png");
        assert_eq!(program("pg_config").stem(), "pg");
        assert_eq!(program("python3.11-config").stem(), "python3.11");
        assert!(program("xml2-config").is("./usr/bin/xml2-config"));
        assert!(
            !program("python3.11-config").is("./usr/bin/arm-linux-gnueabihf-python3.11-config")
        );
        assert!(!program("xml2-config").is("./usr/share/man/man1/xml2-config.1.gz"));
    }

    #[test]
    fn package_names_follow_debian_policy() {
        for good in [
            "libjpeg-dev",
            "zlib1g-dev",
            "libstdc++6",
            "python3.11",
            "g++",
        ] {
            assert!(is_package_name(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "-o",
            "--option=x",
            "LibFoo-dev",
            "libffi-dev:armhf",
            "a/b",
            "x;y",
        ] {
            assert!(!is_package_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_header_named_after_its_library_is_searched_without_lib() {
        let stems = |h: &str| MissingFile::Header(h.into()).stems();
        assert_eq!(stems("jpeglib.h"), ["jpeglib", "jpeg"]);
        assert_eq!(stems("zlib.h"), ["zlib"]);
        assert_eq!(stems("ffi.h"), ["ffi"]);
        assert_eq!(stems("lzo/lzo1x.h"), ["lzo"]);
    }

    #[test]
    fn deb_file_names_become_labels() {
        assert_eq!(
            deb_label(Path::new("/x/libc6_2.36-9%3a1_armhf.deb")),
            "libc6 2.36-9:1"
        );
    }
}
