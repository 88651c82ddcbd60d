//! `pyx run`.

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::{GlobalArgs, RunArgs};

pub fn run(_args: RunArgs, _global: &GlobalArgs) -> Result<ExitStatus> {
    bail!("`pyx run` is not built yet")
}
