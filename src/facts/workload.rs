//! Reading one pod-bearing object (or WorkloadEntry) into the facts that do not depend on
//! the mesh: pod template labels and annotations, replicas, owner, restartability, probes,
//! restart policy, grace periods and the proxy's drain settings. Each object is read once.
//!
//! Proxy drain and graceful exit are read from the pod annotation `proxy.istio.io/config`
//! (a YAML ProxyConfig): `terminationDrainDuration` (else the older `drainDuration`, else
//! `proxyMetadata.TERMINATION_DRAIN_DURATION_SECONDS`) gives the drain time, Istio's
//! default being 5s. Graceful exit is any of: `proxyMetadata.EXIT_ON_ZERO_ACTIVE_CONNECTIONS`
//! true, an explicit termination drain duration, or a `preStop` hook on an `istio-proxy`
//! container override in the template.

use super::model::WorkloadFacts;
use super::selector::scalar_string;
use crate::inventory::Object;
use serde_json::Value;
use std::collections::BTreeMap;

/// Kinds whose objects carry a pod template (or are pods).
pub const POD_KINDS: [&str; 8] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
];

/// Kinds a rolling restart (pod-template annotation bump) restarts.
const RESTARTABLE_KINDS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// Istio's default `terminationDrainDuration`.
const DEFAULT_DRAIN_SECONDS: i64 = 5;

/// Annotation holding a YAML ProxyConfig override.
const PROXY_CONFIG_ANNOTATION: &str = "proxy.istio.io/config";
/// Annotation pinning a custom proxy image.
const PROXY_IMAGE_ANNOTATION: &str = "sidecar.istio.io/proxyImage";

/// A workload's mesh-independent facts plus what injection needs besides labels.
#[derive(Debug, Clone)]
pub(crate) struct WorkloadBase {
    /// The facts, with injection fields still blank.
    pub facts: WorkloadFacts,
    /// `hostNetwork: true` on the pod spec.
    pub host_network: bool,
    /// A WorkloadEntry (VM), not a pod.
    pub is_vm: bool,
    /// A committed sidecar (`istioctl kube-inject` output: an `istio-proxy` container or the
    /// `sidecar.istio.io/status` annotation): the proxy version its image pins (None when
    /// the tag is not a version). A restart does not move it; re-injection does.
    pub manual: Option<Option<String>>,
}

/// Reads `obj` when it is a workload; problems go to `warnings` naming file and line.
pub(crate) fn extract(obj: &Object, warnings: &mut Vec<String>) -> Option<WorkloadBase> {
    // Kept whole on purpose: one pass that reads the fields of one pod template into
    // `WorkloadBase`, in the struct's order, each a few lines; split, the pieces would only
    // pass the same body, spec and warning sink around.
    let kind = obj.id.kind.as_str();
    let is_vm = kind == "WorkloadEntry";
    if !is_vm && !POD_KINDS.contains(&kind) {
        return None;
    }
    let key = obj.id.key();
    let mut warn = |msg: String| warnings.push(format!("{}:{}: {key}: {msg}", obj.file, obj.line));
    let body = &obj.body;
    let (meta, spec) = if is_vm {
        (body.get("metadata"), None)
    } else {
        template_parts(kind, body)
    };
    if !is_vm && spec.is_none() {
        warn(format!("has no pod template where a {kind} keeps it"));
    }
    let pod_labels = if is_vm {
        string_map(body.pointer("/spec/labels"), "spec.labels", &mut warn)
    } else {
        string_map(meta.and_then(|m| m.get("labels")), "pod labels", &mut warn)
    };
    let pod_annotations = string_map(
        meta.and_then(|m| m.get("annotations")),
        "pod annotations",
        &mut warn,
    );
    let replicas = replicas(kind, body, &mut warn);
    let owner_kind = if kind == "Pod" || kind == "ReplicaSet" {
        controller_owner(body).unwrap_or_else(|| kind.to_string())
    } else {
        kind.to_string()
    };
    let custom_proxy_image = pod_annotations.get(PROXY_IMAGE_ANNOTATION).cloned();
    let restartable = RESTARTABLE_KINDS.contains(&kind) && custom_proxy_image.is_none();
    let spec_get = |field: &str| spec.and_then(|s| s.get(field));
    let containers: &[Value] = spec_get("containers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut containers_without_readiness: Vec<String> = containers
        .iter()
        .filter(|c| c.get("readinessProbe").is_none_or(Value::is_null))
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .filter(|name| *name != "istio-proxy")
        .map(str::to_string)
        .collect();
    containers_without_readiness.sort();
    let restart_policy = spec_get("restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("Always")
        .to_string();
    let termination_grace_period_seconds = match spec_get("terminationGracePeriodSeconds") {
        None | Some(Value::Null) => 30,
        Some(v) => v.as_i64().unwrap_or_else(|| {
            warn(format!(
                "terminationGracePeriodSeconds {v} is not an integer; using 30"
            ));
            30
        }),
    };
    let host_network = spec_get("hostNetwork").and_then(Value::as_bool) == Some(true);
    let proxy_prestop = containers.iter().chain(init_containers(spec)).any(|c| {
        c.get("name").and_then(Value::as_str) == Some("istio-proxy")
            && c.pointer("/lifecycle/preStop")
                .is_some_and(|p| !p.is_null())
    });
    let drain = proxy_drain(&pod_annotations, &mut warn);
    let manual = manual_sidecar(containers, spec, &pod_annotations);
    Some(WorkloadBase {
        facts: WorkloadFacts {
            object: obj.id.clone(),
            key,
            file: obj.file.clone(),
            line: obj.line,
            injected: false,
            revision: None,
            reason: String::new(),
            pod_rev_label: pod_labels.get(super::injection::REV_LABEL).cloned(),
            pod_labels,
            pod_annotations,
            replicas,
            owner_kind,
            restartable,
            sidecar: "none".to_string(),
            custom_proxy_image,
            pdbs: Vec::new(),
            disruption_allowed: None,
            blocking_pdbs: Vec::new(),
            containers_without_readiness,
            restart_policy,
            termination_grace_period_seconds,
            drain_duration_seconds: drain.seconds,
            graceful_exit: drain.graceful || proxy_prestop,
            services: Vec::new(),
            headless_services: Vec::new(),
            moving: false,
            step: None,
            proxy: None,
            proxy_config: None,
            next_restart: None,
            mesh: None,
            dataplane: None,
        },
        host_network,
        is_vm,
        manual,
    })
}

/// Annotation `istioctl kube-inject` (and the webhook) leave on an injected pod template.
const SIDECAR_STATUS_ANNOTATION: &str = "sidecar.istio.io/status";

/// Whether the template carries a committed sidecar, and the version its `proxyv2` image
/// pins (see [`WorkloadBase::manual`]).
fn manual_sidecar(
    containers: &[Value],
    spec: Option<&Value>,
    annotations: &BTreeMap<String, String>,
) -> Option<Option<String>> {
    let proxy = containers
        .iter()
        .chain(init_containers(spec))
        .find(|c| c.get("name").and_then(Value::as_str) == Some("istio-proxy"));
    // An `istio-proxy` entry without an image is an override the webhook merges into what
    // it injects, not a committed sidecar.
    let image = proxy.and_then(|c| c.get("image")).and_then(Value::as_str);
    if image.is_none() && !annotations.contains_key(SIDECAR_STATUS_ANNOTATION) {
        return None;
    }
    Some(image.and_then(|i| {
        let tag = super::installations::image_tag(i)?;
        let core = tag.trim_start_matches('v').split('-').next().unwrap_or(tag);
        crate::catalog::Version::parse(core)
            .ok()
            .map(|_| core.to_string())
    }))
}

/// The pod template's metadata and spec for `kind`.
fn template_parts<'a>(kind: &str, body: &'a Value) -> (Option<&'a Value>, Option<&'a Value>) {
    let template = match kind {
        "Pod" => Some(body),
        "CronJob" => body.pointer("/spec/jobTemplate/spec/template"),
        _ => body.pointer("/spec/template"),
    };
    (
        template.and_then(|t| t.get("metadata")),
        template
            .and_then(|t| t.get("spec"))
            .filter(|s| s.is_object()),
    )
}

fn init_containers(spec: Option<&Value>) -> impl Iterator<Item = &Value> {
    spec.and_then(|s| s.get("initContainers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// Desired pods: `replicas` (controllers), `parallelism` (Jobs), 1 for DaemonSets, Pods, VMs.
fn replicas(kind: &str, body: &Value, warn: &mut impl FnMut(String)) -> i64 {
    let (pointer, field) = match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController" => {
            ("/spec/replicas", "spec.replicas")
        }
        "Job" => ("/spec/parallelism", "spec.parallelism"),
        "CronJob" => (
            "/spec/jobTemplate/spec/parallelism",
            "spec.jobTemplate.spec.parallelism",
        ),
        _ => return 1,
    };
    match body.pointer(pointer) {
        None | Some(Value::Null) => 1,
        Some(v) => match v.as_i64().filter(|n| *n >= 0) {
            Some(n) => n,
            None => {
                warn(format!(
                    "{field} {v} is not a non-negative integer; counting 1"
                ));
                1
            }
        },
    }
}

/// The kind of the controller owner reference, if any.
fn controller_owner(body: &Value) -> Option<String> {
    body.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|r| r.get("kind").and_then(Value::as_str))
        .map(str::to_string)
}

/// A label or annotation map; non-string values are kept in their YAML spelling and noted.
fn string_map(
    value: Option<&Value>,
    what: &str,
    warn: &mut impl FnMut(String),
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return out;
    };
    let Some(map) = value.as_object() else {
        warn(format!("{what} are not a mapping; ignored"));
        return out;
    };
    for (k, v) in map {
        match (v, scalar_string(v)) {
            (Value::String(_), Some(s)) => {
                out.insert(k.clone(), s);
            }
            (_, Some(s)) => {
                warn(format!(
                    "{what}: {k} is not a string (quote it); read as \"{s}\""
                ));
                out.insert(k.clone(), s);
            }
            (_, None) => warn(format!("{what}: {k} is not a scalar; ignored")),
        }
    }
    out
}

/// Drain time and whether an explicit graceful-exit setting is present.
struct Drain {
    seconds: i64,
    graceful: bool,
}

fn proxy_drain(annotations: &BTreeMap<String, String>, warn: &mut impl FnMut(String)) -> Drain {
    let mut drain = Drain {
        seconds: DEFAULT_DRAIN_SECONDS,
        graceful: false,
    };
    let Some(text) = annotations.get(PROXY_CONFIG_ANNOTATION) else {
        return drain;
    };
    let config: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            warn(format!(
                "annotation {PROXY_CONFIG_ANNOTATION} is not valid YAML: {e}"
            ));
            return drain;
        }
    };
    let metadata = config.get("proxyMetadata");
    let meta = |k: &str| metadata.and_then(|m| m.get(k)).and_then(scalar_string);
    if meta("EXIT_ON_ZERO_ACTIVE_CONNECTIONS").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
        drain.graceful = true;
    }
    let explicit = [
        (
            "terminationDrainDuration",
            config
                .get("terminationDrainDuration")
                .and_then(scalar_string),
        ),
        (
            "drainDuration",
            config.get("drainDuration").and_then(scalar_string),
        ),
        (
            "TERMINATION_DRAIN_DURATION_SECONDS",
            meta("TERMINATION_DRAIN_DURATION_SECONDS").map(|s| format!("{s}s")),
        ),
    ];
    if let Some((field, value)) = explicit.into_iter().find_map(|(f, v)| v.map(|v| (f, v))) {
        match parse_duration_seconds(&value) {
            Some(s) => {
                drain.seconds = s;
                drain.graceful |= field != "drainDuration";
            }
            None => warn(format!(
                "{PROXY_CONFIG_ANNOTATION}: {field} '{value}' is not a duration like 30s or 1m30s"
            )),
        }
    }
    drain
}

/// A Go duration (`5s`, `1m30s`, `1.5s`, `500ms`, `2h`) in whole seconds, rounded up.
pub(crate) fn parse_duration_seconds(text: &str) -> Option<i64> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest.get(..num_end)?.parse().ok()?;
        rest = rest.get(num_end..)?;
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match rest.get(..unit_end)? {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = rest.get(unit_end..)?;
        total += number * factor;
    }
    Some(total.ceil() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::ObjectRef;
    use serde_json::json;

    fn object(kind: &str, body: Value) -> Object {
        Object {
            id: ObjectRef {
                api_version: "apps/v1".into(),
                kind: kind.into(),
                namespace: "shop".into(),
                name: "w".into(),
            },
            file: "apps/w.yaml".into(),
            line: 3,
            body,
        }
    }

    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "app"}]}})
    }

    fn read(kind: &str, body: Value) -> (WorkloadBase, Vec<String>) {
        let mut warnings = Vec::new();
        let w = extract(&object(kind, body), &mut warnings).expect("a workload kind");
        (w, warnings)
    }

    #[test]
    fn restartability_per_kind() {
        for (kind, restartable) in [
            ("Deployment", true),
            ("StatefulSet", true),
            ("DaemonSet", true),
            ("ReplicaSet", false),
            ("ReplicationController", false),
            ("Job", false),
        ] {
            let (w, warnings) = read(kind, json!({"spec": {"template": template()}}));
            assert_eq!(w.facts.restartable, restartable, "{kind}");
            assert!(warnings.is_empty(), "{warnings:?}");
        }
        let (cron, _) = read(
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": template()}}}}),
        );
        assert!(!cron.facts.restartable);
        assert_eq!(
            cron.facts.pod_labels.get("app").map(String::as_str),
            Some("w")
        );
        let (pod, _) = read("Pod", template());
        assert!(!pod.facts.restartable);
        assert_eq!(pod.facts.owner_kind, "Pod");
        let mut owned = template();
        owned["metadata"]["ownerReferences"] = json!([{"kind": "ReplicaSet", "controller": true}]);
        let (owned, _) = read("Pod", owned);
        assert_eq!(owned.facts.owner_kind, "ReplicaSet");
        assert!(!owned.facts.restartable);
        let (vm, _) = read("WorkloadEntry", json!({"spec": {"labels": {"app": "vm"}}}));
        assert!(vm.is_vm && !vm.facts.restartable);
        assert_eq!(
            vm.facts.pod_labels.get("app").map(String::as_str),
            Some("vm")
        );
        let mut other = object("ConfigMap", json!({}));
        other.id.kind = "ConfigMap".into();
        assert!(extract(&other, &mut Vec::new()).is_none());
    }

    #[test]
    fn custom_proxy_image_is_not_restartable() {
        let mut t = template();
        t["metadata"]["annotations"] = json!({"sidecar.istio.io/proxyImage": "acme/proxy:1"});
        let (w, _) = read("Deployment", json!({"spec": {"template": t}}));
        assert!(!w.facts.restartable);
        assert_eq!(w.facts.custom_proxy_image.as_deref(), Some("acme/proxy:1"));
    }

    #[test]
    fn replicas_and_defaults() {
        let (d, _) = read("Deployment", json!({"spec": {"template": template()}}));
        assert_eq!(
            (d.facts.replicas, d.facts.restart_policy.as_str()),
            (1, "Always")
        );
        assert_eq!(d.facts.termination_grace_period_seconds, 30);
        assert_eq!(d.facts.drain_duration_seconds, 5);
        assert!(!d.facts.graceful_exit);
        assert_eq!(
            d.facts.containers_without_readiness,
            vec!["app".to_string()]
        );
        let (zero, _) = read(
            "StatefulSet",
            json!({"spec": {"replicas": 0, "template": template()}}),
        );
        assert_eq!(zero.facts.replicas, 0);
        let (ds, _) = read(
            "DaemonSet",
            json!({"spec": {"replicas": 7, "template": template()}}),
        );
        assert_eq!(ds.facts.replicas, 1);
        let (job, _) = read(
            "Job",
            json!({"spec": {"parallelism": 4, "template": template()}}),
        );
        assert_eq!(job.facts.replicas, 4);
        let (bad, warnings) = read(
            "Deployment",
            json!({"spec": {"replicas": "three", "template": template()}}),
        );
        assert_eq!(bad.facts.replicas, 1);
        assert!(
            warnings[0].starts_with("apps/w.yaml:3: Deployment/shop/w: spec.replicas"),
            "{warnings:?}"
        );
        let (missing, warnings) = read("Deployment", json!({"spec": {}}));
        assert!(missing.facts.pod_labels.is_empty());
        assert!(warnings[0].contains("no pod template"));
    }

    #[test]
    fn probes_policy_grace_and_host_network() {
        let t = json!({"metadata": {}, "spec": {
        "restartPolicy": "Never", "terminationGracePeriodSeconds": 60, "hostNetwork": true,
        "containers": [
            {"name": "b", "readinessProbe": {"httpGet": {"port": 80}}},
            {"name": "c"}, {"name": "a"}, {"name": "istio-proxy"}
        ]}});
        let (w, _) = read("Deployment", json!({"spec": {"template": t}}));
        assert_eq!(
            w.facts.containers_without_readiness,
            vec!["a".to_string(), "c".to_string()]
        );
        assert_eq!(w.facts.restart_policy, "Never");
        assert_eq!(w.facts.termination_grace_period_seconds, 60);
        assert!(w.host_network);
    }

    #[test]
    fn proxy_drain_and_graceful_exit() {
        let with = |config: &str| {
            let mut t = template();
            t["metadata"]["annotations"] = json!({"proxy.istio.io/config": config});
            read("Deployment", json!({"spec": {"template": t}}))
        };
        let (w, _) = with("terminationDrainDuration: 45s\n");
        assert_eq!(
            (w.facts.drain_duration_seconds, w.facts.graceful_exit),
            (45, true)
        );
        let (w, _) = with("drainDuration: 1m30s\n");
        assert_eq!(
            (w.facts.drain_duration_seconds, w.facts.graceful_exit),
            (90, false)
        );
        let (w, _) = with("proxyMetadata:\n  EXIT_ON_ZERO_ACTIVE_CONNECTIONS: 'true'\n");
        assert_eq!(
            (w.facts.drain_duration_seconds, w.facts.graceful_exit),
            (5, true)
        );
        let (w, _) = with("proxyMetadata:\n  TERMINATION_DRAIN_DURATION_SECONDS: '20'\n");
        assert_eq!(
            (w.facts.drain_duration_seconds, w.facts.graceful_exit),
            (20, true)
        );
        let (w, warnings) = with("terminationDrainDuration: soon\n");
        assert_eq!(w.facts.drain_duration_seconds, 5);
        assert!(warnings[0].contains("not a duration"), "{warnings:?}");
        let (_, warnings) = with("[unclosed\n");
        assert!(warnings[0].contains("not valid YAML"), "{warnings:?}");
        let mut t = template();
        t["spec"]["containers"] = json!([{"name": "app"}, {"name": "istio-proxy", "lifecycle": {"preStop": {"exec": {"command": ["sleep", "10"]}}}}]);
        let (w, _) = read("Deployment", json!({"spec": {"template": t}}));
        assert!(w.facts.graceful_exit);
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration_seconds("5s"), Some(5));
        assert_eq!(parse_duration_seconds("1m30s"), Some(90));
        assert_eq!(parse_duration_seconds("1h"), Some(3600));
        assert_eq!(parse_duration_seconds("1.5s"), Some(2));
        assert_eq!(parse_duration_seconds("500ms"), Some(1));
        assert_eq!(parse_duration_seconds("0s"), Some(0));
        assert_eq!(parse_duration_seconds("5"), None);
        assert_eq!(parse_duration_seconds("5x"), None);
        assert_eq!(parse_duration_seconds(""), None);
    }
}
