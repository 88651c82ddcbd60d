//! `pyx env create DIR --target T` and `pyx env show DIR`: the cross env by hand.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::ExitStatus;
use crate::cli::{EnvCommand, EnvCreateArgs, EnvShowArgs, GlobalArgs};
use crate::crossenv::CrossEnv;
use crate::crossenv::buildenv::{BuildEnv, default_requirements, with_pip};
use crate::platform::TargetProfile;

pub fn run(cmd: EnvCommand, _global: &GlobalArgs) -> Result<ExitStatus> {
    match cmd {
        EnvCommand::Create(args) => create(args),
        EnvCommand::Show(args) => show(args),
    }
}

fn create(args: EnvCreateArgs) -> Result<ExitStatus> {
    let request = args.target.request();
    let build = request.build_python()?;
    let profile = TargetProfile::resolve(&request, &build)?;
    let requirements = if args.build_requires.is_empty() {
        default_requirements()
    } else {
        with_pip(args.build_requires)
    };
    let build_env = BuildEnv::ensure(&build, &requirements, &[])?;
    let env = CrossEnv::create_with(&args.dir, &profile, &build, Some(&build_env))?;
    eprintln!(
        "cross env for `{}` (sysroot `{}`, C compiler `{}`, long double {})",
        profile.target,
        profile.sysroot.display(),
        profile.toolchain.cc.join(" "),
        profile.toolchain.long_double
    );
    eprintln!(
        "use it with `{}/bin/python -m build -n -w` or put `{}/bin` first on PATH",
        env.dir.display(),
        env.dir.display()
    );
    println!("{}", env.dir.display());
    Ok(ExitStatus::Success)
}

/// What the env's Python answers, as `shims/env_report.py` prints it.
#[derive(Debug, Serialize, Deserialize)]
pub struct EnvReport {
    pub executable: String,
    pub version: String,
    pub platform: String,
    pub machine: String,
    pub uname_machine: String,
    pub multiarch: Option<String>,
    pub ext_suffix: Option<String>,
    pub soabi: Option<String>,
    pub config_multiarch: Option<String>,
    pub extension_suffixes: Vec<String>,
    pub first_tag: Option<String>,
    /// `os.confstr("CS_GNU_LIBC_VERSION")`: the target sysroot's glibc, as packaging.tags sees it.
    pub glibc: Option<String>,
    pub cc: Option<String>,
    pub cxx: Option<String>,
    pub ldshared: Option<String>,
    pub include: Option<String>,
}

/// Run the report probe with the env's Python, as a process inside the env sees it.
pub fn report(env: &CrossEnv) -> Result<EnvReport> {
    let build_site = env.record.build_site.clone();
    let mut cmd = env.command(env.python(), None);
    if let Some(site) = build_site {
        cmd.env(crate::env_vars::PYX_BUILD_SITE, site);
    }
    let out = cmd
        .args(["-B", "-c", include_str!("../../shims/env_report.py")])
        .output()
        .with_context(|| format!("cannot run `{}`", env.python().display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "the cross env's Python failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).context("unexpected reply from the env report probe")
}

fn show(args: EnvShowArgs) -> Result<ExitStatus> {
    let env = CrossEnv::open(&args.dir)?;
    if args.meson_cross {
        print!("{}", read(&env.meson_cross_file())?);
        return Ok(ExitStatus::Success);
    }
    if args.cmake_toolchain {
        print!("{}", read(&env.cmake_toolchain_file())?);
        return Ok(ExitStatus::Success);
    }
    let report = report(&env)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitStatus::Success);
    }
    let profile = env.profile();
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let rows = [
        ("target", profile.target.clone()),
        ("sysroot", profile.sysroot.display().to_string()),
        (
            "python",
            format!("{} ({})", report.executable, report.version),
        ),
        ("sysconfig.get_platform()", report.platform.clone()),
        ("platform.machine()", report.machine.clone()),
        ("os.uname().machine", report.uname_machine.clone()),
        ("EXT_SUFFIX", opt(&report.ext_suffix)),
        ("SOABI", opt(&report.soabi)),
        ("MULTIARCH", opt(&report.config_multiarch)),
        ("sys.implementation._multiarch", opt(&report.multiarch)),
        ("EXTENSION_SUFFIXES", report.extension_suffixes.join(" ")),
        ("first tag", opt(&report.first_tag)),
        ("CC", opt(&report.cc)),
        ("long double", profile.toolchain.long_double.clone()),
        (
            "meson cross file",
            env.meson_cross_file().display().to_string(),
        ),
        (
            "CMake toolchain",
            env.cmake_toolchain_file().display().to_string(),
        ),
    ];
    for (k, v) in rows {
        println!("{k:<30} {v}");
    }
    Ok(ExitStatus::Success)
}

fn read(path: &Path) -> Result<String> {
    fs_err::read_to_string(path).context("the cross env is incomplete; run `pyx env create` again")
}
