//! The lock is validated as strictly as the spec: meshplan wrote it, but it is a file in a
//! pull request that anyone may edit, and everything downstream (planner, renderer,
//! policies) trusts it. Names must be what Kubernetes and Istio accept, versions must parse,
//! done steps must be a prefix of the upgrade, and integers must stay where JSON, Rego and
//! the next bump can hold them. Each problem is an error at its 1-based line.

use super::{Lock, StateError};
use crate::catalog::Version;
use std::path::Path;

/// The largest restart generation a lock may hold: the largest integer JSON (and Rego)
/// keep exact, far from where a bump could wrap.
pub const MAX_GENERATION: u64 = (1 << 53) - 1;

/// Checks what [`Lock::parse`] does not: names, versions, generations, step order. `text`
/// locates the offending entry.
pub(crate) fn check(lock: &Lock, path: &Path, text: &str) -> Result<(), StateError> {
    let err = |line: u64, message: String| StateError {
        path: path.to_path_buf(),
        line,
        message,
    };
    let label = |what: &str, value: &str, line: u64| {
        if crate::spec::validate::is_dns1123_label(value) {
            Ok(())
        } else {
            Err(err(
                line,
                format!(
                    "{what} `{}` is not a DNS-1123 label (lowercase letters, digits and `-`, \
                     at most 63 characters)",
                    value.escape_debug()
                ),
            ))
        }
    };
    for r in &lock.revisions {
        label(
            "revision name",
            &r.name,
            line_of(text, "revisions", &r.name),
        )?;
    }
    for (tag, rev) in &lock.tags {
        label("tag", tag, line_of(text, "tags", tag))?;
        label("revision name", rev, line_of(text, "tags", tag))?;
    }
    for (ns, rev) in &lock.namespaces {
        let line = line_of(text, "namespaces", ns);
        label("namespace", ns, line)?;
        label("revision or tag", rev, line)?;
    }
    for (key, g) in &lock.gateways {
        let line = line_of(text, "gateways", key);
        let Some((ns, name)) = key.split_once('/') else {
            return Err(err(
                line,
                format!("gateway key `{}` is not namespace/name", key.escape_debug()),
            ));
        };
        label("gateway namespace", ns, line)?;
        label("gateway name", name, line)?;
        for colour in g.colours.keys() {
            label("gateway colour", colour, line)?;
        }
    }
    for (key, w) in &lock.workloads {
        let line = line_of(text, "workloads", key);
        let parts: Vec<&str> = key.split('/').collect();
        let [kind, ns, name] = parts.as_slice() else {
            return Err(err(
                line,
                format!(
                    "workload key `{}` is not Kind/namespace/name",
                    key.escape_debug()
                ),
            ));
        };
        if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(err(
                line,
                format!("workload key `{}`: bad kind", key.escape_debug()),
            ));
        }
        if let Some(why) = crate::inventory::invalid_name(kind, name, ns, false) {
            return Err(err(
                line,
                format!("workload `{}`: {why}", key.escape_debug()),
            ));
        }
        Version::parse(&w.proxy).map_err(|e| {
            err(
                line,
                format!("workload `{}`: proxy version: {e}", key.escape_debug()),
            )
        })?;
        if w.generation > MAX_GENERATION {
            return Err(err(
                line,
                format!(
                    "workload `{}`: generation {} is beyond {MAX_GENERATION}",
                    key.escape_debug(),
                    w.generation
                ),
            ));
        }
    }
    if let Some(u) = &lock.upgrade {
        check_upgrade(u, text, &err)?;
    }
    Ok(())
}

/// The 1-based line of the first entry named `key` after the line of `section:` (or of the
/// section itself, or 1): the lock's entries are one per line, so a textual search finds
/// them without a second, located parse.
fn line_of(text: &str, section: &str, key: &str) -> u64 {
    let mut in_section = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start().trim_start_matches("- ");
        if in_section.is_none() {
            if trimmed
                .strip_prefix(section)
                .is_some_and(|r| r.starts_with(':'))
            {
                in_section = Some(i);
            }
            continue;
        }
        let unquoted = trimmed.trim_start_matches(['"', '\'']);
        if unquoted.starts_with(key) || trimmed.contains(&format!(" {key}")) {
            return i as u64 + 1;
        }
    }
    in_section.map_or(1, |i| i as u64 + 1)
}

/// The 1-based line of the first byte of `bytes` that is not UTF-8.
pub(crate) fn utf8_error_line(bytes: &[u8], valid_up_to: usize) -> u64 {
    let prefix = bytes.get(..valid_up_to).unwrap_or(bytes);
    prefix.iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// The line of a "found a tab" error: the parser reports the end of the line before the
/// tab, so the first line at or after `reported` with a tab in its indentation is the one.
pub(crate) fn tab_line(text: &str, reported: u64, message: &str) -> u64 {
    if !message.contains("tab") {
        return reported;
    }
    let from = usize::try_from(reported.max(1) - 1).unwrap_or(usize::MAX);
    text.lines()
        .enumerate()
        .skip(from)
        .find(|(_, l)| {
            l.chars()
                .take_while(|c| c.is_whitespace())
                .any(|c| c == '\t')
        })
        .map_or(reported, |(i, _)| i as u64 + 1)
}

/// The upgrade in progress: versions that parse, step names listed once, steps done in
/// order.
fn check_upgrade(
    u: &super::UpgradeState,
    text: &str,
    err: &dyn Fn(u64, String) -> StateError,
) -> Result<(), StateError> {
    let line = line_of(text, "upgrade", "to");
    let version =
        |v: &str| Version::parse(v).map_err(|e| err(line, format!("upgrade: version `{v}`: {e}")));
    if let Some(from) = &u.from {
        version(from)?;
    }
    version(&u.to)?;
    for hop in &u.hops {
        version(hop)?;
    }
    let mut names = std::collections::BTreeSet::new();
    let mut pending: Option<&str> = None;
    for s in &u.steps {
        let line = line_of(text, "steps", &s.name);
        version(&s.hop)?;
        if s.name.trim().is_empty() || !names.insert(s.name.as_str()) {
            return Err(err(
                line,
                format!(
                    "upgrade step `{}` is empty or listed twice",
                    s.name.escape_debug()
                ),
            ));
        }
        match (pending, s.done) {
            (Some(first), true) => {
                return Err(err(
                    line,
                    format!(
                        "upgrade step `{}` is done but step `{first}` before it is not: \
                         steps are done in order",
                        s.name.escape_debug()
                    ),
                ));
            }
            (None, false) => pending = Some(s.name.as_str()),
            _ => {}
        }
    }
    Ok(())
}
