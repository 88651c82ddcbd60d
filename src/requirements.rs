//! pip requirements files and PEP 508 requirements, evaluated for the target (stage 1).
//!
//! Supported: `-r`/`-c` (nested, relative to the including file), `-i/--index-url`,
//! `--extra-index-url`, `-f/--find-links`, `--no-index`, `--no-binary`, `--only-binary`, `--pre`,
//! per-line `--hash`, extras, `name @ url`, bare URLs and local paths (sdists, wheels, source
//! directories), environment markers, `\` line continuations and `#` comments.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree, PackageName};

/// Where a requirement came from: a file and line, the command line, or another package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    File {
        path: PathBuf,
        line: usize,
    },
    CommandLine,
    /// `Requires-Dist` of a package (`name==version`).
    Package(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::CommandLine => f.write_str("the command line"),
            Origin::Package(p) => write!(f, "`{p}`"),
        }
    }
}

/// What to fetch for one requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A name and version specifiers, looked up in the indexes.
    Registry(pep508_rs::Requirement),
    /// A direct URL to an sdist or wheel (`name @ https://...` or a bare URL).
    Url {
        name: Option<PackageName>,
        url: String,
        extras: Vec<ExtraName>,
        marker: MarkerTree,
    },
    /// A local sdist, wheel or source directory.
    Path {
        path: PathBuf,
        extras: Vec<ExtraName>,
        marker: MarkerTree,
    },
}

/// One requirement line with its hashes and origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub source: Source,
    /// `--hash=sha256:...` values, as `algorithm:hex`.
    pub hashes: Vec<String>,
    pub origin: Origin,
}

impl Entry {
    pub fn marker(&self) -> &MarkerTree {
        match &self.source {
            Source::Registry(r) => &r.marker,
            Source::Url { marker, .. } | Source::Path { marker, .. } => marker,
        }
    }

    pub fn extras(&self) -> &[ExtraName] {
        match &self.source {
            Source::Registry(r) => &r.extras,
            Source::Url { extras, .. } | Source::Path { extras, .. } => extras,
        }
    }

    /// The package name when the line states it.
    pub fn name(&self) -> Option<&PackageName> {
        match &self.source {
            Source::Registry(r) => Some(&r.name),
            Source::Url { name, .. } => name.as_ref(),
            Source::Path { .. } => None,
        }
    }

    /// True when the line applies to `env` (no marker, or a marker that holds).
    pub fn applies(&self, env: &MarkerEnvironment) -> bool {
        self.marker().evaluate(env, &[])
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Registry(r) => write!(f, "{r}"),
            Source::Url { url, .. } => f.write_str(url),
            Source::Path { path, .. } => write!(f, "{}", path.display()),
        }
    }
}

/// A set of package names from `--no-binary` / `--only-binary` (`:all:` and `:none:` understood).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageSet {
    pub all: bool,
    pub names: BTreeSet<PackageName>,
}

impl PackageSet {
    pub fn contains(&self, name: &PackageName) -> bool {
        self.all || self.names.contains(name)
    }

    /// Apply one comma-separated pip value.
    pub fn add(&mut self, value: &str) -> Result<(), String> {
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                ":all:" => {
                    self.all = true;
                    self.names.clear();
                }
                ":none:" => {
                    self.all = false;
                    self.names.clear();
                }
                name => {
                    let name = PackageName::from_str(name)
                        .map_err(|e| format!("`{name}` is not a package name: {e}"))?;
                    self.names.insert(name);
                }
            }
        }
        Ok(())
    }
}

/// Index options gathered from requirements files and the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexOptions {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<String>,
    pub no_index: bool,
    pub pre: bool,
    pub no_binary: PackageSet,
    pub only_binary: PackageSet,
    /// Hash-checking mode (`--require-hashes`, or a requirement with `--hash`): every package,
    /// dependencies included, must match a `--hash`, as in pip.
    pub require_hashes: bool,
}

impl IndexOptions {
    /// The same indexes as pip arguments, for installing build requirements: a build requirement
    /// that only a `--find-links` directory or a private index has is found there too. Local
    /// find-links paths are made absolute.
    pub fn pip_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if self.no_index {
            args.push("--no-index".to_string());
        }
        if let Some(url) = &self.index_url {
            args.extend(["--index-url".to_string(), url.clone()]);
        }
        for url in &self.extra_index_urls {
            args.extend(["--extra-index-url".to_string(), url.clone()]);
        }
        for link in &self.find_links {
            let link = if link.contains("://") {
                link.clone()
            } else {
                std::path::absolute(link).map_or_else(|_| link.clone(), |p| p.display().to_string())
            };
            args.extend(["--find-links".to_string(), link]);
        }
        args
    }
}

/// Everything a set of requirements files and command-line requirements say.
#[derive(Debug, Clone, Default)]
pub struct Requirements {
    pub requirements: Vec<Entry>,
    pub constraints: Vec<Entry>,
    pub index: IndexOptions,
}

/// A requirements file that cannot be read or has a malformed line.
#[derive(Debug, thiserror::Error)]
pub enum RequirementsError {
    #[error("cannot read requirements file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin}: invalid requirement `{text}`: {message}")]
    Line {
        origin: Origin,
        text: String,
        message: String,
    },
    /// A `-r`/`-c` line names a file that cannot be read.
    #[error("{origin}: cannot read `{}`, which it includes", path.display())]
    Include {
        origin: Origin,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("requirements file `{}` includes itself (through {})", path.display(), chain)]
    Cycle { path: PathBuf, chain: String },
    #[error(
        "hash-checking mode ({why}) needs a `--hash` on every requirement; {} none: {}",
        if missing.len() == 1 { "this one has" } else { "these have" },
        missing.join(", ")
    )]
    Unhashed {
        why: String,
        /// `` `six` (requirements.txt:3) `` for each.
        missing: Vec<String>,
    },
}

impl Requirements {
    /// Read a requirements file (`-r`), with everything it includes.
    pub fn add_file(&mut self, path: &Path) -> Result<(), RequirementsError> {
        self.read_file(path, false, &mut Vec::new())
    }

    /// Read a constraints file (`-c`): its requirements only narrow versions.
    pub fn add_constraints_file(&mut self, path: &Path) -> Result<(), RequirementsError> {
        self.read_file(path, true, &mut Vec::new())
    }

    /// Enter pip's hash-checking mode when `--require-hashes` was given or a requirement has a
    /// `--hash`; then a requirement without one is an error.
    pub fn check_hashes(&mut self) -> Result<(), RequirementsError> {
        let hashed = self.requirements.iter().find(|e| !e.hashes.is_empty());
        let why = match (self.index.require_hashes, hashed) {
            (true, _) => "`--require-hashes`".to_string(),
            (false, Some(e)) => format!("`{e}` at {} has `--hash`", e.origin),
            (false, None) => return Ok(()),
        };
        self.index.require_hashes = true;
        let missing: Vec<String> = self
            .requirements
            .iter()
            .filter(|e| e.hashes.is_empty())
            .map(|e| format!("`{e}` ({})", e.origin))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(RequirementsError::Unhashed { why, missing })
    }

    /// Add one requirement given on the command line (resolved against `cwd`).
    pub fn add_arg(&mut self, text: &str, cwd: &Path) -> Result<(), RequirementsError> {
        let entry = parse_requirement(text, Vec::new(), cwd, Origin::CommandLine)?;
        self.requirements.push(entry);
        Ok(())
    }

    fn read_file(
        &mut self,
        path: &Path,
        constraint: bool,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), RequirementsError> {
        let canonical = fs_err::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if stack.contains(&canonical) {
            let chain = stack
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(" → ");
            return Err(RequirementsError::Cycle {
                path: path.to_path_buf(),
                chain,
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| RequirementsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        stack.push(canonical);
        for (line_no, line) in logical_lines(&text) {
            let origin = Origin::File {
                path: path.to_path_buf(),
                line: line_no,
            };
            self.parse_line(&line, &base, origin, constraint, stack)?;
        }
        stack.pop();
        Ok(())
    }

    fn parse_line(
        &mut self,
        line: &str,
        base: &Path,
        origin: Origin,
        constraint: bool,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), RequirementsError> {
        let bad = |message: String| RequirementsError::Line {
            origin: origin.clone(),
            text: line.to_string(),
            message,
        };
        if line.starts_with('-') {
            let (flag, value) = split_option(line);
            let value = value.map(str::trim).filter(|v| !v.is_empty());
            let need = || value.ok_or_else(|| bad(format!("`{flag}` needs a value")));
            match flag {
                "-r" | "--requirement" | "-c" | "--constraint" => {
                    let included = base.join(need()?);
                    let constraint = constraint || flag.starts_with("-c") || flag == "--constraint";
                    return self
                        .read_file(&included, constraint, stack)
                        .map_err(|e| match e {
                            RequirementsError::Read { path, source } if path == included => {
                                RequirementsError::Include {
                                    origin: origin.clone(),
                                    path,
                                    source,
                                }
                            }
                            e => e,
                        });
                }
                "-i" | "--index-url" => self.index.index_url = Some(need()?.to_string()),
                "--extra-index-url" => self.index.extra_index_urls.push(need()?.to_string()),
                "-f" | "--find-links" => {
                    let v = need()?;
                    self.index.find_links.push(resolve_link(v, base));
                }
                "--no-index" => self.index.no_index = true,
                "--pre" => self.index.pre = true,
                "--no-binary" => self.index.no_binary.add(need()?).map_err(bad)?,
                "--only-binary" => self.index.only_binary.add(need()?).map_err(bad)?,
                "--require-hashes" => self.index.require_hashes = true,
                "--prefer-binary" | "--trusted-host" | "--use-feature" => {}
                "-e" | "--editable" => {
                    return Err(bad(
                        "editable installs cannot be cross-built; give the path without `-e`"
                            .into(),
                    ));
                }
                _ => return Err(bad(format!("unknown option `{flag}`"))),
            }
            return Ok(());
        }
        let (req, options) = split_requirement_options(line);
        let mut hashes = Vec::new();
        let mut tokens = options.split_whitespace();
        while let Some(tok) = tokens.next() {
            let value = match tok.strip_prefix("--hash") {
                Some("") => tokens.next(),
                Some(v) if v.starts_with('=') => Some(&v[1..]),
                _ => return Err(bad(format!("unsupported per-requirement option `{tok}`"))),
            };
            let value = value.ok_or_else(|| bad("`--hash` needs a value".into()))?;
            if !value.contains(':') {
                return Err(bad(format!(
                    "hash `{value}` must be `algorithm:hex`, e.g. `sha256:...`"
                )));
            }
            hashes.push(value.to_string());
        }
        let entry = parse_requirement(req, hashes, base, origin).map_err(|e| match e {
            RequirementsError::Line {
                origin, message, ..
            } => RequirementsError::Line {
                origin,
                text: line.to_string(),
                message,
            },
            e => e,
        })?;
        if constraint {
            self.constraints.push(entry);
        } else {
            self.requirements.push(entry);
        }
        Ok(())
    }
}

/// Join `\` continuations and drop comments and blank lines; yields (first line number, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if current.is_empty() {
            start = i + 1;
        }
        let line = strip_comment(raw);
        if let Some(head) = line.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(line);
        let joined = current.trim().to_string();
        if !joined.is_empty() {
            out.push((start, joined));
        }
        current.clear();
    }
    let joined = current.trim().to_string();
    if !joined.is_empty() {
        out.push((start, joined));
    }
    out
}

/// pip's rule: `#` starts a comment at the beginning of a line or after whitespace.
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && i > 0 && bytes[i - 1].is_ascii_whitespace() {
            return line[..i].trim_end();
        }
    }
    line.trim_end()
}

/// `--flag=value`, `--flag value`, `-rfile` → (flag, value).
fn split_option(line: &str) -> (&str, Option<&str>) {
    if let Some((flag, value)) = line.split_once('=').filter(|(f, _)| !f.contains(' ')) {
        return (flag, Some(value));
    }
    if let Some((flag, value)) = line.split_once(char::is_whitespace) {
        return (flag, Some(value));
    }
    if !line.starts_with("--") && line.len() > 2 {
        return (&line[..2], Some(&line[2..]));
    }
    (line, None)
}

/// Split `foo==1.0 --hash=sha256:ab` at the first ` -` / ` --` option.
fn split_requirement_options(line: &str) -> (&str, &str) {
    match line.find(" -") {
        Some(i) => (line[..i].trim(), line[i..].trim()),
        None => (line.trim(), ""),
    }
}

fn resolve_link(value: &str, base: &Path) -> String {
    if value.contains("://") {
        value.to_string()
    } else {
        base.join(value).display().to_string()
    }
}

fn looks_like_url(text: &str) -> bool {
    [
        "http://", "https://", "file://", "git+", "hg+", "svn+", "bzr+",
    ]
    .iter()
    .any(|p| text.starts_with(p))
}

fn looks_like_path(text: &str) -> bool {
    text.starts_with('.')
        || text.starts_with('/')
        || text.starts_with('~')
        || text.contains(std::path::MAIN_SEPARATOR)
        || [".tar.gz", ".zip", ".whl", ".tar.bz2", ".tgz"]
            .iter()
            .any(|s| text.ends_with(s))
}

/// Parse one requirement (without options): a PEP 508 string, a URL or a local path, each with
/// optional `[extras]` and `; marker`.
pub fn parse_requirement(
    text: &str,
    hashes: Vec<String>,
    base: &Path,
    origin: Origin,
) -> Result<Entry, RequirementsError> {
    let bad = |message: String| RequirementsError::Line {
        origin: origin.clone(),
        text: text.to_string(),
        message,
    };
    let (head, marker_text) = match text.split_once(';') {
        Some((h, m)) if looks_like_url(h.trim()) || looks_like_path(h.trim()) => {
            (h.trim(), Some(m))
        }
        _ => (text.trim(), None),
    };
    if looks_like_url(head) || (looks_like_path(head) && !head.contains(" @ ")) {
        let marker = match marker_text {
            Some(m) => MarkerTree::from_str(m.trim())
                .map_err(|e| bad(format!("invalid marker: {}", first_line(&e.to_string()))))?,
            None => MarkerTree::TRUE,
        };
        let (location, extras) = split_extras(head).map_err(&bad)?;
        let source = if looks_like_url(location) {
            Source::Url {
                name: None,
                url: location.to_string(),
                extras,
                marker,
            }
        } else {
            Source::Path {
                path: expand_home(location, base),
                extras,
                marker,
            }
        };
        return Ok(Entry {
            source,
            hashes,
            origin,
        });
    }
    let req = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::parse(text, base)
        .map_err(|e| bad(pep508_message(&e.to_string())))?;
    let source = match &req.version_or_url {
        Some(pep508_rs::VersionOrUrl::Url(url)) => {
            let given = url.given().unwrap_or(url.raw().as_str());
            if url.raw().scheme() == "file" {
                Source::Path {
                    path: url
                        .raw()
                        .to_file_path()
                        .map_err(|()| bad(format!("invalid file URL `{given}`")))?,
                    extras: req.extras.clone(),
                    marker: req.marker.clone(),
                }
            } else {
                Source::Url {
                    name: Some(req.name.clone()),
                    url: given.to_string(),
                    extras: req.extras.clone(),
                    marker: req.marker.clone(),
                }
            }
        }
        _ => Source::Registry(req),
    };
    Ok(Entry {
        source,
        hashes,
        origin,
    })
}

/// The message part of a pep508_rs error (its Display repeats the input with a caret line).
fn pep508_message(text: &str) -> String {
    let mut lines = text.lines();
    let message = lines.next().unwrap_or_default().to_string();
    let rest: Vec<&str> = lines.collect();
    match rest.as_slice() {
        [input, caret] => {
            let col = caret.find('^').unwrap_or(0);
            let near: String = input.chars().skip(col).take(20).collect();
            if near.is_empty() {
                format!("{message} (at the end)")
            } else {
                format!("{message} (at column {}: `{near}`)", col + 1)
            }
        }
        _ => message,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

fn split_extras(head: &str) -> Result<(&str, Vec<ExtraName>), String> {
    let Some(open) = head.rfind('[').filter(|_| head.ends_with(']')) else {
        return Ok((head, Vec::new()));
    };
    let extras = head[open + 1..head.len() - 1]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|e| ExtraName::from_str(e).map_err(|err| format!("invalid extra `{e}`: {err}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((&head[..open], extras))
}

fn expand_home(location: &str, base: &Path) -> PathBuf {
    if let Some(rest) = location.strip_prefix("~/")
        && let Some(home) = std::env::var_os(crate::env_vars::HOME)
    {
        return PathBuf::from(home).join(rest);
    }
    base.join(location)
}

/// The PEP 508 marker environment of the target: what `platform_machine`, `python_version`, ...
/// are on the device the wheels are for, not on the build machine.
pub fn target_marker_environment(
    platform_machine: &str,
    python_full_version: &str,
) -> Result<MarkerEnvironment, pep508_rs::pep440_rs::VersionParseError> {
    let python_version = crate::python::major_minor(python_full_version);
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: python_full_version,
        os_name: "posix",
        platform_machine,
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system: "Linux",
        platform_version: "",
        python_full_version,
        python_version,
        sys_platform: "linux",
    })
}

#[cfg(test)]
#[path = "requirements_tests.rs"]
mod tests;
