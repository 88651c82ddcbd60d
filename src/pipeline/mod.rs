//! The driver of `pyx wheel`: [`run`] owns the resolver and schedules every package's way to the
//! wheelhouse — fetch in order ([`fetch`]), build up to `-j` packages at once ([`build`]), land
//! ([`package`]) — applying what each step learns (pins, provided names, `Requires-Dist`) to the
//! resolver in one place. Failures stay typed ([`failure`]) until the command renders them.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::Serialize;

use crate::requirements::{IndexOptions, Requirements};

mod build;
pub mod compiling;
pub mod failure;
pub mod fetch;
pub mod host;
pub mod package;
mod scratch;
pub mod source;
pub mod target_deps;
pub mod wheel_cache;

use crate::resolve::{self, Job, Resolver};
pub use compiling::BuildProgress;
pub use failure::Failure;
use fetch::{Fetch, Fetched};
pub use package::Pipeline;

/// What `pyx wheel` was asked to do, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Packages built at once.
    pub jobs: usize,
    /// Cores of this machine, shared among the concurrent builds.
    pub cores: usize,
    pub keep_going: bool,
    pub no_cache: bool,
    pub manylinux: bool,
    pub allow_pure_fallback: bool,
    pub config: crate::pep517::ConfigArgs,
    pub index: IndexOptions,
    /// The compiler cache and distcc in front of the cross compiler.
    pub launch: crate::crossenv::launcher::Launch,
}

/// Where a wheel in the wheelhouse came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// Built from its sdist or source tree in this run.
    Built,
    /// Built by an earlier run with the same inputs (built-wheel cache).
    Cached,
    /// A pure or target wheel from the index, used as it is.
    Reused,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Built => "built",
            Provenance::Cached => "cached",
            Provenance::Reused => "reused",
        }
    }
}

/// The outcome of one package (a row of the summary and of `--report`).
#[derive(Debug, Serialize)]
pub struct PackageReport {
    pub name: String,
    pub version: Option<String>,
    /// Where the wheel came from; `None` (`null`, `-` in the summary) for a failed package.
    pub source: Option<Provenance>,
    pub backend: Option<String>,
    pub seconds: f64,
    /// Of `seconds`, the wall-clock time inside the cross compiler (from the shim log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compiler_seconds: Option<f64>,
    /// Its compile calls and what the compiler cache (ccache) made of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compiler_cache: Option<crate::crossenv::launcher::CacheCounts>,
    pub wheel: Option<PathBuf>,
    pub tags: Vec<crate::platform::tags::PlatformTag>,
    /// `passed`, `pure` (no binaries to check) or `failed`.
    pub audit: Option<String>,
    pub log: Option<PathBuf>,
    /// Why the package failed (`"error"` and `"hint"` in the report).
    #[serde(flatten, serialize_with = "failure::serialize_fields")]
    pub failure: Option<Failure>,
    /// The target build dependencies it was compiled against (numpy for a numpy-C-API package).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub build_dependencies: Vec<target_deps::BuildDependency>,
    /// For a Rust extension: how it builds and the toolchain that built it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust: Option<crate::rust::RustReport>,
    /// The shared libraries its wheel loads from the device's system (not shipped in it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub system_libraries: Vec<SystemLibrary>,
    /// The last lines of the build log, for a failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
    /// The pure wheel of a release with compiled parts and no wheel for the target: passed over
    /// for the sdist (`"action": "built"`) or taken (`"allowed"`, `"no-sdist"`).
    pub pure_fallback: Option<crate::resolve::index::Fallback>,
    /// The requirement that brought the package in.
    pub required_by: String,
    /// The name progress was reported under (the requirement text before the name is known).
    #[serde(skip)]
    pub label: String,
}

/// A shared library a wheel loads from the device's system, and the target's Debian package that
/// ships it (when the sysroot is pyx's and one of its packages does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SystemLibrary {
    pub soname: String,
    pub package: Option<String>,
}

impl SystemLibrary {
    /// Each of `sonames`, with the package of `sysroot` that ships it.
    pub fn look_up(sonames: Vec<String>, sysroot: &Path) -> Vec<SystemLibrary> {
        let packages = crate::sysroot::debian::runtime_packages_for(sysroot, &sonames);
        sonames
            .into_iter()
            .zip(packages)
            .map(|(soname, package)| SystemLibrary { soname, package })
            .collect()
    }
}

impl PackageReport {
    pub fn new(name: impl Into<String>, required_by: impl Into<String>) -> PackageReport {
        let name = name.into();
        PackageReport {
            label: name.clone(),
            name,
            version: None,
            source: None,
            backend: None,
            seconds: 0.0,
            compiler_seconds: None,
            compiler_cache: None,
            wheel: None,
            tags: Vec::new(),
            audit: None,
            log: None,
            failure: None,
            build_dependencies: Vec::new(),
            rust: None,
            system_libraries: Vec::new(),
            log_tail: Vec::new(),
            pure_fallback: None,
            required_by: required_by.into(),
        }
    }

    pub fn failed(&self) -> bool {
        self.failure.is_some()
    }
}

/// A step of one package's way to the wheelhouse (shown by progress bars).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Resolving,
    Downloading,
    Building,
    Auditing,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Resolving => "resolving",
            Stage::Downloading => "downloading",
            Stage::Building => "building",
            Stage::Auditing => "auditing",
        }
    }
}

/// Receives progress; the CLI layer draws bars or prints lines.
pub trait Reporter: Sync {
    fn stage(&self, package: &str, stage: Stage);
    /// A running build got further (compiles so far, cache hits, the backend's `[n/N]`).
    fn progress(&self, _package: &str, _progress: &BuildProgress) {}
    fn finished(&self, report: &PackageReport);
}

/// A wheel that reached the wheelhouse, with what the resolver needs from it.
#[derive(Debug, Clone)]
pub struct Landed {
    pub name: pep508_rs::PackageName,
    pub version: pep508_rs::pep440_rs::Version,
    pub requires_dist: Vec<String>,
    /// Extras a direct requirement asked for (applied once the name is known).
    pub extras: Vec<pep508_rs::ExtraName>,
    /// Set when the name was unknown before the build (a local path or URL).
    pub direct_origin: Option<crate::requirements::Origin>,
}

/// What a run did: one report per package in the order they finished, and the requirements whose
/// markers excluded the target.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub packages: Vec<PackageReport>,
    /// `(requirement, where it came from)`.
    pub skipped: Vec<(String, String)>,
}

/// Resolve, fetch, build, audit, retag and land everything `requirements` asks for.
pub fn run(pipeline: &Pipeline<'_>, requirements: &Requirements) -> anyhow::Result<RunReport> {
    let env = crate::requirements::target_marker_environment(
        pipeline.profile.target().name,
        &pipeline.profile.python.version,
    )?;
    scratch::sweep(&crate::cache::cache_dir().join("scratch"));
    let mut resolver = Resolver::new(env, &requirements.constraints);
    for entry in &requirements.requirements {
        resolver.add_entry(entry)?;
    }
    let settings = &pipeline.settings;
    let mut reports = Vec::new();
    let mut queue = VecDeque::new();
    let mut failed = false;
    let mut finish = |report: PackageReport, failed: &mut bool| {
        *failed |= report.failed();
        pipeline.reporter.finished(&report);
        reports.push(report);
    };
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        let mut running = 0usize;
        // Start queued builds while there is room: each gets its share of the cores among the
        // builds known so far.
        let start_builds = |queue: &mut VecDeque<fetch::BuildTask>, running: &mut usize| {
            while *running < settings.jobs.max(1)
                && let Some(mut task) = queue.pop_front()
            {
                let concurrent = (*running + 1 + queue.len()).min(settings.jobs.max(1));
                let jobs = (settings.cores / concurrent).max(1);
                let tx = tx.clone();
                let pure_fallback = task.pure_fallback.take();
                scope.spawn(move || {
                    let (mut report, landed) = pipeline.build(task, jobs);
                    report.pure_fallback = pure_fallback;
                    let _ = tx.send((report, landed));
                });
                *running += 1;
            }
        };
        loop {
            // Fetch what the resolver asks for; a build starts as soon as it is fetched, so
            // the first package's build env is made while the next ones download.
            while !failed || settings.keep_going {
                let Some(job) = resolver.next_job() else {
                    break;
                };
                let Some(fetch) = fetch(pipeline, &resolver, job) else {
                    continue;
                };
                match apply(&mut resolver, fetch) {
                    Fetched::Build(task) => {
                        queue.push_back(task);
                        start_builds(&mut queue, &mut running);
                    }
                    Fetched::Ready(report, _) | Fetched::Failed(report) => {
                        finish(report, &mut failed)
                    }
                }
            }
            if !failed || settings.keep_going {
                start_builds(&mut queue, &mut running);
            }
            if running == 0 {
                for task in queue.drain(..) {
                    let mut report = Fetched::Build(task).into_report();
                    report.failure = Some(Failure::NotBuilt);
                    finish(report, &mut failed);
                }
                break;
            }
            let (mut report, landed) = rx.recv().expect("a build thread always replies");
            running -= 1;
            if let Some(landed) = landed
                && let Err(e) = accept(&mut resolver, &landed)
            {
                report.failure = Some(Failure::Conflict(e));
            }
            finish(report, &mut failed);
        }
    });
    let skipped = resolver
        .skipped
        .iter()
        .map(|(text, origin)| {
            tracing::info!("skipped `{text}` from {origin}: its marker excludes the target");
            (text.clone(), origin.to_string())
        })
        .collect();
    // A failed package has no wheel, so no provenance (its build or download is in `error`).
    for r in reports.iter_mut().filter(|r| r.failed()) {
        r.source = None;
    }
    Ok(RunReport {
        packages: reports,
        skipped,
    })
}

/// Fetch what a job names; `None` when a direct requirement or an earlier pin already provides it.
fn fetch(pipeline: &Pipeline<'_>, resolver: &Resolver, job: Job) -> Option<Fetch> {
    match job {
        Job::Fetch(name) => {
            let package = resolver.package(&name)?;
            if package.pinned.is_some() || resolver.is_provided(&name) {
                return None;
            }
            Some(pipeline.fetch_named(&name, package))
        }
        Job::Direct(entry) => Some(pipeline.fetch_direct(&entry)),
    }
}

/// Tell the resolver what a fetch learned: the name a path provides, the version chosen, and the
/// dependencies of a wheel that landed. A conflict turns the outcome into a failure.
fn apply(resolver: &mut Resolver, fetch: Fetch) -> Fetched {
    if let Some(name) = &fetch.provides {
        resolver.provide(name);
    }
    let outcome = fetch.outcome;
    if matches!(outcome, Fetched::Failed(_)) {
        return outcome;
    }
    let learned = (|| {
        if let Some((name, version)) = fetch.pin {
            let origin = crate::requirements::Origin::Package("the index".into());
            resolver.pin(&name, version, origin)?;
        }
        if let Fetched::Ready(_, landed) = &outcome {
            accept(resolver, landed)?;
        }
        Ok(())
    })();
    match learned {
        Ok(()) => outcome,
        Err(e) => {
            let mut report = outcome.into_report();
            report.failure = Some(Failure::Conflict(e));
            Fetched::Failed(report)
        }
    }
}

/// Tell the resolver about a wheel that landed.
fn accept(resolver: &mut Resolver, landed: &Landed) -> Result<(), resolve::ResolveError> {
    if let Some(origin) = &landed.direct_origin {
        resolver.pin_direct(
            &landed.name,
            landed.version.clone(),
            &landed.extras,
            origin.clone(),
        )?;
    }
    resolver.add_metadata(&landed.name, &landed.requires_dist)
}
