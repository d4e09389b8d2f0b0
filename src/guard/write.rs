//! Where meshplan may write: the output directory of a render, and report files.

use std::path::{Component, Path, PathBuf};

/// Checks the output directory `raw` (as written in `spec.output` or `--out`, relative to
/// `base`) and returns it as an absolute path. `root` is the repository (canonical), `base`
/// the canonical directory `raw` is relative to, `inputs` every file or directory meshplan
/// reads as input. The reason is phrased to follow the path, for the caller's message.
///
/// Refused: an absolute path, `..`, the repository root itself, `.git` or anything under
/// it, a symlink or a file in any component between the repository root and the directory,
/// and a directory that holds an input or lies inside an input directory (the next render
/// would replace it, deleting the manifests it was rendered from).
pub fn check_output_dir(
    root: &Path,
    base: &Path,
    raw: &str,
    inputs: &[PathBuf],
) -> Result<PathBuf, String> {
    if raw.contains('\0') || raw.contains('\\') {
        return Err("contains a backslash or NUL byte".into());
    }
    let path = Path::new(raw);
    if path.has_root() || raw.get(1..2) == Some(":") {
        return Err("is absolute; give a path relative to the spec's directory".into());
    }
    let mut full = base.to_path_buf();
    for c in path.components() {
        match c {
            Component::Normal(part) => full.push(part),
            Component::CurDir => {}
            _ => return Err("leaves the repository (`..`)".into()),
        }
    }
    let Ok(rel) = full.strip_prefix(root) else {
        return Err(format!(
            "is outside the repository at {} (the spec's directory is not in it)",
            root.display()
        ));
    };
    if rel.as_os_str().is_empty() {
        return Err(
            "is the repository root; name a subdirectory (meshplan replaces \
                    everything in its output directory)"
                .into(),
        );
    }
    if rel
        .components()
        .any(|c| c.as_os_str().to_string_lossy().eq_ignore_ascii_case(".git"))
    {
        return Err("is or lies under `.git`, Git's own database".into());
    }
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        let shown = cur.strip_prefix(root).unwrap_or(&cur).display().to_string();
        match std::fs::symlink_metadata(&cur) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!(
                    "goes through the symlink `{shown}`, which could lead outside the repository"
                ));
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(format!("goes through `{shown}`, which is a file"));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    for input in inputs {
        let Ok(real) = input.canonicalize() else {
            continue;
        };
        let shown = real
            .strip_prefix(root)
            .unwrap_or(&real)
            .display()
            .to_string();
        if real.starts_with(&full) {
            return Err(format!(
                "holds `{shown}`, an input of meshplan; rendering would replace it (choose \
                 a directory of its own, e.g. `rendered`)"
            ));
        }
        if real.is_dir() && full.starts_with(&real) {
            return Err(format!(
                "lies inside `{shown}`, an input directory; choose a directory of its own"
            ));
        }
    }
    Ok(full)
}

/// Checks a report file (`--output FILE`, `--report FORMAT=FILE`): it may be anywhere the
/// user names (a CI temporary directory is normal), but never inside the Git directory
/// `git_dir` or any `.git`, and never over one of `inputs` (resolving symlinks).
pub fn check_report_path(
    path: &Path,
    git_dir: Option<&Path>,
    inputs: &[PathBuf],
) -> Result<(), String> {
    if path
        .components()
        .any(|c| c.as_os_str().to_string_lossy().eq_ignore_ascii_case(".git"))
    {
        return Err("is inside `.git`, Git's own database".into());
    }
    // The real place the file would be written: its parent resolved, and the file itself
    // when it exists (a symlink to an input is writing over the input).
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let real = match (path.canonicalize(), parent.canonicalize(), path.file_name()) {
        (Ok(real), _, _) => Some(real),
        (Err(_), Ok(dir), Some(name)) => Some(dir.join(name)),
        _ => None,
    };
    let Some(real) = real else {
        return Ok(());
    };
    if let Some(git) = git_dir
        && real.starts_with(git)
    {
        return Err("is inside the repository's Git directory".into());
    }
    for input in inputs {
        if input.canonicalize().is_ok_and(|i| i == real) {
            return Err(format!(
                "is an input of meshplan ({}); writing the report would destroy it",
                input.display()
            ));
        }
    }
    Ok(())
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
/// Checks a user's file meshplan is about to edit in place (`file` as the inventory records
/// it, relative to `dir`, the `-C DIR`): it must lie inside the repository `root` (canonical),
/// not under `.git` nor under `output` (canonical `spec.output`, which meshplan replaces),
/// and be reached through no symlink. Returns its repository-relative, `/`-separated path,
/// or the reason it may not be edited, phrased to follow "because".
pub fn check_user_file(
    root: &Path,
    dir: &Path,
    output: Option<&Path>,
    file: &str,
) -> Result<String, String> {
    let path = Path::new(file);
    if file == "-" || path.has_root() {
        return Err("it was read from stdin or an absolute path".to_string());
    }
    let mut full = dir
        .canonicalize()
        .map_err(|e| format!("-C DIR cannot be resolved: {e}"))?;
    for c in path.components() {
        match c {
            Component::Normal(part) => full.push(part),
            Component::CurDir => {}
            _ => return Err("its path leaves -C DIR (`..`)".to_string()),
        }
    }
    let Ok(rel) = full.strip_prefix(root) else {
        return Err("it is outside the repository".to_string());
    };
    if rel
        .components()
        .any(|c| c.as_os_str().to_string_lossy().eq_ignore_ascii_case(".git"))
    {
        return Err("it lies under `.git`".to_string());
    }
    if output.is_some_and(|out| full.starts_with(out)) {
        return Err("it lies under spec.output, which meshplan replaces".to_string());
    }
    let mut cur = root.to_path_buf();
    for c in rel.components() {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!(
                    "`{}` is a symlink, which meshplan never writes through",
                    cur.strip_prefix(root).unwrap_or(&cur).display()
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(format!("it cannot be read: {e}")),
        }
    }
    let shown = rel.to_string_lossy().replace('\\', "/");
    if shown.is_empty() {
        return Err("it is not a file".to_string());
    }
    Ok(shown)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("apps")).unwrap();
        std::fs::write(root.join("apps/a.yaml"), "a: 1\n").unwrap();
        std::fs::write(root.join("meshplan.yaml"), "x: 1\n").unwrap();
        (dir, root)
    }

    #[test]
    fn output_directories_are_checked() {
        let (_d, root) = repo();
        let inputs = [root.join("apps/a.yaml"), root.join("meshplan.yaml")];
        let ok = check_output_dir(&root, &root, "./rendered/", &inputs).unwrap();
        assert_eq!(ok, root.join("rendered"));
        std::os::unix::fs::symlink("/tmp", root.join("link")).unwrap();
        for (bad, why) in [
            (".git", ".git"),
            (".git/objects", ".git"),
            ("a/.GIT", ".git"),
            (".", "root"),
            ("", "root"),
            ("../x", ".."),
            ("a/../../x", ".."),
            ("/etc", "absolute"),
            ("C:/x", "absolute"),
            ("link/victim", "symlink"),
            ("link", "symlink"),
            ("apps", "holds `apps/a.yaml`"),
            ("meshplan.yaml/x", "is a file"),
            ("apps/a.yaml", "is a file"),
        ] {
            let err = check_output_dir(&root, &root, bad, &inputs).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        let policies = root.join("policies");
        std::fs::create_dir(&policies).unwrap();
        let err = check_output_dir(&root, &root, "policies/out", &[policies]).unwrap_err();
        assert!(err.contains("inside `policies`"), "{err}");
    }

    #[test]
    fn report_paths_are_checked() {
        let (_d, root) = repo();
        let git = root.join(".git");
        std::fs::create_dir(&git).unwrap();
        let inputs = [root.join("apps/a.yaml")];
        let elsewhere = tempfile::tempdir().unwrap();
        check_report_path(&elsewhere.path().join("r.sarif"), Some(&git), &inputs).unwrap();
        check_report_path(&root.join("r.sarif"), Some(&git), &inputs).unwrap();
        assert!(check_report_path(&root.join(".git/config"), Some(&git), &inputs).is_err());
        assert!(check_report_path(&root.join("apps/a.yaml"), Some(&git), &inputs).is_err());
        std::os::unix::fs::symlink(root.join("apps/a.yaml"), root.join("l.json")).unwrap();
        assert!(check_report_path(&root.join("l.json"), Some(&git), &inputs).is_err());
        std::os::unix::fs::symlink(&git, root.join("g")).unwrap();
        assert!(check_report_path(&root.join("g/HEAD"), Some(&git), &inputs).is_err());
    }
}
