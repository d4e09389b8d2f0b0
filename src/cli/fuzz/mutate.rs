//! The structured mutator of the fuzz harness: a seed document is changed by one to three
//! mutations, some on its text (lines dropped, duplicated, swapped, tabs, truncation, bytes
//! that are not UTF-8), some on its parsed value (a node replaced by a hostile value, the
//! whole re-serialised as YAML or as one-line JSON). Hostile values are the names, paths
//! and numbers that broke meshplan before (`UPPER`, `../x`, `.git`, 2^64−1, `.nan`, ...).

use serde_json::Value;

/// Strings that are names, paths, versions or numbers meshplan must refuse or survive.
pub(crate) const HOSTILE: &[&str] = &[
    "UPPER",
    "a/b",
    "../x",
    "../../outside/victim",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "café",
    "CON",
    ".git",
    ".git/objects",
    ".",
    "..",
    "",
    "/etc/passwd",
    "/proc/self/environ",
    "link/victim",
    "link",
    "apps",
    "apps/bookinfo",
    "rendered/..",
    "1.x.3",
    ".nan",
    "1.26",
    "1.26.8",
    "99.99.99",
    "0.0.0",
    "18446744073709551615",
    "18446744073709551616",
    "9007199254740993",
    "-1",
    "1-26-8",
    "Bad_NS",
    "default",
    "istio-system",
    "Secret",
    "List",
    "blue",
    "~",
    "yes",
    "{{ .Values.x }}",
    "\u{202e}txt.yaml",
    "a\nb",
    "%2e%2e",
    "kube-system",
];

/// Integers at the edges of what JSON, Rego and the lock's counters hold.
const HOSTILE_NUMBERS: &[&str] = &[
    "18446744073709551615",
    "9223372036854775808",
    "9007199254740993",
    "-9223372036854775809",
    "1e400",
    ".nan",
    ".inf",
    "0x10",
    "4294967296",
];

/// One mutated input from `seed`, deterministic for `rng`'s state.
pub(crate) fn mutate(seed: &str, rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut bytes = seed.as_bytes().to_vec();
    for _ in 0..rng.usize(1..=3) {
        bytes = match rng.u8(0..12) {
            0..=4 => structured(&bytes, rng).unwrap_or_else(|| replace_scalar(&bytes, rng)),
            5 | 6 => replace_scalar(&bytes, rng),
            7 => lines(&bytes, rng),
            8 => tab(&bytes, rng),
            9 => raw_bytes(&bytes, rng),
            10 => truncate(&bytes, rng),
            _ => nest(&bytes, rng),
        };
    }
    bytes
}

fn hostile(rng: &mut fastrand::Rng) -> String {
    match rng.u8(0..10) {
        0 => "a".repeat(rng.usize(64..300)),
        1 => HOSTILE_NUMBERS[rng.usize(..HOSTILE_NUMBERS.len())].to_string(),
        _ => HOSTILE[rng.usize(..HOSTILE.len())].to_string(),
    }
}

/// A YAML scalar for `s`: quoted when it must be, plain otherwise (plain numbers stay numbers).
fn scalar(s: &str, rng: &mut fastrand::Rng) -> String {
    if rng.bool() || s.is_empty() || s.contains(['\n', ':', '#', '{', '}']) {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        s.to_string()
    }
}

/// Parses every document, replaces one node by a hostile value, re-serialises (YAML or
/// one-line JSON). `None` when the text does not parse.
fn structured(bytes: &[u8], rng: &mut fastrand::Rng) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut docs: Vec<Value> = serde_saphyr::from_multiple(text).ok()?;
    if docs.is_empty() {
        return None;
    }
    let n = docs.len();
    let doc = docs.get_mut(rng.usize(..n))?;
    let mut nodes = 0usize;
    count(doc, &mut nodes);
    let target = rng.usize(..nodes.max(1));
    let replacement = match rng.u8(0..8) {
        0 => Value::Null,
        1 => serde_json::json!({}),
        2 => serde_json::json!([]),
        3 => serde_json::json!(u64::MAX),
        4 => serde_json::json!(-1),
        5 => {
            let mut v = serde_json::json!("deep");
            for _ in 0..rng.usize(1..40) {
                v = serde_json::json!([v]);
            }
            v
        }
        _ => Value::String(hostile(rng)),
    };
    let mut i = 0usize;
    replace_nth(doc, target, &mut i, &replacement);
    let json = rng.u8(0..3) == 0;
    let mut out = String::new();
    for (k, d) in docs.iter().enumerate() {
        if k > 0 {
            out.push_str("---\n");
        }
        if json {
            out.push_str(&serde_json::to_string(d).ok()?);
            out.push('\n');
        } else {
            out.push_str(&serde_saphyr::to_string(d).ok()?);
        }
    }
    Some(out.into_bytes())
}

fn count(v: &Value, n: &mut usize) {
    *n += 1;
    match v {
        Value::Object(m) => m.values().for_each(|c| count(c, n)),
        Value::Array(a) => a.iter().for_each(|c| count(c, n)),
        _ => {}
    }
}

fn replace_nth(v: &mut Value, target: usize, i: &mut usize, with: &Value) -> bool {
    if *i == target {
        *v = with.clone();
        return true;
    }
    *i += 1;
    match v {
        Value::Object(m) => m.values_mut().any(|c| replace_nth(c, target, i, with)),
        Value::Array(a) => a.iter_mut().any(|c| replace_nth(c, target, i, with)),
        _ => false,
    }
}

/// The value after `key: ` on a random line replaced by a hostile scalar.
fn replace_scalar(bytes: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let candidates: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(": ") && !l.trim_end().ends_with(':'))
        .map(|(i, _)| i)
        .collect();
    if candidates.is_empty() {
        return bytes.to_vec();
    }
    let at = candidates[rng.usize(..candidates.len())];
    let value = hostile(rng);
    let value = scalar(&value, rng);
    if let Some(line) = lines.get_mut(at)
        && let Some(pos) = line.find(": ")
    {
        line.truncate(pos + 2);
        line.push_str(&value);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

/// A line dropped, duplicated, or two lines swapped.
fn lines(bytes: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = bytes.split_inclusive(|&b| b == b'\n').collect();
    if lines.len() < 2 {
        return bytes.to_vec();
    }
    let (a, b) = (rng.usize(..lines.len()), rng.usize(..lines.len()));
    match rng.u8(0..3) {
        0 => {
            lines.remove(a);
        }
        1 => {
            let line = lines[a];
            lines.insert(b, line);
        }
        _ => lines.swap(a, b),
    }
    lines.concat()
}

/// A tab at the start of (or inside the indentation of) a random line.
fn tab(bytes: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i < bytes.len())
        .collect();
    let mut out = bytes.to_vec();
    if !starts.is_empty() {
        out.insert(starts[rng.usize(..starts.len())], b'\t');
    }
    out
}

/// Bytes that are not UTF-8 (or NUL, or a BOM) at a random place.
fn raw_bytes(bytes: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    let junk: &[&[u8]] = &[
        b"\xff",
        b"\xc3\x28",
        b"\0",
        b"\xef\xbb\xbf",
        b"\xed\xa0\x80",
    ];
    let mut out = bytes.to_vec();
    let at = rng.usize(..=out.len());
    out.splice(at..at, junk[rng.usize(..junk.len())].iter().copied());
    out
}

/// The text cut at a random byte.
fn truncate(bytes: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    bytes[..rng.usize(..=bytes.len())].to_vec()
}

/// Deep flow nesting or an alias chain appended: the parser budgets must hold.
fn nest(bytes: &[u8], rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let depth = rng.usize(10..2000);
    match rng.u8(0..2) {
        0 => {
            out.extend_from_slice(b"\nx: ");
            out.extend(std::iter::repeat_n(b'[', depth));
        }
        _ => {
            out.extend_from_slice(
                b"\na: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b, *b]\nd: [*c, *c, *c]\n",
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutations() {
        let seed = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
        let a: Vec<Vec<u8>> = (0..50)
            .map(|i| mutate(seed, &mut fastrand::Rng::with_seed(i)))
            .collect();
        let b: Vec<Vec<u8>> = (0..50)
            .map(|i| mutate(seed, &mut fastrand::Rng::with_seed(i)))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|m| m != seed.as_bytes()));
    }
}
