//! `spec.manifests` entries that a tool builds rather than meshplan reads: `{kustomize: DIR}`,
//! `{helm: {...}}`, `{flux: DIR}` and `{argocd: PATH}`. Each entry runs the real tool (kustomize, helm) once,
//! offline, on its own thread, and hands back the objects the controllers would apply, each
//! pointing at the file (and where it can be found, the line) it comes from in the repository.
//!
//! A missing binary, a failed build or an unset substitution variable is an error naming the
//! entry (file and line in meshplan.yaml) with the tool's own message: exit 2, as for any
//! file that cannot be read. What cannot be built offline (a remote chart, another
//! repository) is not an error but an [`Unrendered`] record that rule MP504 reports.

use super::InventoryError;
use crate::diagnostic::ObjectRef;
use serde::Serialize;
use serde_json::Value;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// The tools a build may run and where pulled charts are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tools {
    /// `--kustomize PATH`: a `kustomize` binary, or `kubectl` (run as `kubectl kustomize`);
    /// else `kustomize`, then `kubectl`, from `PATH`.
    pub kustomize: Option<PathBuf>,
    /// `--helm PATH`; else `helm` from `PATH`.
    pub helm: Option<PathBuf>,
    /// `--chart-dir DIR`: pulled charts as `DIR/<chart>-<version>/` or `DIR/<chart>-<version>.tgz`.
    pub chart_dir: Option<PathBuf>,
}

/// What an entry builds; paths are relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildKind {
    /// The kustomize build of a directory.
    Kustomize(String),
    /// A local chart rendered with `helm template`.
    Helm {
        /// Chart directory.
        chart: String,
        /// Release name.
        release: String,
        /// Release namespace.
        namespace: String,
        /// Values files, later ones win.
        values: Vec<String>,
    },
    /// A cluster's Flux entry point.
    Flux(String),
    /// Argo CD Applications at a file or directory.
    Argocd(String),
}

/// One built `spec.manifests` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSource {
    /// What to build.
    pub kind: BuildKind,
    /// The repository root (the spec's directory), relative to the base directory.
    pub root: PathBuf,
    /// The spec file, as reports name it.
    pub spec_file: PathBuf,
    /// The entry's line in the spec file.
    pub line: u64,
    /// How the entry reads in messages, e.g. `{kustomize: apps/production}`.
    pub label: String,
    /// The tools to run.
    pub tools: Tools,
}

/// A source meshplan cannot render offline: the object naming it is reported (MP504).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unrendered {
    /// The object that names the source (a HelmRelease, a Flux Kustomization).
    pub object: ObjectRef,
    /// What is missing, phrased for the user.
    pub reason: String,
}

/// The kustomization build an object comes from, and the Components that build includes
/// (directories relative to the base directory), for rule MP505.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuiltBy {
    /// The build, e.g. `kustomize apps/prod` or `Flux Kustomization flux-system/apps`.
    pub build: String,
    /// Every Component directory the build's kustomizations include, sorted.
    pub components: Vec<String>,
}

/// One object a build produced, with where it comes from.
#[derive(Debug, Clone)]
pub(crate) struct BuiltDoc {
    /// The object as the controller applies it (build annotations removed).
    pub value: Value,
    /// Its origin file relative to the base directory, `/`-separated.
    pub file: String,
    /// 1-based line of the object in that file (1 when it cannot be found there).
    pub line: u64,
    /// The namespace namespaced objects without one land in.
    pub namespace: Option<String>,
    /// The kustomization build that produced it; None for chart renders and plain files.
    pub built_by: Option<BuiltBy>,
}

/// Everything one entry built.
#[derive(Debug, Clone, Default)]
pub(crate) struct Built {
    /// The objects, in build order.
    pub docs: Vec<BuiltDoc>,
    /// Sources that could not be rendered offline.
    pub unrendered: Vec<Unrendered>,
}

/// A build failure, turned into an error at the entry by [`BuildSource::error`].
pub(crate) type BuildResult<T> = Result<T, String>;

impl BuildSource {
    /// The built `spec.manifests` entry `entry` (None for a glob entry), found at `line` of
    /// `spec_file`, whose paths are relative to `root`.
    pub fn from_entry(
        entry: &crate::spec::model::ManifestEntry,
        root: PathBuf,
        spec_file: PathBuf,
        line: u64,
        tools: Tools,
    ) -> Option<BuildSource> {
        use crate::spec::model::ManifestEntry as E;
        let (kind, label) = match entry {
            E::Glob(_) | E::WithNamespace(_) => return None,
            E::Kustomize(k) => (
                BuildKind::Kustomize(k.kustomize.clone()),
                format!("{{kustomize: {}}}", k.kustomize),
            ),
            E::Helm(h) => (
                BuildKind::Helm {
                    chart: h.helm.chart.clone(),
                    release: h.helm.release.clone(),
                    namespace: h.helm.namespace.clone(),
                    values: h.helm.values.clone(),
                },
                format!("{{helm: {{chart: {}}}}}", h.helm.chart),
            ),
            E::Flux(f) => (
                BuildKind::Flux(f.flux.clone()),
                format!("{{flux: {}}}", f.flux),
            ),
            E::Argocd(a) => (
                BuildKind::Argocd(a.argocd.clone()),
                format!("{{argocd: {}}}", a.argocd),
            ),
        };
        Some(BuildSource {
            kind,
            root,
            spec_file,
            line,
            label,
            tools,
        })
    }

    /// An input error at the entry's line in the spec.
    pub(crate) fn error(&self, message: &str) -> InventoryError {
        InventoryError::new(
            &self.spec_file,
            self.line,
            format!("spec.manifests entry {}: {message}", self.label),
        )
    }
}

/// Builds every entry, in parallel; results in the order of `sources`.
pub(crate) fn build_all(
    base_dir: &Path,
    sources: &[&BuildSource],
) -> Result<Vec<Built>, InventoryError> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = sources
            .iter()
            .map(|source| {
                std::thread::Builder::new()
                    .name("meshplan-build".to_string())
                    .stack_size(super::parse::PARSER_STACK_BYTES)
                    .spawn_scoped(scope, move || build_one(base_dir, source))
            })
            .collect();
        let mut out = Vec::new();
        for (handle, source) in handles.into_iter().zip(sources) {
            let handle =
                handle.map_err(|e| source.error(&format!("cannot start a build thread: {e}")))?;
            let built = handle
                .join()
                .unwrap_or_else(|_| Err("internal error: the build panicked".to_string()))
                .map_err(|m| source.error(&m))?;
            out.push(built);
        }
        Ok(out)
    })
}

/// Builds one entry.
fn build_one(base_dir: &Path, source: &BuildSource) -> BuildResult<Built> {
    let repo = Repo::new(base_dir, &source.root)?;
    match &source.kind {
        BuildKind::Kustomize(dir) => {
            let dir = repo.dir(dir)?;
            let docs = super::kustomize::build(&repo, &source.tools, &dir)?;
            Ok(Built {
                docs,
                unrendered: Vec::new(),
            })
        }
        BuildKind::Helm {
            chart,
            release,
            namespace,
            values,
        } => {
            let chart_dir = repo.dir(chart)?;
            let values: Vec<PathBuf> = values
                .iter()
                .map(|v| repo.file(v))
                .collect::<BuildResult<_>>()?;
            let release = super::helm::Release {
                chart: &chart_dir,
                name: release,
                namespace,
                values_files: &values,
                values: None,
            };
            let docs = super::helm::template(&repo, &source.tools, &release)?;
            Ok(Built {
                docs,
                unrendered: Vec::new(),
            })
        }
        BuildKind::Flux(dir) => super::flux::follow(&repo, &source.tools, dir),
        BuildKind::Argocd(path) => super::argocd::follow(&repo, &source.tools, path),
    }
}

/// The repository a build reads: every path a build names must stay inside it.
pub(crate) struct Repo {
    /// The repository root as given (relative to the base directory, possibly empty).
    pub display_root: PathBuf,
    /// The canonical repository root.
    pub canon: PathBuf,
}

impl Repo {
    fn new(base_dir: &Path, root: &Path) -> BuildResult<Repo> {
        let joined = base_dir.join(root);
        let canon = joined
            .canonicalize()
            .map_err(|e| format!("cannot open {}: {e}", joined.display()))?;
        Ok(Repo {
            display_root: root.to_path_buf(),
            canon,
        })
    }

    /// A directory named relative to the repository root, canonical, refused outside it.
    pub fn dir(&self, rel: &str) -> BuildResult<PathBuf> {
        let path = self.inside(rel)?;
        if !path.is_dir() {
            return Err(format!("`{rel}` is not a directory in the repository"));
        }
        Ok(path)
    }

    /// A file named relative to the repository root, canonical, refused outside it.
    pub fn file(&self, rel: &str) -> BuildResult<PathBuf> {
        let path = self.inside(rel)?;
        if !path.is_file() {
            return Err(format!("`{rel}` is not a file in the repository"));
        }
        Ok(path)
    }

    /// `rel` resolved (symlinks too) below the root; `..` and links out are refused.
    pub fn inside(&self, rel: &str) -> BuildResult<PathBuf> {
        let rel_path = Path::new(rel.trim_start_matches("./"));
        if rel_path.has_root() || rel_path.components().any(|c| c == Component::ParentDir) {
            return Err(format!(
                "`{rel}` leaves the repository; only paths below it are built"
            ));
        }
        let joined = self.canon.join(rel_path);
        let canon = joined
            .canonicalize()
            .map_err(|e| format!("cannot read `{rel}`: {e}"))?;
        if !canon.starts_with(&self.canon) {
            return Err(format!(
                "`{rel}` points outside the repository (resolves to {}); refusing to build it",
                canon.display()
            ));
        }
        Ok(canon)
    }

    /// How reports name a canonical path inside the repository: relative to the base
    /// directory, `/`-separated. None when it is outside the repository.
    pub fn display(&self, canon: &Path) -> Option<String> {
        let rel = canon.strip_prefix(&self.canon).ok()?;
        Some(slash(&self.display_root.join(rel)))
    }
}

/// `path` with `.` and `..` resolved lexically (the file may not exist).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// A path with `/` separators.
pub(crate) fn slash(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// Runs a tool offline: proxies point nowhere and Git may only read local files, so a build
/// that reaches for the network fails with the tool's own message instead of fetching.
pub(crate) fn run_tool(mut cmd: Command, what: &str) -> BuildResult<String> {
    cmd.env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .env("https_proxy", "http://127.0.0.1:9")
        .env("NO_PROXY", "")
        .env("GIT_ALLOW_PROTOCOL", "file")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null());
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{what}: `{program}` not found; install it or name it with the flag")
        } else {
            format!("{what}: cannot run `{program}`: {e}")
        }
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{what} failed: {}", stderr.trim()));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("{what}: output is not UTF-8"))
}

/// The first of `names` found as an executable file in `PATH`.
pub(crate) fn find_in_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Splits a kustomize or helm output stream into its documents' texts.
pub(crate) fn split_documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") {
            docs.push(String::new());
        } else if let Some(last) = docs.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    docs.retain(|d| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    docs
}
