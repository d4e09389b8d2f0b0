//! Command-line wiring: clap types and one file per command. Commands orchestrate stages;
//! stages never parse arguments or print.

/// Runs the program with the process arguments and returns its exit code.
pub fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
