//! `input.rendered.gateways`: every gateway colour release found in rendered files, with
//! the type of the Service its chart creates. Policies judge what is actually rendered,
//! whoever produced it — meshplan's templates, `spec.gateways[].values`, `--charts`
//! templates or a hand edit of the committed files — so the list is read back from the
//! files themselves, in one pass over them, rather than from the model that produced them.
//!
//! `render`, `diff` and `commit` list the tree of the change they are about to write;
//! `check` lists the files committed in `spec.output` and the render of the state after the
//! judged change (docs/policy-input.md).

use crate::diagnostic::ObjectRef;
use crate::error::Error;
use crate::pipeline::Pipeline;
use crate::pipeline::change::drift::{Drift, display_path, output_dir};
use crate::plan::LockTransition;
use crate::render::{Charts, RenderedTree, model::COLOUR_LABEL};
use crate::spec::model::{Gateway, GatewayStrategy};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// One gateway colour release found in a rendered file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayRelease {
    /// `namespace/name` of the gateway.
    pub gateway: String,
    /// The colour (`meshplan.dev/colour` label, else the release name's suffix).
    pub colour: String,
    /// `spec.gateways[].strategy`; None for a gateway the spec does not list.
    pub strategy: Option<GatewayStrategy>,
    /// The chart's `service.type` (IstioOperator: `k8s.service.type`); None when unset, which
    /// the Istio gateway chart (1.22 to 1.28) and IstioOperator both default to LoadBalancer.
    pub service_type: Option<String>,
    /// The HelmRelease, Application or IstioOperator that installs it.
    pub object: ObjectRef,
    /// The file (relative to `-C DIR`, `/`-separated).
    pub file: String,
    /// 1-based line where the object's document starts.
    pub line: u64,
}

impl GatewayRelease {
    /// Identity in a merged list: one release of one file, as far as its Service goes.
    fn key(&self) -> (&str, &str, &str, Option<&str>, u64) {
        (
            &self.file,
            &self.gateway,
            &self.colour,
            self.service_type.as_deref(),
            self.line,
        )
    }
}

/// The kinds that install a gateway colour (see [`found_in`]).
const RELEASE_KINDS: [&str; 3] = ["HelmRelease", "Application", "IstioOperator"];

/// A colour release as one document declares it, before it is matched with the spec.
struct Found<'a> {
    /// Namespace the release installs into.
    namespace: &'a str,
    /// Helm release (or IstioOperator component) name.
    release: &'a str,
    /// The pod labels the values set (`labels` of the chart, `label` of the component).
    labels: Option<&'a Value>,
    /// The chart name, when the document names one.
    chart: Option<&'a str>,
    /// `service.type` of the values (`k8s.service.type` of the component), when a string.
    service_type: Option<String>,
}

/// The gateway colour releases of `tree`, whose paths are relative to `prefix` (the
/// directory as [`display_path`] shows it). Files that are not YAML, or do not parse (a hand
/// edit: MP502 reports it), are skipped. Linear in the size of the tree.
pub fn gateway_releases(
    tree: &RenderedTree,
    prefix: &str,
    gateways: &[Gateway],
) -> Result<Vec<GatewayRelease>, Error> {
    // Hand-edited files may nest as deep as the parser budget allows: parse where the stack
    // fits that, as the manifest loader does.
    crate::inventory::on_parser_stack("meshplan-rendered", || {
        releases_of_tree(tree, prefix, gateways)
    })
    .map_err(Error::Internal)
}

/// [`gateway_releases`] on the current thread.
fn releases_of_tree(
    tree: &RenderedTree,
    prefix: &str,
    gateways: &[Gateway],
) -> Vec<GatewayRelease> {
    let by_namespace = by_namespace(gateways);
    let prefix = prefix.trim_end_matches('/');
    let mut out = Vec::new();
    for (rel, text) in tree {
        if !may_hold_release(rel, text) {
            continue;
        }
        let file = crate::pipeline::change::drift::display_in(prefix, rel);
        let Ok(docs) = crate::inventory::parse_documents(text, Path::new(&file)) else {
            continue;
        };
        for doc in docs {
            out.extend(releases_in(&doc.value, &file, doc.line, &by_namespace));
        }
    }
    out
}

/// Whether the file at `rel` can hold a colour release at all: a YAML file naming one of
/// the release kinds. Most files of a large output are restart patches, which this skips
/// without parsing them.
pub fn may_hold_release(rel: &str, text: &str) -> bool {
    (rel.ends_with(".yaml") || rel.ends_with(".yml"))
        && RELEASE_KINDS.iter().any(|k| text.contains(k))
}

/// The spec's gateways by namespace, to match releases against.
fn by_namespace(gateways: &[Gateway]) -> BTreeMap<&str, Vec<&Gateway>> {
    let mut out: BTreeMap<&str, Vec<&Gateway>> = BTreeMap::new();
    for g in gateways {
        out.entry(g.namespace.as_str()).or_default().push(g);
    }
    out
}

/// The gateway colour releases one document installs, located at `file` and `line`.
fn releases_in(
    doc: &Value,
    file: &str,
    line: u64,
    by_namespace: &BTreeMap<&str, Vec<&Gateway>>,
) -> Vec<GatewayRelease> {
    let Some(object) = object_ref(doc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for found in found_in(doc) {
        let Some((name, colour)) = identify(&found, by_namespace) else {
            continue;
        };
        let strategy = by_namespace
            .get(found.namespace)
            .and_then(|gs| gs.iter().find(|g| g.name == name))
            .map(|g| g.strategy);
        out.push(GatewayRelease {
            gateway: format!("{}/{name}", found.namespace),
            colour,
            strategy,
            service_type: found.service_type,
            object: object.clone(),
            file: file.to_string(),
            line,
        });
    }
    out
}

/// The gateway colour releases among the workloads' manifests (a team that installs a
/// spec gateway's colour with a HelmRelease, Application or IstioOperator of its own): the
/// same rule holds for them, at their manifest's file and line. One pass over the objects.
pub fn inventory_releases(ctx: &Pipeline) -> Vec<GatewayRelease> {
    let gateways = &ctx.spec.spec.spec.gateways;
    if gateways.is_empty() {
        return Vec::new();
    }
    let by_namespace = by_namespace(gateways);
    ctx.inventory
        .objects
        .iter()
        .filter(|o| RELEASE_KINDS.contains(&o.id.kind.as_str()))
        .flat_map(|o| releases_in(&o.body, &o.file, u64::from(o.line), &by_namespace))
        .collect()
}

/// `{apiVersion, kind, namespace, name}` of a document with those as strings.
fn object_ref(doc: &Value) -> Option<ObjectRef> {
    let field = |p: &str| doc.pointer(p).and_then(Value::as_str);
    Some(ObjectRef {
        api_version: field("/apiVersion")?.to_string(),
        kind: field("/kind")?.to_string(),
        namespace: field("/metadata/namespace").unwrap_or("").to_string(),
        name: field("/metadata/name")?.to_string(),
    })
}

/// The releases a document installs: a Flux HelmRelease or an Argo CD Application (one
/// each), or the ingress gateway components of an IstioOperator.
fn found_in(doc: &Value) -> Vec<Found<'_>> {
    let str_at = |v: &'_ Value, p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_string);
    let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = api.split('/').next().unwrap_or("");
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let s = |p: &str| doc.pointer(p).and_then(Value::as_str);
    let service_type = |values: Option<&Value>| values.and_then(|v| str_at(v, "/service/type"));
    match (group, kind) {
        ("helm.toolkit.fluxcd.io", "HelmRelease") => {
            let values = doc.pointer("/spec/values");
            let (Some(namespace), Some(release)) = (
                s("/spec/targetNamespace").or(s("/metadata/namespace")),
                s("/spec/releaseName").or(s("/metadata/name")),
            ) else {
                return Vec::new();
            };
            vec![Found {
                namespace,
                release,
                labels: values.and_then(|v| v.get("labels")),
                chart: s("/spec/chart/spec/chart"),
                service_type: service_type(values),
            }]
        }
        ("argoproj.io", "Application") => {
            let Some(source) = doc.pointer("/spec/source") else {
                return Vec::new();
            };
            let values = source.pointer("/helm/valuesObject");
            let (Some(namespace), Some(release)) = (
                s("/spec/destination/namespace"),
                source
                    .pointer("/helm/releaseName")
                    .and_then(Value::as_str)
                    .or(s("/metadata/name")),
            ) else {
                return Vec::new();
            };
            // Argo CD's precedence: `parameters` over `valuesObject` over the `values` string.
            let parameter = source
                .pointer("/helm/parameters")
                .and_then(Value::as_array)
                .and_then(|ps| {
                    ps.iter()
                        .rev()
                        .find(|p| p.get("name").and_then(Value::as_str) == Some("service.type"))
                })
                .and_then(|p| str_at(p, "/value"));
            let in_string = || {
                let text = source.pointer("/helm/values").and_then(Value::as_str)?;
                str_at(&values_text(text)?, "/service/type")
            };
            vec![Found {
                namespace,
                release,
                labels: values.and_then(|v| v.get("labels")),
                chart: source.get("chart").and_then(Value::as_str),
                service_type: parameter
                    .or_else(|| service_type(values))
                    .or_else(in_string),
            }]
        }
        ("install.istio.io", "IstioOperator") => doc
            .pointer("/spec/components/ingressGateways")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| c.get("enabled") != Some(&Value::Bool(false)))
            .filter_map(|c| {
                Some(Found {
                    namespace: c
                        .get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or(crate::render::ISTIO_NAMESPACE),
                    release: c.get("name").and_then(Value::as_str)?,
                    labels: c.get("label"),
                    chart: None,
                    service_type: str_at(c, "/k8s/service/type"),
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The YAML text of an Argo CD `helm.values` string as a value, under the same budget as
/// the lock (no aliases, shallow); None when it does not parse (MP502 reports the edit).
fn values_text(text: &str) -> Option<Value> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_depth: 64, max_aliases: 0, max_documents: 1 },
    };
    serde_saphyr::from_str_with_options(text, options).ok()
}

/// (gateway name, colour) of a release: the colour from its `meshplan.dev/colour` label, else
/// from a spec gateway of its namespace whose name prefixes the release (`<gateway>-<colour>`);
/// None when it is not a gateway colour release at all.
fn identify(
    found: &Found<'_>,
    by_namespace: &BTreeMap<&str, Vec<&Gateway>>,
) -> Option<(String, String)> {
    let label = |k: &str| found.labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    if let Some(colour) = label(COLOUR_LABEL) {
        let name = found
            .release
            .strip_suffix(colour)
            .and_then(|n| n.strip_suffix('-'))
            .filter(|n| !n.is_empty())
            .or(label("istio"))
            .unwrap_or(found.release);
        return Some((name.to_string(), colour.to_string()));
    }
    // Without the label only a release of the gateway chart (or an operator component) named
    // after a spec gateway is one of its colours.
    if found.chart.is_some_and(|c| c != "gateway") {
        return None;
    }
    by_namespace.get(found.namespace)?.iter().find_map(|g| {
        let colour = found
            .release
            .strip_prefix(g.name.as_str())?
            .strip_prefix('-')?;
        (!colour.is_empty()).then(|| (g.name.clone(), colour.to_string()))
    })
}

/// Both lists in one, in file order; entries agreeing on file, gateway, colour, Service type
/// and line are one (the committed file and the render after the change usually agree).
pub fn merge(lists: Vec<Vec<GatewayRelease>>) -> Vec<GatewayRelease> {
    let mut all: Vec<GatewayRelease> = lists.into_iter().flatten().collect();
    all.sort_by(|a, b| a.key().cmp(&b.key()));
    all.dedup_by(|a, b| a.key() == b.key());
    all
}

/// The gateway releases `check` judges: those of the `committed` files of `spec.output`
/// (relative to it, as [`crate::pipeline::change::drift::rendered_drift`] keeps them), those of the render
/// after the `judged` steps with `charts`, and those of the manifests. The restart patches
/// have no gateway in them, so that render leaves them out and stays cheap whatever the
/// number of workloads.
pub fn check_gateways(
    ctx: &Pipeline,
    judged: &[usize],
    charts: &Charts,
    committed: &RenderedTree,
) -> Result<Vec<GatewayRelease>, Error> {
    let gateways = &ctx.spec.spec.spec.gateways;
    let prefix = display_path(ctx, &output_dir(ctx));
    let committed = gateway_releases(committed, &prefix, gateways)?;
    // Revisions, tags, labels and colours are all a gateway release depends on: the
    // workloads (the part of the lock that grows with the inventory) are left out.
    let mut lock = ctx.lock.as_ref().map_or_else(
        || crate::state::Lock::empty(&ctx.spec.spec.metadata.name),
        crate::state::Lock::without_workloads,
    );
    for step in judged.iter().filter_map(|&i| ctx.plan.steps.get(i)) {
        lock = lock.transform(&ctx.plan.gateways, step);
    }
    let mut model = crate::pipeline::change::model::render_model(
        &ctx.spec.spec,
        &ctx.inventory,
        &lock,
        &ctx.base,
        ctx.tenancy.as_ref(),
    );
    model.restarts.clear();
    let rendered = crate::render::render(&model, charts);
    let after = match super::refusals::unless_refused(rendered).map_err(|e| ctx.render_error(e))? {
        Some(tree) => gateway_releases(&tree, &prefix, gateways)?,
        None => Vec::new(),
    };
    Ok(merge(vec![committed, after, inventory_releases(ctx)]))
}

/// The `rendered` part of the policy input: `{drift?, gateways}` (`drift` only when the
/// output directory was compared).
pub fn to_input(drift: Option<&Drift>, gateways: &[GatewayRelease]) -> Result<Value, Error> {
    let mut input = match drift {
        Some(d) => d.to_input(),
        None => Value::Object(serde_json::Map::new()),
    };
    let gateways = serde_json::to_value(gateways).map_err(|e| Error::Internal(e.to_string()))?;
    if let Value::Object(map) = &mut input {
        map.insert("gateways".into(), gateways);
    }
    Ok(input)
}

#[cfg(test)]
#[path = "rendered_tests.rs"]
mod tests;
