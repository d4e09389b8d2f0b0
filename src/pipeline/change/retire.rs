//! Retiring an adopted install: the step that drops an adopted revision from the lock also
//! deletes the user's document that installs it (`installedBy`) from the file holding it,
//! every other byte of that file unchanged (docs/adopt.md). The document is found by parsing
//! the file's documents one `---` segment at a time and checking that the segments parse to
//! exactly the documents of the whole file, so a file meshplan cannot cut exactly is never
//! edited: like a file it may not write, it becomes a manual action of the step.

use crate::pipeline::Pipeline;
use crate::state::{Lock, ObjectOrigin};
use std::collections::BTreeMap;
use std::path::Path;

/// What retiring the adopted revisions of a change does to the user's files.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Retirement {
    /// Repository-relative path to its new bytes (`None`: the file is deleted).
    pub files: BTreeMap<String, Option<Vec<u8>>>,
    /// One line per document that must be deleted by hand, with the reason.
    pub manual: Vec<String>,
    /// One line per document deleted, e.g. `HelmRelease/istio-system/istiod (apps/…)`.
    pub deleted: Vec<String>,
    /// One line per adopted document deleted because meshplan's render now declares the
    /// same object (the `base` release, its HelmRepository): taken over in place.
    pub taken_over: Vec<String>,
}

/// The `installedBy` documents of the adopted revisions `before` records and `after` no
/// longer does.
pub fn retired(before: Option<&Lock>, after: &Lock) -> Vec<ObjectOrigin> {
    let Some(before) = before else {
        return Vec::new();
    };
    before
        .revisions
        .iter()
        .filter(|r| !after.revisions.iter().any(|a| a.name == r.name))
        .filter_map(|r| r.installed_by.clone())
        .collect()
}

/// Adds to the `manual` list of each step that retires an adopted revision the documents
/// meshplan cannot delete itself (judged on the working tree), with the reason.
pub fn annotate(ctx: &mut Pipeline) {
    let Some(mut lock) = ctx.lock.clone() else {
        return;
    };
    if !lock.revisions.iter().any(|r| r.installed_by.is_some()) {
        return;
    }
    let root = ctx.root.clone();
    let read = |rel: &str| std::fs::read(root.join(rel)).ok();
    let mut manual = Vec::new();
    for step in &ctx.plan.steps {
        let next = ctx.apply(&lock, step);
        let mut origins = retired(Some(&lock), &next);
        let mut actions = Vec::new();
        if let Some(tree) = super::takeover::render_after(ctx, &lock, &next) {
            origins.extend(super::takeover::replaced(Some(&lock), &next, &tree));
            actions = super::takeover::helm_actions(Some(&lock), &next, &tree);
        }
        let mut step_manual = if origins.is_empty() {
            Vec::new()
        } else {
            retire(ctx, &origins, &read).manual
        };
        step_manual.extend(actions);
        manual.push(step_manual);
        lock = next;
    }
    for (step, extra) in ctx.plan.steps.iter_mut().zip(manual) {
        step.manual.extend(extra);
    }
}

/// The edits that retire `origins`: `read` gives the current bytes of a repository-relative
/// path (the working tree for `render`, the base commit for `commit`), `None` when absent.
pub fn retire(
    ctx: &Pipeline,
    origins: &[ObjectOrigin],
    read: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Retirement {
    let mut out = Retirement::default();
    for origin in origins {
        let key = format!(
            "{}/{}{}",
            origin.kind,
            if origin.namespace.is_empty() {
                String::new()
            } else {
                format!("{}/", origin.namespace)
            },
            origin.name
        );
        // An adopted object meshplan's render declares again is replaced, not uninstalled.
        let replaced = ctx
            .lock
            .as_ref()
            .is_some_and(|l| l.adopted.contains(origin));
        let what = if replaced {
            format!(
                "delete {key} from {} (meshplan's render takes it over under the same name)",
                origin.file
            )
        } else {
            format!("delete {key} from {}", origin.file)
        };
        let whole = if replaced {
            Ok(())
        } else {
            whole_install(origin)
        };
        let edited = whole
            .and_then(|()| writable(ctx, &origin.file))
            .and_then(|rel| {
                let current = match out.files.get(&rel) {
                    Some(Some(bytes)) => bytes.clone(),
                    Some(None) => return Err("the file is gone".to_string()),
                    None => read(&rel).ok_or_else(|| "the file cannot be read".to_string())?,
                };
                let text = String::from_utf8(current).map_err(|_| "not UTF-8 text".to_string())?;
                let new = remove_document(&text, origin)?;
                Ok((rel, new.map(String::into_bytes)))
            });
        match edited {
            Ok((rel, new)) => {
                if replaced {
                    out.taken_over.push(format!("{key} ({rel})"));
                } else {
                    out.deleted.push(format!("{key} ({rel})"));
                }
                out.files.insert(rel, new);
            }
            Err(reason) => out.manual.push(format!("{what} by hand: {reason}")),
        }
    }
    out
}

/// Kinds whose one object is the whole install: deleting it uninstalls everything it
/// installed (Flux HelmRelease, Argo CD Application, IstioOperator, Sail `Istio` /
/// `IstioRevision`).
const INSTALL_KINDS: [&str; 5] = [
    "HelmRelease",
    "Application",
    "IstioOperator",
    "Istio",
    "IstioRevision",
];

/// Refuses an install recorded by one of its rendered objects (the istiod Deployment of
/// `helm template` / `istioctl manifest generate` output): deleting that object alone would
/// leave its webhooks, Services and RBAC behind.
fn whole_install(origin: &ObjectOrigin) -> Result<(), String> {
    if INSTALL_KINDS.contains(&origin.kind.as_str()) {
        Ok(())
    } else {
        Err(
            "it is one object of a rendered install (helm template / istioctl manifest \
             generate output); delete every object of that install, not only this one"
                .to_string(),
        )
    }
}

/// Applies `retirement` to the working tree at `root`: each file replaced atomically (a
/// temporary file renamed over it) or deleted.
pub fn write(root: &Path, retirement: &Retirement) -> Result<(), crate::error::Error> {
    for (rel, new) in &retirement.files {
        let full = root.join(rel);
        let result = match new {
            Some(bytes) => replace(&full, bytes),
            None => std::fs::remove_file(&full),
        };
        result.map_err(|source| crate::git::GitError::WorktreeWrite {
            path: rel.clone(),
            source,
        })?;
    }
    Ok(())
}

/// Replaces `full` by `bytes` through a temporary file beside it, keeping its permissions,
/// so a reader never sees half a file.
fn replace(full: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = full.parent().unwrap_or_else(|| Path::new("."));
    let permissions = std::fs::metadata(full)?.permissions();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().set_permissions(permissions)?;
    tmp.persist(full).map_err(|e| e.error)?;
    Ok(())
}

/// The repository-relative path of `file` (relative to `-C DIR`) when meshplan may edit it
/// ([`crate::guard::check_user_file`]).
fn writable(ctx: &Pipeline, file: &str) -> Result<String, String> {
    let output = crate::pipeline::change::drift::output_dir(ctx)
        .canonicalize()
        .ok();
    crate::guard::check_user_file(&ctx.root, &ctx.dir, output.as_deref(), file)
}

/// `text` without the one document that is `origin` (kind, namespace, name); `None` when
/// no document is left. Refused (the reason) unless the file's `---` segments parse to
/// exactly its documents and exactly one of them is `origin`.
pub fn remove_document(text: &str, origin: &ObjectOrigin) -> Result<Option<String>, String> {
    let whole = parse(text)?;
    // Byte offsets where a segment starts: the file's start and every `---` marker line.
    let mut starts = vec![0usize];
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare.trim_end() == "---" {
            if offset > 0 {
                starts.push(offset);
            }
        } else if bare.starts_with("---") || bare.starts_with("...") {
            return Err(
                "a document marker with content (`--- …` or `...`) that meshplan does not cut"
                    .to_string(),
            );
        }
        offset += line.len();
    }
    let mut segments = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let part = text.get(start..end).unwrap_or("");
        let docs = parse(part)?;
        if docs.len() > 1 {
            return Err("its documents cannot be told apart by their `---` lines".to_string());
        }
        segments.push((start..end, docs.into_iter().next()));
    }
    let found: Vec<serde_json::Value> = segments.iter().filter_map(|s| s.1.clone()).collect();
    if found != whole {
        return Err("its documents cannot be told apart by their `---` lines".to_string());
    }
    let matching: Vec<usize> = segments
        .iter()
        .enumerate()
        .filter(|(_, (_, doc))| doc.as_ref().is_some_and(|d| is(d, origin)))
        .map(|(i, _)| i)
        .collect();
    let [index] = matching.as_slice() else {
        return Err(if matching.is_empty() {
            "the document is not in the file".to_string()
        } else {
            "the file holds it more than once".to_string()
        });
    };
    let Some((range, _)) = segments.get(*index) else {
        return Err("the document is not in the file".to_string());
    };
    let mut rest = String::with_capacity(text.len());
    rest.push_str(text.get(..range.start).unwrap_or(""));
    rest.push_str(text.get(range.end..).unwrap_or(""));
    let left = parse(&rest)?;
    let mut expected = whole;
    let removed = segments
        .iter()
        .take(*index)
        .filter(|s| s.1.is_some())
        .count();
    expected.remove(removed);
    if left != expected {
        return Err("removing it would change the other documents".to_string());
    }
    Ok((!left.is_empty()).then_some(rest))
}

/// Whether the document `doc` is the object `origin`.
fn is(doc: &serde_json::Value, origin: &ObjectOrigin) -> bool {
    let meta = &doc["metadata"];
    doc["kind"].as_str() == Some(origin.kind.as_str())
        && meta["name"].as_str() == Some(origin.name.as_str())
        && meta["namespace"].as_str().unwrap_or("") == origin.namespace
}

/// The non-empty documents of `text`, parsed on a thread with the parser's stack.
fn parse(text: &str) -> Result<Vec<serde_json::Value>, String> {
    crate::inventory::on_parser_stack("meshplan-retire", || {
        crate::inventory::parse_documents(text, Path::new("-"))
            .map(|docs| docs.into_iter().map(|d| d.value).collect())
            .map_err(|e| format!("it does not parse: {e}"))
    })
    .unwrap_or_else(|_| Err("the parser failed".to_string()))
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn istiod() -> ObjectOrigin {
        ObjectOrigin {
            file: "releases.yaml".to_string(),
            kind: "HelmRelease".to_string(),
            namespace: "istio-system".to_string(),
            name: "istiod".to_string(),
        }
    }

    const BASE: &str = "# head\napiVersion: v1\nkind: HelmRelease\nmetadata:\n  name: istio-base\n  namespace: istio-system\n";
    const ISTIOD: &str = "---\n# the control plane\nkind: HelmRelease\nmetadata:\n  name: istiod\n  namespace: istio-system\n";
    const TAIL: &str = "---\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: istio-system\n";

    #[test]
    fn only_the_document_and_its_marker_go() {
        let text = format!("{BASE}{ISTIOD}{TAIL}");
        assert_eq!(
            remove_document(&text, &istiod()).unwrap(),
            Some(format!("{BASE}{TAIL}"))
        );
        let text = format!("{BASE}{ISTIOD}");
        assert_eq!(
            remove_document(&text, &istiod()).unwrap(),
            Some(BASE.to_string())
        );
    }

    #[test]
    fn a_file_left_empty_is_deleted() {
        let only = ISTIOD.trim_start_matches("---\n");
        assert_eq!(remove_document(only, &istiod()).unwrap(), None);
        assert_eq!(remove_document(ISTIOD, &istiod()).unwrap(), None);
    }

    #[test]
    fn what_cannot_be_cut_exactly_is_refused() {
        assert!(remove_document(BASE, &istiod()).is_err());
        let twice = format!("{ISTIOD}{ISTIOD}");
        assert!(remove_document(&twice, &istiod()).is_err());
        // A document end marker is not cut around: the file is left to the user.
        let ended = format!("kind: ConfigMap\n...\n{ISTIOD}");
        assert!(remove_document(&ended, &istiod()).is_err());
    }
}
