//! `pyx inspect`.

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::InspectArgs;

pub fn run(_args: InspectArgs) -> Result<ExitStatus> {
    bail!("`pyx inspect` is not built yet")
}
