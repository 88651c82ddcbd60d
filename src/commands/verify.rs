//! `pyx verify`.

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::VerifyArgs;

pub fn run(_args: VerifyArgs) -> Result<ExitStatus> {
    bail!("`pyx verify` is not built yet")
}
