//! `{flux: DIR}`: what Flux applies from this repository, found the way its controllers
//! find it. DIR (a cluster's entry point, e.g. `clusters/production`) is built as the
//! bootstrap Kustomization builds it; every Flux `Kustomization` that build (or a later one)
//! yields is followed when its source is this repository: a `GitRepository` named
//! `flux-system` in `flux-system` (what `flux bootstrap` creates), or an `ExternalArtifact`
//! an `ArtifactGenerator` copies from it. Each is built as kustomize-controller builds it:
//! a path without a kustomization gets one generated from its YAML files and from the
//! subdirectories that hold one; `targetNamespace`, `namePrefix`, `nameSuffix`, `patches`,
//! `images` and `components` are applied; `postBuild` substitution follows (see `subst`).
//!
//! HelmReleases whose chart is in the repository are rendered with `helm template` and
//! their values; a chart from a HelmRepository or OCI registry is rendered from
//! `--chart-dir` when it is there, else it is recorded as [`Unrendered`] (MP504), as is a
//! Kustomization whose source is another repository.

use super::build::{BuildResult, Built, BuiltDoc, Repo, Tools, Unrendered};
use super::flux_fields::{
    normalize_rel, object_ref, str_at, substitution_disabled, wrapper_fields,
};
use super::flux_files::{Artifact, deep_merge, generated_resources, materialize, pulled_chart};
use super::kustomize::{self, LineFinder, Wrapper};
use crate::diagnostic::ObjectRef;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Flux's Kustomization API group.
const KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";

/// Follows the Flux entry point `dir`.
pub(crate) fn follow(repo: &Repo, tools: &Tools, dir: &str) -> BuildResult<Built> {
    let mut walk = Walk {
        repo,
        tools,
        built: Built::default(),
        done: BTreeSet::new(),
        artifacts: BTreeMap::new(),
    };
    let entry = repo.dir(dir)?;
    let label = format!("Flux entry {dir}");
    let docs = walk.build_path(&Source::Repo, &entry, &Map::new(), None, label)?;
    walk.built.docs.extend(docs);
    let entry_key = normalize_rel(dir);
    // Follow Kustomizations until no new one can be built: one found in a build may need a
    // ConfigMap or ArtifactGenerator a later build yields.
    loop {
        let mut progress = false;
        let mut waiting = Vec::new();
        for (id, ks) in walk.kustomizations() {
            if walk.done.contains(&id.key()) {
                continue;
            }
            match walk.follow_one(&id, &ks, &entry_key)? {
                Step::Done => {
                    walk.done.insert(id.key());
                    progress = true;
                }
                Step::Wait(why) => waiting.push((id, why)),
            }
        }
        if !progress {
            for (id, why) in waiting {
                if why.starts_with("substituteFrom") {
                    return Err(format!("Flux Kustomization {}: {why}", id.key()));
                }
                walk.built.unrendered.push(Unrendered {
                    object: id,
                    reason: why,
                });
            }
            break;
        }
    }
    walk.helm_releases()?;
    Ok(walk.built)
}

/// Where a Kustomization's path is resolved.
enum Source {
    /// This repository.
    Repo,
    /// An artifact materialized from this repository: its directory and each copied file's
    /// origin in the repository.
    Artifact(std::rc::Rc<Artifact>),
}

/// The outcome of following one Kustomization.
enum Step {
    /// Built, or recorded as unrendered.
    Done,
    /// Something it needs may come from a later build.
    Wait(String),
}

/// The state of one `{flux: DIR}` walk.
struct Walk<'a> {
    repo: &'a Repo,
    tools: &'a Tools,
    built: Built,
    done: BTreeSet<String>,
    artifacts: BTreeMap<String, std::rc::Rc<Artifact>>,
}

impl Walk<'_> {
    /// The built ConfigMap or Secret `kind`/`name` in `namespace` that a Kustomization's
    /// `substituteFrom` or a HelmRelease's `valuesFrom` names.
    fn source_doc(&self, kind: &str, name: &str, namespace: &str) -> Option<&Value> {
        self.built
            .docs
            .iter()
            .find(|d| {
                str_at(&d.value, "/kind") == kind
                    && str_at(&d.value, "/metadata/name") == name
                    && object_ref(d).namespace == namespace
            })
            .map(|d| &d.value)
    }

    /// The Flux Kustomizations built so far, with their identities.
    fn kustomizations(&self) -> Vec<(ObjectRef, Value)> {
        self.objects(KUSTOMIZE_GROUP, "Kustomization")
    }

    /// Objects of one group and kind built so far.
    fn objects(&self, group: &str, kind: &str) -> Vec<(ObjectRef, Value)> {
        self.built
            .docs
            .iter()
            .filter(|d| d.value.get("kind").and_then(Value::as_str) == Some(kind))
            .filter(|d| super::group_of(str_at(&d.value, "/apiVersion")) == group)
            .map(|d| (object_ref(d), d.value.clone()))
            .collect()
    }

    /// Builds one Kustomization, or says why not (yet).
    fn follow_one(&mut self, id: &ObjectRef, ks: &Value, entry: &str) -> BuildResult<Step> {
        let src_kind = str_at(ks, "/spec/sourceRef/kind");
        let src_name = str_at(ks, "/spec/sourceRef/name");
        let src_ns = match str_at(ks, "/spec/sourceRef/namespace") {
            "" => id.namespace.as_str(),
            ns => ns,
        };
        let path = normalize_rel(str_at(ks, "/spec/path"));
        let source = match src_kind {
            "GitRepository" if src_name == "flux-system" && src_ns == "flux-system" => {
                if path == entry {
                    // The bootstrap Kustomization: the entry point itself, already built.
                    return Ok(Step::Done);
                }
                Source::Repo
            }
            "ExternalArtifact" => match self.artifact(src_ns, src_name)? {
                Some(a) => Source::Artifact(a),
                None => {
                    return Ok(Step::Wait(format!(
                        "its source ExternalArtifact {src_ns}/{src_name} is not generated from \
                         this repository by any ArtifactGenerator meshplan sees: its \
                         workloads are not judged"
                    )));
                }
            },
            other => {
                self.built.unrendered.push(Unrendered {
                    object: id.clone(),
                    reason: format!(
                        "its source {other} {src_ns}/{src_name} is not this repository: its \
                         workloads are not judged"
                    ),
                });
                return Ok(Step::Done);
            }
        };
        let vars = match self.variables(id, ks)? {
            Ok(vars) => vars,
            Err(why) => return Ok(Step::Wait(why)),
        };
        let root = match &source {
            Source::Repo => self.repo.canon.clone(),
            Source::Artifact(a) => a.dir.clone(),
        };
        let dir = super::build::normalize(&root.join(&path));
        if !dir.starts_with(&root) || !dir.is_dir() {
            return Err(format!(
                "Flux Kustomization {}: spec.path `{}` is not a directory of its source",
                id.key(),
                str_at(ks, "/spec/path")
            ));
        }
        let fields = wrapper_fields(ks, &dir);
        let label = format!("Flux Kustomization {}/{}", id.namespace, id.name);
        let docs = self
            .build_path(&source, &dir, &fields, vars.as_ref(), label)
            .map_err(|e| format!("Flux Kustomization {}: {e}", id.key()))?;
        self.built.docs.extend(docs);
        Ok(Step::Done)
    }

    /// The postBuild variables: None without postBuild; `Err` when a substituteFrom
    /// ConfigMap is not (yet) found.
    #[allow(clippy::type_complexity)]
    fn variables(
        &self,
        id: &ObjectRef,
        ks: &Value,
    ) -> BuildResult<Result<Option<BTreeMap<String, String>>, String>> {
        let Some(post) = ks.pointer("/spec/postBuild").filter(|p| p.is_object()) else {
            return Ok(Ok(None));
        };
        let mut vars = BTreeMap::new();
        // substituteFrom in order, then substitute: the inline map wins, as in Flux.
        for from in post
            .get("substituteFrom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = str_at(from, "/kind");
            let name = str_at(from, "/name");
            let optional = from.get("optional").and_then(Value::as_bool) == Some(true);
            let found = self.source_doc(kind, name, &id.namespace).cloned();
            match found {
                Some(obj) => {
                    for (k, v) in obj
                        .get("data")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(v) = v.as_str() {
                            vars.insert(k.clone(), v.to_string());
                        }
                    }
                }
                None if optional => {}
                None => {
                    return Ok(Err(format!(
                        "substituteFrom {kind} {}/{name} is not in the repository",
                        id.namespace
                    )));
                }
            }
        }
        for (k, v) in post
            .get("substitute")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            vars.insert(k.clone(), v);
        }
        Ok(Ok(Some(vars)))
    }

    /// The artifact `ns/name` when an ArtifactGenerator copies it from this repository.
    fn artifact(&mut self, ns: &str, name: &str) -> BuildResult<Option<std::rc::Rc<Artifact>>> {
        let key = format!("{ns}/{name}");
        if let Some(a) = self.artifacts.get(&key) {
            return Ok(Some(a.clone()));
        }
        for (gen_id, generator) in self.objects("source.extensions.fluxcd.io", "ArtifactGenerator")
        {
            if gen_id.namespace != ns {
                continue;
            }
            let own: BTreeSet<&str> = generator
                .pointer("/spec/sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|s| {
                    str_at(s, "/kind") == "GitRepository"
                        && str_at(s, "/name") == "flux-system"
                        && matches!(str_at(s, "/namespace"), "" | "flux-system")
                        && ns == "flux-system"
                })
                .map(|s| str_at(s, "/alias"))
                .collect();
            let Some(spec) = generator
                .pointer("/spec/artifacts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|a| str_at(a, "/name") == name)
            else {
                continue;
            };
            let copies = spec.get("copy").and_then(Value::as_array);
            let mut rules = Vec::new();
            for c in copies.into_iter().flatten() {
                let from = str_at(c, "/from");
                let Some((_, pattern)) = from
                    .strip_prefix('@')
                    .and_then(|f| f.split_once('/'))
                    .filter(|(a, _)| own.contains(a))
                else {
                    return Ok(None);
                };
                let to = str_at(c, "/to").trim_start_matches("@artifact").to_string();
                rules.push((pattern.to_string(), to));
            }
            let artifact = std::rc::Rc::new(materialize(self.repo, &rules)?);
            self.artifacts.insert(key, artifact.clone());
            return Ok(Some(artifact));
        }
        Ok(None)
    }

    /// Builds `dir` of `source` with the wrapper `fields`, substituting `vars`.
    fn build_path(
        &self,
        source: &Source,
        dir: &Path,
        fields: &Map<String, Value>,
        vars: Option<&BTreeMap<String, String>>,
        label: String,
    ) -> BuildResult<Vec<BuiltDoc>> {
        let resources = if kustomize::has_kustomization(dir) {
            vec![dir.to_path_buf()]
        } else {
            generated_resources(dir)?
        };
        let wrapper = Wrapper {
            resources,
            fields: fields.clone(),
            unrestricted: true,
        };
        let out = wrapper.run(self.tools)?;
        let mut lines = LineFinder::default();
        let map = |p: &Path| match source {
            Source::Artifact(a) => match a.origins.get(p) {
                Some(orig) => kustomize::origin_in_repo(self.repo, orig),
                None => Err(format!(
                    "an object comes from {}, not from the repository",
                    p.display()
                )),
            },
            Source::Repo => kustomize::origin_in_repo(self.repo, p),
        };
        let mut docs = Vec::new();
        for text in &out.texts {
            let mut value = kustomize::parse(text)?;
            if let Some(vars) = vars
                && !substitution_disabled(&value)
            {
                let replaced = super::subst::substitute(text, vars).map_err(|e| {
                    format!("{} ({}): {e}", kustomize::describe(&value), "postBuild")
                })?;
                value = kustomize::parse(&replaced)?;
            }
            docs.push(kustomize::finish(value, &out.dir, &mut lines, &map)?);
        }
        // Components are judged in the repository: an artifact's are where they were copied from.
        let in_repo = |p: &Path| match source {
            Source::Artifact(a) => a.origins_dir(p),
            Source::Repo => Some(p.to_path_buf()),
        };
        let extra: Vec<PathBuf> = fields
            .get("components")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|c| in_repo(Path::new(c)))
            .collect();
        let components = if kustomize::has_kustomization(dir) {
            match in_repo(dir) {
                Some(repo_dir) => kustomize::components_of(self.repo, &repo_dir, &extra),
                None => kustomize::components_of(self.repo, dir, &extra),
            }
        } else {
            kustomize::components_of(self.repo, dir, &extra)
        };
        kustomize::mark_built(&mut docs, label, components);
        Ok(docs)
    }

    /// Renders every HelmRelease built so far whose chart meshplan can reach offline.
    fn helm_releases(&mut self) -> BuildResult<()> {
        for (id, hr) in self.objects("helm.toolkit.fluxcd.io", "HelmRelease") {
            let Some((file, line)) = self
                .built
                .docs
                .iter()
                .find(|d| object_ref(d) == id)
                .map(|d| (d.file.clone(), d.line))
            else {
                continue;
            };
            let chart = match self.chart(&hr, &id)? {
                Ok(chart) => chart,
                Err(why) => {
                    self.built.unrendered.push(Unrendered {
                        object: id,
                        reason: why,
                    });
                    continue;
                }
            };
            let namespace = match str_at(&hr, "/spec/targetNamespace") {
                "" => id.namespace.clone(),
                ns => ns.to_string(),
            };
            let name = match (
                str_at(&hr, "/spec/releaseName"),
                str_at(&hr, "/spec/targetNamespace"),
            ) {
                ("", "") => id.name.clone(),
                ("", target) => format!("{target}-{}", id.name),
                (given, _) => given.to_string(),
            };
            let values = self.values(&hr, &id)?;
            let in_repo = self.repo.display(&chart).is_some();
            let release = super::helm::Release {
                chart: &chart,
                name: &name,
                namespace: &namespace,
                values_files: &[],
                values: Some((&values, (!in_repo).then(|| (file.clone(), line)))),
            };
            let docs = super::helm::template(self.repo, self.tools, &release)
                .map_err(|e| format!("HelmRelease {}: {e}", id.key()))?;
            self.built.docs.extend(docs);
        }
        Ok(())
    }

    /// The chart of a HelmRelease: in the repository, or pulled into `--chart-dir`;
    /// `Ok(Err(why))` when it cannot be had offline.
    fn chart(&self, hr: &Value, id: &ObjectRef) -> BuildResult<Result<PathBuf, String>> {
        let (kind, name, chart, version) = if hr.pointer("/spec/chartRef").is_some() {
            let kind = str_at(hr, "/spec/chartRef/kind");
            let name = str_at(hr, "/spec/chartRef/name");
            let repo = self
                .objects("source.toolkit.fluxcd.io", kind)
                .into_iter()
                .find(|(r, _)| r.name == name && r.namespace == id.namespace);
            let url = repo
                .as_ref()
                .map(|(_, v)| str_at(v, "/spec/url"))
                .unwrap_or("");
            let chart = url.rsplit('/').next().unwrap_or(name).to_string();
            let version = repo
                .as_ref()
                .map(|(_, v)| {
                    let tag = str_at(v, "/spec/ref/tag");
                    if tag.is_empty() {
                        str_at(v, "/spec/ref/semver")
                    } else {
                        tag
                    }
                    .to_string()
                })
                .unwrap_or_default();
            (kind.to_string(), name.to_string(), chart, version)
        } else {
            (
                str_at(hr, "/spec/chart/spec/sourceRef/kind").to_string(),
                str_at(hr, "/spec/chart/spec/sourceRef/name").to_string(),
                str_at(hr, "/spec/chart/spec/chart").to_string(),
                str_at(hr, "/spec/chart/spec/version").to_string(),
            )
        };
        let src_ns = match str_at(hr, "/spec/chart/spec/sourceRef/namespace") {
            "" => id.namespace.as_str(),
            ns => ns,
        };
        if kind == "GitRepository" && name == "flux-system" && src_ns == "flux-system" {
            return self.repo.dir(&chart).map(Ok);
        }
        if let Some(found) = pulled_chart(self.tools, &chart, &version) {
            return Ok(Ok(found));
        }
        let version_text = if version.is_empty() {
            String::new()
        } else {
            format!(" {version}")
        };
        Ok(Err(format!(
            "its chart {chart}{version_text} comes from {kind} {}/{name}, which meshplan cannot \
             fetch offline: its workloads are not judged (pull it into --chart-dir as \
             {chart}-<version>/ or {chart}-<version>.tgz)",
            src_ns
        )))
    }

    /// A HelmRelease's values: its `valuesFrom` ConfigMaps in order, then `spec.values`.
    fn values(&self, hr: &Value, id: &ObjectRef) -> BuildResult<Value> {
        let mut merged = Value::Object(Map::new());
        for from in hr
            .pointer("/spec/valuesFrom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = str_at(from, "/kind");
            let name = str_at(from, "/name");
            let key = match str_at(from, "/valuesKey") {
                "" => "values.yaml",
                k => k,
            };
            let optional = from.get("optional").and_then(Value::as_bool) == Some(true);
            let text = self
                .source_doc(kind, name, &id.namespace)
                .and_then(|d| d.pointer(&format!("/data/{key}")).cloned());
            match text.as_ref().and_then(Value::as_str) {
                Some(text) => {
                    let value = kustomize::parse(text)?;
                    deep_merge(&mut merged, value);
                }
                None if optional => {}
                None => {
                    return Err(format!(
                        "HelmRelease {}: valuesFrom {kind} {}/{name} (key {key}) is not in the \
                         repository",
                        id.key(),
                        id.namespace
                    ));
                }
            }
        }
        if let Some(values) = hr.pointer("/spec/values") {
            deep_merge(&mut merged, values.clone());
        }
        Ok(merged)
    }
}
