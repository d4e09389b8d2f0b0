//! From raw rule findings to diagnostics: the user's `spec.rules` overrides, their
//! `spec.exceptions` waivers, and source locations. Kept apart from evaluation so the CLI
//! can evaluate several steps and apply the user's choices once.

use super::Finding;
use crate::diagnostic::{Diagnostic, ObjectRef, normalize};
use crate::spec::{MeshSpec, RuleSetting};
use std::collections::BTreeMap;

/// Applies overrides (`off` drops, `deny|warn|info` replaces the severity) and unexpired
/// waivers (`expires` >= `today`, dates as YYYY-MM-DD), fills file and line through
/// `locate`, and returns the diagnostics in report order.
pub fn apply(
    findings: Vec<Finding>,
    spec: &MeshSpec,
    today: &str,
    locate: &dyn Fn(&ObjectRef) -> Option<(String, u32)>,
) -> Vec<Diagnostic> {
    // rule → object → latest expiry: one lookup per finding whatever the number of waivers.
    let mut waivers: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for e in &spec.exceptions {
        let entry = waivers
            .entry((e.rule.as_str(), e.object.as_str()))
            .or_insert(e.expires.as_str());
        if e.expires.as_str() > *entry {
            *entry = e.expires.as_str();
        }
    }
    let mut out = Vec::with_capacity(findings.len());
    for f in findings {
        let severity = match spec.rules.get(&f.code) {
            Some(RuleSetting::Off) => continue,
            Some(RuleSetting::Deny) => crate::diagnostic::Severity::Deny,
            Some(RuleSetting::Warn) => crate::diagnostic::Severity::Warn,
            Some(RuleSetting::Info) => crate::diagnostic::Severity::Info,
            None => f.default_severity,
        };
        if let Some(object) = &f.object {
            let key = object.key();
            // ISO dates compare correctly as strings; a waiver holds through its last day.
            if waivers
                .get(&(f.code.as_str(), key.as_str()))
                .is_some_and(|expires| *expires >= today)
            {
                continue;
            }
        }
        // A rule that names the file it saw the object in (a rendered file) knows better
        // than the manifests' index, which does not hold rendered objects.
        let location = match (&f.file, f.line) {
            (Some(file), line) => Some((file.clone(), line.unwrap_or(1))),
            (None, _) => f.object.as_ref().and_then(locate),
        };
        out.push(Diagnostic {
            rule: f.code,
            name: f.name,
            severity,
            message: f.message,
            object: f.object,
            file: location.as_ref().map(|(file, _)| file.clone()),
            line: location.map(|(_, line)| line),
            hint: f.hint,
            step: f.step,
        });
    }
    normalize(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use std::path::Path;

    fn spec(extra: &str) -> MeshSpec {
        let text = format!(
            "apiVersion: meshplan.dev/v1alpha1\nkind: Mesh\nmetadata: {{name: t}}\nspec:\n  kubernetesVersion: \"1.30\"\n  istio: {{version: 1.24.3}}\n{extra}"
        );
        crate::spec::parse(Path::new("meshplan.yaml"), &text)
            .expect("test spec parses")
            .spec
    }

    fn finding(code: &str, name: &str) -> Finding {
        Finding {
            code: code.into(),
            name: "missing-pdb".into(),
            default_severity: Severity::Deny,
            message: format!("finding on {name}"),
            object: Some(ObjectRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "bookinfo".into(),
                name: name.into(),
            }),
            hint: None,
            step: Some("wave canary".into()),
            file: None,
            line: None,
        }
    }

    fn locate(o: &ObjectRef) -> Option<(String, u32)> {
        (o.name == "details").then(|| ("apps/details.yaml".to_string(), 7))
    }

    #[test]
    fn no_settings_keeps_default_severity_and_locates() {
        let out = apply(
            vec![finding("MP301", "details")],
            &spec(""),
            "2025-01-01",
            &locate,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].severity, Severity::Deny);
        assert_eq!(out[0].file.as_deref(), Some("apps/details.yaml"));
        assert_eq!(out[0].line, Some(7));
        assert_eq!(out[0].step.as_deref(), Some("wave canary"));
    }

    #[test]
    fn a_file_the_rule_names_wins_over_the_manifests() {
        let mut f = finding("MP402", "details");
        f.file = Some("rendered/istio-ingress/ingress-blue.yaml".into());
        f.line = Some(3);
        let out = apply(vec![f], &spec(""), "2025-01-01", &locate);
        assert_eq!(
            out[0].file.as_deref(),
            Some("rendered/istio-ingress/ingress-blue.yaml")
        );
        assert_eq!(out[0].line, Some(3));
    }

    #[test]
    fn override_to_warn_replaces_severity() {
        let s = spec("  rules: {MP301: warn}\n");
        let out = apply(vec![finding("MP301", "details")], &s, "2025-01-01", &locate);
        assert_eq!(out[0].severity, Severity::Warn);
    }

    #[test]
    fn override_off_drops_only_that_rule() {
        let s = spec("  rules: {MP301: off}\n");
        let out = apply(
            vec![finding("MP301", "details"), finding("MP303", "details")],
            &s,
            "2025-01-01",
            &locate,
        );
        let rules: Vec<&str> = out.iter().map(|d| d.rule.as_str()).collect();
        assert_eq!(rules, vec!["MP303"]);
    }

    const WAIVER: &str = "  exceptions:\n    - {rule: MP301, object: Deployment/bookinfo/details, reason: single replica, expires: 2025-01-31}\n";

    #[test]
    fn active_waiver_drops_the_matching_object_only() {
        let out = apply(
            vec![finding("MP301", "details"), finding("MP301", "reviews")],
            &spec(WAIVER),
            "2025-01-31",
            &locate,
        );
        let names: Vec<String> = out
            .iter()
            .filter_map(|d| d.object.as_ref().map(|o| o.name.clone()))
            .collect();
        assert_eq!(names, vec!["reviews"]);
    }

    #[test]
    fn waiver_for_another_rule_does_not_apply() {
        let out = apply(
            vec![finding("MP303", "details")],
            &spec(WAIVER),
            "2025-01-01",
            &locate,
        );
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn expired_waiver_does_not_waive() {
        let out = apply(
            vec![finding("MP301", "details")],
            &spec(WAIVER),
            "2025-02-01",
            &locate,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, "MP301");
    }
}
