//! The inventory: every Kubernetes object found in the spec's manifest globs, `-f PATH`
//! arguments and stdin, each with its source file and 1-based line, indexed by
//! kind/namespace/name. Secrets keep their metadata only.
//!
//! Loading is strict because everything downstream (facts, plan, policies) trusts it: a
//! file that cannot be read as Kubernetes objects is an error naming the file and line,
//! never a silent skip. The behaviour is documented for users in `docs/inventory.md`.

mod argocd;
mod build;
mod flux;
mod flux_fields;
mod flux_files;
mod helm;
mod kinds;
mod kustomize;
mod names;
mod objects;
mod parallel;
mod parse;
mod sources;
mod split;
mod stack;
mod subst;

use crate::diagnostic::ObjectRef;
use serde_json::Value;
use sources::{FileInput, Resolver};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use build::{BuildKind, BuildSource, BuiltBy, Tools, Unrendered};
pub use kinds::{CLUSTER_SCOPED, group_of, is_cluster_scoped};
pub(crate) use names::invalid as invalid_name;
use objects::*;
pub(crate) use parse::{PARSER_STACK_BYTES, parse_documents};
pub use stack::on_parser_stack;

/// One Kubernetes object from a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// apiVersion/kind/namespace/name; namespace already defaulted for namespaced kinds.
    pub id: ObjectRef,
    /// Source file relative to the base directory (`-C DIR`), `-` for stdin.
    pub file: String,
    /// 1-based line where the object starts: its document's first key, or its List item.
    pub line: u32,
    /// The whole object as JSON; for Secrets `data` and `stringData` are removed.
    pub body: serde_json::Value,
}

impl Object {
    /// The API group of the object (`""` for the core group).
    pub fn group(&self) -> &str {
        kinds::group_of(&self.id.api_version)
    }
}

/// Every object loaded, in a stable order, with an index by `Kind/namespace/name`.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// Objects sorted by (file, line).
    pub objects: Vec<Object>,
    /// `ObjectRef::key()` → position in `objects`. Two objects of different API groups may
    /// share a key (Istio's and Gateway API's `Gateway`): the index holds the first one,
    /// [`Inventory::get_in_group`] tells them apart.
    pub index: BTreeMap<String, usize>,
    /// Non-fatal problems (e.g. a glob matching nothing), already phrased for the user.
    pub warnings: Vec<String>,
    /// Documents skipped on purpose (Kustomize configuration, files that are not
    /// manifests), as `file:line: why`; informational, not a problem.
    pub skipped: Vec<String>,
    /// `group/Kind/namespace/name` (see [`group_key`]) → position in `objects`.
    pub group_index: BTreeMap<String, usize>,
    /// Sources a built entry could not render offline (remote charts, other
    /// repositories), each on the object naming it: rule MP504.
    pub unrendered: Vec<Unrendered>,
    /// `group_key` → the kustomization build an object comes from (built entries only).
    pub built_by: BTreeMap<String, BuiltBy>,
    /// Whether a `{kustomize}`, `{flux}` or `{argocd}` entry was loaded, so that the wiring
    /// of meshplan's Components can be checked (MP505).
    pub wiring_checked: bool,
}

impl Inventory {
    /// An inventory of already-built objects (tests, other front ends): sorted by
    /// (file, line) and indexed, refusing duplicates like [`load`] does.
    pub fn from_objects(mut objects: Vec<Object>) -> Result<Inventory, InventoryError> {
        let mut inv = Inventory::default();
        sort_objects(&mut objects);
        index(&mut inv, objects)?;
        Ok(inv)
    }

    /// The object `kind` named `name` in `namespace` (`""` for cluster-scoped kinds).
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<&Object> {
        let key = ObjectRef {
            api_version: String::new(),
            kind: kind.to_string(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
        .key();
        self.index.get(&key).and_then(|&i| self.objects.get(i))
    }

    /// Like [`Inventory::get`] but for one API group (`""` for the core group).
    pub fn get_in_group(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&Object> {
        let key = format!("{group}/{kind}/{namespace}/{name}");
        self.group_index
            .get(&key)
            .and_then(|&i| self.objects.get(i))
    }
}

/// The identity used for duplicate detection: group, kind, namespace and name (the
/// version is not part of it: `apps/v1` and `apps/v1beta1` Deployments are one object).
pub fn group_key(id: &ObjectRef) -> String {
    format!(
        "{}/{}/{}/{}",
        kinds::group_of(&id.api_version),
        id.kind,
        id.namespace,
        id.name
    )
}

/// A manifest could not be loaded: the user's input, exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}", path = path.display())]
pub struct InventoryError {
    /// The file concerned, as given or relative to the base directory.
    pub path: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// What was wrong and what was expected.
    pub message: String,
}

/// The message of the error a panic of the loader thread becomes.
const LOADER_PANICKED: &str = "internal error: the manifest loader panicked";

impl InventoryError {
    /// Whether this is meshplan's own bug (the loader thread panicked), not the input's:
    /// exit 3, never reported as invalid input.
    pub fn is_internal(&self) -> bool {
        self.line == 0 && self.message == LOADER_PANICKED
    }

    /// An error about `path` at `line` (0 when unknown).
    pub fn new(path: &Path, line: u64, message: impl Into<String>) -> InventoryError {
        InventoryError {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// Where manifests come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A `spec.manifests` glob relative to the base directory, with the namespace its
    /// namespace-less objects get (else `default`).
    Glob {
        /// e.g. `apps/**/*.yaml`.
        pattern: String,
        /// The entry's namespace.
        namespace: Option<String>,
    },
    /// `-f PATH`: a file, or every `*.yaml`/`*.yml`/`*.json` below a directory; relative
    /// paths are taken relative to the base directory.
    Path(PathBuf),
    /// `-f -`: a stream of YAML or JSON documents on stdin, named `-` in reports.
    Stdin,
    /// A `spec.manifests` entry built by kustomize, helm or Flux's rules.
    Build(Box<BuildSource>),
}

impl From<&crate::spec::model::ManifestEntry> for Source {
    /// A `spec.manifests` entry as a source relative to the base directory: a glob, or a
    /// build with the tools from `PATH` (errors then name `meshplan.yaml`, line 0).
    fn from(entry: &crate::spec::model::ManifestEntry) -> Source {
        match BuildSource::from_entry(
            entry,
            PathBuf::new(),
            PathBuf::from("meshplan.yaml"),
            0,
            Tools::default(),
        ) {
            Some(build) => Source::Build(Box::new(build)),
            None => Source::Glob {
                pattern: entry.path().to_string(),
                namespace: entry.namespace().map(str::to_string),
            },
        }
    }
}

/// Resource limits of one load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest manifest file (or stdin stream) read, in bytes; `--max-manifest-bytes`.
    pub max_file_bytes: u64,
}

/// Default for [`Limits::max_file_bytes`]: 64 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// Loads every object of `sources`, reading `-f -` from the process's stdin.
pub fn load(
    base_dir: &Path,
    sources: &[Source],
    limits: &Limits,
) -> Result<Inventory, InventoryError> {
    load_with_stdin(base_dir, sources, limits, &mut std::io::stdin().lock())
}

/// Loads every object of `sources`, reading [`Source::Stdin`] from `stdin`.
pub fn load_with_stdin(
    base_dir: &Path,
    sources: &[Source],
    limits: &Limits,
    stdin: &mut dyn Read,
) -> Result<Inventory, InventoryError> {
    // Read on the caller's thread (a reader need not be `Send`), then parse everything on
    // one thread whose stack fits the deepest nesting the parser budget allows.
    let stdin_bytes = if sources.contains(&Source::Stdin) {
        Some(read_stdin(stdin, limits)?)
    } else {
        None
    };
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("meshplan-inventory".to_string())
            .stack_size(parse::PARSER_STACK_BYTES)
            .spawn_scoped(scope, || {
                load_all(base_dir, sources, limits, stdin_bytes.as_deref())
            })
            .map_err(|e| {
                InventoryError::new(base_dir, 0, format!("cannot start the loader thread: {e}"))
            })?
            .join()
            .unwrap_or_else(|_| Err(loader_panicked(base_dir)))
    })
}

/// The error a panic of the loader thread becomes: exit 3, see [`InventoryError::is_internal`].
fn loader_panicked(base_dir: &Path) -> InventoryError {
    InventoryError::new(base_dir, 0, LOADER_PANICKED)
}

/// [`load_with_stdin`] once stdin has been read.
fn load_all(
    base_dir: &Path,
    sources: &[Source],
    limits: &Limits,
    stdin: Option<&[u8]>,
) -> Result<Inventory, InventoryError> {
    let resolver = Resolver::new(base_dir)?;
    let mut inv = Inventory::default();
    let mut objects = Vec::new();
    // Builds are independent of each other and of the files read: run them all at once.
    let builds: Vec<&BuildSource> = sources
        .iter()
        .filter_map(|s| match s {
            Source::Build(b) => Some(b.as_ref()),
            _ => None,
        })
        .collect();
    inv.wiring_checked = builds
        .iter()
        .any(|b| !matches!(b.kind, BuildKind::Helm { .. }));
    let mut built = build::build_all(base_dir, &builds)?.into_iter();
    // Files are resolved in source order, parsed all at once (`parallel`), then added in
    // that order again, so objects, warnings and the first error are as if read one by one:
    // a source that cannot be resolved is reported after the files of the sources before it.
    let mut pending: Vec<parallel::Pending> = Vec::new();
    let mut unresolved = None;
    // A file matched by several sources is read once, for the first of them.
    let mut seen: BTreeMap<String, Option<String>> = BTreeMap::new();
    for source in sources {
        let files = match source {
            Source::Glob { pattern, namespace } => {
                let files = match resolver.glob(pattern, namespace.as_deref()) {
                    Ok(files) => files,
                    Err(e) => {
                        unresolved = Some(e);
                        break;
                    }
                };
                if files.is_empty() {
                    inv.warnings
                        .push(format!("manifest glob `{pattern}` matches no file"));
                }
                files
            }
            Source::Path(path) => {
                let files = match resolver.path(path) {
                    Ok(files) => files,
                    Err(e) => {
                        unresolved = Some(e);
                        break;
                    }
                };
                if files.is_empty() {
                    inv.warnings.push(format!(
                        "{} contains no *.yaml, *.yml or *.json file",
                        path.display()
                    ));
                }
                files
            }
            Source::Stdin => vec![FileInput {
                path: PathBuf::from("-"),
                display: "-".to_string(),
                namespace: None,
            }],
            Source::Build(_) => {
                if let Some(result) = built.next() {
                    pending.push(parallel::Pending::Built(result));
                }
                continue;
            }
        };
        for file in files {
            if let Some(first_ns) = seen.get(&file.display) {
                if *first_ns != file.namespace {
                    inv.warnings.push(format!(
                        "{} is matched by several manifest entries with different namespaces; \
                         the first entry's namespace is used",
                        file.display
                    ));
                }
                continue;
            }
            seen.insert(file.display.clone(), file.namespace.clone());
            let stdin = matches!(source, Source::Stdin);
            pending.push(parallel::Pending::File { file, stdin });
        }
    }
    for loaded in parallel::parse_all(pending, limits, stdin.unwrap_or_default()) {
        match loaded {
            parallel::Loaded::Built(result) => add_built(result, &mut objects, &mut inv)?,
            parallel::Loaded::File { file, docs } => {
                add_docs(docs?, &file, &mut objects, &mut inv)?
            }
        }
    }
    if let Some(e) = unresolved {
        return Err(e);
    }
    sort_objects(&mut objects);
    index(&mut inv, objects)?;
    Ok(inv)
}

/// Adds the objects and unrendered sources of one built entry.
fn add_built(
    result: build::Built,
    objects: &mut Vec<Object>,
    inv: &mut Inventory,
) -> Result<(), InventoryError> {
    for doc in result.docs {
        let file = FileInput {
            path: PathBuf::from(&doc.file),
            display: doc.file.clone(),
            namespace: doc.namespace.clone(),
        };
        let ctx = DocContext {
            file: &file,
            display: Path::new(&doc.file),
        };
        let before = objects.len();
        ctx.add(doc.value, doc.line, &[], objects, inv)?;
        if let Some(by) = doc.built_by {
            for obj in objects.iter().skip(before) {
                inv.built_by.insert(group_key(&obj.id), by.clone());
            }
        }
    }
    inv.unrendered.extend(result.unrendered);
    Ok(())
}

/// The report order: by file, then line (stable, so List items keep their order).
fn sort_objects(objects: &mut [Object]) {
    objects.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
}

/// Fills the indexes, refusing the same object defined twice.
fn index(inv: &mut Inventory, objects: Vec<Object>) -> Result<(), InventoryError> {
    for (pos, obj) in objects.iter().enumerate() {
        inv.index.entry(obj.id.key()).or_insert(pos);
        let gk = group_key(&obj.id);
        let first = inv.group_index.get(&gk).and_then(|&i| objects.get(i));
        // generateName objects are new objects on every create: never duplicates.
        if let Some(first) = first.filter(|f| !is_generated(f) && !is_generated(obj)) {
            let (file, line) = (first.file.as_str(), first.line);
            return Err(InventoryError::new(
                Path::new(&obj.file),
                u64::from(obj.line),
                format!(
                    "{} ({}) is defined twice: {}:{} and {}:{}",
                    obj.id.key(),
                    obj.id.api_version,
                    file,
                    line,
                    obj.file,
                    obj.line
                ),
            ));
        }
        inv.group_index.entry(gk).or_insert(pos);
    }
    inv.objects = objects;
    Ok(())
}

/// Whether the object has only `metadata.generateName` (its `id.name` is the prefix).
pub fn is_generated(obj: &Object) -> bool {
    obj.body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
}

/// Reads a file, refusing one over the limit before reading a byte of it.
fn read_file(file: &FileInput, limits: &Limits) -> Result<Vec<u8>, InventoryError> {
    let display = Path::new(&file.display);
    let io_err = |e: std::io::Error| InventoryError::new(display, 0, format!("cannot read: {e}"));
    let size = std::fs::metadata(&file.path).map_err(io_err)?.len();
    if size > limits.max_file_bytes {
        return Err(too_large(display, size, limits));
    }
    // Read through `take` too: the file may have grown since we looked at its size.
    let mut bytes = Vec::new();
    std::fs::File::open(&file.path)
        .and_then(|f| {
            f.take(limits.max_file_bytes.saturating_add(1))
                .read_to_end(&mut bytes)
        })
        .map_err(io_err)?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(too_large(display, bytes.len() as u64, limits));
    }
    Ok(bytes)
}

/// Reads stdin up to the limit.
fn read_stdin(stdin: &mut dyn Read, limits: &Limits) -> Result<Vec<u8>, InventoryError> {
    let display = Path::new("-");
    let mut bytes = Vec::new();
    stdin
        .take(limits.max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| InventoryError::new(display, 0, format!("cannot read stdin: {e}")))?;
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(too_large(display, bytes.len() as u64, limits));
    }
    Ok(bytes)
}

fn too_large(display: &Path, size: u64, limits: &Limits) -> InventoryError {
    InventoryError::new(
        display,
        0,
        format!(
            "manifest is larger than the limit of {} bytes ({size} bytes or more); \
             raise it with --max-manifest-bytes",
            limits.max_file_bytes
        ),
    )
}

/// Reads and parses one file (stdin: its bytes), on a `parallel` worker.
fn read_and_parse(
    file: &FileInput,
    stdin: Option<&[u8]>,
    limits: &Limits,
) -> Result<Vec<parse::Doc>, InventoryError> {
    let display = Path::new(&file.display);
    let owned;
    let bytes = match stdin {
        Some(bytes) => bytes,
        None => {
            owned = read_file(file, limits)?;
            &owned
        }
    };
    let text = parse::utf8(bytes, display)?;
    split::parse_file(text, display)
}

#[cfg(test)]
mod tests;
