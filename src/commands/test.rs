//! `pyx test`.

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::{GlobalArgs, TestArgs};

pub fn run(_args: TestArgs, _global: &GlobalArgs) -> Result<ExitStatus> {
    bail!("`pyx test` is not built yet")
}
