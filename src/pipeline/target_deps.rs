//! Target build dependencies. A build requirement that is platform-specific and exports a C API
//! (numpy) runs as the build machine's code — `import numpy` in `setup.py`, meson's `run_command` —
//! but what the compiler reads from it (headers, static libraries, pkg-config files, config
//! headers) must be the target's, at the same version. Without that a numpy-C-API package
//! compiles against x86_64's `_numpyconfig.h` (`NPY_SIZEOF_LONG 8`) and crashes on a 32-bit target.
//!
//! For each such distribution in a build's build env, pyx gets the target's wheel of the same
//! version (from the index, else built earlier in the same run and cached like any built wheel) and
//! makes an *overlay*: a site directory holding the build machine's files of that distribution with
//! every non-code file of the target's wheel over them. The overlay is searched before the build
//! env, so `numpy.get_include()`, `numpy-config` and `numpy.pc` all point at the target's headers.
//! The shared build env is never changed. The shims refuse a compile that still reads a
//! build-machine copy (see `crossenv::build_machine`); a build refused that way is retried with
//! the overlay of what it read.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::PackageName;
use pep508_rs::pep440_rs::Version;
use serde::Serialize;

use super::failure::Failure;
use super::fetch::BuildTask;
use super::package::Pipeline;
use super::source::SourceTree;
use super::{PackageReport, Provenance};
use crate::audit::audit_wheel;
use crate::crossenv::build_machine::{self, HostPackage};
use crate::crossenv::buildenv::{BuildEnv, InstalledDist};
use crate::digest::{sha256_file, short_hash};
use crate::env_vars;
use crate::pep517::BuildExtras;
use crate::resolve::index::CandidateKind;
use crate::wheel::reader::WheelArchive;

/// A target build dependency a package was compiled against (a row of `--report`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BuildDependency {
    pub name: String,
    pub version: String,
    /// Where the target's wheel came from when the package was built: `index`, `built` or
    /// `cached`.
    pub from: String,
}

/// The extras of one build: overlays for the target build dependencies, and the build machine's
/// platform-specific packages the shims must refuse.
#[derive(Default)]
pub(super) struct Prepared {
    pub extras: BuildExtras,
    pub dependencies: Vec<BuildDependency>,
}

impl Pipeline<'_> {
    /// Provide the target's copy of every platform-specific C-API distribution in `build_env`
    /// that `wanted` selects. `chain` holds the packages whose builds wait on this one (a cycle is
    /// an error).
    pub(super) fn prepare_build_env(
        &self,
        build_env: &BuildEnv,
        wanted: &dyn Fn(&InstalledDist) -> bool,
        chain: &[String],
        jobs: usize,
    ) -> Result<Prepared, Failure> {
        let dists: Vec<InstalledDist> = build_env
            .distributions()
            .into_iter()
            .filter(InstalledDist::is_platform_c_api)
            .collect();
        let host_packages: Vec<HostPackage> = dists
            .iter()
            .map(|d| HostPackage {
                name: d.name.clone(),
                version: d.version.clone(),
                dirs: d.top_level_dirs(),
            })
            .collect();
        let mut extras = BuildExtras::default();
        let mut dependencies = Vec::new();
        let mut pkg_config_dirs = Vec::new();
        for dist in dists.iter().filter(|d| wanted(d)) {
            let (wheel, from) = self.target_wheel(&dist.name, &dist.version, chain, jobs)?;
            let overlay = self
                .overlay(dist, &wheel)
                .map_err(|e| Failure::BuildDependency {
                    name: dist.name.clone(),
                    version: dist.version.clone(),
                    source: Box::new(e),
                })?;
            tracing::info!(
                "building against the target's {} {} ({from}): `{}`",
                dist.name,
                dist.version,
                overlay.site.display()
            );
            extras.sites.push(overlay.site);
            extras.meson_cross_files.extend(overlay.meson_file);
            pkg_config_dirs.extend(overlay.pkg_config_dirs);
            dependencies.push(BuildDependency {
                name: dist.name.clone(),
                version: dist.version.clone(),
                from: from.to_string(),
            });
        }
        extras.env.push((
            env_vars::PYX_BUILD_MACHINE_PACKAGES.to_string(),
            serde_json::to_string(&host_packages).expect("packages serialize"),
        ));
        if !pkg_config_dirs.is_empty() {
            extras.env.push((
                env_vars::PYX_TARGET_PKG_CONFIG_PATH.to_string(),
                std::env::join_paths(&pkg_config_dirs)
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            ));
        }
        Ok(Prepared {
            extras,
            dependencies,
        })
    }

    /// The target's wheel of `name` at exactly `version`: a target wheel from the index, else its
    /// sdist built for the target (through the built-wheel cache, so a run that also builds the
    /// package for the wheelhouse builds it once).
    fn target_wheel(
        &self,
        name: &str,
        version: &str,
        chain: &[String],
        jobs: usize,
    ) -> Result<(PathBuf, &'static str), Failure> {
        let wrap = |e: Failure| Failure::BuildDependency {
            name: name.to_string(),
            version: version.to_string(),
            source: Box::new(e),
        };
        if chain.iter().any(|c| c == name) {
            return Err(Failure::BuildDependencyCycle {
                chain: [chain, &[name.to_string()]].concat().join(" → "),
            });
        }
        let package = PackageName::from_str(name).map_err(|e| Failure::InvalidMetadata {
            field: "package name",
            message: e.to_string(),
        })?;
        let wanted = Version::from_str(version).map_err(|e| Failure::InvalidMetadata {
            field: "version",
            message: e.to_string(),
        })?;
        let candidates = self
            .index
            .candidates(&package, &self.policy)
            .map_err(|e| wrap(Failure::Index(e)))?;
        let same: Vec<_> = candidates
            .into_iter()
            .filter(|c| c.version == wanted && !c.yanked)
            .collect();
        if let Some(wheel) = same
            .iter()
            .find(|c| c.kind == CandidateKind::Wheel { pure: false })
        {
            let path = self
                .index
                .download(wheel)
                .map_err(|e| wrap(Failure::Download(e)))?;
            let audit = audit_wheel(&path, Some(self.profile.target()))
                .map_err(|e| wrap(Failure::UnreadableGiven(e)))?;
            if let Some(f) = audit.findings.into_iter().next() {
                return Err(wrap(Failure::Audit(Box::new(f))));
            }
            return Ok((path, "index"));
        }
        let Some(sdist) = same.iter().find(|c| c.kind == CandidateKind::Sdist) else {
            return Err(Failure::NoTargetDependency {
                name: name.to_string(),
                version: version.to_string(),
                arch: self.arch(),
            });
        };
        let path = self
            .index
            .download(sdist)
            .map_err(|e| wrap(Failure::Download(e)))?;
        let task = BuildTask {
            label: format!("{name} (to build {})", chain.last().map_or("", |s| s)),
            version: Some(wanted),
            source: SourceTree::Sdist(path),
            extras: Vec::new(),
            direct_origin: None,
            required_by: String::new(),
            pure_fallback: None,
        };
        let mut report = PackageReport::new(task.label.clone(), String::new());
        report.version = Some(version.to_string());
        let chain = [chain, &[name.to_string()]].concat();
        let start = std::time::Instant::now();
        let wheel = self
            .build_to_cache(&task, name, jobs, &mut report, &chain)
            .map_err(wrap)?;
        if report.source == Some(Provenance::Cached) {
            return Ok((wheel, "cached"));
        }
        report.seconds = start.elapsed().as_secs_f64();
        self.reporter.finished(&report);
        Ok((wheel, "built"))
    }

    /// The overlay of `dist` with the target's `wheel` (made once per target, distribution and
    /// wheel; shared by every build that needs it).
    fn overlay(&self, dist: &InstalledDist, wheel: &Path) -> Result<Overlay, Failure> {
        let io = |what| move |error| Failure::Cache { what, error };
        let wheel_hash = sha256_file(wheel).map_err(io("cannot read the target wheel"))?;
        let key = short_hash(
            serde_json::json!([
                self.profile_key,
                dist.site,
                dist.dist_info,
                wheel_hash,
                self.python_for_scripts(),
            ])
            .to_string()
            .as_bytes(),
            8,
        );
        let root = crate::cache::cache_dir()
            .join("target-deps")
            .join(self.arch())
            .join(format!("{}-{}-{key}", dist.name, dist.version));
        let overlay = Overlay::at(&root, &self.profile.python.version);
        if root.join(OVERLAY_MARKER).is_file() {
            return Ok(overlay.scanned());
        }
        let parent = root.parent().expect("an overlay has a parent");
        fs_err::create_dir_all(parent).map_err(io("cannot create the overlay dir"))?;
        let tmp = crate::tempfiles::dir_in(parent, "overlay")
            .map_err(io("cannot create the overlay dir"))?;
        let staged = Overlay::at(tmp.path(), &self.profile.python.version);
        staged
            .fill(dist, wheel, &self.python_for_scripts())
            .map_err(|e| Failure::Overlay {
                name: dist.name.clone(),
                message: format!("{e:#}"),
            })?;
        fs_err::write(tmp.path().join(OVERLAY_MARKER), wheel_hash)
            .map_err(io("cannot write the overlay"))?;
        match std::fs::rename(tmp.path(), &root) {
            Ok(()) => {
                let _ = tmp.keep();
            }
            // Another build made the same overlay at the same moment.
            Err(_) if root.join(OVERLAY_MARKER).is_file() => {}
            Err(e) => return Err(io("cannot move the overlay into place")(e)),
        }
        Ok(overlay.scanned())
    }

    /// The interpreter that console scripts of an overlay run with: the cross env's Python.
    fn python_for_scripts(&self) -> PathBuf {
        self.host.python_path()
    }
}

/// Written last into a complete overlay (the target wheel's sha256).
const OVERLAY_MARKER: &str = ".pyx-overlay";

/// A site directory with one distribution's build-machine code and the target's data files.
struct Overlay {
    root: PathBuf,
    site: PathBuf,
    meson_file: Option<PathBuf>,
    pkg_config_dirs: Vec<PathBuf>,
}

impl Overlay {
    fn at(root: &Path, python_version: &str) -> Overlay {
        Overlay {
            root: root.to_path_buf(),
            site: root
                .join("lib")
                .join(format!(
                    "python{}",
                    crate::python::major_minor(python_version)
                ))
                .join("site-packages"),
            meson_file: None,
            pkg_config_dirs: Vec::new(),
        }
    }

    /// The meson machine file and pkg-config directories found in a complete overlay.
    fn scanned(mut self) -> Overlay {
        let meson = self.root.join("meson-binaries.ini");
        self.meson_file = meson.is_file().then_some(meson);
        self.pkg_config_dirs = walkdir::WalkDir::new(&self.site)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_dir() && e.file_name() == "pkgconfig")
            .map(|e| e.into_path())
            .collect();
        self
    }

    /// Link the build machine's files of `dist` in, put every non-code file of the target's
    /// `wheel` over them, and write wrappers for its console scripts (and a meson machine file
    /// naming its `*-config` tools).
    fn fill(&self, dist: &InstalledDist, wheel: &Path, python: &Path) -> anyhow::Result<()> {
        for file in &dist.files {
            let from = dist.site.join(file);
            if !from.is_file() {
                continue;
            }
            let to = self.site.join(file);
            fs_err::create_dir_all(to.parent().expect("a file has a parent"))?;
            if std::fs::hard_link(&from, &to).is_err() {
                fs_err::copy(&from, &to)?;
            }
        }
        let mut archive = WheelArchive::open(wheel)?;
        let limit = archive.limits().max_member_size;
        let members = archive.members().to_vec();
        for (index, member) in members.iter().enumerate() {
            if member.is_dir || member.is_symlink {
                continue;
            }
            let Some(rel) = target_data_path(&member.name) else {
                continue;
            };
            let bytes = archive.read_index(index, limit)?;
            if crate::audit::elf::is_elf(&bytes) {
                continue;
            }
            let to = self.site.join(rel);
            fs_err::create_dir_all(to.parent().expect("a file has a parent"))?;
            // A hard link to the build env's file: replace the link, never write through it.
            let _ = fs_err::remove_file(&to);
            fs_err::write(&to, &bytes)?;
        }
        let bin = self.root.join("bin");
        fs_err::create_dir_all(&bin)?;
        let mut meson = String::new();
        for (name, target) in dist.console_scripts() {
            let Some((module, attr)) = target.split_once(':') else {
                continue;
            };
            let attr = attr.split_whitespace().next().unwrap_or(attr);
            let call = format!(
                "import sys; import {module} as m; f = m\nfor a in {attr:?}.split('.'): f = getattr(f, a)\nsys.exit(f())"
            );
            let script = format!(
                "#!/bin/sh\n# The target's `{name}` for a pyx build: the build machine's code, the target's files.\nexec {} -c {} \"$@\"\n",
                build_machine::sh_quote(&python.display().to_string()),
                build_machine::sh_quote(&call),
            );
            crate::files::write_if_changed_mode(&bin.join(&name), &script, 0o755)?;
            if name.ends_with("-config") {
                meson.push_str(&format!(
                    "{name} = '{}'\n",
                    bin.join(&name).display().to_string().replace('\'', "\\'")
                ));
            }
        }
        if !meson.is_empty() {
            fs_err::write(
                self.root.join("meson-binaries.ini"),
                format!(
                    "# The target's config tools of {} {} (generated by pyx).\n[binaries]\n{meson}",
                    dist.name, dist.version
                ),
            )?;
        }
        Ok(())
    }
}

/// Where a member of the target's wheel goes in the overlay's site directory, if it is a data
/// file pyx takes from the target: not Python code, not `.dist-info`, not scripts or headers
/// outside the package.
fn target_data_path(member: &str) -> Option<&str> {
    let (first, rest) = member.split_once('/').unwrap_or(("", member));
    let rel = if first.ends_with(".data") {
        rest.strip_prefix("purelib/")
            .or_else(|| rest.strip_prefix("platlib/"))?
    } else if first.ends_with(".dist-info") {
        return None;
    } else {
        member
    };
    let code = [".py", ".pyc", ".pyi"].iter().any(|e| rel.ends_with(e));
    (!code).then_some(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_files_of_the_target_wheel() {
        for (member, want) in [
            (
                "numpy/_core/include/numpy/_numpyconfig.h",
                Some("numpy/_core/include/numpy/_numpyconfig.h"),
            ),
            (
                "numpy/_core/lib/libnpymath.a",
                Some("numpy/_core/lib/libnpymath.a"),
            ),
            ("numpy/__init__.pxd", Some("numpy/__init__.pxd")),
            ("numpy/__config__.py", None),
            ("numpy-2.4.6.dist-info/RECORD", None),
            ("x-1.0.data/platlib/x/y.h", Some("x/y.h")),
            ("x-1.0.data/scripts/x-config", None),
        ] {
            assert_eq!(target_data_path(member), want, "{member}");
        }
    }
}
