//! Command-line wiring: clap types and one file per command. Commands orchestrate the
//! stages; stages never parse arguments or print. [`main`] maps results to the exit codes
//! of DESIGN.md: 0 passed, 1 findings, 2 invalid input or usage, 3 internal error.

mod adopt;
mod check;
mod commit;
mod diff;
mod facts;
mod fuzz;
mod init;
mod misc;
mod plan;
mod render;
mod reports;

use crate::diagnostic::Severity;
use crate::error::{Error, ExitCode};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Plan and gate safe Istio upgrades as reviewable GitOps changes, offline.
#[derive(Debug, Parser)]
#[command(
    name = "meshplan",
    version,
    about,
    long_about = "meshplan turns a declarative mesh spec (meshplan.yaml) into the Git changes that \
upgrade Istio safely, one reviewable step per pull request, and blocks unsafe changes with Rego \
policies. It works offline, from files and Git alone.\n\n\
Start with `meshplan init`, then `meshplan check` in CI and `meshplan plan` to see the journey.",
    after_help = "Exit codes: 0 passed; 1 findings at or above --fail-on; 2 invalid input or usage; 3 internal error."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Judge every remaining step of the plan with the policies; exit 1 on findings.
    ///
    /// Loads meshplan.yaml and the manifests it names (plus -f), derives facts, plans the
    /// steps and evaluates the built-in and your Rego policies against each.
    Check(check::CheckArgs),
    /// Show the plan: hops, steps, which workloads restart where, what needs a person.
    Plan(plan::PlanArgs),
    /// Render the next step (or --step all|N) into spec.output, with the new meshplan.lock.
    ///
    /// Applies the steps to the lock, judges the change with the policies (deny findings
    /// refuse it, nothing is written, unless --force) and writes the files all at once.
    Render(render::RenderArgs),
    /// Show what `render` would change, against the working tree or a commit (--against).
    Diff(diff::DiffArgs),
    /// Commit the next step's render and lock on the cluster's branch (meshplan/<cluster>).
    ///
    /// Built in memory: your working tree and index are untouched unless --worktree. Deny
    /// findings refuse the commit (exit 1) unless --force; an unchanged render commits nothing.
    Commit(commit::CommitArgs),
    /// Show the derived facts: which revision injects each namespace and workload, and why.
    Facts(facts::FactsArgs),
    /// Print the documentation of a rule (e.g. `meshplan explain MP301`).
    Explain(misc::ExplainArgs),
    /// Policy tools.
    #[command(subcommand)]
    Policy(misc::PolicyCommand),
    /// Print the JSON Schema of meshplan.yaml (for editors and CI validation).
    Schema,
    /// Write a commented meshplan.yaml for the repository in -C DIR (its namespaces and manifests).
    Init(misc::InitArgs),
    /// Write the first meshplan.lock from the Istio installation found in the manifests.
    ///
    /// Takes over the running control plane (HelmRelease, Argo CD Application,
    /// IstioOperator, Sail Istio, or rendered istiod) so the first plan upgrades it instead of
    /// installing a second one beside it. Exit 2, nothing written, when a lock exists,
    /// nothing is found, or the candidates cannot be told apart (--revision NAME chooses).
    Adopt(adopt::AdoptArgs),
    /// Print shell completions (e.g. `meshplan completions bash > /etc/bash_completion.d/meshplan`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Internal tools for benchmarks and debugging.
    #[command(subcommand, hide = true)]
    Debug(misc::DebugCommand),
}

/// Options shared by the commands that load a spec.
#[derive(Debug, Clone, Args)]
pub(crate) struct SpecArgs {
    /// Run as if started in DIR (relative paths, including --spec and -f, resolve there).
    #[arg(short = 'C', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The spec file [default: DIR/meshplan.yaml].
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Extra manifests: a file, a directory, or - for stdin (`kustomize build | meshplan check -f -`).
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Replace the built-in Istio release catalogue with FILE (same format).
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// The date rules treat as today (YYYY-MM-DD), for reproducible end-of-life checks.
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
    /// Refuse manifest files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crate::pipeline::DEFAULT_MAX_MANIFEST_BYTES)]
    pub max_manifest_bytes: u64,
    /// The kustomize for `{kustomize}` and `{flux}` entries: a `kustomize` or `kubectl`
    /// binary [default: kustomize, else kubectl, from PATH].
    #[arg(long, value_name = "PATH")]
    pub kustomize: Option<PathBuf>,
    /// The helm for `{helm}` entries and Flux HelmReleases [default: helm from PATH].
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// Pulled charts for HelmReleases of remote repositories: DIR/<chart>-<version>/ or .tgz.
    #[arg(long, value_name = "DIR")]
    pub chart_dir: Option<PathBuf>,
}

impl SpecArgs {
    /// The pipeline's options these arguments give.
    pub fn options(&self) -> crate::pipeline::Options {
        crate::pipeline::Options {
            dir: self.dir.clone(),
            spec: self.spec.clone(),
            files: self.files.clone(),
            catalog: self.catalog.clone(),
            today: self.today.clone(),
            max_manifest_bytes: self.max_manifest_bytes,
            kustomize: self.kustomize.clone(),
            helm: self.helm.clone(),
            chart_dir: self.chart_dir.clone(),
        }
    }
}

/// Whether output to a stream should be coloured: only on a terminal, and never when
/// `NO_COLOR` is set (no-color.org).
pub(crate) fn colour_on(stream_is_terminal: bool) -> bool {
    stream_is_terminal && std::env::var_os("NO_COLOR").is_none()
}

/// `--fail-on` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    /// Exit 1 when any deny finding remains.
    Deny,
    /// Exit 1 on deny or warn findings.
    Warn,
}

impl FailOn {
    fn threshold(self) -> Severity {
        match self {
            FailOn::Deny => Severity::Deny,
            FailOn::Warn => Severity::Warn,
        }
    }
}

/// Runs the program with the process arguments and returns its exit code.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Input
            } else {
                ExitCode::Ok
            };
            let _ = e.print();
            return std::process::ExitCode::from(code as u8);
        }
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            eprintln!("error: {e}");
            code
        }
    };
    std::process::ExitCode::from(code as u8)
}

/// Runs one parsed command; findings are results, not errors.
pub fn run(cli: Cli) -> Result<ExitCode, Error> {
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Facts(a) => facts::run(a),
        Command::Render(a) => render::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Commit(a) => commit::run(a),
        Command::Explain(a) => misc::explain(a),
        Command::Policy(p) => misc::policy(p),
        Command::Schema => misc::schema(),
        Command::Init(a) => misc::init(a),
        Command::Adopt(a) => adopt::run(a),
        Command::Debug(d) => misc::debug(d),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "meshplan",
                &mut out,
            );
            emit(&String::from_utf8_lossy(&out))?;
            Ok(ExitCode::Ok)
        }
    }
}

/// Writes command output to stdout; a closed pipe (`meshplan … | head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Io {
            path: PathBuf::from("<stdout>"),
            source: e,
        }),
    }
}

/// Writes `text` to `path` atomically (temporary file in the same directory, then rename),
/// so a failed run never leaves a half-written report; a device or a pipe is written directly.
pub(crate) fn write_atomic(path: &std::path::Path, text: &str) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if reports::is_stream(path) {
        return reports::write_through(path, text);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    tmp.write_all(text.as_bytes()).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::FileTypeExt;

    /// A pipe given as `--output` is written through, not replaced by a renamed file: the
    /// way `--output /dev/stderr` reaches Argo CD. (Tested on a FIFO of our own, never on
    /// /dev: a regression must not be able to replace a device of the machine.)
    #[test]
    fn a_pipe_is_written_through_not_replaced() {
        // `check --output/--report` go through `write_reports`, `init` through `write_atomic`.
        type Writer = fn(&std::path::Path, &str);
        let writers: [(&str, Writer); 2] = [
            ("write_atomic", |p, t| {
                super::write_atomic(p, t).expect("written")
            }),
            ("write_reports", |p, t| {
                super::reports::write_reports(&[(p.to_path_buf(), t.to_string())]).expect("written")
            }),
        ];
        for (name, write) in writers {
            let dir = tempfile::tempdir().expect("temp dir");
            let fifo = dir.path().join("report.fifo");
            let made = std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .expect("mkfifo runs");
            assert!(made.success());
            let reader = {
                let fifo = fifo.clone();
                std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read the FIFO"))
            };
            write(&fifo, "passed: 0 deny\n");
            let still_fifo = std::fs::metadata(&fifo)
                .expect("exists")
                .file_type()
                .is_fifo();
            assert!(
                still_fifo,
                "{name}: the FIFO was replaced by a regular file"
            );
            assert_eq!(reader.join().expect("reader"), "passed: 0 deny\n");
        }
    }
}
