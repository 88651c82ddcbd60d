//! One package from requirement to wheelhouse: fetch (index, URL or path), reuse a pure or target
//! wheel, or build the sdist (built-wheel cache first), then audit, retag and land.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use crate::digest::{sha256_file, sha256_hex};
use pep508_rs::pep440_rs::Version;
use pep508_rs::{ExtraName, PackageName};

use super::wheel_cache::{CachedInfo, read_cached, store_cached};
use super::{Landed, PackageReport, Provenance, Reporter, Settings, Stage, source};
use crate::audit::{FindingKind, audit_wheel, derive_platform_tags};
use crate::pep517::diagnose as error;
use crate::pep517::{BuildHost, BuildRequest};
use crate::platform::TargetProfile;
use crate::platform::tag_policy::TagPolicy;
use crate::platform::tags::PlatformTag;
use crate::requirements::{Entry, Origin, Source};
use crate::resolve::index::{Candidate, CandidateKind, Choice, Index, choose};
use crate::resolve::{Job, Resolver};
use crate::wheel::{WheelFilename, read_wheel_metadata};
use crate::wheelhouse::Wheelhouse;

/// Everything one `pyx wheel` run shares between its packages.
pub struct Pipeline<'a> {
    pub settings: Settings,
    pub profile: &'a TargetProfile,
    pub host: &'a dyn BuildHost,
    pub wheelhouse: &'a Wheelhouse,
    pub reporter: &'a dyn Reporter,
    index: Index,
    policy: TagPolicy,
    target_python: Version,
    /// Hash of the target profile: part of every built-wheel cache key.
    profile_key: String,
}

/// What fetching a job gave.
pub enum Fetched {
    /// A wheel that needs no build (pure or already for the target), landed.
    Ready(PackageReport, Landed),
    Build(BuildTask),
    /// Already satisfied (a direct requirement provided it).
    Skip,
    Failed(PackageReport),
}

/// A source tree to build.
pub struct BuildTask {
    /// The name progress is reported under.
    label: String,
    version: Option<Version>,
    source: SourcePath,
    extras: Vec<ExtraName>,
    direct_origin: Option<Origin>,
    required_by: String,
}

impl BuildTask {
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn required_by(&self) -> &str {
        &self.required_by
    }
}

enum SourcePath {
    Sdist(PathBuf),
    Dir(PathBuf),
}

/// A failure with its hint.
struct Failure {
    error: String,
    hint: Option<String>,
}

impl Failure {
    fn new(error: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure {
            error: error.into(),
            hint: Some(hint.into()),
        }
    }
}

impl<'a> Pipeline<'a> {
    pub fn new(
        settings: Settings,
        profile: &'a TargetProfile,
        host: &'a dyn BuildHost,
        wheelhouse: &'a Wheelhouse,
        reporter: &'a dyn Reporter,
    ) -> anyhow::Result<Pipeline<'a>> {
        let target_python = Version::from_str(&profile.python.version)?;
        let policy = profile.tag_policy();
        let profile_key = sha256_hex(&serde_json::to_vec(profile)?);
        let index = Index::new(
            settings.index.clone(),
            crate::cache::cache_dir().join("downloads"),
        );
        Ok(Pipeline {
            settings,
            profile,
            host,
            wheelhouse,
            reporter,
            index,
            policy,
            target_python,
            profile_key,
        })
    }

    /// Find and fetch what a job names; a wheel the target can use lands right away.
    pub fn fetch(&self, resolver: &mut Resolver, job: Job) -> Fetched {
        match job {
            Job::Fetch(name) => self.fetch_named(resolver, &name),
            Job::Direct(entry) => self.fetch_direct(resolver, &entry),
        }
    }

    fn fetch_named(&self, resolver: &mut Resolver, name: &PackageName) -> Fetched {
        let Some(package) = resolver.package(name) else {
            return Fetched::Skip;
        };
        if package.pinned.is_some() || resolver.is_provided(name) {
            return Fetched::Skip;
        }
        let required_by = package
            .first_origin
            .as_ref()
            .map_or_else(String::new, ToString::to_string);
        let mut report = PackageReport::new(name.to_string(), required_by.clone());
        let fail = |mut report: PackageReport, f: Failure| {
            report.error = Some(f.error);
            report.hint = f.hint;
            Fetched::Failed(report)
        };
        self.reporter.stage(name.as_ref(), Stage::Resolving);
        let candidates = match self.index.candidates(name, &self.policy) {
            Ok(c) => c,
            Err(e) => {
                return fail(
                    report,
                    Failure::new(
                        error_chain(&e),
                        "check the network and `--index-url`/`--find-links`",
                    ),
                );
            }
        };
        let specifiers: Vec<_> = package.demands.iter().map(|d| &d.specifiers).collect();
        let index = &self.settings.index;
        let choice = Choice {
            specifiers,
            pre: index.pre,
            no_binary: index.no_binary.contains(name),
            only_binary: index.only_binary.contains(name),
        };
        let Some(pick) = choose(&candidates, &choice, &self.target_python).cloned() else {
            let wanted: Vec<String> = package
                .demands
                .iter()
                .map(|d| format!("`{}` ({})", d.specifiers, d.origin))
                .collect();
            let mut versions: Vec<&Version> = candidates.iter().map(|c| &c.version).collect();
            versions.sort();
            versions.dedup();
            let shown: Vec<String> = versions
                .iter()
                .rev()
                .take(5)
                .map(|v| v.to_string())
                .collect();
            let error = if candidates.is_empty() {
                format!(
                    "no distribution of `{name}` for Python {} on `linux_{}` was found",
                    self.profile.python.version, self.policy.target.name
                )
            } else if wanted.is_empty() {
                format!(
                    "no usable distribution of `{name}` (latest: {})",
                    shown.join(", ")
                )
            } else {
                format!(
                    "no version of `{name}` matches {} (latest available: {})",
                    wanted.join(" and "),
                    shown.join(", ")
                )
            };
            return fail(
                report,
                Failure::new(
                    error,
                    "check the name and version pins; `--pre` allows pre-releases, \
                     `--find-links` adds local archives",
                ),
            );
        };
        let hashes = package.hashes.clone();
        if let Err(e) = resolver.pin(
            name,
            pick.version.clone(),
            Origin::Package("the index".into()),
        ) {
            return fail(report, Failure::new(e.to_string(), "relax one of the pins"));
        }
        report.version = Some(pick.version.to_string());
        self.reporter.stage(name.as_ref(), Stage::Downloading);
        let path = match self.index.download(&pick) {
            Ok(p) => p,
            Err(e) => {
                return fail(
                    report,
                    Failure::new(error_chain(&e), "run again; check the network"),
                );
            }
        };
        if let Err(f) = check_hashes(&path, &hashes) {
            return fail(report, f);
        }
        match pick.kind {
            CandidateKind::Wheel { .. } => self.reuse(&path, report, None, Vec::new()),
            CandidateKind::Sdist => Fetched::Build(BuildTask {
                label: name.to_string(),
                version: Some(pick.version),
                source: SourcePath::Sdist(path),
                extras: Vec::new(),
                direct_origin: None,
                required_by,
            }),
        }
    }

    fn fetch_direct(&self, resolver: &mut Resolver, entry: &Entry) -> Fetched {
        let text = entry.to_string();
        let label = text
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&text)
            .to_string();
        let mut report = PackageReport::new(label.clone(), entry.origin.to_string());
        let fail = |mut report: PackageReport, f: Failure| {
            report.error = Some(f.error);
            report.hint = f.hint;
            Fetched::Failed(report)
        };
        let path = match &entry.source {
            Source::Path { path, .. } => path.clone(),
            Source::Url { url, .. } => {
                if !url.starts_with("http://") && !url.starts_with("https://") {
                    return fail(
                        report,
                        Failure::new(
                            format!(
                                "`{url}`: only http(s) URLs of sdists and wheels are supported"
                            ),
                            "clone or download it and give the local path",
                        ),
                    );
                }
                let (location, fragment) = url.split_once('#').unwrap_or((url, ""));
                let filename = location.rsplit('/').next().unwrap_or_default().to_string();
                let candidate = Candidate {
                    filename,
                    url: location.to_string(),
                    sha256: fragment.strip_prefix("sha256=").map(str::to_string),
                    requires_python: None,
                    yanked: false,
                    version: Version::new([0]),
                    kind: CandidateKind::Sdist,
                };
                self.reporter.stage(&label, Stage::Downloading);
                match self.index.download(&candidate) {
                    Ok(p) => p,
                    Err(e) => return fail(report, Failure::new(error_chain(&e), "check the URL")),
                }
            }
            Source::Registry(_) => unreachable!("named requirements are fetched from the index"),
        };
        if let Err(f) = check_hashes(&path, &entry.hashes) {
            return fail(report, f);
        }
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if let Some(name) = source::project_name(&path) {
                resolver.provide(&name);
            }
            return Fetched::Build(BuildTask {
                label,
                version: None,
                source: SourcePath::Dir(path),
                extras: entry.extras().to_vec(),
                direct_origin: Some(entry.origin.clone()),
                required_by: entry.origin.to_string(),
            });
        }
        if !path.is_file() {
            return fail(
                report,
                Failure::new(
                    format!("`{}` does not exist", path.display()),
                    "give an sdist, a wheel or a source directory",
                ),
            );
        }
        if file.ends_with(".whl") {
            return self.reuse(
                &path,
                report,
                Some(entry.origin.clone()),
                entry.extras().to_vec(),
            );
        }
        let Some((name, version)) = source::sdist_name_version(&file) else {
            return fail(
                report,
                Failure::new(
                    format!("`{}` is neither an sdist nor a wheel", path.display()),
                    "give a `.tar.gz`/`.zip` sdist, a `.whl` or a source directory",
                ),
            );
        };
        report.name = name.clone();
        if let Ok(name) = PackageName::from_str(&name) {
            resolver.provide(&name);
        }
        Fetched::Build(BuildTask {
            label,
            version: Version::from_str(&version).ok(),
            source: SourcePath::Sdist(path),
            extras: entry.extras().to_vec(),
            direct_origin: Some(entry.origin.clone()),
            required_by: entry.origin.to_string(),
        })
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
            let wheel = WheelFilename::from_str(&file)
                .map_err(|e| Failure::new(e.to_string(), "give a wheel with a valid name"))?;
            if !self.policy.accepts(&wheel) {
                return Err(Failure::new(
                    format!(
                        "`{file}` is not a wheel for Python {} on `linux_{}`",
                        self.profile.python.version, self.policy.target.name
                    ),
                    "give the sdist instead, or a wheel built for the target",
                ));
            }
            report.name = wheel.name.clone();
            report.version = Some(wheel.version.clone());
            report.tags = wheel.platform_tags.clone();
            report.audit = Some(if wheel.is_pure() {
                "pure".to_string()
            } else {
                self.reporter.stage(&label, Stage::Auditing);
                let audit = audit_wheel(path, Some(self.profile.target()))
                    .map_err(|e| Failure::new(error_chain(&e), "download it again"))?;
                if let Some(f) = audit.findings.first() {
                    return Err(audit_failure(f));
                }
                "passed".to_string()
            });
            self.land(path, &mut report, direct_origin, extras)
        })();
        report.source = Some(Provenance::Reused);
        report.seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(landed) => Fetched::Ready(report, landed),
            Err(f) => {
                report.error = Some(f.error);
                report.hint = f.hint;
                Fetched::Failed(report)
            }
        }
    }

    fn land(
        &self,
        wheel: &Path,
        report: &mut PackageReport,
        direct_origin: Option<Origin>,
        extras: Vec<ExtraName>,
    ) -> Result<Landed, Failure> {
        let metadata = read_wheel_metadata(wheel)
            .map_err(|e| Failure::new(error_chain(&e), "the wheel's METADATA is unreadable"))?;
        let landed = self
            .wheelhouse
            .land(wheel)
            .map_err(|e| Failure::new(error_chain(&e), "check the wheelhouse directory"))?;
        report.name = metadata.name.clone();
        report.version = Some(metadata.version.clone());
        report.wheel = Some(landed);
        let name = PackageName::from_str(&metadata.name).map_err(|e| {
            Failure::new(e.to_string(), "the wheel's METADATA names no valid package")
        })?;
        let version = Version::from_str(&metadata.version).map_err(|e| {
            Failure::new(e.to_string(), "the wheel's METADATA has no valid version")
        })?;
        Ok(Landed {
            name,
            version,
            requires_dist: metadata.requires_dist,
            extras,
            direct_origin,
        })
    }

    /// Build one source tree (or take it from the built-wheel cache), audit, retag and land it.
    pub fn build(&self, task: BuildTask, jobs: usize) -> (PackageReport, Option<Landed>) {
        let start = Instant::now();
        let label = task.label.clone();
        let mut report = PackageReport::new(label.clone(), task.required_by.clone());
        report.version = task.version.as_ref().map(ToString::to_string);
        let result = self.build_inner(&task, &label, jobs, &mut report);
        report.seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(landed) => (report, Some(landed)),
            Err(f) => {
                report.error = Some(f.error);
                report.hint = f.hint;
                (report, None)
            }
        }
    }

    fn build_inner(
        &self,
        task: &BuildTask,
        label: &str,
        jobs: usize,
        report: &mut PackageReport,
    ) -> Result<Landed, Failure> {
        let io = |what: &str, e: &dyn std::fmt::Display| {
            Failure::new(
                format!("{what}: {e}"),
                "check disk space and permissions of the cache",
            )
        };
        let source_hash = match &task.source {
            SourcePath::Sdist(p) => sha256_file(p).map_err(|e| io("cannot read the sdist", &e))?,
            SourcePath::Dir(d) => {
                source::tree_hash(d).map_err(|e| io("cannot read the source", &e))?
            }
        };
        let config = self.settings.config.for_package(label);
        let key = sha256_hex(
            serde_json::json!({
                "source": source_hash,
                "profile": self.profile_key,
                "config": config,
                "pyx": env!("CARGO_PKG_VERSION"),
                "manylinux": self.settings.manylinux,
                "allow_pure_fallback": self.settings.allow_pure_fallback,
            })
            .to_string()
            .as_bytes(),
        );
        let cache = crate::cache::cache_dir();
        let cached_dir = cache.join("built").join(&key[..2]).join(&key);
        let direct_origin = task.direct_origin.clone();
        if !self.settings.no_cache
            && let Some((wheel, info)) = read_cached(&cached_dir)
        {
            report.source = Some(Provenance::Cached);
            report.backend = info.backend;
            report.audit = Some(info.audit);
            report.tags = info.tags;
            report.log = info.log;
            return self.land(&wheel, report, direct_origin, task.extras.clone());
        }
        report.source = Some(Provenance::Built);
        let scratch_root = cache.join("scratch");
        fs_err::create_dir_all(&scratch_root)
            .map_err(|e| io("cannot create the scratch dir", &e))?;
        let scratch = tempfile::tempdir_in(&scratch_root)
            .map_err(|e| io("cannot create a scratch dir", &e))?;
        let project = match &task.source {
            SourcePath::Sdist(p) => source::unpack_sdist(p, &scratch.path().join("src"))
                .map_err(|e| Failure::new(error_chain(&e), "check that the sdist is intact"))?,
            SourcePath::Dir(d) => {
                let dest = scratch.path().join("src");
                source::copy_tree(d, &dest)
                    .map_err(|e| Failure::new(error_chain(&e), "check the source directory"))?;
                dest
            }
        };
        let logs = cache.join("logs").join(self.policy.target.name);
        fs_err::create_dir_all(&logs).map_err(|e| io("cannot create the log dir", &e))?;
        let log = logs.join(format!(
            "{label}{}.log",
            task.version
                .as_ref()
                .map(|v| format!("-{v}"))
                .unwrap_or_default()
        ));
        report.log = Some(log.clone());
        let wheel_dir = scratch.path().join("wheel");
        fs_err::create_dir_all(&wheel_dir).map_err(|e| io("cannot create the wheel dir", &e))?;
        self.reporter.stage(label, Stage::Building);
        let calls_before = self.host.compiler_calls(label).len();
        let request = BuildRequest {
            package: label,
            source_dir: &project,
            wheel_dir: &wheel_dir,
            log: &log,
            config,
            jobs,
        };
        let built = crate::pep517::build_wheel(self.host, &request).map_err(|e| {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            report.log_tail = error::tail(&text, 15);
            Failure {
                error: error_chain(&e),
                hint: error::diagnose(&text)
                    .map(|d| d.hint(self.profile.target()))
                    .or_else(|| Some("see the build log for the backend's own message".into())),
            }
        })?;
        report.backend = Some(built.build_system.backend.clone());
        self.reporter.stage(label, Stage::Auditing);
        let compiled = built.build_system.is_compiling_backend() || declares_extensions(&project);
        let staging = scratch.path().join("final");
        fs_err::create_dir_all(&staging).map_err(|e| io("cannot create the staging dir", &e))?;
        let calls = self.host.compiler_calls(label);
        let ran_compiler = calls.len() > calls_before;
        report.compiler_seconds = Some(crate::crossenv::busy_seconds(
            calls.get(calls_before..).unwrap_or_default(),
        ));
        let (wheel, tags, audit) = self
            .finish(&built.wheel, compiled, ran_compiler, &staging)
            .map_err(|mut f| {
                if !f.error.contains("silent fallback") {
                    return f;
                }
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                let errors: Vec<&str> = text
                    .lines()
                    .filter(|l| l.contains("error:") || l.contains("Error"))
                    .collect();
                report.log_tail = errors[errors.len().saturating_sub(8)..]
                    .iter()
                    .map(|l| l.to_string())
                    .collect();
                if let Some(d) = error::diagnose(&text) {
                    f.hint = Some(format!(
                        "{}; or pass `--allow-pure-fallback` to accept the pure-Python wheel",
                        d.hint(self.profile.target())
                    ));
                }
                f
            })?;
        report.tags = tags.clone();
        report.audit = Some(audit.clone());
        let info = CachedInfo {
            backend: report.backend.clone(),
            audit,
            tags,
            log: Some(log),
        };
        let final_wheel = store_cached(&staging, &wheel, &info, &cached_dir)
            .map_err(|e| io("cannot store the built wheel in the cache", &e))?;
        self.land(&final_wheel, report, direct_origin, task.extras.clone())
    }

    /// Audit a freshly built wheel, refuse a silent pure fallback, and retag it for the target.
    fn finish(
        &self,
        wheel: &Path,
        compiled: bool,
        ran_compiler: bool,
        out_dir: &Path,
    ) -> Result<(PathBuf, Vec<PlatformTag>, String), Failure> {
        let target = self.profile.target();
        let audit = audit_wheel(wheel, Some(target))
            .map_err(|e| Failure::new(error_chain(&e), "the backend wrote an unreadable wheel"))?;
        let retaggable = |k: FindingKind| {
            matches!(
                k,
                FindingKind::PlatformTag | FindingKind::TagMismatch | FindingKind::Manylinux
            )
        };
        if let Some(f) = audit.findings.iter().find(|f| !retaggable(f.kind)) {
            return Err(audit_failure(f));
        }
        let name = wheel
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if audit.elfs.is_empty() {
            if (compiled || ran_compiler) && !self.settings.allow_pure_fallback {
                return Err(Failure::new(
                    format!(
                        "`{name}` has no compiled extension: the build {} but produced a pure-Python wheel (a silent fallback)",
                        if ran_compiler {
                            "ran the compiler"
                        } else {
                            "declares extension modules"
                        }
                    ),
                    "the C extension failed to compile; the build log says why. Pass \
                     `--allow-pure-fallback` to accept the pure-Python wheel",
                ));
            }
            let out = out_dir.join(&name);
            fs_err::copy(wheel, &out)
                .map_err(|e| Failure::new(e.to_string(), "check the cache"))?;
            let tags = WheelFilename::from_str(&name)
                .map(|w| w.platform_tags)
                .unwrap_or_default();
            return Ok((out, tags, "pure".into()));
        }
        let tags = derive_platform_tags(&audit, self.settings.manylinux)
            .map_err(|e| Failure::new(e.to_string(), e.hint()))?;
        let retagged = retag_into(wheel, &tags, out_dir)?;
        let final_audit = audit_wheel(&retagged, Some(target))
            .map_err(|e| Failure::new(error_chain(&e), "the retagged wheel is unreadable"))?;
        if let Some(f) = final_audit.findings.first() {
            return Err(audit_failure(f));
        }
        Ok((retagged, tags, "passed".into()))
    }
}

/// Write `wheel` with platform tags `tags` into `out_dir` (PEP 425 file name, WHEEL and RECORD).
fn retag_into(wheel: &Path, tags: &[PlatformTag], out_dir: &Path) -> Result<PathBuf, Failure> {
    crate::wheel::rewrite::retag(
        wheel,
        tags,
        crate::wheel::rewrite::Destination::Dir(out_dir),
    )
    .map_err(|e| Failure::new(error_chain(&e), "run `pyx inspect` on the built wheel"))
}

fn audit_failure(f: &crate::audit::Finding) -> Failure {
    let member = f
        .member
        .as_deref()
        .map(|m| format!("`{m}`: "))
        .unwrap_or_default();
    Failure::new(
        format!(
            "`{}` failed the audit: {member}{} (expected {}, found {})",
            f.wheel, f.what, f.expected, f.found
        ),
        f.hint.clone(),
    )
}

/// True when a source tree has C, C++, Cython or Fortran sources outside tests and docs, or a
/// `setup.py` that declares extension modules.
pub fn declares_extensions(project: &Path) -> bool {
    if std::fs::read_to_string(project.join("setup.py"))
        .is_ok_and(|t| t.contains("Extension(") || t.contains("ext_modules"))
    {
        return true;
    }
    let skip = |name: &str| {
        matches!(
            name,
            "tests"
                | "test"
                | "testing"
                | "docs"
                | "doc"
                | "examples"
                | "benchmarks"
                | "build"
                | ".git"
        )
    };
    walkdir::WalkDir::new(project)
        .max_depth(6)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !skip(&e.file_name().to_string_lossy()))
        .flatten()
        .any(|e| {
            let name = e.file_name().to_string_lossy();
            e.file_type().is_file()
                && [".c", ".cc", ".cpp", ".cxx", ".pyx", ".f90", ".f"]
                    .iter()
                    .any(|ext| name.ends_with(ext))
        })
}

fn check_hashes(path: &Path, hashes: &[String]) -> Result<(), Failure> {
    if hashes.is_empty() {
        return Ok(());
    }
    let actual = sha256_file(path).map_err(|e| Failure::new(e.to_string(), "download it again"))?;
    if hashes
        .iter()
        .any(|h| h.strip_prefix("sha256:") == Some(actual.as_str()))
    {
        return Ok(());
    }
    Err(Failure::new(
        format!(
            "`{}` has sha256:{actual}, which is none of the `--hash` values ({})",
            path.display(),
            hashes.join(", ")
        ),
        "the file changed on the index or the hash is wrong; update the requirements file",
    ))
}

/// An error and its causes on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
