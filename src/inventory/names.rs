//! Object names as Kubernetes validates them, checked at load so a name the API server
//! would refuse is an error at its file and line, not a render that fails later (a restart
//! patch is a file named after its workload): namespaces and Services are DNS-1123 labels,
//! workloads (and most kinds) DNS-1123 subdomains, RBAC kinds path segments.

/// Why `name` is not a valid name for an object of `kind` (generated names are prefixes),
/// or for its `namespace`; `None` when both are valid.
pub(crate) fn invalid(kind: &str, name: &str, namespace: &str, generated: bool) -> Option<String> {
    if !namespace.is_empty() && !is_dns_label(namespace) {
        return Some(format!(
            "metadata.namespace `{}` is not a valid namespace name: {LABEL_RULE}",
            shown(namespace)
        ));
    }
    // `generateName` is a prefix the API server completes with random characters.
    let checked = if generated {
        format!("{name}x")
    } else {
        name.to_string()
    };
    let (ok, rule) = match kind {
        "Namespace" | "Service" => (is_dns_label(&checked), LABEL_RULE),
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => {
            (is_path_segment(&checked), SEGMENT_RULE)
        }
        _ => (is_dns_subdomain(&checked), SUBDOMAIN_RULE),
    };
    (!ok).then(|| {
        format!(
            "metadata.{} `{}` is not a valid {kind} name: {rule}",
            if generated { "generateName" } else { "name" },
            shown(name)
        )
    })
}

const LABEL_RULE: &str = "expected a DNS-1123 label (lowercase letters, digits and `-`, \
    starting and ending with a letter or digit, at most 63 characters)";
const SUBDOMAIN_RULE: &str = "expected a DNS-1123 subdomain (DNS-1123 labels joined by `.`, \
    at most 253 characters)";
const SEGMENT_RULE: &str = "expected a name without `/` or `%` that is not `.` or `..`";

/// `name` for a message: at most 80 characters, control characters escaped.
fn shown(name: &str) -> String {
    let cut: String = name.chars().take(80).collect();
    let escaped: String = cut.escape_debug().collect();
    if cut.len() < name.len() {
        format!("{escaped}…")
    } else {
        escaped
    }
}

/// A DNS-1123 label, as Kubernetes requires of namespace names.
pub(crate) fn is_dns_label(s: &str) -> bool {
    crate::spec::validate::is_dns1123_label(s)
}

/// A DNS-1123 subdomain: labels joined by `.`, at most 253 characters.
pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// What Kubernetes accepts for RBAC names (`system:controller:x` is valid).
fn is_path_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '%'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_kubernetes_rules_for_their_kind() {
        assert!(invalid("Deployment", "podinfo", "shop", false).is_none());
        assert!(invalid("Deployment", "a.b-c", "shop", false).is_none());
        assert!(invalid("ClusterRole", "system:controller:x", "", false).is_none());
        assert!(invalid("Pod", "web-", "shop", true).is_none());
        for (kind, name, ns) in [
            ("Deployment", "UPPER", "shop"),
            ("Deployment", "a/b", "shop"),
            ("Deployment", "../x", "shop"),
            ("Deployment", &"x".repeat(64), "shop"),
            ("Deployment", "café", "shop"),
            ("Deployment", "CON", "shop"),
            ("Deployment", "ok", "Bad_NS"),
            ("Service", "a.b", "shop"),
            ("Namespace", "a.b", ""),
            ("Role", "a/b", "shop"),
        ] {
            assert!(
                invalid(kind, name, ns, false).is_some(),
                "{kind} {name} {ns}"
            );
        }
        let long = invalid("Deployment", &"Y".repeat(1000), "", false).unwrap_or_default();
        assert!(long.len() < 400, "{long}");
    }
}
