//! Renders a chart with the real `helm template`, offline, and traces every object to the
//! chart template it comes from (helm's `# Source:` comments).
//!
//! Helm runs with its config, cache and data homes in a fresh temporary directory, so no
//! repository the user added and no cached index takes part: a chart renders from its own
//! files only, as a `spec.manifests` entry or a Flux HelmRelease of the repository's chart.

use super::build::{BuildResult, BuiltDoc, Repo, Tools, find_in_path, run_tool, split_documents};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One release to render.
pub(crate) struct Release<'a> {
    /// The chart: a canonical directory or `.tgz`.
    pub chart: &'a Path,
    /// Release name.
    pub name: &'a str,
    /// Release namespace.
    pub namespace: &'a str,
    /// Values files, later ones win.
    pub values_files: &'a [PathBuf],
    /// Inline values applied last (a HelmRelease's `spec.values`), with where objects are
    /// reported when the chart is not in the repository (the HelmRelease itself).
    pub values: Option<(&'a Value, Option<(String, u64)>)>,
}

/// The objects `helm template` renders for `release`.
pub(crate) fn template(
    repo: &Repo,
    tools: &Tools,
    release: &Release<'_>,
) -> BuildResult<Vec<BuiltDoc>> {
    let program = match &tools.helm {
        Some(p) => p.clone(),
        None => find_in_path(&["helm"])
            .ok_or_else(|| "`helm` is not in PATH; install it or pass --helm PATH".to_string())?,
    };
    let temp = tempfile::Builder::new()
        .prefix("meshplan-helm-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let mut cmd = Command::new(program);
    for (var, dir) in [
        ("HELM_CACHE_HOME", "cache"),
        ("HELM_CONFIG_HOME", "config"),
        ("HELM_DATA_HOME", "data"),
    ] {
        cmd.env(var, temp.path().join(dir));
    }
    cmd.arg("template")
        .arg(release.name)
        .arg(release.chart)
        .arg("--namespace")
        .arg(release.namespace)
        .arg("--include-crds");
    for file in release.values_files {
        cmd.arg("--values").arg(file);
    }
    let mut fixed_origin = None;
    if let Some((values, origin)) = &release.values {
        let file = temp.path().join("values.json");
        std::fs::write(&file, values.to_string())
            .map_err(|e| format!("cannot write the release's values: {e}"))?;
        cmd.arg("--values").arg(&file);
        fixed_origin = origin.clone();
    }
    let text = run_tool(cmd, "helm template")?;
    let chart_display = repo.display(release.chart);
    let mut out = Vec::new();
    for doc in split_documents(&text) {
        let value = super::kustomize::parse(&doc)?;
        if value.is_null() {
            continue;
        }
        let (file, line) = match (&fixed_origin, &chart_display) {
            (Some((file, line)), _) => (file.clone(), *line),
            (None, Some(chart)) => (source_file(&doc, chart), 1),
            (None, None) => {
                return Err(format!(
                    "chart {} is outside the repository",
                    release.chart.display()
                ));
            }
        };
        out.push(BuiltDoc {
            value,
            file,
            line,
            namespace: Some(release.namespace.to_string()),
            built_by: None,
        });
    }
    Ok(out)
}

/// The template file a document came from: helm's `# Source: <chart>/templates/x.yaml`,
/// with the chart's own name replaced by its directory in the repository.
fn source_file(doc: &str, chart_display: &str) -> String {
    doc.lines()
        .find_map(|l| l.strip_prefix("# Source: "))
        .and_then(|s| s.trim().split_once('/'))
        .map(|(_, rest)| format!("{chart_display}/{rest}"))
        .unwrap_or_else(|| chart_display.to_string())
}
