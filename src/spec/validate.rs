//! Semantic checks on a deserialized spec: the rules serde types cannot express (shapes of
//! versions and names, uniqueness, waves that do not overlap, paths that stay inside the
//! repository). Each failure points at the offending value through the location tree.
//!
//! Revision and tag names are deliberately not checked here: an invalid one is a policy
//! finding (MP205), reported with everything else, not an input error.

use super::located::{Node, Pos, Seg};
use super::model::{ManifestEntry, Spec};
use std::collections::BTreeMap;

/// The only accepted `apiVersion`.
pub const API_VERSION: &str = "meshplan.dev/v1alpha1";
/// The only accepted `kind`.
pub const KIND: &str = "Mesh";
/// The wave of the namespaces that no wave of `spec.upgrade.waves` lists.
pub const UNLISTED_WAVE: &str = "unlisted";

/// A failed check: where, and what is wrong (lowercase first, no final period).
pub type Failure = (Pos, String);

/// Runs every semantic check; the first failure in document order of the checks is returned.
pub fn check(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    check_header(spec, tree)?;
    check_versions(spec, tree)?;
    check_upgrade(spec, tree)?;
    check_namespaces(spec, tree)?;
    check_paths(spec, tree)?;
    check_rules(spec, tree)
}

/// `apiVersion`, `kind` and the mesh name.
fn check_header(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    use Seg::Key as K;
    let fail = |path: &[Seg<'_>], msg: String| Err((tree.pos(path), msg));

    if spec.api_version != API_VERSION {
        return fail(
            &[K("apiVersion")],
            format!(
                "`apiVersion` must be `{API_VERSION}`, found `{}`",
                spec.api_version
            ),
        );
    }
    if spec.kind != KIND {
        return fail(
            &[K("kind")],
            format!("`kind` must be `{KIND}`, found `{}`", spec.kind),
        );
    }
    if !is_dns1123_label(&spec.metadata.name) {
        return fail(
            &[K("metadata"), K("name")],
            label_message("`metadata.name`", &spec.metadata.name),
        );
    }
    Ok(())
}

/// The Kubernetes and Istio versions, the chart repository and the compatibility version.
fn check_versions(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    use Seg::Key as K;
    let fail = |path: &[Seg<'_>], msg: String| Err((tree.pos(path), msg));
    let s = &spec.spec;

    if !is_minor_version(&s.kubernetes_version) {
        return fail(
            &sp(&[K("kubernetesVersion")]),
            format!(
                "`spec.kubernetesVersion` must be a minor version `X.Y` such as \"1.30\", found `{}`",
                s.kubernetes_version
            ),
        );
    }
    if !is_exact_version(&s.istio.version) {
        return fail(
            &sp(&[K("istio"), K("version")]),
            format!(
                "`spec.istio.version` must be an exact version `X.Y.Z` such as 1.24.3, found `{}`",
                s.istio.version
            ),
        );
    }
    // The rendered HelmRepository / OCIRepository requires a URL of one of these schemes:
    // refused here, at its line, rather than as a render that does not fit its schema.
    let repo = &s.istio.chart_repository;
    if !["http://", "https://", "oci://"].iter().any(|scheme| {
        repo.strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty())
    }) || repo.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return fail(
            &sp(&[K("istio"), K("chartRepository")]),
            format!(
                "`spec.istio.chartRepository` must be an http://, https:// or oci:// URL, found `{}`",
                repo.escape_debug()
            ),
        );
    }
    if let Some(cv) = &s.istio.config.compatibility_version
        && !is_minor_version(cv)
    {
        return fail(
            &sp(&[K("istio"), K("config"), K("compatibilityVersion")]),
            format!(
                "`spec.istio.config.compatibilityVersion` must be a minor version `X.Y` such as \"1.23\", found `{cv}`"
            ),
        );
    }
    Ok(())
}

/// `spec.upgrade`: skips, revisions, and waves that do not overlap.
fn check_upgrade(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    use Seg::{Index as I, Key as K};
    let fail = |path: &[Seg<'_>], msg: String| Err((tree.pos(path), msg));
    let s = &spec.spec;
    let up = &s.upgrade;
    if !(1..=2).contains(&up.max_minor_skip) {
        return fail(
            &sp(&[K("upgrade"), K("maxMinorSkip")]),
            format!(
                "`spec.upgrade.maxMinorSkip` must be 1 or 2 (Istio supports at most two minors per canary hop), found {}",
                up.max_minor_skip
            ),
        );
    }
    if up.max_revisions < 1 {
        return fail(
            &sp(&[K("upgrade"), K("maxRevisions")]),
            "`spec.upgrade.maxRevisions` must be at least 1, found 0".to_string(),
        );
    }

    // Waves: unique non-empty names, each namespace in at most one wave.
    let mut wave_names: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wave_of_ns: BTreeMap<&str, usize> = BTreeMap::new();
    for (wi, wave) in up.waves.iter().enumerate() {
        let name_path = sp(&[K("upgrade"), K("waves"), I(wi), K("name")]);
        if wave.name.trim().is_empty() {
            return fail(&name_path, "wave name must not be empty".to_string());
        }
        if wave.name == UNLISTED_WAVE {
            // The planner names the wave of the namespaces no wave lists `unlisted`; a wave
            // of that name would make two steps `wave unlisted`.
            return fail(
                &name_path,
                format!(
                    "wave name `{UNLISTED_WAVE}` is reserved for the namespaces no wave lists; choose another name"
                ),
            );
        }
        if let Some(first) = wave_names.insert(&wave.name, wi) {
            let first_line = tree
                .pos(&sp(&[K("upgrade"), K("waves"), I(first), K("name")]))
                .line;
            return fail(
                &name_path,
                format!(
                    "duplicate wave name `{}` (first used on line {first_line})",
                    wave.name
                ),
            );
        }
        for (ni, ns) in wave.namespaces.iter().enumerate() {
            let ns_path = sp(&[K("upgrade"), K("waves"), I(wi), K("namespaces"), I(ni)]);
            if !is_dns1123_label(ns) {
                return fail(&ns_path, label_message("namespace", ns));
            }
            if let Some(other) = wave_of_ns.insert(ns, wi) {
                let other_name = up.waves.get(other).map_or("", |w| w.name.as_str());
                return fail(
                    &ns_path,
                    format!(
                        "namespace `{ns}` is already in wave `{other_name}`; a namespace moves in one wave only"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Namespaces (DNS-1123 labels, listed once) and gateways.
fn check_namespaces(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    use Seg::{Index as I, Key as K};
    let fail = |path: &[Seg<'_>], msg: String| Err((tree.pos(path), msg));
    let s = &spec.spec;
    // Namespaces: DNS-1123 labels, listed once.
    let mut ns_seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, ns) in s.namespaces.iter().enumerate() {
        let path = sp(&[K("namespaces"), I(i), K("name")]);
        if !is_dns1123_label(&ns.name) {
            return fail(&path, label_message("namespace name", &ns.name));
        }
        if let Some(first) = ns_seen.insert(&ns.name, i) {
            let first_line = tree.pos(&sp(&[K("namespaces"), I(first), K("name")])).line;
            return fail(
                &path,
                format!(
                    "namespace `{}` is listed twice (first on line {first_line})",
                    ns.name
                ),
            );
        }
    }

    for (i, gw) in s.gateways.iter().enumerate() {
        if !is_dns1123_label(&gw.name) {
            return fail(
                &sp(&[K("gateways"), I(i), K("name")]),
                label_message("gateway name", &gw.name),
            );
        }
        if !is_dns1123_label(&gw.namespace) {
            return fail(
                &sp(&[K("gateways"), I(i), K("namespace")]),
                label_message("gateway namespace", &gw.namespace),
            );
        }
    }
    Ok(())
}

/// Manifests, output and policy paths stay inside the repository the spec lives in.
fn check_paths(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    use Seg::{Index as I, Key as K};
    let fail = |path: &[Seg<'_>], msg: String| Err((tree.pos(path), msg));
    let s = &spec.spec;
    // Paths stay inside the repository the spec lives in.
    for (i, m) in s.manifests.iter().enumerate() {
        let path = match m.path_key() {
            None => sp(&[K("manifests"), I(i)]),
            Some(key) => sp(&[K("manifests"), I(i), K(key)]),
        };
        let what = if m.is_built() {
            "manifest path"
        } else {
            "manifest glob"
        };
        if let Err(why) = check_relative(m.path()) {
            return fail(&path, format!("{what} `{}` {why}", m.path()));
        }
        if let ManifestEntry::Helm(h) = m {
            for v in &h.helm.values {
                if let Err(why) = check_relative(v) {
                    return fail(&path, format!("helm values file `{v}` {why}"));
                }
            }
            if !is_dns1123_label(&h.helm.release) {
                return fail(&path, label_message("helm release name", &h.helm.release));
            }
        }
        if let Some(ns) = m.namespace()
            && !is_dns1123_label(ns)
        {
            return fail(
                &sp(&[K("manifests"), I(i), K("namespace")]),
                label_message("namespace", ns),
            );
        }
    }
    if let Err(why) = check_relative(&s.output) {
        return fail(
            &sp(&[K("output")]),
            format!("`spec.output` `{}` {why}", s.output),
        );
    }
    for (i, p) in s.policies.iter().enumerate() {
        if let Err(why) = check_relative(p) {
            return fail(
                &sp(&[K("policies"), I(i)]),
                format!("policy directory `{p}` {why}"),
            );
        }
    }
    Ok(())
}

/// Rule codes of overrides and waivers, and waivers' objects and expiry dates, are well formed.
fn check_rules(spec: &Spec, tree: &Node) -> Result<(), Failure> {
    use Seg::{Index as I, Key as K};
    let fail = |path: &[Seg<'_>], msg: String| Err((tree.pos(path), msg));
    let s = &spec.spec;
    for code in s.rules.keys() {
        if !is_rule_code(code) {
            return Err((
                tree.key_pos(&sp(&[K("rules"), K(code)])),
                format!("rule code `{code}` must be uppercase letters then digits, such as MP301"),
            ));
        }
    }

    for (i, ex) in s.exceptions.iter().enumerate() {
        let at = |field: &'static str| sp(&[K("exceptions"), I(i), K(field)]);
        if !is_rule_code(&ex.rule) {
            return fail(
                &at("rule"),
                format!(
                    "rule code `{}` must be uppercase letters then digits, such as MP301",
                    ex.rule
                ),
            );
        }
        if !is_object_ref(&ex.object) {
            return fail(
                &at("object"),
                format!(
                    "`object` must be `Kind/namespace/name` or `Kind/name`, found `{}`",
                    ex.object
                ),
            );
        }
        if !crate::catalog::is_date(&ex.expires) {
            return fail(
                &at("expires"),
                format!(
                    "`expires` must be a date `YYYY-MM-DD`, found `{}`",
                    ex.expires
                ),
            );
        }
    }
    Ok(())
}

/// The path `spec.<rest>`.
fn sp<'a>(rest: &[Seg<'a>]) -> Vec<Seg<'a>> {
    let mut v = vec![Seg::Key("spec")];
    v.extend_from_slice(rest);
    v
}

fn label_message(what: &str, value: &str) -> String {
    format!(
        "{what} must be a DNS-1123 label (lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters), found `{value}`"
    )
}

/// A DNS-1123 label, as Kubernetes requires of namespace and object names.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    let edge_ok = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && edge_ok(b.first())
        && edge_ok(b.last())
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// `X.Y` with plain decimal numbers ("1.30").
pub fn is_minor_version(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 2 && parts.iter().all(|p| is_number(p))
}

/// `X.Y.Z` with plain decimal numbers ("1.24.3").
pub fn is_exact_version(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| is_number(p))
}

/// A rule code: uppercase letters then digits (`MP301`, or a user policy's `ACME12`).
pub fn is_rule_code(s: &str) -> bool {
    let letters = s.bytes().take_while(u8::is_ascii_uppercase).count();
    let rest = s.get(letters..).unwrap_or_default();
    letters > 0 && !rest.is_empty() && rest.bytes().all(|c| c.is_ascii_digit())
}

/// `Kind/namespace/name` or `Kind/name` with a capitalised kind and non-empty parts.
pub fn is_object_ref(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    let kind_ok = parts.first().is_some_and(|k| {
        k.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && k.chars().all(|c| c.is_ascii_alphanumeric())
    });
    (parts.len() == 2 || parts.len() == 3) && kind_ok && parts.iter().all(|p| !p.is_empty())
}

/// A path or glob relative to the spec's directory that cannot reach outside it.
pub fn check_relative(p: &str) -> Result<(), &'static str> {
    if p.trim().is_empty() {
        return Err("must not be empty");
    }
    let windows_drive = matches!(p.as_bytes(), [d, b':', ..] if d.is_ascii_alphabetic());
    if p.starts_with('/') || p.starts_with('\\') || windows_drive {
        return Err("must be relative to the spec's directory, not absolute");
    }
    if p.split(['/', '\\']).any(|part| part == "..") {
        return Err("must not leave the spec's directory with `..`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_dns1123_label("prod-eu-1"));
        for bad in ["", "-a", "a-", "Prod", "a_b", &"a".repeat(64)] {
            assert!(!is_dns1123_label(bad), "{bad}");
        }
        assert!(is_minor_version("1.30") && !is_minor_version("1.3.0") && !is_minor_version("1.x"));
        assert!(
            is_exact_version("1.24.3") && !is_exact_version("1.24") && !is_exact_version("01.2.3")
        );
        assert!(is_rule_code("MP301") && is_rule_code("ACME1"));
        for bad in ["mp301", "MP", "301", "MP30a", "MP-301"] {
            assert!(!is_rule_code(bad), "{bad}");
        }
        assert!(is_object_ref("Deployment/shop/cart") && is_object_ref("Namespace/shop"));
        for bad in ["deployment/a/b", "Deployment", "Deployment//b", "A/b/c/d"] {
            assert!(!is_object_ref(bad), "{bad}");
        }
        assert!(check_relative("apps/**/*.yaml").is_ok());
        for bad in [
            "/etc/*.yaml",
            "../x/*.yaml",
            "a/../../b",
            "C:\\x",
            "\\\\srv\\x",
            "",
        ] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
    }
}
