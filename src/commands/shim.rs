//! `pyx shim TOOL ARGS...`: the compiler and tool shims of a cross env. The env's
//! `bin/cc` and friends exec this; it checks the arguments, adds `--sysroot`, runs the real tool
//! and appends one line to the env's shim log.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, anyhow};

use crate::ExitStatus;
use crate::cli::ShimArgs;
use crate::crossenv::build_machine;
use crate::crossenv::config_tools::{self, Program};
use crate::crossenv::launcher::{CacheOutcome, Launch, Launched};
use crate::crossenv::shim_log::{self, Mapping, ShimCall};
use crate::crossenv::shims::{self, Allow, ShimConfig};
use crate::env_vars;
use crate::pep517::diagnose::{dev_package, sysroot_add_command};
use crate::platform::toolchain::AtomicLibrary;
use crate::printer::{render_error, with_hint};
use crate::sysroot::debian::MissingFile;

/// Run a shim before clap sees the command line (a compiler's `--version` or `-h` belongs to the
/// compiler): for `pyx shim [--env DIR] TOOL ARGS...`, or when pyx runs under a shim's name
/// (`cc`, `c++`, ...) through a link, for the env named by `$PYX_CROSS_ENV`.
pub fn dispatch_argv0(args: &[OsString]) -> Option<u8> {
    Some(run_rendered(parse_raw(args)?))
}

/// Run a shim; an error of its own is rendered on stderr and exits 2.
fn run_rendered(shim: ShimArgs) -> u8 {
    match run(shim) {
        Ok(status) => status.into(),
        Err(err) => {
            eprint!("{}", render_error(&err));
            2
        }
    }
}

/// `pyx-shim ENV SCRIPT ARGS...` (see `src/bin/pyx-shim.rs`): the shebang line of an env's
/// `bin/TOOL` names the env, and the kernel adds the script's path, whose file name is the tool.
pub fn interpreter_main(args: impl Iterator<Item = OsString>) -> u8 {
    let mut args = args.skip(1);
    let (env, script) = (args.next(), args.next());
    let tool = script
        .as_deref()
        .and_then(|s| Path::new(s).file_name()?.to_str())
        .filter(|t| shims::SHIM_TOOLS.contains(t));
    let (Some(env), Some(tool)) = (&env, tool) else {
        let given: Vec<_> = [&env, &script]
            .into_iter()
            .flatten()
            .map(|a| a.to_string_lossy())
            .collect();
        let err = with_hint(
            anyhow!(
                "`pyx-shim` runs as the interpreter of a cross env's tool shim (`<env>/bin/cc` ...), \
                 and was started as `pyx-shim {}`",
                given.join(" ")
            ),
            "run the env's `bin/<tool>`, or `pyx shim --env DIR TOOL ARGS...`",
        );
        eprint!("{}", render_error(&err));
        return 2;
    };
    run_rendered(ShimArgs {
        env: Some(PathBuf::from(env)),
        tool: tool.to_string(),
        args: args.collect(),
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
        refused_package: None,
        mapped: Vec::new(),
        start: 0.0,
        seconds: 0.0,
        cache: None,
    };
    let started = std::time::SystemTime::now();
    let result = shim(
        &cfg,
        &args.tool,
        &args.args,
        package.as_deref(),
        &cwd,
        &mut call.mapped,
        &mut call.cache,
    );
    call.start = started
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    call.seconds = started.elapsed().map_or(0.0, |d| d.as_secs_f64());
    match &result {
        Ok(code) => call.exit = Some(*code),
        Err(r) if !r.flag.is_empty() => {
            call.refused = Some(r.flag.clone());
            call.refused_package.clone_from(&r.package);
        }
        Err(_) => {}
    }
    shim_log::append(&cfg.log, &call);
    match result {
        Ok(0) => Ok(ExitStatus::Success),
        Ok(code) => Ok(ExitStatus::Code(u8::try_from(code).unwrap_or(1))),
        Err(r) => Err(r.error),
    }
}

/// How many shims deep the current call is; a tool that finds a shim again stops at the limit.
const SHIM_DEPTH: &str = env_vars::PYX_SHIM_DEPTH;
const MAX_SHIM_DEPTH: u32 = 4;

/// Why a shim did not run its tool: the flag it refused (empty for other errors), the build
/// requirement whose build-machine copy that flag read, and the error to render.
struct Refused {
    flag: String,
    package: Option<String>,
    error: anyhow::Error,
}

impl Refused {
    fn flag(flag: String, error: anyhow::Error) -> Refused {
        Refused {
            flag,
            package: None,
            error,
        }
    }
}

/// Run `tool` for the target; the host paths mapped on the way go to `mapped` (and stderr).
fn shim(
    cfg: &ShimConfig,
    tool: &str,
    args: &[OsString],
    package: Option<&str>,
    cwd: &Path,
    mapped: &mut Vec<Mapping>,
    cache: &mut Option<CacheOutcome>,
) -> Result<i32, Refused> {
    let fail = |e: anyhow::Error| Refused::flag(String::new(), e);
    let mut launched: Launched = match tool {
        "config" => return run_config(cfg, args, mapped).map_err(fail),
        "pkg-config" => {
            let real = cfg.tool(tool).ok_or_else(|| fail(missing(cfg, tool)))?;
            let overlays = target_pkg_config_dirs();
            let libdir = std::env::join_paths(
                overlays
                    .iter()
                    .cloned()
                    .chain(std::env::split_paths(&cfg.pkg_config_libdir)),
            )
            .unwrap_or_default();
            let mut cmd = Command::new(&real[0]);
            cmd.args(&real[1..])
                .args(args)
                .env("PKG_CONFIG_LIBDIR", libdir)
                .env("PKG_CONFIG_SYSROOT_DIR", &cfg.sysroot)
                .env_remove("PKG_CONFIG_PATH");
            if !overlays.is_empty() {
                return run_pkg_config_with_overlays(cmd, &cfg.sysroot).map_err(fail);
            }
            cmd.into()
        }
        "ar" | "ranlib" | "strip" | "readelf" => {
            let real = cfg.tool(tool).ok_or_else(|| fail(missing(cfg, tool)))?;
            let mut cmd = plain(real);
            cmd.args(args);
            cmd.into()
        }
        "cc" | "gcc" | "c++" | "g++" | "ld" => {
            let real = cfg.tool(tool).ok_or_else(|| fail(missing(cfg, tool)))?;
            let allow = Allow::from_env();
            check_build_machine_reads(cfg, tool, args, package, cwd, &allow)?;
            let checked = shims::rewrite_args(cfg, args, &allow)
                .map_err(|r| Refused::flag(r.flag.clone(), refusal(cfg, tool, r, package, cwd)))?;
            report_mappings(&checked.mapped);
            mapped.extend(checked.mapped);
            let compile = tool != "ld" && shim_log::is_compile_args(args);
            let build_root = std::env::var_os(env_vars::PYX_BUILD_ROOT).map(PathBuf::from);
            let mut launched = if compile {
                Launch::from_env().map_err(|e| fail(anyhow!(e)))?.command(
                    real,
                    true,
                    build_root.as_deref(),
                )
            } else {
                Launched::from(plain(real))
            };
            let cmd = &mut launched.cmd;
            if tool != "ld" {
                cmd.args(cfg.target().cflags);
            }
            if let Some(root) = build_root.filter(|_| compile) {
                cmd.arg(format!("-ffile-prefix-map={}=.", root.display()));
            }
            if !shims::has_sysroot(args) {
                cmd.arg(format!("--sysroot={}", cfg.sysroot.display()));
            }
            cmd.args(checked.args);
            // After the package's own `-L`s, before the compiler's built-in directories.
            if let Some(dir) = cfg.libc_dir() {
                cmd.arg(format!("-L{}", dir.display()));
            }
            // Last, so a package's own `-latomic` wins; a static archive gives only the members
            // a call needs, not exported; the shared one is needed only when called.
            if tool != "ld" && shims::links_default_libraries(args) {
                match &cfg.libatomic {
                    Some(AtomicLibrary::Static(archive)) => {
                        cmd.arg("-Wl,--exclude-libs,libatomic.a").arg(archive);
                    }
                    Some(AtomicLibrary::Shared) => {
                        cmd.arg("-Wl,--push-state,--as-needed,-latomic,--pop-state");
                    }
                    None => {}
                }
            }
            launched
        }
        other => {
            return Err(fail(anyhow!("`{other}` is not a tool pyx shims")));
        }
    };
    let cmd = &mut launched.cmd;
    one_level_deeper(cmd, tool).map_err(fail)?;
    let status = cmd.status().map_err(|e| {
        fail(anyhow::Error::new(e).context(format!(
            "cannot run `{}` for the `{tool}` shim",
            cmd.get_program().to_string_lossy()
        )))
    })?;
    *cache = launched.outcome();
    Ok(status.code().unwrap_or(1))
}

/// The real tool's command (its program and fixed arguments).
fn plain(real: &[String]) -> Command {
    let mut cmd = Command::new(&real[0]);
    cmd.args(&real[1..]);
    cmd
}

/// Count the shim depth up for `cmd`; an error when a tool keeps calling shims.
fn one_level_deeper(cmd: &mut Command, tool: &str) -> Result<()> {
    let depth: u32 = std::env::var(SHIM_DEPTH)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    if depth >= MAX_SHIM_DEPTH {
        return Err(anyhow!(
            "the `{tool}` shim was called {depth} levels deep: `{}` calls a shim again",
            cmd.get_program().to_string_lossy()
        ));
    }
    cmd.env(SHIM_DEPTH, (depth + 1).to_string());
    Ok(())
}

/// Each mapping on stderr, which a build sends to the package's build log.
fn report_mappings(mapped: &[Mapping]) {
    for m in mapped {
        eprintln!("{}", shim_log::describe_mapping(m));
    }
}

/// `pyx shim config NAME ARGS`: run the sysroot's `NAME` script with its interpreter from the
/// build machine and print its output with host paths mapped into the sysroot. Never the build
/// machine's `NAME`.
fn run_config(cfg: &ShimConfig, args: &[OsString], mapped: &mut Vec<Mapping>) -> Result<i32> {
    let (name, rest) = args
        .split_first()
        .and_then(|(n, rest)| Some((n.to_str()?, rest)))
        .context("`pyx shim config` needs the name of a `*-config` program")?;
    let Some(path) = config_tools::find_in_sysroot(cfg, name) else {
        return Err(missing_config(cfg, name));
    };
    let (interpreter, interpreter_args) = match Program::inspect(&path)
        .with_context(|| format!("cannot read `{}`", path.display()))?
    {
        Program::Script { interpreter, args } => (interpreter, args),
        Program::Elf => {
            return Err(with_hint(
                anyhow!(
                    "the sysroot's `{name}` (`{}`) is a compiled program for `{}`, not a script: \
                     it cannot run on the build machine",
                    path.display(),
                    cfg.target
                ),
                format!(
                    "give the build its flags another way: through pkg-config (the env's \
                     `pkg-config` reads the sysroot's `.pc` files), or in CFLAGS/LDFLAGS with \
                     the sysroot's paths (`-I{0}/usr/include/...`, `-L{0}/usr/lib/{1}`)",
                    cfg.sysroot.display(),
                    cfg.target_multiarch
                ),
            ));
        }
        Program::Other => {
            return Err(anyhow!(
                "the sysroot's `{name}` (`{}`) is neither a `#!` script nor a program",
                path.display()
            ));
        }
    };
    let program = which::which(&interpreter).map_err(|_| {
        with_hint(
            anyhow!(
                "the sysroot's `{name}` is a `{interpreter}` script, and the build machine has no \
                 `{interpreter}` on PATH"
            ),
            format!("install `{interpreter}` on the build machine"),
        )
    })?;
    let mut cmd = Command::new(&program);
    cmd.args(&interpreter_args)
        .arg(&path)
        .args(rest)
        .env("PKG_CONFIG_LIBDIR", &cfg.pkg_config_libdir)
        .env("PKG_CONFIG_SYSROOT_DIR", &cfg.sysroot)
        .env_remove("PKG_CONFIG_PATH")
        .stderr(std::process::Stdio::inherit());
    one_level_deeper(&mut cmd, "config")?;
    let out = cmd
        .output()
        .with_context(|| format!("cannot run `{}` for `{name}`", program.display()))?;
    let (text, printed) = shims::rewrite_printed(cfg, &String::from_utf8_lossy(&out.stdout));
    report_mappings(&printed);
    mapped.extend(printed);
    std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes())?;
    Ok(out.status.code().unwrap_or(1))
}

/// The sysroot lacks `name`: which `-dev` package of the target ships it.
fn missing_config(cfg: &ShimConfig, name: &str) -> anyhow::Error {
    let target = cfg.target();
    let arch = target.debian_arch.unwrap_or(target.name);
    let (package, found) = dev_package(&cfg.sysroot, &MissingFile::Program(name.to_string()));
    let check = if found {
        format!("the {arch} package that ships `usr/bin/{name}`")
    } else {
        format!("a guess at the {arch} package that ships `usr/bin/{name}`; check the name")
    };
    with_hint(
        anyhow!(
            "the sysroot for `{}` has no `{name}` (`{}`); pyx never runs the build machine's, \
             which describes the build machine's libraries",
            cfg.target,
            cfg.sysroot.join("usr/bin").join(name).display()
        ),
        format!(
            "add it to the sysroot: `{} --with {package}` ({check}), then run the build again",
            sysroot_add_command(target, &cfg.sysroot)
        ),
    )
}

/// Refuse a compile or link that reads a build-machine copy of a platform-specific build
/// requirement, or links a static library holding objects for another machine.
fn check_build_machine_reads(
    cfg: &ShimConfig,
    tool: &str,
    args: &[OsString],
    package: Option<&str>,
    cwd: &Path,
    allow: &Allow,
) -> Result<(), Refused> {
    let building = match package {
        Some(p) => format!("while building `{p}`"),
        None => format!("in `{}`", cwd.display()),
    };
    if let Some(read) =
        build_machine::find_host_read(args, cwd, &build_machine::from_env(&cfg.env_dir))
        && !allow.allows(&read.flag)
    {
        let error = with_hint(
            anyhow!(
                "`{}` holds the build machine's {} {}, compiled for another CPU than `{}`; a cross \
                 build must compile against the target's copy",
                read.flag,
                read.package,
                read.version,
                cfg.target
            )
            .context(format!(
                "pyx refused `{}` in a `{tool}` call for `{}` {building}",
                read.flag, cfg.target
            )),
            format!(
                "pyx provides the target's `{}` when the build reads it through `{}` \
                 (get_include, its config tool or pkg-config); a hard-coded path to the build env \
                 bypasses that",
                read.package, read.package
            ),
        );
        return Err(Refused {
            flag: read.flag,
            package: Some(read.package),
            error,
        });
    }
    if let Some(f) = build_machine::find_foreign_archive(args, cwd, &cfg.sysroot, cfg.target()) {
        let flag = f.archive.display().to_string();
        if allow.allows(&flag) {
            return Ok(());
        }
        let error = with_hint(
            anyhow!(
                "`{}` holds `{}`, which is {}, not `{}` code",
                f.archive.display(),
                f.object,
                f.found,
                cfg.target
            )
            .context(format!(
                "pyx refused to link `{flag}` in a `{tool}` call for `{}` {building}",
                cfg.target
            )),
            "the static library was built for another machine; rebuild it for the target, or \
             link the sysroot's",
        );
        return Err(Refused::flag(flag, error));
    }
    Ok(())
}

/// `PYX_TARGET_PKG_CONFIG_PATH`: pkg-config dirs of the target's copies of build requirements.
fn target_pkg_config_dirs() -> Vec<PathBuf> {
    std::env::var_os(env_vars::PYX_TARGET_PKG_CONFIG_PATH)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default()
}

/// pkg-config prefixes every `-I`/`-L` path with the sysroot; paths of the target's copies of build
/// requirements live outside it, so the prefix comes off them again.
fn run_pkg_config_with_overlays(mut cmd: Command, sysroot: &Path) -> anyhow::Result<i32> {
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run `{}`", cmd.get_program().to_string_lossy()))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    let sysroot = sysroot.display().to_string();
    for dir in target_pkg_config_dirs() {
        let overlay = dir.display().to_string();
        let root = overlay
            .split("/lib/python")
            .next()
            .unwrap_or(&overlay)
            .to_string();
        text = text.replace(&format!("{sysroot}{root}"), &root);
    }
    std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes())?;
    Ok(out.status.code().unwrap_or(1))
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
