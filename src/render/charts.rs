//! The templates the renderer runs: embedded in the binary from `charts/`, each replaceable by
//! a file of the same relative path in a user's `--charts DIR`.
//!
//! Templates run in a locked-down minijinja environment: undefined variables are errors
//! (strict), there is no loader (templates see only each other, never the file system or the
//! process environment), and no non-deterministic function exists (minijinja has no clock or
//! random source without `minijinja-contrib`, which we do not use). Every `{{ expression }}`
//! is written as a JSON literal (JSON auto-escaping for every template), so any value is a
//! valid YAML flow scalar or collection and cannot inject YAML structure: build strings
//! inside the braces (`{{ "istiod-" ~ rev }}`), never around them.

use super::RenderError;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../charts/", $name)))),*]
    };
}

/// Every template shipped in the binary: (path under `charts/`, text).
pub const EMBEDDED: &[(&str, &str)] = embedded!(
    "argocd-helm/application.yaml.j2",
    "common/namespace-patch.yaml.j2",
    "common/namespace.yaml.j2",
    "common/restart-patch.yaml.j2",
    "common/service.yaml.j2",
    "flux-helm/release.yaml.j2",
    "flux-helm/source.yaml.j2",
    "istio-operator/istiooperator.yaml.j2",
    "sail/istio.yaml.j2",
    "sail/revisiontag.yaml.j2",
);

/// Where a template came from: decides whether its failure is the user's (exit 2) or ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Shipped in the binary.
    Embedded,
    /// Read from this file of a `--charts` directory.
    File(PathBuf),
}

/// The set of templates one render uses.
#[derive(Debug, Clone)]
pub struct Charts {
    templates: BTreeMap<String, (String, Origin)>,
}

impl Default for Charts {
    fn default() -> Self {
        Charts::embedded()
    }
}

impl Charts {
    /// The templates shipped in the binary.
    pub fn embedded() -> Charts {
        let templates = EMBEDDED
            .iter()
            .map(|(name, text)| (name.to_string(), (text.to_string(), Origin::Embedded)))
            .collect();
        Charts { templates }
    }

    /// The embedded templates with every `*.j2` file found under `dir` replacing the one of the
    /// same relative path. A `*.j2` file whose path is not a known template is an error (a
    /// typo would otherwise be silently ignored); other files (READMEs) are ignored.
    pub fn from_dir(dir: &Path) -> Result<Charts, RenderError> {
        let mut charts = Charts::embedded();
        let charts_error = |message: String| RenderError::Charts {
            path: dir.to_path_buf(),
            message,
        };
        if !dir.is_dir() {
            return Err(charts_error("not a directory".to_string()));
        }
        for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
            let entry = entry.map_err(|e| charts_error(e.to_string()))?;
            let path = entry.path();
            if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "j2") {
                continue;
            }
            let relative = path
                .strip_prefix(dir)
                .map_err(|e| charts_error(e.to_string()))?
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let Some(slot) = charts.templates.get_mut(&relative) else {
                let known: Vec<&str> = EMBEDDED.iter().map(|(n, _)| *n).collect();
                return Err(charts_error(format!(
                    "unknown template `{relative}`; known templates: {}",
                    known.join(", ")
                )));
            };
            let text = std::fs::read_to_string(path).map_err(|source| RenderError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            *slot = (text, Origin::File(path.to_path_buf()));
        }
        Ok(charts)
    }

    /// The text of template `name` (e.g. to start a `--charts` override from).
    pub fn source(&self, name: &str) -> Option<&str> {
        self.templates.get(name).map(|(text, _)| text.as_str())
    }

    /// Where the template `name` comes from.
    pub fn origin(&self, name: &str) -> Origin {
        self.templates
            .get(name)
            .map_or(Origin::Embedded, |(_, o)| o.clone())
    }

    /// The locked-down environment holding every template.
    pub(crate) fn environment(&self) -> Result<Environment<'static>, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::Json);
        for (name, (text, origin)) in &self.templates {
            env.add_template_owned(name.clone(), text.clone())
                .map_err(|e| RenderError::template(name, origin.clone(), &e))?;
        }
        Ok(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded list must name exactly the files in `charts/`, or a new template would
    /// silently not ship (or a deleted one fail to compile only on some machines).
    #[test]
    fn embedded_list_matches_the_charts_directory() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts");
        let mut on_disk: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                e.path()
                    .strip_prefix(&root)
                    .ok()
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
            })
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn every_embedded_template_compiles() {
        assert!(Charts::embedded().environment().is_ok());
    }

    #[test]
    fn a_charts_dir_overrides_one_template_and_rejects_unknown_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("common")).expect("mkdir");
        std::fs::write(dir.path().join("common/service.yaml.j2"), "x: 1\n").expect("write");
        std::fs::write(dir.path().join("README.md"), "ignored").expect("write");
        let charts = Charts::from_dir(dir.path()).expect("valid dir");
        assert!(matches!(
            charts.origin("common/service.yaml.j2"),
            Origin::File(_)
        ));
        assert_eq!(charts.origin("common/namespace.yaml.j2"), Origin::Embedded);

        std::fs::write(dir.path().join("common/servce.yaml.j2"), "x: 1\n").expect("write");
        let err = Charts::from_dir(dir.path()).expect_err("typo rejected");
        assert!(
            err.to_string()
                .contains("unknown template `common/servce.yaml.j2`"),
            "{err}"
        );
        assert!(!err.is_internal());
    }

    #[test]
    fn a_syntax_error_in_a_user_template_is_the_users_fault() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("common")).expect("mkdir");
        std::fs::write(dir.path().join("common/service.yaml.j2"), "x: {{ a\n").expect("write");
        let charts = Charts::from_dir(dir.path()).expect("valid dir");
        let err = charts.environment().expect_err("syntax error");
        assert!(!err.is_internal());
        assert!(err.to_string().contains("common/service.yaml.j2"), "{err}");
    }
}
