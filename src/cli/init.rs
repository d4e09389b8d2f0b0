//! `meshplan init`: a commented starter spec filled in from the repository it runs in. The
//! directory is walked for Kubernetes manifests; their namespaces become the mesh's
//! namespaces and their directories the `manifests` globs, so the first `check` judges real
//! workloads instead of placeholders. Directories built by Kustomize are suggested as
//! `kustomize` entries in a comment (building them needs kubectl), Helm charts as `helm`
//! entries (they need a release name and values); what cannot be parsed as Kubernetes YAML
//! (other configuration) is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What `init` found in a repository.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// Namespaces the manifests name (objects' `metadata.namespace`, Namespace objects).
    pub namespaces: BTreeSet<String>,
    /// Globs relative to the repository, one per directory with manifests.
    pub globs: BTreeSet<String>,
    /// Directories holding a `kustomization.yaml` (their files are patches and bases, not
    /// objects to load one by one).
    pub kustomizations: BTreeSet<String>,
    /// Helm chart directories (a `Chart.yaml`): templates, not manifests; not walked.
    pub charts: BTreeSet<String>,
    /// Flux cluster entry points: directories holding `flux-system/gotk-sync.yaml`, as
    /// `flux bootstrap` lays them out. Following one reads the cluster as Flux applies it,
    /// so it replaces the globs (which would read every cluster's copy at once).
    pub flux: BTreeSet<String>,
}

/// Directories never walked: version control, meshplan's own output, build and tool trees.
const SKIPPED_DIRS: [&str; 5] = ["rendered", "target", "node_modules", "vendor", "tools"];

/// Namespaces that are not application namespaces of a mesh.
fn is_system_namespace(ns: &str) -> bool {
    ns.starts_with("kube-") || ns.starts_with("istio-") || ns == "default"
}

/// Walks `dir` for Kubernetes manifests (files of at most 1 MiB; deterministic order).
pub(crate) fn discover(dir: &Path) -> Found {
    // Kept whole on purpose: one directory walk whose filters (size, hidden files, symlinks,
    // kinds, Flux entry points) must be read together to know exactly what `init` reads.
    let mut found = Found::default();
    let mut per_dir: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    let mut walker = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && e.file_name()
                        .to_str()
                        .is_none_or(|n| n.starts_with('.') || SKIPPED_DIRS.contains(&n)))
        });
    while let Some(entry) = walker.next() {
        let Ok(entry) = entry else {
            continue;
        };
        if entry.file_type().is_dir()
            && entry.depth() > 0
            && entry.path().join("flux-system/gotk-sync.yaml").is_file()
            && let Some(rel) = entry.path().strip_prefix(dir).ok().and_then(Path::to_str)
        {
            found.flux.insert(rel.replace('\\', "/"));
        }
        if entry.file_type().is_dir()
            && entry.depth() > 0
            && entry.path().join("Chart.yaml").is_file()
        {
            if let Some(rel) = entry.path().strip_prefix(dir).ok().and_then(Path::to_str) {
                found.charts.insert(rel.replace('\\', "/"));
            }
            walker.skip_current_dir();
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let ext = match path.extension().and_then(|e| e.to_str()) {
            Some("yaml") => "yaml",
            Some("yml") => "yml",
            _ => continue,
        };
        let Some(rel_dir) = path
            .parent()
            .and_then(|p| p.strip_prefix(dir).ok())
            .and_then(Path::to_str)
            .map(|s| s.replace('\\', "/"))
        else {
            continue;
        };
        let name = entry.file_name().to_string_lossy();
        // Hidden files are tool configuration (`.fluxschema.yml`, `.pre-commit-config.yaml`),
        // not manifests: a glob would load them and fail on the first one.
        if name.starts_with('.') {
            continue;
        }
        if name == "kustomization.yaml" || name == "kustomization.yml" {
            found.kustomizations.insert(rel_dir);
            continue;
        }
        if entry.metadata().map_or(true, |m| m.len() > 1024 * 1024) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(docs) = serde_saphyr::from_multiple::<serde_json::Value>(&text) else {
            continue;
        };
        let mut objects = 0;
        for doc in &docs {
            let (Some(api), Some(kind)) = (doc["apiVersion"].as_str(), doc["kind"].as_str()) else {
                continue;
            };
            // meshplan's own files (a spec being replaced with --force) are not manifests.
            if api.starts_with("meshplan.dev/") {
                continue;
            }
            // A document without a name is not an object the inventory loads (it would be
            // exit 2 there), so it does not make its directory a manifests directory.
            if doc["metadata"]["name"].as_str().is_none() {
                continue;
            }
            objects += 1;
            if kind == "Namespace" {
                if let Some(n) = doc["metadata"]["name"].as_str() {
                    found.namespaces.insert(n.to_string());
                }
            } else if let Some(n) = doc["metadata"]["namespace"].as_str() {
                found.namespaces.insert(n.to_string());
            }
        }
        if objects > 0 {
            per_dir.entry(rel_dir).or_default().insert(ext);
        }
    }
    for (rel_dir, exts) in per_dir {
        if found.kustomizations.contains(&rel_dir) {
            continue;
        }
        for ext in exts {
            found.globs.insert(if rel_dir.is_empty() {
                format!("*.{ext}")
            } else {
                format!("{rel_dir}/*.{ext}")
            });
        }
    }
    found
        .namespaces
        .retain(|n| !is_system_namespace(n) && crate::spec::validate::is_dns1123_label(n));
    found
}

/// The starter spec with the waves, namespaces and manifests of `found` in place of the
/// placeholders (the starter itself when nothing was found).
pub(crate) fn spec_for(found: &Found) -> String {
    let starter = crate::spec::starter_yaml();
    if found == &Found::default() {
        return starter.to_string();
    }
    let mut waves = String::from(
        "    waves:                         # order in which namespaces move; unlisted ones go last\n",
    );
    let mut namespaces = String::from(
        "  namespaces:                      # found in the manifests; meshplan sets their revision label\n",
    );
    match found.namespaces.first() {
        Some(first) => {
            waves.push_str(&format!(
                "      - name: canary               # moves first: pick a namespace you can afford to restart\n        namespaces: [{first}]\n      - name: rest\n        namespaceSelector:\n          matchLabels: {{mesh: enabled}}\n"
            ));
            for ns in &found.namespaces {
                namespaces.push_str(&format!(
                    "    - name: {ns}\n      labels: {{mesh: enabled}}\n"
                ));
            }
        }
        None => {
            waves = "    waves: []                      # order in which namespaces move; unlisted ones go last\n".into();
            namespaces = "  namespaces: []                   # no namespace found in the manifests: list the mesh's here\n".into();
        }
    }
    let mut manifests = String::from(
        "  manifests:                       # directories with Kubernetes manifests, found by `meshplan init`\n",
    );
    if found.globs.is_empty() && found.flux.is_empty() {
        manifests =
            "  manifests: []                    # no Kubernetes manifests found: add globs here\n"
                .into();
    }
    // With a Flux entry point, the first cluster is read as Flux applies it and everything
    // else is only suggested: the globs would load every cluster's copy of the same objects.
    let mut flux = found.flux.iter();
    let globs_active = match flux.next() {
        Some(first) => {
            manifests = String::from(
                "  manifests:                       # the cluster's Flux entry point, found by `meshplan init`\n",
            );
            manifests.push_str(&format!(
                "    - {{flux: {}}}   # follows its Flux Kustomizations and HelmReleases (needs kubectl)\n",
                yaml_string(first)
            ));
            for other in flux {
                manifests.push_str(&format!(
                    "    # - {{flux: {}}}   # another cluster: one meshplan.yaml per cluster\n",
                    yaml_string(other)
                ));
            }
            false
        }
        None => true,
    };
    for glob in &found.globs {
        if globs_active {
            manifests.push_str(&format!("    - {}\n", yaml_string(glob)));
        } else {
            manifests.push_str(&format!(
                "    # - {}   # read through the Flux entry point already?\n",
                yaml_string(glob)
            ));
        }
    }
    for c in &found.charts {
        manifests.push_str(&format!(
            "    # - {{helm: {{chart: {}, release: RELEASE, namespace: NAMESPACE}}}}   # a Helm chart\n",
            yaml_string(c)
        ));
    }
    for k in &found.kustomizations {
        let dir = if k.is_empty() { "." } else { k.as_str() };
        manifests.push_str(&format!(
            "    # - {{kustomize: {}}}   # built by Kustomize (needs kubectl)\n",
            yaml_string(dir)
        ));
    }
    // The cluster's name: the Flux entry point's directory (`clusters/production`) names it.
    let starter = match found
        .flux
        .first()
        .and_then(|f| f.rsplit('/').next())
        .filter(|n| crate::spec::validate::is_dns1123_label(n))
    {
        Some(cluster) => {
            starter.replacen("  name: prod-eu-1 ", &format!("  name: {cluster:<9} "), 1)
        }
        None => starter.to_string(),
    };
    let with_waves = replace_block(&starter, "    waves:", "  gateways:", &waves);
    let with_namespaces = replace_block(&with_waves, "  namespaces:", "  manifests:", &namespaces);
    replace_block(&with_namespaces, "  manifests:", "  output:", &manifests)
}

/// Replaces the lines from the one starting with `from` up to (not including) the one
/// starting with `to`.
fn replace_block(text: &str, from: &str, to: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if !skipping && line.starts_with(from) {
            skipping = true;
            out.push_str(with);
            continue;
        }
        if skipping && line.starts_with(to) {
            skipping = false;
        }
        if !skipping {
            out.push_str(line);
        }
    }
    out
}

/// A YAML double-quoted string (paths may hold `*`, `{` or `:`).
fn yaml_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_skips_meshplans_own_files_hidden_and_output_dirs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |rel: &str, text: &str| {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write("meshplan.yaml", crate::spec::starter_yaml());
        write(
            "apps/shop/cart.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart, namespace: shop}\n",
        );
        write(
            "apps/ns.yml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: payments}\n---\nnot: kubernetes\n",
        );
        write(
            "rendered/istio-system/x.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: istio-system}\n",
        );
        write(
            ".github/workflows/ci.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y, namespace: hidden}\n",
        );
        write(
            "charts/shop/Chart.yaml",
            "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
        );
        write(
            "charts/shop/templates/svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\n  namespace: templated\n",
        );
        write(
            "overlays/prod/kustomization.yaml",
            "resources: [../../apps/shop]\n",
        );
        write(
            "overlays/prod/patch.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cart, namespace: kube-system}\n",
        );
        let found = discover(dir.path());
        assert_eq!(
            found.namespaces,
            ["payments", "shop"].map(String::from).into()
        );
        assert_eq!(
            found.globs,
            ["apps/*.yml", "apps/shop/*.yaml"].map(String::from).into()
        );
        assert_eq!(found.kustomizations, ["overlays/prod".to_string()].into());
        assert_eq!(found.charts, ["charts/shop".to_string()].into());
    }

    #[test]
    fn nothing_found_keeps_the_starter() {
        assert_eq!(spec_for(&Found::default()), crate::spec::starter_yaml());
    }

    #[test]
    fn the_found_namespaces_and_globs_make_a_valid_spec() {
        let found = Found {
            namespaces: ["guestbook", "shop"].map(String::from).into(),
            globs: ["apps/shop/*.yaml", "guest book/*.yml"]
                .map(String::from)
                .into(),
            kustomizations: ["overlays/prod".to_string()].into(),
            charts: ["charts/shop".to_string()].into(),
            flux: BTreeSet::new(),
        };
        let text = spec_for(&found);
        let spec = crate::spec::parse(Path::new("meshplan.yaml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        let names: Vec<&str> = spec
            .spec
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, ["guestbook", "shop"]);
        assert_eq!(spec.spec.upgrade.waves[0].namespaces, ["guestbook"]);
        assert_eq!(spec.spec.manifests.len(), 2, "{text}");
        assert!(
            text.contains("# - {kustomize: \"overlays/prod\"}"),
            "{text}"
        );
        assert!(!text.contains("shop-canary"), "no placeholder left: {text}");
        // Still the commented starter around the found parts.
        assert!(text.contains("# waivers, e.g."), "{text}");
    }

    #[test]
    fn a_flux_entry_point_replaces_the_globs_and_names_the_cluster() {
        let found = Found {
            namespaces: ["podinfo".to_string()].into(),
            globs: ["clusters/production/*.yaml", "clusters/staging/*.yaml"]
                .map(String::from)
                .into(),
            kustomizations: BTreeSet::new(),
            charts: BTreeSet::new(),
            flux: ["clusters/production", "clusters/staging"]
                .map(String::from)
                .into(),
        };
        let text = spec_for(&found);
        let spec = crate::spec::parse(Path::new("meshplan.yaml"), &text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(spec.spec.manifests.len(), 1, "{text}");
        assert_eq!(spec.metadata.name, "production", "{text}");
        assert!(
            text.contains("    - {flux: \"clusters/production\"}"),
            "{text}"
        );
        assert!(text.contains("# - {flux: \"clusters/staging\"}"), "{text}");
        assert!(text.contains("# - \"clusters/staging/*.yaml\""), "{text}");
    }

    #[test]
    fn hidden_files_and_nameless_documents_make_no_glob() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(".fluxschema.yml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: a}\n",
        )
        .expect("write");
        std::fs::create_dir(dir.path().join("conf")).expect("mkdir");
        std::fs::write(
            dir.path().join("conf/tool.yaml"),
            "apiVersion: tool/v1\nkind: Config\nsettings: {}\n",
        )
        .expect("write");
        assert_eq!(discover(dir.path()), Found::default());
    }
}
