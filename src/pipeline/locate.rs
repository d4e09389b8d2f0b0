//! Where a finding points when no manifest holds its object: the part of the spec it is
//! about (a namespace entry, a wave, the version a version rule judges, a waiver).

use super::{Pipeline, relative_to};
use crate::error::Error;

impl Pipeline {
    /// A render error as the user should read it: values a spec gateway's `values` made
    /// unfit for the chart are an error in `meshplan.yaml`, at that gateway's `values`.
    pub fn render_error(&self, e: crate::render::RenderError) -> Error {
        use crate::spec::located::Seg;
        // A refusal `check` reports as MP108 names the spec field that asks for it.
        if let crate::render::RenderError::UnsupportedAt { field, .. } = &e {
            let path: Vec<Seg<'_>> = field.iter().map(|k| Seg::Key(k)).collect();
            let pos = self.spec.locations.key_pos(&path);
            return Error::Spec(crate::spec::SpecError {
                path: self.spec.path.clone(),
                line: pos.line,
                column: pos.column,
                message: format!("{e} (`meshplan check` reports it as MP108)"),
            });
        }
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
