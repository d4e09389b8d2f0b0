//! The GitHub Action's check step (`action.yml`), run for real with bash on a copy of
//! `examples/workloads`: one `meshplan check` prints the annotations and writes the SARIF and
//! Markdown reports through `--report`, and the step's outputs name them.

use crate::common::{TODAY, copy_tree, root};
use std::process::Command;

/// The `run` script of the action step named `name`.
fn step_script(name: &str) -> String {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    let action: serde_json::Value = serde_saphyr::from_str(&text).expect("action.yml is YAML");
    action["runs"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no step {name}"))
        .to_string()
}

#[test]
fn the_action_runs_check_once_and_writes_every_report() {
    let script = step_script("Run meshplan check");
    let runs = script
        .lines()
        .filter(|l| l.trim_start().starts_with("meshplan check"))
        .count();
    assert_eq!(runs, 1, "one run: {script}");
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path().join("repo");
    copy_tree(&root().join("examples/workloads"), &work);
    let runner = tmp.path().join("runner");
    std::fs::create_dir_all(&runner).expect("mkdir");
    let outputs = tmp.path().join("outputs.txt");
    let summary = tmp.path().join("summary.md");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_meshplan"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // As GitHub runs a composite step with `shell: bash`.
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
        .current_dir(&work)
        .env("PATH", path)
        .env("HOME", tmp.path().join("home"))
        .env("RUNNER_TEMP", &runner)
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_WORKSPACE", &work)
        .env("FAIL_ON", "deny")
        .env("MESHPLAN_ARGS", format!("--today {TODAY}"))
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Findings are the later "Fail on findings" step's business: this step succeeds.
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let outputs = std::fs::read_to_string(&outputs).expect("step outputs");
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    let sarif_path = runner.join("meshplan/meshplan.sarif");
    let md_path = runner.join("meshplan/meshplan.md");
    assert!(
        outputs.contains(&format!("sarif={}\n", sarif_path.display())),
        "{outputs}"
    );
    assert!(
        outputs.contains(&format!("markdown={}\n", md_path.display())),
        "{outputs}"
    );
    assert!(outputs.contains("prefix=.\n"), "{outputs}");
    crate::report_formats::assert_valid_sarif(
        &std::fs::read_to_string(&sarif_path).expect("sarif"),
    );
    let md = std::fs::read_to_string(&md_path).expect("markdown");
    assert!(md.contains("MP301"), "{md}");
    assert_eq!(std::fs::read_to_string(&summary).expect("job summary"), md);
    // The annotations are printed, one workflow command per deny finding at least.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::error file=") && l.contains("title=MP301")),
        "{stdout}"
    );
}
