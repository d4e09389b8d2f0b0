//! `meshplan commit`: renders the chosen steps, gates them with the policies, and records
//! render and lock as one commit on the cluster's branch without touching the working tree
//! or index (unless `--worktree`).
//!
//! The change is planned from the lock of the commit it is built on — the branch tip when
//! the branch exists, else `HEAD` (where the branch starts) — not from the checkout's lock:
//! the branch holds the steps already committed, so `commit` run again moves on to the next
//! step while your checkout stays as it is. Spec, manifests and policies are read from the
//! working tree. A branch that does not build on `HEAD` any more (its steps were
//! squash-merged, or the base moved on) is rebuilt from `HEAD`, whose lock says what was
//! merged, instead of stacking on the stale tip ([`stale_branch`]).
//! A lock `meshplan adopt` wrote in the working tree, when the base commit has none, is where
//! the first step starts.

use super::check::load_policies;
use super::context::Context;
use super::diff::{prefixed, repo_relative};
use super::render::{Change, ChangeArgs, prepare, print_findings, stuck};
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
    let rebuild = stale_branch(&repo, planned_from.flatten())?;
    if let (Some(head), Some(tip)) = (rebuild, planned_from.flatten()) {
        eprintln!(
            "{branch} (at {}) is not built on HEAD (at {}): its steps were merged (squashed?) \
             or HEAD moved on, so it is rebuilt from HEAD, whose lock says what was merged",
            short(tip),
            short(head)
        );
    }
    let base_lock = match rebuild {
        Some(head) => lock_in_commit(
            &repo,
            "HEAD",
            &repo.find_commit(head).map_err(|source| GitError::Git {
                context: "reading HEAD".to_string(),
                source,
            })?,
            &out_rel,
            &ctx.spec.spec.metadata.name,
        )?,
        None => lock_at_base(&repo, &branch, &out_rel, &ctx.spec.spec.metadata.name)?,
    };
    // The lock `meshplan adopt` wrote and nobody committed is where the first step starts:
    // that step's commit carries it (as the step leaves it), so the hand-over is reviewed
    // in one pull request rather than a lock-only one.
    let base_lock = match base_lock {
        Some(lock) => Some(lock),
        None => ctx.lock.clone().filter(Lock::is_adoption),
    };
    let ctx = ctx.with_lock(base_lock);
    let policies = load_policies(&ctx, &args.policies)?;
    let Some(change) = prepare(&ctx, &args.change, Some(&policies))? else {
        if let Some(stuck) = stuck(&ctx, &policies)? {
            print_findings(&ctx, &policies, &stuck, args.force);
            return Ok(ExitCode::Findings);
        }
        emit(&format!(
            "nothing to commit: the plan is done on {branch}\n"
        ))?;
        return Ok(ExitCode::Ok);
    };
    print_findings(&ctx, &policies, &change, args.force);
    if change.denied() && !args.force {
        return Ok(ExitCode::Findings);
    }
    // The user's files as the commit's base holds them: that is what the commit edits.
    let base_id = rebuild
        .or(planned_from.flatten())
        .or_else(|| repo.head().ok().and_then(|h| h.target()));
    let base_tree = base_id.and_then(|id| repo.find_commit(id).ok()?.tree().ok());
    let read = |rel: &str| -> Option<Vec<u8>> {
        let entry = base_tree.as_ref()?.get_path(Path::new(rel)).ok()?;
        if entry.filemode() != i32::from(git2::FileMode::Blob)
            && entry.filemode() != i32::from(git2::FileMode::BlobExecutable)
        {
            return None;
        }
        Some(repo.find_blob(entry.id()).ok()?.content().to_vec())
    };
    let after = super::check::lock_after(&ctx, &change.applied);
    let retired = super::takeover::deleted(ctx.lock.as_ref(), &after, &change.tree);
    let mut retirement = super::retire::retire(&ctx, &retired, &read);
    retirement.manual.extend(super::takeover::helm_actions(
        ctx.lock.as_ref(),
        &after,
        &change.tree,
    ));
    for m in &retirement.manual {
        eprintln!("manual action: {m}");
    }
    let message = match &args.message {
        Some(m) => m.clone(),
        None => message(&ctx, &change, &retirement),
    };
    let mut tree = prefixed(&out_rel, &change.tree);
    let mut removed = Vec::new();
    for (rel, new) in &retirement.files {
        match new {
            Some(bytes) => {
                tree.insert(rel.clone(), bytes.clone());
            }
            None => removed.push(rel.clone()),
        }
    }
    let opts = CommitOptions {
        branch: branch.clone(),
        tree,
        removed,
        out_dir: out_rel,
        message,
        author,
        worktree: args.worktree,
        planned_from,
        base: rebuild,
    };
    match git::commit_tree(&root, &opts)? {
        CommitOutcome::Committed {
            commit, changes, ..
        } => {
            emit(&format!(
                "committed {} on {branch} as {} ({} file{} changed)\n",
                change.describe(&ctx),
                short(commit),
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

/// The first seven hex digits of a commit id, as Git shows it.
fn short(id: git2::Oid) -> String {
    id.to_string().chars().take(7).collect()
}

/// `HEAD`'s commit when the branch (at `tip`) must be rebuilt from it: `HEAD` is not an
/// ancestor of the tip, so the base moved on since the branch was built — after a squash
/// merge of its steps the tip is in no branch of the base, and stacking the next step on it
/// would conflict in `meshplan.lock` when merged. Rebuilt from `HEAD`, the branch holds
/// exactly the next step after what `HEAD`'s lock records as merged. `None` when the branch
/// does not exist, is `HEAD` itself, or already builds on it.
fn stale_branch(
    repo: &git2::Repository,
    tip: Option<git2::Oid>,
) -> Result<Option<git2::Oid>, Error> {
    let Some(tip) = tip else {
        return Ok(None);
    };
    let head = match repo.head() {
        Ok(head) => head.peel_to_commit().map_err(|source| GitError::Git {
            context: "reading HEAD".to_string(),
            source,
        })?,
        // An unborn HEAD: nothing to rebuild from.
        Err(_) => return Ok(None),
    };
    let head = head.id();
    if head == tip {
        return Ok(None);
    }
    let builds_on_head = repo
        .graph_descendant_of(tip, head)
        .map_err(|source| GitError::Git {
            context: format!("comparing {tip} with HEAD"),
            source,
        })?;
    Ok((!builds_on_head).then_some(head))
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
    lock_in_commit(repo, &name, &commit, out_rel, cluster)
}

/// The lock of `commit` (shown as `name`), `None` when it has none.
fn lock_in_commit(
    repo: &git2::Repository,
    name: &str,
    commit: &git2::Commit<'_>,
    out_rel: &str,
    cluster: &str,
) -> Result<Option<Lock>, Error> {
    let git = |context: String| move |source| GitError::Git { context, source };
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
fn message(ctx: &Context, change: &Change, retirement: &super::retire::Retirement) -> String {
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
    let manual: Vec<String> = steps
        .iter()
        .flat_map(|s| s.manual_workloads().cloned())
        .collect();
    // The actions of the commit's own reading of the user's files (its base), not those of
    // the checkout that `plan` lists.
    let actions = retirement.manual.clone();
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
        deleted: &retirement.deleted,
        taken_over: &retirement.taken_over,
        actions: &actions,
        from: ctx.plan.from.as_deref().unwrap_or("none"),
        to: &ctx.plan.to,
    })
}
