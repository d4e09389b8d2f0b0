//! The `meshplan` binary: parse arguments, run the library, map the result to an exit code.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    meshplan::cli::main()
}
