//! Reading the user's files: the spec, then the manifests of `spec.manifests` and `-f`, with
//! every relative path resolved against `-C DIR` as `git -C` does.

use super::Options;
use crate::catalog::Catalog;
use crate::error::Error;
use crate::facts::FactsBase;
use crate::inventory::{self, Inventory, Limits, Source};
use crate::plan::{self, Plan};
use crate::spec::{self, LoadedSpec};
use crate::state::Lock;
use std::path::{Path, PathBuf};

/// The plan from `lock` with restarts filled in, and a `release` step when nothing else is
/// left but the lock still records workloads deleted from the manifests.
pub(super) fn plan_for(
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
pub fn load_spec_and_inventory(args: &Options) -> Result<(LoadedSpec, Inventory), Error> {
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
fn load_inventory(dir: &Path, spec: &LoadedSpec, args: &Options) -> Result<Inventory, Error> {
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
pub fn relative_to(path: &Path, base: &Path) -> Option<PathBuf> {
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
