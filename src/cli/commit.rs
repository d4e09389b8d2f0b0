//! `meshplan commit`: renders the chosen steps, gates them with the policies, and records
//! render and lock as one commit on the cluster's branch without touching the working tree
//! or index (unless `--worktree`).
//!
//! The change is planned from the lock of the commit it is built on — the branch tip when
//! the branch exists, else `HEAD` (where the branch starts) — not from the checkout's lock:
//! the branch holds the steps already committed, so `commit` run again moves on to the next
//! step while your checkout stays as it is. Spec, manifests and policies are read from the
//! working tree.

use super::check::load_policies;
use super::context::Context;
use super::diff::{prefixed, repo_relative};
use super::render::{Change, ChangeArgs, prepare, print_findings};
use super::{SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::git::{self, CommitOptions, CommitOutcome, GitError, Identity, MessageInput};
use crate::plan::StepKind;
use crate::state::{LOCK_FILE, Lock, StateError};
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `meshplan commit`.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:
  meshplan commit                                 # the next step on meshplan/<cluster>
  meshplan commit --branch upgrade/prod --author \"CI <ci@example.com>\"
  meshplan commit --step all --force              # a new cluster, findings overridden

Exit codes: 0 committed (or nothing to commit); 1 deny findings, nothing written (--force
commits anyway); 2 invalid input, usage or repository state; 3 internal error.")]
pub(crate) struct CommitArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    /// The branch to commit on [default: meshplan/<cluster>]; created from HEAD if missing.
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// The commit message [default: subject, body and Meshplan-* trailers for the step].
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// The author, as "Name <email>" [default: git config user.name / user.email].
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub author: Option<String>,
    /// Commit even when deny findings remain (they are still printed).
    #[arg(long)]
    pub force: bool,
    /// Also update the working tree and index (the branch must be checked out).
    #[arg(long)]
    pub worktree: bool,
    /// Add the Rego policies in DIR (repeatable; `spec.policies` adds more).
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<PathBuf>,
}

/// Runs `commit`.
pub(crate) fn run(args: CommitArgs) -> Result<ExitCode, Error> {
    let author = match &args.author {
        Some(text) => Some(Identity::parse(text).ok_or_else(|| {
            Error::Usage(format!("--author {text:?}: expected \"Name <email>\""))
        })?),
        None => None,
    };
    let ctx = Context::load(&args.spec)?;
    let mut extra = args.policies.clone();
    extra.extend(args.change.charts.clone());
    super::guard::check_spec_output(&ctx.spec, &ctx.root, &super::guard::inputs(&ctx, &extra))?;
    let repo = git2::Repository::discover(&ctx.dir).map_err(|_| GitError::NotARepository {
        path: ctx.dir.clone(),
    })?;
    let Some(root) = repo.workdir().map(Path::to_path_buf) else {
        return Err(GitError::BareRepository {
            path: repo.path().to_path_buf(),
        }
        .into());
    };
    let out_rel = repo_relative(&root, &ctx)?;
    let branch = args
        .branch
        .clone()
        .unwrap_or_else(|| format!("meshplan/{}", ctx.spec.spec.metadata.name));
    // The tip planned from: if another `meshplan commit` moves the branch before this one
    // writes, this one fails rather than commit a step checked against a stale lock.
    let planned_from = match repo.find_branch(&branch, git2::BranchType::Local) {
        Ok(b) => Some(b.get().target()),
        Err(_) => Some(None),
    };
    let base_lock = lock_at_base(&repo, &branch, &out_rel, &ctx.spec.spec.metadata.name)?;
    let ctx = ctx.with_lock(base_lock);
    let policies = load_policies(&ctx, &args.policies)?;
    let Some(change) = prepare(&ctx, &args.change, Some(&policies))? else {
        emit(&format!(
            "nothing to commit: the plan is done on {branch}\n"
        ))?;
        return Ok(ExitCode::Ok);
    };
    print_findings(&ctx, &policies, &change, args.force);
    if change.denied() && !args.force {
        return Ok(ExitCode::Findings);
    }
    let message = match &args.message {
        Some(m) => m.clone(),
        None => message(&ctx, &change),
    };
    let opts = CommitOptions {
        branch: branch.clone(),
        tree: prefixed(&out_rel, &change.tree),
        out_dir: out_rel,
        message,
        author,
        worktree: args.worktree,
        planned_from,
    };
    match git::commit_tree(&root, &opts)? {
        CommitOutcome::Committed {
            commit, changes, ..
        } => {
            let short: String = commit.to_string().chars().take(7).collect();
            emit(&format!(
                "committed {} on {branch} as {short} ({} file{} changed)\n",
                change.describe(&ctx),
                changes.len(),
                if changes.len() == 1 { "" } else { "s" }
            ))?;
        }
        CommitOutcome::Unchanged { .. } => {
            emit(&format!(
                "nothing to commit: {branch} already has this render\n"
            ))?;
        }
    }
    Ok(ExitCode::Ok)
}

/// The lock in the commit the new one is built on: the branch tip, else `HEAD` (none in an
/// empty repository, or when that commit has no lock yet).
fn lock_at_base(
    repo: &git2::Repository,
    branch: &str,
    out_rel: &str,
    cluster: &str,
) -> Result<Option<Lock>, Error> {
    let git = |context: String| move |source| GitError::Git { context, source };
    let (name, commit) = match repo.find_branch(branch, git2::BranchType::Local) {
        Ok(b) => (
            branch.to_string(),
            b.get()
                .peel_to_commit()
                .map_err(git(format!("reading the tip of {branch}")))?,
        ),
        Err(_) => match repo.head() {
            Ok(head) => (
                "HEAD".to_string(),
                head.peel_to_commit()
                    .map_err(git("reading HEAD".to_string()))?,
            ),
            // An unborn HEAD: nothing committed, nothing deployed.
            Err(_) => return Ok(None),
        },
    };
    let tree = commit
        .tree()
        .map_err(git(format!("reading the tree of {name}")))?;
    let path = if out_rel.is_empty() {
        LOCK_FILE.to_string()
    } else {
        format!("{out_rel}/{LOCK_FILE}")
    };
    let Ok(entry) = tree.get_path(Path::new(&path)) else {
        return Ok(None);
    };
    let shown = PathBuf::from(format!("{name}:{path}"));
    let blob = entry
        .to_object(repo)
        .and_then(|o| o.peel_to_blob())
        .map_err(|e| StateError {
            path: shown.clone(),
            line: 0,
            message: format!("not a file: {}", e.message()),
        })?;
    Ok(Some(Lock::parse_bytes(&shown, blob.content(), cluster)?))
}

/// The commit message of the change: `git::commit_message` for its step; a change of
/// several steps (`--step all|N`) is named by its first and last step, with the namespaces
/// and workloads of all of them.
fn message(ctx: &Context, change: &Change) -> String {
    let steps: Vec<&crate::plan::Step> = change
        .applied
        .iter()
        .filter_map(|&i| ctx.plan.steps.get(i))
        .collect();
    let name = match (steps.first(), steps.last()) {
        (Some(a), Some(b)) if steps.len() > 1 => format!("{} .. {}", a.name, b.name),
        (Some(a), _) => a.name.clone(),
        _ => String::new(),
    };
    let collect = |f: fn(&crate::plan::Step) -> &Vec<String>| -> Vec<String> {
        steps.iter().flat_map(|s| f(s).iter().cloned()).collect()
    };
    // Only wave and tag steps move namespaces; a restart step names the namespaces whose
    // workloads it restarts (listed as such), a release step those meshplan lets go.
    let of_kind = |kinds: &[StepKind]| -> Vec<String> {
        steps
            .iter()
            .filter(|s| kinds.contains(&s.kind))
            .flat_map(|s| s.namespaces.iter().cloned())
            .collect()
    };
    let namespaces = of_kind(&[StepKind::Wave, StepKind::Tag]);
    let released = of_kind(&[StepKind::Release]);
    let restarted = collect(|s| &s.restarts);
    let manual = collect(|s| &s.manual);
    let hop = steps.last().map_or("", |s| s.hop.as_str());
    git::commit_message(&MessageInput {
        cluster: &ctx.spec.spec.metadata.name,
        step: &name,
        n: change.applied.last().map_or(0, |i| i + 1),
        total: ctx.plan.steps.len(),
        hop,
        namespaces: &namespaces,
        released: &released,
        restarted: &restarted,
        manual: &manual,
        from: ctx.plan.from.as_deref().unwrap_or("none"),
        to: &ctx.plan.to,
    })
}
