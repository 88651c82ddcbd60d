//! pyx's reading of a failed `pip install` on the target: pip's own words, which wheel they are
//! about, and which tags the target accepts (the list `pip debug --verbose` prints there).

use std::path::PathBuf;
use std::str::FromStr;

use regex::Regex;

use crate::deploy::pip::{PackageSource, PipRun, tail};
use crate::platform::Target;
use crate::platform::tags::PlatformTag;
use crate::printer::Diagnostic;
use crate::wheel::filename::{WheelFilename, normalize_name};

/// What the target's pip refused, read from its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipProblem {
    /// `ERROR: F is not a supported wheel on this platform.`
    Unsupported { wheel: String },
    /// `ERROR: Could not find a version that satisfies the requirement R (from P) (from
    /// versions: V)`, after `Ignored the following versions that require a different python
    /// version: 1.0 Requires-Python >=3.12; ...` when there was such a line.
    NotFound {
        requirement: String,
        required_by: Option<String>,
        versions: Vec<String>,
        other_python: Vec<String>,
    },
    /// `ERROR: Package 'N' requires a different Python: 3.11.2 not in '>=3.12'`
    RequiresPython {
        package: String,
        python: String,
        specifier: String,
    },
    /// `THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.`
    HashMismatch,
    /// `Hashes are required in --require-hashes mode, but they are missing from some requirements.`
    MissingHashes,
}

impl PipProblem {
    /// The first problem pip's log names, if pyx knows its words.
    pub fn read(log: &str) -> Option<PipProblem> {
        let unsupported =
            Regex::new(r"^ERROR: (\S+\.whl) is not a supported wheel on this platform")
                .expect("valid regex");
        let not_found = Regex::new(concat!(
            r"^ERROR: Could not find a version that satisfies the requirement (.+?)",
            r"(?: \(from ([^()]+)\))? \(from versions: (.*)\)$",
        ))
        .expect("valid regex");
        let python = Regex::new(
            r"^ERROR: Package '([^']+)' requires a different Python: (\S+) not in '([^']*)'",
        )
        .expect("valid regex");
        let ignored =
            "ERROR: Ignored the following versions that require a different python version: ";
        let mut other_python = Vec::new();
        for line in log.lines().map(str::trim_end) {
            if let Some(list) = line.strip_prefix(ignored) {
                other_python = list.split("; ").map(str::to_string).collect();
            } else if let Some(c) = unsupported.captures(line) {
                return Some(PipProblem::Unsupported {
                    wheel: c[1].rsplit('/').next().unwrap_or(&c[1]).to_string(),
                });
            } else if let Some(c) = not_found.captures(line) {
                let versions = match &c[3] {
                    "none" => Vec::new(),
                    list => list.split(", ").map(str::to_string).collect(),
                };
                return Some(PipProblem::NotFound {
                    requirement: c[1].to_string(),
                    required_by: c.get(2).map(|m| m.as_str().to_string()),
                    versions,
                    other_python,
                });
            } else if let Some(c) = python.captures(line) {
                return Some(PipProblem::RequiresPython {
                    package: c[1].to_string(),
                    python: c[2].to_string(),
                    specifier: c[3].to_string(),
                });
            } else if line
                .contains("THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE")
            {
                return Some(PipProblem::HashMismatch);
            } else if line.contains("Hashes are required in --require-hashes mode") {
                return Some(PipProblem::MissingHashes);
            }
        }
        None
    }
}

/// The wheels pip could choose from: where it looked and, for directories, what is there.
#[derive(Debug, Clone)]
pub struct Offered {
    pub source: PackageSource,
    /// Every wheel in the find-links directories and every wheel given by path.
    pub wheels: Vec<OfferedWheel>,
}

/// A wheel pip could see, as the user named it (path) and parsed (file name).
#[derive(Debug, Clone)]
pub struct OfferedWheel {
    pub path: PathBuf,
    pub filename: WheelFilename,
}

impl Offered {
    /// The `.whl` files in the find-links directories, and `given`.
    pub fn list(source: PackageSource, given: &[PathBuf]) -> Offered {
        let mut paths: Vec<PathBuf> = given.to_vec();
        if let PackageSource::FindLinks(dirs) = &source {
            for dir in dirs {
                if let Ok(entries) = std::fs::read_dir(dir) {
                    paths.extend(entries.flatten().map(|e| dir.join(e.file_name())));
                }
            }
        }
        let mut wheels: Vec<OfferedWheel> = paths
            .into_iter()
            .filter_map(|path| {
                let filename = WheelFilename::from_str(path.file_name()?.to_str()?).ok()?;
                Some(OfferedWheel { path, filename })
            })
            .collect();
        wheels.sort_by_key(|w| w.filename.to_string());
        wheels.dedup_by_key(|w| w.filename.to_string());
        Offered { source, wheels }
    }

    fn of(&self, name: &str) -> Vec<&OfferedWheel> {
        let name = normalize_name(name);
        self.wheels
            .iter()
            .filter(|w| w.filename.normalized_name() == name)
            .collect()
    }

    /// The offered wheel of that file name, or one made up from the name alone.
    fn named(&self, file: &str) -> Option<OfferedWheel> {
        let filename = WheelFilename::from_str(file).ok()?;
        let found = self.wheels.iter().find(|w| w.filename == filename);
        Some(found.cloned().unwrap_or(OfferedWheel {
            path: PathBuf::from(file),
            filename,
        }))
    }

    /// `the wheelhouse `wh``, `the index `http://...``.
    fn describe(&self) -> String {
        match &self.source {
            PackageSource::FindLinks(dirs) => {
                let dirs: Vec<String> = dirs.iter().map(|d| format!("`{}`", d.display())).collect();
                format!("the wheelhouse {}", dirs.join(", "))
            }
            PackageSource::Index(url) => format!("the index `{url}`"),
        }
    }
}

/// The tags the target's pip accepts, most preferred first.
pub struct AcceptedTags<'a>(&'a [String]);

impl AcceptedTags<'_> {
    fn accepts(&self, wheel: &WheelFilename) -> bool {
        wheel.tag_triples().iter().any(|t| self.0.contains(t))
    }

    fn platforms(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for tag in self.0 {
            let platform = tag.splitn(3, '-').nth(2).unwrap_or_default();
            if !out.contains(&platform) {
                out.push(platform);
            }
        }
        out
    }

    fn accepts_platform(&self, platform: &PlatformTag) -> bool {
        self.platforms().contains(&platform.to_string().as_str())
    }

    /// `python-abi` pairs accepted with `platform`.
    fn interpreters(&self, platform: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|t| t.strip_suffix(platform)?.strip_suffix('-'))
            .collect()
    }

    /// What the `accepted:` line says: the platforms, or, when the wheel's platform is one of
    /// them, the interpreter tags that go with it.
    fn summary(&self, wheel: &WheelFilename) -> String {
        let count = format!(
            "{} tags, as `pip debug --verbose` lists them on the target",
            self.0.len()
        );
        match wheel
            .platform_tags
            .iter()
            .find(|p| self.accepts_platform(p))
        {
            Some(platform) => {
                let platform = platform.to_string();
                format!(
                    "{} with `{platform}` ({count})",
                    compress(&self.interpreters(&platform), interpreter_step)
                )
            }
            None => format!("{} ({count})", compress(&self.platforms(), manylinux_step)),
        }
    }
}

/// True when `b` follows `a` in a run of `manylinux_2_N_<arch>` tags.
fn manylinux_step(a: &str, b: &str) -> bool {
    match (PlatformTag::from_str(a), PlatformTag::from_str(b)) {
        (
            Ok(PlatformTag::Manylinux {
                glibc: ga,
                arch: aa,
                legacy: false,
            }),
            Ok(PlatformTag::Manylinux {
                glibc: gb,
                arch: ab,
                legacy: false,
            }),
        ) => aa == ab && ga.major == gb.major && ga.minor.abs_diff(gb.minor) == 1,
        _ => false,
    }
}

/// True when `b` follows `a` in a run like `cp310-abi3`, `cp39-abi3` or `py310-none`, `py39-none`.
fn interpreter_step(a: &str, b: &str) -> bool {
    let split = |t: &str| -> Option<(String, u32, String)> {
        let (python, abi) = t.split_once('-')?;
        let kind = python.get(..3)?;
        let minor = python.get(3..)?.parse().ok()?;
        (kind == "cp3" || kind == "py3").then(|| (kind.to_string(), minor, abi.to_string()))
    };
    match (split(a), split(b)) {
        (Some((ka, ma, aa)), Some((kb, mb, ab))) => ka == kb && aa == ab && ma.abs_diff(mb) == 1,
        _ => false,
    }
}

/// `a`, `b` … `e`: runs that `step` links are shown by their ends.
fn compress(items: &[&str], step: fn(&str, &str) -> bool) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < items.len() {
        let mut j = i;
        while j + 1 < items.len() && step(items[j], items[j + 1]) {
            j += 1;
        }
        parts.push(match j - i {
            0 => format!("`{}`", items[i]),
            1 => format!("`{}`, `{}`", items[i], items[j]),
            _ => format!("`{}` … `{}`", items[i], items[j]),
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// What to do about a wheel none of whose tags the target accepts.
fn tag_hint(
    offered: &OfferedWheel,
    target: &Target,
    accepted: &AcceptedTags,
    python: &str,
) -> String {
    let wheel = &offered.filename;
    let file = wheel.to_string();
    let path = offered.path.display();
    if wheel
        .platform_tags
        .iter()
        .any(|p| accepted.accepts_platform(p))
    {
        return format!(
            "`{file}` is built for `{}-{}`, which the target's Python {python} does not run: \
             build it with the target's Python (`pyx wheel --target {target}`)",
            wheel.python_tags.join("."),
            wheel.abi_tags.join(".")
        );
    }
    for platform in &wheel.platform_tags {
        match platform.arch() {
            Some(arch) if arch == target.name => {
                if let PlatformTag::Manylinux { glibc, .. } = platform {
                    return format!(
                        "`{platform}` needs glibc {glibc} or newer, which the target does not \
                         have: build against the target's sysroot (`pyx wheel --target {target}` \
                         tags from the binaries' symbol versions)"
                    );
                }
            }
            Some(arch @ ("armv8l" | "arm")) => {
                return format!(
                    "`linux_{arch}` names no CPU a device's pip reports (it is the machine \
                     Debian's armhf Python was built on, and crossenv's tag): build with `pyx \
                     wheel --target {target}`, or give the wheel the tag its binaries deserve \
                     with `pyx retag --auto {path}`"
                );
            }
            Some(arch) => {
                return format!(
                    "`{file}` is for `{arch}`, not `{target}`: build it for the target with `pyx \
                     wheel --target {target}`"
                );
            }
            None => {}
        }
    }
    format!("build it for the target with `pyx wheel --target {target}`")
}

/// pip's own words: from its first `ERROR:` line on (at most 20 lines), else its last lines.
fn pip_words(log: &str) -> Vec<String> {
    let lines: Vec<&str> = log.trim_end().lines().collect();
    match lines.iter().position(|l| l.starts_with("ERROR:")) {
        Some(first) => lines[first..]
            .iter()
            .take(20)
            .map(|l| l.to_string())
            .collect(),
        None => tail(log, 15).lines().map(str::to_string).collect(),
    }
}

/// The error for a failed install: pyx's reading as the headline and fields, pip's words quoted,
/// and what to do.
pub fn explain(run: &PipRun, offered: &Offered, target: &Target) -> Diagnostic {
    let reading = Reading {
        who: format!("the `{target}` target's pip"),
        accepted: AcceptedTags(&run.accepted),
        python: &run.python,
        offered,
        target,
    };
    let d = match PipProblem::read(&run.log) {
        Some(PipProblem::Unsupported { wheel }) => reading.unsupported(&wheel),
        Some(PipProblem::NotFound {
            requirement,
            required_by,
            versions,
            other_python,
        }) => reading.not_found(&requirement, required_by, &versions, &other_python),
        Some(PipProblem::RequiresPython {
            package,
            python,
            specifier,
        }) => reading
            .with_wheels(
                Diagnostic::error(format!(
                    "{} refuses `{package}`: it requires Python `{specifier}`, the target's is \
                     {python}",
                    reading.who
                )),
                &offered.of(&package),
            )
            .hint(requires_python_hint(&package, &python)),
        Some(PipProblem::HashMismatch) => Diagnostic::error(format!(
            "{} refuses a wheel whose sha256 is not the one the requirements pin",
            reading.who
        ))
        .hint(HASH_HINT),
        Some(PipProblem::MissingHashes) => Diagnostic::error(format!(
            "{} refuses to install without a `--hash` for every requirement (hash-checking mode)",
            reading.who
        ))
        .hint(HASH_HINT),
        None => Diagnostic::error(format!("{} failed (exit {})", reading.who, run.exit)).hint(
            "pip's words are above; `--keep` keeps its whole log (`pip.log` in the scratch prefix)",
        ),
    };
    d.quote(pip_words(&run.log))
}

/// What pyx knows when it reads pip's words.
struct Reading<'a> {
    who: String,
    accepted: AcceptedTags<'a>,
    python: &'a str,
    offered: &'a Offered,
    target: &'a Target,
}

impl Reading<'_> {
    fn with_wheels(&self, mut d: Diagnostic, wheels: &[&OfferedWheel]) -> Diagnostic {
        for w in wheels {
            d = d.field("wheel", format!("`{}`", w.filename));
        }
        d
    }

    /// `F is not a supported wheel on this platform`: its tags and the target's.
    fn unsupported(&self, file: &str) -> Diagnostic {
        let Some(wheel) = self.offered.named(file) else {
            return Diagnostic::error(format!("{} refuses `{file}`", self.who));
        };
        let tags: Vec<String> = wheel
            .filename
            .tag_triples()
            .iter()
            .map(|t| format!("`{t}`"))
            .collect();
        Diagnostic::error(format!(
            "{} refuses `{file}`: none of its tags is one the target accepts",
            self.who
        ))
        .field("tags", tags.join(", "))
        .field("accepted", self.accepted.summary(&wheel.filename))
        .hint(tag_hint(&wheel, self.target, &self.accepted, self.python))
    }

    /// `Could not find a version that satisfies the requirement R`: what the wheelhouse has of
    /// R's project, and why pip took none of it.
    fn not_found(
        &self,
        requirement: &str,
        required_by: Option<String>,
        versions: &[String],
        other_python: &[String],
    ) -> Diagnostic {
        let (who, target, python) = (&self.who, self.target, self.python);
        let source = self.offered.describe();
        let name = requirement
            .split(|c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
            .next()
            .unwrap_or(requirement);
        let by = required_by
            .map(|p| format!(" (required by `{p}`)"))
            .unwrap_or_default();
        let head = format!("{who} finds no `{requirement}`{by}");
        let wheels = self.offered.of(name);
        if matches!(self.offered.source, PackageSource::Index(_)) {
            return Diagnostic::error(format!("{head} on {source}")).hint(format!(
                "serve a wheel of `{name}` the target accepts: `pyx index` of a wheelhouse built \
                 with `pyx wheel --target {target}` (check it with `pyx verify --target {target}`)"
            ));
        }
        if wheels.is_empty() {
            return Diagnostic::error(format!("{head}: {source} has no wheel of `{name}`")).hint(
                format!(
                    "build it into the wheelhouse (`pyx wheel '{requirement}' --target {target} -w \
                     DIR`), or add it to the requirements the wheelhouse is built from"
                ),
            );
        }
        if !wheels.iter().any(|w| self.accepted.accepts(&w.filename)) {
            let d = Diagnostic::error(format!(
                "{head}: no wheel of `{name}` in {source} has a tag the target accepts"
            ));
            return self
                .with_wheels(d, &wheels)
                .field("accepted", self.accepted.summary(&wheels[0].filename))
                .hint(tag_hint(wheels[0], target, &self.accepted, python));
        }
        if !other_python.is_empty() {
            let versions: Vec<String> = other_python
                .iter()
                .map(|v| format!("`{name}` {v}"))
                .collect();
            let d = Diagnostic::error(format!(
                "{head}: {} need{} another Python than the target's {python}",
                versions.join(", "),
                if versions.len() == 1 { "s" } else { "" }
            ));
            return self
                .with_wheels(d, &wheels)
                .hint(requires_python_hint(name, python));
        }
        let have = if versions.is_empty() {
            "no version".to_string()
        } else {
            versions.join(", ")
        };
        let d = Diagnostic::error(format!(
            "{head}: {source} has `{name}` {have}, which `{requirement}` does not allow"
        ));
        self.with_wheels(d, &wheels)
            .hint("build the version the requirements ask for into the wheelhouse")
    }
}

const HASH_HINT: &str = "a `--hash` must be the wheel's, not that of the sdist it was built from: \
                         `pyx index DIR` writes every wheel's pinned hash to `DIR/pinned-requirements.txt`";

fn requires_python_hint(name: &str, python: &str) -> String {
    format!(
        "pin a version of `{name}` whose `Requires-Python` allows {python} in the requirements and \
         build the wheelhouse again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of Debian bookworm's pip 23.0.1 under `qemu-arm`, as measured.
    const MISSING_DEP: &str = "Looking in links: /wh\nProcessing /wh/app-1.0-py3-none-any.whl\n\
        ERROR: Could not find a version that satisfies the requirement missingdep>=2.0 (from app) (from versions: none)\n\
        ERROR: No matching distribution found for missingdep>=2.0\n";
    const ARMV8L: &str = "Looking in links: /wh\n\
        ERROR: Could not find a version that satisfies the requirement crossenvish (from versions: none)\n\
        ERROR: No matching distribution found for crossenvish\n";
    const UNSUPPORTED: &str = "ERROR: crossenvish-1.0-cp311-cp311-linux_armv8l.whl is not a supported wheel on this platform.\n";
    const NEW_PYTHON: &str = "Processing ./newpy-1.0-py3-none-any.whl\n\
        ERROR: Package 'newpy' requires a different Python: 3.11.2 not in '>=3.12'\n";

    fn run(log: &str) -> PipRun {
        let mut tags = Vec::new();
        for platform in [
            "manylinux_2_36_armv7l",
            "manylinux_2_35_armv7l",
            "manylinux_2_17_armv7l",
            "manylinux2014_armv7l",
            "linux_armv7l",
        ] {
            for interp in [
                "cp311-cp311",
                "cp311-abi3",
                "cp311-none",
                "cp310-abi3",
                "cp39-abi3",
                "py311-none",
                "py3-none",
            ] {
                tags.push(format!("{interp}-{platform}"));
            }
        }
        tags.extend(["cp311-none-any", "py3-none-any"].map(String::from));
        PipRun {
            exit: 1,
            log: log.to_string(),
            pip_version: "23.0.1".into(),
            python: "3.11.2".into(),
            accepted: tags,
        }
    }

    fn offered(wheels: &[&str]) -> Offered {
        Offered {
            source: PackageSource::FindLinks(vec![PathBuf::from("wh")]),
            wheels: wheels
                .iter()
                .map(|w| OfferedWheel {
                    path: PathBuf::from("wh").join(w),
                    filename: w.parse().unwrap(),
                })
                .collect(),
        }
    }

    fn armv7l() -> &'static Target {
        Target::lookup("armv7l").unwrap()
    }

    #[test]
    fn pip_words_are_read() {
        assert_eq!(
            PipProblem::read(MISSING_DEP),
            Some(PipProblem::NotFound {
                requirement: "missingdep>=2.0".into(),
                required_by: Some("app".into()),
                versions: vec![],
                other_python: vec![],
            })
        );
        assert_eq!(
            PipProblem::read(UNSUPPORTED),
            Some(PipProblem::Unsupported {
                wheel: "crossenvish-1.0-cp311-cp311-linux_armv8l.whl".into()
            })
        );
        assert_eq!(
            PipProblem::read(NEW_PYTHON),
            Some(PipProblem::RequiresPython {
                package: "newpy".into(),
                python: "3.11.2".into(),
                specifier: ">=3.12".into()
            })
        );
        let ignored = "ERROR: Ignored the following versions that require a different python version: 1.0 Requires-Python >=3.12; 1.1 Requires-Python >=3.13\n\
            ERROR: Could not find a version that satisfies the requirement newpy (from versions: none)\n";
        assert!(matches!(
            PipProblem::read(ignored),
            Some(PipProblem::NotFound { other_python, .. }) if other_python == ["1.0 Requires-Python >=3.12", "1.1 Requires-Python >=3.13"]
        ));
    }

    #[test]
    fn a_missing_dependency_names_the_package_that_needs_it() {
        let d = explain(
            &run(MISSING_DEP),
            &offered(&["app-1.0-py3-none-any.whl"]),
            armv7l(),
        );
        assert_eq!(
            d.render(),
            "error: the `armv7l` target's pip finds no `missingdep>=2.0` (required by `app`): the wheelhouse `wh` has no wheel of `missingdep`\n  \
             | ERROR: Could not find a version that satisfies the requirement missingdep>=2.0 (from app) (from versions: none)\n  \
             | ERROR: No matching distribution found for missingdep>=2.0\n  \
             hint: build it into the wheelhouse (`pyx wheel 'missingdep>=2.0' --target armv7l -w DIR`), or add it to the requirements the wheelhouse is built from\n"
        );
    }

    #[test]
    fn a_crossenv_tag_names_the_wheel_and_the_accepted_platforms() {
        let wh = offered(&["crossenvish-1.0-cp311-cp311-linux_armv8l.whl"]);
        let d = explain(&run(ARMV8L), &wh, armv7l()).render();
        assert!(
            d.starts_with(
                "error: the `armv7l` target's pip finds no `crossenvish`: no wheel of `crossenvish` in the wheelhouse `wh` has a tag the target accepts\n  \
                 wheel:    `crossenvish-1.0-cp311-cp311-linux_armv8l.whl`\n  \
                 accepted: `manylinux_2_36_armv7l`, `manylinux_2_35_armv7l`, `manylinux_2_17_armv7l`, `manylinux2014_armv7l`, `linux_armv7l`, `any` (37 tags, as `pip debug --verbose` lists them on the target)\n"
            ),
            "{d}"
        );
        assert!(
            d.contains("hint: `linux_armv8l` names no CPU a device's pip reports"),
            "{d}"
        );
        let d = explain(&run(UNSUPPORTED), &wh, armv7l()).render();
        assert!(
            d.starts_with(
                "error: the `armv7l` target's pip refuses `crossenvish-1.0-cp311-cp311-linux_armv8l.whl`: none of its tags is one the target accepts\n  \
                 tags:     `cp311-cp311-linux_armv8l`\n"
            ),
            "{d}"
        );
    }

    #[test]
    fn another_interpreter_on_an_accepted_platform_lists_the_interpreters() {
        let wheel: WheelFilename = "x-1.0-cp312-cp312-linux_armv7l.whl".parse().unwrap();
        let r = run("");
        let summary = AcceptedTags(&r.accepted).summary(&wheel);
        assert_eq!(
            summary,
            "`cp311-cp311`, `cp311-abi3`, `cp311-none`, `cp310-abi3`, `cp39-abi3`, `py311-none`, `py3-none` with `linux_armv7l` (37 tags, as `pip debug --verbose` lists them on the target)"
        );
        assert_eq!(
            compress(
                &[
                    "manylinux_2_36_armv7l",
                    "manylinux_2_35_armv7l",
                    "manylinux_2_34_armv7l",
                    "linux_armv7l"
                ],
                manylinux_step
            ),
            "`manylinux_2_36_armv7l` … `manylinux_2_34_armv7l`, `linux_armv7l`"
        );
        assert_eq!(
            compress(
                &["cp311-abi3", "cp310-abi3", "cp39-abi3", "cp38-abi3"],
                interpreter_step
            ),
            "`cp311-abi3` … `cp38-abi3`"
        );
    }

    #[test]
    fn requires_python_names_both_versions() {
        let d = explain(
            &run(NEW_PYTHON),
            &offered(&["newpy-1.0-py3-none-any.whl"]),
            armv7l(),
        );
        assert!(
            d.render().starts_with(
                "error: the `armv7l` target's pip refuses `newpy`: it requires Python `>=3.12`, the target's is 3.11.2\n  \
                 wheel: `newpy-1.0-py3-none-any.whl`\n  \
                 | ERROR: Package 'newpy' requires a different Python: 3.11.2 not in '>=3.12'\n"
            ),
            "{}",
            d.render()
        );
    }
}
