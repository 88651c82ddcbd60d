fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(pyx::run(std::env::args_os()))
}
