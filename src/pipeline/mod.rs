//! Building wheels for the target: finding distributions ([`index`]), the worklist resolver
//! ([`resolve`]), source trees ([`source`]), the PEP 517 frontend ([`pep517`]), one package from
//! fetch to wheelhouse ([`package`]) and compiler-output hints ([`error`]). [`run`] schedules it
//! all: fetches in order, builds up to `-j` packages at once, and feeds each finished wheel's
//! `Requires-Dist` back to the resolver.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc;

use serde::Serialize;

use crate::requirements::{IndexOptions, Requirements};

pub mod host;
pub mod package;
pub mod source;
pub mod wheel_cache;

use crate::resolve::{self, Resolver};
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
#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    pub name: String,
    pub version: Option<String>,
    pub source: Option<Provenance>,
    pub backend: Option<String>,
    pub seconds: f64,
    /// Of `seconds`, the wall-clock time inside the cross compiler (from the shim log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compiler_seconds: Option<f64>,
    pub wheel: Option<PathBuf>,
    pub tags: Vec<crate::platform::tags::PlatformTag>,
    /// `passed`, `pure` (no binaries to check) or `failed`.
    pub audit: Option<String>,
    pub log: Option<PathBuf>,
    /// Why the package failed.
    pub error: Option<String>,
    pub hint: Option<String>,
    /// The last lines of the build log, for a failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_tail: Vec<String>,
    /// The requirement that brought the package in.
    pub required_by: String,
    /// The name progress was reported under (the requirement text before the name is known).
    #[serde(skip)]
    pub label: String,
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
            wheel: None,
            tags: Vec::new(),
            audit: None,
            log: None,
            error: None,
            hint: None,
            log_tail: Vec::new(),
            required_by: required_by.into(),
        }
    }

    pub fn failed(&self) -> bool {
        self.error.is_some()
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
#[derive(Debug, Clone, Serialize)]
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
    let mut resolver = Resolver::new(env, &requirements.constraints);
    for entry in &requirements.requirements {
        resolver.add_entry(entry)?;
    }
    let settings = &pipeline.settings;
    let mut reports = Vec::new();
    let mut queue = VecDeque::new();
    let mut failed = false;
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        let mut running = 0usize;
        loop {
            if !failed || settings.keep_going {
                while (!failed || settings.keep_going)
                    && let Some(job) = resolver.next_job()
                {
                    match pipeline.fetch(&mut resolver, job) {
                        package::Fetched::Ready(report, landed) => {
                            if let Err(e) = accept(&mut resolver, &landed) {
                                failed = true;
                                reports.push(conflict_report(report, e));
                                continue;
                            }
                            pipeline.reporter.finished(&report);
                            reports.push(report);
                        }
                        package::Fetched::Build(task) => queue.push_back(task),
                        package::Fetched::Skip => {}
                        package::Fetched::Failed(report) => {
                            failed = true;
                            pipeline.reporter.finished(&report);
                            reports.push(report);
                        }
                    }
                }
                while running < settings.jobs.max(1)
                    && (!failed || settings.keep_going)
                    && let Some(task) = queue.pop_front()
                {
                    let concurrent = (running + 1 + queue.len()).min(settings.jobs.max(1));
                    let jobs = (settings.cores / concurrent).max(1);
                    let tx = tx.clone();
                    scope.spawn(move || {
                        let _ = tx.send(pipeline.build(task, jobs));
                    });
                    running += 1;
                }
            }
            if running == 0 {
                for task in queue.drain(..) {
                    let mut report =
                        PackageReport::new(task.label().to_string(), task.required_by());
                    report.error = Some("not built: an earlier package failed".to_string());
                    report.hint = Some("pass `--keep-going` to build the rest anyway".to_string());
                    pipeline.reporter.finished(&report);
                    reports.push(report);
                }
                break;
            }
            let (report, landed) = rx.recv().expect("a build thread always replies");
            running -= 1;
            match landed.map(|l| accept(&mut resolver, &l)) {
                Some(Ok(())) => {
                    pipeline.reporter.finished(&report);
                    reports.push(report);
                }
                Some(Err(e)) => {
                    failed = true;
                    let report = conflict_report(report, e);
                    pipeline.reporter.finished(&report);
                    reports.push(report);
                }
                None => {
                    failed = true;
                    pipeline.reporter.finished(&report);
                    reports.push(report);
                }
            }
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
    Ok(RunReport {
        packages: reports,
        skipped,
    })
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

fn conflict_report(mut report: PackageReport, e: resolve::ResolveError) -> PackageReport {
    report.error = Some(e.to_string());
    report.hint = Some(
        "pin a version that satisfies both requirements (in the requirements file or with `-c`)"
            .to_string(),
    );
    report
}
