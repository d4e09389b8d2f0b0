//! Turns the bytes of one manifest file into YAML documents with their 1-based start lines.
//!
//! This is the only place that talks to the YAML parser, so every hardening decision lives
//! here: UTF-8 is checked first (with the line of the first bad byte), parser budgets bound
//! time and memory (alias bombs, deep nesting), error snippets are switched off (they would
//! copy Secret values into messages), and a file that fails to parse because of Go template
//! syntax is reported as an unrendered Helm template rather than as a YAML error.

use super::InventoryError;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use serde_saphyr::Spanned;
use std::fmt;
use std::path::Path;

/// Deepest structural nesting accepted. Real manifests stay far below (the deepest CRD
/// schema in the shared data is 35 levels); the bound keeps recursion off the stack limit.
pub(crate) const MAX_DEPTH: usize = 128;

/// Most alias replays accepted per file: enough for anchors reused in real manifests, far
/// too few for a "billion laughs" expansion to cost noticeable time or memory.
pub(crate) const MAX_ALIAS_REPLAYS: usize = 200_000;

/// Stack for the thread that parses: [`MAX_DEPTH`] levels need ~2 MiB in debug builds,
/// more than a test or worker thread has. Only reserved; pages are committed when touched.
pub(crate) const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// One YAML document of a file.
#[derive(Debug)]
pub(crate) struct Doc {
    /// 1-based line where the document's root node starts.
    pub line: u64,
    /// The document as JSON.
    pub value: Value,
    /// For a top-level `items` sequence, the 1-based start line of each element.
    pub item_lines: Vec<u64>,
}

/// Parses every non-empty document of `text`; `display` names the file in errors.
/// Deserializing one nesting level takes up to ~16 KiB of stack in debug builds, so run
/// this on a thread with [`PARSER_STACK_BYTES`] of stack (see `load_with_stdin`).
pub(crate) fn parse_documents(text: &str, display: &Path) -> Result<Vec<Doc>, InventoryError> {
    parse_documents_budgeted(text, display, MAX_ALIAS_REPLAYS)
}

/// [`parse_documents`] allowing at most `alias_replays` replayed alias events (a share of
/// the file's budget when the file is parsed in runs, see `split`).
pub(crate) fn parse_documents_budgeted(
    text: &str,
    display: &Path,
    alias_replays: usize,
) -> Result<Vec<Doc>, InventoryError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parsed = serde_saphyr::from_str_multiple_with_options::<Spanned<RawDoc>, Vec<_>>(
        text,
        options(text.len(), alias_replays),
    );
    match parsed {
        Ok(docs) => Ok(docs
            .into_iter()
            .map(|d| Doc {
                line: d.referenced.line(),
                value: d.value.value,
                item_lines: d.value.item_lines,
            })
            .collect()),
        Err(err) => {
            if let Some(line) = template_line(text) {
                return Err(InventoryError::new(
                    display,
                    line,
                    "looks like a Helm template; render it first \
                     (helm template … | meshplan check -f -)",
                ));
            }
            let line = err.location().map(|l| l.line()).unwrap_or(0);
            Err(InventoryError::new(
                display,
                line,
                describe(&err.to_string()),
            ))
        }
    }
}

/// Checks that `bytes` are UTF-8, naming the line of the first invalid byte otherwise.
pub(crate) fn utf8<'a>(bytes: &'a [u8], display: &Path) -> Result<&'a str, InventoryError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = bytes.get(..e.valid_up_to()).unwrap_or(&[]);
        let line = 1 + valid.iter().filter(|&&b| b == b'\n').count() as u64;
        InventoryError::new(
            display,
            line,
            format!(
                "not UTF-8 text (invalid byte at offset {}); manifests must be UTF-8",
                e.valid_up_to()
            ),
        )
    })
}

/// Parser options: kubectl-compatible scalars, no snippets, budgets scaled to the input.
fn options(len: usize, alias_replays: usize) -> serde_saphyr::Options {
    // Every event and node costs at least one byte of input (document markers a few), so
    // these caps never refuse a legitimate file; the real guards are depth and alias replay.
    // Alias replays count as events too, so their own cap is added on top.
    let per_byte = len.saturating_add(64);
    let events = per_byte.saturating_add(alias_replays);
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: None,
            max_events: events,
            max_nodes: events,
            max_documents: per_byte,
            max_depth: MAX_DEPTH,
            // One anchor merged into hundreds of mappings is normal; the replay cap below
            // is what bounds a bomb, so the aliases-per-anchor heuristic only misfires.
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: alias_replays,
        },
        // sigs.k8s.io/yaml (go-yaml v2) reads `0755` as octal 493, so kubectl does too.
        legacy_octal_numbers: true,
        // Snippets would quote the offending source, which may be a Secret value.
        with_snippet: false,
    }
}

/// A parser message for users: one line, without the location (reported separately) or
/// advice about the library's options, with budget breaches explained.
fn describe(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let core = first.split(" at line ").next().unwrap_or(first);
    let core = core
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(core);
    if core.contains("budget breached") || core.contains("limit exceeded") {
        format!(
            "invalid YAML: refused by the parser's safety limits ({core}); nesting is limited \
             to {MAX_DEPTH} levels and alias expansion to {MAX_ALIAS_REPLAYS} events"
        )
    } else {
        format!("invalid YAML: {core}")
    }
}

/// Line of the first `{{` that sits where YAML structure is, i.e. not inside a comment,
/// a quoted string or a block scalar. Only consulted once parsing failed, so template
/// text inside real manifests (alertmanager rules, ApplicationSet templates) never fires.
pub(crate) fn template_line(text: &str) -> Option<u64> {
    if !text.contains("{{") {
        return None;
    }
    // Indentation of the key that opened a block scalar (`|` / `>`); deeper lines are text.
    let mut block_indent: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        if let Some(open) = block_indent {
            if line.trim().is_empty() || indent > open {
                continue;
            }
            block_indent = None;
        }
        // Most lines have neither a template nor a block scalar: skip the careful scan.
        if !line.contains("{{") && !line.contains(['|', '>']) {
            continue;
        }
        let code = strip_comment_and_quotes(line);
        if code.contains("{{") {
            return Some(i as u64 + 1);
        }
        if opens_block_scalar(&code) {
            block_indent = Some(indent);
        }
    }
    None
}

/// The line with comments removed and quoted strings blanked out.
fn strip_comment_and_quotes(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for c in line.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => {
                if c == '#' && prev.is_whitespace() {
                    break;
                }
                // A quote only opens a string at the start of a scalar, not inside `it's`.
                if (c == '"' || c == '\'') && (prev.is_whitespace() || "[{,:-".contains(prev)) {
                    quote = Some(c);
                } else {
                    out.push(c);
                }
            }
        }
        prev = c;
    }
    out
}

/// Whether the (comment-free) line ends with a block scalar indicator like `key: |-`.
fn opens_block_scalar(code: &str) -> bool {
    let trimmed = code.trim_end();
    let Some(pos) = trimmed.rfind(['|', '>']) else {
        return false;
    };
    let (before, indicator) = trimmed.split_at(pos);
    let flags_ok = indicator
        .chars()
        .skip(1)
        .all(|c| c == '-' || c == '+' || c.is_ascii_digit());
    let before = before.trim_end();
    flags_ok && (before.is_empty() || before.ends_with(':') || before.ends_with('-'))
}

/// A document read as JSON, remembering where each top-level `items` element starts so
/// that `kind: List` expansion can give every item its own line.
struct RawDoc {
    value: Value,
    item_lines: Vec<u64>,
}

impl<'de> Deserialize<'de> for RawDoc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawDocVisitor)
    }
}

struct RawDocVisitor;

impl<'de> Visitor<'de> for RawDocVisitor {
    type Value = RawDoc;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDoc, A::Error> {
        let mut out = Map::new();
        let mut item_lines = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = if key == "items" {
                let items: ItemsField = map.next_value()?;
                item_lines = items.lines;
                items.value
            } else {
                map.next_value::<Value>()?
            };
            out.insert(key, value);
        }
        Ok(RawDoc {
            value: Value::Object(out),
            item_lines,
        })
    }

    // Anything else is not an object; kept as a value so the caller can name the problem.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawDoc, A::Error> {
        let value = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(scalar(value))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawDoc, E> {
        Ok(scalar(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDoc, E> {
        Ok(scalar(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDoc, E> {
        Ok(scalar(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDoc, E> {
        Ok(scalar(Value::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDoc, E> {
        Ok(scalar(Value::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawDoc, E> {
        Ok(scalar(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<RawDoc, E> {
        Ok(scalar(Value::Null))
    }
}

fn scalar(value: Value) -> RawDoc {
    RawDoc {
        value,
        item_lines: Vec::new(),
    }
}

/// The value of a top-level `items` key: a sequence keeps each element's line.
struct ItemsField {
    value: Value,
    lines: Vec<u64>,
}

impl<'de> Deserialize<'de> for ItemsField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemsVisitor)
    }
}

struct ItemsVisitor;

impl ItemsVisitor {
    fn plain(value: Value) -> ItemsField {
        ItemsField {
            value,
            lines: Vec::new(),
        }
    }
}

impl<'de> Visitor<'de> for ItemsVisitor {
    type Value = ItemsField;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ItemsField, A::Error> {
        let mut values = Vec::new();
        let mut lines = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            lines.push(item.referenced.line());
            values.push(item.value);
        }
        Ok(ItemsField {
            value: Value::Array(values),
            lines,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ItemsField, A::Error> {
        Value::deserialize(de::value::MapAccessDeserializer::new(map)).map(Self::plain)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ItemsField, E> {
        Ok(Self::plain(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ItemsField, E> {
        Ok(Self::plain(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ItemsField, E> {
        Ok(Self::plain(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ItemsField, E> {
        Ok(Self::plain(Value::from(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ItemsField, E> {
        Ok(Self::plain(Value::from(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<ItemsField, E> {
        Ok(Self::plain(Value::Null))
    }
    fn visit_none<E: de::Error>(self) -> Result<ItemsField, E> {
        Ok(Self::plain(Value::Null))
    }
}
