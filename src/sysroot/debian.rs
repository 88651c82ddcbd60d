//! Provision a target root from Debian's packages of the target's architecture, with a private
//! apt state (the host's sources and keys, never its package database), `apt-get install
//! --download-only` for the dependency closure and `dpkg-deb -x` to unpack.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::cache::cache_dir;
use crate::platform::Target;
use crate::printer::with_hint;
use crate::sysroot::{MARKER, cached_path};

/// What a complete sysroot records about itself in its marker file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SysrootInfo {
    pub target: String,
    pub debian_arch: String,
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
}

/// A request for a Debian sysroot.
#[derive(Debug, Clone)]
pub struct DebianSysroot<'a> {
    pub target: &'static Target,
    /// `3.11`.
    pub python: &'a str,
    /// Extra packages of the target architecture (`libffi-dev`, ...).
    pub with: &'a [String],
}

impl DebianSysroot<'_> {
    fn requested(&self) -> Vec<String> {
        // What a Debian device running Python has, plus the headers to build against: C++
        // extensions (numpy) need libstdc++ at run time under `pyx test`.
        let mut pkgs = vec![
            format!("python{}", self.python),
            format!("libpython{}-dev", self.python),
            "libc6-dev".to_string(),
            "libstdc++6".to_string(),
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
        let target = self.target;
        let Some(arch) = target.debian_arch else {
            return Err(with_hint(
                anyhow::anyhow!("Debian has no architecture for target `{target}`"),
                "bring your own target root with --sysroot DIR (a Buildroot/Yocto SDK sysroot)",
            ));
        };
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
        let dest = cached_path(target, self.python).expect("target has a Debian arch");
        let requested = self.requested();
        let complete = |dest: &Path| {
            SysrootInfo::read(dest)
                .is_some_and(|info| requested.iter().all(|p| info.requested.contains(p)))
        };
        if !force && complete(&dest) {
            return Ok(dest);
        }

        let parent = dest.parent().expect("sysroot path has a parent");
        fs_err::create_dir_all(parent)?;
        let lock = File::create(parent.join(format!(".{arch}-python{}.lock", self.python)))?;
        lock.lock().context("cannot lock the sysroot directory")?;
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
            "pyx: provisioning the {target} sysroot (Debian {arch}: {}) into `{}`",
            requested.join(", "),
            dest.display()
        );
        let apt = PrivateApt::new(arch)?;
        apt.update()?;
        let debs = apt.download(&requested)?;

        let staging = parent.join(format!(
            ".{arch}-python{}.tmp-{}",
            self.python,
            std::process::id()
        ));
        if staging.exists() {
            fs_err::remove_dir_all(&staging)?;
        }
        fs_err::create_dir_all(&staging)?;
        unpack_all(&debs, &staging)?;
        relativize_symlinks(&staging)?;

        let info = SysrootInfo {
            target: target.name.to_string(),
            debian_arch: arch.to_string(),
            python: self.python.to_string(),
            requested,
            packages: debs.iter().map(|d| deb_label(d)).collect(),
        };
        fs_err::write(staging.join(MARKER), serde_json::to_string_pretty(&info)?)?;

        if dest.exists() {
            let trash = parent.join(format!(
                ".{arch}-python{}.old-{}",
                self.python,
                std::process::id()
            ));
            fs_err::rename(&dest, &trash)?;
            fs_err::rename(&staging, &dest)?;
            let _ = fs_err::remove_dir_all(&trash);
        } else {
            fs_err::rename(&staging, &dest)?;
        }
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

/// The `-dev` package of `target`'s Debian architecture that ships `missing`: candidates by name
/// from pyx's private package lists, each checked by downloading it (into the private apt cache)
/// and reading its file list. `None` when pyx has no package lists for that architecture (a root
/// brought with `--sysroot`) or no candidate ships the file.
pub fn dev_package_for(target: &Target, missing: &MissingFile) -> Option<String> {
    let apt = target.debian_arch.and_then(PrivateApt::existing)?;
    missing
        .stems()
        .iter()
        .find_map(|stem| dev_package_by_stem(&apt, missing, stem))
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
    let archives = apt.dir.join("cache/archives");
    names.into_iter().take(8).find(|name| {
        let downloaded = apt
            .apt_get()
            .args(["download", name])
            .current_dir(&archives)
            .output()
            .is_ok_and(|o| o.status.success());
        let deb = fs_err::read_dir(&archives).ok().and_then(|entries| {
            entries.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| {
                p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(&format!("{name}_")))
            })
        });
        let Some(deb) = deb.filter(|_| downloaded) else {
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
fn deb_label(deb: &Path) -> String {
    let name = deb.file_name().unwrap_or_default().to_string_lossy();
    let mut parts = name.trim_end_matches(".deb").split('_');
    let pkg = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default().replace("%3a", ":");
    format!("{pkg} {version}")
}

/// apt with its own state and cache directories for one foreign architecture.
struct PrivateApt {
    dir: PathBuf,
    arch: String,
}

impl PrivateApt {
    fn new(arch: &str) -> Result<PrivateApt> {
        if which::which("apt-get").is_err() || which::which("dpkg-deb").is_err() {
            return Err(with_hint(
                anyhow::anyhow!(
                    "`apt-get` and `dpkg-deb` are needed to provision a Debian sysroot"
                ),
                "run pyx on Debian/Ubuntu, or give a target root with --sysroot DIR",
            ));
        }
        let dir = cache_dir().join("apt").join(arch);
        for sub in ["state/lists/partial", "cache/archives/partial"] {
            fs_err::create_dir_all(dir.join(sub))?;
        }
        let status = dir.join("state/status");
        if !status.exists() {
            fs_err::write(&status, "")?;
        }
        Ok(PrivateApt {
            dir,
            arch: arch.to_string(),
        })
    }

    /// The private state of `arch` when an earlier provisioning made one.
    fn existing(arch: &str) -> Option<PrivateApt> {
        let dir = cache_dir().join("apt").join(arch);
        dir.join("state/lists").is_dir().then(|| PrivateApt {
            dir,
            arch: arch.to_string(),
        })
    }

    fn apt_get(&self) -> Command {
        let mut cmd = self.apt("apt-get");
        cmd.arg("-y");
        cmd
    }

    fn apt(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let d = self.dir.display();
        cmd.arg("-q")
            .arg(format!("-oAPT::Architecture={}", self.arch))
            .arg(format!("-oAPT::Architectures={}", self.arch))
            .arg(format!("-oDir::State={d}/state"))
            .arg(format!("-oDir::State::status={d}/state/status"))
            .arg(format!("-oDir::Cache={d}/cache"))
            .arg("-oDebug::NoLocking=1")
            .arg("-oAPT::Sandbox::User=root")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("LC_ALL", "C");
        cmd
    }

    /// Refresh the package lists. A failed index (a mirror mid-sync) is tolerated as long as
    /// the main lists for the architecture arrived.
    fn update(&self) -> Result<()> {
        let out = self
            .apt_get()
            .arg("update")
            .output()
            .context("failed to run `apt-get update`")?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return Ok(());
        }
        let lists = fs_err::read_dir(self.dir.join("state/lists"))?
            .filter_map(|e| e.ok())
            .any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.ends_with(&format!("_binary-{}_Packages", self.arch)) || n.contains("_Packages")
            });
        if lists {
            let first = stderr
                .lines()
                .find(|l| l.starts_with("E:"))
                .unwrap_or("")
                .trim();
            tracing::warn!(
                "some {} package lists failed to update, using the rest: {first}",
                self.arch
            );
            return Ok(());
        }
        Err(with_hint(
            anyhow::anyhow!(
                "`apt-get update` for architecture `{}` failed: {}",
                self.arch,
                stderr.trim()
            ),
            "pyx uses the host's apt sources (/etc/apt/sources.list*); they must reach a Debian \
             archive that serves this architecture",
        ))
    }

    /// Download the dependency closure of `packages` (no recommends); returns the `.deb` paths.
    fn download(&self, packages: &[String]) -> Result<Vec<PathBuf>> {
        // A simulated install against the empty private status lists the whole closure:
        // `Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [armhf]) []`.
        let plan = self
            .apt_get()
            .args(["install", "-s", "--no-install-recommends"])
            .args(packages)
            .output()
            .context("failed to run `apt-get install -s`")?;
        if !plan.status.success() {
            return Err(self.resolve_error(packages, &String::from_utf8_lossy(&plan.stderr)));
        }
        let closure: Vec<(String, String, String)> = String::from_utf8_lossy(&plan.stdout)
            .lines()
            .filter_map(parse_inst_line)
            .collect();
        if closure.is_empty() {
            bail!("apt-get resolved no packages for {}", packages.join(" "));
        }
        let out = self
            .apt_get()
            .args(["install", "--download-only", "--no-install-recommends"])
            .args(packages)
            .output()
            .context("failed to run `apt-get install --download-only`")?;
        if !out.status.success() {
            return Err(with_hint(
                anyhow::anyhow!(
                    "downloading the {} packages failed: {}",
                    self.arch,
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                "run again; a mirror mid-sync is usually fixed within minutes",
            ));
        }
        let archives = self.dir.join("cache/archives");
        closure
            .iter()
            .map(|(pkg, version, arch)| {
                let path =
                    archives.join(format!("{pkg}_{}_{arch}.deb", version.replace(':', "%3a")));
                if path.is_file() {
                    Ok(path)
                } else {
                    bail!("apt-get did not download `{}`", path.display())
                }
            })
            .collect()
    }

    fn resolve_error(&self, packages: &[String], stderr: &str) -> anyhow::Error {
        let missing: Vec<&str> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("E: Unable to locate package "))
            .collect();
        let hint = if missing.is_empty() {
            "check the package names (`apt-cache search NAME` on a Debian machine)".to_string()
        } else {
            format!(
                "Debian's {} archive has no {}; pyx's Debian sysroots carry the Python of the host's \
                 Debian release — for another Python bring a target root with --sysroot",
                self.arch,
                missing.join(", ")
            )
        };
        with_hint(
            anyhow::anyhow!(
                "cannot resolve the {} packages {}: {}",
                self.arch,
                packages.join(" "),
                stderr.trim()
            ),
            hint,
        )
    }
}

/// `Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [armhf]) []` → (libc6, 2.36-9+deb12u14, armhf).
fn parse_inst_line(line: &str) -> Option<(String, String, String)> {
    let rest = line.strip_prefix("Inst ")?;
    let (pkg, rest) = rest.split_once(" (")?;
    let version = rest.split_whitespace().next()?;
    let arch = rest.split_once('[')?.1.split_once(']')?.0;
    Some((pkg.to_string(), version.to_string(), arch.to_string()))
}

/// `dpkg-deb -x` every package into `root`, two at a time.
fn unpack_all(debs: &[PathBuf], root: &Path) -> Result<()> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let chunks: Vec<&[PathBuf]> = debs.chunks(debs.len().div_ceil(workers)).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || -> Result<()> {
                    for deb in chunk {
                        let out = Command::new("dpkg-deb")
                            .arg("-x")
                            .arg(deb)
                            .arg(root)
                            .output()
                            .context("failed to run `dpkg-deb`")?;
                        if !out.status.success() {
                            bail!(
                                "`dpkg-deb -x {}` failed: {}",
                                deb.display(),
                                String::from_utf8_lossy(&out.stderr).trim()
                            );
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("unpack thread panicked"))
    })
}

/// Rewrite absolute symlinks (`libz.so -> /lib/<triplet>/libz.so.1`) to relative ones, so they
/// resolve inside the root instead of on the build machine.
pub fn relativize_symlinks(root: &Path) -> Result<usize> {
    let mut fixed = 0;
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let entry = entry?;
        if !entry.path_is_symlink() {
            continue;
        }
        let link = entry.path();
        let target = fs_err::read_link(link)?;
        if !target.is_absolute() {
            continue;
        }
        let depth = link
            .parent()
            .and_then(|p| p.strip_prefix(root).ok())
            .map_or(0, |p| p.components().count());
        let mut rel = PathBuf::new();
        for _ in 0..depth {
            rel.push("..");
        }
        rel.push(target.strip_prefix("/").unwrap_or(&target));
        fs_err::remove_file(link)?;
        std::os::unix::fs::symlink(&rel, link)
            .with_context(|| format!("cannot relink `{}`", link.display()))?;
        fixed += 1;
    }
    Ok(fixed)
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
    fn absolute_symlinks_become_relative() {
        let root = tempfile::tempdir().unwrap();
        let lib = root.path().join("usr/lib/arm-linux-gnueabihf");
        fs_err::create_dir_all(&lib).unwrap();
        fs_err::create_dir_all(root.path().join("lib/arm-linux-gnueabihf")).unwrap();
        fs_err::write(root.path().join("lib/arm-linux-gnueabihf/libz.so.1"), "x").unwrap();
        std::os::unix::fs::symlink("/lib/arm-linux-gnueabihf/libz.so.1", lib.join("libz.so"))
            .unwrap();
        assert_eq!(relativize_symlinks(root.path()).unwrap(), 1);
        assert_eq!(
            fs_err::read_link(lib.join("libz.so")).unwrap(),
            Path::new("../../../lib/arm-linux-gnueabihf/libz.so.1")
        );
        assert_eq!(fs_err::read_to_string(lib.join("libz.so")).unwrap(), "x");
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
    fn simulated_install_lines_parse() {
        assert_eq!(
            parse_inst_line("Inst libc6 (2.36-9+deb12u14 Debian:12.15/oldstable [armhf]) []"),
            Some(("libc6".into(), "2.36-9+deb12u14".into(), "armhf".into()))
        );
        assert_eq!(
            parse_inst_line("Inst media-types (10.0.0 Debian:12.15/oldstable [all])"),
            Some(("media-types".into(), "10.0.0".into(), "all".into()))
        );
        assert_eq!(parse_inst_line("Conf libc6 (2.36)"), None);
    }

    #[test]
    fn deb_file_names_become_labels() {
        assert_eq!(
            deb_label(Path::new("/x/libc6_2.36-9%3a1_armhf.deb")),
            "libc6 2.36-9:1"
        );
    }
}
