//! `pyx wheel`.

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::{GlobalArgs, WheelArgs};

pub fn run(_args: WheelArgs, _global: &GlobalArgs) -> Result<ExitStatus> {
    bail!("`pyx wheel` is not built yet")
}
