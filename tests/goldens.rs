//! `check --format json` over every bundled example, compared byte for byte with a golden
//! checked in under `tests/goldens/check/` before the performance work of issue #16: parsing
//! and inventory changes must not change a single byte of a report. The goldens are
//! refreshed only on purpose, with `MESHPLAN_BLESS=1 cargo test --test tests goldens`, and
//! the diff reviewed like code.

use crate::common::{TODAY, meshplan, root};
use std::path::Path;

/// Every example directory holding a `meshplan.yaml`, relative to the crate root, sorted.
fn example_specs() -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(root().join("examples"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "meshplan.yaml")
        .filter_map(|e| {
            let dir = e.path().parent()?.strip_prefix(root()).ok()?;
            Some(dir.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn check_json_over_every_example_matches_its_golden() {
    let dirs = example_specs();
    assert!(
        dirs.len() >= 10,
        "expected the bundled examples, found {dirs:?}"
    );
    let bless = std::env::var_os("MESHPLAN_BLESS").is_some();
    let mut stale = Vec::new();
    for dir in dirs {
        let out = meshplan()
            .args(["check", "-C", &dir, "--today", TODAY, "--format", "json"])
            .output()
            .expect("meshplan runs");
        let code = out.status.code().expect("exit code");
        assert!(
            code == 0 || code == 1,
            "{dir}: exit {code}, stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The exit code is part of the golden: it is what CI acts on.
        let mut got = format!("exit {code}\n").into_bytes();
        got.extend_from_slice(&out.stdout);
        let golden = root()
            .join("tests/goldens/check")
            .join(format!("{}.json", dir.replace('/', "__")));
        if bless {
            std::fs::write(&golden, &got).expect("golden written");
            continue;
        }
        let want = std::fs::read(&golden)
            .unwrap_or_else(|e| panic!("{}: {e}; bless it first", golden.display()));
        if got != want {
            stale.push(Path::new(&dir).display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "check JSON differs from tests/goldens/check for {stale:?}; if intended, run \
         `MESHPLAN_BLESS=1 cargo test --test tests goldens` and review the diff"
    );
}
