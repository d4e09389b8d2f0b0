//! Loading policies into one regorus engine, reading each rule's `metadata`, and
//! evaluating every rule's finding sets over one input document.

use super::{PolicyError, builtin, error_location};
use crate::diagnostic::{ObjectRef, Severity};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a rule declares about itself, plus the prose `meshplan explain` prints.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleMeta {
    /// Stable code, e.g. `MP301`.
    pub code: String,
    /// Kebab-case name, e.g. `missing-pdb`.
    pub name: String,
    /// Default severity.
    pub severity: Severity,
    /// One-line title.
    pub title: String,
    /// What the rule checks, one paragraph.
    pub description: String,
    /// What to do about a finding.
    pub remediation: String,
    /// The rule file's leading comment block ("What it does / Why is this bad? / ...").
    pub explain: String,
    /// The file: `policies/<area>/<name>.rego` for built-ins, the path for user policies.
    pub file: String,
    /// The Rego package, e.g. `data.meshplan.workloads.missing_pdb`.
    pub package: String,
    /// Whether it ships with meshplan.
    pub builtin: bool,
}

/// One finding of one rule, before overrides, waivers and locations are applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The rule's code.
    pub code: String,
    /// The rule's name.
    pub name: String,
    /// The severity of the set it came from (`deny`, `warn` or `info`).
    pub default_severity: Severity,
    /// The message.
    pub message: String,
    /// The object it is about.
    pub object: Option<ObjectRef>,
    /// What to do.
    pub hint: Option<String>,
    /// The plan step it belongs to.
    pub step: Option<String>,
    /// Where the rule saw it (a rendered file, relative to `-C DIR`), when the object is not
    /// one of the user's manifests.
    pub file: Option<String>,
    /// 1-based line in `file`.
    pub line: Option<u32>,
}

/// One Rego file handed to the engine.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The label regorus knows it by (unique).
    pub label: String,
    /// The path to show the user.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Shipped with meshplan (a failure is our bug).
    pub builtin: bool,
}

/// The compiled policies: one engine, the rules' metadata, and the finding sets to read.
#[derive(Clone)]
pub struct PolicySet {
    engine: regorus::Engine,
    rules: Vec<RuleMeta>,
    /// (index into `rules`, severity of the set, rule path such as `data.x.deny`).
    sets: Vec<(usize, Severity, String)>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// `metadata` as a rule declares it.
#[derive(Deserialize)]
struct RawMeta {
    code: Option<String>,
    name: Option<String>,
    severity: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    remediation: String,
}

/// A finding as a rule produces it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    msg: String,
    #[serde(default)]
    object: Option<ObjectRef>,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    step: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    line: Option<u32>,
}

const SETS: [Severity; 3] = [Severity::Deny, Severity::Warn, Severity::Info];

impl PolicySet {
    /// Loads the built-in rules (when `builtin`) and every `*.rego` (not `_test.rego`) under
    /// `extra_dirs`; the built-in `policies/lib` helpers are always available.
    pub fn load(builtin: bool, extra_dirs: &[PathBuf]) -> Result<PolicySet, PolicyError> {
        let mut sources = builtin_sources(builtin, false);
        let mut seen = std::collections::BTreeSet::new();
        for dir in extra_dirs {
            // The same directory given twice (flag and spec) must not load a file twice.
            for source in read_dir_sources(dir, false)? {
                if seen.insert(source.label.clone()) {
                    sources.push(source);
                }
            }
        }
        PolicySet::from_sources(sources)
    }

    /// Compiles the given sources; files declaring `metadata` are rules, others helpers.
    pub(crate) fn from_sources(sources: Vec<Source>) -> Result<PolicySet, PolicyError> {
        let (mut engine, packages) = compile(&sources)?;
        // Each rule with the paths of its finding sets (deny, warn, info order).
        let mut rules: Vec<(RuleMeta, Vec<(Severity, String)>)> = Vec::new();
        for (source, package) in sources.iter().zip(&packages) {
            let declares = |name: &str| {
                engine
                    .has_declared_rule_rooted_at(&source.label, name)
                    .map_err(|e| fail(source, &e.to_string()))
            };
            let finding_sets: Vec<Severity> = SETS
                .iter()
                .copied()
                .filter_map(|s| declares(s.as_str()).map(|d| d.then_some(s)).transpose())
                .collect::<Result<_, _>>()?;
            if !declares("metadata")? {
                if !finding_sets.is_empty() {
                    return Err(contract(
                        source,
                        "declares findings but no `metadata := {\"code\", \"name\", \"severity\", ...}`",
                    ));
                }
                continue;
            }
            let value = engine
                .eval_rule(format!("{package}.metadata"))
                .map_err(|e| fail(source, &e.to_string()))?;
            let meta = read_meta(source, package, value)?;
            if let Some((other, _)) = rules.iter().find(|(r, _)| r.code == meta.code) {
                return Err(contract(
                    source,
                    &format!("rule code {} is already used by {}", meta.code, other.file),
                ));
            }
            if !source.builtin {
                // regorus resolves calls lazily; evaluating once over an empty input
                // surfaces unknown functions and the like now, with their line, as exit 2
                // rather than in the middle of a check.
                for s in &finding_sets {
                    engine
                        .eval_rule(format!("{package}.{}", s.as_str()))
                        .map_err(|e| fail(source, &e.to_string()))?;
                }
            }
            let paths = finding_sets
                .into_iter()
                .map(|s| (s, format!("{package}.{}", s.as_str())))
                .collect();
            rules.push((meta, paths));
        }
        // Evaluation and listing both follow code order, so output never depends on the
        // order files were found in.
        rules.sort_by(|(a, _), (b, _)| a.code.cmp(&b.code));
        let mut sets = Vec::new();
        for (index, (_, paths)) in rules.iter().enumerate() {
            sets.extend(paths.iter().map(|(s, p)| (index, *s, p.clone())));
        }
        let rules = rules.into_iter().map(|(meta, _)| meta).collect();
        Ok(PolicySet {
            engine,
            rules,
            sets,
        })
    }

    /// Every rule, sorted by code.
    pub fn rules(&self) -> &[RuleMeta] {
        &self.rules
    }

    /// The rule with this code (any case, `mp301` too) or kebab-case name (`missing-pdb`).
    pub fn rule(&self, code_or_name: &str) -> Option<&RuleMeta> {
        self.rules
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
    }

    /// The text `meshplan explain RULE` prints (RULE: code or name): a header line, then
    /// the rule's prose.
    pub fn explain(&self, code: &str) -> Option<String> {
        let r = self.rule(code)?;
        Some(format!(
            "{} {} ({}): {}\n\n{}\n",
            r.code,
            r.name,
            r.severity,
            r.title,
            r.explain.trim_end()
        ))
    }

    /// The time each rule takes over `input`, in code order: each rule on a fresh copy of
    /// the engine with the input already set, so no rule is billed for the conversion or
    /// for a helper another rule evaluated first. For the scaling test
    /// (`tests/rule_scaling.rs`) and benchmarks; reports never show times.
    pub fn rule_costs(
        &self,
        input: &serde_json::Value,
    ) -> Result<Vec<(String, std::time::Duration)>, PolicyError> {
        let value = regorus::Value::deserialize(input)
            .map_err(|e| PolicyError::Eval(format!("input does not convert: {e}")))?;
        let mut primed = self.engine.clone();
        primed.set_input(value);
        let mut costs: Vec<(String, std::time::Duration)> = Vec::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let mut engine = primed.clone();
            let started = std::time::Instant::now();
            for (_, _, path) in self.sets.iter().filter(|(i, _, _)| *i == index) {
                engine
                    .eval_rule(path.clone())
                    .map_err(|e| PolicyError::Eval(format!("{}: {path}: {e}", rule.file)))?;
            }
            costs.push((rule.code.clone(), started.elapsed()));
        }
        Ok(costs)
    }

    /// Evaluates every rule over `input` (the document of `docs/policy-input.md`): the
    /// input is converted and set once, then each rule's finding sets are read.
    pub fn evaluate(&self, input: &serde_json::Value) -> Result<Vec<Finding>, PolicyError> {
        let value = regorus::Value::deserialize(input)
            .map_err(|e| PolicyError::Eval(format!("input does not convert: {e}")))?;
        let mut engine = self.engine.clone();
        engine.set_input(value);
        let mut findings = Vec::new();
        for (index, severity, path) in &self.sets {
            let Some(rule) = self.rules.get(*index) else {
                // `sets` is built from `rules` in `from_sources`; an index out of range
                // would be our bug, not the user's.
                return Err(PolicyError::Eval(format!("no rule for {path}")));
            };
            let value = engine.eval_rule(path.clone()).map_err(|e| {
                let message = format!("{}: {path}: {e}", rule.file);
                if rule.builtin {
                    PolicyError::Eval(message)
                } else {
                    PolicyError::Contract {
                        path: PathBuf::from(&rule.file),
                        message,
                    }
                }
            })?;
            for item in set_items(&value) {
                findings.push(read_finding(rule, *severity, item)?);
            }
        }
        Ok(findings)
    }

    /// `docs/rules.md`: the rule table and one section per rule, generated from metadata.
    pub fn rules_markdown(&self) -> String {
        let mut out = String::from(
            "# Rules\n\n<!-- Generated from the policies' metadata by `PolicySet::rules_markdown`; \
             a test keeps it up to date. -->\n\n\
             | code | name | severity | title |\n| --- | --- | --- | --- |\n",
        );
        for r in &self.rules {
            out.push_str(&format!(
                "| [{}](#{}) | {} | {} | {} |\n",
                r.code,
                r.code.to_lowercase(),
                r.name,
                r.severity,
                r.title
            ));
        }
        for r in &self.rules {
            out.push_str(&format!(
                "\n## {}\n\n`{}`, default severity `{}`, file `{}`.\n\n{}\n\n**Fix:** {}\n",
                r.code, r.name, r.severity, r.file, r.description, r.remediation
            ));
        }
        out
    }
}

/// The embedded sources: helpers always; rules when `rules`; their tests when `tests`.
pub(crate) fn builtin_sources(rules: bool, tests: bool) -> Vec<Source> {
    let mut files: Vec<builtin::Embedded> = builtin::LIB.to_vec();
    if rules {
        for [rule, test] in builtin::RULES {
            files.push(*rule);
            if tests {
                files.push(*test);
            }
        }
    }
    files
        .into_iter()
        .map(|(rel, text)| Source {
            label: builtin::label(rel),
            path: PathBuf::from(builtin::label(rel)),
            text: text.to_string(),
            builtin: true,
        })
        .collect()
}

/// Every `*.rego` under `dir` (or `dir` itself when it is a file), sorted by path;
/// `_test.rego` files only when `tests`.
pub(crate) fn read_dir_sources(dir: &Path, tests: bool) -> Result<Vec<Source>, PolicyError> {
    let read_err = |path: &Path, e: &dyn std::fmt::Display| PolicyError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut paths = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| read_err(dir, &e))?;
        let name = entry.file_name().to_string_lossy();
        if entry.file_type().is_file()
            && name.ends_with(".rego")
            && (tests || !name.ends_with("_test.rego"))
        {
            paths.push(entry.into_path());
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, &e))?;
            Ok(Source {
                label: path.to_string_lossy().into_owned(),
                path,
                text,
                builtin: false,
            })
        })
        .collect()
}

/// Adds every source to a fresh engine and prepares it, so that every parse and compile
/// error surfaces here (naming its file and line) rather than at the first evaluation.
pub(crate) fn compile(sources: &[Source]) -> Result<(regorus::Engine, Vec<String>), PolicyError> {
    let mut engine = regorus::Engine::new();
    // Policies must not depend on the host; strict errors make a type error in a rule
    // an error instead of a silently undefined (and so missing) finding.
    engine.set_strict_builtin_errors(true);
    let mut packages = Vec::with_capacity(sources.len());
    for source in sources {
        let package = engine
            .add_policy(source.label.clone(), source.text.clone())
            .map_err(|e| fail(source, &e.to_string()))?;
        packages.push(package);
    }
    engine.set_input(regorus::Value::new_object());
    if let Err(e) = engine.eval_query("true".to_string(), false) {
        let message = e.to_string();
        let culprit =
            error_location(&message).and_then(|(file, _)| sources.iter().find(|s| s.label == file));
        return Err(match culprit {
            Some(source) => fail(source, &message),
            None if sources.iter().all(|s| s.builtin) => PolicyError::Eval(message),
            None => PolicyError::Compile {
                path: PathBuf::from("<policies>"),
                line: 0,
                message,
            },
        });
    }
    Ok((engine, packages))
}

/// A compile failure: the user's input for their files, our bug for built-ins.
fn fail(source: &Source, message: &str) -> PolicyError {
    if source.builtin {
        return PolicyError::Eval(format!("{}: {message}", source.label));
    }
    let line = error_location(message).map_or(0, |(_, line)| line);
    PolicyError::Compile {
        path: source.path.clone(),
        line,
        message: message.trim().to_string(),
    }
}

/// A contract violation: the user's input for their files, our bug for built-ins.
fn contract(source: &Source, message: &str) -> PolicyError {
    if source.builtin {
        return PolicyError::Eval(format!("{}: {message}", source.label));
    }
    PolicyError::Contract {
        path: source.path.clone(),
        message: message.to_string(),
    }
}

fn read_meta(
    source: &Source,
    package: &str,
    value: regorus::Value,
) -> Result<RuleMeta, PolicyError> {
    let json = serde_json::to_value(&value).map_err(|e| contract(source, &e.to_string()))?;
    let raw: RawMeta = serde_json::from_value(json)
        .map_err(|e| contract(source, &format!("`metadata` must be an object: {e}")))?;
    let need = |field: Option<String>, name: &str| {
        field.filter(|s| !s.is_empty()).ok_or_else(|| {
            contract(
                source,
                &format!("`metadata` lacks `{name}` (code, name and severity are required)"),
            )
        })
    };
    let code = need(raw.code, "code")?;
    let name = need(raw.name, "name")?;
    let severity_text = need(raw.severity, "severity")?;
    let severity = Severity::parse(&severity_text).ok_or_else(|| {
        contract(
            source,
            &format!("`metadata.severity` is {severity_text:?}; expected deny, warn or info"),
        )
    })?;
    Ok(RuleMeta {
        code,
        name,
        severity,
        title: raw.title,
        description: raw.description,
        remediation: raw.remediation,
        explain: leading_comment(&source.text),
        file: source.path.to_string_lossy().replace('\\', "/"),
        package: package.to_string(),
        builtin: source.builtin,
    })
}

/// The comment block at the top of a Rego file, without the `#` markers.
pub(crate) fn leading_comment(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix('#') {
            out.push_str(rest.strip_prefix(' ').unwrap_or(rest));
            out.push('\n');
        } else if trimmed.is_empty() && out.is_empty() {
            continue;
        } else {
            break;
        }
    }
    out.trim_end().to_string()
}

/// The members of a finding set; an undefined or empty set has none.
fn set_items(value: &regorus::Value) -> Vec<&regorus::Value> {
    match value {
        regorus::Value::Set(s) => s.iter().collect(),
        regorus::Value::Array(a) => a.iter().collect(),
        _ => Vec::new(),
    }
}

fn read_finding(
    rule: &RuleMeta,
    severity: Severity,
    item: &regorus::Value,
) -> Result<Finding, PolicyError> {
    let bad = |e: &dyn std::fmt::Display| {
        let message = format!(
            "{}: a finding of {} must be {{msg, object?, hint?, step?, file?, line?}}: {e}",
            rule.file, rule.code
        );
        if rule.builtin {
            PolicyError::Eval(message)
        } else {
            PolicyError::Contract {
                path: PathBuf::from(&rule.file),
                message,
            }
        }
    };
    let json = serde_json::to_value(item).map_err(|e| bad(&e))?;
    let raw: RawFinding = serde_json::from_value(json).map_err(|e| bad(&e))?;
    Ok(Finding {
        code: rule.code.clone(),
        name: rule.name.clone(),
        default_severity: severity,
        message: raw.msg,
        object: raw.object,
        hint: raw.hint.filter(|h| !h.is_empty()),
        step: raw.step,
        line: raw.line.filter(|_| raw.file.is_some()),
        file: raw.file,
    })
}

/// Counts findings per code; handy in tests and benchmarks.
pub fn count_by_code(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(f.code.clone()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;
