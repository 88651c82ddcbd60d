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
    match cli.command {
        Command::Wheel(args) => wheel::run(args, global),
        Command::Verify(args) => verify::run(args),
        Command::Retag(args) => retag::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Targets(args) => targets::run(args),
        Command::Sysroot(cmd) => sysroot::run(cmd, global),
        Command::Env(cmd) => env::run(cmd, global),
        Command::Run(args) => run::run(args, global),
        Command::Test(args) => test::run(args, global),
        Command::Index(args) => index::run(args),
        Command::Shim(args) => shim::run(args),
    }
}
