//! Report options and files: `check --min-severity`, `--output FILE` and `--report
//! FORMAT=FILE`. Every report file meshplan writes goes through [`write_reports`], so the
//! rules about where a report may land live in one place, and a run that cannot write one of
//! its reports writes none of them.

use crate::diagnostic::Severity;
use crate::error::Error;
use crate::report::OutputFormat;
use clap::ValueEnum;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One `--report FORMAT=FILE`: a machine report written beside the printed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportTarget {
    /// The report's format.
    pub format: OutputFormat,
    /// The file, relative to `-C DIR` unless absolute.
    pub path: PathBuf,
}

/// `--min-severity`: the lowest severity a report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MinSeverity {
    /// Only deny findings.
    Deny,
    /// Deny and warn findings.
    Warn,
    /// Every finding.
    Info,
}

impl MinSeverity {
    /// The severity this stands for.
    pub(crate) fn severity(self) -> Severity {
        match self {
            MinSeverity::Deny => Severity::Deny,
            MinSeverity::Warn => Severity::Warn,
            MinSeverity::Info => Severity::Info,
        }
    }
}

/// Parses `FORMAT=FILE` (clap's value parser: an error here is a usage error, exit 2).
pub(crate) fn parse_target(s: &str) -> Result<ReportTarget, String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=FILE (e.g. sarif=meshplan.sarif), got `{s}`"))?;
    let format = OutputFormat::from_str(format, false).map_err(|_| {
        let known: Vec<String> = OutputFormat::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!(
            "unknown report format `{format}` in `{s}`; expected one of {}",
            known.join(", ")
        )
    })?;
    if path.is_empty() {
        return Err(format!("no file after `=` in `{s}`"));
    }
    Ok(ReportTarget {
        format,
        path: PathBuf::from(path),
    })
}

/// Writes each `(path, text)` atomically: every file is first written to a temporary file in
/// its own directory, and only when all of them are written are they renamed into place, so
/// a bad path leaves nothing behind (exit 2). Two reports for one path are a usage error.
pub(crate) fn write_reports(files: &[(PathBuf, String)]) -> Result<(), Error> {
    let mut seen = std::collections::BTreeSet::new();
    for (path, _) in files {
        if !seen.insert(path) {
            return Err(Error::Usage(format!(
                "two reports would be written to {}",
                path.display()
            )));
        }
    }
    let mut staged = Vec::with_capacity(files.len());
    let mut streams = Vec::new();
    for (path, text) in files {
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        if is_stream(path) {
            streams.push((path, text));
            continue;
        }
        if path.is_dir() {
            return Err(Error::Usage(format!(
                "{} is a directory, not a report file",
                path.display()
            )));
        }
        let mut tmp = tempfile::NamedTempFile::new_in(parent(path)).map_err(io)?;
        tmp.write_all(text.as_bytes()).map_err(io)?;
        staged.push((tmp, path));
    }
    for (tmp, path) in staged {
        tmp.persist(path).map_err(|e| Error::Io {
            path: path.clone(),
            source: e.error,
        })?;
    }
    for (path, text) in streams {
        write_through(path, text)?;
    }
    Ok(())
}

/// Whether `path` is a stream to write through rather than a file to replace: `--output
/// /dev/stderr` is how a caller without a shell to redirect (an Argo CD plugin) gets the report
/// on stderr, and a rename would replace the device node or the /dev symlink itself (as root,
/// even when stderr is redirected to a file). Pipes and other special files likewise.
pub(crate) fn is_stream(path: &Path) -> bool {
    path.starts_with("/dev")
        || path.starts_with("/proc")
        || std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Appends `text` to a stream (see [`is_stream`]).
pub(crate) fn write_through(path: &Path, text: &str) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut sink = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io)?;
    sink.write_all(text.as_bytes()).map_err(io)
}

/// The directory a file is written in (`.` for a bare file name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_format_and_file() {
        let t = parse_target("sarif=out/meshplan.sarif").expect("valid");
        assert_eq!(t.format, OutputFormat::Sarif);
        assert_eq!(t.path, PathBuf::from("out/meshplan.sarif"));
        // The file may itself contain `=`; only the first one separates.
        let t = parse_target("junit=a=b.xml").expect("valid");
        assert_eq!(t.path, PathBuf::from("a=b.xml"));
    }

    #[test]
    fn refuses_unknown_formats_and_missing_parts() {
        let e = parse_target("pdf=x.pdf").expect_err("unknown format");
        assert!(e.contains("unknown report format `pdf`"), "{e}");
        assert!(e.contains("sarif"), "{e}");
        assert!(parse_target("sarif").is_err());
        assert!(parse_target("sarif=").is_err());
    }

    #[test]
    fn one_bad_path_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.json");
        let bad = dir.path().join("missing/bad.sarif");
        let err = write_reports(&[(good.clone(), "{}".into()), (bad, "{}".into())])
            .expect_err("the missing directory is refused");
        assert!(matches!(err, Error::Io { .. }), "{err:?}");
        assert!(!good.exists(), "no report is written when one cannot be");
        let leftovers = std::fs::read_dir(dir.path()).expect("readable").count();
        assert_eq!(leftovers, 0, "no temporary file is left behind");
    }

    #[test]
    fn writes_every_report_and_refuses_one_path_twice() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.txt");
        let b = dir.path().join("b.txt");
        write_reports(&[(a.clone(), "A".into()), (b.clone(), "B".into())]).expect("written");
        assert_eq!(std::fs::read_to_string(&a).expect("a"), "A");
        assert_eq!(std::fs::read_to_string(&b).expect("b"), "B");
        let err = write_reports(&[(a.clone(), "1".into()), (a.clone(), "2".into())])
            .expect_err("one path twice");
        assert!(matches!(err, Error::Usage(_)), "{err:?}");
        assert_eq!(std::fs::read_to_string(&a).expect("a"), "A");
    }
}
