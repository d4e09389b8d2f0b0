//! Reading `meshplan.lock`: strict parsing with the line of every offending field, conflict
//! markers refused at their line, file digests and output paths checked on load.

use super::*;

/// Whether `text` is a digest as [`file_digest`] writes it.
pub(super) fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Whether a recorded file path stays inside `spec.output` and is not the lock: relative,
/// `/`-separated, without empty, `.` or `..` segments.
pub(super) fn is_output_path(path: &str) -> bool {
    path != LOCK_FILE
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// The 1-based line of the first Git conflict marker in `text` (a line starting with
/// `<<<<<<< `, `=======` or `>>>>>>> `), if any: a lock merged with conflicts left in.
pub(super) fn conflict_marker(text: &str) -> Option<u64> {
    text.lines().zip(1u64..).find_map(|(line, n)| {
        let marker = line.starts_with("<<<<<<<")
            || line.starts_with(">>>>>>>")
            || line.trim_end() == "=======";
        marker.then_some(n)
    })
}

impl Lock {
    /// Reads the lock at `path` for cluster `cluster`: `None` when the file does not exist
    /// (nothing deployed yet); an error naming file and line when it cannot be read, does not
    /// parse, has an unknown `apiVersion`/`kind`, or belongs to another cluster.
    pub fn load(path: &Path, cluster: &str) -> Result<Option<Lock>, StateError> {
        match std::fs::read(path) {
            Ok(bytes) => Lock::parse_bytes(path, &bytes, cluster).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError {
                path: path.to_path_buf(),
                line: 0,
                message: format!("cannot read lock: {e}"),
            }),
        }
    }

    /// Parses lock text; `path` is only used in error messages.
    pub fn parse(path: &Path, text: &str, cluster: &str) -> Result<Lock, StateError> {
        let err = |line: u64, message: String| StateError {
            path: path.to_path_buf(),
            line,
            message,
        };
        if let Some(line) = conflict_marker(text) {
            return Err(err(
                line,
                "the lock holds Git conflict markers (a merge left unresolved): resolve it by taking the lock of the base branch, then run `meshplan commit` again to rebuild the step".to_string(),
            ));
        }
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! { max_depth: 16, max_aliases: 0, max_documents: 1 },
        };
        let raw: RawLock = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let line = e.location().map_or(0, |l| l.line());
            let msg = serde_saphyr::MessageFormatter::format_message(
                &serde_saphyr::UserMessageFormatter,
                e.without_snippet(),
            )
            .into_owned();
            let line = validate::tab_line(text, line, &msg);
            err(line, format!("malformed lock: {msg}"))
        })?;
        if raw.api_version.value != API_VERSION {
            return Err(err(
                raw.api_version.referenced.line(),
                format!(
                    "unsupported lock apiVersion `{}` (this meshplan reads {API_VERSION})",
                    raw.api_version.value
                ),
            ));
        }
        if raw.kind.value != KIND {
            return Err(err(
                raw.kind.referenced.line(),
                format!("kind is `{}`, expected `{KIND}`", raw.kind.value),
            ));
        }
        if raw.cluster.value != cluster {
            return Err(err(
                raw.cluster.referenced.line(),
                format!(
                    "lock is for cluster `{}` but the spec's metadata.name is `{cluster}`",
                    raw.cluster.value
                ),
            ));
        }
        let revisions = installed_revisions(&raw, &err)?;
        check_files(&raw, &err)?;
        let lock = Lock {
            api_version: raw.api_version.value,
            kind: raw.kind.value,
            cluster: raw.cluster.value,
            revisions,
            tags: raw.tags.into_iter().map(|(k, v)| (k, v.value)).collect(),
            namespaces: raw.namespaces,
            gateways: raw
                .gateways
                .into_iter()
                .map(|(k, g)| {
                    let state = GatewayState {
                        colours: g.colours.into_iter().map(|(c, r)| (c, r.value)).collect(),
                        active: g.active.value,
                    };
                    (k, state)
                })
                .collect(),
            workloads: raw.workloads,
            config_hash: raw.config_hash,
            upgrade: raw.upgrade,
            files: raw.files.into_iter().map(|(k, v)| (k, v.value)).collect(),
            adopted: raw.adopted,
            operator_deletes: raw.operator_deletes,
        };
        validate::check(&lock, path, text)?;
        Ok(lock)
    }

    /// [`Lock::parse`] of raw bytes: text that is not UTF-8 is an error at its line.
    pub fn parse_bytes(path: &Path, bytes: &[u8], cluster: &str) -> Result<Lock, StateError> {
        let text = std::str::from_utf8(bytes).map_err(|e| StateError {
            path: path.to_path_buf(),
            line: validate::utf8_error_line(bytes, e.valid_up_to()),
            message: format!("the lock is not UTF-8 text: {e}"),
        })?;
        Lock::parse(path, text, cluster)
    }
}

/// The lock as read, with locations for the fields checked after parsing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawLock {
    api_version: Spanned<String>,
    kind: Spanned<String>,
    cluster: Spanned<String>,
    #[serde(default)]
    revisions: Vec<RawRevision>,
    #[serde(default)]
    tags: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    namespaces: BTreeMap<String, String>,
    #[serde(default)]
    gateways: BTreeMap<String, RawGateway>,
    #[serde(default)]
    workloads: BTreeMap<String, WorkloadState>,
    #[serde(default)]
    config_hash: Option<ConfigHash>,
    #[serde(default)]
    upgrade: Option<UpgradeState>,
    #[serde(default)]
    files: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    adopted: Vec<ObjectOrigin>,
    #[serde(default)]
    operator_deletes: Vec<OperatorDeletion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRevision {
    name: Spanned<String>,
    version: Spanned<String>,
    #[serde(default, rename = "installedBy")]
    installed_by: Option<ObjectOrigin>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    colours: BTreeMap<String, Spanned<String>>,
    active: Spanned<String>,
}

/// The lock's revisions, sorted, once each is a version listed once and every tag and
/// gateway colour points at one of them.
fn installed_revisions(
    raw: &RawLock,
    err: &dyn Fn(u64, String) -> StateError,
) -> Result<Vec<RevisionState>, StateError> {
    let mut revisions: Vec<RevisionState> = Vec::with_capacity(raw.revisions.len());
    for r in &raw.revisions {
        crate::catalog::Version::parse(&r.version.value)
            .map_err(|e| err(r.version.referenced.line(), e.to_string()))?;
        if revisions.iter().any(|x| x.name == r.name.value) {
            return Err(err(
                r.name.referenced.line(),
                format!("revision `{}` is listed twice", r.name.value),
            ));
        }
        revisions.push(RevisionState {
            name: r.name.value.clone(),
            version: r.version.value.clone(),
            installed_by: r.installed_by.clone(),
        });
    }
    revisions.sort_by(|a, b| a.name.cmp(&b.name));
    let installed = |rev: &str| revisions.iter().any(|r| r.name == rev);
    for (tag, target) in &raw.tags {
        if !installed(&target.value) {
            return Err(err(
                target.referenced.line(),
                format!(
                    "tag `{tag}` points at revision `{}`, which is not installed",
                    target.value
                ),
            ));
        }
    }
    for (gateway, g) in &raw.gateways {
        for (colour, rev) in &g.colours {
            if !installed(&rev.value) {
                return Err(err(
                    rev.referenced.line(),
                    format!(
                        "gateway `{gateway}` colour `{colour}` runs on revision `{}`, which is not installed",
                        rev.value
                    ),
                ));
            }
        }
        // An active colour the gateway does not have is a well-formed lock whose traffic
        // Service selects nothing: MP401 (and MP404 when a step removed it) reports it at
        // the gateway, as a finding a reviewer can act on, rather than a load error.
    }
    Ok(revisions)
}

/// The recorded files are paths inside `spec.output` with sha256 digests.
fn check_files(raw: &RawLock, err: &dyn Fn(u64, String) -> StateError) -> Result<(), StateError> {
    for (file, digest) in &raw.files {
        if !is_output_path(file) {
            return Err(err(
                digest.referenced.line(),
                format!("file `{file}` is not a path inside spec.output"),
            ));
        }
        if !is_digest(&digest.value) {
            return Err(err(
                digest.referenced.line(),
                format!(
                    "file `{file}` has digest `{}`, expected sha256: and 64 hex digits",
                    digest.value
                ),
            ));
        }
    }
    Ok(())
}
