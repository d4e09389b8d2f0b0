//! Unit tests of `commit`.

use super::*;

#[test]
fn identity_parses_git_form() {
    let id = Identity::parse("Jane Doe <jane@example.com>").unwrap();
    assert_eq!(
        (id.name.as_str(), id.email.as_str()),
        ("Jane Doe", "jane@example.com")
    );
    for bad in ["Jane", "<a@b>", "Jane <>", "Jane <a@b", "J <a<b>"] {
        assert_eq!(Identity::parse(bad), None, "{bad}");
    }
}

/// Two commits on an empty tree in a fresh repository, `refs/heads/b` at the second.
fn moved_branch() -> (tempfile::TempDir, git2::Oid, git2::Oid) {
    let dir = tempfile::tempdir().unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let sig = git2::Signature::now("T", "t@example.com").unwrap();
    let empty = repo.treebuilder(None).unwrap().write().unwrap();
    let tree = repo.find_tree(empty).unwrap();
    let first = repo.commit(None, &sig, &sig, "1", &tree, &[]).unwrap();
    let parent = repo.find_commit(first).unwrap();
    let second = repo
        .commit(None, &sig, &sig, "2", &tree, &[&parent])
        .unwrap();
    repo.reference("refs/heads/b", second, false, "test")
        .unwrap();
    (dir, first, second)
}

#[test]
fn compare_and_swap_refuses_a_moved_branch() {
    let (dir, first, second) = moved_branch();
    let repo = git2::Repository::open(dir.path()).unwrap();
    // Built on `first`, but someone moved the branch to `second`.
    let err = update_branch(&repo, "refs/heads/b", "b", first, Some(first), "x").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("branch b moved from {first} to {second} while committing; nothing was written")
    );
    // Creating a branch someone else created meanwhile.
    let err = update_branch(&repo, "refs/heads/b", "b", first, None, "x").unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("moved from (none) to {second}")),
        "{err}"
    );
    assert_eq!(repo.refname_to_id("refs/heads/b").unwrap(), second);
    // The expected tip moves it.
    update_branch(&repo, "refs/heads/b", "b", first, Some(second), "x").unwrap();
    assert_eq!(repo.refname_to_id("refs/heads/b").unwrap(), first);
}

#[test]
fn branch_names_are_checked() {
    assert_eq!(
        branch_ref("meshplan/prod").unwrap(),
        "refs/heads/meshplan/prod"
    );
    for bad in ["", "-x", "a..b", "a b", "x.lock", "a~1"] {
        assert!(branch_ref(bad).is_err(), "{bad}");
    }
}
