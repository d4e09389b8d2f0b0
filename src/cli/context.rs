//! Loading shared by the commands: spec, catalogue, inventory, facts base and plan, with
//! every relative path resolved against `-C DIR` as `git -C` does.

use super::SpecArgs;
use crate::catalog::Catalog;
use crate::diagnostic::ObjectRef;
use crate::error::Error;
use crate::facts::{Facts, FactsBase, VersionFacts};
use crate::inventory::{self, Inventory, Limits, Source};
use crate::plan::{self, Plan};
use crate::spec::{self, LoadedSpec};
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
    /// The plan with restarts filled in.
    pub plan: Plan,
    /// Facts after each step of `plan.steps`.
    pub after_each: Vec<Facts>,
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
        let base = FactsBase::new(&spec.spec, &inventory);
        let mut plan = plan::plan(&spec.spec);
        let after_each = plan::annotate(&mut plan, &base);
        Ok(Context {
            dir,
            spec,
            catalog,
            inventory,
            today,
            base,
            plan,
            after_each,
        })
    }

    /// Catalogue facts for the versions the plan installs.
    pub fn version_facts(&self) -> VersionFacts {
        let k8s = &self.spec.spec.spec.kubernetes_version;
        let target = self
            .catalog
            .version_fact(&self.plan.to, k8s, &self.today);
        let mut installed = vec![target.clone()];
        for v in self.plan.final_view().revisions.values() {
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
    for entry in &spec.spec.spec.manifests {
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

/// `path` relative to `base` when it lies below it (both as given, lexically).
fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
    let norm = |p: &Path| -> PathBuf {
        p.components()
            .filter(|c| !matches!(c, std::path::Component::CurDir))
            .collect()
    };
    norm(path).strip_prefix(norm(base)).ok().map(Path::to_path_buf)
}
