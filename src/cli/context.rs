//! Loading shared by the commands: spec, catalogue, inventory, facts base and plan, with
//! every relative path resolved against `-C DIR` as `git -C` does.

use super::SpecArgs;
use crate::catalog::Catalog;
use crate::diagnostic::ObjectRef;
use crate::error::Error;
use crate::facts::{FactsBase, VersionFacts};
use crate::inventory::{self, Inventory, Limits, Source};
use crate::plan::{self, Plan, Step};
use crate::spec::{self, LoadedSpec};
use crate::state::Lock;
use std::path::{Path, PathBuf};

/// Everything loaded for one run.
pub(crate) struct Context {
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
    /// What the run reads as input (see [`super::guard::base_inputs`]).
    pub inputs: Vec<PathBuf>,
}

impl Context {
    /// Loads spec, catalogue and inventory, derives facts and plans.
    pub fn load(args: &SpecArgs) -> Result<Context, Error> {
        let dir = args.dir.clone();
        let (spec, inventory) = load_spec_and_inventory(args)?;
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
        let inputs = super::guard::base_inputs(&dir, &spec, &inventory, args.catalog.as_deref());
        // Before the lock is read from it: the output directory is where meshplan writes,
        // and a symlink there must not be followed to read a lock from elsewhere either.
        let out = super::guard::check_spec_output(&spec, &root, &inputs)?;
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
        let mut ctx = Context {
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
        };
        super::retire::annotate(&mut ctx);
        Ok(ctx)
    }

    /// The same context planned from `lock` instead of the working tree's lock (`commit`
    /// plans from the lock of the commit it builds on).
    pub fn with_lock(mut self, lock: Option<crate::state::Lock>) -> Context {
        let plan = plan_for(
            &self.spec,
            &self.inventory,
            &self.catalog,
            &self.base,
            lock.as_ref(),
        );
        self.lock = lock;
        self.plan = plan;
        super::retire::annotate(&mut self);
        self
    }

    /// The lock once `step` of the plan is committed on top of `lock`: [`Lock::apply`], then
    /// the workloads deleted from the manifests forgotten (the lock records what is deployed,
    /// and an entry nothing renders would stay forever). `render`, `diff`, `commit` and the
    /// step inputs of `check` all apply steps through here, so they agree on the next lock.
    pub fn apply(&self, lock: &Lock, step: &Step) -> Lock {
        let mut next = lock.apply(&self.plan, step);
        // A committed sidecar's proxy is read from its manifest (a re-injection changes it
        // without any step), so the lock keeps none, not even one an older adopt wrote.
        let committed = super::committed::keys(self);
        next.forget_workloads(|kind, namespace, name| {
            self.inventory.get(kind, namespace, name).is_some()
                && (committed.is_empty()
                    || !committed.contains(&format!("{kind}/{namespace}/{name}")))
        });
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
        VersionFacts {
            today: self.today.clone(),
            kubernetes: k8s.clone(),
            target,
            installed,
        }
    }

    /// Where an object is defined, for diagnostics.
    pub fn locate(&self, o: &ObjectRef) -> Option<(String, u32)> {
        self.inventory
            .get(&o.kind, &o.namespace, &o.name)
            .map(|obj| (obj.file.clone(), obj.line))
    }
}

/// The plan from `lock` with restarts filled in, and a `release` step when nothing else is
/// left but the lock still records workloads deleted from the manifests.
fn plan_for(
    spec: &LoadedSpec,
    inventory: &Inventory,
    catalog: &Catalog,
    base: &FactsBase,
    lock: Option<&Lock>,
) -> Plan {
    let mut plan = plan::plan(&spec.spec, lock, catalog);
    plan::annotate(&mut plan, base);
    let gone = lock.is_some_and(|l| {
        !l.gone_workloads(|kind, namespace, name| inventory.get(kind, namespace, name).is_some())
            .is_empty()
    });
    plan::release_gone_workloads(&mut plan, gone);
    plan
}

/// Loads the spec and the manifests: everything that reads user files.
pub(crate) fn load_spec_and_inventory(args: &SpecArgs) -> Result<(LoadedSpec, Inventory), Error> {
    let spec_path = match &args.spec {
        Some(p) => args.dir.join(p),
        None => args.dir.join("meshplan.yaml"),
    };
    let spec = spec::load(&spec_path)?;
    let inventory = load_inventory(&args.dir, &spec, args)?;
    Ok((spec, inventory))
}

/// Loads the spec's manifest globs (relative to the spec file) and the `-f` paths
/// (relative to `-C DIR`); file names in the inventory are relative to `-C DIR`.
fn load_inventory(dir: &Path, spec: &LoadedSpec, args: &SpecArgs) -> Result<Inventory, Error> {
    let spec_dir = relative_to(&spec.base_dir, dir);
    let mut sources = Vec::new();
    let tools = inventory::Tools {
        kustomize: args.kustomize.as_ref().map(|p| absolute(dir, p)),
        helm: args.helm.as_ref().map(|p| absolute(dir, p)),
        chart_dir: args.chart_dir.as_ref().map(|p| absolute(dir, p)),
    };
    for (i, entry) in spec.spec.spec.manifests.iter().enumerate() {
        if let Some(build) = build_source(spec, dir, i, entry, &tools) {
            sources.push(Source::Build(Box::new(build)));
            continue;
        }
        let pattern = match &spec_dir {
            Some(prefix) if !prefix.as_os_str().is_empty() => {
                format!("{}/{}", prefix.to_string_lossy(), entry.path())
            }
            _ => entry.path().to_string(),
        };
        sources.push(Source::Glob {
            pattern,
            namespace: entry.namespace().map(str::to_string),
        });
    }
    for f in &args.files {
        if f.as_os_str() == "-" {
            sources.push(Source::Stdin);
        } else {
            sources.push(Source::Path(f.clone()));
        }
    }
    let limits = Limits {
        max_file_bytes: args.max_manifest_bytes,
    };
    Ok(inventory::load(dir, &sources, &limits)?)
}

/// A tool or directory named on the command line, relative to `-C DIR` (builds run
/// elsewhere, so relative paths would not resolve there).
fn absolute(dir: &Path, p: &Path) -> PathBuf {
    let joined = dir.join(p);
    // A bare program name (`--helm helm3`) is looked up in PATH by the OS.
    if p.components().count() == 1 && !joined.exists() {
        return p.to_path_buf();
    }
    std::path::absolute(&joined).unwrap_or(joined)
}

/// The built `spec.manifests[i]` entry as an inventory source, located in the spec.
fn build_source(
    spec: &LoadedSpec,
    dir: &Path,
    i: usize,
    entry: &crate::spec::model::ManifestEntry,
    tools: &inventory::Tools,
) -> Option<inventory::BuildSource> {
    use crate::spec::located::Seg;
    let pos = spec
        .locations
        .key_pos(&[Seg::Key("spec"), Seg::Key("manifests"), Seg::Index(i)]);
    inventory::BuildSource::from_entry(
        entry,
        relative_to(&spec.base_dir, dir).unwrap_or_else(|| spec.base_dir.clone()),
        relative_to(&spec.path, dir).unwrap_or_else(|| spec.path.clone()),
        pos.line.max(1),
        tools.clone(),
    )
}

/// `path` relative to `base` when it lies below it (both as given, lexically).
pub(crate) fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    let norm = |p: &Path| -> PathBuf {
        p.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    };
    norm(path)
        .strip_prefix(norm(base))
        .ok()
        .map(Path::to_path_buf)
}

impl Context {
    /// A render error as the user should read it: values a spec gateway's `values` made
    /// unfit for the chart are an error in `meshplan.yaml`, at that gateway's `values`.
    pub fn render_error(&self, e: crate::render::RenderError) -> Error {
        use crate::spec::located::Seg;
        let crate::render::RenderError::Values { gateway, .. } = &e else {
            return Error::Render(e);
        };
        let spec = &self.spec.spec.spec;
        let Some(i) = spec
            .gateways
            .iter()
            .position(|g| format!("{}/{}", g.namespace, g.name) == *gateway)
        else {
            return Error::Render(e);
        };
        let pos = self.spec.locations.key_pos(&[
            Seg::Key("spec"),
            Seg::Key("gateways"),
            Seg::Index(i),
            Seg::Key("values"),
        ]);
        Error::Spec(crate::spec::SpecError {
            path: self.spec.path.clone(),
            line: pos.line,
            column: pos.column,
            message: format!("{e} (check spec.gateways[{i}].values)"),
        })
    }

    /// The spec file relative to `-C DIR` (as given when it lies elsewhere).
    pub fn spec_file(&self) -> String {
        relative_to(&self.spec.path, &self.dir)
            .unwrap_or_else(|| self.spec.path.clone())
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// Points findings that have no manifest location at the part of the spec they are
    /// about: a managed namespace's entry, the wave of a step, the version a version rule
    /// judges, the waiver that expired. Rules the table does not know point at `spec:`.
    pub fn locate_in_spec(&self, d: &mut crate::diagnostic::Diagnostic) {
        use crate::spec::located::Seg;
        if d.file.is_some() {
            return;
        }
        let spec = &self.spec.spec.spec;
        let path: Vec<Seg<'_>> = match (d.rule.as_str(), &d.object) {
            (_, Some(o)) if o.kind == "Namespace" => {
                match spec.namespaces.iter().position(|n| n.name == o.name) {
                    Some(i) => vec![Seg::Key("spec"), Seg::Key("namespaces"), Seg::Index(i)],
                    None => vec![Seg::Key("spec"), Seg::Key("namespaces")],
                }
            }
            // Gateway findings (and MP201/MP202 about a colour) name the gateway's traffic
            // Service or a colour's release: its entry in spec.gateways is what to change.
            (rule, Some(o)) if rule.starts_with("MP40") || o.kind == "Service" => {
                let of_gateway = |g: &crate::spec::model::Gateway| {
                    g.namespace == o.namespace
                        && (o.name == g.name
                            || o.name
                                .strip_prefix(g.name.as_str())
                                .is_some_and(|rest| rest.starts_with('-')))
                };
                match spec.gateways.iter().position(of_gateway) {
                    Some(i) => vec![Seg::Key("spec"), Seg::Key("gateways"), Seg::Index(i)],
                    None => vec![Seg::Key("spec"), Seg::Key("gateways")],
                }
            }
            ("MP103", _) => vec![Seg::Key("spec"), Seg::Key("kubernetesVersion")],
            ("MP110", _) => vec![Seg::Key("spec"), Seg::Key("istio"), Seg::Key("delivery")],
            // The unchecked-wiring info: the entries that would let meshplan check it.
            ("MP505", None) => vec![Seg::Key("spec"), Seg::Key("manifests")],
            ("MP203", _) => vec![
                Seg::Key("spec"),
                Seg::Key("upgrade"),
                Seg::Key("maxRevisions"),
            ],
            ("MP202" | "MP206", _) => vec![
                Seg::Key("spec"),
                Seg::Key("istio"),
                Seg::Key("revisionTags"),
            ],
            ("MP315", _) => vec![
                Seg::Key("spec"),
                Seg::Key("upgrade"),
                Seg::Key("maxRestartsPerCluster"),
            ],
            ("MP101" | "MP102" | "MP104" | "MP106" | "MP107" | "MP108", _) => {
                vec![Seg::Key("spec"), Seg::Key("istio"), Seg::Key("version")]
            }
            ("MP205", _) => vec![
                Seg::Key("spec"),
                Seg::Key("istio"),
                Seg::Key("revisionTags"),
            ],
            ("MP308", _) => vec![
                Seg::Key("spec"),
                Seg::Key("istio"),
                Seg::Key("config"),
                Seg::Key("nativeSidecars"),
            ],
            ("MP309", _) => {
                let wave = d.step.as_deref().and_then(|s| s.strip_prefix("wave "));
                match wave.and_then(|w| spec.upgrade.waves.iter().position(|x| x.name == w)) {
                    Some(i) => vec![
                        Seg::Key("spec"),
                        Seg::Key("upgrade"),
                        Seg::Key("waves"),
                        Seg::Index(i),
                    ],
                    None => vec![Seg::Key("spec"), Seg::Key("upgrade")],
                }
            }
            // Only a gateway Deployment (not in the inventory) reaches here: the config
            // change that should have restarted it.
            ("MP501", _) => vec![Seg::Key("spec"), Seg::Key("istio"), Seg::Key("config")],
            ("MP503", _) => {
                match spec
                    .exceptions
                    .iter()
                    .position(|e| d.message.contains(&e.object) && d.message.contains(&e.rule))
                {
                    Some(i) => vec![Seg::Key("spec"), Seg::Key("exceptions"), Seg::Index(i)],
                    None => vec![Seg::Key("spec"), Seg::Key("exceptions")],
                }
            }
            _ => vec![Seg::Key("spec")],
        };
        let pos = self.spec.locations.key_pos(&path);
        d.file = Some(self.spec_file());
        d.line = Some(u32::try_from(pos.line.max(1)).unwrap_or(u32::MAX));
    }
}
