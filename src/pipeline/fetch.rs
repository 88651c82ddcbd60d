//! Fetching one job: choose a distribution in the indexes (or take the URL or path given), download
//! it, and land a wheel the target can use as it is; an sdist or source tree becomes a
//! [`BuildTask`]. Fetching only reads the resolver's state: what it learns (the version chosen,
//! the name a path provides) goes back in the [`Fetch`] for the scheduler to apply.

use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use pep508_rs::pep440_rs::Version;
use pep508_rs::{ExtraName, PackageName};

use super::failure::Failure;
use super::package::Pipeline;
use super::source::{self, SourceTree};
use super::{Landed, PackageReport, Provenance, Stage, SystemLibrary};
use crate::audit::audit_wheel;
use crate::requirements::{Entry, Origin, Source};
use crate::resolve::Package;
use crate::resolve::index::{
    Candidate, CandidateKind, Choice, Fallback, FallbackAction, check_hashes, choose,
};
use crate::wheel::WheelFilename;

/// What fetching a job gave, and what the resolver should learn from it.
pub struct Fetch {
    pub outcome: Fetched,
    /// The version chosen for a named package.
    pub pin: Option<(PackageName, Version)>,
    /// The name a local path or URL provides (known before its build).
    pub provides: Option<PackageName>,
}

/// The outcome of a fetch.
pub enum Fetched {
    /// A wheel that needs no build (pure or already for the target), landed.
    Ready(PackageReport, Landed),
    Build(BuildTask),
    Failed(PackageReport),
}

impl Fetched {
    /// The package's report (a fresh one for a build that has not started).
    pub fn into_report(self) -> PackageReport {
        match self {
            Fetched::Ready(report, _) | Fetched::Failed(report) => report,
            Fetched::Build(task) => {
                let mut report = PackageReport::new(task.label, task.required_by);
                report.pure_fallback = task.pure_fallback;
                report
            }
        }
    }

    fn alone(self) -> Fetch {
        Fetch {
            outcome: self,
            pin: None,
            provides: None,
        }
    }
}

/// A source tree to build.
pub struct BuildTask {
    /// The name progress is reported under.
    pub(super) label: String,
    pub(super) version: Option<Version>,
    pub(super) source: SourceTree,
    pub(super) extras: Vec<ExtraName>,
    pub(super) direct_origin: Option<Origin>,
    pub(super) required_by: String,
    /// The pure wheel passed over for this build: a fallback of a release with compiled parts.
    pub(super) pure_fallback: Option<Fallback>,
}

impl BuildTask {
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn required_by(&self) -> &str {
        &self.required_by
    }
}

fn failed(mut report: PackageReport, failure: Failure) -> Fetched {
    report.failure = Some(failure);
    Fetched::Failed(report)
}

impl Pipeline<'_> {
    /// Choose, download and (for a wheel) land the distribution of a named package.
    pub fn fetch_named(&self, name: &PackageName, package: &Package) -> Fetch {
        let required_by = package
            .first_origin
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        let mut report = PackageReport::new(name.to_string(), required_by.clone());
        if self.settings.index.require_hashes && package.hashes.is_empty() {
            let failure = Failure::Unhashed {
                name: name.to_string(),
                required_by: required_by.clone(),
            };
            return failed(report, failure).alone();
        }
        self.reporter.stage(name.as_ref(), Stage::Resolving);
        let candidates = match self.index.candidates(name, &self.policy) {
            Ok(c) => c,
            Err(e) => return failed(report, Failure::Index(e)).alone(),
        };
        let specifiers: Vec<_> = package.demands.iter().map(|d| &d.specifiers).collect();
        let index = &self.settings.index;
        let choice = Choice {
            specifiers,
            pre: index.pre,
            no_binary: index.no_binary.contains(name),
            only_binary: index.only_binary.contains(name),
            allow_pure_fallback: self.settings.allow_pure_fallback,
        };
        let Some(chosen) = choose(&candidates, &choice, &self.target_python) else {
            return failed(report, self.no_match(name, package, &candidates)).alone();
        };
        let pick = chosen.file.clone();
        if let Some(f) = &chosen.fallback
            && f.action == FallbackAction::NoSdist
        {
            tracing::warn!(
                "`{name}` {}: reusing `{}`, a pure-Python fallback: the release has binary wheels \
                 for other platforms, none for `linux_{}`, and no sdist to build",
                pick.version,
                f.wheel,
                self.arch()
            );
        }
        report.pure_fallback = chosen.fallback.clone();
        report.version = Some(pick.version.to_string());
        let pin = Some((name.clone(), pick.version.clone()));
        self.reporter.stage(name.as_ref(), Stage::Downloading);
        let outcome = match self.index.download(&pick) {
            Err(e) => failed(report, Failure::Download(e)),
            Ok(path) => match check_hashes(&path, &package.hashes) {
                Err(e) => failed(report, Failure::Hash(e)),
                Ok(()) => match pick.kind {
                    CandidateKind::Wheel { .. } => self.reuse(&path, report, None, Vec::new()),
                    CandidateKind::OtherPlatform => {
                        unreachable!("another platform's wheel is never chosen")
                    }
                    CandidateKind::Sdist => Fetched::Build(BuildTask {
                        label: name.to_string(),
                        version: Some(pick.version),
                        source: SourceTree::Sdist(path),
                        extras: Vec::new(),
                        direct_origin: None,
                        required_by,
                        pure_fallback: chosen.fallback,
                    }),
                },
            },
        };
        Fetch {
            outcome,
            pin,
            provides: None,
        }
    }

    /// Why no candidate fits: none for the target at all, or none that the pins allow.
    fn no_match(&self, name: &PackageName, package: &Package, candidates: &[Candidate]) -> Failure {
        let candidates: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| c.kind != CandidateKind::OtherPlatform)
            .collect();
        let wanted: Vec<String> = package
            .demands
            .iter()
            .map(|d| format!("`{}` ({})", d.specifiers, d.origin))
            .collect();
        let mut versions: Vec<&Version> = candidates.iter().map(|c| &c.version).collect();
        versions.sort();
        versions.dedup();
        let latest = versions
            .iter()
            .rev()
            .take(5)
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if candidates.is_empty() {
            Failure::NoDistribution {
                name: name.to_string(),
                python: self.profile.python.version.clone(),
                arch: self.arch(),
            }
        } else if wanted.is_empty() {
            Failure::NoUsableFile {
                name: name.to_string(),
                latest,
            }
        } else {
            Failure::NoMatchingVersion {
                name: name.to_string(),
                wanted: wanted.join(" and "),
                latest,
            }
        }
    }

    /// A local path or URL requirement: download a URL, land a wheel, or hand an sdist or
    /// source directory to the build.
    pub fn fetch_direct(&self, entry: &Entry) -> Fetch {
        let text = entry.to_string();
        let label = text
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&text)
            .to_string();
        let report = PackageReport::new(label.clone(), entry.origin.to_string());
        let path = match &entry.source {
            Source::Path { path, .. } => path.clone(),
            Source::Url { url, .. } => {
                if !url.starts_with("http://") && !url.starts_with("https://") {
                    let url = url.clone();
                    return failed(report, Failure::UnsupportedUrl { url }).alone();
                }
                self.reporter.stage(&label, Stage::Downloading);
                match self.index.download(&Candidate::from_url(url)) {
                    Ok(p) => p,
                    Err(e) => return failed(report, Failure::DownloadUrl(e)).alone(),
                }
            }
            Source::Registry(_) => unreachable!("named requirements are fetched from the index"),
        };
        if let Err(e) = check_hashes(&path, &entry.hashes) {
            return failed(report, Failure::Hash(e)).alone();
        }
        let task = |source, version, label| {
            Fetched::Build(BuildTask {
                label,
                version,
                source,
                extras: entry.extras().to_vec(),
                direct_origin: Some(entry.origin.clone()),
                required_by: entry.origin.to_string(),
                pure_fallback: None,
            })
        };
        if path.is_dir() {
            if let Err(e) = source::check_project(&path) {
                return failed(report, Failure::SourceDir(e)).alone();
            }
            return Fetch {
                provides: source::project_name(&path),
                outcome: task(SourceTree::Dir(path), None, label),
                pin: None,
            };
        }
        if !path.is_file() {
            return failed(report, Failure::Missing(path)).alone();
        }
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file.ends_with(".whl") {
            let origin = Some(entry.origin.clone());
            return self
                .reuse(&path, report, origin, entry.extras().to_vec())
                .alone();
        }
        let Some((name, version)) = source::sdist_name_version(&file) else {
            return failed(report, Failure::NotAnArchive(path)).alone();
        };
        Fetch {
            provides: PackageName::from_str(&name).ok(),
            outcome: task(
                SourceTree::Sdist(path),
                Version::from_str(&version).ok(),
                label,
            ),
            pin: None,
        }
    }

    /// Land a downloaded or given wheel as it is (audited when it has binaries).
    fn reuse(
        &self,
        path: &Path,
        mut report: PackageReport,
        direct_origin: Option<Origin>,
        extras: Vec<ExtraName>,
    ) -> Fetched {
        let start = Instant::now();
        let label = report.label.clone();
        let result = (|| -> Result<Landed, Failure> {
            let file = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let wheel = WheelFilename::from_str(&file).map_err(Failure::BadWheelName)?;
            if !self.policy.accepts(&wheel) {
                return Err(Failure::NotForTarget {
                    file,
                    python: self.profile.python.version.clone(),
                    arch: self.arch(),
                });
            }
            report.name = wheel.name.clone();
            report.version = Some(wheel.version.clone());
            report.tags = wheel.platform_tags.clone();
            report.audit = Some(if wheel.is_pure() {
                "pure".to_string()
            } else {
                self.reporter.stage(&label, Stage::Auditing);
                let audit = audit_wheel(path, Some(self.profile.target()))
                    .map_err(Failure::UnreadableGiven)?;
                report.system_libraries =
                    SystemLibrary::look_up(audit.system_libraries(), &self.profile.sysroot);
                if let Some(f) = audit.findings.into_iter().next() {
                    return Err(Failure::Audit(Box::new(f)));
                }
                "passed".to_string()
            });
            self.land(path, &mut report, direct_origin, extras)
        })();
        report.source = Some(Provenance::Reused);
        report.seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(landed) => Fetched::Ready(report, landed),
            Err(f) => failed(report, f),
        }
    }
}
