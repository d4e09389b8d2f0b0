//! Istio installations already in the manifests: whatever delivered them — a Flux
//! HelmRelease or an Argo CD Application of one of Istio's charts, an IstioOperator, a Sail
//! `Istio`/`IstioRevision`, or rendered output (`helm template`, `istioctl manifest
//! generate`: the istiod Deployment and the injector webhooks). Nobody starts from an empty
//! cluster, so the planner must know what runs before it plans a second control plane beside
//! it: MP207 reads these facts, and `meshplan adopt` writes the first lock from them.
//!
//! Recognition is one pass over the inventory; values are read the way the delivery reads
//! them (Helm values, Argo CD's `helm.values` string and `helm.parameters`, the operator's
//! `spec.revision`/`spec.tag`). A chart version written as a Flux `postBuild` variable
//! (`${version}`) is resolved from the Flux Kustomizations' `substitute`/`substituteFrom`
//! found in the inventory; when it cannot be, the version is unknown and its raw text kept.

use crate::diagnostic::ObjectRef;
use crate::inventory::{Inventory, Object};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The Istio Helm charts meshplan recognises, by their chart name.
pub const CHARTS: [&str; 5] = ["base", "istiod", "gateway", "cni", "ztunnel"];

/// The label meshplan puts on every object it renders.
const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "meshplan");

/// The revision name of an install without one (its webhooks select `istio.io/rev=default`).
pub const DEFAULT_REVISION: &str = "default";

/// One Istio installation found in the manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Installation {
    /// The object that installs it.
    pub object: ObjectRef,
    /// Its file, relative to `-C DIR`.
    pub file: String,
    /// Its 1-based line.
    pub line: u32,
    /// `base`, `istiod`, `gateway`, `cni`, `ztunnel` (a chart or its rendered output), or
    /// `injector` (a rendered sidecar-injector webhook).
    pub component: String,
    /// The revision it installs or serves; `default` for a revisionless install.
    pub revision: String,
    /// The exact Istio version, when the object pins one (null when unknown).
    pub version: Option<String>,
    /// Where the version comes from, in words (with the raw text when it is unknown).
    pub version_source: String,
    /// `flux-helm`, `argocd-helm`, `istio-operator`, `sail` or `rendered`.
    pub delivery: String,
    /// One of meshplan's own renders (labelled `app.kubernetes.io/managed-by: meshplan`).
    pub managed: bool,
    /// Recorded in `meshplan.lock` as taken over by `meshplan adopt` (filled by the CLI).
    pub adopted: bool,
    /// Revision tags the install sets (`revisionTags`).
    pub tags: Vec<String>,
    /// The `defaultRevision` value, when set.
    pub default_revision: Option<String>,
    /// The Helm release name (HelmRelease `releaseName`, else its name; Application name).
    pub release: Option<String>,
    /// The Flux HelmRepository (or OCIRepository) the release installs from, when it is in
    /// the manifests: taken over with it.
    pub source: Option<crate::state::ObjectOrigin>,
}

impl Installation {
    /// Whether it runs a control plane (istiod), the installs MP207 is about.
    pub fn is_control_plane(&self) -> bool {
        self.component == "istiod"
    }
}

/// Every installation in `inventory`, in inventory order (file, line).
pub fn find(inventory: &Inventory) -> Vec<Installation> {
    let vars = FluxVariables::collect(inventory);
    let mut out = Vec::new();
    for obj in &inventory.objects {
        let group = obj.group();
        let found = match (group, obj.id.kind.as_str()) {
            ("helm.toolkit.fluxcd.io", "HelmRelease") => flux_release(inventory, obj, &vars),
            ("argoproj.io", "Application") => argocd_application(obj),
            ("install.istio.io", "IstioOperator") => operator(obj),
            ("sailoperator.io" | "operator.istio.io", "Istio" | "IstioRevision") => sail(obj),
            ("apps", "Deployment") => rendered_istiod(obj),
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => injector(obj),
            _ => None,
        };
        out.extend(found);
    }
    out
}

/// Marks the installations the lock took over (`adopted`), matched by kind, namespace and
/// name: the file may have moved since.
pub fn mark_adopted(installations: &mut [Installation], lock: Option<&crate::state::Lock>) {
    let Some(lock) = lock else { return };
    for i in installations {
        i.adopted = lock.adopted_object(&i.object.kind, &i.object.namespace, &i.object.name);
    }
}

/// A blank installation of `obj`, to be filled by a recogniser.
fn base_of(obj: &Object, component: &str, delivery: &str) -> Installation {
    Installation {
        object: obj.id.clone(),
        file: obj.file.clone(),
        line: obj.line,
        component: component.to_string(),
        revision: DEFAULT_REVISION.to_string(),
        version: None,
        version_source: String::new(),
        delivery: delivery.to_string(),
        managed: obj
            .body
            .pointer("/metadata/labels")
            .and_then(|l| l.get(MANAGED_BY.0))
            .and_then(Value::as_str)
            == Some(MANAGED_BY.1),
        adopted: false,
        tags: Vec::new(),
        default_revision: None,
        release: None,
        source: None,
    }
}

/// Fills revision, tags and default revision from chart values.
fn read_values(inst: &mut Installation, values: &Value) {
    if let Some(rev) = values
        .get("revision")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        inst.revision = rev.to_string();
    }
    if let Some(tags) = values.get("revisionTags").and_then(Value::as_array) {
        inst.tags = tags
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    inst.default_revision = values
        .get("defaultRevision")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
}

/// An exact version from a chart version or image tag (`1.19.3`, `v1.19.3`,
/// `1.19.3-distroless`), else None.
fn exact_version(text: &str) -> Option<String> {
    let text = text.trim().trim_start_matches('v');
    let core = text.split(['-', '+', '@']).next().unwrap_or(text);
    crate::catalog::Version::parse(core)
        .ok()
        .map(|_| core.to_string())
}

/// Sets the version from `raw` read at `field`, resolving Flux variables.
fn set_version(inst: &mut Installation, raw: Option<&str>, field: &str, vars: &FluxVariables) {
    let Some(raw) = raw else {
        inst.version_source = format!("no {field}: unknown");
        return;
    };
    if raw.contains("${") {
        match vars.resolve(raw) {
            Some((value, source)) => {
                inst.version = exact_version(&value);
                inst.version_source = format!("{field} `{raw}` from {source}");
                if inst.version.is_none() {
                    inst.version_source
                        .push_str(&format!(" = `{value}`, not an exact version"));
                }
            }
            None => {
                inst.version_source = format!(
                    "{field} `{raw}`: a Flux postBuild variable not found in the manifests, unknown"
                );
            }
        }
        return;
    }
    inst.version = exact_version(raw);
    inst.version_source = if inst.version.is_some() {
        field.to_string()
    } else {
        format!("{field} `{raw}`: not an exact version, unknown")
    };
}

fn flux_release(inventory: &Inventory, obj: &Object, vars: &FluxVariables) -> Option<Installation> {
    let spec = obj.body.get("spec")?;
    let chart_spec = spec.pointer("/chart/spec");
    let chart = chart_spec
        .and_then(|c| c.get("chart"))
        .and_then(Value::as_str)?;
    let component = chart_component(chart)?;
    let mut inst = base_of(obj, component, "flux-helm");
    if let Some(values) = spec.get("values") {
        read_values(&mut inst, values);
    }
    let version = chart_spec
        .and_then(|c| c.get("version"))
        .and_then(Value::as_str);
    set_version(&mut inst, version, "spec.chart.spec.version", vars);
    inst.release = Some(
        spec.get("releaseName")
            .and_then(Value::as_str)
            .unwrap_or(&obj.id.name)
            .to_string(),
    );
    let source = chart_spec
        .and_then(|c| c.get("sourceRef"))
        .or_else(|| spec.get("chartRef"));
    if let Some(source) = source {
        let kind = source.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = source.get("name").and_then(Value::as_str).unwrap_or("");
        let namespace = source
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or(&obj.id.namespace);
        inst.source = inventory
            .get(kind, namespace, name)
            .map(|o| crate::state::ObjectOrigin {
                file: o.file.clone(),
                kind: kind.to_string(),
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
    }
    Some(inst)
}

/// The component of a chart name (`istiod`, or a repository path ending in it).
fn chart_component(chart: &str) -> Option<&'static str> {
    let name = chart.rsplit('/').next().unwrap_or(chart);
    CHARTS.into_iter().find(|c| *c == name)
}

fn argocd_application(obj: &Object) -> Option<Installation> {
    let spec = obj.body.get("spec")?;
    let sources = spec.get("source").into_iter().chain(
        spec.get("sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten(),
    );
    for source in sources {
        let Some(component) = source
            .get("chart")
            .and_then(Value::as_str)
            .and_then(chart_component)
        else {
            continue;
        };
        let mut inst = base_of(obj, component, "argocd-helm");
        let helm = source.get("helm");
        // Argo CD's precedence: parameters over valuesObject over values.
        let mut values = helm
            .and_then(|h| h.get("values"))
            .and_then(Value::as_str)
            .and_then(|text| serde_saphyr::from_str::<Value>(text).ok())
            .unwrap_or(Value::Null);
        if let Some(object) = helm.and_then(|h| h.get("valuesObject")) {
            values = object.clone();
        }
        read_values(&mut inst, &values);
        for p in helm
            .and_then(|h| h.get("parameters"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let value = p.get("value").and_then(Value::as_str).unwrap_or("");
            match p.get("name").and_then(Value::as_str) {
                Some("revision") if !value.is_empty() => inst.revision = value.to_string(),
                Some("defaultRevision") if !value.is_empty() => {
                    inst.default_revision = Some(value.to_string());
                }
                _ => {}
            }
        }
        let version = source.get("targetRevision").and_then(Value::as_str);
        set_version(
            &mut inst,
            version,
            "spec.source.targetRevision",
            &FluxVariables::default(),
        );
        inst.release = Some(
            helm.and_then(|h| h.get("releaseName"))
                .and_then(Value::as_str)
                .unwrap_or(&obj.id.name)
                .to_string(),
        );
        return Some(inst);
    }
    None
}

fn operator(obj: &Object) -> Option<Installation> {
    let spec = obj.body.get("spec");
    let pilot_off = spec
        .and_then(|s| s.pointer("/components/pilot/enabled"))
        .and_then(Value::as_bool)
        == Some(false);
    if pilot_off {
        return None;
    }
    let mut inst = base_of(obj, "istiod", "istio-operator");
    if let Some(rev) = spec
        .and_then(|s| s.get("revision"))
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        inst.revision = rev.to_string();
    }
    if let Some(tags) = spec
        .and_then(|s| s.pointer("/values/revisionTags"))
        .and_then(Value::as_array)
    {
        inst.tags = tags
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    match spec.and_then(|s| s.get("tag")) {
        Some(Value::String(tag)) => {
            set_version(&mut inst, Some(tag), "spec.tag", &FluxVariables::default());
        }
        _ => {
            inst.version_source =
                "no spec.tag: the istioctl that applies it decides, unknown".to_string();
        }
    }
    Some(inst)
}

fn sail(obj: &Object) -> Option<Installation> {
    let spec = obj.body.get("spec");
    let mut inst = base_of(obj, "istiod", "sail");
    let raw = spec.and_then(|s| s.get("version")).and_then(Value::as_str);
    set_version(&mut inst, raw, "spec.version", &FluxVariables::default());
    inst.revision = if obj.id.kind == "IstioRevision" {
        obj.id.name.clone()
    } else {
        let revision_based = spec
            .and_then(|s| s.pointer("/updateStrategy/type"))
            .and_then(Value::as_str)
            == Some("RevisionBased");
        match (&inst.version, revision_based) {
            // Sail names the revisions of a revision-based Istio `<name>-v<version>`.
            (Some(v), true) => format!("{}-v{}", obj.id.name, v.replace('.', "-")),
            _ => obj.id.name.clone(),
        }
    };
    Some(inst)
}

/// The istiod Deployment of `helm template` / `istioctl manifest generate` output: a
/// `discovery` container running the `pilot` image.
fn rendered_istiod(obj: &Object) -> Option<Installation> {
    let containers = obj
        .body
        .pointer("/spec/template/spec/containers")?
        .as_array()?;
    let image = containers.iter().find_map(|c| {
        let image = c.get("image").and_then(Value::as_str)?;
        let name = c.get("name").and_then(Value::as_str)?;
        (name == "discovery" && image_name(image) == "pilot").then_some(image)
    })?;
    let mut inst = base_of(obj, "istiod", "rendered");
    if let Some(rev) = obj
        .body
        .pointer("/metadata/labels/istio.io~1rev")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        inst.revision = rev.to_string();
    }
    set_version(
        &mut inst,
        image_tag(image),
        "the discovery container's image tag",
        &FluxVariables::default(),
    );
    Some(inst)
}

/// A sidecar-injector webhook of rendered output (`istio-sidecar-injector[-<rev>]`).
fn injector(obj: &Object) -> Option<Installation> {
    if !obj.id.name.starts_with("istio-sidecar-injector") {
        return None;
    }
    let mut inst = base_of(obj, "injector", "rendered");
    if let Some(rev) = obj
        .body
        .pointer("/metadata/labels/istio.io~1rev")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        inst.revision = rev.to_string();
    }
    inst.version_source = "a webhook carries no version, unknown".to_string();
    Some(inst)
}

/// The image's repository name without registry and tag (`docker.io/istio/pilot:1.19.3` →
/// `pilot`).
pub fn image_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

/// The image's tag, when it has one.
pub fn image_tag(image: &str) -> Option<&str> {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split_once(':').map(|(_, tag)| tag)
}

/// Flux `postBuild` variables defined by the Kustomizations of the inventory: name → the
/// values found, each with where it comes from.
#[derive(Debug, Default)]
struct FluxVariables {
    vars: BTreeMap<String, Vec<(String, String)>>,
}

impl FluxVariables {
    fn collect(inventory: &Inventory) -> FluxVariables {
        let mut vars: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for obj in &inventory.objects {
            if obj.group() != "kustomize.toolkit.fluxcd.io" || obj.id.kind != "Kustomization" {
                continue;
            }
            let Some(post) = obj.body.pointer("/spec/postBuild") else {
                continue;
            };
            let here = format!("Kustomization {}/{}", obj.id.namespace, obj.id.name);
            for (k, v) in post
                .get("substitute")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(v) = crate::facts::selector::scalar_string(v) {
                    vars.entry(k.clone())
                        .or_default()
                        .push((v, format!("{here} spec.postBuild.substitute")));
                }
            }
            for from in post
                .get("substituteFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(kind), Some(name)) = (
                    from.get("kind").and_then(Value::as_str),
                    from.get("name").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let Some(source) = inventory.get(kind, &obj.id.namespace, name) else {
                    continue;
                };
                let data = source.body.get("data").and_then(Value::as_object);
                for (k, v) in data.into_iter().flatten() {
                    if let Some(v) = crate::facts::selector::scalar_string(v) {
                        vars.entry(k.clone())
                            .or_default()
                            .push((v, format!("{kind} {}/{name}", obj.id.namespace)));
                    }
                }
            }
        }
        for values in vars.values_mut() {
            values.sort();
            values.dedup();
        }
        FluxVariables { vars }
    }

    /// The value of a text that is exactly one `${name}` (or `${name:=default}`) whose name
    /// has one value in the inventory, with its source.
    fn resolve(&self, raw: &str) -> Option<(String, String)> {
        let inner = raw.trim().strip_prefix("${")?.strip_suffix('}')?;
        let (name, default) = match inner.split_once(":=") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match self.vars.get(name).map(Vec::as_slice) {
            Some([(value, source)]) => Some((value.clone(), source.clone())),
            None => default.map(|d| (d.to_string(), "its default".to_string())),
            // Two Kustomizations disagree: the one that applies this file decides, and
            // which one that is needs the Flux entry points, so it stays unknown here.
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests;
