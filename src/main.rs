//! The `meshplan` binary: parse arguments, run the library, map the result to an exit code.

fn main() -> std::process::ExitCode {
    meshplan::cli::main()
}
