//! The pipeline as a library: load the spec, the manifests and the lock, derive the facts
//! once, plan, then judge a change ([`judge`]) or render it ([`change`]). Each CLI command is
//! argument parsing, one or two calls here, and its output formatting (`src/cli/`).
//!
//! Judging the next step of a repository's upgrade from Rust, as `meshplan check --step next`
//! does (here on the bundled `examples/bookinfo`):
//!
//! ```
//! use meshplan::pipeline::{Options, Pipeline};
//!
//! let options = Options {
//!     today: Some("2026-11-23".into()),
//!     ..Options::in_dir("examples/bookinfo")
//! };
//! let pipeline = Pipeline::load(&options)?;
//! let step = pipeline.plan.next_step().map(|s| s.name.clone());
//! let findings = pipeline.judge_next(&[])?;
//! for d in &findings {
//!     println!("{} {} {}: {}", d.severity, d.rule, d.name, d.message);
//! }
//! assert_eq!(step.as_deref(), Some("install"));
//! // 1.26 is past its end of life on that date: a warning, not a refusal.
//! assert!(findings.iter().any(|d| d.rule == "MP104"));
//! # Ok::<(), meshplan::Error>(())
//! ```

pub mod change;
pub mod commit;
pub mod diff;
pub mod inputs;
pub mod judge;
mod load;
mod locate;
mod tenancy;

pub use load::{load_meshes, load_spec_and_inventory, relative_to};

use crate::catalog::Catalog;
use crate::diagnostic::ObjectRef;
use crate::error::Error;
use crate::facts::{FactsBase, VersionFacts};
use crate::inventory::Inventory;
use crate::plan::{LockTransition, Plan, Step};
use crate::spec::LoadedSpec;
use crate::state::Lock;
use load::plan_for;
use std::path::{Path, PathBuf};

/// What happened while a change was prepared, for the caller to show (the CLI prints it to
/// stderr): `commit` and `diff` report through it.
pub enum Event<'a> {
    /// The branch (at `tip`) is not built on `HEAD` (at `head`) and is rebuilt from it.
    Rebuilt {
        /// The branch.
        branch: &'a str,
        /// Its tip before.
        tip: git2::Oid,
        /// `HEAD`, where it is rebuilt from.
        head: git2::Oid,
    },
    /// The findings of the change (or of a plan that cannot go on), before anything is
    /// written or shown; `force` says whether they are overridden.
    Findings {
        /// The pipeline the change was planned with (from the base commit's lock).
        pipeline: &'a Pipeline,
        /// The policies that judged it.
        policies: &'a crate::policy::PolicySet,
        /// The change.
        change: &'a change::Change,
        /// Whether deny findings are overridden.
        force: bool,
    },
    /// Something the step's pull request asks a person to do (an adopted install meshplan
    /// cannot edit).
    ManualAction(&'a str),
}

/// Where and how to load: the library form of the options every command shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Run as if started in this directory (relative paths resolve there).
    pub dir: PathBuf,
    /// The spec file, relative to `dir` (default `meshplan.yaml`).
    pub spec: Option<PathBuf>,
    /// Extra manifests: files, directories, or `-` for stdin.
    pub files: Vec<PathBuf>,
    /// A release catalogue replacing the built-in one.
    pub catalog: Option<PathBuf>,
    /// The date rules treat as today (YYYY-MM-DD); default: the clock.
    pub today: Option<String>,
    /// Manifest files larger than this are refused.
    pub max_manifest_bytes: u64,
    /// The kustomize (or kubectl) for `{kustomize}` and `{flux}` entries.
    pub kustomize: Option<PathBuf>,
    /// The helm for `{helm}` entries and Flux HelmReleases.
    pub helm: Option<PathBuf>,
    /// Pulled charts for HelmReleases of remote repositories.
    pub chart_dir: Option<PathBuf>,
    /// The mesh to load from a spec of several (`--mesh`); required there.
    pub mesh: Option<String>,
}

impl Options {
    /// The defaults of the CLI, run in `dir`.
    pub fn in_dir(dir: impl AsRef<Path>) -> Options {
        Options {
            dir: dir.as_ref().to_path_buf(),
            spec: None,
            files: Vec::new(),
            catalog: None,
            today: None,
            max_manifest_bytes: DEFAULT_MAX_MANIFEST_BYTES,
            kustomize: None,
            helm: None,
            chart_dir: None,
            mesh: None,
        }
    }

    /// The same options for mesh `name` of a spec of several.
    pub fn for_mesh(&self, name: &str) -> Options {
        Options {
            mesh: Some(name.to_string()),
            ..self.clone()
        }
    }
}

/// The default of `--max-manifest-bytes`: 64 MiB.
pub const DEFAULT_MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// Everything loaded for one run: spec, catalogue, manifests, lock, facts and plan.
pub struct Pipeline {
    /// `-C DIR`: where diagnostic file paths are relative to.
    pub dir: PathBuf,
    /// The spec and where it lives.
    pub spec: LoadedSpec,
    /// The release catalogue in force.
    pub catalog: Catalog,
    /// Every manifest object.
    pub inventory: Inventory,
    /// The date rules treat as today.
    pub today: String,
    /// Facts derived once.
    pub base: FactsBase,
    /// The lock (`meshplan.lock` in `spec.output`), None for a new cluster.
    pub lock: Option<crate::state::Lock>,
    /// The plan with restarts filled in.
    pub plan: Plan,
    /// The repository (canonical): the Git work tree holding the spec, else its directory.
    pub root: PathBuf,
    /// The repository's Git directory (canonical), when there is one.
    pub git_dir: Option<PathBuf>,
    /// What the run reads as input (see [`inputs::base_inputs`]).
    pub inputs: Vec<PathBuf>,
    /// In a spec of several meshes: the cluster, and what the meshes together tell (the
    /// isolation rules read it); None for a single-mesh spec.
    pub tenancy: Option<crate::facts::tenancy::Tenancy>,
}

impl Pipeline {
    /// Loads spec, catalogue and inventory, derives facts and plans. A spec of several meshes
    /// needs `args.mesh` (see [`Pipeline::load_all`]).
    pub fn load(args: &Options) -> Result<Pipeline, Error> {
        let mut all = Pipeline::load_all(args)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            _ => Err(Error::Usage(format!(
                "the spec defines several meshes ({}): choose one with --mesh",
                all.iter()
                    .map(|p| p.spec.spec.metadata.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Loads every mesh of the spec (the one `args.mesh` names, when given), each its own
    /// pipeline: own manifests, lock and plan. For a spec of several meshes every mesh is
    /// loaded even when one is selected, because the isolation rules and the cluster
    /// restart budget judge a mesh against the others.
    pub fn load_all(args: &Options) -> Result<Vec<Pipeline>, Error> {
        let meshes = load::load_meshes(args)?;
        let selected = load::select_name(&meshes, args.mesh.as_deref())?;
        let Some(cluster) = meshes.cluster.clone() else {
            let spec =
                meshes.meshes.into_iter().next().ok_or_else(|| {
                    Error::Internal("a spec file parsed into no mesh".to_string())
                })?;
            return Ok(vec![Pipeline::load_mesh(args, spec)?]);
        };
        let mut all = Vec::new();
        for spec in meshes.meshes {
            all.push(Pipeline::load_mesh(args, spec)?);
        }
        tenancy::attach(&cluster, &mut all);
        if let Some(name) = selected {
            all.retain(|p| p.spec.spec.metadata.name == name);
        }
        Ok(all)
    }

    /// Loads one mesh's manifests and lock, derives facts and plans.
    fn load_mesh(args: &Options, spec: LoadedSpec) -> Result<Pipeline, Error> {
        let dir = args.dir.clone();
        let inventory = load::load_inventory(&dir, &spec, args)?;
        let catalog = match &args.catalog {
            Some(p) => Catalog::load(&dir.join(p))?,
            None => Catalog::builtin(),
        };
        let today = match &args.today {
            Some(d) if crate::catalog::is_date(d) => d.clone(),
            Some(d) => {
                return Err(Error::Usage(format!(
                    "--today {d}: expected a date as YYYY-MM-DD"
                )));
            }
            None => crate::catalog::today(),
        };
        let (root, git_dir) =
            crate::guard::repository_root(&spec.base_dir).map_err(|source| Error::Io {
                path: spec.base_dir.clone(),
                source,
            })?;
        let inputs = inputs::base_inputs(&dir, &spec, &inventory, args.catalog.as_deref());
        // Before the lock is read from it: the output directory is where meshplan writes,
        // and a symlink there must not be followed to read a lock from elsewhere either.
        let out = inputs::check_spec_output(&spec, &root, &inputs)?;
        let lock_path = out.join(crate::state::LOCK_FILE);
        if std::fs::symlink_metadata(&lock_path).is_ok()
            && !crate::guard::is_inside(&root, &lock_path)
        {
            return Err(crate::state::StateError {
                path: lock_path,
                line: 0,
                message: "is not a regular file inside the repository (a symlink leading \
                          out of it?); meshplan writes the lock as a plain file"
                    .to_string(),
            }
            .into());
        }
        let lock = crate::state::Lock::load(
            &crate::state::lock_path(&spec.base_dir, &spec.spec.spec.output),
            &spec.spec.metadata.name,
        )?;
        let base = FactsBase::new(&spec.spec, &inventory);
        let plan = plan_for(&spec, &inventory, &catalog, &base, lock.as_ref());
        let mut ctx = Pipeline {
            dir,
            spec,
            catalog,
            inventory,
            today,
            base,
            lock,
            plan,
            root,
            git_dir,
            inputs,
            tenancy: None,
        };
        crate::pipeline::change::retire::annotate(&mut ctx);
        Ok(ctx)
    }

    /// The same context planned from `lock` instead of the working tree's lock (`commit`
    /// plans from the lock of the commit it builds on).
    pub fn with_lock(mut self, lock: Option<crate::state::Lock>) -> Pipeline {
        let plan = plan_for(
            &self.spec,
            &self.inventory,
            &self.catalog,
            &self.base,
            lock.as_ref(),
        );
        self.lock = lock;
        self.plan = plan;
        crate::pipeline::change::retire::annotate(&mut self);
        self
    }

    /// The lock once `step` of the plan is committed on top of `lock`: [`LockTransition::apply`], then
    /// the workloads deleted from the manifests forgotten (the lock records what is deployed,
    /// and an entry nothing renders would stay forever). `render`, `diff`, `commit` and the
    /// step inputs of `check` all apply steps through here, so they agree on the next lock.
    pub fn apply(&self, lock: &Lock, step: &Step) -> Lock {
        let mut next = lock.apply(&self.plan, step);
        // A committed sidecar's proxy is read from its manifest (a re-injection changes it
        // without any step), so the lock keeps none, not even one an older adopt wrote.
        let committed = crate::pipeline::judge::committed::keys(self);
        next.forget_workloads(|kind, namespace, name| {
            self.inventory.get(kind, namespace, name).is_some()
                && (committed.is_empty()
                    || !committed.contains(&format!("{kind}/{namespace}/{name}")))
        });
        crate::plan::operator::record_deletions(&self.spec.spec, lock, &mut next);
        next
    }

    /// Catalogue facts for the versions the plan passes through: the target, what is
    /// installed now, and every hop's version.
    pub fn version_facts(&self) -> VersionFacts {
        let k8s = &self.spec.spec.spec.kubernetes_version;
        let target = self.catalog.version_fact(&self.plan.to, k8s, &self.today);
        let mut versions = std::collections::BTreeSet::new();
        versions.extend(self.plan.start.revisions.values());
        versions.extend(
            self.plan
                .steps
                .iter()
                .flat_map(|s| s.view.revisions.values()),
        );
        versions.extend(&self.plan.hops);
        let mut installed = vec![target.clone()];
        for v in versions {
            if v != &self.plan.to {
                installed.push(self.catalog.version_fact(v, k8s, &self.today));
            }
        }
        let mut facts = VersionFacts {
            today: self.today.clone(),
            kubernetes: k8s.clone(),
            target,
            installed,
        };
        crate::facts::sail::mark_unsupported(
            self.spec.spec.spec.istio.delivery,
            self.plan.from.as_deref(),
            &self.plan.hops,
            &mut facts,
        );
        facts
    }

    /// Where an object is defined, for diagnostics.
    pub fn locate(&self, o: &ObjectRef) -> Option<(String, u32)> {
        self.inventory
            .get(&o.kind, &o.namespace, &o.name)
            .map(|obj| (obj.file.clone(), obj.line))
    }
}
