//! `pyx env`.

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::{EnvCommand, GlobalArgs};

pub fn run(_args: EnvCommand, _global: &GlobalArgs) -> Result<ExitStatus> {
    bail!("`pyx env` is not built yet")
}
