//! Building one source tree: the built-wheel cache first, else unpack, run the PEP 517 backend in
//! the cross env, audit what it wrote, refuse a silent pure fallback, retag for the target, store
//! in the cache and land.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::failure::Failure;
use super::fetch::BuildTask;
use super::package::Pipeline;
use super::scratch::ScratchDir;
use super::source::{self, SourceTree};
use super::target_deps::Prepared;
use super::wheel_cache::{
    CacheKey, CachedInfo, lock_entry, read_cached, store_cached, update_info,
};
use super::{Landed, PackageReport, Provenance, Stage, SystemLibrary};
use crate::audit::{FindingKind, audit_wheel, derive_platform_tags};
use crate::crossenv::buildenv::InstalledDist;
use crate::crossenv::busy_seconds;
use crate::crossenv::launcher::CacheCounts;
use crate::crossenv::shim_log;
use crate::pep517::diagnose::{self, diagnose};
use crate::pep517::{BuildError, BuildRequest, Built, Frontend};
use crate::platform::tags::PlatformTag;
use crate::wheel::WheelFilename;
use crate::wheel::rewrite::{self, Destination};

/// Why the backend did not give a wheel.
enum Backend {
    Build(BuildError),
    /// A target build dependency could not be provided.
    Dependency(Box<Failure>),
    /// A Rust build without a toolchain for the target.
    Rust(crate::rust::RustError),
}

/// A wheel that passed the audit, with its final tags.
struct Finished {
    wheel: PathBuf,
    tags: Vec<PlatformTag>,
    /// `passed` or `pure`.
    audit: &'static str,
    /// The shared libraries it loads from the device's system.
    system_libraries: Vec<String>,
}

fn cache_io(what: &'static str) -> impl FnOnce(std::io::Error) -> Failure {
    move |error| Failure::Cache { what, error }
}

impl Pipeline<'_> {
    /// Build one source tree (or take it from the built-wheel cache), audit, retag and land it.
    pub fn build(&self, task: BuildTask, jobs: usize) -> (PackageReport, Option<Landed>) {
        let start = Instant::now();
        let mut report = PackageReport::new(task.label.clone(), task.required_by.clone());
        report.version = task.version.as_ref().map(ToString::to_string);
        let result = self.build_inner(&task, jobs, &mut report);
        report.seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(landed) => (report, Some(landed)),
            Err(f) => {
                report.failure = Some(f);
                (report, None)
            }
        }
    }

    fn build_inner(
        &self,
        task: &BuildTask,
        jobs: usize,
        report: &mut PackageReport,
    ) -> Result<Landed, Failure> {
        let chain = [task.label.clone()];
        let wheel = self.build_to_cache(task, &task.label, jobs, report, &chain)?;
        self.land(
            &wheel,
            report,
            task.direct_origin.clone(),
            task.extras.clone(),
        )
    }

    /// Build `task` into the built-wheel cache (or find it there) and return the cached wheel.
    /// One build of a cache key runs at a time; a second waits and takes the first one's wheel.
    /// `chain` names the builds waiting on this one (for target build dependencies).
    pub(super) fn build_to_cache(
        &self,
        task: &BuildTask,
        package: &str,
        jobs: usize,
        report: &mut PackageReport,
        chain: &[String],
    ) -> Result<PathBuf, Failure> {
        let label = task.label.as_str();
        let source_hash = task.source.content_hash().map_err(|e| match &task.source {
            SourceTree::Sdist(_) => Failure::Sdist(e),
            SourceTree::Dir(_) => Failure::SourceDir(e),
        })?;
        let config = self.settings.config.for_package(package);
        let cache = crate::cache::cache_dir();
        let cached_dir = CacheKey {
            allow_pure_fallback: self.settings.allow_pure_fallback,
            config: &config,
            manylinux: self.settings.manylinux,
            profile: &self.profile_key,
            pyx: env!("CARGO_PKG_VERSION"),
            rust: crate::rust::toolchain::requested(),
            source: source_hash,
        }
        .entry_dir(&cache);
        let _lock = (!self.settings.no_cache)
            .then(|| lock_entry(&cached_dir))
            .transpose()
            .map_err(cache_io("cannot lock the built-wheel cache"))?;
        if !self.settings.no_cache
            && let Some((wheel, mut info)) = read_cached(&cached_dir)
        {
            if info.system_libraries.is_none() {
                // An entry from before pyx recorded them: audited once, then recorded in it.
                match audit_wheel(&wheel, Some(self.profile.target())) {
                    Ok(audit) => {
                        info.system_libraries = Some(SystemLibrary::look_up(
                            audit.system_libraries(),
                            &self.profile.sysroot,
                        ));
                        if let Err(e) = update_info(&cached_dir, &info) {
                            tracing::debug!("cannot update `{}`: {e}", cached_dir.display());
                        }
                    }
                    Err(e) => tracing::debug!("cannot audit `{}`: {e}", wheel.display()),
                }
            }
            report.source = Some(Provenance::Cached);
            report.backend = info.backend;
            report.audit = Some(info.audit);
            report.tags = info.tags;
            report.log = info.log;
            report.build_dependencies = info.build_dependencies;
            report.rust = info.rust;
            report.system_libraries = info.system_libraries.unwrap_or_default();
            return Ok(wheel);
        }
        report.source = Some(Provenance::Built);
        let scratch_root = cache.join("scratch");
        fs_err::create_dir_all(&scratch_root).map_err(cache_io("cannot create the scratch dir"))?;
        let scratch =
            ScratchDir::new_in(&scratch_root).map_err(cache_io("cannot create a scratch dir"))?;
        let project = std::thread::scope(|scope| {
            scope.spawn(|| self.prepare_static_env(&task.source, package));
            let unpacking = Instant::now();
            let project = match &task.source {
                SourceTree::Sdist(p) => {
                    source::unpack_sdist(p, &scratch.path().join("src")).map_err(Failure::Sdist)
                }
                SourceTree::Dir(d) => {
                    let dest = scratch.path().join("src");
                    source::copy_tree(d, &dest).map_err(Failure::SourceDir)?;
                    Ok(dest)
                }
            };
            tracing::debug!(
                "{package}: source tree ready in {:.2?}",
                unpacking.elapsed()
            );
            project
        })?;
        let logs = cache.join("logs").join(self.arch());
        fs_err::create_dir_all(&logs).map_err(cache_io("cannot create the log dir"))?;
        let log = logs.join(format!(
            "{package}{}.log",
            task.version
                .as_ref()
                .map(|v| format!("-{v}"))
                .unwrap_or_default()
        ));
        report.log = Some(log.clone());
        let wheel_dir = scratch.path().join("wheel");
        fs_err::create_dir_all(&wheel_dir).map_err(cache_io("cannot create the wheel dir"))?;
        self.reporter.stage(label, Stage::Building);
        let calls_before = self.host.compiler_calls(package).len();
        let request = BuildRequest {
            package,
            source_dir: &project,
            wheel_dir: &wheel_dir,
            log: &log,
            config,
            jobs,
            env: self.build_environ(scratch.path()),
        };
        let target = self.profile.target();
        let built = self
            .watching(label, package, &log, || {
                self.run_backend(&request, report, chain)
            })
            .map_err(|e| match e {
                Backend::Build(error) => {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    report.log_tail = diagnose::tail(&text, 15);
                    let advice = diagnose(&text).map(|d| d.advice(target, &self.profile.sysroot));
                    let dev_package = advice.as_ref().and_then(|a| a.dev_package.clone());
                    let own_hint = match &error {
                        BuildError::BuildEnv { source, .. } => source
                            .chain()
                            .find_map(|c| c.downcast_ref::<crate::printer::Hinted>())
                            .map(|h| h.hint.clone()),
                        _ => None,
                    };
                    let hint = advice.map(|a| a.hint).or(own_hint).unwrap_or_else(|| {
                        "see the build log for the backend's own message".to_string()
                    });
                    Failure::Build {
                        error: Box::new(error),
                        hint,
                        dev_package,
                    }
                }
                Backend::Dependency(f) => *f,
                Backend::Rust(e) => Failure::Rust(e),
            })?;
        report.backend = Some(built.build_system.backend.clone());
        self.reporter.stage(label, Stage::Auditing);
        let compiled =
            built.build_system.is_compiling_backend() || source::declares_extensions(&project);
        let staging = scratch.path().join("final");
        fs_err::create_dir_all(&staging).map_err(cache_io("cannot create the staging dir"))?;
        let calls = self.host.compiler_calls(package);
        let ran_compiler = calls.len() > calls_before;
        let this_build = calls.get(calls_before..).unwrap_or_default();
        report.compiler_seconds = Some(busy_seconds(this_build));
        report.compiler_cache = self
            .settings
            .launch
            .counts_per_call()
            .then(|| CacheCounts::of(this_build));
        for mapping in shim_log::mappings(this_build) {
            tracing::info!("{package}: {}", shim_log::describe_mapping(&mapping));
        }
        let finished = self
            .finish(&built.wheel, compiled, ran_compiler, &staging)
            .map_err(|mut f| {
                f.explain_built(&project);
                if let Failure::SilentFallback {
                    diagnosis,
                    dev_package,
                    ..
                } = &mut f
                {
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    let errors: Vec<&str> = text
                        .lines()
                        .filter(|l| l.contains("error:") || l.contains("Error"))
                        .collect();
                    report.log_tail = errors[errors.len().saturating_sub(8)..]
                        .iter()
                        .map(|l| l.to_string())
                        .collect();
                    let advice = diagnose(&text).map(|d| d.advice(target, &self.profile.sysroot));
                    *dev_package = advice.as_ref().and_then(|a| a.dev_package.clone());
                    *diagnosis = advice.map(|a| a.hint);
                }
                f
            })?;
        report.tags = finished.tags.clone();
        report.audit = Some(finished.audit.to_string());
        report.system_libraries =
            SystemLibrary::look_up(finished.system_libraries, &self.profile.sysroot);
        let info = CachedInfo {
            backend: report.backend.clone(),
            audit: finished.audit.to_string(),
            tags: finished.tags,
            log: Some(log),
            build_dependencies: report.build_dependencies.clone(),
            rust: report.rust.clone(),
            system_libraries: Some(report.system_libraries.clone()),
        };
        store_cached(&staging, &finished.wheel, &info, &cached_dir)
            .map_err(cache_io("cannot store the built wheel in the cache"))
    }

    /// Make the build env of the source's `[build-system] requires` while the source unpacks (it
    /// is needed first, by `get_requires_for_build_wheel`). Best effort: a failure here is
    /// reported where the build asks for the env itself.
    fn prepare_static_env(&self, source: &SourceTree, package: &str) {
        let started = Instant::now();
        let text = match source::read_pyproject(source) {
            Ok(text) => text,
            Err(e) => {
                tracing::debug!("{package}: pyproject.toml not read ahead ({e})");
                return;
            }
        };
        let Ok(system) = crate::pep517::BuildSystem::parse(text.as_deref(), Path::new("")) else {
            return;
        };
        match self.host.build_env(&system.requires) {
            Ok(_) => tracing::debug!(
                "{package}: build env for `{}` ready ahead in {:.2?}",
                system.requires.join(" "),
                started.elapsed()
            ),
            Err(e) => tracing::debug!("{package}: build env not made ahead ({e:#})"),
        }
    }

    /// Run the PEP 517 backend: the build requirements, the target's copies of the platform-specific
    /// ones with a C API, then `build_wheel`. A build the shims refused for reading a build-machine
    /// copy of another requirement runs again with the target's copy of that one too.
    fn run_backend(
        &self,
        request: &BuildRequest<'_>,
        report: &mut PackageReport,
        chain: &[String],
    ) -> Result<Built, Backend> {
        let mut frontend = Frontend::start(self.host, request).map_err(Backend::Build)?;
        // Before any hook (maturin's `get_requires_for_build_wheel` wants cargo), and again with
        // what that hook added (a `setup.py`'s `setup_requires`).
        let static_requires = frontend.build_system.requires.clone();
        report.rust = self.setup_rust(&mut frontend, request, &static_requires)?;
        let requires = frontend.requires().map_err(Backend::Build)?;
        if report.rust.is_none() {
            report.rust = self.setup_rust(&mut frontend, request, &requires)?;
        }
        let build_env = self.host.build_env(&requires).map_err(|source| {
            Backend::Build(BuildError::BuildEnv {
                package: request.package.to_string(),
                requires: requires.clone(),
                source,
            })
        })?;
        let mut refused: BTreeSet<String> = BTreeSet::new();
        loop {
            let prepared = match &build_env {
                Some(env) => {
                    let wanted = |d: &InstalledDist| d.exports_c_api() || refused.contains(&d.name);
                    self.prepare_build_env(env, &wanted, chain, request.jobs)
                        .map_err(|f| Backend::Dependency(Box::new(f)))?
                }
                None => Prepared::default(),
            };
            report.build_dependencies = prepared.dependencies;
            let calls_before = self.host.refused_packages(request.package).len();
            match frontend.build(&requires, &prepared.extras) {
                Ok(built) => return Ok(built),
                Err(e) => {
                    let newly: Vec<String> = self.host.refused_packages(request.package)
                        [calls_before..]
                        .iter()
                        .filter(|p| !refused.contains(*p))
                        .cloned()
                        .collect();
                    if newly.is_empty() {
                        return Err(Backend::Build(e));
                    }
                    frontend.note(&format!(
                        "the build read the build machine's {}; building again with the target's",
                        newly.join(", ")
                    ));
                    refused.extend(newly);
                }
            }
        }
    }

    /// A Rust build gets its toolchain and target (see `crate::rust`); what the report says.
    fn setup_rust(
        &self,
        frontend: &mut Frontend<'_>,
        request: &BuildRequest<'_>,
        requires: &[String],
    ) -> Result<Option<crate::rust::RustReport>, Backend> {
        let Some(env) = self.host.cross_env() else {
            return Ok(None);
        };
        let source = request.source_dir;
        let Some(rust) = crate::rust::prepare(source, &frontend.build_system, requires, env)
            .map_err(Backend::Rust)?
        else {
            return Ok(None);
        };
        let r = &rust.report;
        let line = format!(
            "a Rust build ({}): rustc {} for `{}` ({})",
            r.build.as_str(),
            r.rustc,
            r.target,
            r.from
        );
        tracing::info!("{}: {line}", request.package);
        frontend.note(&line);
        frontend.extend_env(rust.env.vars, rust.env.path_prefix);
        Ok(Some(rust.report))
    }

    /// Audit a freshly built wheel, refuse a silent pure fallback, and retag it for the target.
    fn finish(
        &self,
        wheel: &Path,
        compiled: bool,
        ran_compiler: bool,
        out_dir: &Path,
    ) -> Result<Finished, Failure> {
        let target = self.profile.target();
        let audit = audit_wheel(wheel, Some(target)).map_err(Failure::UnreadableBuilt)?;
        let retaggable = |k: FindingKind| {
            matches!(
                k,
                FindingKind::PlatformTag | FindingKind::TagMismatch | FindingKind::Manylinux
            )
        };
        if let Some(f) = audit.findings.iter().find(|f| !retaggable(f.kind)) {
            return Err(Failure::Audit(Box::new(f.clone())));
        }
        let name = wheel
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if audit.elfs.is_empty() {
            if (compiled || ran_compiler) && !self.settings.allow_pure_fallback {
                return Err(Failure::SilentFallback {
                    wheel: name,
                    ran_compiler,
                    diagnosis: None,
                    dev_package: None,
                });
            }
            let out = out_dir.join(&name);
            fs_err::copy(wheel, &out).map_err(cache_io("cannot copy the wheel"))?;
            let tags = name
                .parse::<WheelFilename>()
                .map(|w| w.platform_tags)
                .unwrap_or_default();
            return Ok(Finished {
                wheel: out,
                tags,
                audit: "pure",
                system_libraries: Vec::new(),
            });
        }
        let tags =
            derive_platform_tags(&audit, self.settings.manylinux).map_err(Failure::Derive)?;
        let retagged =
            rewrite::retag(wheel, &tags, Destination::Dir(out_dir)).map_err(Failure::Retag)?;
        let final_audit =
            audit_wheel(&retagged, Some(target)).map_err(Failure::UnreadableRetagged)?;
        let system_libraries = final_audit.system_libraries();
        if let Some(f) = final_audit.findings.into_iter().next() {
            return Err(Failure::Audit(Box::new(f)));
        }
        Ok(Finished {
            wheel: retagged,
            tags,
            audit: "passed",
            system_libraries,
        })
    }
}
