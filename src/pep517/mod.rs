//! The PEP 517 frontend: read `[build-system]`, get a build env for its `requires` (and what
//! `get_requires_for_build_wheel` adds), call `build_wheel` through `shims/pep517_hook.py` inside
//! the cross env, with config settings as JSON and the reply through an outfile.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use crate::crossenv::buildenv::BuildEnv;

pub mod diagnose;

/// The setuptools backend pip assumes for a project without `[build-system]` (PEP 517).
pub const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";
const LEGACY_REQUIRES: &str = "setuptools>=40.8.0";
const HOOK_SCRIPT: &str = include_str!("../../shims/pep517_hook.py");

/// Where hooks run: the cross env with a build env importable (or, in tests, the build Python).
pub trait BuildHost: Sync {
    /// A `python` command whose interpreter answers like the target and can import exactly
    /// `requires`, installed for the build machine, with `sites` searched first.
    fn python(&self, requires: &[String], sites: &[PathBuf]) -> anyhow::Result<Command>;
    /// The interpreter of the hooks (the cross env's `python`), for scripts a build runs.
    fn python_path(&self) -> PathBuf;
    /// The build env that holds `requires`; `None` for a host without build envs (tests).
    fn build_env(&self, requires: &[String]) -> anyhow::Result<Option<BuildEnv>>;
    /// The meson cross file passed to meson-python.
    fn meson_cross_file(&self) -> Option<PathBuf>;
    /// The CMake toolchain file for scikit-build-core and other CMake-driven backends.
    fn cmake_toolchain_file(&self) -> Option<PathBuf>;
    /// The packages whose build-machine copies the shims refused to let `package`'s compiles
    /// read, one entry per refused call, in order.
    fn refused_packages(&self, package: &str) -> Vec<String>;
    /// The compiler calls the shims have logged for `package` so far (compared before and after
    /// a build).
    fn compiler_calls(&self, package: &str) -> Vec<crate::crossenv::ShimCall>;
    /// The build Python's path and version, part of every built-wheel cache key (an installed
    /// and a provisioned Python of one major.minor never share built wheels).
    fn build_python_id(&self) -> String {
        String::new()
    }
    /// The cross env the hooks run in (`None` for a host without one: tests).
    fn cross_env(&self) -> Option<&crate::crossenv::CrossEnv> {
        None
    }
    /// The shim log, read while a build runs to show its progress.
    fn shim_log(&self) -> Option<PathBuf> {
        None
    }
}

/// `[build-system]` of a source tree (PEP 518, PEP 517).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSystem {
    pub requires: Vec<String>,
    pub backend: String,
    pub backend_path: Vec<String>,
}

#[derive(Deserialize)]
struct PyProject {
    #[serde(rename = "build-system")]
    build_system: Option<BuildSystemTable>,
}

#[derive(Deserialize)]
struct BuildSystemTable {
    #[serde(default)]
    requires: Option<Vec<String>>,
    #[serde(rename = "build-backend")]
    build_backend: Option<String>,
    #[serde(rename = "backend-path", default)]
    backend_path: Vec<String>,
}

impl BuildSystem {
    /// Read `pyproject.toml` of `source`; without one (or without `[build-system]`) the
    /// setuptools legacy backend.
    pub fn read(source: &Path) -> Result<BuildSystem, BuildError> {
        let path = source.join("pyproject.toml");
        let text = std::fs::read_to_string(&path).ok();
        BuildSystem::parse(text.as_deref(), &path)
    }

    /// `[build-system]` of the `pyproject.toml` text read from `path` (`None`: there is none).
    pub fn parse(text: Option<&str>, path: &Path) -> Result<BuildSystem, BuildError> {
        let legacy = || BuildSystem {
            requires: vec![LEGACY_REQUIRES.to_string()],
            backend: LEGACY_BACKEND.to_string(),
            backend_path: Vec::new(),
        };
        let Some(text) = text else {
            return Ok(legacy());
        };
        let parsed: PyProject = toml::from_str(text).map_err(|e| BuildError::PyProject {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let Some(table) = parsed.build_system else {
            return Ok(legacy());
        };
        Ok(BuildSystem {
            requires: table
                .requires
                .unwrap_or_else(|| vec![LEGACY_REQUIRES.to_string()]),
            backend: table
                .build_backend
                .unwrap_or_else(|| LEGACY_BACKEND.to_string()),
            backend_path: table.backend_path,
        })
    }

    /// The backend's module, e.g. `mesonpy` for `mesonpy`, `setuptools.build_meta` for
    /// `setuptools.build_meta:__legacy__`.
    pub fn backend_module(&self) -> &str {
        self.backend.split(':').next().unwrap_or_default()
    }

    /// True for meson-python, which takes the meson cross file as a setup argument.
    pub fn is_meson(&self) -> bool {
        self.backend_module().starts_with("mesonpy")
    }

    /// True for backends that only build compiled code (a pure wheel from them is a fallback).
    pub fn is_compiling_backend(&self) -> bool {
        let top = self.backend_module().split('.').next().unwrap_or_default();
        matches!(
            top,
            "mesonpy" | "scikit_build_core" | "py_build_cmake" | "enscons"
        )
    }
}

/// PEP 517 config settings: each key with one or more values.
pub type ConfigSettings = BTreeMap<String, Vec<String>>;

/// `-C key=value` (every package) and `-C pkg:key=value` (one package), split by package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigArgs {
    pub global: ConfigSettings,
    pub per_package: BTreeMap<String, ConfigSettings>,
}

impl ConfigArgs {
    pub fn parse(args: &[String]) -> Result<ConfigArgs, String> {
        let mut out = ConfigArgs::default();
        for arg in args {
            let (key, value) = arg.split_once('=').ok_or_else(|| {
                format!("config setting `{arg}` is not `key=value` or `package:key=value`")
            })?;
            let (settings, key) = match key.split_once(':') {
                Some((pkg, key)) => {
                    let pkg = crate::wheel::filename::normalize_name(pkg);
                    (out.per_package.entry(pkg).or_default(), key)
                }
                None => (&mut out.global, key),
            };
            if key.is_empty() {
                return Err(format!("config setting `{arg}` has an empty key"));
            }
            settings
                .entry(key.to_string())
                .or_default()
                .push(value.to_string());
        }
        Ok(out)
    }

    /// The settings for one package: the global ones, then its own.
    pub fn for_package(&self, name: &str) -> ConfigSettings {
        let mut settings = self.global.clone();
        if let Some(own) = self
            .per_package
            .get(&crate::wheel::filename::normalize_name(name))
        {
            for (k, v) in own {
                settings
                    .entry(k.clone())
                    .or_default()
                    .extend(v.iter().cloned());
            }
        }
        settings
    }
}

/// One PEP 517 wheel build.
#[derive(Debug, Clone)]
pub struct BuildRequest<'a> {
    /// The package name (shim log lines, `PYX_PACKAGE`).
    pub package: &'a str,
    pub source_dir: &'a Path,
    /// Where the backend writes the wheel (an empty scratch directory).
    pub wheel_dir: &'a Path,
    /// Everything the hooks print goes here.
    pub log: &'a Path,
    pub config: ConfigSettings,
    /// Parallel jobs this package's own build may use.
    pub jobs: usize,
    /// More environment for every hook (the compiler launchers, the build's scratch dir).
    pub env: Vec<(String, String)>,
}

/// What a successful build produced.
#[derive(Debug, Clone)]
pub struct Built {
    pub wheel: PathBuf,
    pub build_system: BuildSystem,
    /// The full set of build requirements (static and from `get_requires_for_build_wheel`).
    pub requires: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("invalid `{}`: {message}", path.display())]
    PyProject { path: PathBuf, message: String },
    #[error("cannot set up the build requirements of `{package}` ({})", requires.join(", "))]
    BuildEnv {
        package: String,
        requires: Vec<String>,
        #[source]
        source: anyhow::Error,
    },
    #[error("`{hook}` of `{package}` failed: {message}")]
    Hook {
        package: String,
        hook: &'static str,
        message: String,
        log: PathBuf,
    },
    #[error("cannot run the hook runner for `{package}`")]
    Spawn {
        package: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl BuildError {
    /// The build log, when the failure happened in a hook.
    pub fn log(&self) -> Option<&Path> {
        match self {
            BuildError::Hook { log, .. } => Some(log),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Reply {
    Ok { result: serde_json::Value },
    Error { error: String },
    BackendUnavailable { error: String },
}

/// What a build gets besides its build env: the target's copies of platform-specific build
/// requirements (site directories searched before the build env's), meson machine files that name
/// their config tools, and environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildExtras {
    pub sites: Vec<PathBuf>,
    pub meson_cross_files: Vec<PathBuf>,
    pub env: Vec<(String, String)>,
}

/// One PEP 517 build under way: `[build-system]` read, the log started, config settings and
/// environment prepared. [`Frontend::requires`] runs `get_requires_for_build_wheel`;
/// [`Frontend::build`] runs `build_wheel`.
pub struct Frontend<'a> {
    host: &'a dyn BuildHost,
    req: &'a BuildRequest<'a>,
    pub build_system: BuildSystem,
    config: ConfigSettings,
    env: Vec<(String, String)>,
    /// Directories put first on the hooks' PATH.
    path_prefix: Vec<PathBuf>,
}

impl<'a> Frontend<'a> {
    pub fn start(host: &'a dyn BuildHost, req: &'a BuildRequest<'a>) -> Result<Self, BuildError> {
        let build_system = BuildSystem::read(req.source_dir)?;
        let mut config = req.config.clone();
        let level = req.jobs;
        let mut env = vec![
            (
                crate::env_vars::PYX_PACKAGE.to_string(),
                req.package.to_string(),
            ),
            ("MAKEFLAGS".to_string(), format!("-j{level}")),
            ("CMAKE_BUILD_PARALLEL_LEVEL".to_string(), level.to_string()),
        ];
        env.extend(req.env.iter().cloned());
        if build_system.is_meson() {
            if let Some(cross) = host.meson_cross_file() {
                config
                    .entry("setup-args".into())
                    .or_default()
                    .insert(0, format!("--cross-file={}", cross.display()));
            }
            let compile = config.entry("compile-args".into()).or_default();
            if !compile.iter().any(|a| a.starts_with("-j")) {
                compile.push(format!("-j{level}"));
            }
        }
        if let Some(toolchain) = host.cmake_toolchain_file() {
            env.push((
                "CMAKE_TOOLCHAIN_FILE".into(),
                toolchain.display().to_string(),
            ));
        }
        let mut log = File::create(req.log).map_err(|source| BuildError::Io {
            path: req.log.to_path_buf(),
            source,
        })?;
        let _ = writeln!(
            log,
            "pyx: building `{}` with backend `{}` (requires: {})",
            req.package,
            build_system.backend,
            build_system.requires.join(", ")
        );
        Ok(Frontend {
            host,
            req,
            build_system,
            config,
            env,
            path_prefix: Vec::new(),
        })
    }

    /// Give every later hook these variables and `path_prefix` first on PATH (a Rust build's
    /// toolchain and target).
    pub fn extend_env(
        &mut self,
        vars: impl IntoIterator<Item = (String, String)>,
        path_prefix: Option<PathBuf>,
    ) {
        self.env.extend(vars);
        self.path_prefix.extend(path_prefix);
    }

    /// The full set of build requirements: `[build-system] requires` and what
    /// `get_requires_for_build_wheel` adds.
    pub fn requires(&self) -> Result<Vec<String>, BuildError> {
        let mut requires = self.build_system.requires.clone();
        let extra = self.hook(
            &requires,
            &BuildExtras::default(),
            "get_requires_for_build_wheel",
        )?;
        for r in extra
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
        {
            if !requires.iter().any(|x| x == r) {
                requires.push(r.to_string());
            }
        }
        Ok(requires)
    }

    /// Run `build_wheel` with a build env for `requires` and `extras` in front of it.
    pub fn build(&self, requires: &[String], extras: &BuildExtras) -> Result<Built, BuildError> {
        let result = self.hook(requires, extras, "build_wheel")?;
        let req = self.req;
        let name = result.as_str().ok_or_else(|| BuildError::Hook {
            package: req.package.to_string(),
            hook: "build_wheel",
            message: format!("the backend returned `{result}`, not a file name"),
            log: req.log.to_path_buf(),
        })?;
        Ok(Built {
            wheel: req.wheel_dir.join(name),
            build_system: self.build_system.clone(),
            requires: requires.to_vec(),
        })
    }

    /// Add a line to the build log.
    pub fn note(&self, line: &str) {
        if let Ok(mut log) = std::fs::OpenOptions::new().append(true).open(self.req.log) {
            let _ = writeln!(log, "pyx: {line}");
        }
    }

    fn hook(
        &self,
        requires: &[String],
        extras: &BuildExtras,
        hook: &'static str,
    ) -> Result<serde_json::Value, BuildError> {
        let mut config = self.config.clone();
        if self.build_system.is_meson() {
            let setup = config.entry("setup-args".into()).or_default();
            let at = setup
                .iter()
                .position(|a| !a.starts_with("--cross-file="))
                .unwrap_or(setup.len());
            for (i, file) in extras.meson_cross_files.iter().enumerate() {
                setup.insert(at + i, format!("--cross-file={}", file.display()));
            }
        }
        let mut env = self.env.clone();
        env.extend(extras.env.iter().cloned());
        run_hook(
            self.host,
            self.req,
            &self.build_system,
            requires,
            &extras.sites,
            &config,
            &env,
            &self.path_prefix,
            hook,
        )
    }
}

/// Build one wheel: build env for `requires`, `get_requires_for_build_wheel`, then `build_wheel`.
pub fn build_wheel(host: &dyn BuildHost, req: &BuildRequest<'_>) -> Result<Built, BuildError> {
    let frontend = Frontend::start(host, req)?;
    let requires = frontend.requires()?;
    frontend.build(&requires, &BuildExtras::default())
}

#[allow(clippy::too_many_arguments)]
fn run_hook(
    host: &dyn BuildHost,
    req: &BuildRequest<'_>,
    build_system: &BuildSystem,
    requires: &[String],
    sites: &[PathBuf],
    config: &ConfigSettings,
    env: &[(String, String)],
    path_prefix: &[PathBuf],
    hook: &'static str,
) -> Result<serde_json::Value, BuildError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BuildError::Io { path, source }
    };
    let mut python = host
        .python(requires, sites)
        .map_err(|source| BuildError::BuildEnv {
            package: req.package.to_string(),
            requires: requires.to_vec(),
            source,
        })?;
    if !path_prefix.is_empty() {
        let inherited = std::env::var_os(crate::env_vars::PATH);
        let path = python
            .get_envs()
            .find(|(k, _)| *k == crate::env_vars::PATH)
            .and_then(|(_, v)| v.map(ToOwned::to_owned))
            .or(inherited)
            .unwrap_or_default();
        let dirs = path_prefix
            .iter()
            .cloned()
            .chain(std::env::split_paths(&path));
        python.env(
            crate::env_vars::PATH,
            std::env::join_paths(dirs).unwrap_or_default(),
        );
    }
    let scratch =
        crate::tempfiles::dir_in(&std::env::temp_dir(), "hook").map_err(io(Path::new("/tmp")))?;
    let request = scratch.path().join("request.json");
    let outfile = scratch.path().join("reply.json");
    let config_json: serde_json::Map<String, serde_json::Value> = config
        .iter()
        .map(|(k, v)| {
            let value = match v.as_slice() {
                [one] => serde_json::Value::from(one.clone()),
                many => serde_json::Value::from(many.to_vec()),
            };
            (k.clone(), value)
        })
        .collect();
    let body = serde_json::json!({
        "hook": hook,
        "backend": build_system.backend,
        "backend_path": build_system.backend_path,
        "config_settings": config_json,
        "wheel_directory": req.wheel_dir,
    });
    std::fs::write(&request, body.to_string()).map_err(io(&request))?;
    let script = hook_script()?;
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(req.log)
        .map_err(io(req.log))?;
    let _ = writeln!(log, "pyx: running `{hook}`");
    let stderr = log.try_clone().map_err(io(req.log))?;
    // Bytecode is written, as by pip's and build's hook runners (no `-B`), also when the
    // environment says `PYTHONDONTWRITEBYTECODE`: a build only imports from pyx's build env and
    // scratch dir, and what neither uv nor pip compiled at install (a backend in the source tree,
    // modules a package generates) would be compiled again by every process that imports it.
    let hook_started = std::time::Instant::now();
    let status = python
        .env_remove("PYTHONDONTWRITEBYTECODE")
        .arg(&script)
        .arg(&request)
        .arg(&outfile)
        .current_dir(req.source_dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(stderr))
        .status()
        .map_err(|source| BuildError::Spawn {
            package: req.package.to_string(),
            source,
        })?;
    tracing::debug!(
        "{}: `{hook}` ran in {:.2?}",
        req.package,
        hook_started.elapsed()
    );
    let failed = |message: String| BuildError::Hook {
        package: req.package.to_string(),
        hook,
        message,
        log: req.log.to_path_buf(),
    };
    let reply = std::fs::read_to_string(&outfile).map_err(|_| {
        failed(format!(
            "the hook runner exited with {status} without a reply"
        ))
    })?;
    match serde_json::from_str::<Reply>(&reply) {
        Ok(Reply::Ok { result }) => Ok(result),
        Ok(Reply::Error { error } | Reply::BackendUnavailable { error }) => Err(failed(error)),
        Err(e) => Err(failed(format!(
            "unreadable reply from the hook runner: {e}"
        ))),
    }
}

/// The hook runner as a real file in the cache, written only when its content changes.
fn hook_script() -> Result<PathBuf, BuildError> {
    let path = crate::cache::cache_dir()
        .join("shims")
        .join("pep517_hook.py");
    crate::files::write_if_changed(&path, HOOK_SCRIPT).map_err(|e| BuildError::Io {
        path: path.clone(),
        source: std::io::Error::other(format!("{e:#}")),
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests;
