//! PodDisruptionBudget arithmetic, as the Kubernetes disruption controller does it
//! (`pkg/controller/disruption`): `maxUnavailable` and percentage `minAvailable` are scaled
//! against the expected pod count with `GetScaledValueFromIntOrPercent(..., roundUp=true)`,
//! an integer `minAvailable` is taken as is, and `disruptionsAllowed = healthy - desired`.
//! meshplan assumes every expected pod is healthy, so the answer is the best case: a budget
//! that blocks here blocks in the cluster too.

use serde_json::Value;

/// An `IntOrString` of a PDB: a count or a percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    /// An absolute number of pods.
    Int(i64),
    /// A percentage of the expected pods (`"50%"` → 50).
    Percent(i64),
}

impl IntOrPercent {
    /// Parses an integer or a `"N%"` string, the only forms Kubernetes accepts.
    pub fn from_json(v: &Value) -> Result<IntOrPercent, String> {
        match v {
            Value::Number(n) => n
                .as_i64()
                .filter(|i| *i >= 0)
                .map(IntOrPercent::Int)
                .ok_or_else(|| format!("{n} is not a non-negative integer")),
            Value::String(s) => s
                .strip_suffix('%')
                .and_then(|p| p.parse::<i64>().ok())
                .filter(|p| *p >= 0)
                .map(IntOrPercent::Percent)
                .ok_or_else(|| format!("'{s}' is neither an integer nor a percentage like '50%'")),
            other => Err(format!("{other} is neither an integer nor a percentage")),
        }
    }

    /// The value scaled against `total` pods, rounding a percentage up.
    pub fn scaled_up(self, total: i64) -> i64 {
        match self {
            IntOrPercent::Int(i) => i,
            // ceil(p * total / 100) in integers; p and total are non-negative.
            IntOrPercent::Percent(p) => (p * total + 99) / 100,
        }
    }
}

/// How many pods must stay healthy for `expected` pods. `maxUnavailable` wins when both
/// are set (the controller checks it first; the API server rejects such objects anyway).
/// Neither set: nothing is required.
pub fn desired_healthy(
    min_available: Option<IntOrPercent>,
    max_unavailable: Option<IntOrPercent>,
    expected: i64,
) -> i64 {
    if let Some(max) = max_unavailable {
        (expected - max.scaled_up(expected)).max(0)
    } else if let Some(min) = min_available {
        min.scaled_up(expected)
    } else {
        0
    }
}

/// Disruptions the budget allows with all `expected` pods healthy (never negative).
pub fn disruptions_allowed(
    min_available: Option<IntOrPercent>,
    max_unavailable: Option<IntOrPercent>,
    expected: i64,
) -> i64 {
    (expected - desired_healthy(min_available, max_unavailable, expected)).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Option<IntOrPercent> {
        Some(IntOrPercent::from_json(&v).expect("valid int-or-percent"))
    }

    #[test]
    fn min_available_integer() {
        assert_eq!(disruptions_allowed(p(json!(1)), None, 3), 2);
        assert_eq!(
            disruptions_allowed(p(json!(3)), None, 3),
            0,
            "minAvailable == replicas"
        );
        assert_eq!(
            disruptions_allowed(p(json!(5)), None, 3),
            0,
            "minAvailable > replicas"
        );
        assert_eq!(
            disruptions_allowed(p(json!(1)), None, 1),
            0,
            "single replica"
        );
    }

    #[test]
    fn min_available_percentage_rounds_up() {
        // 50% of 3 = 1.5 → 2 must stay → 1 allowed.
        assert_eq!(desired_healthy(p(json!("50%")), None, 3), 2);
        assert_eq!(disruptions_allowed(p(json!("50%")), None, 3), 1);
        assert_eq!(disruptions_allowed(p(json!("100%")), None, 4), 0);
        assert_eq!(disruptions_allowed(p(json!("0%")), None, 2), 2);
        // 34% of 3 = 1.02 → 2 must stay.
        assert_eq!(disruptions_allowed(p(json!("34%")), None, 3), 1);
    }

    #[test]
    fn max_unavailable_integer_and_percentage_round_up() {
        assert_eq!(disruptions_allowed(None, p(json!(1)), 3), 1);
        assert_eq!(disruptions_allowed(None, p(json!(0)), 3), 0);
        assert_eq!(disruptions_allowed(None, p(json!("0%")), 3), 0);
        // 10% of 3 = 0.3 → rounds up to 1 unavailable.
        assert_eq!(disruptions_allowed(None, p(json!("10%")), 3), 1);
        // 25% of 10 = 2.5 → 3.
        assert_eq!(disruptions_allowed(None, p(json!("25%")), 10), 3);
        assert_eq!(
            disruptions_allowed(None, p(json!(5)), 2),
            2,
            "capped at the pods there are"
        );
    }

    #[test]
    fn max_unavailable_wins_and_neither_allows_all() {
        assert_eq!(disruptions_allowed(p(json!(3)), p(json!(1)), 3), 1);
        assert_eq!(disruptions_allowed(None, None, 2), 2);
        assert_eq!(disruptions_allowed(None, None, 0), 0);
    }

    #[test]
    fn malformed_values_are_errors() {
        assert!(IntOrPercent::from_json(&json!("5")).is_err());
        assert!(IntOrPercent::from_json(&json!("-5%")).is_err());
        assert!(IntOrPercent::from_json(&json!(-1)).is_err());
        assert!(IntOrPercent::from_json(&json!(1.5)).is_err());
        assert!(IntOrPercent::from_json(&json!(null)).is_err());
    }
}
