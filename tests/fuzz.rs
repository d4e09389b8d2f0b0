//! A short run of every fuzz target (`meshplan debug fuzz`, see `scripts/fuzz.sh` for the
//! long one): no panic, no exit-3 error, no write outside the repository.

use crate::common::{meshplan, shared_data};

#[test]
fn a_short_fuzz_run_of_every_loader_finds_nothing() {
    for target in ["spec", "manifests", "lock", "values"] {
        let out = meshplan()
            .args(["debug", "fuzz", "--target", target, "--seed", "17"])
            .args(["--cases", "12", "--seconds", "120", "--corpus"])
            .arg(shared_data().join("corpus"))
            .output()
            .expect("meshplan runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{target}: {stdout}{stderr}");
        assert!(
            stdout.contains(&format!("fuzz {target}: 12 cases")),
            "{stdout}"
        );
        for bad in ["0 exit-3", "0 panic", "0 outside-write"] {
            assert!(stdout.contains(bad), "{target}: {stdout}");
        }
    }
}
