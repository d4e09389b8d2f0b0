//! A second, untyped view of the spec document that only remembers where every node is.
//!
//! Serde deserialization into [`crate::spec::Spec`] keeps the shared model free of location
//! wrappers, so semantic checks and JSON Schema errors need another way to point at the
//! offending value. This tree is built by a location-recording pass over the same YAML and
//! answers "where is `spec.upgrade.waves[1].name`?" in O(depth × width).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A 1-based line and column (0, 0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
}

impl Pos {
    fn from_location(loc: serde_saphyr::Location) -> Pos {
        Pos {
            line: loc.line(),
            column: loc.column(),
        }
    }
}

/// One step of a path into the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A sequence index.
    Index(usize),
}

/// A YAML node and where it is.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where the node's value starts.
    pub pos: Pos,
    /// What it holds.
    pub kind: Kind,
}

/// The shape of a node; scalars keep no value because only positions are needed.
#[derive(Debug, Clone)]
pub enum Kind {
    /// `null`, `~` or an empty value.
    Null,
    /// Any other scalar.
    Scalar,
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping; keys as text, each with the key's own position.
    Map(Vec<(String, Pos, Node)>),
}

impl Node {
    /// The node at `path`, if it exists.
    pub fn get(&self, path: &[Seg<'_>]) -> Option<&Node> {
        let mut node = self;
        for seg in path {
            node = node.child(*seg)?;
        }
        Some(node)
    }

    fn child(&self, seg: Seg<'_>) -> Option<&Node> {
        match (&self.kind, seg) {
            (Kind::Map(entries), Seg::Key(k)) => entries
                .iter()
                .find(|(key, _, _)| key == k)
                .map(|(_, _, n)| n),
            (Kind::Seq(items), Seg::Index(i)) => items.get(i),
            _ => None,
        }
    }

    /// Position of the value at `path`, or of its nearest existing ancestor (a defaulted
    /// field has no node, so the error points at the mapping that omitted it).
    pub fn pos(&self, path: &[Seg<'_>]) -> Pos {
        let mut node = self;
        for seg in path {
            match node.child(*seg) {
                Some(child) => node = child,
                None => break,
            }
        }
        node.pos
    }

    /// Position of the key that introduces `path`'s last segment (for "unknown key" style
    /// errors); falls back to [`Node::pos`].
    pub fn key_pos(&self, path: &[Seg<'_>]) -> Pos {
        if let Some((Seg::Key(last), parent)) = path.split_last()
            && let Some(Node {
                kind: Kind::Map(entries),
                ..
            }) = self.get(parent)
            && let Some((_, key_pos, _)) = entries.iter().find(|(k, _, _)| k == last)
        {
            return *key_pos;
        }
        self.pos(path)
    }

    /// Position for a JSON Pointer such as `/spec/upgrade/waves/0/name` (from jsonschema).
    pub fn pos_for_pointer(&self, pointer: &str) -> Pos {
        let owned: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let mut node = self;
        for raw in &owned {
            let next = match &node.kind {
                Kind::Seq(_) => raw
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| node.child(Seg::Index(i))),
                _ => node.child(Seg::Key(raw)),
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.pos
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Kind>::deserialize(deserializer)?;
        Ok(Node {
            pos: Pos::from_location(spanned.referenced),
            kind: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = Kind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Kind, E> {
        Ok(Kind::Scalar)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        Kind::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Kind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key.value.0, Pos::from_location(key.referenced), value));
        }
        Ok(Kind::Map(entries))
    }
}

/// A mapping key rendered as text, whatever scalar type YAML resolved it to.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText(String::new()))
            }
        }
        deserializer.deserialize_any(V)
    }
}
