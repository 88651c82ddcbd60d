//! One module per subcommand; each turns its CLI args into settings and runs the pipeline stage.

use anyhow::Result;

use crate::ExitStatus;
use crate::cli::{Cli, Command};

pub mod env;
pub mod index;
pub mod inspect;
pub mod progress;
pub mod retag;
pub mod run;
pub mod shim;
pub mod sysroot;
pub mod targets;
pub mod test;
pub mod verify;
pub mod wheel;

pub fn run(cli: Cli) -> Result<ExitStatus> {
    let global = &cli.global;
    // The commands that fill pyx's cache: stopped cleanly on an interrupt, and first sweeping
    // what interrupted runs left (docs/wheel.md, "Interrupting a run").
    let fills_cache = || {
        crate::interrupt::install();
        crate::tempfiles::sweep_cache();
    };
    match cli.command {
        Command::Wheel(args) => {
            fills_cache();
            wheel::run(args, global)
        }
        Command::Verify(args) => verify::run(args),
        Command::Retag(args) => {
            crate::interrupt::install();
            retag::run(args)
        }
        Command::Inspect(args) => inspect::run(args),
        Command::Targets(args) => targets::run(args),
        Command::Sysroot(cmd) => {
            fills_cache();
            sysroot::run(cmd, global)
        }
        Command::Env(cmd) => {
            fills_cache();
            env::run(cmd, global)
        }
        // Not interrupt-handled: Ctrl-C belongs to the command it runs.
        Command::Run(args) => {
            crate::tempfiles::sweep_cache();
            run::run(args, global)
        }
        Command::Test(args) => test::run(args, global),
        Command::Index(args) => index::run(args),
        Command::Shim(args) => shim::run(args),
    }
}
