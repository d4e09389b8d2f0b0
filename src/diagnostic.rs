//! The one type every finding becomes, from a Rego rule to an expired waiver. Reporters see
//! only diagnostics and their summary.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding is. Ordered: `Info < Warn < Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Lists a manual action; never fails a run.
    Info,
    /// Reported; fails only with `--fail-on warn`.
    Warn,
    /// Blocks: exit 1.
    Deny,
}

impl Severity {
    /// The lowercase name used in reports and in `spec.rules`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Deny => "deny",
        }
    }

    /// Parses `deny`, `warn` or `info`.
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "deny" => Some(Severity::Deny),
            "warn" => Some(Severity::Warn),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference to one Kubernetes object; `namespace` is empty for cluster-scoped kinds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// `group/version` or `v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// The object's kind, e.g. `Deployment`.
    pub kind: String,
    /// The namespace, empty for cluster-scoped objects.
    #[serde(default)]
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectRef {
    /// `Kind/namespace/name` (or `Kind/name` when cluster-scoped), the form used in plans,
    /// waivers and messages.
    pub fn key(&self) -> String {
        if self.namespace.is_empty() {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.namespace, self.name)
        }
    }

    /// The parts `(kind, namespace, name)` of a key as [`ObjectRef::key`] writes it
    /// (`namespace` empty for `Kind/name`); `None` for anything else, e.g. an empty part
    /// or a fourth one (names cannot hold `/`). Borrowed: the hot loops over lock
    /// workloads parse keys without allocating.
    pub fn split_key(key: &str) -> Option<(&str, &str, &str)> {
        let mut parts = key.split('/');
        let parsed = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(kind), Some(ns), Some(name), None) => (kind, ns, name),
            (Some(kind), Some(name), None, None) => (kind, "", name),
            _ => return None,
        };
        let (kind, _, name) = parsed;
        (!kind.is_empty() && !name.is_empty()).then_some(parsed)
    }

    /// The reference a key names, its `apiVersion` unknown (empty): what a lock entry or a
    /// plan list says of an object the manifests may not hold.
    pub fn parse_key(key: &str) -> Option<ObjectRef> {
        let (kind, namespace, name) = ObjectRef::split_key(key)?;
        Some(ObjectRef {
            api_version: String::new(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// The namespace part of a key: empty for cluster-scoped or malformed keys.
    pub fn key_namespace(key: &str) -> &str {
        ObjectRef::split_key(key).map_or("", |(_, namespace, _)| namespace)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// One finding. Field order and names are the JSON report contract (DESIGN.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Stable rule code, e.g. `MP301`.
    pub rule: String,
    /// Kebab-case rule name, e.g. `missing-pdb`.
    pub name: String,
    /// Effective severity after `spec.rules` overrides.
    pub severity: Severity,
    /// Lowercase message without a trailing period.
    pub message: String,
    /// The object the finding is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// File relative to `-C DIR`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The plan step the finding belongs to, e.g. `wave canary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

impl Diagnostic {
    /// Sort key giving every report one deterministic order: severity (worst first),
    /// file, line, rule, object, message.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            std::cmp::Reverse(self.severity),
            self.file.as_deref().unwrap_or(""),
            self.line.unwrap_or(0),
            self.rule.as_str(),
            self.object.as_ref().map(ObjectRef::key),
            self.message.as_str(),
        )
    }
}

/// Counts per severity: the `summary` object of the JSON report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of deny findings.
    pub deny: usize,
    /// Number of warn findings.
    pub warn: usize,
    /// Number of info findings.
    pub info: usize,
}

impl Summary {
    /// Counts the diagnostics by severity.
    pub fn of(diagnostics: &[Diagnostic]) -> Summary {
        let mut s = Summary::default();
        for d in diagnostics {
            match d.severity {
                Severity::Deny => s.deny += 1,
                Severity::Warn => s.warn += 1,
                Severity::Info => s.info += 1,
            }
        }
        s
    }
}

/// Sorts diagnostics into report order and drops exact duplicates (the same rule on the
/// same object with the same message found in two steps keeps the first step).
pub fn normalize(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::BTreeSet::new();
    diagnostics.retain(|d| {
        seen.insert((
            d.rule.clone(),
            d.object.as_ref().map(ObjectRef::key),
            d.message.clone(),
        ))
    });
    diagnostics.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_split_key() {
        let namespaced = ObjectRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "cart".into(),
        };
        let key = namespaced.key();
        assert_eq!(
            ObjectRef::split_key(&key),
            Some(("Deployment", "shop", "cart"))
        );
        assert_eq!(ObjectRef::key_namespace(&key), "shop");
        let parsed = ObjectRef::parse_key(&key).map(|o| o.key());
        assert_eq!(parsed.as_deref(), Some(key.as_str()));
        assert_eq!(
            ObjectRef::split_key("Namespace/shop"),
            Some(("Namespace", "", "shop"))
        );
        for bad in [
            "",
            "Deployment",
            "a/b/c/d",
            "/shop/cart",
            "Deployment/shop/",
        ] {
            assert_eq!(ObjectRef::split_key(bad), None, "{bad}");
            assert_eq!(ObjectRef::key_namespace(bad), "");
        }
    }
}
