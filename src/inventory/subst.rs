//! Flux's post-build variable substitution (`spec.postBuild.substitute` and
//! `substituteFrom`), applied to each built object's YAML text as kustomize-controller does.
//!
//! Only the braced forms are substituted: `${var}`, `${var:=default}` (also `:-`, `=`, `-`);
//! `$$` stands for a literal `$`, so `$${var}` is written out as `${var}`. Unlike the
//! controller's lenient default, a variable with no value and no default is an error: an
//! empty string in its place would be judged as if it were the value the cluster gets.

use std::collections::BTreeMap;

/// Whether a variable name is one Flux accepts (`^[_[:alpha:]][_[:alpha:][:digit:]]*$`).
pub(crate) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `text` with every variable replaced; an undefined variable without a default is an
/// error naming it.
pub(crate) fn substitute(text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(rest.get(..pos).unwrap_or_default());
        let after = rest.get(pos + 1..).unwrap_or_default();
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let Some(body_start) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body_start.find('}') else {
            out.push('$');
            rest = after;
            continue;
        };
        let body = body_start.get(..end).unwrap_or_default();
        let name_len = body
            .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
            .unwrap_or(body.len());
        let (name, op) = body.split_at(name_len);
        let default = ["=:", ":=", ":-", "=", "-"]
            .iter()
            .find_map(|p| op.strip_prefix(p));
        if !valid_name(name) || (!op.is_empty() && default.is_none()) {
            // Not a variable reference Flux knows: written out unchanged.
            out.push('$');
            rest = after;
            continue;
        }
        match (vars.get(name), default) {
            (Some(v), _) => out.push_str(v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(format!(
                    "variable `{name}` has no value (set it in postBuild.substitute or a \
                     substituteFrom ConfigMap, or give it a default: ${{{name}:=value}})"
                ));
            }
        }
        rest = body_start.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        [("version", "1.19.3"), ("cluster_env", "prod")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_flux_forms() {
        let text = "v: ${version}\ne: ${cluster_env:=dev}\nd: ${region:=eu-1}\ns: $${version}\nx: $HOME ${}\n";
        assert_eq!(
            substitute(text, &vars()).expect("all set"),
            "v: 1.19.3\ne: prod\nd: eu-1\ns: ${version}\nx: $HOME ${}\n"
        );
    }

    #[test]
    fn refuses_a_variable_without_value() {
        let err = substitute("v: ${missing}\n", &vars()).expect_err("unset");
        assert!(err.contains("`missing` has no value"), "{err}");
    }
}
