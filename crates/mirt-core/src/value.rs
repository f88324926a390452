//! A typed field value, as parsers find it.

use compact_str::CompactString;
use serde::{Serialize, Serializer};
use std::fmt;

/// A field value: what an EVTX `EventData` item, a log column or a JSON
/// member holds, with its type kept. Strings up to 24 bytes are stored inline.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (an empty or absent item that is still named).
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer too large for `Int`, or one the source typed as unsigned.
    UInt(u64),
    /// A floating point number.
    Float(f64),
    /// Text.
    Str(CompactString),
    /// Several values under one name (unnamed `Data` items, JSON arrays).
    List(Vec<Value>),
}

impl Value {
    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an unsigned integer, if it is a non-negative integer or a
    /// string holding one (decimal or `0x` hex).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::UInt(n) => Some(*n),
            Value::Int(n) => u64::try_from(*n).ok(),
            Value::Str(s) => parse_u64(s),
            _ => None,
        }
    }

    /// The value as a signed integer, if it is one or a string holding one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::UInt(n) => i64::try_from(*n).ok(),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The value as a float, if it is numeric or a string holding a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(n) => Some(*n as f64),
            Value::UInt(n) => Some(*n as f64),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as it would be printed in a CSV cell or a table: strings
    /// bare, numbers in decimal, lists joined with `|`.
    pub fn to_text(&self) -> String {
        self.to_string()
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(n) => write!(f, "{n}"),
            Value::UInt(n) => write!(f, "{n}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => f.write_str(s),
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(n) => s.serialize_i64(*n),
            Value::UInt(n) => s.serialize_u64(*n),
            Value::Float(x) => s.serialize_f64(*x),
            Value::Str(v) => s.serialize_str(v),
            Value::List(items) => s.collect_seq(items),
        }
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(CompactString::from(v))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(CompactString::from(v))
    }
}

impl From<CompactString> for Value {
    fn from(v: CompactString) -> Self {
        Value::Str(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::UInt(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<&serde_json::Value> for Value {
    fn from(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::UInt(u)
                } else {
                    Value::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(items) => Value::List(items.iter().map(Value::from).collect()),
            // Objects are flattened by the parsers; one that reaches here is kept as text.
            serde_json::Value::Object(_) => Value::Str(v.to_string().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_from_strings() {
        assert_eq!(Value::from("0x10").as_u64(), Some(16));
        assert_eq!(Value::from(" 42 ").as_u64(), Some(42));
        assert_eq!(Value::from("x").as_u64(), None);
        assert_eq!(Value::Int(-1).as_u64(), None);
        assert_eq!(Value::UInt(7).as_i64(), Some(7));
    }

    #[test]
    fn lists_print_joined() {
        let v = Value::List(vec![Value::from("a"), Value::Int(2), Value::Null]);
        assert_eq!(v.to_text(), "a|2|");
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"["a",2,null]"#);
    }
}
