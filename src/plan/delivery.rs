//! Which Istio versions each delivery can install. The in-cluster IstioOperator controller
//! was deprecated in Istio 1.23 and removed in 1.24: from then on an `IstioOperator` that
//! Flux or Argo CD applies is reconciled by nothing, so `delivery: istio-operator` stops at
//! 1.23. A step whose render would install a newer version is a planner problem (MP110):
//! the plan keeps its steps, so the finding can be re-rated or switched off like any rule
//! (someone who feeds the rendered IstioOperator to `istioctl install -f` by hand may), while
//! by default `check`, `render`, `diff` and `commit` refuse the plan.

use super::{PlanProblem, ProblemKind, Step};
use crate::catalog::{Catalog, Version};
use crate::spec::{Delivery, Spec};

/// The newest Istio minor (major, minor) a delivery can install, or `None` when it follows
/// every release. The `match` has no wildcard: a new delivery must state its limit.
pub fn last_supported_minor(delivery: Delivery) -> Option<(u32, u32)> {
    match delivery {
        // The Sail Operator installs only the versions its own release lists: a version it
        // does not install is MP107 with that reason (`catalog::sail`), and the renderer
        // refuses it (MP108), so it has no upper limit here.
        Delivery::FluxHelm | Delivery::ArgocdHelm | Delivery::Sail => None,
        Delivery::IstioOperator => Some((1, 23)),
    }
}

/// The spec's name of a delivery, as users write it in `spec.istio.delivery`.
fn delivery_name(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::FluxHelm => "flux-helm",
        Delivery::ArgocdHelm => "argocd-helm",
        Delivery::IstioOperator => "istio-operator",
        Delivery::Sail => "sail",
    }
}

/// The MP110 problem of the first remaining step whose mesh (the revisions installed once it
/// is applied, which its render writes) holds a version beyond what the spec's delivery can
/// install, naming the newest such version of that step and the catalogue's newest patch
/// of the last supported minor. Done steps are in the lock already and render nothing.
pub(super) fn problem(spec: &Spec, catalog: &Catalog, steps: &[Step]) -> Option<PlanProblem> {
    let delivery = spec.spec.istio.delivery;
    let (major, minor) = last_supported_minor(delivery)?;
    let (step, version) = steps.iter().filter(|s| !s.done).find_map(|s| {
        s.view
            .revisions
            .values()
            .filter_map(|v| Version::parse(v).ok())
            .filter(|v| v.minor_key() > (major, minor))
            .max()
            .map(|v| (s, v))
    })?;
    // A catalogue without that minor (a `--catalog` of newer releases only) still lets the
    // message name the minor.
    let last = catalog
        .latest_patch(major, minor)
        .map_or_else(|| format!("{major}.{minor}"), |v| v.to_string());
    let name = delivery_name(delivery);
    Some(PlanProblem {
        rule: ProblemKind::DeliveryUnsupported.rule().to_string(),
        kind: ProblemKind::DeliveryUnsupported,
        message: format!(
            "delivery {name} cannot install Istio {version} (step \"{}\"): the in-cluster IstioOperator controller was removed in Istio 1.24, so nothing would reconcile the IstioOperator rendered for it; the last version {name} supports is {last}",
            step.name
        ),
        hop: Some(step.hop.clone()),
        kubernetes: Vec::new(),
        step: Some(step.name.clone()),
        last_supported: Some(last),
    })
}

#[cfg(test)]
mod tests {
    use super::super::plan;
    use super::*;
    use std::path::Path;

    fn spec(version: &str, delivery: &str) -> Spec {
        let text = format!(
            "apiVersion: meshplan.dev/v1alpha1
kind: Mesh
metadata: {{name: prod}}
spec:
  kubernetesVersion: \"1.30\"
  istio: {{version: {version}, delivery: {delivery}}}
  namespaces: [{{name: a}}]
"
        );
        crate::spec::parse(Path::new("meshplan.yaml"), &text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn problems(version: &str, delivery: &str, catalog: &Catalog) -> Vec<PlanProblem> {
        plan(&spec(version, delivery), None, catalog).problems
    }

    #[test]
    fn istio_operator_stops_at_the_catalogues_newest_1_23_patch() {
        let catalog = Catalog::builtin();
        assert!(problems("1.23.6", "istio-operator", &catalog).is_empty());
        let found = problems("1.24.6", "istio-operator", &catalog);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, ProblemKind::DeliveryUnsupported);
        assert_eq!(found[0].rule, "MP110");
        assert_eq!(found[0].step.as_deref(), Some("install"));
        assert_eq!(found[0].hop.as_deref(), Some("1.24.6"));
        assert_eq!(found[0].last_supported.as_deref(), Some("1.23.6"));
        for delivery in ["flux-helm", "argocd-helm"] {
            assert!(
                problems("1.28.10", delivery, &catalog).is_empty(),
                "{delivery}"
            );
        }
    }

    #[test]
    fn a_catalogue_without_1_23_still_names_the_minor() {
        let text = "schema_version: 1
minors:
  - minor: \"1.24\"
    patches: [{version: 1.24.6, date: 2025-05-01}]
";
        let catalog = Catalog::parse(Path::new("cat.yaml"), text).unwrap_or_else(|e| panic!("{e}"));
        let found = problems("1.24.6", "istio-operator", &catalog);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].last_supported.as_deref(), Some("1.23"));
        assert!(found[0].message.ends_with("supports is 1.23"), "{found:?}");
    }
}
