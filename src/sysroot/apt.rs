//! apt for foreign architectures without touching the host: a private state and cache under
//! pyx's cache (the host's sources and keys, never its package database), a simulated install for
//! a dependency closure, `apt-get install --download-only`, and `dpkg-deb -x` to unpack.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::cache::cache_dir;
use crate::printer::with_hint;

/// apt with its own state and cache directories for one foreign architecture.
pub struct PrivateApt {
    /// The state and cache root (`<cache>/apt/<arch>`).
    pub dir: PathBuf,
    arch: String,
}

impl PrivateApt {
    pub fn new(arch: &str) -> Result<PrivateApt> {
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
    pub fn existing(arch: &str) -> Option<PrivateApt> {
        let dir = cache_dir().join("apt").join(arch);
        dir.join("state/lists").is_dir().then(|| PrivateApt {
            dir,
            arch: arch.to_string(),
        })
    }

    pub fn apt_get(&self) -> Command {
        let mut cmd = self.apt("apt-get");
        cmd.arg("-y");
        cmd
    }

    pub fn apt(&self, program: &str) -> Command {
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
    pub fn update(&self) -> Result<()> {
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
