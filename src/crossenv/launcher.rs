//! What runs in front of the real cross compiler: a compiler cache (ccache or sccache) and distcc.
//!
//! `pyx wheel` and `pyx run` choose once ([`Launch::choose`]) and hand the choice to every build
//! through environment variables ([`Launch::environ`]); the `cc`/`c++` shims read it back the same
//! way and put it in front of each compile (`-c`) call ([`Launch::command`]). Links, preprocessing
//! and configure probes without `-c` run the compiler directly, so linking stays local.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::shim_log::ShimCall;
use crate::env_vars;

/// A compiler cache pyx knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheTool {
    Ccache,
    Sccache,
}

impl CacheTool {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheTool::Ccache => "ccache",
            CacheTool::Sccache => "sccache",
        }
    }

    /// The tool a program path names (`/usr/bin/ccache`, `/opt/sccache-0.8/sccache`).
    fn of_program(path: &Path) -> Option<CacheTool> {
        let name = path.file_name()?.to_str()?;
        if name.contains("sccache") {
            Some(CacheTool::Sccache)
        } else if name.contains("ccache") {
            Some(CacheTool::Ccache)
        } else {
            None
        }
    }

    /// The variable that names its cache directory.
    fn dir_var(self) -> &'static str {
        match self {
            CacheTool::Ccache => "CCACHE_DIR",
            CacheTool::Sccache => "SCCACHE_DIR",
        }
    }
}

/// `--compiler-cache` / `PYX_COMPILER_CACHE`: `ccache`, `sccache`, `none`, a path to one of them,
/// or `auto` (the default: ccache when it is installed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CacheRequest {
    #[default]
    Auto,
    None,
    Tool(CacheTool),
    Program(PathBuf),
}

impl FromStr for CacheRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" | "auto" => Ok(CacheRequest::Auto),
            "none" | "off" => Ok(CacheRequest::None),
            "ccache" => Ok(CacheRequest::Tool(CacheTool::Ccache)),
            "sccache" => Ok(CacheRequest::Tool(CacheTool::Sccache)),
            path if path.starts_with('/') && CacheTool::of_program(Path::new(path)).is_some() => {
                Ok(CacheRequest::Program(path.into()))
            }
            other => Err(format!(
                "unknown compiler cache `{other}`: expected ccache, sccache, none or auto"
            )),
        }
    }
}

/// `--compiler-launcher` / `PYX_COMPILER_LAUNCHER`: `distcc`, `none`, a path to distcc, or `auto`
/// (the default: distcc when `DISTCC_HOSTS` is set).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LauncherRequest {
    #[default]
    Auto,
    None,
    Distcc,
    Program(PathBuf),
}

impl FromStr for LauncherRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" | "auto" => Ok(LauncherRequest::Auto),
            "none" | "off" => Ok(LauncherRequest::None),
            "distcc" => Ok(LauncherRequest::Distcc),
            path if path.starts_with('/') && path.ends_with("distcc") => {
                Ok(LauncherRequest::Program(path.into()))
            }
            other => Err(format!(
                "unknown compiler launcher `{other}`: expected distcc, none or auto"
            )),
        }
    }
}

/// Why the requested launchers cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LaunchError {
    #[error("`--compiler-cache {0}` was asked for, and `{0}` is not installed")]
    CacheMissing(&'static str),
    #[error("`--compiler-launcher distcc` was asked for, and `distcc` is not installed")]
    DistccMissing,
    #[error(
        "distcc has no hosts: `DISTCC_HOSTS` is not set and there is no `~/.distcc/hosts` or `/etc/distcc/hosts`"
    )]
    NoDistccHosts,
    #[error("sccache cannot hand compile jobs to distcc")]
    SccacheWithDistcc,
}

impl LaunchError {
    pub fn hint(&self) -> String {
        match self {
            LaunchError::CacheMissing(tool) => format!(
                "install it (`apt-get install {tool}`), or build without one: `--compiler-cache none`"
            ),
            LaunchError::DistccMissing => {
                "install it (`apt-get install distcc`), or compile locally: `--compiler-launcher none`"
                    .into()
            }
            LaunchError::NoDistccHosts => {
                "name the build hosts: `DISTCC_HOSTS='host1/8 host2/8'` (see docs/distributed.md)"
                    .into()
            }
            LaunchError::SccacheWithDistcc => {
                "use ccache with distcc (`--compiler-cache ccache`), or sccache's own distributed \
                 compiler, sccache-dist (see docs/distributed.md)"
                    .into()
            }
        }
    }
}

/// A compiler cache in use: the tool, its program, and the directory pyx chose for it (`None`
/// when the user configured one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompilerCache {
    pub tool: CacheTool,
    pub program: PathBuf,
    pub dir: Option<PathBuf>,
    /// ccache's depend mode is turned on for the builds (`CCACHE_DEPEND=1`) because the user
    /// did not choose: a miss of a compile that writes its dependencies (`-MD`, as meson's and
    /// CMake's do) then runs no separate preprocessor pass.
    pub depend_mode: bool,
}

/// distcc in use: its program and the hosts it sends compile jobs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Distcc {
    pub program: PathBuf,
    pub hosts: DistccHosts,
}

/// A distcc host list (`DISTCC_HOSTS` or a hosts file) and the job slots it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DistccHosts {
    /// The list as written.
    pub spec: String,
    /// Where it came from: `DISTCC_HOSTS` or a hosts file.
    pub from: String,
    /// Job slots on hosts other than this machine (`/LIMIT`, 4 when not given).
    pub remote_slots: usize,
}

impl DistccHosts {
    /// Parse a host list (distcc(1), "Host Specifications"): `localhost/2 fast:3632/8,lzo @ssh/4`.
    pub fn parse(spec: &str, from: &str) -> DistccHosts {
        let remote_slots = spec
            .split_whitespace()
            .filter(|h| !h.starts_with('-') && !h.starts_with('+'))
            .filter_map(|host| {
                let host = host.split(',').next().unwrap_or(host);
                let (name, limit) = match host.split_once('/') {
                    Some((name, rest)) => {
                        let digits: String =
                            rest.chars().take_while(char::is_ascii_digit).collect();
                        (name, digits.parse().ok())
                    }
                    None => (host, None),
                };
                (name != "localhost").then_some(limit.unwrap_or(4))
            })
            .sum();
        DistccHosts {
            spec: spec.trim().to_string(),
            from: from.to_string(),
            remote_slots,
        }
    }
}

/// What the machine has, for [`Launch::choose`] (a fake in tests).
pub trait LaunchHost {
    fn var(&self, name: &str) -> Option<OsString>;
    fn which(&self, program: &str) -> Option<PathBuf>;
    fn read(&self, path: &Path) -> Option<String>;
    fn exists(&self, path: &Path) -> bool;
}

/// The real machine: the process environment, PATH and files.
pub struct System;

impl LaunchHost for System {
    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name).filter(|v| !v.is_empty())
    }
    fn which(&self, program: &str) -> Option<PathBuf> {
        which::which(program).ok()
    }
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
}

/// The launchers of one run: a compiler cache and distcc, each optional, and a note for the user
/// when a default could not be had.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    pub cache: Option<CompilerCache>,
    pub distcc: Option<Distcc>,
    pub notes: Vec<String>,
}

impl Launch {
    /// Decide what goes in front of the compiler. `cache_root` is pyx's cache: a compiler cache
    /// the user has not configured keeps its files in `cache_root/<tool>`.
    pub fn choose(
        cache: &CacheRequest,
        launcher: &LauncherRequest,
        host: &dyn LaunchHost,
        cache_root: &Path,
    ) -> Result<Launch, LaunchError> {
        let mut notes = Vec::new();
        let program = match cache {
            CacheRequest::None => None,
            CacheRequest::Program(p) => Some(p.clone()),
            CacheRequest::Tool(tool) => Some(
                host.which(tool.as_str())
                    .ok_or(LaunchError::CacheMissing(tool.as_str()))?,
            ),
            CacheRequest::Auto => {
                let found = host.which("ccache");
                if found.is_none() {
                    notes.push(
                        "no compiler cache: ccache is not installed (`apt-get install ccache` \
                         makes rebuilds fast; `--compiler-cache none` hides this note)"
                            .to_string(),
                    );
                }
                found
            }
        };
        let cache = program.and_then(|program| {
            let tool = CacheTool::of_program(&program)?;
            let dir = (!cache_dir_configured(tool, host)).then(|| cache_root.join(tool.as_str()));
            let depend_mode = tool == CacheTool::Ccache && !depend_mode_configured(host);
            Some(CompilerCache {
                tool,
                program,
                dir,
                depend_mode,
            })
        });
        let distcc = match launcher {
            LauncherRequest::None => None,
            LauncherRequest::Program(p) => Some((p.clone(), distcc_hosts(host)?)),
            LauncherRequest::Distcc => Some((
                host.which("distcc").ok_or(LaunchError::DistccMissing)?,
                distcc_hosts(host)?,
            )),
            LauncherRequest::Auto => match host.var("DISTCC_HOSTS") {
                None => None,
                Some(spec) => match host.which("distcc") {
                    Some(program) => Some((
                        program,
                        DistccHosts::parse(&spec.to_string_lossy(), "DISTCC_HOSTS"),
                    )),
                    None => {
                        notes.push(
                            "`DISTCC_HOSTS` is set, but distcc is not installed: compiling \
                             locally"
                                .to_string(),
                        );
                        None
                    }
                },
            },
        };
        let sccache = cache.as_ref().is_some_and(|c| c.tool == CacheTool::Sccache);
        let distcc = match distcc {
            Some(_) if sccache && matches!(launcher, LauncherRequest::Auto) => {
                notes.push(
                    "`DISTCC_HOSTS` is set, but sccache cannot hand compile jobs to distcc: \
                     compiling locally (ccache can; sccache has sccache-dist)"
                        .to_string(),
                );
                None
            }
            Some(_) if sccache => return Err(LaunchError::SccacheWithDistcc),
            Some((program, hosts)) => Some(Distcc { program, hosts }),
            None => None,
        };
        Ok(Launch {
            cache,
            distcc,
            notes,
        })
    }

    /// The choice as the shims read it back: what `PYX_COMPILER_CACHE`, `PYX_COMPILER_LAUNCHER`
    /// and the environment say (unset: the defaults).
    pub fn from_env() -> Result<Launch, String> {
        let parse = |name: &str| std::env::var(name).unwrap_or_default();
        let cache: CacheRequest = parse(env_vars::PYX_COMPILER_CACHE).parse()?;
        let launcher: LauncherRequest = parse(env_vars::PYX_COMPILER_LAUNCHER).parse()?;
        Launch::choose(&cache, &launcher, &System, &crate::cache::cache_dir())
            .map_err(|e| format!("{e}; {}", e.hint()))
    }

    /// Environment variables that hand this choice to the shims of a build (absolute programs,
    /// so a shim looks nothing up).
    pub fn environ(&self) -> Vec<(String, String)> {
        let mut vars = vec![
            (
                env_vars::PYX_COMPILER_CACHE.to_string(),
                self.cache
                    .as_ref()
                    .map_or("none".into(), |c| c.program.display().to_string()),
            ),
            (
                env_vars::PYX_COMPILER_LAUNCHER.to_string(),
                self.distcc
                    .as_ref()
                    .map_or("none".into(), |d| d.program.display().to_string()),
            ),
        ];
        if let Some(cache) = &self.cache {
            if let Some(dir) = &cache.dir {
                vars.push((cache.tool.dir_var().to_string(), dir.display().to_string()));
            }
            if cache.depend_mode {
                vars.push(("CCACHE_DEPEND".to_string(), "1".to_string()));
            }
        }
        vars
    }

    /// Whether the shims learn each compile's cache outcome (ccache's stats log; sccache keeps
    /// its counts in its server).
    pub fn counts_per_call(&self) -> bool {
        self.cache
            .as_ref()
            .is_some_and(|c| c.tool == CacheTool::Ccache)
    }

    /// Compile jobs beyond this machine's cores: the remote distcc slots.
    pub fn remote_slots(&self) -> usize {
        self.distcc.as_ref().map_or(0, |d| d.hosts.remote_slots)
    }

    /// The command for one compiler call: `real` (the cross compiler and its fixed arguments)
    /// behind the cache and distcc when `compile` (a `-c` call), else `real` alone. `build_root`
    /// is the build's scratch directory (`PYX_BUILD_ROOT`): ccache makes paths under it relative
    /// and leaves the working directory out of its hash, so a rebuild in another scratch
    /// directory hits.
    pub fn command(&self, real: &[String], compile: bool, build_root: Option<&Path>) -> Launched {
        let plain = || {
            let mut cmd = Command::new(&real[0]);
            cmd.args(&real[1..]);
            Launched { cmd, stats: None }
        };
        if !compile {
            return plain();
        }
        match (&self.cache, &self.distcc) {
            (None, None) => plain(),
            (None, Some(distcc)) => {
                let mut cmd = Command::new(&distcc.program);
                cmd.args(real);
                Launched { cmd, stats: None }
            }
            (Some(cache), distcc) => {
                let mut cmd = Command::new(&cache.program);
                cmd.args(real);
                if let Some(dir) = &cache.dir {
                    cmd.env(cache.tool.dir_var(), dir);
                }
                let mut stats = None;
                if cache.tool == CacheTool::Ccache {
                    if let Some(distcc) = distcc {
                        cmd.env("CCACHE_PREFIX", &distcc.program);
                    }
                    if let Some(root) = build_root {
                        cmd.env("CCACHE_BASEDIR", root).env("CCACHE_NOHASHDIR", "1");
                    }
                    stats = tempfile::Builder::new()
                        .prefix("pyx-ccache-stats-")
                        .tempfile()
                        .ok();
                    if let Some(file) = &stats {
                        cmd.env("CCACHE_STATSLOG", file.path());
                    }
                }
                Launched { cmd, stats }
            }
        }
    }
}

/// A compiler command, and the ccache stats log of this one call (read with
/// [`Launched::outcome`] after it ran).
pub struct Launched {
    pub cmd: Command,
    stats: Option<tempfile::NamedTempFile>,
}

impl From<Command> for Launched {
    fn from(cmd: Command) -> Launched {
        Launched { cmd, stats: None }
    }
}

impl Launched {
    /// Whether the call was served from the cache; `None` without ccache (sccache keeps its
    /// counts in its server).
    pub fn outcome(&self) -> Option<CacheOutcome> {
        let text = std::fs::read_to_string(self.stats.as_ref()?.path()).ok()?;
        parse_stats_log(&text)
    }
}

/// One compile call as the compiler cache saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheOutcome {
    Hit,
    Miss,
    /// Not cacheable (several sources, output to stdout, a failed compile ...).
    Uncacheable,
}

/// The outcome in a ccache stats log (`stats_log`, one counter name a line after `# <source>`).
pub fn parse_stats_log(text: &str) -> Option<CacheOutcome> {
    let counters: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if counters.is_empty() {
        return None;
    }
    Some(
        if counters
            .iter()
            .any(|c| matches!(*c, "direct_cache_hit" | "preprocessed_cache_hit"))
        {
            CacheOutcome::Hit
        } else if counters.contains(&"cache_miss") {
            CacheOutcome::Miss
        } else {
            CacheOutcome::Uncacheable
        },
    )
}

/// Compile calls and what the compiler cache made of them, for one package or a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounts {
    /// Compiler calls with `-c`.
    pub compiles: usize,
    pub hits: usize,
    pub misses: usize,
    pub uncacheable: usize,
}

impl CacheCounts {
    pub fn of<'a>(calls: impl IntoIterator<Item = &'a ShimCall>) -> CacheCounts {
        let mut counts = CacheCounts::default();
        for call in calls.into_iter().filter(|c| c.is_compile()) {
            counts.compiles += 1;
            match call.cache {
                Some(CacheOutcome::Hit) => counts.hits += 1,
                Some(CacheOutcome::Miss) => counts.misses += 1,
                Some(CacheOutcome::Uncacheable) => counts.uncacheable += 1,
                None => {}
            }
        }
        counts
    }

    pub fn add(&mut self, other: &CacheCounts) {
        self.compiles += other.compiles;
        self.hits += other.hits;
        self.misses += other.misses;
        self.uncacheable += other.uncacheable;
    }

    /// Hits of the cacheable calls, `None` when the cache saw none.
    pub fn hit_rate(&self) -> Option<f64> {
        let cacheable = self.hits + self.misses;
        (cacheable > 0).then(|| self.hits as f64 / cacheable as f64)
    }
}

/// sccache's own counts (its server's, for every client): `(hits, misses)`. Read before and
/// after a run, their difference is the run's; `None` when sccache does not answer.
pub fn sccache_counts(cache: &CompilerCache) -> Option<(u64, u64)> {
    let mut cmd = Command::new(&cache.program);
    cmd.args(["--show-stats", "--stats-format", "json"]);
    if let Some(dir) = &cache.dir {
        cmd.env("SCCACHE_DIR", dir);
    }
    let out = cmd.output().ok().filter(|o| o.status.success())?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let sum = |key: &str| {
        json["stats"][key]["counts"].as_object().map(|m| {
            m.values()
                .filter_map(serde_json::Value::as_u64)
                .sum::<u64>()
        })
    };
    Some((sum("cache_hits")?, sum("cache_misses")?))
}

/// Whether the user gave the cache a directory of their own: its variable, or `cache_dir` in a
/// configuration file (ccache(1) "Configuration"; sccache's config file), or ccache's legacy
/// `~/.ccache`.
fn cache_dir_configured(tool: CacheTool, host: &dyn LaunchHost) -> bool {
    if host.var(tool.dir_var()).is_some() {
        return true;
    }
    match tool {
        CacheTool::Ccache => {
            let legacy = host
                .var(env_vars::HOME)
                .map(|h| PathBuf::from(h).join(".ccache"));
            legacy.as_deref().is_some_and(|l| host.exists(l))
                || ccache_config_sets(host, "cache_dir")
        }
        CacheTool::Sccache => {
            host.var("SCCACHE_CONF").is_some()
                || config_home(host).is_some_and(|c| host.exists(&c.join("sccache/config")))
        }
    }
}

/// Whether ccache's depend mode is left to the user: `CCACHE_DEPEND`/`CCACHE_NODEPEND` or
/// `depend_mode` in a configuration file. Otherwise pyx turns it on (see [`CompilerCache`]).
fn depend_mode_configured(host: &dyn LaunchHost) -> bool {
    host.var("CCACHE_DEPEND").is_some()
        || host.var("CCACHE_NODEPEND").is_some()
        || ccache_config_sets(host, "depend_mode")
}

/// Whether a ccache configuration file (`CCACHE_CONFIGPATH`, the user's, `/etc/ccache.conf`)
/// sets `key`.
fn ccache_config_sets(host: &dyn LaunchHost, key: &str) -> bool {
    let mut files: Vec<PathBuf> = host
        .var("CCACHE_CONFIGPATH")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    files.extend(config_home(host).map(|c| c.join("ccache/ccache.conf")));
    files.push("/etc/ccache.conf".into());
    files.iter().any(|f| {
        host.read(f).is_some_and(|text| {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .any(|(k, _)| k.trim() == key)
        })
    })
}

/// `$XDG_CONFIG_HOME`, else `~/.config`.
fn config_home(host: &dyn LaunchHost) -> Option<PathBuf> {
    host.var(env_vars::XDG_CONFIG_HOME)
        .map(PathBuf::from)
        .or_else(|| {
            host.var(env_vars::HOME)
                .map(|h| PathBuf::from(h).join(".config"))
        })
}

/// The host list distcc would use: `DISTCC_HOSTS`, else `$DISTCC_DIR/hosts` (`~/.distcc/hosts`),
/// else `/etc/distcc/hosts`.
fn distcc_hosts(host: &dyn LaunchHost) -> Result<DistccHosts, LaunchError> {
    if let Some(spec) = host.var("DISTCC_HOSTS") {
        return Ok(DistccHosts::parse(&spec.to_string_lossy(), "DISTCC_HOSTS"));
    }
    let dir = host.var("DISTCC_DIR").map(PathBuf::from).or_else(|| {
        host.var(env_vars::HOME)
            .map(|h| PathBuf::from(h).join(".distcc"))
    });
    let files = dir
        .map(|d| d.join("hosts"))
        .into_iter()
        .chain([PathBuf::from("/etc/distcc/hosts")]);
    for file in files {
        let Some(text) = host.read(&file) else {
            continue;
        };
        let spec: Vec<&str> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or_default().trim())
            .filter(|l| !l.is_empty())
            .collect();
        if !spec.is_empty() {
            return Ok(DistccHosts::parse(
                &spec.join(" "),
                &file.display().to_string(),
            ));
        }
    }
    Err(LaunchError::NoDistccHosts)
}

#[cfg(test)]
mod tests;
