//! `pyx sysroot`.

use anyhow::{Result, bail};

use crate::ExitStatus;
use crate::cli::{GlobalArgs, SysrootCommand};

pub fn run(_args: SysrootCommand, _global: &GlobalArgs) -> Result<ExitStatus> {
    bail!("`pyx sysroot` is not built yet")
}
