//! `pyx shim TOOL ARGS...`: the compiler and tool shims of a cross env. The env's
//! `bin/cc` and friends exec this; it checks the arguments, adds `--sysroot`, runs the real tool
//! and appends one line to the env's shim log.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow};

use crate::ExitStatus;
use crate::cli::ShimArgs;
use crate::crossenv::shim_log::{self, ShimCall};
use crate::crossenv::shims::{self, Allow, ShimConfig};
use crate::env_vars;
use crate::printer::{render_error, with_hint};

/// Run a shim before clap sees the command line (a compiler's `--version` or `-h` belongs to the
/// compiler): for `pyx shim [--env DIR] TOOL ARGS...`, or when pyx runs under a shim's name
/// (`cc`, `c++`, ...) through a link, for the env named by `$PYX_CROSS_ENV`.
pub fn dispatch_argv0(args: &[OsString]) -> Option<u8> {
    let shim = parse_raw(args)?;
    Some(match run(shim) {
        Ok(status) => status.into(),
        Err(err) => {
            eprint!("{}", render_error(&err));
            2
        }
    })
}

fn parse_raw(args: &[OsString]) -> Option<ShimArgs> {
    let name = Path::new(args.first()?).file_name()?.to_str()?;
    if shims::SHIM_TOOLS.contains(&name) {
        return Some(ShimArgs {
            env: std::env::var_os(env_vars::PYX_CROSS_ENV).map(PathBuf::from),
            tool: name.to_string(),
            args: args[1..].to_vec(),
        });
    }
    if args.get(1)?.to_str()? != "shim" {
        return None;
    }
    let (env, rest) = match args.get(2)?.to_str()? {
        "--env" => (Some(PathBuf::from(args.get(3)?)), &args[4..]),
        _ => (None, &args[2..]),
    };
    let tool = rest.first()?.to_str()?.to_string();
    if tool.starts_with('-') {
        return None;
    }
    Some(ShimArgs {
        env,
        tool,
        args: rest[1..].to_vec(),
    })
}

pub fn run(args: ShimArgs) -> Result<ExitStatus> {
    let env = args
        .env
        .or_else(|| std::env::var_os(env_vars::PYX_CROSS_ENV).map(PathBuf::from))
        .ok_or_else(|| {
            with_hint(
                anyhow!("`pyx shim` runs inside a cross env, and none is set"),
                format!("pass `--env DIR` or set {}", env_vars::PYX_CROSS_ENV),
            )
        })?;
    let config_path = env.join("pyx").join("shim.json");
    let cfg: ShimConfig = serde_json::from_slice(
        &fs_err::read(&config_path).context("cannot read the cross env's shim configuration")?,
    )
    .with_context(|| format!("cannot parse `{}`", config_path.display()))?;
    let package = std::env::var(env_vars::PYX_PACKAGE)
        .ok()
        .filter(|p| !p.is_empty());
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut call = ShimCall {
        package: package.clone(),
        tool: args.tool.clone(),
        args: args
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        cwd: cwd.clone(),
        exit: None,
        refused: None,
        start: 0.0,
        seconds: 0.0,
    };
    let started = std::time::SystemTime::now();
    let result = shim(&cfg, &args.tool, &args.args, package.as_deref(), &cwd);
    call.start = started
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    call.seconds = started.elapsed().map_or(0.0, |d| d.as_secs_f64());
    match &result {
        Ok(code) => call.exit = Some(*code),
        Err(Refused(flag, _)) => call.refused = Some(flag.clone()),
    }
    shim_log::append(&cfg.log, &call);
    match result {
        Ok(0) => Ok(ExitStatus::Success),
        Ok(code) => Ok(ExitStatus::Code(u8::try_from(code).unwrap_or(1))),
        Err(Refused(_, err)) => Err(err),
    }
}

/// How many shims deep the current call is; a tool that finds a shim again stops at the limit.
const SHIM_DEPTH: &str = env_vars::PYX_SHIM_DEPTH;
const MAX_SHIM_DEPTH: u32 = 4;

/// A refusal: the flag and the error to render.
struct Refused(String, anyhow::Error);

fn shim(
    cfg: &ShimConfig,
    tool: &str,
    args: &[OsString],
    package: Option<&str>,
    cwd: &Path,
) -> Result<i32, Refused> {
    let fail = |e: anyhow::Error| Refused(String::new(), e);
    let mut cmd = match tool {
        "pkg-config" => {
            let real = cfg.tool(tool).ok_or_else(|| fail(missing(cfg, tool)))?;
            let mut cmd = Command::new(&real[0]);
            cmd.args(&real[1..])
                .args(args)
                .env("PKG_CONFIG_LIBDIR", &cfg.pkg_config_libdir)
                .env("PKG_CONFIG_SYSROOT_DIR", &cfg.sysroot)
                .env_remove("PKG_CONFIG_PATH");
            cmd
        }
        "ar" | "ranlib" | "strip" | "readelf" => {
            let real = cfg.tool(tool).ok_or_else(|| fail(missing(cfg, tool)))?;
            let mut cmd = Command::new(&real[0]);
            cmd.args(&real[1..]).args(args);
            cmd
        }
        "cc" | "gcc" | "c++" | "g++" | "ld" => {
            let real = cfg.tool(tool).ok_or_else(|| fail(missing(cfg, tool)))?;
            let checked = shims::rewrite_args(cfg, args, &Allow::from_env())
                .map_err(|r| Refused(r.flag.clone(), refusal(cfg, tool, r, package, cwd)))?;
            let mut cmd = Command::new(&real[0]);
            cmd.args(&real[1..]);
            if tool != "ld" {
                cmd.args(cfg.target().cflags);
            }
            if !shims::has_sysroot(args) {
                cmd.arg(format!("--sysroot={}", cfg.sysroot.display()));
            }
            cmd.args(checked);
            cmd
        }
        other => {
            return Err(fail(anyhow!("`{other}` is not a tool pyx shims")));
        }
    };
    let depth: u32 = std::env::var(SHIM_DEPTH)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    if depth >= MAX_SHIM_DEPTH {
        return Err(fail(anyhow!(
            "the `{tool}` shim was called {depth} levels deep: `{}` calls a shim again",
            cmd.get_program().to_string_lossy()
        )));
    }
    cmd.env(SHIM_DEPTH, (depth + 1).to_string());
    let status = cmd.status().map_err(|e| {
        fail(anyhow::Error::new(e).context(format!(
            "cannot run `{}` for the `{tool}` shim",
            cmd.get_program().to_string_lossy()
        )))
    })?;
    Ok(status.code().unwrap_or(1))
}

fn missing(cfg: &ShimConfig, tool: &str) -> anyhow::Error {
    let package = if matches!(tool, "c++" | "g++") {
        cfg.target().gcc_package.replacen("gcc-", "g++-", 1)
    } else {
        cfg.target().gcc_package.to_string()
    };
    with_hint(
        anyhow!("the cross env for `{}` has no `{tool}`", cfg.target),
        format!("install `{package}` and run `pyx env create` again"),
    )
}

fn refusal(
    cfg: &ShimConfig,
    tool: &str,
    r: shims::Refusal,
    package: Option<&str>,
    cwd: &Path,
) -> anyhow::Error {
    let building = match package {
        Some(p) => format!("while building `{p}`"),
        None => format!("in `{}`", cwd.display()),
    };
    with_hint(
        anyhow!(r.reason).context(format!(
            "pyx refused `{}` in a `{tool}` call for `{}` {building}",
            r.flag, cfg.target
        )),
        format!(
            "fix the flag in the package's build files, or let it pass with {}='{}' (or `all`)",
            env_vars::PYX_SHIM_ALLOW,
            r.flag
        ),
    )
}
