//! `pyx shim TOOL ARGS...`: the compiler and tool shims of a cross env (DESIGN.md §4).

use std::ffi::OsString;

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::ShimArgs;

/// When pyx runs under a shim's name (`cc`, `c++`, ...) via a link in a cross env, run that shim.
pub fn dispatch_argv0(_args: &[OsString]) -> Option<u8> {
    None
}

pub fn run(_args: ShimArgs) -> Result<ExitStatus> {
    bail!("`pyx shim` is not built yet")
}
