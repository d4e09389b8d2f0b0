//! Services and PodDisruptionBudgets: their facts, and the workloads each one selects,
//! found through an index of label pairs rather than by testing every pair.

use super::*;

pub(super) fn service_facts(obj: &Object, warnings: &mut Vec<String>) -> ServiceFacts {
    let spec = obj.body.get("spec");
    let headless = spec
        .and_then(|s| s.get("clusterIP"))
        .and_then(Value::as_str)
        .is_some_and(|ip| ip == "None");
    let selector = label_map(
        obj,
        spec.and_then(|s| s.get("selector")),
        "spec.selector",
        warnings,
    );
    let mut ports = Vec::new();
    let list = spec
        .and_then(|s| s.get("ports"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, p) in list.iter().enumerate() {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("");
        let Some(number) = p.get("port").and_then(Value::as_i64) else {
            warnings.push(format!(
                "{}:{}: {}: spec.ports[{i}].port is missing or not an integer; port skipped",
                obj.file,
                obj.line,
                obj.id.key()
            ));
            continue;
        };
        let app_protocol = p.get("appProtocol").and_then(Value::as_str);
        let transport = p.get("protocol").and_then(Value::as_str);
        let detected = protocol::detect(name, number, transport, app_protocol);
        ports.push(PortFacts {
            name: name.to_string(),
            port: number,
            app_protocol: app_protocol.map(str::to_string),
            protocol: detected.protocol,
            source: detected.source.to_string(),
        });
    }
    ServiceFacts {
        object: obj.id.clone(),
        key: obj.id.key(),
        file: obj.file.clone(),
        line: obj.line,
        headless,
        selector,
        workloads: Vec::new(),
        selects_injected: false,
        ports,
    }
}

pub(super) fn pdb_facts(obj: &Object, warnings: &mut Vec<String>) -> (PdbFacts, PdbBase) {
    let key = format!("{}/{}", obj.id.namespace, obj.id.name);
    let mut warn = |msg: String| {
        warnings.push(format!(
            "{}:{}: {}: {msg}",
            obj.file,
            obj.line,
            obj.id.key()
        ));
    };
    let spec = obj.body.get("spec");
    let field = |name: &str| {
        spec.and_then(|s| s.get(name))
            .filter(|v| !v.is_null())
            .cloned()
    };
    let min_available = field("minAvailable");
    let max_unavailable = field("maxUnavailable");
    // A malformed budget makes the controller fail to compute it: count it as blocking,
    // with the value that allows nothing for that field.
    let parse = |v: &Option<Value>, name: &str, blocking, warn: &mut dyn FnMut(String)| {
        v.as_ref().map(|v| {
            IntOrPercent::from_json(v).unwrap_or_else(|e| {
                warn(format!(
                    "spec.{name}: {e}; counted as allowing no disruption"
                ));
                blocking
            })
        })
    };
    let min = parse(
        &min_available,
        "minAvailable",
        IntOrPercent::Percent(100),
        &mut warn,
    );
    let max = parse(
        &max_unavailable,
        "maxUnavailable",
        IntOrPercent::Int(0),
        &mut warn,
    );
    if min.is_some() && max.is_some() {
        warn("sets both minAvailable and maxUnavailable (Kubernetes rejects that); using maxUnavailable".into());
    }
    // policy/v1: a null selector selects nothing, `{}` selects every pod of the namespace;
    // policy/v1beta1: an empty selector selects nothing.
    let selector = match spec
        .and_then(|s| s.get("selector"))
        .filter(|v| !v.is_null())
    {
        None => None,
        Some(v) => match Selector::from_json(v) {
            Ok(s) if s.is_empty() && obj.id.api_version == "policy/v1beta1" => None,
            Ok(s) => Some(s),
            Err(e) => {
                warn(format!("spec.{e}; it selects nothing here"));
                None
            }
        },
    };
    (
        PdbFacts {
            object: obj.id.clone(),
            key,
            file: obj.file.clone(),
            line: obj.line,
            workloads: Vec::new(),
            min_available,
            max_unavailable,
            expected_pods: 0,
            disruptions_allowed: 0,
        },
        PdbBase {
            selector,
            min_available: min,
            max_unavailable: max,
        },
    )
}

/// Index type: namespace → label key → label value → positions.
pub(super) type PairIndex = BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<usize>>>>;

pub(super) fn index_insert(index: &mut PairIndex, ns: &str, k: &str, v: &str, i: usize) {
    index
        .entry(ns.to_string())
        .or_default()
        .entry(k.to_string())
        .or_default()
        .entry(v.to_string())
        .or_default()
        .push(i);
}

/// Candidates indexed under any of `labels`' pairs in `ns`.
pub(super) fn candidates<'a>(
    index: &'a PairIndex,
    ns: &str,
    labels: &'a BTreeMap<String, String>,
) -> impl Iterator<Item = usize> + 'a {
    let by_key = index.get(ns);
    labels
        .iter()
        .filter_map(move |(k, v)| by_key?.get(k)?.get(v))
        .flatten()
        .copied()
}

/// Fills Service ↔ workload links; returns, per Service, the positions of its workloads.
pub(super) fn match_services(
    workloads: &mut [WorkloadBase],
    services: &mut [ServiceFacts],
) -> Vec<Vec<usize>> {
    let mut index = PairIndex::new();
    for (i, s) in services.iter().enumerate() {
        // An empty selector selects nothing (its Endpoints are managed by hand).
        if let Some((k, v)) = s.selector.iter().next() {
            index_insert(&mut index, &s.object.namespace, k, v, i);
        }
    }
    let mut selected = vec![Vec::new(); services.len()];
    for (wi, w) in workloads.iter_mut().enumerate() {
        let f = &mut w.facts;
        let mut hits: BTreeSet<usize> = BTreeSet::new();
        for si in candidates(&index, &f.object.namespace, &f.pod_labels) {
            let Some(s) = services.get(si) else { continue };
            if s.selector
                .iter()
                .all(|(k, v)| f.pod_labels.get(k) == Some(v))
            {
                hits.insert(si);
            }
        }
        for si in hits {
            let (Some(s), Some(sel)) = (services.get_mut(si), selected.get_mut(si)) else {
                continue;
            };
            s.workloads.push(f.key.clone());
            sel.push(wi);
            let name = format!("{}/{}", s.object.namespace, s.object.name);
            if s.headless {
                f.headless_services.push(name.clone());
            }
            f.services.push(name);
        }
    }
    selected
}

/// Fills PDB ↔ workload links and each PDB's arithmetic; returns the PDB facts.
pub(super) fn match_pdbs(
    workloads: &mut [WorkloadBase],
    pdb_list: Vec<(PdbFacts, PdbBase)>,
) -> Vec<PdbFacts> {
    let mut index = PairIndex::new();
    let mut unanchored: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, (facts, base)) in pdb_list.iter().enumerate() {
        match base.selector.as_ref().map(|s| s.match_labels.iter().next()) {
            None => {}
            Some(Some((k, v))) => index_insert(&mut index, &facts.object.namespace, k, v, i),
            Some(None) => unanchored
                .entry(facts.object.namespace.as_str())
                .or_default()
                .push(i),
        }
    }
    let mut selected: Vec<Vec<usize>> = vec![Vec::new(); pdb_list.len()];
    for (wi, w) in workloads.iter().enumerate() {
        if w.is_vm {
            continue;
        }
        let f = &w.facts;
        let extra = unanchored
            .get(f.object.namespace.as_str())
            .into_iter()
            .flatten()
            .copied();
        let hits: BTreeSet<usize> = candidates(&index, &f.object.namespace, &f.pod_labels)
            .chain(extra)
            .filter(|&pi| {
                pdb_list
                    .get(pi)
                    .and_then(|(_, b)| b.selector.as_ref())
                    .is_some_and(|s| s.matches(&f.pod_labels))
            })
            .collect();
        for pi in hits {
            if let Some(sel) = selected.get_mut(pi) {
                sel.push(wi);
            }
        }
    }
    let mut out = Vec::with_capacity(pdb_list.len());
    for ((mut facts, base), sel) in pdb_list.into_iter().zip(selected) {
        facts.expected_pods = sel
            .iter()
            .filter_map(|&wi| workloads.get(wi))
            .map(|w| w.facts.replicas)
            .sum();
        facts.disruptions_allowed = pdb::disruptions_allowed(
            base.min_available,
            base.max_unavailable,
            facts.expected_pods,
        );
        for &wi in &sel {
            let Some(w) = workloads.get_mut(wi) else {
                continue;
            };
            facts.workloads.push(w.facts.key.clone());
            w.facts.pdbs.push(facts.key.clone());
            if facts.disruptions_allowed == 0 {
                w.facts.blocking_pdbs.push(facts.key.clone());
            }
        }
        out.push(facts);
    }
    for w in workloads.iter_mut() {
        let f = &mut w.facts;
        f.disruption_allowed =
            (!f.pdbs.is_empty()).then_some(f.blocking_pdbs.is_empty() && f.pdbs.len() == 1);
    }
    out
}
