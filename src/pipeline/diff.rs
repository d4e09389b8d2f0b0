//! Diffing a change: what rendering the next step (or the chosen ones) would change in the
//! output directory and in the user's files, against the working tree or a Git reference;
//! without a repository, against the output directory on disk.

use crate::error::Error;
use crate::git::{self, FileDiff, GitError};
use crate::pipeline::change::drift::{compare_dir, display_path, output_dir, render_recorded};
use crate::pipeline::change::{ChangeOptions, charts, prepare, stuck};
use crate::pipeline::commit::{prefixed, repo_relative};
use crate::pipeline::{Event, Pipeline};
use crate::plan::ProblemKind;
use crate::render::RenderedTree;
use std::path::{Path, PathBuf};

impl Pipeline {
    /// The file changes of the change `options` selects, against the working tree or
    /// `against` (a Git reference); with no step left, what the committed lock renders.
    /// `None` when the plan cannot go on (its findings went to `events`): nothing to show.
    pub fn diff(
        &self,
        options: &ChangeOptions,
        against: Option<&str>,
        events: &mut dyn FnMut(Event<'_>),
    ) -> Result<Option<Vec<FileDiff>>, Error> {
        let extra: Vec<PathBuf> = options.charts.iter().cloned().collect();
        crate::pipeline::inputs::check_spec_output(
            &self.spec,
            &self.root,
            &crate::pipeline::inputs::inputs(self, &extra),
        )?;
        let undeliverable = self
            .plan
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::DeliveryUnsupported);
        if undeliverable
            || (!self.plan.problems.is_empty() && self.plan.remaining().next().is_none())
        {
            // A plan the planner could not make (no steps) is not a done plan, and one whose
            // steps the delivery cannot install (MP110) will not be rendered: say why, as
            // `render` would refuse it, rather than show a change nobody can write.
            let policies = crate::pipeline::judge::load_policies(self, &[])?;
            if let Some(stuck) = stuck(self, &policies)? {
                events(Event::Findings {
                    pipeline: self,
                    policies: &policies,
                    change: &stuck,
                    force: false,
                });
                return Ok(None);
            }
        }
        let (rendered, applied) = match prepare(self, options, None)? {
            Some(change) => (change.tree, change.applied),
            None => match committed(self, options)? {
                Some(tree) => (tree, Vec::new()),
                None => return Ok(Some(Vec::new())),
            },
        };
        let retired = crate::pipeline::change::takeover::deleted(
            self.lock.as_ref(),
            &crate::pipeline::judge::lock_after(self, &applied),
            &rendered,
        );
        let out = output_dir(self);
        let diffs = match git2::Repository::discover(&self.dir) {
            Ok(repo) => self.repository_diff(&repo, &rendered, &retired, against, events)?,
            Err(_) if against.is_none() => {
                let mut diffs = direct_diff(self, &out, &rendered)?;
                let read = |rel: &str| std::fs::read(self.root.join(rel)).ok();
                diffs.extend(retirement_diffs(self, &retired, &read, events, |p| {
                    display_path(self, &self.root.join(p))
                }));
                diffs.sort_by(|a, b| a.path.cmp(&b.path));
                diffs
            }
            Err(_) => {
                return Err(GitError::NotARepository {
                    path: self.dir.clone(),
                }
                .into());
            }
        };
        Ok(Some(diffs))
    }
}

/// The changes retiring `retired` makes to the user's files as `read` gives them (paths
/// shown by `shown`); the manual actions go to `events`.
fn retirement_diffs(
    ctx: &Pipeline,
    retired: &[crate::state::ObjectOrigin],
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
    events: &mut dyn FnMut(Event<'_>),
    shown: impl Fn(&str) -> String,
) -> Vec<FileDiff> {
    if retired.is_empty() {
        return Vec::new();
    }
    let retirement = crate::pipeline::change::retire::retire(ctx, retired, read);
    for m in &retirement.manual {
        events(Event::ManualAction(m));
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
fn committed(ctx: &Pipeline, options: &ChangeOptions) -> Result<Option<RenderedTree>, Error> {
    match &ctx.lock {
        Some(lock) => Ok(Some(render_recorded(
            ctx,
            lock,
            &charts(ctx, options.charts.as_deref())?,
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

impl Pipeline {
    /// The diff inside a Git repository: the render against the working tree or `against`,
    /// and the retirement's edits of the user's files as that side holds them.
    fn repository_diff(
        &self,
        repo: &git2::Repository,
        rendered: &RenderedTree,
        retired: &[crate::state::ObjectOrigin],
        against: Option<&str>,
        events: &mut dyn FnMut(Event<'_>),
    ) -> Result<Vec<FileDiff>, Error> {
        let Some(root) = repo.workdir() else {
            return Err(GitError::BareRepository {
                path: repo.path().to_path_buf(),
            }
            .into());
        };
        let out_rel = repo_relative(root, self)?;
        let tree = prefixed(&out_rel, rendered);
        let mut diffs = match against {
            Some(reference) => git::diff_ref(root, reference, &out_rel, &tree)?,
            None => git::diff_worktree(root, &out_rel, &tree)?,
        };
        if !retired.is_empty() {
            // The user's files as the compared side holds them: what `commit` (against
            // a reference) or `render` (the working tree) would edit.
            let base = match against {
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
                    None => std::fs::read(self.root.join(rel)).ok(),
                }
            };
            diffs.extend(retirement_diffs(self, retired, &read, events, |p| {
                p.to_string()
            }));
            diffs.sort_by(|a, b| a.path.cmp(&b.path));
        }
        Ok(diffs)
    }
}
