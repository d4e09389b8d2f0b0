//! The layering written in `src/lib.rs` holds: no module of `src/` uses a module of a later
//! layer. Reads the sources, so a new `use crate::…` that climbs back up fails here, with the
//! file and line, before it makes a cycle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The layers as `src/lib.rs` lists them: module → layer number.
fn layers(lib: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for line in lib.lines() {
        let Some(item) = line.strip_prefix("//! ") else {
            continue;
        };
        let Some((number, rest)) = item.split_once(". ") else {
            continue;
        };
        let Ok(layer) = number.parse::<usize>() else {
            continue;
        };
        let names = rest.split(" — ").next().unwrap_or("");
        for name in names.split(", ") {
            out.insert(name.trim_matches('`').to_string(), layer);
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src is readable")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(line, module)` for each `crate::module` a file uses outside comments and tests.
fn uses(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        // Unit tests sit at the end of a file; they may use anything.
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let module: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !module.is_empty() {
                out.push((i + 1, module));
            }
        }
    }
    out
}

/// The top-level module a file of `src/` belongs to (`src/plan/mod.rs` → `plan`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    Some(first.trim_end_matches(".rs").to_string())
}

#[test]
fn no_module_uses_a_later_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let layers = layers(&lib);
    assert!(
        layers.len() >= 14,
        "src/lib.rs lists the layers: {layers:?}"
    );
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        if module == "lib" || module == "main" {
            continue;
        }
        let test_file = file
            .file_name()
            .is_some_and(|n| n == "tests.rs" || n.to_string_lossy().ends_with("_tests.rs"));
        if test_file || file.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        let own = *layers
            .get(&module)
            .unwrap_or_else(|| panic!("src/lib.rs gives no layer to module `{module}`"));
        let text = std::fs::read_to_string(file).expect("source is readable");
        for (line, used) in uses(&text) {
            let Some(&layer) = layers.get(&used) else {
                continue;
            };
            if layer > own {
                violations.push(format!(
                    "{}:{line}: `{module}` (layer {own}) uses `{used}` (layer {layer})",
                    file.strip_prefix(root).unwrap_or(file).display()
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_checker_sees_a_use_of_a_later_layer() {
    // The parser above must not be blind: a later-layer use in code is found, the same text
    // in a comment or after the unit tests is not.
    let text = "use crate::plan::Plan;\n// crate::cli is only named here\nfn f() { crate::facts::x(); }\n#[cfg(test)]\nuse crate::pipeline;\n";
    let found: Vec<String> = uses(text).into_iter().map(|(_, m)| m).collect();
    assert_eq!(found, ["plan", "facts"]);
    let lib = "//! 1. `diagnostic`, `guard` — x.\n//! 2. `catalog` — y, z.\n";
    let parsed = layers(lib);
    assert_eq!(
        (parsed.get("guard"), parsed.get("catalog")),
        (Some(&1), Some(&2))
    );
}
