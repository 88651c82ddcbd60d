//! `pyx retag`.

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::RetagArgs;

pub fn run(_args: RetagArgs) -> Result<ExitStatus> {
    bail!("`pyx retag` is not built yet")
}
