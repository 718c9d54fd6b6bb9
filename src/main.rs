//! The `leoflow` binary: parse the command line, run the command, map errors to exit codes.
//!
//! Everything lives in the library crate; this file only owns the process exit code.

fn main() -> std::process::ExitCode {
    leoflow::cli::main()
}
