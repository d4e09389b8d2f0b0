//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared real data (`../shared/data`).
pub fn shared_data() -> PathBuf {
    root().join("../shared/data")
}

/// A `meshplan` command run from the crate root, with colour off and a fixed date.
pub fn meshplan() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("meshplan").expect("the meshplan binary is built");
    cmd.current_dir(root()).env("NO_COLOR", "1");
    cmd
}

/// The date every example is judged on, so end-of-life findings do not drift.
pub const TODAY: &str = "2026-11-23";
