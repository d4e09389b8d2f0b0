//! `meshplan diff`: what `meshplan render` would change, as a Git-style unified diff (or a
//! `--stat` table), against the working tree or against a commit (`--against REF`, read from
//! Git's objects, nothing checked out). When the plan is done it compares what the current
//! lock renders, so it still tells whether the files match spec and lock. Outside a Git
//! repository the working-tree comparison reads the files directly; `--against` needs a
//! repository (exit 2).

use super::render::{ChangeArgs, print_findings};
use super::{SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::git::{self, FileDiff, GitError};
use crate::pipeline::Pipeline;
use crate::pipeline::change::drift::{compare_dir, display_path, output_dir, render_recorded};
use crate::pipeline::change::{charts, prepare, stuck};
use crate::pipeline::commit::{prefixed, repo_relative};
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
    let ctx = Pipeline::load(&args.spec.options())?;
    let extra: Vec<PathBuf> = args.change.charts.iter().cloned().collect();
    crate::pipeline::inputs::check_spec_output(
        &ctx.spec,
        &ctx.root,
        &crate::pipeline::inputs::inputs(&ctx, &extra),
    )?;
    let undeliverable = ctx
        .plan
        .problems
        .iter()
        .any(|p| p.kind == ProblemKind::DeliveryUnsupported);
    if undeliverable || (!ctx.plan.problems.is_empty() && ctx.plan.remaining().next().is_none()) {
        // A plan the planner could not make (no steps) is not a done plan, and one whose
        // steps the delivery cannot install (MP110) will not be rendered: say why, as
        // `render` would refuse it, rather than show a change nobody can write.
        let policies = crate::pipeline::judge::load_policies(&ctx, &[])?;
        if let Some(stuck) = stuck(&ctx, &policies)? {
            print_findings(&ctx, &policies, &stuck, false);
            return Ok(ExitCode::Findings);
        }
    }
    let (rendered, applied) = match prepare(&ctx, &args.change.options(), None)? {
        Some(change) => (change.tree, change.applied),
        None => match committed(&ctx, &args)? {
            Some(tree) => (tree, Vec::new()),
            None => return Ok(ExitCode::Ok),
        },
    };
    let retired = crate::pipeline::change::retire::retired(
        ctx.lock.as_ref(),
        &crate::pipeline::judge::lock_after(&ctx, &applied),
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
    let color = super::colour_on(std::io::stdout().is_terminal());
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
    ctx: &Pipeline,
    retired: &[crate::state::ObjectOrigin],
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    shown: impl Fn(&str) -> String,
) -> Vec<FileDiff> {
    if retired.is_empty() {
        return Vec::new();
    }
    let retirement = crate::pipeline::change::retire::retire(ctx, retired, read);
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
fn committed(ctx: &Pipeline, args: &DiffArgs) -> Result<Option<RenderedTree>, Error> {
    match &ctx.lock {
        Some(lock) => Ok(Some(render_recorded(
            ctx,
            lock,
            &charts(ctx, args.change.charts.as_deref())?,
        )?)),
        None => Ok(None),
    }
}

/// The working-tree diff without a repository: the output directory's files read directly,
/// paths shown relative to `-C DIR`.
fn direct_diff(
    ctx: &Pipeline,
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
