//! Committing a change: render the chosen steps, gate them with the policies, and record
//! render and lock as one commit on the cluster's branch without touching the working tree
//! or index (unless asked).
//!
//! The change is planned from the lock of the commit it is built on — the branch tip when
//! the branch exists, else `HEAD` (where the branch starts) — not from the checkout's lock:
//! the branch holds the steps already committed, so committing again moves on to the next
//! step while the checkout stays as it is. Spec, manifests and policies are read from the
//! working tree. A branch that does not build on `HEAD` any more (its steps were
//! squash-merged, or the base moved on) is rebuilt from `HEAD`, whose lock says what was
//! merged, instead of stacking on the stale tip ([`stale_branch`]).
//! A lock `meshplan adopt` wrote in the working tree, when the base commit has none, is where
//! the first step starts.

use crate::error::Error;
use crate::git::{self, CommitOptions, CommitOutcome, GitError, Identity, MessageInput};
use crate::pipeline::change::{Change, ChangeOptions, prepare, stuck};
use crate::pipeline::judge::load_policies;
use crate::pipeline::{Event, Pipeline};
use crate::plan::StepKind;
use crate::state::{LOCK_FILE, Lock, StateError};
use std::path::{Path, PathBuf};

/// What to commit, and how.
#[derive(Debug, Clone, Default)]
pub struct CommitRequest {
    /// Which steps, rendered with which charts.
    pub change: ChangeOptions,
    /// The branch [default: `meshplan/<cluster>`]; created from `HEAD` if missing.
    pub branch: Option<String>,
    /// The commit message [default: subject, body and `Meshplan-*` trailers for the step].
    pub message: Option<String>,
    /// The author [default: Git's configured identity].
    pub author: Option<Identity>,
    /// Commit even when deny findings remain.
    pub force: bool,
    /// Also update the working tree and index (the branch must be checked out).
    pub worktree: bool,
    /// Extra Rego policy directories (relative to `-C DIR`); `spec.policies` adds more.
    pub policies: Vec<PathBuf>,
}

/// How a commit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// Deny findings remain (or the planner found no way on) and nothing was written.
    Refused,
    /// No step is left on the branch.
    PlanDone {
        /// The branch.
        branch: String,
    },
    /// A new commit on the branch.
    Commit {
        /// The branch.
        branch: String,
        /// The commit.
        id: git2::Oid,
        /// The change, e.g. `step "wave main" (2/4)`.
        description: String,
        /// How many files it changes.
        files: usize,
    },
    /// The branch already holds this render.
    Unchanged {
        /// The branch.
        branch: String,
    },
}

/// The commit a new one builds on, and the lock planned from.
struct Base {
    repo: git2::Repository,
    /// The work tree.
    root: PathBuf,
    /// `spec.output` relative to `root`, as Git names it.
    out_rel: String,
    branch: String,
    /// The branch tip planned from (`Some(None)`: the branch does not exist yet); if
    /// another commit moves the branch before this one writes, this one fails rather than
    /// commit a step checked against a stale lock.
    planned_from: Option<Option<git2::Oid>>,
    /// `HEAD`, when the branch is rebuilt from it ([`stale_branch`]).
    rebuild: Option<git2::Oid>,
    lock: Option<Lock>,
}

impl Pipeline {
    /// Commits the change `request` asks for on its branch (see the module docs). Consumes
    /// the pipeline: it is re-planned from the base commit's lock.
    pub fn commit(
        self,
        request: &CommitRequest,
        events: &mut dyn FnMut(Event<'_>),
    ) -> Result<Committed, Error> {
        let mut extra = request.policies.clone();
        extra.extend(request.change.charts.clone());
        crate::pipeline::inputs::check_spec_output(
            &self.spec,
            &self.root,
            &crate::pipeline::inputs::inputs(&self, &extra),
        )?;
        let mut base = self.base(request, events)?;
        let ctx = self.with_lock(base.lock.take());
        let policies = load_policies(&ctx, &request.policies)?;
        let Some(change) = prepare(&ctx, &request.change, Some(&policies))? else {
            if let Some(stuck) = stuck(&ctx, &policies)? {
                events(Event::Findings {
                    pipeline: &ctx,
                    policies: &policies,
                    change: &stuck,
                    force: request.force,
                });
                return Ok(Committed::Refused);
            }
            return Ok(Committed::PlanDone {
                branch: base.branch,
            });
        };
        events(Event::Findings {
            pipeline: &ctx,
            policies: &policies,
            change: &change,
            force: request.force,
        });
        if change.denied() && !request.force {
            return Ok(Committed::Refused);
        }
        let (tree, removed, message) = ctx.commit_contents(&base, &change, request, events);
        let opts = CommitOptions {
            branch: base.branch.clone(),
            tree,
            removed,
            out_dir: base.out_rel.clone(),
            message,
            author: request.author.clone(),
            worktree: request.worktree,
            planned_from: base.planned_from,
            base: base.rebuild,
        };
        Ok(match git::commit_tree(&base.root, &opts)? {
            CommitOutcome::Committed {
                commit, changes, ..
            } => Committed::Commit {
                description: change.describe(&ctx),
                branch: base.branch,
                id: commit,
                files: changes.len(),
            },
            CommitOutcome::Unchanged { .. } => Committed::Unchanged {
                branch: base.branch,
            },
        })
    }

    /// `meshplan/<cluster>`, or `meshplan/<cluster>/<mesh>` for a mesh of several: each
    /// mesh's steps are their own pull requests.
    pub fn default_branch(&self) -> String {
        let name = &self.spec.spec.metadata.name;
        match &self.tenancy {
            Some(t) => format!("meshplan/{}/{name}", t.cluster),
            None => format!("meshplan/{name}"),
        }
    }

    /// The repository, the branch, the commit to build on and its lock.
    fn base(
        &self,
        request: &CommitRequest,
        events: &mut dyn FnMut(Event<'_>),
    ) -> Result<Base, Error> {
        let repo = git2::Repository::discover(&self.dir).map_err(|_| GitError::NotARepository {
            path: self.dir.clone(),
        })?;
        let Some(root) = repo.workdir().map(Path::to_path_buf) else {
            return Err(GitError::BareRepository {
                path: repo.path().to_path_buf(),
            }
            .into());
        };
        let out_rel = repo_relative(&root, self)?;
        let cluster = &self.spec.spec.metadata.name;
        let branch = request
            .branch
            .clone()
            .unwrap_or_else(|| self.default_branch());
        let planned_from = match repo.find_branch(&branch, git2::BranchType::Local) {
            Ok(b) => Some(b.get().target()),
            Err(_) => Some(None),
        };
        let rebuild = stale_branch(&repo, planned_from.flatten())?;
        if let (Some(head), Some(tip)) = (rebuild, planned_from.flatten()) {
            events(Event::Rebuilt {
                branch: &branch,
                tip,
                head,
            });
        }
        let lock = match rebuild {
            Some(head) => lock_in_commit(
                &repo,
                "HEAD",
                &repo.find_commit(head).map_err(|source| GitError::Git {
                    context: "reading HEAD".to_string(),
                    source,
                })?,
                &out_rel,
                cluster,
            )?,
            None => lock_at_base(&repo, &branch, &out_rel, cluster)?,
        };
        // The lock `meshplan adopt` wrote and nobody committed is where the first step starts:
        // that step's commit carries it (as the step leaves it), so the hand-over is reviewed
        // in one pull request rather than a lock-only one.
        let lock = lock.or_else(|| self.lock.clone().filter(Lock::is_adoption));
        Ok(Base {
            repo,
            root,
            out_rel,
            branch,
            planned_from,
            rebuild,
            lock,
        })
    }

    /// The files the commit writes and removes, and its message: the render, plus the user's
    /// files an adopted install's retirement edits, read as the base commit holds them.
    fn commit_contents(
        &self,
        base: &Base,
        change: &Change,
        request: &CommitRequest,
        events: &mut dyn FnMut(Event<'_>),
    ) -> (git::Tree, Vec<String>, String) {
        let repo = &base.repo;
        let base_id = base
            .rebuild
            .or(base.planned_from.flatten())
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
        let after = crate::pipeline::judge::lock_after(self, &change.applied);
        let retired =
            crate::pipeline::change::takeover::deleted(self.lock.as_ref(), &after, &change.tree);
        let mut retirement = crate::pipeline::change::retire::retire(self, &retired, &read);
        retirement
            .manual
            .extend(crate::pipeline::change::takeover::helm_actions(
                self.lock.as_ref(),
                &after,
                &change.tree,
            ));
        for m in &retirement.manual {
            events(Event::ManualAction(m));
        }
        let message = match &request.message {
            Some(m) => m.clone(),
            None => message(self, change, &retirement),
        };
        let mut tree = prefixed(&base.out_rel, &change.tree);
        let mut removed = Vec::new();
        for (rel, new) in &retirement.files {
            match new {
                Some(bytes) => {
                    tree.insert(rel.clone(), bytes.clone());
                }
                None => removed.push(rel.clone()),
            }
        }
        (tree, removed, message)
    }
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
fn message(
    ctx: &Pipeline,
    change: &Change,
    retirement: &crate::pipeline::change::retire::Retirement,
) -> String {
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
    let operator_deletes: Vec<String> = crate::pipeline::judge::lock_after(ctx, &change.applied)
        .operator_deletes
        .iter()
        .map(|d| {
            format!(
                "{} (Istio {}): {} deletes it once unused, after {}s",
                d.revision, d.version, d.owner, d.grace_period_seconds
            )
        })
        .collect();
    // A mesh of several is named `<cluster>/<mesh>`, as its branch is.
    let cluster = match &ctx.tenancy {
        Some(t) => format!("{}/{}", t.cluster, ctx.spec.spec.metadata.name),
        None => ctx.spec.spec.metadata.name.clone(),
    };
    git::commit_message(&MessageInput {
        cluster: &cluster,
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
        operator_deletes: &operator_deletes,
        from: ctx.plan.from.as_deref().unwrap_or("none"),
        to: &ctx.plan.to,
    })
}

/// The output directory (`spec.output` beside the spec file) relative to the repository root
/// `root`, `/`-separated, as Git names it. Only the spec's directory is resolved (symlinks,
/// `..`); `spec.output` is joined as written, so a symlinked or escaping output directory
/// reaches the Git stage as such and is refused there, never silently followed.
pub fn repo_relative(root: &Path, ctx: &Pipeline) -> Result<String, Error> {
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
pub fn prefixed(out_rel: &str, tree: &crate::render::RenderedTree) -> git::Tree {
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
