//! `pyx run --target T -- CMD...`: run a command inside the target's cross env (created and cached
//! on demand), passing its exit code through.

use anyhow::{Result, anyhow};

use crate::ExitStatus;
use crate::cli::{GlobalArgs, RunArgs};
use crate::crossenv::CrossEnv;
use crate::crossenv::buildenv::{BuildEnv, default_requirements};
use crate::platform::TargetProfile;
use crate::printer::with_hint;

pub fn run(args: RunArgs, _global: &GlobalArgs) -> Result<ExitStatus> {
    let request = args.target.request();
    let build = request.build_python()?;
    let profile = TargetProfile::resolve(&request, &build)?;
    let build_env = BuildEnv::ensure(&build, &default_requirements(), &[])?;
    let env = CrossEnv::cached(&profile, &build, Some(&build_env))?;
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| anyhow!("no command given"))?;
    let status = env
        .command(program, Some(&build_env))
        .args(rest)
        .status()
        .map_err(|e| {
            with_hint(
                anyhow::Error::new(e).context(format!("cannot run `{program}` in the cross env")),
                format!(
                    "`{program}` must be on PATH or in the env's bin (`{}`)",
                    env.bin().display()
                ),
            )
        })?;
    Ok(exit_status(status))
}

/// A child's exit status as pyx's own (signals become 128 + signal, like a shell).
pub fn exit_status(status: std::process::ExitStatus) -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => ExitStatus::Success,
        (Some(code), _) => ExitStatus::Code(u8::try_from(code).unwrap_or(1)),
        (None, Some(sig)) => ExitStatus::Code(u8::try_from(128 + sig).unwrap_or(1)),
        (None, None) => ExitStatus::Code(1),
    }
}
