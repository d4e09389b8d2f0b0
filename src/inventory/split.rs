//! Parses a large manifest file as several runs of whole documents at once, one per core.
//!
//! A file is cut only at lines that begin with a `---` directives-end marker: YAML forbids
//! that marker at the start of a line inside any scalar (block or quoted) and inside flow
//! collections, so such a line always starts a new document and a cut there never splits a
//! block scalar. Files the cut could misread are not cut at all: directives (`%YAML`, `%TAG`
//! apply to the next document), or line breaks other than `\n` (the line numbers added
//! back are counted in `\n`).
//!
//! The cut parse is only an optimisation and may never change an outcome. Each run gets a
//! share of the file's alias-replay budget proportional to its size, so all runs together
//! replay no more than one parse of the whole file may. When any run fails, for whatever
//! reason (a real error, a share too small for a legitimate anchor, an unexpected cut), the
//! whole file is parsed again exactly as before: the result, or the error with its line and
//! message, is then the one a single parse gives. Runs are joined in file order, so the
//! documents are the same whatever the number of threads.

use super::InventoryError;
use super::parse::{self, Doc, MAX_ALIAS_REPLAYS};
use rayon::prelude::*;
use std::path::Path;

/// Smallest run of documents parsed on its own: below this the parser's set-up costs more
/// than the parallelism gains, and most files are a single run.
const MIN_RUN_BYTES: usize = 256 * 1024;

/// Parses every non-empty document of `text` like [`parse::parse_documents`], in parallel
/// runs of whole documents on the current rayon pool when the file is large.
pub(crate) fn parse_file(text: &str, display: &Path) -> Result<Vec<Doc>, InventoryError> {
    parse_file_in_runs(text, display, MIN_RUN_BYTES)
}

/// [`parse_file`] with the smallest run given (tests cut at every document).
pub(crate) fn parse_file_in_runs(
    text: &str,
    display: &Path,
    min_run: usize,
) -> Result<Vec<Doc>, InventoryError> {
    let runs = runs(text, min_run);
    // Only the loader's pool (`parallel`), whose workers have the parser's stack, calls this
    // from a rayon thread; outside any pool (it could not start) the file is parsed alone.
    if runs.len() < 2 || rayon::current_thread_index().is_none() {
        return parse::parse_documents(text, display);
    }
    let total = text.len().max(1);
    let parsed: Vec<Option<Vec<Doc>>> = runs
        .par_iter()
        .map(|run| {
            let chunk = text.get(run.start..run.end)?;
            // Proportional shares, rounded down: their sum never exceeds the file's budget.
            let share = (MAX_ALIAS_REPLAYS as u128 * chunk.len() as u128 / total as u128) as usize;
            let mut docs = parse::parse_documents_budgeted(chunk, display, share).ok()?;
            if !docs.iter().all(located_by_own_text) {
                return None;
            }
            for doc in &mut docs {
                doc.line += run.lines_before;
                for line in &mut doc.item_lines {
                    *line += run.lines_before;
                }
            }
            Some(docs)
        })
        .collect();
    let mut out = Vec::new();
    for docs in parsed {
        match docs {
            Some(docs) => out.extend(docs),
            // One parse of the whole file decides, exactly as without runs.
            None => return parse::parse_documents(text, display),
        }
    }
    Ok(out)
}

/// Whether the lines of `doc` depend only on its own text. The parser places an empty node
/// (a document that is only `--- |`, an empty `items` entry) where the next token is, which
/// lies in the following document when the file is parsed whole but at the end of the run
/// when it is cut: such a run is parsed again whole. A mapping starts at its first key and
/// any other node at its first token, inside the run. Documents that are not mappings are
/// refused by the loader anyway, at their line, which must then be the whole parse's.
fn located_by_own_text(doc: &Doc) -> bool {
    let Some(fields) = doc.value.as_object() else {
        return false;
    };
    match fields.get("items").and_then(serde_json::Value::as_array) {
        Some(items) => items.iter().all(|item| !item.is_null()),
        None => true,
    }
}

/// A byte range of whole documents and the number of lines before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    start: usize,
    end: usize,
    lines_before: u64,
}

/// Cuts `text` at `---` lines into runs of at least `min_run` bytes (the last may be
/// shorter); one run when the file is small or must not be cut (see the module doc).
fn runs(text: &str, min_run: usize) -> Vec<Run> {
    let whole = vec![Run {
        start: 0,
        end: text.len(),
        lines_before: 0,
    }];
    if text.len() < min_run.saturating_mul(2)
        || text.contains(['\r', '\u{85}', '\u{2028}', '\u{2029}'])
        || text.starts_with('%')
        || text.contains("\n%")
    {
        return whole;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut lines_before) = (0usize, 0u64);
    let mut line = 0u64;
    let mut pos = 0usize;
    while pos < bytes.len() {
        let next = bytes
            .get(pos..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map_or(bytes.len(), |i| pos + i + 1);
        if pos > start && pos - start >= min_run && is_document_start(bytes.get(pos..next)) {
            out.push(Run {
                start,
                end: pos,
                lines_before,
            });
            start = pos;
            lines_before = line;
        }
        line += 1;
        pos = next;
    }
    out.push(Run {
        start,
        end: text.len(),
        lines_before,
    });
    out
}

/// Whether a line is a `---` marker: the three dashes, then the end of the line or a blank.
fn is_document_start(line: Option<&[u8]>) -> bool {
    match line {
        Some([b'-', b'-', b'-', rest @ ..]) => {
            matches!(rest.first(), None | Some(b'\n' | b' ' | b'\t'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`parse_file_in_runs`] on a pool of 2 threads, where runs are parsed in parallel.
    fn cut_parse(text: &str, min_run: usize) -> Result<Vec<Doc>, InventoryError> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a pool of 2 threads")
            .install(|| parse_file_in_runs(text, Path::new("t.yaml"), min_run))
    }

    fn cuts(text: &str, min_run: usize) -> Vec<(usize, u64)> {
        runs(text, min_run)
            .iter()
            .map(|r| (r.start, r.lines_before))
            .collect()
    }

    #[test]
    fn cuts_only_at_marker_lines_after_the_minimum() {
        let text = "a: 1\n---\nb: 2\n--- |\n  x\n---x: 3\n----\n--- # c\nc: 4\n";
        // `---x` and `----` are not markers; `--- |` and `--- # c` are.
        assert_eq!(cuts(text, 1), vec![(0, 0), (5, 1), (14, 3), (37, 7)]);
        assert_eq!(cuts(text, 10), vec![(0, 0), (14, 3), (37, 7)]);
        assert_eq!(cuts(text, 1000), vec![(0, 0)]);
    }

    #[test]
    fn files_the_cut_could_misread_are_one_run() {
        for text in [
            "a: 1\r\n---\r\nb: 2\r\n",
            "%YAML 1.2\n---\na: 1\n---\nb: 2\n",
            "a: 1\n...\n%TAG ! tag:x,2000:\n---\nb: 2\n",
            "a: \"x\u{2028}y\"\n---\nb: 2\n",
        ] {
            assert_eq!(cuts(text, 1), vec![(0, 0)], "{text:?}");
        }
    }

    #[test]
    fn marker_inside_a_block_scalar_is_at_column_zero_only_when_it_ends_it() {
        // Indented `---` lines belong to the scalar and are never cut at.
        let text = "data:\n  script: |\n    ---\n    echo\n---\nb: 2\n";
        assert_eq!(cuts(text, 1), vec![(0, 0), (35, 4)]);
        let docs = cut_parse(text, 1).expect("parses");
        let whole = parse::parse_documents(text, Path::new("t.yaml")).expect("parses");
        assert_eq!(docs.len(), 2);
        for (a, b) in docs.iter().zip(&whole) {
            assert_eq!((a.line, &a.value), (b.line, &b.value));
        }
    }

    #[test]
    fn a_marker_ending_a_root_block_scalar_gives_what_the_whole_parse_gives() {
        let text = "--- |\nfoo\n---\nb: 2\n";
        let cut = cut_parse(text, 1).expect("parses");
        let whole = parse::parse_documents(text, Path::new("t.yaml")).expect("parses");
        let view = |docs: &[Doc]| {
            docs.iter()
                .map(|d| (d.line, d.value.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(view(&cut), view(&whole));
    }

    #[test]
    fn empty_nodes_at_the_end_of_a_run_are_placed_as_in_the_whole_parse() {
        for text in [
            "a: 1\n--- >-\n---\nb: 2\n",
            "a: 1\n--- |\n---\nb: 2\n",
            "kind: List\nitems:\n- {a: 1}\n-\n---\nb: 2\n",
        ] {
            let cut = outcome(cut_parse(text, 1));
            let whole = outcome(parse::parse_documents(text, Path::new("t.yaml")));
            assert_eq!(cut, whole, "{text:?}");
        }
    }

    #[test]
    fn a_failing_run_falls_back_to_the_whole_file_and_its_error() {
        let text = "a: 1\n---\nb: [\n---\nc: 3\n";
        let cut = cut_parse(text, 1).expect_err("invalid");
        let whole = parse::parse_documents(text, Path::new("t.yaml")).expect_err("invalid");
        assert_eq!(cut.to_string(), whole.to_string());
    }

    #[test]
    fn a_run_whose_share_is_too_small_for_its_anchors_is_parsed_again_whole() {
        let filler = "---\nk: v\n".repeat(20_000);
        let mut anchors = String::from("---\nbase: &b {a: 1, b: 2, c: 3}\nlist:\n");
        anchors.push_str(&"  - *b\n".repeat(10_000));
        let text = format!("{filler}{anchors}{filler}");
        // The share of the anchors' run is too small for its 80,000 replayed events...
        let run = runs(&text, 1000)
            .into_iter()
            .find(|r| r.end > filler.len() + 10 && r.start <= filler.len())
            .expect("a run holds the anchors");
        let chunk = &text[run.start..run.end];
        let share = MAX_ALIAS_REPLAYS * chunk.len() / text.len();
        assert!(parse::parse_documents_budgeted(chunk, Path::new("t.yaml"), share).is_err());
        // ...so the whole file is parsed again, within the file's budget.
        let whole = outcome(parse::parse_documents(&text, Path::new("t.yaml")));
        assert!(whole.is_ok());
        assert_eq!(outcome(cut_parse(&text, 1000)), whole);
    }

    #[test]
    fn tricky_markers_give_what_the_whole_parse_gives() {
        for text in [
            // A marker line inside a multi-line quoted scalar: an error either way.
            "a: 1\n---\nb: \"x\n---\ny\"\n---\nc: 3\n",
            "a: 1\n---\nb: 'x\n--- y'\n",
            // Inside a flow collection spanning lines.
            "a: 1\n---\nb: [1,\n---\n2]\n",
            // Content on the marker line, document end markers, comments.
            "--- {a: 1}\n--- [1, 2]\n...\n---\n# ---\nb: 2\n--- # c\n--- !!str x\n",
            // Block scalars whose lines look like markers only when indented.
            "a: |\n  ---\n   --- x\n---\nb: >-\n  ---\n",
            // A root block scalar with content at column 0, ended by a marker.
            "--- >\nfolded\n--- |\nliteral\n...\n---\nc: 1\n",
            // Empty documents between markers, and a trailing marker.
            "---\n---\na: 1\n---\n---\n",
        ] {
            let cut = outcome(cut_parse(text, 1));
            let whole = outcome(parse::parse_documents(text, Path::new("t.yaml")));
            assert_eq!(cut, whole, "{text:?}");
        }
    }

    #[test]
    fn cutting_mutated_manifests_changes_nothing() {
        // Real multi-document files, mutated line by line with what could fool a cut: marker
        // lines anywhere, open quotes and flow collections, block scalar headers, anchors,
        // aliases, directives. Deterministic (fixed seed); every case compares the cut parse
        // with one parse of the whole file, result or error.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/corpus");
        let seeds: Vec<String> = ["istio-samples", "microservices-demo", "argo-cd"]
            .iter()
            .flat_map(|d| walkdir::WalkDir::new(root.join(d)).sort_by_file_name())
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter(|t| t.matches("\n---").count() >= 3)
            .collect();
        assert!(seeds.len() >= 10, "{} seeds", seeds.len());
        let pieces = [
            "---",
            "--- |",
            "--- >-",
            "...",
            "%YAML 1.2",
            "a: \"open",
            "b: 'open",
            "c: [1,",
            "d: {x: 1,",
            "e: |",
            "f: >",
            "g: &x {k: v}",
            "h: *x",
            "  - *x",
            "---x",
            "# ---",
            "kind: List",
            "items:",
            "-",
            "- ",
            "  -",
            "--- ~",
            "--- ''",
            "--- !!null",
            "? k",
        ];
        let mut rng = fastrand::Rng::with_seed(16);
        for case in 0..400 {
            let seed = &seeds[rng.usize(..seeds.len())];
            let mut lines: Vec<String> = seed.lines().map(str::to_string).collect();
            for _ in 0..rng.usize(1..4) {
                let at = rng.usize(..=lines.len());
                match rng.u8(..3) {
                    0 => lines.insert(at, pieces[rng.usize(..pieces.len())].to_string()),
                    1 if at < lines.len() => {
                        lines.remove(at);
                    }
                    _ => lines.insert(at, "---".to_string()),
                }
            }
            let text = lines.join("\n") + "\n";
            let cut = outcome(cut_parse(&text, 1));
            let whole = outcome(parse::parse_documents(&text, Path::new("t.yaml")));
            if let (Ok(c), Ok(w)) = (&cut, &whole) {
                let first = c.iter().zip(w).position(|(a, b)| a != b);
                assert!(
                    c.len() == w.len() && first.is_none(),
                    "case {case}: {} vs {} documents, first difference {first:?}:\n{:?}\n{:?}\n{text}",
                    c.len(),
                    w.len(),
                    first.and_then(|i| c.get(i)),
                    first.and_then(|i| w.get(i)),
                );
            }
            assert_eq!(cut, whole, "case {case}:\n{text}");
        }
    }

    /// The documents as compared: line, item lines and value, or the error's text.
    fn outcome(parsed: Result<Vec<Doc>, InventoryError>) -> Result<Vec<String>, String> {
        parsed
            .map(|docs| {
                docs.iter()
                    .map(|d| format!("{} {:?} {}", d.line, d.item_lines, d.value))
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn cutting_at_every_document_changes_nothing_on_real_manifests() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = 0;
        let mut cut_files = 0;
        for dir in [
            "../shared/data/corpus",
            "../shared/data/gitops-repos",
            "examples",
        ] {
            let dir = root.join(dir);
            assert!(dir.is_dir(), "{} is missing", dir.display());
            for entry in walkdir::WalkDir::new(&dir).sort_by_file_name() {
                let entry = entry.expect("walkable");
                let path = entry.path();
                if !path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(path) else {
                    continue;
                };
                files += 1;
                if runs(&text, 1).len() > 1 {
                    cut_files += 1;
                }
                let whole = outcome(parse::parse_documents(&text, path));
                let cut = outcome(cut_parse(&text, 1));
                assert_eq!(cut, whole, "{}", path.display());
            }
        }
        assert!(
            files > 300 && cut_files > 50,
            "{files} files, {cut_files} cut"
        );
    }
}
