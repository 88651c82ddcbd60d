//! Why one package did not reach the wheelhouse. A [`Failure`] keeps its kind, its causes and its
//! hint to the end of the run: the summary renders it once, `--report` writes it as text.

use std::path::PathBuf;

use crate::audit::{AuditError, DeriveError, Finding, FindingKind};
use crate::pep517::BuildError;
use crate::pipeline::source::SourceError;
use crate::resolve::ResolveError;
use crate::resolve::index::IndexError;
use crate::wheel::filename::WheelFilenameError;
use crate::wheel::reader::WheelError;
use crate::wheel::rewrite::RewriteError;
use crate::wheelhouse::WheelhouseError;

/// One package's failure, by kind.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The indexes or find-links locations could not be read.
    #[error(transparent)]
    Index(IndexError),
    #[error("no distribution of `{name}` for Python {python} on `linux_{arch}` was found")]
    NoDistribution {
        name: String,
        python: String,
        arch: &'static str,
    },
    #[error("no usable distribution of `{name}` (latest: {latest})")]
    NoUsableFile { name: String, latest: String },
    #[error("no version of `{name}` matches {wanted} (latest available: {latest})")]
    NoMatchingVersion {
        name: String,
        wanted: String,
        latest: String,
    },
    /// Two requirements that no single version satisfies, or a dependency that does not parse.
    #[error(transparent)]
    Conflict(ResolveError),
    /// A file chosen from an index could not be downloaded.
    #[error(transparent)]
    Download(IndexError),
    /// A URL given as a requirement could not be downloaded.
    #[error(transparent)]
    DownloadUrl(IndexError),
    /// A file's sha256 is none of its `--hash` values.
    #[error(transparent)]
    Hash(IndexError),
    /// Hash-checking mode, and a package (a dependency) that no `--hash` covers.
    #[error(
        "`{name}` (required by {required_by}) has no `--hash`: in hash-checking mode every \
         package needs one, dependencies included"
    )]
    Unhashed { name: String, required_by: String },
    #[error("`{url}`: only http(s) URLs of sdists and wheels are supported")]
    UnsupportedUrl { url: String },
    #[error("`{}` does not exist", .0.display())]
    Missing(PathBuf),
    #[error("`{}` is neither an sdist nor a wheel", .0.display())]
    NotAnArchive(PathBuf),
    #[error(transparent)]
    BadWheelName(WheelFilenameError),
    #[error("`{file}` is not a wheel for Python {python} on `linux_{arch}`")]
    NotForTarget {
        file: String,
        python: String,
        arch: &'static str,
    },
    /// A wheel with a finding that makes it unsound for the target.
    #[error("{}", audit_message(.0))]
    Audit(Box<Finding>),
    /// A wheel from the index or the command line that cannot be read.
    #[error(transparent)]
    UnreadableGiven(AuditError),
    /// The backend's wheel cannot be read.
    #[error(transparent)]
    UnreadableBuilt(AuditError),
    /// The retagged wheel cannot be read.
    #[error(transparent)]
    UnreadableRetagged(AuditError),
    #[error(transparent)]
    Metadata(WheelError),
    /// `METADATA` names no valid package or version.
    #[error("{message}")]
    InvalidMetadata {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Wheelhouse(WheelhouseError),
    /// pyx's cache (scratch dirs, logs, built wheels) could not be written.
    #[error("{what}: {error}")]
    Cache {
        what: &'static str,
        error: std::io::Error,
    },
    #[error(transparent)]
    Sdist(SourceError),
    #[error(transparent)]
    SourceDir(SourceError),
    /// The PEP 517 build failed; `hint` is what its log says to do.
    #[error("{error}")]
    Build {
        #[source]
        error: Box<BuildError>,
        hint: String,
        /// The Debian `-dev` package the log says the sysroot lacks.
        dev_package: Option<String>,
    },
    /// The build ran the compiler (or declares extensions) yet produced a pure-Python wheel.
    #[error(
        "`{wheel}` has no compiled extension: the build {} but produced a pure-Python wheel (a silent fallback)",
        if *ran_compiler { "ran the compiler" } else { "declares extension modules" }
    )]
    SilentFallback {
        wheel: String,
        ran_compiler: bool,
        /// What the build log says went wrong, when it says.
        diagnosis: Option<String>,
        /// The Debian `-dev` package the log says the sysroot lacks.
        dev_package: Option<String>,
    },
    /// The target's copy of a build requirement could not be provided.
    #[error("cannot provide the target's `{name}` {version}, which the build compiles against")]
    BuildDependency {
        name: String,
        version: String,
        #[source]
        source: Box<Failure>,
    },
    #[error("the index has neither a `{arch}` wheel nor an sdist of `{name}` {version}")]
    NoTargetDependency {
        name: String,
        version: String,
        arch: &'static str,
    },
    #[error("build dependencies form a cycle: {chain}")]
    BuildDependencyCycle { chain: String },
    #[error("cannot make the target overlay of `{name}`: {message}")]
    Overlay { name: String, message: String },
    #[error(transparent)]
    Derive(DeriveError),
    #[error(transparent)]
    Retag(RewriteError),
    #[error("not built: an earlier package failed")]
    NotBuilt,
    /// A Rust build with no toolchain for the target.
    #[error(transparent)]
    Rust(crate::rust::RustError),
}

fn audit_message(f: &Finding) -> String {
    let member = f
        .member
        .as_deref()
        .map(|m| format!("`{m}`: "))
        .unwrap_or_default();
    format!(
        "`{}` failed the audit: {member}{} (expected {}, found {})",
        f.wheel, f.what, f.expected, f.found
    )
}

impl Failure {
    /// For an audit finding about a binary of a wheel just built from `project`: say whether the
    /// source ships that binary prebuilt (the backend copied it in) or the build compiled it
    /// without pyx's shims; "rebuild with `pyx wheel --target`" is what just ran.
    pub fn explain_built(&mut self, project: &std::path::Path) {
        let Failure::Audit(f) = self else {
            return;
        };
        if !matches!(
            f.kind,
            FindingKind::ElfMachine
                | FindingKind::FloatAbi
                | FindingKind::ArmCpuArch
                | FindingKind::ExtSuffix
                | FindingKind::PureWithBinaries
        ) {
            return;
        }
        let Some(member) = f.member.as_deref() else {
            return;
        };
        let file = member.rsplit('/').next().unwrap_or(member);
        let shipped = walkdir::WalkDir::new(project)
            .max_depth(8)
            .into_iter()
            .flatten()
            .find(|e| e.file_type().is_file() && e.file_name().to_string_lossy() == file)
            .map(|e| {
                e.path()
                    .strip_prefix(project)
                    .unwrap_or(e.path())
                    .to_path_buf()
            });
        f.hint = match shipped {
            Some(path) => format!(
                "the source ships `{}` prebuilt and the build copied it into the wheel, so it \
                 was never compiled for the target: remove it from the sdist (or from the \
                 package data) and build from source",
                path.display()
            ),
            None => "the build compiled it without pyx's compiler shims (a hard-coded `gcc` or \
                     `cc`, or a `CC` the package sets itself); run with -v to see the compiler \
                     calls pyx saw"
                .to_string(),
        };
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        let text = match self {
            Failure::Index(_) => "check the network and `--index-url`/`--find-links`",
            Failure::NoDistribution { .. }
            | Failure::NoUsableFile { .. }
            | Failure::NoMatchingVersion { .. } => {
                "check the name and version pins; `--pre` allows pre-releases, `--find-links` \
                 adds local archives"
            }
            Failure::Conflict(_) => {
                "pin a version that satisfies both requirements (in the requirements file or \
                 with `-c`)"
            }
            Failure::Download(_) => "run again; check the network",
            Failure::DownloadUrl(_) => "check the URL",
            Failure::Hash(_) => {
                "the file changed on the index or the hash is wrong; update the requirements file"
            }
            Failure::Unhashed { name, .. } => {
                return format!(
                    "add `{name}==VERSION --hash=sha256:...` to the requirements file \
                     (`pip-compile --generate-hashes` writes every dependency's)"
                );
            }
            Failure::UnsupportedUrl { .. } => "clone or download it and give the local path",
            Failure::Missing(_) => "give an sdist, a wheel or a source directory",
            Failure::NotAnArchive(_) => {
                "give a `.tar.gz`/`.zip` sdist, a `.whl` or a source directory"
            }
            Failure::BadWheelName(_) => "give a wheel with a valid name",
            Failure::NotForTarget { .. } => {
                "give the sdist instead, or a wheel built for the target"
            }
            Failure::Audit(f) => return f.hint.clone(),
            Failure::UnreadableGiven(_) => "download it again",
            Failure::UnreadableBuilt(_) => "the backend wrote an unreadable wheel",
            Failure::UnreadableRetagged(_) => "the retagged wheel is unreadable",
            Failure::Metadata(_) => "the wheel's METADATA is unreadable",
            Failure::InvalidMetadata { field, .. } => {
                return format!("the wheel's METADATA has no valid {field}");
            }
            Failure::Wheelhouse(_) => "check the wheelhouse directory",
            Failure::Cache { .. } => "check disk space and permissions of the cache",
            Failure::Sdist(SourceError::NotAProject { .. })
            | Failure::SourceDir(SourceError::NotAProject { .. }) => {
                "give the directory that holds the project's `pyproject.toml` or `setup.py`"
            }
            Failure::Sdist(_) => "check that the sdist is intact",
            Failure::SourceDir(_) => "check the source directory",
            Failure::Build { hint, .. } => return hint.clone(),
            Failure::SilentFallback {
                diagnosis: Some(d), ..
            } => {
                return format!(
                    "{d}; or pass `--allow-pure-fallback` to accept the pure-Python wheel"
                );
            }
            Failure::SilentFallback { .. } => {
                "the C extension failed to compile; the build log says why. Pass \
                 `--allow-pure-fallback` to accept the pure-Python wheel"
            }
            Failure::BuildDependency { source, .. } => return source.hint(),
            Failure::NoTargetDependency { name, version, .. } => {
                return format!(
                    "give a wheel of `{name}=={version}` for the target with `--find-links`, or \
                     pin the build requirement to a version that has an sdist"
                );
            }
            Failure::BuildDependencyCycle { .. } => {
                "give a wheel for the target of one of them with `--find-links`"
            }
            Failure::Overlay { .. } => "check disk space and permissions of the cache",
            Failure::Derive(e) => e.hint(),
            Failure::Retag(_) => "run `pyx inspect` on the built wheel",
            Failure::NotBuilt => "pass `--keep-going` to build the rest anyway",
            Failure::Rust(e) => return e.hint(),
        };
        text.to_string()
    }

    /// The Debian `-dev` package whose absence from the sysroot made the build fail.
    pub fn dev_package(&self) -> Option<&str> {
        match self {
            Failure::Build { dev_package, .. } | Failure::SilentFallback { dev_package, .. } => {
                dev_package.as_deref()
            }
            _ => None,
        }
    }

    /// The failure and its causes, outermost first, without repeats.
    pub fn causes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut next: Option<&dyn std::error::Error> = Some(self);
        while let Some(e) = next {
            let text = e.to_string();
            if out.last() != Some(&text) {
                out.push(text);
            }
            next = e.source();
        }
        out
    }
}

/// A failure in `--report`: `"error"` (the causes on one line), `"hint"` and `"dev_package"`,
/// `null` for success.
pub fn serialize_fields<S: serde::Serializer>(
    failure: &Option<Failure>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(3))?;
    map.serialize_entry("error", &failure.as_ref().map(|f| f.causes().join(": ")))?;
    map.serialize_entry("hint", &failure.as_ref().map(Failure::hint))?;
    let dev_package = failure.as_ref().and_then(Failure::dev_package);
    map.serialize_entry("dev_package", &dev_package)?;
    map.end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_their_hints_and_causes() {
        let f = Failure::SilentFallback {
            wheel: "m-1.0-py3-none-any.whl".into(),
            ran_compiler: true,
            diagnosis: Some("the sysroot lacks `yaml.h`".into()),
            dev_package: Some("libyaml-dev".into()),
        };
        assert_eq!(
            f.causes(),
            [
                "`m-1.0-py3-none-any.whl` has no compiled extension: the build ran the compiler \
              but produced a pure-Python wheel (a silent fallback)"
            ]
        );
        assert!(f.hint().starts_with("the sysroot lacks `yaml.h`; or pass"));
        assert_eq!(f.dev_package(), Some("libyaml-dev"));
        let io = Failure::Cache {
            what: "cannot create the scratch dir",
            error: std::io::Error::other("disk full"),
        };
        assert_eq!(io.causes(), ["cannot create the scratch dir: disk full"]);
        assert_eq!(io.hint(), "check disk space and permissions of the cache");
    }

    #[test]
    fn reports_carry_error_and_hint_as_text() {
        let mut report = crate::pipeline::PackageReport::new("bad", "the command line");
        let ok = serde_json::to_value(&report).unwrap();
        assert_eq!(ok["error"], serde_json::Value::Null);
        assert_eq!(ok["hint"], serde_json::Value::Null);
        report.failure = Some(Failure::NotBuilt);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["error"], "not built: an earlier package failed");
        assert_eq!(json["hint"], "pass `--keep-going` to build the rest anyway");
        assert_eq!(json["name"], "bad");
    }
}
