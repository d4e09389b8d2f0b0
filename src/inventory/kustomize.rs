//! Runs the real kustomize (`kustomize build`, else `kubectl kustomize`) and traces every
//! object it emits back to the file it comes from.
//!
//! The user's kustomization is never edited: meshplan writes a wrapper kustomization in a
//! temporary directory whose only resource is the user's directory and which turns on
//! `buildMetadata: [originAnnotations]`, so kustomize itself records each object's origin
//! file. The annotation is removed again; the object's line is found in that file by kind
//! and name (before kustomize's name transformations), else it is line 1.

use super::build::{
    BuildResult, BuiltBy, BuiltDoc, Repo, Tools, find_in_path, normalize, run_tool,
};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The annotation kustomize writes with `buildMetadata: [originAnnotations]`.
const ORIGIN: &str = "config.kubernetes.io/origin";

/// Kustomization file names kustomize recognises, in its order of preference.
pub(crate) const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether `dir` holds a kustomization file.
pub(crate) fn has_kustomization(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

/// The kustomize build of `dir` (canonical, inside the repository), every object traced to
/// its origin.
pub(crate) fn build(repo: &Repo, tools: &Tools, dir: &Path) -> BuildResult<Vec<BuiltDoc>> {
    if !has_kustomization(dir) {
        return Err(format!(
            "{} has no kustomization.yaml",
            repo.display(dir).unwrap_or_default()
        ));
    }
    let wrapper = Wrapper {
        resources: vec![dir.to_path_buf()],
        fields: Map::new(),
        unrestricted: false,
    };
    let out = wrapper.run(tools)?;
    let mut lines = LineFinder::default();
    let mut docs = out
        .texts
        .iter()
        .map(|text| {
            let value = parse(text)?;
            finish(value, &out.dir, &mut lines, &|p| origin_in_repo(repo, p))
        })
        .collect::<BuildResult<Vec<_>>>()?;
    let name = format!("kustomize {}", repo.display(dir).unwrap_or_default());
    mark_built(&mut docs, name, components_of(repo, dir, &[]));
    Ok(docs)
}

/// A kustomization meshplan writes around the user's directories.
pub(crate) struct Wrapper {
    /// Canonical directories (or, when `unrestricted`, files) to build.
    pub resources: Vec<PathBuf>,
    /// More kustomization fields: `namespace`, `patches`, `images`, `namePrefix`, ...
    pub fields: Map<String, Value>,
    /// Whether resources may be files outside the wrapper (`LoadRestrictionsNone`, as
    /// kustomize-controller builds).
    pub unrestricted: bool,
}

/// A wrapper's build: the documents' texts, and the wrapper directory origins are relative to.
pub(crate) struct Output {
    /// One text per emitted object, origin annotation included.
    pub texts: Vec<String>,
    /// Where the wrapper was (kept alive so origin paths can be resolved lexically).
    pub dir: PathBuf,
    _temp: tempfile::TempDir,
}

impl Wrapper {
    /// Writes the wrapper and runs kustomize on it.
    pub fn run(&self, tools: &Tools) -> BuildResult<Output> {
        let temp = tempfile::Builder::new()
            .prefix("meshplan-kustomize-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let dir = temp
            .path()
            .canonicalize()
            .map_err(|e| format!("cannot open a temporary directory: {e}"))?;
        // kustomize refuses absolute roots: name everything relative to the wrapper.
        let rel = |p: &Path| relative(&dir, p).to_string_lossy().into_owned();
        let mut k = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": self.resources.iter().map(|p| rel(p)).collect::<Vec<_>>(),
            "buildMetadata": ["originAnnotations"],
        });
        if let Some(obj) = k.as_object_mut() {
            let mut fields = self.fields.clone();
            if let Some(Value::Array(components)) = fields.get_mut("components") {
                for c in components.iter_mut() {
                    if let Some(path) = c.as_str() {
                        *c = Value::String(rel(Path::new(path)));
                    }
                }
            }
            obj.extend(fields);
        }
        // JSON is YAML: kustomize reads it as the kustomization file.
        std::fs::write(dir.join("kustomization.yaml"), k.to_string())
            .map_err(|e| format!("cannot write the wrapper kustomization: {e}"))?;
        let mut cmd = kustomize_command(tools)?;
        cmd.arg(&dir);
        if self.unrestricted {
            cmd.arg("--load-restrictor").arg("LoadRestrictionsNone");
        }
        let text = run_tool(cmd, "kustomize build")?;
        Ok(Output {
            texts: super::build::split_documents(&text),
            dir,
            _temp: temp,
        })
    }
}

/// `to` relative to the directory `from` (both absolute and canonical): `../../x/y`.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to_parts: Vec<_> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in to_parts.iter().skip(common) {
        out.push(part);
    }
    out
}

/// `kustomize build` or `kubectl kustomize`, from `--kustomize` or `PATH`.
fn kustomize_command(tools: &Tools) -> BuildResult<Command> {
    let program = match &tools.kustomize {
        Some(p) => p.clone(),
        None => find_in_path(&["kustomize", "kubectl"]).ok_or_else(|| {
            "neither `kustomize` nor `kubectl` is in PATH; install one or pass --kustomize PATH"
                .to_string()
        })?,
    };
    let is_kubectl = program
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl"));
    let mut cmd = Command::new(&program);
    cmd.arg(if is_kubectl { "kustomize" } else { "build" });
    Ok(cmd)
}

/// Parses one emitted document.
pub(crate) fn parse(text: &str) -> BuildResult<Value> {
    let docs = super::parse::parse_documents(text, Path::new("<kustomize output>"))
        .map_err(|e| e.to_string())?;
    docs.into_iter()
        .next()
        .map(|d| d.value)
        .ok_or_else(|| "kustomize emitted an empty document".to_string())
}

/// Maps a canonical origin file to (display, file to search) when it lies in the repository.
pub(crate) type OriginMap<'a> = dyn Fn(&Path) -> BuildResult<(String, PathBuf)> + 'a;

/// An origin inside the repository itself.
pub(crate) fn origin_in_repo(repo: &Repo, path: &Path) -> BuildResult<(String, PathBuf)> {
    let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    repo.display(&canon)
        .map(|d| (d, canon.clone()))
        .ok_or_else(|| {
            format!(
                "an object comes from {}, outside the repository; refusing it",
                path.display()
            )
        })
}

/// Removes the origin annotation, resolves the origin file and finds the object's line.
pub(crate) fn finish(
    mut value: Value,
    wrapper_dir: &Path,
    lines: &mut LineFinder,
    map: &OriginMap<'_>,
) -> BuildResult<BuiltDoc> {
    let origin = take_origin(&mut value);
    let Some(rel) = origin else {
        return Err(format!(
            "kustomize gave {} no origin annotation",
            describe(&value)
        ));
    };
    let (file, search) = map(&normalize(&wrapper_dir.join(rel)))?;
    let line = lines.find(&search, &value);
    Ok(BuiltDoc {
        value,
        file,
        line,
        namespace: None,
        built_by: None,
    })
}

/// Every Component directory the kustomization in `dir` includes, directly or through the
/// directories it builds (`resources`), plus `extra`; as reports name them, sorted. A
/// kustomization that cannot be read is skipped: the build itself reports it.
pub(crate) fn components_of(repo: &Repo, dir: &Path, extra: &[PathBuf]) -> Vec<String> {
    let mut found = std::collections::BTreeSet::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![dir.to_path_buf()];
    for c in extra {
        found.insert(c.clone());
    }
    while let Some(d) = todo.pop() {
        if !seen.insert(d.clone()) {
            continue;
        }
        let Some(text) = KUSTOMIZATION_FILES
            .iter()
            .find_map(|f| std::fs::read_to_string(d.join(f)).ok())
        else {
            continue;
        };
        let Ok(docs) = super::parse::parse_documents(&text, &d) else {
            continue;
        };
        let Some(k) = docs.into_iter().next().map(|doc| doc.value) else {
            continue;
        };
        let list = |key: &str| -> Vec<PathBuf> {
            k.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(|p| normalize(&d.join(p)))
                .collect()
        };
        for c in list("components") {
            found.insert(c.canonicalize().unwrap_or(c));
        }
        for r in list("resources").into_iter().chain(list("bases")) {
            if r.is_dir() {
                todo.push(r.canonicalize().unwrap_or(r));
            }
        }
    }
    found.iter().filter_map(|c| repo.display(c)).collect()
}

/// Marks every document as built by `build` with the Components of `dir`.
pub(crate) fn mark_built(docs: &mut [BuiltDoc], build: String, components: Vec<String>) {
    let by = BuiltBy { build, components };
    for d in docs {
        d.built_by = Some(by.clone());
    }
}

/// `Kind/name` of an object, for messages.
pub(crate) fn describe(value: &Value) -> String {
    format!(
        "{}/{}",
        value.get("kind").and_then(Value::as_str).unwrap_or("?"),
        value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
    )
}

/// Removes `config.kubernetes.io/origin` (and an annotations map it leaves empty) and
/// returns its `path` (or, for generated objects, `configuredIn`).
fn take_origin(value: &mut Value) -> Option<String> {
    let annotations = value
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)?;
    let origin = annotations.remove(ORIGIN)?;
    let empty = annotations.is_empty();
    if empty && let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("annotations");
    }
    let text = origin.as_str()?.to_string();
    let field = |key: &str| {
        text.lines().find_map(|l| {
            l.trim()
                .strip_prefix(key)
                .map(|v| v.trim().trim_matches(['\'', '"']).to_string())
        })
    };
    field("path:").or_else(|| field("configuredIn:"))
}

/// Finds where an object is written in its origin file, caching each file's documents.
#[derive(Default)]
pub(crate) struct LineFinder {
    files: BTreeMap<PathBuf, Vec<(String, String, u64)>>,
}

impl LineFinder {
    /// The line of the document of the same kind whose name the built name contains (a
    /// prefix or suffix may have been added), preferring the exact and then the longest
    /// name; 1 when none matches or the file cannot be read.
    pub fn find(&mut self, file: &Path, value: &Value) -> u64 {
        let docs = self.files.entry(file.to_path_buf()).or_insert_with(|| {
            let Ok(text) = std::fs::read_to_string(file) else {
                return Vec::new();
            };
            let Ok(docs) = super::parse::parse_documents(&text, file) else {
                return Vec::new();
            };
            docs.into_iter()
                .map(|d| {
                    let s = |p: &str| {
                        d.value
                            .pointer(p)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    };
                    (s("/kind"), s("/metadata/name"), d.line)
                })
                .collect()
        });
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        docs.iter()
            .filter(|(k, n, _)| k == kind && !n.is_empty() && name.contains(n.as_str()))
            .max_by_key(|(_, n, line)| (n == name, n.len(), std::cmp::Reverse(*line)))
            .map(|(_, _, line)| *line)
            .unwrap_or(1)
    }
}
