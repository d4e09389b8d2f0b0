//! The source lines the text report quotes, read once per file and guarded: a line is
//! quoted only from a regular file inside the repository (no symlink followed out of it),
//! never from a document that holds a Secret (of any kind, alone, in a `List` or on one JSON
//! line: a report must not print a credential), and cut to a window when it is long, so a
//! report on a one-line file of megabytes stays linear in its size.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The most characters of one source line a report quotes.
pub const WINDOW_CHARS: usize = 120;

/// Reads each source file once and hands out single lines.
pub(crate) struct SourceCache<'a> {
    base_dir: &'a Path,
    /// The repository files may be read from, resolved on first use.
    root: Option<Option<PathBuf>>,
    files: BTreeMap<String, Option<Source>>,
}

/// One file's lines and which of them belong to a document holding a Secret.
struct Source {
    lines: Vec<String>,
    /// Sorted, disjoint `[start, end)` ranges of 0-based line indices never quoted.
    hidden: Vec<(usize, usize)>,
}

impl<'a> SourceCache<'a> {
    /// A cache for files named relative to `base_dir` (`-C DIR`).
    pub fn new(base_dir: &'a Path) -> Self {
        SourceCache {
            base_dir,
            root: None,
            files: BTreeMap::new(),
        }
    }

    /// The 1-based `line` of `file` as a report may quote it, `None` when it may not.
    pub fn line(&mut self, file: &str, line: u32) -> Option<String> {
        if file == "-" {
            return None;
        }
        let base_dir = self.base_dir;
        let root = self
            .root
            .get_or_insert_with(|| crate::guard::repository_root(base_dir).ok().map(|r| r.0))
            .clone()?;
        let source = self.files.entry(file.to_string()).or_insert_with(|| {
            crate::guard::read_inside(&root, &base_dir.join(file)).map(|t| Source::new(&t))
        });
        let source = source.as_ref()?;
        let index = (line as usize).checked_sub(1)?;
        if source
            .hidden
            .iter()
            .any(|&(start, end)| (start..end).contains(&index))
        {
            return None;
        }
        let text = source.lines.get(index)?;
        if text.trim().is_empty() {
            None
        } else {
            Some(window(text))
        }
    }
}

impl Source {
    fn new(text: &str) -> Source {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut hidden = Vec::new();
        let mut start = 0;
        let mut doc = String::new();
        for (i, line) in lines.iter().enumerate() {
            let marker = line == "---" || line.starts_with("--- ");
            if marker && i > start {
                if holds_secret(&doc) {
                    hidden.push((start, i));
                }
                doc.clear();
                start = i;
            }
            doc.push_str(line);
            doc.push('\n');
        }
        if holds_secret(&doc) {
            hidden.push((start, lines.len()));
        }
        Source { lines, hidden }
    }
}

/// Whether a document's text holds a Secret: an object anywhere in it whose `kind` ends in
/// `Secret` (`Secret`, `SealedSecret`, ...), or text naming one that does not parse (being
/// unable to read a document is no reason to show it).
fn holds_secret(doc: &str) -> bool {
    if !doc.contains("Secret") {
        return false;
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_documents: 1 },
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<serde_json::Value>(doc, options) {
        Ok(value) => has_secret_kind(&value, 0),
        Err(_) => true,
    }
}

fn has_secret_kind(value: &serde_json::Value, depth: usize) -> bool {
    // Deeper than any Kubernetes object nests: treat as holding one rather than recurse.
    if depth > 64 {
        return true;
    }
    match value {
        serde_json::Value::Object(map) => {
            map.get("kind")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|k| k.ends_with("Secret"))
                || map.values().any(|v| has_secret_kind(v, depth + 1))
        }
        serde_json::Value::Array(items) => items.iter().any(|v| has_secret_kind(v, depth + 1)),
        // kubectl's last-applied annotation is a whole object as a JSON string.
        serde_json::Value::String(s) => s.contains("\"Secret\""),
        _ => false,
    }
}

/// `text` cut to [`WINDOW_CHARS`] characters with a `…` where it was cut. Diagnostics carry
/// no column, so the window is the start of the line, where the object begins.
fn window(text: &str) -> String {
    match text.char_indices().nth(WINDOW_CHARS) {
        None => text.to_string(),
        Some((cut, _)) => format!("{} …", text.get(..cut).unwrap_or_default()),
    }
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn secret_documents_are_never_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let text = "kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Secret\nstringData:\n  p: hunter2\n---\n\
            {\"kind\":\"List\",\"items\":[{\"kind\":\"Secret\",\"stringData\":{\"p\":\"x\"}}]}\n---\nkind: Service\n";
        std::fs::write(dir.path().join("a.yaml"), text).unwrap();
        let mut cache = SourceCache::new(dir.path());
        assert_eq!(cache.line("a.yaml", 1).unwrap(), "kind: ConfigMap");
        for line in 3..=8 {
            assert!(cache.line("a.yaml", line).is_none(), "line {line}");
        }
        assert_eq!(cache.line("a.yaml", 10).unwrap(), "kind: Service");
    }

    #[test]
    fn long_lines_are_windowed() {
        let long = "x".repeat(10_000);
        assert_eq!(window(&long).chars().count(), WINDOW_CHARS + 2);
        assert_eq!(window("short"), "short");
        assert!(window(&"é".repeat(500)).ends_with(" …"));
    }
}
