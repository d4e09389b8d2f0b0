//! `meshplan diff`: what `meshplan render` would change, as a Git-style unified diff (or a
//! `--stat` table), against the working tree or against a commit (`--against REF`, read from
//! Git's objects, nothing checked out). When the plan is done it compares what the current
//! lock renders, so it still tells whether the files match spec and lock. Outside a Git
//! repository the working-tree comparison reads the files directly; `--against` needs a
//! repository (exit 2).

use super::context::Context;
use super::drift::{compare_dir, display_path, output_dir, render_recorded};
use super::render::{ChangeArgs, charts, prepare, print_findings, stuck};
use super::{SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::git::{self, FileDiff, GitError};
use crate::plan::ProblemKind;
use crate::render::RenderedTree;
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Arguments of `meshplan diff`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  meshplan diff                                  # the next step vs your working tree
  meshplan diff --against origin/main --stat     # vs what the cluster runs
  meshplan diff --exit-code                      # in scripts: exit 1 when a render would change files

Exit codes: 0 no differences (or without --exit-code); 1 differences with --exit-code;
2 invalid input or usage; 3 internal error.")]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// Compare with the files of this commit (`origin/main`, `HEAD`, a sha) instead of the
    /// working tree.
    #[arg(long, value_name = "REF")]
    pub against: Option<String>,
    /// Exit 1 when there are differences.
    #[arg(long)]
    pub exit_code: bool,
    /// Print a `git diff --stat` table instead of the diff.
    #[arg(long)]
    pub stat: bool,
}

/// Runs `diff`.
pub(crate) fn run(args: DiffArgs) -> Result<ExitCode, Error> {
    let ctx = Context::load(&args.spec)?;
    let extra: Vec<PathBuf> = args.change.charts.iter().cloned().collect();
    super::guard::check_spec_output(&ctx.spec, &ctx.root, &super::guard::inputs(&ctx, &extra))?;
    let undeliverable = ctx
        .plan
        .problems
        .iter()
        .any(|p| p.kind == ProblemKind::DeliveryUnsupported);
    if undeliverable || (!ctx.plan.problems.is_empty() && ctx.plan.remaining().next().is_none()) {
        // A plan the planner could not make (no steps) is not a done plan, and one whose
        // steps the delivery cannot install (MP110) will not be rendered: say why, as
        // `render` would refuse it, rather than show a change nobody can write.
        let policies = super::check::load_policies(&ctx, &[])?;
        if let Some(stuck) = stuck(&ctx, &policies)? {
            print_findings(&ctx, &policies, &stuck, false);
            return Ok(ExitCode::Findings);
        }
    }
    let (rendered, applied) = match prepare(&ctx, &args.change, None)? {
        Some(change) => (change.tree, change.applied),
        None => match committed(&ctx, &args)? {
            Some(tree) => (tree, Vec::new()),
            None => return Ok(ExitCode::Ok),
        },
    };
    let retired = super::takeover::deleted(
        ctx.lock.as_ref(),
        &super::check::lock_after(&ctx, &applied),
        &rendered,
    );
    let out = output_dir(&ctx);
    let diffs = match git2::Repository::discover(&ctx.dir) {
        Ok(repo) => {
            let Some(root) = repo.workdir() else {
                return Err(GitError::BareRepository {
                    path: repo.path().to_path_buf(),
                }
                .into());
            };
            let out_rel = repo_relative(root, &ctx)?;
            let tree = prefixed(&out_rel, &rendered);
            let mut diffs = match &args.against {
                Some(reference) => git::diff_ref(root, reference, &out_rel, &tree)?,
                None => git::diff_worktree(root, &out_rel, &tree)?,
            };
            if !retired.is_empty() {
                // The user's files as the compared side holds them: what `commit` (against
                // a reference) or `render` (the working tree) would edit.
                let base = match &args.against {
                    Some(reference) => repo
                        .revparse_single(reference)
                        .and_then(|o| o.peel_to_tree())
                        .ok(),
                    None => None,
                };
                let read = |rel: &str| -> Option<Vec<u8>> {
                    match &base {
                        Some(t) => {
                            let entry = t.get_path(Path::new(rel)).ok()?;
                            Some(repo.find_blob(entry.id()).ok()?.content().to_vec())
                        }
                        None => std::fs::read(ctx.root.join(rel)).ok(),
                    }
                };
                diffs.extend(retirement_diffs(&ctx, &retired, &read, |p| p.to_string()));
                diffs.sort_by(|a, b| a.path.cmp(&b.path));
            }
            diffs
        }
        Err(_) if args.against.is_none() => {
            let mut diffs = direct_diff(&ctx, &out, &rendered)?;
            let read = |rel: &str| std::fs::read(ctx.root.join(rel)).ok();
            diffs.extend(retirement_diffs(&ctx, &retired, &read, |p| {
                display_path(&ctx, &ctx.root.join(p))
            }));
            diffs.sort_by(|a, b| a.path.cmp(&b.path));
            diffs
        }
        Err(_) => {
            return Err(GitError::NotARepository {
                path: ctx.dir.clone(),
            }
            .into());
        }
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let text = if args.stat {
        git::render_stat(&diffs)
    } else {
        git::render_unified(&diffs, color)
    };
    emit(&text)?;
    Ok(if args.exit_code && !diffs.is_empty() {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}

/// The changes retiring `retired` makes to the user's files as `read` gives them (paths
/// shown by `shown`); prints the manual actions on stderr.
fn retirement_diffs(
    ctx: &Context,
    retired: &[crate::state::ObjectOrigin],
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    shown: impl Fn(&str) -> String,
) -> Vec<FileDiff> {
    if retired.is_empty() {
        return Vec::new();
    }
    let retirement = super::retire::retire(ctx, retired, read);
    for m in &retirement.manual {
        eprintln!("manual action: {m}");
    }
    retirement
        .files
        .into_iter()
        .map(|(path, new)| FileDiff {
            old: read(&path),
            path: shown(&path),
            new,
        })
        .collect()
}

/// What the committed lock renders, its own text unchanged (no step rewrites it), when no
/// step is left; `None` without a lock: nothing was ever rendered, nothing would be.
fn committed(ctx: &Context, args: &DiffArgs) -> Result<Option<RenderedTree>, Error> {
    match &ctx.lock {
        Some(lock) => Ok(Some(render_recorded(
            ctx,
            lock,
            &charts(ctx, args.change.charts.as_deref())?,
        )?)),
        None => Ok(None),
    }
}

/// The output directory (`spec.output` beside the spec file) relative to the repository root
/// `root`, `/`-separated, as Git names it. Only the spec's directory is resolved (symlinks,
/// `..`); `spec.output` is joined as written, so a symlinked or escaping output directory
/// reaches the Git stage as such and is refused there, never silently followed.
pub(crate) fn repo_relative(root: &Path, ctx: &Context) -> Result<String, Error> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Io { path: p, source }
    };
    let canonical_root = root.canonicalize().map_err(io(root))?;
    let base = &ctx.spec.base_dir;
    let base_dir = if base.as_os_str().is_empty() {
        Path::new(".")
    } else {
        base.as_path()
    };
    let spec_dir = base_dir.canonicalize().map_err(io(base_dir))?;
    let rel = spec_dir.strip_prefix(&canonical_root).map_err(|_| {
        Error::Usage(format!(
            "the spec's directory {} is outside the repository at {}",
            spec_dir.display(),
            canonical_root.display()
        ))
    })?;
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.extend(
        ctx.spec
            .spec
            .spec
            .output
            .split(['/', '\\'])
            .filter(|p| !p.is_empty() && *p != ".")
            .map(str::to_string),
    );
    Ok(parts.join("/"))
}

/// The rendered tree with every path under `out_rel`, as [`git::Tree`] wants it.
pub(crate) fn prefixed(out_rel: &str, tree: &crate::render::RenderedTree) -> git::Tree {
    tree.iter()
        .map(|(rel, text)| {
            let path = if out_rel.is_empty() {
                rel.clone()
            } else {
                format!("{out_rel}/{rel}")
            };
            (path, text.clone().into_bytes())
        })
        .collect()
}

/// The working-tree diff without a repository: the output directory's files read directly,
/// paths shown relative to `-C DIR`.
fn direct_diff(
    ctx: &Context,
    out: &Path,
    tree: &crate::render::RenderedTree,
) -> Result<Vec<FileDiff>, Error> {
    let prefix = display_path(ctx, out);
    let prefix = prefix.trim_end_matches('/');
    let mut diffs = Vec::new();
    for rel in compare_dir(out, tree)?.into_keys() {
        let on_disk: PathBuf = out.join(&rel);
        let old = match std::fs::symlink_metadata(&on_disk) {
            Ok(meta) if meta.is_file() => {
                Some(std::fs::read(&on_disk).map_err(|source| Error::Io {
                    path: on_disk.clone(),
                    source,
                })?)
            }
            Ok(_) => Some(Vec::new()),
            Err(_) => None,
        };
        diffs.push(FileDiff {
            path: format!("{prefix}/{rel}"),
            old,
            new: tree.get(&rel).map(|t| t.clone().into_bytes()),
        });
    }
    Ok(diffs)
}
