//! The small commands: `explain`, `policy test`, `schema`, `init` (its discovery is in
//! `init.rs`).

use super::{emit, write_atomic};
use crate::error::{Error, ExitCode};
use crate::policy::PolicySet;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Arguments of `meshplan explain`.
#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// The rule code, e.g. MP301.
    pub rule: String,
}

/// `meshplan policy …`.
#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Run the Rego unit tests (`test_*` rules in `*_test.rego`) in DIR, or the built-in ones.
    Test(PolicyTestArgs),
}

/// Arguments of `meshplan policy test`.
#[derive(Debug, Args)]
pub(crate) struct PolicyTestArgs {
    /// Directory of policies and their tests [default: the built-in policies].
    pub dir: Option<PathBuf>,
}

/// `meshplan debug …` (hidden).
#[derive(Debug, Subcommand)]
pub(crate) enum DebugCommand {
    /// Load the spec and the manifests and stop: the parse-only baseline of the benchmarks.
    Load(super::SpecArgs),
    /// Fuzz one loader with structured mutations of the examples and the corpus.
    Fuzz(super::fuzz::FuzzArgs),
}

/// Arguments of `meshplan init`: the spec is written into DIR from the manifests below it.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Directory to write meshplan.yaml into.
    #[arg(short = 'C', value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite an existing meshplan.yaml.
    #[arg(long)]
    pub force: bool,
}

/// Prints a rule's documentation.
pub(crate) fn explain(args: ExplainArgs) -> Result<ExitCode, Error> {
    let set = PolicySet::load(true, &[])?;
    let code = args.rule.to_ascii_uppercase();
    match set.explain(&code) {
        Some(text) => {
            emit(&text)?;
            Ok(ExitCode::Ok)
        }
        None => Err(Error::Usage(format!(
            "unknown rule {}: `meshplan explain` knows {}",
            args.rule,
            set.rules()
                .iter()
                .map(|r| r.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Runs Rego unit tests.
pub(crate) fn policy(cmd: PolicyCommand) -> Result<ExitCode, Error> {
    match cmd {
        PolicyCommand::Test(a) => {
            use crate::policy::testing::{TestTarget, run};
            let report = match &a.dir {
                Some(dir) => run(TestTarget::Dir(dir))?,
                None => run(TestTarget::Builtin)?,
            };
            emit(&report.to_text())?;
            Ok(if report.passed() {
                ExitCode::Ok
            } else {
                ExitCode::Findings
            })
        }
    }
}

/// Prints the spec's JSON Schema.
pub(crate) fn schema() -> Result<ExitCode, Error> {
    let mut s = serde_json::to_string_pretty(&crate::spec::json_schema())
        .map_err(|e| Error::Internal(e.to_string()))?;
    s.push('\n');
    emit(&s)?;
    Ok(ExitCode::Ok)
}

/// Writes a starter spec filled in from the repository in `-C DIR` (the namespaces and
/// manifest directories it finds), refusing to overwrite one unless `--force`.
pub(crate) fn init(args: InitArgs) -> Result<ExitCode, Error> {
    let path = args.dir.join("meshplan.yaml");
    if path.exists() && !args.force {
        return Err(Error::Usage(format!(
            "{} already exists; use --force to overwrite it",
            path.display()
        )));
    }
    let found = super::init::discover(&args.dir);
    write_atomic(&path, &super::init::spec_for(&found))?;
    let mut summary = format!("wrote {}\n", path.display());
    if found.globs.is_empty() {
        summary.push_str(
            "found no Kubernetes manifests: the spec keeps example namespaces and globs\n",
        );
    } else {
        summary.push_str(&format!(
            "found {} namespace(s) and {} manifest director{}\n",
            found.namespaces.len(),
            found.globs.len(),
            if found.globs.len() == 1 { "y" } else { "ies" }
        ));
    }
    summary.push_str("next: review it (the canary wave, the gateways, the Istio version), then run `meshplan check`\n");
    emit(&summary)?;
    Ok(ExitCode::Ok)
}

/// Runs a debug command.
pub(crate) fn debug(cmd: DebugCommand) -> Result<ExitCode, Error> {
    match cmd {
        DebugCommand::Load(args) => {
            let n = crate::pipeline::load_spec_and_inventory(&args.options())?
                .1
                .objects
                .len();
            emit(&format!("{n} objects\n"))?;
            Ok(ExitCode::Ok)
        }
        DebugCommand::Fuzz(args) => super::fuzz::run(args),
    }
}
