//! pyx cross-builds Python wheels: requirements → target profile → cross env → PEP 517 build →
//! audit → retag → wheelhouse (docs/architecture.md maps each stage to its module). `run` is the
//! whole program; `main.rs` calls it.

use std::ffi::OsString;

use clap::Parser;

pub mod audit;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod crossenv;
pub mod deploy;
pub mod digest;
pub mod env_vars;
pub mod files;
pub mod interrupt;
pub mod pep517;
pub mod pipeline;
pub mod platform;
pub mod printer;
pub mod python;
pub mod requirements;
pub mod resolve;
pub mod rust;
pub mod sysroot;
pub mod tempfiles;
pub mod wheel;
pub mod wheelhouse;

/// How a command ended: 0 success, 1 it ran and found problems (or the child it ran failed with
/// that code), 2 usage or I/O error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    Findings,
    Error,
    /// A child process's exit code, passed through.
    Code(u8),
}

impl From<ExitStatus> for u8 {
    fn from(s: ExitStatus) -> u8 {
        match s {
            ExitStatus::Success => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
            ExitStatus::Code(c) => c,
        }
    }
}

/// Parse the command line, run the command, render any error; returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> u8 {
    let args: Vec<OsString> = args.into_iter().collect();
    // `cc`, `c++`, ... in a cross env may be links to pyx itself: dispatch on argv[0].
    if let Some(code) = commands::shim::dispatch_argv0(&args) {
        return code;
    }
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    init_logging(&cli.global);
    let result = commands::run(cli);
    crossenv::bytecode::wait_all();
    interrupt::wait_if_interrupted();
    match result {
        Ok(status) => status.into(),
        Err(err) => {
            eprint!("{}", printer::render_error(&err));
            2
        }
    }
}

fn init_logging(global: &cli::GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env(env_vars::PYX_LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("pyx={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}
