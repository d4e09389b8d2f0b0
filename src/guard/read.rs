//! Reading files meshplan did not name itself: only regular files whose real location lies
//! inside the repository, so a symlink (`rendered/env.yaml -> /proc/self/environ`) can never
//! make a report print a file from elsewhere.

use std::path::Path;

/// Whether `path` resolves (symlinks followed) to a regular file inside `root` (canonical).
pub fn is_inside(root: &Path, path: &Path) -> bool {
    match path.canonicalize() {
        Ok(real) => real.starts_with(root) && real.is_file(),
        Err(_) => false,
    }
}

/// The text of `path` when it is a regular UTF-8 file inside `root` (canonical); `None`
/// otherwise, including when it cannot be read.
pub fn read_inside(root: &Path, path: &Path) -> Option<String> {
    let real = path.canonicalize().ok()?;
    if !real.starts_with(root) || !real.is_file() {
        return None;
    }
    std::fs::read_to_string(&real).ok()
}

// A panic is how a test fails: unwrapping here reports the broken expectation.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_out_of_the_root_are_not_read() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "CI_TOKEN=x\n").unwrap();
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path().canonicalize().unwrap();
        std::fs::write(root.join("a.yaml"), "a: 1\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("env.yaml")).unwrap();
        std::os::unix::fs::symlink("a.yaml", root.join("b.yaml")).unwrap();
        assert_eq!(read_inside(&root, &root.join("a.yaml")).unwrap(), "a: 1\n");
        assert_eq!(read_inside(&root, &root.join("b.yaml")).unwrap(), "a: 1\n");
        assert!(read_inside(&root, &root.join("env.yaml")).is_none());
        assert!(read_inside(&root, Path::new("/proc/self/environ")).is_none());
        assert!(!is_inside(&root, &root.join("env.yaml")));
    }
}
