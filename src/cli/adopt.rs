//! `meshplan adopt`: writes the first `meshplan.lock` from the Istio installation found in
//! the manifests, so that the first plan upgrades what runs instead of installing a second
//! control plane beside it (docs/adopt.md). Refuses (exit 2, nothing written) when a lock
//! exists, when nothing is found, or when it cannot tell which installation runs.

use super::{SpecArgs, emit, write_atomic};
use crate::error::{Error, ExitCode};
use crate::facts::FactsBase;
use crate::facts::installations;
use crate::pipeline::load_spec_and_inventory;
use crate::plan::adopt;
use crate::state::lock_path;
use clap::Args;
use std::fmt::Write;

/// Arguments of `meshplan adopt`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  meshplan adopt                     # the one control plane found in the manifests
  meshplan adopt --revision 1-19-3   # when control planes of several revisions are found

Exit codes: 0 the lock was written; 2 a lock exists, nothing was found, or the candidates
cannot be told apart (the message says how to choose); nothing is written then.")]
pub(crate) struct AdoptArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Adopt the control plane of this revision (`default` for a revisionless install).
    #[arg(long, value_name = "NAME")]
    pub revision: Option<String>,
}

/// Runs `adopt`.
pub(crate) fn run(args: AdoptArgs) -> Result<ExitCode, Error> {
    let (spec, inventory) = load_spec_and_inventory(&args.spec.options())?;
    let path = lock_path(&spec.base_dir, &spec.spec.spec.output);
    if path.exists() {
        return Err(Error::Usage(format!(
            "{}: a lock exists already; adopt writes the first lock only (meshplan records \
             what it deploys from there on)",
            crate::pipeline::change::drift::display_path_in(&args.spec.dir, &path)
        )));
    }
    let base = FactsBase::new(&spec.spec, &inventory);
    let found = installations::find(&inventory);
    let managed: Vec<String> = spec
        .spec
        .spec
        .namespaces
        .iter()
        .map(|n| n.name.clone())
        .collect();
    let adoption = adopt::adopt(
        &spec.spec.metadata.name,
        &managed,
        &found,
        &base,
        args.revision.as_deref(),
    )
    .map_err(|e| Error::Usage(format!("adopt: {e}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    write_atomic(&path, &adoption.lock.to_yaml())?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wrote {}",
        crate::pipeline::change::drift::display_path_in(&args.spec.dir, &path)
    );
    out.push_str("adopted:\n");
    for line in &adoption.adopted {
        let _ = writeln!(out, "  {line}");
    }
    if !adoption.undecided.is_empty() {
        out.push_str("not decided:\n");
        for line in &adoption.undecided {
            let _ = writeln!(out, "  {line}");
        }
    }
    out.push_str("next: `meshplan plan` shows the upgrade from the adopted version\n");
    emit(&out)?;
    Ok(ExitCode::Ok)
}
