//! `pyx-shim ENV SCRIPT ARGS...`: the compiler and tool shims of a cross env, started by the
//! kernel as the interpreter of `<env>/bin/cc` and friends (`#!/path/to/pyx-shim ENV`). The same
//! code as `pyx shim --env ENV TOOL`, in a binary that holds only that: a configure step runs a
//! shim hundreds of times in a row, and this one starts in about half the time.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(pyx::commands::shim::interpreter_main(std::env::args_os()))
}
