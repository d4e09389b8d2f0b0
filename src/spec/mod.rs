//! Loading and validating `meshplan.yaml`. The typed model lives in [`model`]; this module
//! turns a file into a [`Spec`] or a [`SpecError`] naming file, line and column.
//!
//! Loading runs in four passes, each cheap on a file of a few hundred lines:
//! 1. a location-recording parse ([`located`]) under a [`serde_saphyr::Budget`], which also
//!    refuses malformed YAML, alias bombs and absurd nesting before anything is typed;
//! 2. strict, type-driven deserialization into [`Spec`] (unknown fields get a "did you mean");
//! 3. semantic checks the types cannot express ([`validate`]), located through pass 1;
//! 4. the JSON Schema generated from the same types ([`schema`]) as a final backstop, so the
//!    schema editors use and the loader can never disagree unnoticed.

pub mod ambient;
pub mod located;
pub mod manifest_entry;
mod meshes;
pub mod model;
mod sail;
pub mod schema;
mod starter;
pub mod validate;

pub use ambient::{Ambient, AmbientComponent, DATAPLANE_LABEL, Dataplane};
pub use meshes::{Meshes, load_meshes, parse_meshes};
pub use model::*;
pub use schema::json_schema;
pub use starter::starter_yaml;

use located::{Kind, Node, Pos};
use std::path::{Path, PathBuf};

/// A spec that could not be loaded: always the user's input, exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct SpecError {
    /// The spec file.
    pub path: PathBuf,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// What was expected, with a "did you mean" hint where one helps.
    pub message: String,
}

impl SpecError {
    fn at(path: &Path, pos: Pos, message: impl Into<String>) -> SpecError {
        SpecError {
            path: path.to_path_buf(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }
}

/// A loaded spec with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The spec file as given.
    pub path: PathBuf,
    /// Directory relative paths in the spec (manifests, output, policies) resolve against.
    pub base_dir: PathBuf,
    /// The typed spec.
    pub spec: Spec,
    /// Where every value of the spec file is, for findings about the spec itself.
    pub locations: Node,
}

/// Reads, parses and validates a spec file of one `Mesh` document (a file of several is
/// refused here: [`load_meshes`] reads those).
pub fn load(path: &Path) -> Result<LoadedSpec, SpecError> {
    let text = read_text(path)?;
    let (spec, locations) = parse_located(path, &text)?;
    Ok(LoadedSpec {
        path: path.to_path_buf(),
        base_dir: base_dir_of(path),
        spec,
        locations,
    })
}

/// The spec file as UTF-8 text, or an error naming where it is not.
fn read_text(path: &Path) -> Result<String, SpecError> {
    let bytes = std::fs::read(path).map_err(|e| SpecError {
        path: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read spec: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        let pos = byte_pos(bytes, valid);
        SpecError::at(
            path,
            pos,
            format!(
                "the spec is not valid UTF-8 (invalid byte 0x{:02x})",
                bytes.get(valid).copied().unwrap_or(0)
            ),
        )
    })
}

/// The directory relative paths of a spec resolve against: the file's own.
fn base_dir_of(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// 1-based line and column (in characters) of byte offset `offset` of possibly invalid UTF-8.
fn byte_pos(bytes: &[u8], offset: usize) -> Pos {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    // The prefix up to `offset` is valid UTF-8 by construction (`valid_up_to`).
    let column = String::from_utf8_lossy(before.get(line_start..).unwrap_or_default())
        .chars()
        .count() as u64
        + 1;
    Pos { line, column }
}

/// Nesting limit. A spec's deepest part is Helm `values` (from level 4); 32 levels leave
/// plenty there, while deserialization recurses per level (tens of KB of stack each in debug
/// builds), so 64 levels already overflowed a 2 MiB test thread.
pub const MAX_DEPTH: usize = 32;

/// Parser limits for a hand-written config file: generous for any real spec, fatal to alias
/// bombs ("billion laughs") and to nesting deep enough to threaten the stack.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_nodes: 200_000,
            max_events: 1_000_000,
            max_documents: 1,
            max_total_scalar_bytes: 16 * 1024 * 1024,
        },
    }
}

/// Parses spec text; `path` is only used in error messages.
pub fn parse(path: &Path, text: &str) -> Result<Spec, SpecError> {
    parse_located(path, text).map(|(spec, _)| spec)
}

/// Parses spec text and keeps the location of every value.
pub fn parse_located(path: &Path, text: &str) -> Result<(Spec, Node), SpecError> {
    let tree: Node = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| yaml_error(path, text, &e))?;
    match &tree.kind {
        Kind::Map(_) => {}
        Kind::Null => {
            return Err(SpecError::at(
                path,
                Pos { line: 1, column: 1 },
                "the spec is empty: expected a mapping with `apiVersion`, `kind`, `metadata` and `spec`",
            ));
        }
        _ => {
            return Err(SpecError::at(
                path,
                tree.pos,
                "expected a mapping with `apiVersion`, `kind`, `metadata` and `spec`",
            ));
        }
    }
    let spec: Spec = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|e| yaml_error(path, text, &e))?;
    validate::check(&spec, &tree).map_err(|(pos, msg)| SpecError::at(path, pos, msg))?;
    sail::check(&spec, &tree).map_err(|(pos, msg)| SpecError::at(path, pos, msg))?;
    ambient::check(&spec, &tree).map_err(|(pos, msg)| SpecError::at(path, pos, msg))?;
    schema::check(&spec, &tree).map_err(|(pos, msg)| SpecError::at(path, pos, msg))?;
    Ok((spec, tree))
}

/// Turns a serde-saphyr error into a located, human message.
fn yaml_error(path: &Path, text: &str, err: &serde_saphyr::Error) -> SpecError {
    use serde_saphyr::Error as E;
    // Snippet and alias wrappers carry the real error inside; where an alias was used, the
    // use site is the more useful location, so it is taken from the outermost error.
    let mut inner = err.without_snippet();
    while let E::AliasError { error, .. } | E::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let pos = err
        .location()
        .or_else(|| inner.location())
        .map(|l| Pos {
            line: l.line(),
            column: l.column(),
        })
        .unwrap_or_default();
    let found = || scalar_at(text, pos);
    let message = match inner {
        E::SerdeUnknownField {
            field, expected, ..
        } => unknown_message("field", field, expected),
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => unknown_message("value", variant, expected),
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => format!("expected {}, found {unexpected}", friendly_type(expected)),
        E::InvalidScalar { ty, .. } => {
            format!("expected {}, found `{}`", friendly_type(ty), found())
        }
        E::Unexpected { expected, .. } if expected.contains("scalar") => {
            "expected a single value (string, number or boolean), found a sequence or mapping"
                .to_string()
        }
        E::Unexpected { expected, .. } if expected.contains("mapping") => {
            "expected a mapping (`key: value` entries) here".to_string()
        }
        E::Unexpected { expected, .. } if expected.contains("sequence") => {
            "expected a sequence (`- item` entries or `[...]`) here".to_string()
        }
        E::SerdeMissingField { field, .. } => format!("missing field `{field}`"),
        E::Budget {
            breach: serde_saphyr::budget::BudgetBreach::Documents { .. },
            ..
        } => "the spec must be a single YAML document; found another after `---`".to_string(),
        E::Budget { breach, .. } => budget_message(&breach_text(breach)),
        other => {
            let text = serde_saphyr::MessageFormatter::format_message(
                &serde_saphyr::UserMessageFormatter,
                other,
            )
            .into_owned();
            if text.contains("recursion limit") {
                budget_message("nesting too deep")
            } else {
                untagged_hint(&text).unwrap_or_else(|| lower_first(&text))
            }
        }
    };
    SpecError::at(path, pos, message)
}

fn budget_message(what: &str) -> String {
    format!(
        "the document exceeds the parser's safety limits ({what}); a spec needs neither deep nesting nor mass aliasing"
    )
}

/// The plain scalar starting at `pos`, for "found `...`" in messages.
fn scalar_at(text: &str, pos: Pos) -> String {
    let line = usize::try_from(pos.line.saturating_sub(1)).unwrap_or(usize::MAX);
    let col = usize::try_from(pos.column.saturating_sub(1)).unwrap_or(usize::MAX);
    let rest: String = text
        .lines()
        .nth(line)
        .map(|l| l.chars().skip(col).collect())
        .unwrap_or_default();
    let end = rest.find([',', ']', '}', '#']).unwrap_or(rest.len());
    rest.get(..end).unwrap_or_default().trim().to_string()
}

/// serde's untagged-enum failure names a Rust type; say what the user may write instead.
fn untagged_hint(text: &str) -> Option<String> {
    text.contains("untagged enum ManifestEntry").then(|| {
        "expected a glob string or a mapping `{path, namespace}`, `{kustomize: DIR}`, \
         `{helm: {chart, release, namespace, values}}`, `{flux: DIR}` or `{argocd: PATH}` in \
         `spec.manifests`"
            .to_string()
    })
}

/// The limit a breach crossed. Counts are reported as observed at the breach, one past it.
fn breach_text(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    match breach {
        B::Aliases { aliases } => format!("more than {} aliases", aliases.saturating_sub(1)),
        B::Anchors { anchors } => format!("more than {} anchors", anchors.saturating_sub(1)),
        B::Depth { depth } => format!("nesting deeper than {} levels", depth.saturating_sub(1)),
        B::Nodes { nodes } => format!("more than {} nodes", nodes.saturating_sub(1)),
        B::Events { events } => format!("more than {} parser events", events.saturating_sub(1)),
        other => lower_first(&format!("{other:?}")),
    }
}

/// serde's and the parser's type names, as a user would say them.
fn friendly_type(expected: &str) -> &str {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer",
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer",
        "bool" | "boolean" | "a boolean" => "a boolean (true or false)",
        "f32" | "f64" => "a number",
        other => other,
    }
}

/// "unknown field `kubernetsVersion`, did you mean `kubernetesVersion`?" — or the list of
/// accepted names when nothing is close.
fn unknown_message(what: &str, got: &str, expected: &[&str]) -> String {
    match did_you_mean(got, expected.iter().copied()) {
        Some(best) => format!("unknown {what} `{got}`, did you mean `{best}`?"),
        None if expected.is_empty() => format!("unknown {what} `{got}`: none is allowed here"),
        None => format!(
            "unknown {what} `{got}`, expected one of {}",
            expected
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The candidate closest to `got`, when it is close enough to be a plausible typo.
pub fn did_you_mean<'a>(got: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = got.to_ascii_lowercase();
    candidates
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Lowercases the first letter unless it starts an acronym ("YAML", "UTF-8").
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), s.chars().nth(1)) {
        (Some(c), Some(next)) if !next.is_uppercase() => c.to_lowercase().chain(chars).collect(),
        _ => s.to_string(),
    }
}

impl Spec {
    /// The waves in order with their namespaces: each managed namespace goes to the first
    /// wave that lists it or whose selector matches its spec labels; the rest form a last
    /// wave (`unlisted`, or `all` when the spec defines no waves). Empty waves are dropped.
    pub fn waves(&self) -> Vec<(String, Vec<String>)> {
        let mut assigned = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for wave in &self.spec.upgrade.waves {
            let mut members = Vec::new();
            for ns in &self.spec.namespaces {
                if assigned.contains(&ns.name) {
                    continue;
                }
                let listed = wave.namespaces.iter().any(|n| n == &ns.name);
                let selected = wave
                    .namespace_selector
                    .as_ref()
                    .is_some_and(|s| s.matches(&ns.labels));
                if listed || selected {
                    assigned.insert(ns.name.clone());
                    members.push(ns.name.clone());
                }
            }
            if !members.is_empty() {
                out.push((wave.name.clone(), members));
            }
        }
        let rest: Vec<String> = self
            .spec
            .namespaces
            .iter()
            .filter(|n| !assigned.contains(&n.name))
            .map(|n| n.name.clone())
            .collect();
        if !rest.is_empty() {
            let name = if self.spec.upgrade.waves.is_empty() {
                "all"
            } else {
                validate::UNLISTED_WAVE
            };
            out.push((name.to_string(), rest));
        }
        out
    }

    /// The managed revision name: `spec.istio.revision` or the version with dots as dashes
    /// (`delivery: sail`: the name the Sail Operator gives it; in a file of several meshes,
    /// prefixed with the mesh name where another mesh derives the same; see
    /// [`Spec::revision_for`]).
    pub fn revision(&self) -> String {
        match &self.spec.istio.revision {
            Some(r) if self.spec.istio.delivery != Delivery::Sail => r.clone(),
            _ => self.revision_for(&self.spec.istio.version),
        }
    }

    /// The revision name of `version` under this spec's delivery: `1-24-3` (`<mesh>-1-24-3`
    /// for a mesh whose derived names are prefixed), or for `delivery: sail` the
    /// `IstioRevision` the operator creates, `<Istio name>-v1-24-3`, unique per mesh already.
    pub fn revision_for(&self, version: &str) -> String {
        match (self.spec.istio.delivery, &self.spec.istio.revision_prefix) {
            (Delivery::Sail, _) => sail_revision_name(&self.metadata.name, version),
            (_, Some(prefix)) => format!("{prefix}-{}", revision_name(version)),
            (_, None) => revision_name(version),
        }
    }
}

/// The `IstioRevision` a `RevisionBased` Sail `Istio` named `istio` creates for `version`:
/// `default` at 1.24.3 → `default-v1-24-3` (the operator's docs, `update-strategy.adoc`).
pub fn sail_revision_name(istio: &str, version: &str) -> String {
    format!("{istio}-v{}", version.replace('.', "-"))
}

/// The revision name Istio users conventionally give a version: `1.24.3` → `1-24-3`.
pub fn revision_name(version: &str) -> String {
    version.replace('.', "-")
}
