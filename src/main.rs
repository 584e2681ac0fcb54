//! The `signaal` binary: see `signaal --help`.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    signaal::cli::main()
}
