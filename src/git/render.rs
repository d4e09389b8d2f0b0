//! Prints [`FileDiff`]s the way reviewers already read them: a Git-style unified diff
//! (`similar`, 3 lines of context) and a `git diff --stat` summary with Git's own layout.
//!
//! Both outputs see only redacted text ([`redact_secrets`]), so a Secret's values never
//! reach a terminal or CI log, and the `--stat` counts agree with the diff that is shown.
//! Files that are not UTF-8 text are reported as binary, as Git does.

use std::borrow::Cow;
use std::fmt::Write as _;

use similar::{ChangeTag, TextDiff};

use super::diff::FileDiff;
use super::redact::redact_secrets;

const BOLD: &str = "\x1b[1m";
const CYAN: &str = "\x1b[36m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[m";

/// The width `git diff --stat` uses when not writing to a terminal.
const STAT_WIDTH: usize = 80;

/// One side of a diff, as shown.
enum Side<'a> {
    Missing,
    Text(Cow<'a, str>),
    Binary,
}

fn side(bytes: Option<&[u8]>) -> Side<'_> {
    match bytes {
        None => Side::Missing,
        Some(b) if b.contains(&0) => Side::Binary,
        Some(b) => match std::str::from_utf8(b) {
            Ok(text) => Side::Text(redact_secrets(text)),
            Err(_) => Side::Binary,
        },
    }
}

fn text_of<'s>(s: &'s Side<'_>) -> &'s str {
    match s {
        Side::Text(t) => t,
        _ => "",
    }
}

/// A Git-style unified diff of `diffs` (3 lines of context), in ANSI colours when `color`.
pub fn render_unified(diffs: &[FileDiff], color: bool) -> String {
    let paint = |out: &mut String, code: &str, line: &str| {
        if color {
            let _ = writeln!(out, "{code}{line}{RESET}");
        } else {
            let _ = writeln!(out, "{line}");
        }
    };
    let mut out = String::new();
    for d in diffs {
        let (old, new) = (side(d.old.as_deref()), side(d.new.as_deref()));
        let a = if d.old.is_some() {
            format!("a/{}", d.path)
        } else {
            "/dev/null".into()
        };
        let b = if d.new.is_some() {
            format!("b/{}", d.path)
        } else {
            "/dev/null".into()
        };
        paint(&mut out, BOLD, &format!("diff --git a/{0} b/{0}", d.path));
        match (&old, &new) {
            (Side::Missing, _) => paint(&mut out, BOLD, "new file mode 100644"),
            (_, Side::Missing) => paint(&mut out, BOLD, "deleted file mode 100644"),
            _ => {}
        }
        if matches!(old, Side::Binary) || matches!(new, Side::Binary) {
            let _ = writeln!(out, "Binary files {a} and {b} differ");
            continue;
        }
        let (old_text, new_text) = (text_of(&old), text_of(&new));
        if old_text == new_text {
            if d.old.is_some() && d.new.is_some() {
                let _ = writeln!(
                    out,
                    "Secret values in {a} and {b} differ ({})",
                    super::REDACTED
                );
            }
            continue;
        }
        paint(&mut out, BOLD, &format!("--- {a}"));
        paint(&mut out, BOLD, &format!("+++ {b}"));
        let diff = TextDiff::from_lines(old_text, new_text);
        for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
            paint(&mut out, CYAN, &hunk.header().to_string());
            for change in hunk.iter_changes() {
                let (sign, code) = match change.tag() {
                    ChangeTag::Delete => ('-', RED),
                    ChangeTag::Insert => ('+', GREEN),
                    ChangeTag::Equal => (' ', ""),
                };
                let value = change.value();
                let line = format!("{sign}{}", value.strip_suffix('\n').unwrap_or(value));
                if code.is_empty() {
                    let _ = writeln!(out, "{line}");
                } else {
                    paint(&mut out, code, &line);
                }
                if change.missing_newline() {
                    let _ = writeln!(out, "\\ No newline at end of file");
                }
            }
        }
    }
    out
}

/// One row of the stat: its path and either line counts or binary sizes.
struct StatRow<'a> {
    path: &'a str,
    added: usize,
    deleted: usize,
    binary: bool,
}

/// A `git diff --stat` summary of `diffs` (80 columns), ending with the totals line.
pub fn render_stat(diffs: &[FileDiff]) -> String {
    let rows: Vec<StatRow<'_>> = diffs.iter().map(stat_row).collect();
    if rows.is_empty() {
        return String::new();
    }
    // Widths exactly as Git's show_stats() computes them, so columns line up the same.
    let mut max_len = 0;
    let mut max_change = 0;
    let mut bin_width = 0;
    let mut number_width = 0;
    for r in &rows {
        max_len = max_len.max(r.path.chars().count());
        if r.binary {
            bin_width = bin_width.max(14 + decimal_width(r.added) + decimal_width(r.deleted));
            number_width = 3;
        } else {
            max_change = max_change.max(r.added + r.deleted);
        }
    }
    let number_width = number_width.max(decimal_width(max_change));
    let width = STAT_WIDTH.max(16 + 6 + number_width);
    let mut graph_width = if max_change + 4 > bin_width {
        max_change
    } else {
        bin_width - 4
    };
    let mut name_width = max_len;
    if name_width + number_width + 6 + graph_width > width {
        let limit = (width * 3 / 8).saturating_sub(number_width + 6);
        if graph_width > limit {
            graph_width = limit.max(6);
        }
        let room = width.saturating_sub(number_width + 6 + graph_width);
        if name_width > room {
            name_width = room;
        } else {
            graph_width = width.saturating_sub(number_width + 6 + name_width);
        }
    }
    let mut out = String::new();
    let (mut insertions, mut deletions) = (0, 0);
    for r in &rows {
        let (prefix, name) = fit_name(r.path, name_width);
        let len = if prefix.is_empty() {
            name_width
        } else {
            name_width.saturating_sub(3)
        };
        let padding = len.saturating_sub(name.chars().count());
        let _ = write!(out, " {prefix}{name}{:padding$} | ", "");
        if r.binary {
            let _ = writeln!(
                out,
                "{:>number_width$} {} -> {} bytes",
                "Bin", r.deleted, r.added
            );
            continue;
        }
        insertions += r.added;
        deletions += r.deleted;
        let (mut add, mut del) = (r.added, r.deleted);
        if graph_width <= max_change {
            let mut total = scale_linear(add + del, graph_width, max_change);
            if total < 2 && add > 0 && del > 0 {
                total = 2;
            }
            if add < del {
                add = scale_linear(add, graph_width, max_change);
                del = total.saturating_sub(add);
            } else {
                del = scale_linear(del, graph_width, max_change);
                add = total.saturating_sub(del);
            }
        }
        let sep = if r.added + r.deleted > 0 { " " } else { "" };
        let _ = writeln!(
            out,
            "{:>number_width$}{sep}{}{}",
            r.added + r.deleted,
            "+".repeat(add),
            "-".repeat(del)
        );
    }
    let files = rows.len();
    let _ = write!(out, " {files} file{} changed", plural(files));
    if insertions > 0 || deletions == 0 {
        let s = if insertions == 1 { "" } else { "s" };
        let _ = write!(out, ", {insertions} insertion{s}(+)");
    }
    if deletions > 0 || insertions == 0 {
        let s = if deletions == 1 { "" } else { "s" };
        let _ = write!(out, ", {deletions} deletion{s}(-)");
    }
    out.push('\n');
    out
}

fn stat_row(d: &FileDiff) -> StatRow<'_> {
    let (old, new) = (side(d.old.as_deref()), side(d.new.as_deref()));
    if matches!(old, Side::Binary) || matches!(new, Side::Binary) {
        let size = |b: &Option<Vec<u8>>| b.as_ref().map_or(0, Vec::len);
        return StatRow {
            path: &d.path,
            added: size(&d.new),
            deleted: size(&d.old),
            binary: true,
        };
    }
    let diff = TextDiff::from_lines(text_of(&old), text_of(&new));
    let (mut added, mut deleted) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => deleted += 1,
            ChangeTag::Equal => {}
        }
    }
    StatRow {
        path: &d.path,
        added,
        deleted,
        binary: false,
    }
}

/// Shortens `path` to `width` columns the way Git does: `...` and the tail from a `/`.
fn fit_name(path: &str, width: usize) -> (&'static str, &str) {
    let len = path.chars().count();
    if len <= width {
        return ("", path);
    }
    let keep = width.saturating_sub(3);
    let skip = len - keep;
    let tail = path
        .char_indices()
        .nth(skip)
        .map_or("", |(i, _)| path.get(i..).unwrap_or(""));
    let tail = tail
        .find('/')
        .map_or(tail, |i| tail.get(i..).unwrap_or(tail));
    ("...", tail)
}

fn scale_linear(it: usize, width: usize, max_change: usize) -> usize {
    if it == 0 || max_change == 0 {
        return 0;
    }
    1 + it * width.saturating_sub(1) / max_change
}

fn decimal_width(n: usize) -> usize {
    n.to_string().len()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fd(path: &str, old: Option<&str>, new: Option<&str>) -> FileDiff {
        FileDiff {
            path: path.into(),
            old: old.map(|s| s.as_bytes().to_vec()),
            new: new.map(|s| s.as_bytes().to_vec()),
        }
    }

    #[test]
    fn unified_has_git_headers_and_dev_null() {
        let out = render_unified(
            &[
                fd("o/new.yaml", None, Some("a\n")),
                fd("o/old.yaml", Some("b\n"), None),
            ],
            false,
        );
        assert_eq!(
            out,
            "diff --git a/o/new.yaml b/o/new.yaml\nnew file mode 100644\n--- /dev/null\n\
             +++ b/o/new.yaml\n@@ -0,0 +1 @@\n+a\n\
             diff --git a/o/old.yaml b/o/old.yaml\ndeleted file mode 100644\n--- a/o/old.yaml\n\
             +++ /dev/null\n@@ -1 +0,0 @@\n-b\n"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let d = [fd("f", Some("x\n"), Some("y\n"))];
        assert!(!render_unified(&d, false).contains('\x1b'));
        let coloured = render_unified(&d, true);
        assert!(coloured.contains("\x1b[31m-x\x1b[m") && coloured.contains("\x1b[32m+y\x1b[m"));
    }

    #[test]
    fn binary_and_missing_newline() {
        let bin = FileDiff {
            path: "b".into(),
            old: None,
            new: Some(vec![0, 1, 2]),
        };
        let out = render_unified(&[bin.clone(), fd("t", Some("a"), Some("b"))], false);
        assert!(
            out.contains("Binary files /dev/null and b/b differ\n"),
            "{out}"
        );
        assert!(
            out.contains("-a\n\\ No newline at end of file\n+b\n\\ No newline"),
            "{out}"
        );
        assert!(render_stat(&[bin]).starts_with(" b | Bin 0 -> 3 bytes\n"));
    }

    #[test]
    fn stat_scales_and_truncates_like_git() {
        let long = format!("{}/file.yaml", "d".repeat(90));
        let big: String = (0..200).map(|i| format!("{i}\n")).collect();
        let out = render_stat(&[
            fd(&long, None, Some(&big)),
            fd("s", Some("1\n"), Some("2\n")),
        ]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines
                .iter()
                .take(2)
                .all(|l| l.chars().count() <= STAT_WIDTH),
            "{out}"
        );
        assert!(lines[0].starts_with(" .../file.yaml"), "{out}");
        assert!(lines[0].contains("| 200 +++"), "{out}");
        assert_eq!(
            lines[2],
            " 2 files changed, 201 insertions(+), 1 deletion(-)"
        );
    }

    #[test]
    fn secret_values_never_shown() {
        let old = "kind: Secret\ndata:\n  token: b2xk\n";
        let new = "kind: Secret\ndata:\n  token: bmV3\n";
        let out = render_unified(&[fd("s.yaml", Some(old), Some(new))], false);
        assert!(!out.contains("b2xk") && !out.contains("bmV3"), "{out}");
        assert!(
            out.contains("Secret values in a/s.yaml and b/s.yaml differ"),
            "{out}"
        );
    }
}
