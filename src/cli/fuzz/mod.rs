//! `meshplan debug fuzz`: a structured fuzzer kept in the repository, one target per loader
//! (spec, manifests, lock, rendered gateway values). No nightly toolchain is assumed: each
//! case is a seed from the examples or `../shared/data/corpus` changed by [`mutate`],
//! deterministic per `--seed` and case number, and run in-process through the same code as
//! `render` (load, guard, plan, policies, render, write) or, for values, the rendered-gateway
//! reader. Every case is judged on three properties: no panic, no exit-3 error (user input
//! never reaches an internal error), and nothing written outside the repository (a sentinel
//! directory beside it, its `.git` and its input files are compared before and after).
//! `scripts/fuzz.sh` runs every target for a time budget; a short run is part of `cargo test`.

mod mutate;

use super::emit;
use crate::error::{Error, ExitCode};
use crate::pipeline::Options;
use crate::pipeline::Pipeline;
use crate::pipeline::change::{ChangeOptions, StepSelection, prepare};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The date every fuzz case is judged on, so runs are reproducible.
const TODAY: &str = "2026-11-23";

/// The loader a fuzz run exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Target {
    /// `meshplan.yaml`, seeded from every example's spec.
    Spec,
    /// Manifests, seeded from the corpus and the examples' apps.
    Manifests,
    /// `meshplan.lock`, seeded from the examples' locks and locks rendered from them.
    Lock,
    /// Rendered gateway release values (what MP402 reads back from `spec.output`).
    Values,
}

/// Arguments of `meshplan debug fuzz`.
#[derive(Debug, Args)]
pub(crate) struct FuzzArgs {
    /// The loader to fuzz.
    #[arg(long, value_enum)]
    pub target: Target,
    /// The run's seed: case N of a seed is always the same input.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The first case number (to replay one case: `--start N --cases 1`).
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Stop after this many cases.
    #[arg(long)]
    pub cases: Option<u64>,
    /// Stop after this many seconds (whichever of --cases and --seconds comes first).
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// The examples to seed from.
    #[arg(long, value_name = "DIR", default_value = "examples")]
    pub examples: PathBuf,
    /// Real manifests to seed the manifests target from (e.g. ../shared/data/corpus).
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
}

/// What one case ended as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Ok,
    Findings,
    Input,
    Internal,
    Panic,
    Outside,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Findings => "refused-by-policy",
            Outcome::Input => "exit-2",
            Outcome::Internal => "exit-3",
            Outcome::Panic => "panic",
            Outcome::Outside => "outside-write",
        }
    }

    fn bad(self) -> bool {
        self >= Outcome::Internal
    }
}

/// Runs `debug fuzz`: exit 0 when no case failed a property, 1 otherwise.
pub(crate) fn run(args: FuzzArgs) -> Result<ExitCode, Error> {
    let seeds = seeds(&args)?;
    if seeds.is_empty() {
        return Err(Error::Usage(format!(
            "no seeds for {:?} under {}",
            args.target,
            args.examples.display()
        )));
    }
    let policies = crate::policy::PolicySet::load(true, &[])?;
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds.max(0.0));
    let limit = args.cases.unwrap_or(u64::MAX);
    let mut counts: BTreeMap<Outcome, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    // Panics are outcomes here, counted and reported below, not noise on stderr.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut case = args.start;
    while case - args.start < limit && Instant::now() < deadline {
        let mut rng =
            fastrand::Rng::with_seed(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ case);
        let seed = &seeds[rng.usize(..seeds.len())];
        let input = mutate::mutate(&seed.text, &mut rng);
        // Unwind-safe in fact: a case shares only the policy set, which evaluation does not
        // mutate, and everything else it built (its sandbox included) is dropped.
        let (outcome, detail) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_case(args.target, seed, &input, &policies)
        })) {
            Ok(result) => result,
            Err(_) => (Outcome::Panic, "panicked".to_string()),
        };
        *counts.entry(outcome).or_default() += 1;
        if outcome.bad() && failures.len() < 20 {
            failures.push(format!(
                "  case {case} (seed {}, {}): {}: {detail}",
                args.seed,
                seed.name,
                outcome.name()
            ));
        }
        case += 1;
    }
    std::panic::set_hook(hook);
    let total: u64 = counts.values().sum();
    let mut line =
        format!("fuzz {:?}: {total} cases, seed {}", args.target, args.seed).to_lowercase();
    for o in [
        Outcome::Ok,
        Outcome::Findings,
        Outcome::Input,
        Outcome::Internal,
        Outcome::Panic,
        Outcome::Outside,
    ] {
        line.push_str(&format!(
            ", {} {}",
            counts.get(&o).copied().unwrap_or(0),
            o.name()
        ));
    }
    line.push('\n');
    for f in &failures {
        line.push_str(f);
        line.push('\n');
    }
    emit(&line)?;
    Ok(if counts.keys().any(|o| o.bad()) {
        ExitCode::Findings
    } else {
        ExitCode::Ok
    })
}

/// A seed: a document and the example directory it belongs in.
struct Seed {
    name: String,
    /// For values seeds: the file's path in the render.
    rel: String,
    text: String,
    /// The example directory a case is run in (its spec and apps).
    example: PathBuf,
}

/// The seeds of a target, in a fixed order.
fn seeds(args: &FuzzArgs) -> Result<Vec<Seed>, Error> {
    let specs = files_named(&args.examples, |p| {
        p.file_name().is_some_and(|n| n == "meshplan.yaml")
    });
    let bookinfo = args.examples.join("bookinfo");
    let mut out = Vec::new();
    match args.target {
        Target::Spec => {
            for spec in specs {
                let example = spec.parent().map(Path::to_path_buf).unwrap_or_default();
                push(&mut out, &spec, example);
            }
        }
        Target::Manifests => {
            let mut files = files_named(&args.examples, is_manifest);
            if let Some(corpus) = &args.corpus {
                files.extend(files_named(corpus, is_manifest));
            }
            for f in files {
                if std::fs::metadata(&f).is_ok_and(|m| m.len() <= 256 * 1024) {
                    push(&mut out, &f, bookinfo.clone());
                }
            }
        }
        Target::Lock => {
            for lock in files_named(&args.examples, |p| {
                p.file_name().is_some_and(|n| n == "meshplan.lock")
            }) {
                let example = lock
                    .parent()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                push(&mut out, &lock, example);
            }
            for spec in &specs {
                let example = spec.parent().map(Path::to_path_buf).unwrap_or_default();
                for step in [StepSelection::Next, StepSelection::All] {
                    if let Some(tree) = render_example(&example, step)
                        && let Some(lock) = tree.get(crate::state::LOCK_FILE)
                    {
                        out.push(Seed {
                            name: format!("{} (rendered lock)", example.display()),
                            rel: String::new(),
                            text: lock.clone(),
                            example: example.clone(),
                        });
                    }
                }
            }
        }
        Target::Values => {
            for spec in &specs {
                let example = spec.parent().map(Path::to_path_buf).unwrap_or_default();
                if let Some(tree) = render_example(&example, StepSelection::All) {
                    for (rel, text) in &tree {
                        if crate::pipeline::judge::rendered::may_hold_release(rel, text) {
                            out.push(Seed {
                                name: format!("{}:{rel}", example.display()),
                                rel: rel.clone(),
                                text: text.clone(),
                                example: example.clone(),
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn push(out: &mut Vec<Seed>, file: &Path, example: PathBuf) {
    if let Ok(text) = std::fs::read_to_string(file) {
        out.push(Seed {
            name: file.display().to_string(),
            rel: String::new(),
            text,
            example,
        });
    }
}

fn is_manifest(p: &Path) -> bool {
    let s = p.to_string_lossy();
    (s.ends_with(".yaml") || s.ends_with(".yml") || s.ends_with(".json"))
        && !s.ends_with("meshplan.yaml")
        && !s.ends_with("expected.yaml")
        && !s.contains("/rendered/")
}

/// Regular files under `dir` that `keep` accepts, sorted (symlinks are not followed).
fn files_named(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && keep(e.path()))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// What an example renders for `step`, in a sandbox (for lock and values seeds).
fn render_example(example: &Path, step: StepSelection) -> Option<crate::render::RenderedTree> {
    let sandbox = Sandbox::new(example).ok()?;
    let ctx = Pipeline::load(&spec_args(&sandbox.repo)).ok()?;
    prepare(&ctx, &ChangeOptions { step, charts: None }, None)
        .ok()?
        .map(|c| c.tree)
}

fn spec_args(dir: &Path) -> Options {
    Options {
        today: Some(TODAY.to_string()),
        ..Options::in_dir(dir)
    }
}

/// Runs one case and judges it.
fn run_case(
    target: Target,
    seed: &Seed,
    input: &[u8],
    policies: &crate::policy::PolicySet,
) -> (Outcome, String) {
    if target == Target::Values {
        let text = String::from_utf8_lossy(input).into_owned();
        let tree = crate::render::RenderedTree::from([(seed.rel.clone(), text)]);
        let gateways = match crate::spec::load(&seed.example.join("meshplan.yaml")) {
            Ok(spec) => spec.spec.spec.gateways,
            Err(e) => return (Outcome::Internal, format!("seed spec: {e}")),
        };
        return match crate::pipeline::judge::rendered::gateway_releases(
            &tree, "rendered", &gateways,
        )
        .and_then(|g| crate::pipeline::judge::rendered::to_input(None, &g))
        {
            Ok(_) => (Outcome::Ok, String::new()),
            Err(e) => classify(&e),
        };
    }
    let sandbox = match Sandbox::new(&seed.example) {
        Ok(s) => s,
        Err(e) => return (Outcome::Internal, format!("sandbox: {e}")),
    };
    let file = match target {
        Target::Spec => sandbox.repo.join("meshplan.yaml"),
        Target::Manifests => sandbox.repo.join("apps/bookinfo/fuzz.yaml"),
        _ => sandbox.repo.join("rendered").join(crate::state::LOCK_FILE),
    };
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Err(e) = std::fs::write(&file, input) {
        return (Outcome::Internal, format!("sandbox: {e}"));
    }
    let before = sandbox.fingerprint();
    let result = render_case(&sandbox.repo, policies);
    if let Some(changed) = sandbox.changed_since(&before) {
        return (Outcome::Outside, changed);
    }
    match result {
        Ok(true) => (Outcome::Ok, String::new()),
        Ok(false) => (Outcome::Findings, String::new()),
        Err(e) => classify(&e),
    }
}

fn classify(e: &Error) -> (Outcome, String) {
    match e.exit_code() {
        ExitCode::Internal => (Outcome::Internal, e.to_string()),
        _ => (Outcome::Input, String::new()),
    }
}

/// What `render` does, minus printing: load, guard, judge, render, write. `Ok(false)` when
/// deny findings refuse the change.
fn render_case(dir: &Path, policies: &crate::policy::PolicySet) -> Result<bool, Error> {
    let ctx = Pipeline::load(&spec_args(dir))?;
    let inputs = crate::pipeline::inputs::inputs(&ctx, &[]);
    crate::pipeline::inputs::check_spec_output(&ctx.spec, &ctx.root, &inputs)?;
    let charts = crate::render::Charts::embedded();
    crate::pipeline::change::drift::rendered_drift(
        &ctx,
        &charts,
        crate::pipeline::judge::rendered::may_hold_release,
    )?;
    let Some(change) = prepare(
        &ctx,
        &ChangeOptions {
            step: StepSelection::Next,
            charts: None,
        },
        Some(policies),
    )?
    else {
        return Ok(true);
    };
    if change.denied() {
        return Ok(false);
    }
    crate::render::write_tree(
        &change.tree,
        &crate::pipeline::change::drift::output_dir(&ctx),
    )?;
    Ok(true)
}

/// A temporary directory holding `outside/` (a sentinel that nothing may touch) and `repo/`
/// (a Git repository with a copy of the example, and `link -> ../outside`).
struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    repo: PathBuf,
}

impl Sandbox {
    fn new(example: &Path) -> std::io::Result<Sandbox> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().canonicalize()?;
        let repo = root.join("repo");
        std::fs::create_dir_all(root.join("outside"))?;
        std::fs::write(root.join("outside/victim"), "must survive\n")?;
        copy_tree(example, &repo)?;
        git2::Repository::init(&repo).map_err(std::io::Error::other)?;
        #[cfg(unix)]
        std::os::unix::fs::symlink("../outside", repo.join("link"))?;
        Ok(Sandbox {
            _dir: dir,
            root,
            repo,
        })
    }

    /// Every file outside the repository's work area, `.git` and the inputs (`apps/`,
    /// `meshplan.yaml`) with their contents: what a case may never change.
    fn fingerprint(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        for entry in walkdir::WalkDir::new(&self.root)
            .into_iter()
            .filter_map(Result::ok)
        {
            let path = entry.path();
            let rel = path.strip_prefix(&self.repo).ok();
            let guarded = match rel {
                None => true,
                Some(r) => {
                    let first = r
                        .components()
                        .next()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned());
                    matches!(
                        first.as_deref(),
                        Some(".git" | "apps" | "meshplan.yaml" | "link")
                    )
                }
            };
            if guarded && entry.file_type().is_file() {
                out.insert(path.to_path_buf(), std::fs::read(path).unwrap_or_default());
            } else if guarded {
                out.insert(path.to_path_buf(), Vec::new());
            }
        }
        out
    }

    /// The first guarded path that changed, if any.
    fn changed_since(&self, before: &BTreeMap<PathBuf, Vec<u8>>) -> Option<String> {
        let after = self.fingerprint();
        if &after == before {
            return None;
        }
        let changed = before
            .iter()
            .find(|(k, v)| after.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .or_else(|| after.keys().find(|k| !before.contains_key(*k)).cloned())
            .unwrap_or_default();
        Some(format!("{} changed", changed.display()))
    }
}

/// Copies regular files and directories (no symlinks) from `from` into `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let Ok(rel) = entry.path().strip_prefix(from) else {
            continue;
        };
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}
