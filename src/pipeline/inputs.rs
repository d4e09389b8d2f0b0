//! The commands' side of [`crate::guard`]: the inputs of a run, and the checks of
//! `spec.output`, `--out` and report files turned into exit-2 errors that say where.

use crate::error::Error;
use crate::inventory::Inventory;
use crate::pipeline::Pipeline;
use crate::spec::LoadedSpec;
use crate::spec::located::Seg;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every file or directory a run reads as input: those of [`base_inputs`] and `extra`
/// (`--policies`, `--charts`, relative to `-C DIR`). Stdin is not a path and is left out.
pub fn inputs(ctx: &Pipeline, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = ctx.inputs.clone();
    out.extend(extra.iter().map(|p| ctx.dir.join(p)));
    out
}

/// The inputs every command reads: the spec, each manifest file, the spec's policy
/// directories and `--catalog` (see [`inputs`]).
pub fn base_inputs(
    dir: &Path,
    spec: &LoadedSpec,
    inventory: &Inventory,
    catalog: Option<&Path>,
) -> Vec<PathBuf> {
    let mut out = BTreeSet::new();
    out.insert(spec.path.clone());
    for obj in &inventory.objects {
        if obj.file != "-" {
            out.insert(dir.join(&obj.file));
        }
    }
    for d in &spec.spec.spec.policies {
        out.insert(spec.base_dir.join(d));
    }
    if let Some(c) = catalog {
        out.insert(dir.join(c));
    }
    out.into_iter().collect()
}

/// Checks `spec.output` against `inputs` (see [`crate::guard::check_output_dir`]); a
/// violation is exit 2 at the `spec.output` line of the spec.
pub fn check_spec_output(
    spec: &LoadedSpec,
    root: &Path,
    inputs: &[PathBuf],
) -> Result<PathBuf, Error> {
    let output = &spec.spec.spec.output;
    let base = canonical(&spec.base_dir)?;
    crate::guard::check_output_dir(root, &base, output, inputs).map_err(|reason| {
        let pos = spec
            .locations
            .key_pos(&[Seg::Key("spec"), Seg::Key("output")]);
        Error::Spec(crate::spec::SpecError {
            path: spec.path.clone(),
            line: pos.line,
            column: pos.column,
            message: format!("spec.output `{output}` {reason}"),
        })
    })
}

/// Checks `--out DIR` (relative to `-C DIR`) like `spec.output`; exit 2 naming the flag.
pub fn check_out_arg(ctx: &Pipeline, out: &Path, inputs: &[PathBuf]) -> Result<PathBuf, Error> {
    let raw = out.to_string_lossy();
    let base = canonical(&ctx.dir)?;
    crate::guard::check_output_dir(&ctx.root, &base, &raw, inputs)
        .map_err(|reason| Error::Usage(format!("--out {raw}: {reason}")))
}

/// Checks a report file (`--output FILE`, `--report FORMAT=FILE`), relative to `-C DIR`:
/// anywhere but into `.git` or over an input (the lock included). `flag` names the option
/// in the exit-2 message.
pub fn check_report_path(
    ctx: &Pipeline,
    flag: &str,
    path: &Path,
    inputs: &[PathBuf],
) -> Result<(), Error> {
    let mut inputs = inputs.to_vec();
    inputs.push(crate::pipeline::change::drift::output_dir(ctx).join(crate::state::LOCK_FILE));
    crate::guard::check_report_path(&ctx.dir.join(path), ctx.git_dir.as_deref(), &inputs)
        .map_err(|reason| Error::Usage(format!("{flag} {}: {reason}", path.display())))
}

/// `path` canonicalised (`""` is the current directory), as an [`Error::Io`] on failure.
pub fn canonical(path: &Path) -> Result<PathBuf, Error> {
    let p = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    p.canonicalize().map_err(|source| Error::Io {
        path: p.to_path_buf(),
        source,
    })
}
