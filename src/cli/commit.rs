//! `meshplan commit`: renders the chosen steps, gates them with the policies, and records
//! render and lock as one commit on the cluster's branch (`pipeline::commit` says how the
//! base is chosen and when a branch is rebuilt).

use super::render::{ChangeArgs, print_findings};
use super::{SpecArgs, emit};
use crate::error::{Error, ExitCode};
use crate::git::Identity;
use crate::pipeline::Event;
use crate::pipeline::Pipeline;
use crate::pipeline::commit::{CommitRequest, Committed};
use clap::Args;
use std::path::PathBuf;
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
    let request = CommitRequest {
        change: args.change.options(),
        branch: args.branch.clone(),
        message: args.message.clone(),
        author,
        force: args.force,
        worktree: args.worktree,
        policies: args.policies.clone(),
    };
    let pipeline = Pipeline::load(&args.spec.options())?;
    let committed = pipeline.commit(&request, &mut |event| match event {
        Event::Rebuilt { branch, tip, head } => eprintln!(
            "{branch} (at {}) is not built on HEAD (at {}): its steps were merged (squashed?) \
             or HEAD moved on, so it is rebuilt from HEAD, whose lock says what was merged",
            short(tip),
            short(head)
        ),
        Event::Findings {
            pipeline,
            policies,
            change,
            force,
        } => print_findings(pipeline, policies, change, force),
        Event::ManualAction(m) => eprintln!("manual action: {m}"),
    })?;
    match committed {
        Committed::Refused => return Ok(ExitCode::Findings),
        Committed::PlanDone { branch } => {
            emit(&format!(
                "nothing to commit: the plan is done on {branch}\n"
            ))?;
        }
        Committed::Commit {
            branch,
            id,
            description,
            files,
        } => emit(&format!(
            "committed {description} on {branch} as {} ({files} file{} changed)\n",
            short(id),
            if files == 1 { "" } else { "s" }
        ))?,
        Committed::Unchanged { branch } => {
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
