//! YAML documents as a small tree that keeps the line of every node, so that
//! an error in a rule can name the line it is on.
//!
//! Plain scalars are resolved with the YAML 1.2 core schema (so `2024-01-02`
//! stays a string, as Sigma's JSON schemas expect); quoted scalars are
//! always strings.

mod fast;
mod reference;

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// Text.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>),
}

/// A value and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Yaml,
    /// 1-based line of the node in its file.
    pub line: u64,
}

impl Node {
    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Yaml::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Yaml::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A scalar as text, the way a key or a Sigma value is read: strings as
    /// they are, numbers and booleans in their canonical form.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Yaml::Str(s) => Some(s.clone()),
            Yaml::Int(n) => Some(n.to_string()),
            Yaml::Float(f) => Some(f.to_string()),
            Yaml::Bool(b) => Some(b.to_string()),
            Yaml::Null => Some(String::new()),
            _ => None,
        }
    }

    /// The JSON equivalent, for schema validation (keys become strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Yaml::Null => J::Null,
            Yaml::Bool(b) => J::Bool(*b),
            Yaml::Int(n) => J::from(*n),
            Yaml::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Yaml::Str(s) => J::String(s.clone()),
            Yaml::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Yaml::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.scalar_text().unwrap_or_default(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A short name of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Yaml::Null => "null",
            Yaml::Bool(_) => "boolean",
            Yaml::Int(_) => "integer",
            Yaml::Float(_) => "number",
            Yaml::Str(_) => "string",
            Yaml::Seq(_) => "list",
            Yaml::Map(_) => "map",
        }
    }
}

/// YAML that could not be read, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Reads every document of a YAML stream. Empty documents are skipped.
///
/// The hand-written reader of the block-style subset Sigma rules use goes
/// first; whatever it is not sure of goes to yaml-rust2, which stays the
/// reference (and the source of every error).
pub fn load_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let docs = match fast::load(text) {
        Some(docs) => docs,
        None => reference::load(text)?,
    };
    Ok(without_empty(docs))
}

/// [`load_documents`] through yaml-rust2 only: the reference the fast
/// reader is tested against.
#[doc(hidden)]
pub fn load_documents_reference(text: &str) -> Result<Vec<Node>, YamlError> {
    reference::load(text).map(without_empty)
}

/// [`load_documents`] through the fast reader only, `None` where it gives
/// up (for the differential tests and benchmarks).
#[doc(hidden)]
pub fn load_documents_fast(text: &str) -> Option<Vec<Node>> {
    fast::load(text).map(without_empty)
}

fn without_empty(docs: Vec<Node>) -> Vec<Node> {
    docs.into_iter().filter(|d| d.value != Yaml::Null).collect()
}

/// YAML 1.2 core schema resolution of a plain scalar.
fn resolve_plain(text: String) -> Yaml {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Yaml::Null,
        "true" | "True" | "TRUE" => return Yaml::Bool(true),
        "false" | "False" | "FALSE" => return Yaml::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Yaml::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Yaml::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Yaml::Float(f64::NAN),
        _ => {}
    }
    if let Some(n) = parse_int(&text) {
        return Yaml::Int(n);
    }
    if is_float(&text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Yaml::Float(f);
    }
    Yaml::Str(text)
}

fn parse_int(s: &str) -> Option<i64> {
    if let Some(hex) = s.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_float(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits(int) && digits(f) && !(int.is_empty() && f.is_empty()),
        None => !int.is_empty() && digits(int),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok && (frac.is_some() || exponent.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_follow_the_core_schema() {
        let docs = load_documents(
            "a: 2024-01-02\nb: 4688\nc: '4688'\nd: 0x10\ne: null\nf: true\ng: 1.5\nh: ~\ni: yes\n",
        )
        .unwrap();
        let d = &docs[0];
        assert_eq!(d.get("a").unwrap().value, Yaml::Str("2024-01-02".into()));
        assert_eq!(d.get("b").unwrap().value, Yaml::Int(4688));
        assert_eq!(d.get("c").unwrap().value, Yaml::Str("4688".into()));
        assert_eq!(d.get("d").unwrap().value, Yaml::Int(16));
        assert_eq!(d.get("e").unwrap().value, Yaml::Null);
        assert_eq!(d.get("f").unwrap().value, Yaml::Bool(true));
        assert_eq!(d.get("g").unwrap().value, Yaml::Float(1.5));
        assert_eq!(d.get("h").unwrap().value, Yaml::Null);
        assert_eq!(d.get("i").unwrap().value, Yaml::Str("yes".into()));
    }

    #[test]
    fn lines_and_documents() {
        let docs = load_documents("title: a\n---\ntitle: b\nlist:\n  - x\n  - y\n").unwrap();
        assert_eq!(docs.len(), 2);
        let list = docs[1].get("list").unwrap().as_seq().unwrap();
        assert_eq!(list[1].line, 6);
        assert_eq!(docs[1].get("title").unwrap().line, 3);
    }

    #[test]
    fn anchors_and_errors() {
        let docs = load_documents("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(docs[0].get("b").unwrap().as_seq().unwrap().len(), 2);
        let err = load_documents("a: [1, 2\n").unwrap_err();
        assert!(err.line >= 1, "{err}");
        let dup = load_documents("a: 1\na: 2\n").unwrap_err();
        assert!(dup.message.contains("duplicate key"), "{dup}");
    }

    #[test]
    fn json_view() {
        let docs = load_documents("a: [1, 'x', null]\n5: b\n").unwrap();
        assert_eq!(
            docs[0].to_json(),
            serde_json::json!({"a": [1, "x", null], "5": "b"})
        );
    }
}
