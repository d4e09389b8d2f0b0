//! The Istio release catalogue: minor releases with release and end-of-life dates, the
//! Kubernetes versions each supports, and every patch release. Embedded in the binary from
//! `catalog/releases.yaml`; `--catalog FILE` replaces it.
//!
//! The planner asks it for hop targets (latest patch of a minor) and the policies read its
//! answers as facts ([`Catalog::version_fact`]), so the data is checked once at load time and
//! every query afterwards is a map lookup.

mod date;
pub mod sail;
mod version;

pub use date::{civil_from_days, is_date, today};
pub use version::{Version, VersionParseError, parse_minor};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The catalogue could not be read: the user's input (`--catalog FILE`), exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct CatalogError {
    /// The catalogue file (`<embedded>` for the built-in one).
    pub path: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// What was wrong.
    pub message: String,
}

/// One minor release and what is known about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinorRelease {
    /// `X.Y`.
    pub minor: String,
    /// Release date (YYYY-MM-DD), when known.
    pub release_date: Option<String>,
    /// End-of-life date (YYYY-MM-DD), when announced.
    pub eol_date: Option<String>,
    /// Officially supported Kubernetes minors; `None` when unknown.
    pub k8s_supported: Option<Vec<String>>,
    /// Tested-but-unsupported Kubernetes minors; `None` when unknown.
    pub k8s_tested: Option<Vec<String>>,
    /// Where the data is partial or sources disagree.
    pub note: Option<String>,
    /// Every released patch, ascending.
    pub patches: Vec<PatchRelease>,
}

/// One patch release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchRelease {
    /// The exact version.
    pub version: Version,
    /// Its release (tag) date, YYYY-MM-DD.
    pub date: String,
}

/// The whole catalogue, keyed by `(major, minor)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    minors: BTreeMap<(u32, u32), MinorRelease>,
}

const EMBEDDED: &str = include_str!("releases.yaml");

impl Catalog {
    /// The catalogue shipped in the binary.
    pub fn builtin() -> Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                // The embedded file is fixed at build time and `tests::builtin_loads` proves it
                // parses; were it ever broken, an empty catalogue only makes versions
                // "unknown" (MP107), it cannot crash a run.
                Catalog::parse(Path::new("<embedded>"), EMBEDDED).unwrap_or_default()
            })
            .clone()
    }

    /// Loads a catalogue file in the embedded format (`--catalog FILE`).
    pub fn load(path: &Path) -> Result<Catalog, CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|e| CatalogError {
            path: path.to_path_buf(),
            line: 0,
            message: format!("cannot read catalogue: {e}"),
        })?;
        Catalog::parse(path, &text)
    }

    /// Parses catalogue text; `path` is only used in error messages.
    pub fn parse(path: &Path, text: &str) -> Result<Catalog, CatalogError> {
        let err = |line: u64, message: String| CatalogError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let options = serde_saphyr::options! {
            budget: serde_saphyr::budget! { max_depth: 16, max_aliases: 100, max_documents: 1 },
        };
        let raw: RawFile = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let line = e.location().map_or(0, |l| l.line());
            let msg = serde_saphyr::MessageFormatter::format_message(
                &serde_saphyr::UserMessageFormatter,
                e.without_snippet(),
            )
            .into_owned();
            err(line, msg)
        })?;
        if raw.schema_version.value != 1 {
            return Err(err(
                raw.schema_version.referenced.line(),
                format!(
                    "unsupported schema_version {} (this meshplan reads 1)",
                    raw.schema_version.value
                ),
            ));
        }
        let mut minors = BTreeMap::new();
        for m in raw.minors {
            let line = m.minor.referenced.line();
            let key = parse_minor(&m.minor.value)
                .ok_or_else(|| err(line, format!("minor `{}` is not `X.Y`", m.minor.value)))?;
            let check_date = |d: &Option<Spanned<String>>| -> Result<Option<String>, CatalogError> {
                match d {
                    None => Ok(None),
                    Some(s) if is_date(&s.value) => Ok(Some(s.value.clone())),
                    Some(s) => Err(err(
                        s.referenced.line(),
                        format!("`{}` is not a date YYYY-MM-DD", s.value),
                    )),
                }
            };
            let check_k8s =
                |l: &Option<Vec<Spanned<String>>>| -> Result<Option<Vec<String>>, CatalogError> {
                    let Some(items) = l else { return Ok(None) };
                    items
                        .iter()
                        .map(|s| match parse_minor(&s.value) {
                            Some(_) => Ok(s.value.clone()),
                            None => Err(err(
                                s.referenced.line(),
                                format!("Kubernetes version `{}` is not `X.Y`", s.value),
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()
                        .map(Some)
                };
            let patches = patches_of(&m, key, &err)?;
            let release = MinorRelease {
                minor: m.minor.value.clone(),
                release_date: check_date(&m.release_date)?,
                eol_date: check_date(&m.eol_date)?,
                k8s_supported: check_k8s(&m.k8s_supported)?,
                k8s_tested: check_k8s(&m.k8s_tested)?,
                note: m.note.clone(),
                patches,
            };
            if minors.insert(key, release).is_some() {
                return Err(err(
                    line,
                    format!("minor {} is listed twice", m.minor.value),
                ));
            }
        }
        Ok(Catalog { minors })
    }

    /// Every minor release, oldest first.
    pub fn minors(&self) -> impl Iterator<Item = &MinorRelease> {
        self.minors.values()
    }

    /// The minor release `"X.Y"`, if known.
    pub fn minor(&self, minor: &str) -> Option<&MinorRelease> {
        self.minors.get(&parse_minor(minor)?)
    }

    /// Whether this exact patch release is in the catalogue.
    pub fn is_known(&self, version: &Version) -> bool {
        self.minors
            .get(&version.minor_key())
            .is_some_and(|m| m.patches.iter().any(|p| p.version == *version))
    }

    /// The newest patch of `major.minor`, if the minor is known and has any.
    pub fn latest_patch(&self, major: u32, minor: u32) -> Option<Version> {
        self.minors
            .get(&(major, minor))
            .and_then(|m| m.patches.last())
            .map(|p| p.version)
    }

    /// Whether `minor` supports Kubernetes `kubernetes` ("1.30"); `None` when the minor or its
    /// supported list is unknown.
    pub fn supports_kubernetes(&self, minor: &str, kubernetes: &str) -> Option<bool> {
        let supported = self.minor(minor)?.k8s_supported.as_ref()?;
        let want = parse_minor(kubernetes);
        Some(want.is_some() && supported.iter().any(|k| parse_minor(k) == want))
    }

    /// End-of-life date of `minor`, when known.
    pub fn eol(&self, minor: &str) -> Option<&str> {
        self.minor(minor)?.eol_date.as_deref()
    }

    /// Catalogue facts about `version` for a cluster on `kubernetes`, judged on `today`.
    pub fn version_fact(&self, version: &str, kubernetes: &str, today: &str) -> VersionFact {
        let parsed = Version::parse(version).ok();
        let minor = match parsed {
            Some(v) => v.minor_string(),
            // Not an exact version: keep whatever `X.Y` prefix it has, for the message.
            None => version.split('.').take(2).collect::<Vec<_>>().join("."),
        };
        let release = parsed.and_then(|v| self.minors.get(&v.minor_key()));
        let eol_date = release.and_then(|m| m.eol_date.clone());
        VersionFact {
            version: version.to_string(),
            minor: minor.clone(),
            known: parsed.is_some_and(|v| self.is_known(&v)),
            minor_known: release.is_some(),
            end_of_life: eol_date.as_deref().is_some_and(|eol| today > eol),
            eol_date,
            kubernetes_supported: release
                .and_then(|m| m.k8s_supported.clone())
                .unwrap_or_default(),
            kubernetes_ok: release
                .and_then(|_| self.supports_kubernetes(&minor, kubernetes))
                .unwrap_or(true),
            delivery_unsupported: None,
        }
    }
}

/// The patches of one minor, sorted: versions of that minor, with dates, listed once.
fn patches_of(
    m: &RawMinor,
    key: (u32, u32),
    err: &dyn Fn(u64, String) -> CatalogError,
) -> Result<Vec<PatchRelease>, CatalogError> {
    let mut patches = Vec::with_capacity(m.patches.len());
    for p in &m.patches {
        let pline = p.version.referenced.line();
        let version = Version::parse(&p.version.value).map_err(|e| err(pline, e.to_string()))?;
        if version.minor_key() != key {
            return Err(err(
                pline,
                format!("patch {version} is listed under minor {}", m.minor.value),
            ));
        }
        if !is_date(&p.date.value) {
            return Err(err(
                p.date.referenced.line(),
                format!("`{}` is not a date YYYY-MM-DD", p.date.value),
            ));
        }
        patches.push(PatchRelease {
            version,
            date: p.date.value.clone(),
        });
    }
    patches.sort_by_key(|p| p.version);
    let duplicate = patches.windows(2).find_map(|w| match w {
        [a, b] if a.version == b.version => Some(a.version),
        _ => None,
    });
    if let Some(dup) = duplicate {
        return Err(err(
            m.minor.referenced.line(),
            format!("patch {dup} is listed twice"),
        ));
    }
    Ok(patches)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema_version: Spanned<u32>,
    minors: Vec<RawMinor>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMinor {
    minor: Spanned<String>,
    #[serde(default)]
    release_date: Option<Spanned<String>>,
    #[serde(default)]
    eol_date: Option<Spanned<String>>,
    #[serde(default)]
    k8s_supported: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    k8s_tested: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    patches: Vec<RawPatch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPatch {
    version: Spanned<String>,
    date: Spanned<String>,
}

/// Catalogue facts about one Istio version.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionFact {
    /// Exact version, e.g. 1.24.3.
    pub version: String,
    /// Its minor, e.g. 1.24.
    pub minor: String,
    /// The exact patch is in the catalogue.
    pub known: bool,
    /// The minor is in the catalogue.
    pub minor_known: bool,
    /// End-of-life date of the minor, when known.
    pub eol_date: Option<String>,
    /// Past end of life on `today`.
    pub end_of_life: bool,
    /// Kubernetes minors the minor supports (empty when unknown).
    pub kubernetes_supported: Vec<String>,
    /// The spec's Kubernetes version is among them (true when the minor is unknown).
    pub kubernetes_ok: bool,
    /// Why the spec's delivery cannot install this version, when the plan renders it and
    /// the delivery cannot (`delivery: sail`: a version the Sail Operator release does not
    /// install, [`crate::catalog::sail`]); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_unsupported: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_loads() {
        let parsed = Catalog::parse(Path::new("<embedded>"), EMBEDDED);
        let cat = parsed.unwrap_or_else(|e| panic!("embedded catalogue: {e}"));
        assert_eq!(cat, Catalog::builtin());
        let first = cat.minors().next().map(|m| m.minor.clone());
        let last = cat.minors().last().map(|m| m.minor.clone());
        assert_eq!(
            (first.as_deref(), last.as_deref()),
            (Some("1.18"), Some("1.30"))
        );
        // Ordered numerically, not as text ("1.9" would sort after "1.30" as text).
        assert!(cat.minors().count() >= 13);
    }
}
