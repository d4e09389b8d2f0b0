//! `{argocd: PATH}`: the Argo CD `Application`s found at PATH (a file, or the YAML files
//! below a directory), each built as Argo CD builds its source when that source is a path
//! of this repository: a directory with a kustomization is built by kustomize, one with a
//! `Chart.yaml` by `helm template` (with `helm.valueFiles`, `helm.values`, `releaseName`),
//! any other directory is read as plain manifests (below it too when `directory.recurse`).
//! Namespaced objects without a namespace land in `spec.destination.namespace`.
//!
//! A source meshplan cannot build offline (a chart from a Helm repository, a path that is
//! not in this repository) is recorded on the Application as [`Unrendered`] (MP504).

use super::build::{BuildResult, Built, BuiltDoc, Repo, Tools, Unrendered};
use crate::diagnostic::ObjectRef;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Builds every Application found at `path`.
pub(crate) fn follow(repo: &Repo, tools: &Tools, path: &str) -> BuildResult<Built> {
    let start = repo.inside(path)?;
    let mut built = Built::default();
    for file in yaml_files(&start, true)? {
        let display = repo.display(&file).unwrap_or_default();
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("cannot read {display}: {e}"))?;
        let docs =
            super::parse::parse_documents(&text, Path::new(&display)).map_err(|e| e.to_string())?;
        for doc in docs {
            let app = &doc.value;
            if app.get("kind").and_then(Value::as_str) != Some("Application")
                || super::group_of(str_at(app, "/apiVersion")) != "argoproj.io"
            {
                continue;
            }
            let id = ObjectRef {
                api_version: str_at(app, "/apiVersion").to_string(),
                kind: "Application".to_string(),
                namespace: match str_at(app, "/metadata/namespace") {
                    "" => "default".to_string(),
                    ns => ns.to_string(),
                },
                name: str_at(app, "/metadata/name").to_string(),
            };
            let sources: Vec<&Value> = match app.pointer("/spec/sources").and_then(Value::as_array)
            {
                Some(list) => list.iter().collect(),
                None => app.pointer("/spec/source").into_iter().collect(),
            };
            for source in sources {
                match build_source(repo, tools, app, source)? {
                    Ok(docs) => built.docs.extend(docs),
                    Err(reason) => built.unrendered.push(Unrendered {
                        object: id.clone(),
                        reason,
                    }),
                }
            }
        }
    }
    Ok(built)
}

/// Builds one source of an Application; `Ok(Err(why))` when it cannot be built offline.
fn build_source(
    repo: &Repo,
    tools: &Tools,
    app: &Value,
    source: &Value,
) -> BuildResult<Result<Vec<BuiltDoc>, String>> {
    let namespace = str_at(app, "/spec/destination/namespace");
    let chart = str_at(source, "/chart");
    let path = str_at(source, "/path");
    if !chart.is_empty() || path.is_empty() {
        return Ok(Err(format!(
            "its source {} is not a path of this repository: its workloads are not judged",
            if chart.is_empty() {
                str_at(source, "/repoURL").to_string()
            } else {
                format!("chart {chart}")
            }
        )));
    }
    let Ok(dir) = repo.dir(path) else {
        return Ok(Err(format!(
            "its source path `{path}` is not a directory of this repository: its workloads are \
             not judged"
        )));
    };
    let mut docs = if super::kustomize::has_kustomization(&dir) {
        super::kustomize::build(repo, tools, &dir)?
    } else if dir.join("Chart.yaml").is_file() {
        let name = match str_at(source, "/helm/releaseName") {
            "" => str_at(app, "/metadata/name"),
            n => n,
        };
        let files: Vec<PathBuf> = source
            .pointer("/helm/valueFiles")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|f| repo.inside(&format!("{path}/{f}")))
            .collect::<BuildResult<_>>()?;
        let inline = match source.pointer("/helm/values") {
            Some(Value::String(text)) => Some(super::kustomize::parse(text)?),
            _ => source.pointer("/helm/valuesObject").cloned(),
        };
        let release = super::helm::Release {
            chart: &dir,
            name,
            namespace: if namespace.is_empty() {
                "default"
            } else {
                namespace
            },
            values_files: &files,
            values: inline.as_ref().map(|v| (v, None)),
        };
        super::helm::template(repo, tools, &release)?
    } else {
        let recurse = source
            .pointer("/directory/recurse")
            .and_then(Value::as_bool)
            == Some(true);
        let mut docs = Vec::new();
        for file in yaml_files(&dir, recurse)? {
            let display = repo.display(&file).unwrap_or_default();
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {display}: {e}"))?;
            for doc in super::parse::parse_documents(&text, Path::new(&display))
                .map_err(|e| e.to_string())?
            {
                if doc.value.is_object() {
                    docs.push(BuiltDoc {
                        value: doc.value,
                        file: display.clone(),
                        line: doc.line,
                        namespace: None,
                        built_by: None,
                    });
                }
            }
        }
        docs
    };
    if !namespace.is_empty() {
        for d in &mut docs {
            d.namespace = Some(namespace.to_string());
        }
    }
    Ok(Ok(docs))
}

/// `*.yaml`, `*.yml` and `*.json` files at `start` (itself when a file), sorted.
fn yaml_files(start: &Path, recurse: bool) -> BuildResult<Vec<PathBuf>> {
    if start.is_file() {
        return Ok(vec![start.to_path_buf()]);
    }
    let mut out = Vec::new();
    let depth = if recurse { usize::MAX } else { 1 };
    for entry in walkdir::WalkDir::new(start)
        .max_depth(depth)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", start.display()))?;
        if entry.file_type().is_file()
            && matches!(
                entry.path().extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            )
        {
            out.push(entry.path().to_path_buf());
        }
    }
    Ok(out)
}

/// A string at a JSON pointer, `""` when absent.
fn str_at<'v>(value: &'v Value, pointer: &str) -> &'v str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}
