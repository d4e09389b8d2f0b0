//! The render stage: turns a [`RenderModel`] (the mesh after one plan step) into the GitOps
//! files of `spec.output` — Flux HelmReleases, Argo CD Applications, IstioOperators or a Sail
//! `Istio` with its `IstioRevisionTag`s ([`sail`]), the
//! gateways' traffic Services, Namespaces and the Kustomize patches that restart workloads.
//!
//! Templates (`charts/`, see [`charts`]) lay the objects out; the Helm values are decided in
//! Rust ([`values`]) so every delivery installs the same thing. Every rendered document is
//! parsed back, validated against the real schema of its kind ([`schema`]), and written in one
//! canonical form ([`canonical`]): the same model renders the same bytes on every machine.
//! [`write_tree`] puts a tree on disk all at once or not at all. `docs/render.md` describes the
//! layout and the choices behind it.

pub mod canonical;
pub mod chart_values;
pub mod charts;
mod check;
mod deliveries;
pub mod model;
mod pruning;
pub mod sail;
pub mod schema;
pub mod values;
mod write;

pub use charts::{Charts, Origin};
pub use model::{RenderGateway, RenderModel, RenderNamespace, RenderRevision, RestartBump};
pub use write::write_tree;

use crate::catalog::Version;
use crate::spec::model::Delivery;
use check::check_model;
use deliveries::*;
use model::{COLOUR_LABEL, RESTART_ANNOTATION};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Rendered files: relative path (`/`-separated) → contents.
pub type RenderedTree = BTreeMap<String, String>;

/// The namespace of the control plane.
pub const ISTIO_NAMESPACE: &str = "istio-system";

/// Why a render failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template failed to compile or to render.
    #[error("{location}: {message}")]
    Template {
        /// The template (file path, or `charts/<name> (embedded)`) and line.
        location: String,
        /// What went wrong.
        message: String,
        /// The template came from the user's `--charts` directory.
        user: bool,
    },
    /// A template rendered something that is not valid YAML or does not fit its kind's schema.
    #[error("{location}: document {document} ({object}): {message}")]
    Output {
        /// The template that produced the document.
        location: String,
        /// 1-based index of the document in the template's output.
        document: usize,
        /// `Kind/namespace/name` of the document, as far as it is known.
        object: String,
        /// What is wrong with it.
        message: String,
        /// The template came from the user's `--charts` directory.
        user: bool,
    },
    /// The `--charts` directory cannot be used.
    #[error("charts directory {}: {message}", path.display())]
    Charts {
        /// The directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The values of a gateway colour's release (meshplan's with `spec.gateways[].values`
    /// merged over) do not fit the gateway chart's own values schema.
    #[error(
        "gateway {gateway}: the values of release {release} do not fit the values schema of the gateway {schema} chart: {}",
        errors.join("; ")
    )]
    Values {
        /// The gateway, `namespace/name`.
        gateway: String,
        /// The release, `<gateway>-<colour>`.
        release: String,
        /// The chart release whose schema refused them.
        schema: String,
        /// `<JSON pointer>: <message>`, sorted.
        errors: Vec<String>,
    },
    /// The spec asks for something the renderer cannot write (e.g. two gateway colours whose
    /// names run together).
    #[error("cannot render: {0}")]
    Unsupported(String),
    /// The spec asks for something the renderer cannot write at a version the plan passes
    /// through (revision tags on an istiod chart older than 1.22): another path or spec
    /// avoids it, so `check` reports it as a finding (MP108) at the spec field `field`.
    #[error("cannot render: {message}")]
    UnsupportedAt {
        /// What cannot be rendered, and why.
        message: String,
        /// The spec field that asks for it, as keys from the document root.
        field: &'static [&'static str],
    },
    /// The model handed to the renderer is inconsistent: a bug in the stage that built it.
    #[error("inconsistent render model: {0}")]
    Model(String),
    /// A bug in the renderer itself.
    #[error("renderer bug: {0}")]
    Internal(String),
}

impl RenderError {
    /// Whether this is our bug (exit 3) rather than the user's input (exit 2).
    pub fn is_internal(&self) -> bool {
        match self {
            RenderError::Template { user, .. } | RenderError::Output { user, .. } => !user,
            RenderError::Model(_) | RenderError::Internal(_) => true,
            RenderError::Charts { .. }
            | RenderError::Io { .. }
            | RenderError::Unsupported(_)
            | RenderError::UnsupportedAt { .. }
            | RenderError::Values { .. } => false,
        }
    }

    /// A minijinja failure of template `name`, located at its file (or embedded name) and line.
    pub(crate) fn template(name: &str, origin: Origin, e: &minijinja::Error) -> RenderError {
        let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        RenderError::Template {
            location: format!("{}{line}", location(name, &origin)),
            message,
            user: origin != Origin::Embedded,
        }
    }
}

fn location(name: &str, origin: &Origin) -> String {
    match origin {
        Origin::Embedded => format!("charts/{name} (embedded)"),
        Origin::File(p) => p.display().to_string(),
    }
}

/// The Component directories under the output directory, rendered in every step
/// (docs/render.md, "Wiring the components").
pub const COMPONENTS: [&str; 2] = ["restarts", "namespaces"];

/// Renders the files of one plan step. Pure: no I/O, no clock, no environment.
pub fn render(model: &RenderModel, charts: &Charts) -> Result<RenderedTree, RenderError> {
    let m = model.normalized();
    check_model(&m)?;
    let env = charts.environment()?;
    let mut r = Renderer {
        env: &env,
        charts,
        files: BTreeMap::new(),
        objects: BTreeSet::new(),
        patches: Vec::new(),
        removals: Vec::new(),
    };
    let labels =
        json!({"app.kubernetes.io/managed-by": "meshplan", "meshplan.dev/cluster": m.cluster});
    render_namespaces(&mut r, &m, &labels)?;
    match m.delivery {
        Delivery::FluxHelm => render_flux(&mut r, &m, &labels)?,
        Delivery::ArgocdHelm => render_argocd(&mut r, &m, &labels)?,
        Delivery::IstioOperator => render_operator(&mut r, &m, &labels)?,
        Delivery::Sail => sail::render_sail(&mut r, &m, &labels)?,
    }
    render_services(&mut r, &m, &labels)?;
    render_restarts(&mut r, &m)?;
    r.finish()
}

/// Collects rendered documents per file before they are written canonically.
struct Renderer<'a> {
    env: &'a minijinja::Environment<'static>,
    charts: &'a Charts,
    files: BTreeMap<String, Vec<Value>>,
    /// `Kind/namespace/name` of every document so far.
    objects: BTreeSet<String>,
    /// (patch file, Kustomize target)
    patches: Vec<(String, Value)>,
    /// (component directory, Kustomize target, JSON6902 operations) of inline patches.
    removals: Vec<(String, Value, Value)>,
}

impl Renderer<'_> {
    /// Renders `template` with `ctx` into the file `path`, checking every document.
    fn emit(
        &mut self,
        path: String,
        template: &str,
        ctx: Value,
        patch: Option<Value>,
    ) -> Result<(), RenderError> {
        let origin = self.charts.origin(template);
        let text = self
            .env
            .get_template(template)
            .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&ctx))))
            .map_err(|e| RenderError::template(template, origin.clone(), &e))?;
        let output_error = |document: usize, object: String, message: String| RenderError::Output {
            location: location(template, &origin),
            document,
            object,
            message,
            user: origin != Origin::Embedded,
        };
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text).map_err(|e| {
            output_error(
                0,
                "?".into(),
                format!("not valid YAML: {e}\n--- rendered text ---\n{text}"),
            )
        })?;
        let mut kept = Vec::new();
        for (i, doc) in docs.into_iter().enumerate().filter(|(_, d)| !d.is_null()) {
            let object = describe(&doc);
            let (Some(_), Some(_), Some(_)) = (
                doc.get("apiVersion").and_then(Value::as_str),
                doc.get("kind").and_then(Value::as_str),
                doc.pointer("/metadata/name").and_then(Value::as_str),
            ) else {
                return Err(output_error(
                    i + 1,
                    object,
                    "every document needs a string apiVersion, kind and metadata.name".into(),
                ));
            };
            match schema::check(&doc).map_err(RenderError::Internal)? {
                schema::Checked::Valid => {}
                // Restart patches are partial workloads: no schema accepts them, and the
                // kinds they patch are the user's, so only their shape is checked (above).
                schema::Checked::NoSchema if patch.is_some() => {}
                schema::Checked::NoSchema => {
                    return Err(output_error(
                        i + 1,
                        object,
                        "meshplan has no schema for this apiVersion/kind and writes only what it can validate".into(),
                    ));
                }
                schema::Checked::Invalid(errors) => {
                    let shown: Vec<String> = errors
                        .iter()
                        .take(5)
                        .map(|(p, msg)| {
                            format!("at `{}`: {msg}", if p.is_empty() { "/" } else { p })
                        })
                        .collect();
                    return Err(output_error(
                        i + 1,
                        object,
                        format!(
                            "does not fit the {} schema: {}",
                            kind_of(&doc),
                            shown.join("; ")
                        ),
                    ));
                }
            }
            kept.push(doc);
        }
        if kept.is_empty() {
            return Err(output_error(0, "?".into(), "rendered no document".into()));
        }
        // Names are built from the user's gateway, colour and revision names, so two of them
        // can meet (gateway `a-b` colour `c`, gateway `a` colour `b-c`): refuse, never overwrite.
        for doc in &kept {
            if !self.objects.insert(describe(doc)) {
                return Err(RenderError::Unsupported(format!(
                    "{} would be rendered twice (in {path}); rename the gateway or colour whose \
                     names run together",
                    describe(doc)
                )));
            }
        }
        if self.files.insert(path.clone(), kept).is_some() {
            return Err(RenderError::Unsupported(format!(
                "two renders would write {path}; rename the gateway or colour whose names run together"
            )));
        }
        if let Some(target) = patch {
            self.patches.push((path, target));
        }
        Ok(())
    }

    /// Writes every file canonically and adds the root `kustomization.yaml`.
    fn finish(self) -> Result<RenderedTree, RenderError> {
        let mut tree = RenderedTree::new();
        let patch_paths: BTreeSet<&String> = self.patches.iter().map(|(p, _)| p).collect();
        let mut resources: Vec<(usize, &String)> = Vec::new();
        for (path, docs) in &self.files {
            let mut docs = docs.clone();
            docs.sort_by_key(|d| (kind_rank(d), describe(d)));
            let text = canonical::to_yaml_documents(&docs);
            let back: Vec<Value> = serde_saphyr::from_multiple(&text)
                .map_err(|e| RenderError::Internal(format!("{path} does not read back: {e}")))?;
            if back != docs {
                return Err(RenderError::Internal(format!(
                    "{path} reads back differently from what was written"
                )));
            }
            if !patch_paths.contains(path) {
                resources.push((docs.first().map_or(usize::MAX, kind_rank), path));
            }
            tree.insert(path.clone(), text);
        }
        resources.sort();
        let kustomization = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>(),
        });
        tree.insert(
            "kustomization.yaml".into(),
            canonical::to_yaml(&kustomization),
        );
        // Kustomize applies patches only to objects of the same build, and the workloads and
        // the namespaces meshplan patches are built by the user's own kustomizations. So the
        // patches of each directory form a Component the user's kustomization includes
        // (`components: [<output>/restarts, <output>/namespaces]`); patch paths stay inside
        // the component's directory, as Kustomize's default load restrictor requires.
        // Both Components are rendered in every step, with `patches: []` when there is
        // nothing to patch (Kustomize refuses a Component with no field besides its kind as
        // empty): the user wires them once, after the first render (the install step, which
        // restarts and relabels nothing), and a kustomization including them never breaks
        // because a step left one without patches.
        let mut components: BTreeMap<String, Vec<Value>> = COMPONENTS
            .iter()
            .map(|dir| ((*dir).to_string(), Vec::new()))
            .collect();
        let mut patches = self.patches.clone();
        patches.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, target) in patches {
            let (dir, rest) = path.split_once('/').ok_or_else(|| {
                RenderError::Internal(format!("patch {path} is not inside a directory"))
            })?;
            components
                .entry(dir.to_string())
                .or_default()
                .push(json!({"path": rest, "target": target}));
        }
        for (dir, target, ops) in &self.removals {
            let ops = serde_json::to_string(ops)
                .map_err(|e| RenderError::Internal(format!("JSON patch of {target}: {e}")))?;
            components
                .entry(dir.clone())
                .or_default()
                .push(json!({"patch": ops, "target": target}));
        }
        for (dir, patches) in components {
            let component = json!({
                "apiVersion": "kustomize.config.k8s.io/v1alpha1",
                "kind": "Component",
                "patches": patches,
            });
            tree.insert(
                format!("{dir}/kustomization.yaml"),
                canonical::to_yaml(&component),
            );
        }
        Ok(tree)
    }
}

/// `key` as one JSON-pointer segment (RFC 6901: `~` is `~0`, `/` is `~1`), as label keys
/// such as `istio.io/rev` need.
fn json_pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Install order of kinds: namespaces, chart sources, releases, Services, then the rest.
fn kind_rank(doc: &Value) -> usize {
    match kind_of(doc) {
        "Namespace" => 0,
        "HelmRepository" | "OCIRepository" => 1,
        "HelmRelease" | "Application" | "IstioOperator" | "Istio" => 2,
        "Service" => 3,
        _ => 4,
    }
}

fn kind_of(doc: &Value) -> &str {
    doc.get("kind").and_then(Value::as_str).unwrap_or("?")
}

/// `Kind/namespace/name` (or `Kind/name`) of a rendered document.
fn describe(doc: &Value) -> String {
    let field = |p: &str| doc.pointer(p).and_then(Value::as_str).unwrap_or("");
    let (ns, name) = (field("/metadata/namespace"), field("/metadata/name"));
    if ns.is_empty() {
        format!("{}/{name}", kind_of(doc))
    } else {
        format!("{}/{ns}/{name}", kind_of(doc))
    }
}

/// Namespaces of the mesh (objects or label patches), plus the control-plane and gateway
/// namespaces when the spec does not list them (they must exist before the releases).
fn render_namespaces(r: &mut Renderer, m: &RenderModel, labels: &Value) -> Result<(), RenderError> {
    let listed: BTreeSet<&str> = m.namespaces.iter().map(|n| n.name.as_str()).collect();
    let mut implicit: BTreeSet<&str> = m.gateways.iter().map(|g| g.namespace.as_str()).collect();
    if !m.revisions.is_empty() {
        implicit.insert(ISTIO_NAMESPACE);
    }
    for name in implicit.into_iter().filter(|n| !listed.contains(n)) {
        r.emit(
            format!("namespaces/{name}.yaml"),
            "common/namespace.yaml.j2",
            json!({"namespace": {"name": name, "labels": labels}, "labels": labels}),
            None,
        )?;
    }
    for ns in &m.namespaces {
        if ns.defined_elsewhere {
            let target = json!({"version": "v1", "kind": "Namespace", "name": ns.name});
            r.emit(
                format!("namespaces/{}.patch.yaml", ns.name),
                "common/namespace-patch.yaml.j2",
                json!({"namespace": {"name": ns.name, "labels": ns.labels}, "labels": labels}),
                Some(target.clone()),
            )?;
            // A JSON6902 `remove`, not a strategic-merge `null`: Kustomize 5.7 writes the
            // null of a targeted patch as the string "null". A label the spec sets itself is
            // the spec's to keep.
            let ops: Vec<Value> = ns
                .remove
                .iter()
                .filter(|k| !ns.labels.contains_key(*k))
                .map(|k| {
                    let path = format!("/metadata/labels/{}", json_pointer_escape(k));
                    json!({"op": "remove", "path": path})
                })
                .collect();
            if !ops.is_empty() {
                r.removals
                    .push(("namespaces".into(), target, Value::Array(ops)));
            }
        } else {
            let mut all = labels.clone();
            values::deep_merge(&mut all, &json!(ns.labels));
            r.emit(
                format!("namespaces/{}.yaml", ns.name),
                "common/namespace.yaml.j2",
                json!({"namespace": {"name": ns.name, "labels": all}, "labels": labels}),
                None,
            )?;
        }
    }
    Ok(())
}

fn render_services(r: &mut Renderer, m: &RenderModel, labels: &Value) -> Result<(), RenderError> {
    for g in &m.gateways {
        let mut selector = json!({"istio": g.name});
        if let Some(active) = &g.active {
            selector[COLOUR_LABEL] = json!(active);
        }
        let ports: Vec<Value> = g
            .service
            .ports
            .iter()
            .map(|p| {
                let mut port = json!({"name": p.name, "port": p.port,
                                      "targetPort": p.target_port.unwrap_or(p.port)});
                if let Some(proto) = &p.protocol {
                    port["protocol"] = json!(proto);
                }
                port
            })
            .collect();
        r.emit(
            format!("{}/{}-service.yaml", g.namespace, g.name),
            "common/service.yaml.j2",
            json!({
                "gateway": {"name": g.name, "namespace": g.namespace, "type": g.service.service_type,
                            "selector": selector, "ports": ports},
                "labels": labels,
            }),
            None,
        )?;
    }
    Ok(())
}

fn render_restarts(r: &mut Renderer, m: &RenderModel) -> Result<(), RenderError> {
    for b in &m.restarts {
        let o = &b.object;
        let job_template = match o.kind.as_str() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => false,
            "CronJob" => true,
            other => {
                return Err(RenderError::Model(format!(
                    "{}: a {other} has no pod template a restart annotation can bump",
                    o.key()
                )));
            }
        };
        let (group, version) = o
            .api_version
            .rsplit_once('/')
            .unwrap_or(("", &o.api_version));
        // Exactly one object: group, version, kind, namespace and name as the controllers
        // apply it (after the overlays' namespace and namePrefix, which kustomize-built
        // inputs make visible). Without the namespace, a component included in a build of
        // several namespaces bumped every same-named workload, in waves not yet due. So the
        // component belongs in a kustomization whose objects already carry their final
        // namespace and name (docs/render.md, "wiring the components").
        let mut target = json!({"version": version, "kind": o.kind, "namespace": o.namespace,
                                "name": o.name});
        if !group.is_empty() {
            target["group"] = json!(group);
        }
        r.emit(
            // Kinds have no `-` and namespaces no `/`: the path is unambiguous.
            format!("restarts/{}/{}-{}.yaml", o.namespace, o.kind.to_ascii_lowercase(), o.name),
            "common/restart-patch.yaml.j2",
            json!({"restart": {"apiVersion": o.api_version, "kind": o.kind, "namespace": o.namespace,
                               "name": o.name, "annotations": {RESTART_ANNOTATION: b.value},
                               "jobTemplate": job_template}}),
            Some(target),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
