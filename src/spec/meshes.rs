//! Several meshes in one cluster: a `meshplan.yaml` of several `Mesh` documents (separated
//! by `---`), one per tenant mesh, each with its own control plane, revisions, waves, output
//! and lock. A file of one document is loaded exactly as [`super::load`] loads it, so a
//! single-mesh spec needs no new field and behaves as it always did.
//!
//! What only the documents together can tell is checked here, as input errors at the line of
//! the offending value: every document names the same `spec.cluster`, no mesh name or output
//! directory is used twice (a lock belongs to one mesh). Overlaps that are the user's mesh
//! design rather than a malformed file (a shared namespace, a shared control-plane
//! namespace) are policy findings (MP209, MP211), reported with everything else.

use super::located::{Kind, Node, Pos, Seg};
use super::model::Spec;
use super::{LoadedSpec, SpecError, base_dir_of, read_text, schema, validate, yaml_error};
use std::path::{Path, PathBuf};

/// Most `Mesh` documents one spec file may hold: far above any real cluster's tenant count,
/// low enough that a runaway file is refused before anything is planned.
pub const MAX_MESHES: usize = 64;

/// The meshes of one spec file.
#[derive(Debug, Clone)]
pub struct Meshes {
    /// `spec.cluster` when the file holds several meshes; `None` for a single document.
    pub cluster: Option<String>,
    /// The meshes in document order.
    pub meshes: Vec<LoadedSpec>,
}

impl Meshes {
    /// Whether the file holds several meshes (tenants of one cluster).
    pub fn is_multi(&self) -> bool {
        self.cluster.is_some()
    }

    /// The mesh named `name`, or a message listing the names there are.
    pub fn select(&self, name: &str) -> Result<&LoadedSpec, String> {
        self.meshes
            .iter()
            .find(|m| m.spec.metadata.name == name)
            .ok_or_else(|| {
                format!(
                    "--mesh {name}: the spec defines no such mesh (it defines {})",
                    self.names().join(", ")
                )
            })
    }

    /// The mesh names in document order.
    pub fn names(&self) -> Vec<&str> {
        self.meshes
            .iter()
            .map(|m| m.spec.metadata.name.as_str())
            .collect()
    }
}

/// Reads a spec file of one or several `Mesh` documents.
pub fn load_meshes(path: &Path) -> Result<Meshes, SpecError> {
    let text = read_text(path)?;
    let parsed = parse_meshes(path, &text)?;
    let multi = parsed.len() > 1;
    let cluster = parsed
        .first()
        .and_then(|(s, _)| s.spec.cluster.clone())
        .filter(|_| multi);
    let meshes = parsed
        .into_iter()
        .map(|(spec, locations)| LoadedSpec {
            path: path.to_path_buf(),
            base_dir: base_dir_of(path),
            spec,
            locations,
        })
        .collect();
    Ok(Meshes { cluster, meshes })
}

/// Parses spec text of one or several documents, each with its location tree (lines count
/// from the start of the file).
pub fn parse_meshes(path: &Path, text: &str) -> Result<Vec<(Spec, Node)>, SpecError> {
    let options = || {
        let mut o = super::yaml_options();
        o.budget = o.budget.map(|mut b| {
            b.max_documents = MAX_MESHES;
            b
        });
        o
    };
    let trees: Vec<Node> = serde_saphyr::from_str_multiple_with_options(text, options())
        .map_err(|e| multi_error(path, text, &e))?;
    if trees.len() <= 1 {
        return super::parse_located(path, text).map(|one| vec![one]);
    }
    for tree in &trees {
        if !matches!(tree.kind, Kind::Map(_)) {
            return Err(SpecError::at(
                path,
                tree.pos,
                "expected a mapping with `apiVersion`, `kind`, `metadata` and `spec` (one `Mesh` per document)",
            ));
        }
    }
    let specs: Vec<Spec> = serde_saphyr::from_str_multiple_with_options(text, options())
        .map_err(|e| multi_error(path, text, &e))?;
    let mut docs: Vec<(Spec, Node)> = specs.into_iter().zip(trees).collect();
    for (spec, tree) in &docs {
        validate::check(spec, tree).map_err(|(pos, msg)| SpecError::at(path, pos, msg))?;
        schema::check(spec, tree).map_err(|(pos, msg)| SpecError::at(path, pos, msg))?;
    }
    check_together(&docs).map_err(|(pos, msg)| SpecError::at(path, pos, msg))?;
    prefix_colliding_revisions(&mut docs);
    Ok(docs)
}

/// A document-count breach names the limit of this reader, not the single-document one.
fn multi_error(path: &Path, text: &str, err: &serde_saphyr::Error) -> SpecError {
    let mut e = yaml_error(path, text, err);
    if e.message
        .starts_with("the spec must be a single YAML document")
    {
        e.message = format!(
            "the spec holds more than {MAX_MESHES} `Mesh` documents; split the cluster's meshes"
        );
    }
    e
}

/// The checks only the documents together can make: one cluster, distinct mesh names,
/// distinct outputs.
fn check_together(docs: &[(Spec, Node)]) -> Result<(), validate::Failure> {
    use Seg::Key as K;
    let mut cluster: Option<(&str, &str)> = None;
    for (i, (spec, tree)) in docs.iter().enumerate() {
        let name = spec.metadata.name.as_str();
        let Some(c) = spec.spec.cluster.as_deref() else {
            return Err((
                tree.key_pos(&[K("spec")]),
                format!(
                    "`spec.cluster` is required when meshplan.yaml holds several meshes \
                     (mesh `{name}`, document {}): it names the cluster they share",
                    i + 1
                ),
            ));
        };
        match cluster {
            None => cluster = Some((c, name)),
            Some((first, first_mesh)) if first != c => {
                return Err((
                    tree.pos(&[K("spec"), K("cluster")]),
                    format!(
                        "`spec.cluster` must be the same in every mesh of the file: `{c}` here, \
                         `{first}` in mesh `{first_mesh}`"
                    ),
                ));
            }
            Some(_) => {}
        }
        for (other, other_tree) in docs.iter().take(i).map(|(s, t)| (s, t)) {
            if other.metadata.name == name {
                return Err((
                    tree.pos(&[K("metadata"), K("name")]),
                    format!(
                        "mesh `{name}` is defined twice (first at line {}); each document \
                         names its own mesh",
                        line_of(other_tree, &[K("metadata"), K("name")])
                    ),
                ));
            }
            if normal(&other.spec.output) == normal(&spec.spec.output) {
                return Err((
                    output_pos(tree),
                    format!(
                        "`spec.output` `{}` is also the output of mesh `{}`: each mesh needs \
                         its own output directory (it holds the mesh's lock)",
                        spec.spec.output, other.metadata.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Revision names are cluster-wide (istiod releases, webhooks, `istio.io/rev` values): a
/// mesh whose derived revision name an earlier mesh of the file already derives gets its
/// names prefixed with its own name (`mesh-b-1-24-6`). The earlier mesh keeps its names,
/// so adding a tenant at the end of the file never renames a running one; an explicit
/// `spec.istio.revision` is never changed (MP210 judges a collision of those).
fn prefix_colliding_revisions(docs: &mut [(Spec, Node)]) {
    let mut taken = std::collections::BTreeSet::new();
    for (spec, _) in docs.iter_mut() {
        if spec.spec.istio.revision.is_none() && taken.contains(&spec.revision()) {
            spec.spec.istio.revision_prefix = Some(spec.metadata.name.clone());
        }
        taken.insert(spec.revision());
    }
}

/// Where `spec.output` is, or the `spec` key when the default is in force.
fn output_pos(tree: &Node) -> Pos {
    use Seg::Key as K;
    match tree.get(&[K("spec"), K("output")]) {
        Some(n) => n.pos,
        None => tree.key_pos(&[K("spec")]),
    }
}

fn line_of(tree: &Node, path: &[Seg<'_>]) -> u64 {
    tree.pos(path).line
}

/// A relative output path without `.` segments or trailing slashes, for comparison.
fn normal(p: &str) -> PathBuf {
    Path::new(p)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}
