//! apt for foreign architectures and other Debian releases without touching the host: a private
//! state, cache and sources list per (release, architecture) under pyx's cache (the host's mirror,
//! keys and `apt.conf.d`, never its lists, pins or package database), a simulated install for a
//! dependency closure, `apt-get install --download-only`, and `dpkg-deb -x` to unpack.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cache::cache_dir;
use crate::env_vars;
use crate::printer::with_hint;
use crate::sysroot::release::DebianRelease;
use crate::sysroot::sources::Mirrors;

/// apt with its own state, cache and sources for one Debian release and architecture.
pub struct PrivateApt {
    /// The state and cache root (`<cache>/apt/<release>/<arch>`).
    pub dir: PathBuf,
    arch: String,
    release: &'static DebianRelease,
    mirrors: Mirrors,
}

impl PrivateApt {
    /// The private apt of `release` for `arch` (a Debian architecture name: `armhf`, `amd64`),
    /// with pyx's sources for that release written into it.
    pub fn new(release: &'static DebianRelease, arch: &str) -> Result<PrivateApt> {
        if which::which("apt-get").is_err() || which::which("dpkg-deb").is_err() {
            return Err(with_hint(
                anyhow::anyhow!(
                    "`apt-get` and `dpkg-deb` are needed to provision a Debian sysroot"
                ),
                "run pyx on Debian/Ubuntu, or give a target root with --sysroot DIR",
            ));
        }
        let apt = PrivateApt::at(release, arch);
        for sub in [
            "state/lists/partial",
            "cache/archives/partial",
            "sources.list.d",
            "preferences.d",
        ] {
            fs_err::create_dir_all(apt.dir.join(sub))?;
        }
        let status = apt.dir.join("state/status");
        if !status.exists() {
            fs_err::write(&status, "")?;
        }
        crate::files::write_if_changed(
            &apt.dir.join("sources.list.d/debian.sources"),
            &apt.mirrors.deb822(release),
        )?;
        Ok(apt)
    }

    /// The private state of `release` and `arch` when an earlier provisioning made one.
    pub fn existing(release: &'static DebianRelease, arch: &str) -> Option<PrivateApt> {
        let apt = PrivateApt::at(release, arch);
        apt.dir.join("state/lists").is_dir().then_some(apt)
    }

    fn at(release: &'static DebianRelease, arch: &str) -> PrivateApt {
        PrivateApt {
            dir: cache_dir().join("apt").join(release.codename).join(arch),
            arch: arch.to_string(),
            release,
            mirrors: Mirrors::from_host(),
        }
    }

    pub fn apt_get(&self) -> Command {
        let mut cmd = self.apt("apt-get");
        cmd.arg("-y");
        cmd
    }

    /// `program` (`apt-get`, `apt-cache`) on the private state. The host's `apt.conf.d` still
    /// applies (proxies, `Check-Valid-Until`); its sources, pins and AppStream indexes do not.
    pub fn apt(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let d = self.dir.display();
        cmd.arg("-q")
            .arg(format!("-oAPT::Architecture={}", self.arch))
            .arg(format!("-oAPT::Architectures={}", self.arch))
            .arg(format!("-oDir::State={d}/state"))
            .arg(format!("-oDir::State::status={d}/state/status"))
            .arg(format!("-oDir::Cache={d}/cache"))
            .arg("-oDir::Etc::SourceList=/dev/null")
            .arg(format!("-oDir::Etc::SourceParts={d}/sources.list.d"))
            .arg("-oDir::Etc::Preferences=/dev/null")
            .arg(format!("-oDir::Etc::PreferencesParts={d}/preferences.d"))
            .args(
                [
                    "DEP-11",
                    "DEP-11-icons",
                    "DEP-11-icons-small",
                    "DEP-11-icons-hidpi",
                ]
                .map(|t| format!("-oAcquire::IndexTargets::deb::{t}::DefaultEnabled=false")),
            )
            .arg("-oDebug::NoLocking=1")
            .arg("-oAPT::Sandbox::User=root")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("LC_ALL", "C");
        cmd
    }

    /// `trixie/armhf from http://deb.debian.org/debian`, for messages.
    fn describe(&self) -> String {
        format!(
            "{} `{}` from `{}`",
            self.release, self.arch, self.mirrors.archive
        )
    }

    /// What to try when the mirror fails: where its address came from, and how to use another.
    fn mirror_hint(&self) -> String {
        format!(
            "pyx reads the mirror `{}` from {}; point it at another Debian mirror with {}=URL",
            self.mirrors.archive,
            self.mirrors.origin,
            env_vars::PYX_DEBIAN_MIRROR
        )
    }

    /// Refresh the package lists. A failed index (a mirror mid-sync) is tolerated as long as
    /// the main lists for the architecture arrived.
    pub fn update(&self) -> Result<()> {
        let out = self
            .apt_get()
            .arg("update")
            .output()
            .context("failed to run `apt-get update`")?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        let has_lists = self.has_package_lists()?;
        if out.status.success() && has_lists {
            return Ok(());
        }
        if has_lists {
            let first = stderr
                .lines()
                .find(|l| l.starts_with("E:"))
                .unwrap_or("")
                .trim();
            tracing::warn!(
                "some {} package lists failed to update, using the rest: {first}",
                self.describe()
            );
            return Ok(());
        }
        // apt-get update exits 0 without a Packages file when the release lacks the arch.
        let why = match stderr.trim() {
            "" => "no package list arrived for this architecture".to_string(),
            e => e.to_string(),
        };
        Err(with_hint(
            anyhow::anyhow!("`apt-get update` for {} failed: {why}", self.describe()),
            self.mirror_hint(),
        ))
    }

    fn has_package_lists(&self) -> Result<bool> {
        let suffix = format!("_binary-{}_Packages", self.arch);
        Ok(fs_err::read_dir(self.dir.join("state/lists"))?
            .filter_map(|e| e.ok())
            .any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                // `..._binary-armhf_Packages`, or compressed: `..._Packages.lz4`.
                name.ends_with(&suffix) || name.contains(&format!("{suffix}."))
            }))
    }

    /// Download the dependency closure of `packages` (no recommends); returns the `.deb` paths.
    pub fn download(&self, packages: &[String]) -> Result<Vec<PathBuf>> {
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
            return Err(self.download_error(&String::from_utf8_lossy(&out.stderr)));
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

    /// Download `package` alone, without its dependencies (`apt-get download`); returns its path.
    pub fn download_alone(&self, package: &str) -> Result<PathBuf> {
        let archives = self.dir.join("cache/archives");
        let out = self
            .apt_get()
            .args(["download", package])
            .current_dir(&archives)
            .output()
            .context("failed to run `apt-get download`")?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            if stderr.contains("Unable to locate package") {
                return Err(self.resolve_error(&[package.to_string()], &stderr));
            }
            return Err(self.download_error(&stderr));
        }
        self.downloaded(package)
            .ok_or_else(|| anyhow::anyhow!("apt-get did not download `{package}`"))
    }

    /// The `.deb` of `package` in the private download cache, if one is there.
    pub fn downloaded(&self, package: &str) -> Option<PathBuf> {
        let prefix = format!("{package}_");
        let mut found: Vec<PathBuf> = fs_err::read_dir(self.dir.join("cache/archives"))
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().is_some_and(|f| {
                    let f = f.to_string_lossy();
                    f.starts_with(&prefix) && f.ends_with(".deb")
                })
            })
            .collect();
        found.sort();
        found.pop()
    }

    fn download_error(&self, stderr: &str) -> anyhow::Error {
        let missing = missing_on_mirror(stderr);
        if missing.is_empty() {
            return with_hint(
                anyhow::anyhow!(
                    "downloading the {} packages failed: {}",
                    self.describe(),
                    stderr.trim()
                ),
                format!(
                    "run again; a mirror mid-sync is usually fixed within minutes. {}",
                    self.mirror_hint()
                ),
            );
        }
        with_hint(
            anyhow::anyhow!(
                "the mirror `{}` lists {} packages of {} `{}` that it does not serve (404): {}",
                self.mirrors.archive,
                missing.len(),
                self.release,
                self.arch,
                missing.join(", ")
            ),
            format!(
                "the mirror (or a proxy in front of it) is incomplete for `{}`, not the package \
                 names; {}",
                self.arch,
                self.mirror_hint()
            ),
        )
    }

    /// Every version of `package` the package lists offer, as `apt-cache madison` lists them
    /// (highest first); empty when there is none.
    pub fn versions(&self, package: &str) -> Result<Vec<String>> {
        let out = self
            .apt("apt-cache")
            .args(["madison", package])
            .output()
            .context("failed to run `apt-cache madison`")?;
        let mut versions: Vec<String> = Vec::new();
        for v in String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.split('|').next().is_some_and(|p| p.trim() == package))
            .filter_map(|l| l.split('|').nth(1).map(|v| v.trim().to_string()))
        {
            if !versions.contains(&v) {
                versions.push(v);
            }
        }
        Ok(versions)
    }

    /// The packages installing `packages` (`name=version`) would add to the build machine: a
    /// simulated install against the host's real dpkg status, new packages only (upgrades of
    /// installed ones are left to the host). Returns (name, version, arch).
    pub fn new_on_host(&self, packages: &[String]) -> Result<Vec<(String, String, String)>> {
        let plan = self
            .apt_get()
            .args(["install", "-s", "--no-install-recommends"])
            .arg("-oDir::State::status=/var/lib/dpkg/status")
            .args(packages)
            .output()
            .context("failed to run `apt-get install -s`")?;
        if !plan.status.success() {
            return Err(self.resolve_error(packages, &String::from_utf8_lossy(&plan.stderr)));
        }
        // An upgrade reads `Inst libc6 [2.36-9+deb12u10] (2.36-9+deb12u14 ...)`.
        Ok(String::from_utf8_lossy(&plan.stdout)
            .lines()
            .filter_map(parse_inst_line)
            .filter(|(pkg, _, _)| !pkg.contains('['))
            .collect())
    }

    /// `apt-get download` exactly these (name, version) pairs into the private cache; returns the
    /// `.deb` paths and how many bytes were downloaded (files already there are kept).
    pub fn download_exact(&self, packages: &[(String, String)]) -> Result<(Vec<PathBuf>, u64)> {
        let archives = self.dir.join("cache/archives");
        let mut debs = Vec::new();
        let mut bytes = 0;
        for (pkg, version) in packages {
            // `Architecture: all` packages carry `_all` in their file name.
            let found = || {
                [self.arch.as_str(), "all"]
                    .iter()
                    .map(|arch| {
                        archives.join(format!("{pkg}_{}_{arch}.deb", version.replace(':', "%3a")))
                    })
                    .find(|p| p.is_file())
            };
            if let Some(deb) = found() {
                debs.push(deb);
                continue;
            }
            let out = self
                .apt_get()
                .arg("download")
                .arg(format!("{pkg}={version}"))
                .current_dir(&archives)
                .output()
                .context("failed to run `apt-get download`")?;
            let Some(deb) = found().filter(|_| out.status.success()) else {
                return Err(with_hint(
                    anyhow::anyhow!(
                        "downloading `{pkg}={version}` ({}) failed: {}",
                        self.arch,
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                    "run again; a mirror mid-sync is usually fixed within minutes",
                ));
            };
            bytes += fs_err::metadata(&deb)?.len();
            debs.push(deb);
        }
        Ok((debs, bytes))
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
                "{} has no {}; pyx's Debian sysroots of {} carry Python {} — for another \
                 Python choose its release with --python, or bring a target root with --sysroot",
                self.describe(),
                missing.join(", "),
                self.release,
                self.release.python
            )
        };
        with_hint(
            anyhow::anyhow!(
                "cannot resolve the {} packages {}: {}",
                self.describe(),
                packages.join(" "),
                stderr.trim()
            ),
            hint,
        )
    }
}

/// The `.deb` files a mirror answered 404 for, from `apt-get` errors such as
/// `E: Failed to fetch http://m/debian/pool/main/g/glibc/libc6_2.41-12_armel.deb  404  Not Found [IP: ...]`.
fn missing_on_mirror(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains(" 404 "))
        .filter_map(|l| l.split_whitespace().find(|w| w.ends_with(".deb")))
        .map(|url| {
            let file = url.rsplit('/').next().unwrap_or(url);
            file.replace("%2b", "+")
                .replace("%7e", "~")
                .replace("%3a", ":")
        })
        .collect()
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
pub fn unpack_all(debs: &[PathBuf], root: &Path) -> Result<()> {
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

/// The links `base-files` makes in a merged-/usr root (`lib -> usr/lib`, `bin`, `sbin`, `lib64`
/// ...): without them the sysroot's `libc.so` script (`/lib/<triplet>/libc.so.6`) and QEMU's
/// loader path (`/lib/ld-linux-*.so`) do not resolve. A real top-level directory a package
/// shipped anyway is merged into `usr/` first. Returns the links made.
pub fn link_merged_usr(root: &Path) -> Result<Vec<String>> {
    let mut made = Vec::new();
    for dir in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let usr = root.join("usr").join(dir);
        let top = root.join(dir);
        if !usr.is_dir() || top.is_symlink() {
            continue;
        }
        if top.is_dir() {
            merge_into(&top, &usr)?;
            fs_err::remove_dir_all(&top)?;
        }
        std::os::unix::fs::symlink(Path::new("usr").join(dir), &top)
            .with_context(|| format!("cannot link `{}`", top.display()))?;
        made.push(dir.to_string());
    }
    Ok(made)
}

/// Move every entry of `from` into `to`, directories merged, files already in `to` kept.
fn merge_into(from: &Path, to: &Path) -> Result<()> {
    for entry in fs_err::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        let is_dir = entry.file_type()?.is_dir();
        if is_dir && dest.is_dir() {
            merge_into(&entry.path(), &dest)?;
        } else if dest.symlink_metadata().is_err() {
            fs_err::rename(entry.path(), &dest)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // An upgrade of an installed package names the old version in brackets: `new_on_host`
        // leaves those out.
        let upgrade = parse_inst_line(
            "Inst libc6 [2.36-9+deb12u10] (2.36-9+deb12u14 Debian:12.15/oldstable [amd64])",
        );
        assert!(upgrade.is_some_and(|(pkg, _, _)| pkg.contains('[')));
    }

    #[test]
    fn files_the_mirror_lacks_are_named() {
        let stderr = "E: Failed to fetch http://deb.debian.org/debian/pool/main/g/glibc/libc6_2.41-12%2bdeb13u5_armel.deb  404  Not Found [IP: 10.0.0.1 80]\n\
                      E: Failed to fetch http://deb.debian.org/debian/pool/main/z/zlib/zlib1g_1.3.dfsg-3.1_armel.deb  404  Not Found [IP: 10.0.0.1 80]\n\
                      E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?\n";
        assert_eq!(
            missing_on_mirror(stderr),
            [
                "libc6_2.41-12+deb13u5_armel.deb",
                "zlib1g_1.3.dfsg-3.1_armel.deb"
            ]
        );
        assert!(missing_on_mirror("E: Could not resolve 'deb.debian.org'").is_empty());
    }

    #[test]
    fn merged_usr_links_are_made_and_stray_directories_merged() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs_err::create_dir_all(r.join("usr/lib/riscv64-linux-gnu")).unwrap();
        fs_err::create_dir_all(r.join("usr/bin")).unwrap();
        fs_err::write(r.join("usr/lib/ld-linux-riscv64-lp64d.so.1"), "ld").unwrap();
        fs_err::create_dir_all(r.join("lib/riscv64-linux-gnu")).unwrap();
        fs_err::write(r.join("lib/riscv64-linux-gnu/libstray.so.1"), "x").unwrap();
        assert_eq!(link_merged_usr(r).unwrap(), ["bin", "lib"]);
        assert_eq!(
            fs_err::read_link(r.join("lib")).unwrap(),
            Path::new("usr/lib")
        );
        assert!(r.join("lib/ld-linux-riscv64-lp64d.so.1").is_file());
        assert!(r.join("usr/lib/riscv64-linux-gnu/libstray.so.1").is_file());
        assert!(!r.join("sbin").exists(), "no usr/sbin, no link");
        assert!(
            link_merged_usr(r).unwrap().is_empty(),
            "a second run changes nothing"
        );
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
}
