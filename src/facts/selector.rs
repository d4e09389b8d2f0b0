//! Kubernetes label selectors as PodDisruptionBudgets write them (`matchLabels` plus
//! `matchExpressions`), parsed once from JSON so matching a workload is a few map lookups.
//! Service selectors are plain maps and need no type of their own.

use serde_json::Value;

// One selector type for the spec's wave selectors and for the manifests' selectors, so
// Kubernetes' matching semantics are written once (`LabelSelector::matches`); this module
// only parses them from untrusted JSON.
pub use crate::spec::{
    LabelSelector as Selector, LabelSelectorRequirement as Requirement,
    SelectorOperator as Operator,
};

impl Selector {
    /// Parses a `LabelSelector` JSON object; the error says what is malformed.
    pub fn from_json(value: &Value) -> Result<Selector, String> {
        let obj = value
            .as_object()
            .ok_or_else(|| "selector is not a mapping".to_string())?;
        let mut selector = Selector::default();
        if let Some(ml) = obj.get("matchLabels").filter(|v| !v.is_null()) {
            let map = ml
                .as_object()
                .ok_or_else(|| "selector.matchLabels is not a mapping".to_string())?;
            for (k, v) in map {
                let v = scalar_string(v)
                    .ok_or_else(|| format!("selector.matchLabels.{k} is not a string"))?;
                selector.match_labels.insert(k.clone(), v);
            }
        }
        if let Some(me) = obj.get("matchExpressions").filter(|v| !v.is_null()) {
            let list = me
                .as_array()
                .ok_or_else(|| "selector.matchExpressions is not a list".to_string())?;
            for (i, req) in list.iter().enumerate() {
                selector.match_expressions.push(
                    parse_requirement(req)
                        .map_err(|e| format!("selector.matchExpressions[{i}]: {e}"))?,
                );
            }
        }
        Ok(selector)
    }

    /// True when the selector has neither `matchLabels` nor `matchExpressions`.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

fn parse_requirement(req: &Value) -> Result<Requirement, String> {
    let key = req
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| "missing key".to_string())?
        .to_string();
    let operator = match req.get("operator").and_then(Value::as_str) {
        Some("In") => Operator::In,
        Some("NotIn") => Operator::NotIn,
        Some("Exists") => Operator::Exists,
        Some("DoesNotExist") => Operator::DoesNotExist,
        Some(other) => {
            return Err(format!(
                "unknown operator '{other}' (expected In, NotIn, Exists or DoesNotExist)"
            ));
        }
        None => return Err("missing operator".to_string()),
    };
    let mut values = Vec::new();
    if let Some(vs) = req.get("values").filter(|v| !v.is_null()) {
        let list = vs
            .as_array()
            .ok_or_else(|| "values is not a list".to_string())?;
        for v in list {
            values.push(scalar_string(v).ok_or_else(|| "a value is not a string".to_string())?);
        }
    }
    let needs_values = matches!(operator, Operator::In | Operator::NotIn);
    if needs_values == values.is_empty() {
        return Err(if needs_values {
            format!("operator {operator:?} needs values")
        } else {
            format!("operator {operator:?} takes no values")
        });
    }
    Ok(Requirement {
        key,
        operator,
        values,
    })
}

/// A label value as a string: strings as they are, numbers and booleans in their YAML
/// spelling (kubectl would reject them unquoted, but the intent is plain).
pub(crate) fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn match_labels_and_expressions_must_all_hold() {
        let s = Selector::from_json(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
            ]
        }))
        .expect("valid selector");
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "edge")])));
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "front"), ("zone", "a")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "back")])));
        assert!(!s.matches(&labels(&[("app", "web")])), "In needs the key");
        assert!(!s.matches(&labels(&[
            ("app", "web"),
            ("tier", "edge"),
            ("canary", "1")
        ])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "edge"), ("zone", "b")])));
        assert!(!s.matches(&labels(&[("app", "api"), ("tier", "edge")])));
    }

    #[test]
    fn exists_and_empty_selector() {
        let s = Selector::from_json(
            &json!({"matchExpressions": [{"key": "app", "operator": "Exists"}]}),
        )
        .expect("valid");
        assert!(s.matches(&labels(&[("app", "")])));
        assert!(!s.matches(&labels(&[])));
        let empty = Selector::from_json(&json!({})).expect("valid");
        assert!(empty.is_empty());
        assert!(empty.matches(&labels(&[("x", "y")])));
    }

    #[test]
    fn malformed_selectors_are_errors() {
        let bad_op = Selector::from_json(
            &json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]}),
        );
        assert!(
            bad_op
                .expect_err("bad operator")
                .contains("unknown operator 'Equals'")
        );
        let no_values =
            Selector::from_json(&json!({"matchExpressions": [{"key": "a", "operator": "In"}]}));
        assert!(
            no_values
                .expect_err("missing values")
                .contains("needs values")
        );
        assert!(Selector::from_json(&json!({"matchLabels": ["a"]})).is_err());
        assert!(Selector::from_json(&json!("app=web")).is_err());
    }
}
