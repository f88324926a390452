//! Validation of rule documents against the JSON schemas of the Sigma
//! specification 2.1 (shipped verbatim under `schemas/`, public domain).
//!
//! The validator implements the JSON Schema 2020-12 keywords these schemas
//! use (`type`, `required`, `properties`, `additionalProperties`, `items`,
//! `anyOf`, `oneOf`, `allOf`, `if`/`then`/`else`, `const`, `enum`,
//! `minLength`/`maxLength`, `pattern`, `minItems`/`maxItems`,
//! `uniqueItems`, `minimum`/`maximum`); other keywords are annotations, as
//! the standard says (`format` included: the specification calls a UUID
//! `id` recommended, not mandatory).

use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Which of the specification's schemas a document is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// `sigma-detection-rule-schema.json`.
    Rule,
    /// `sigma-correlation-rules-schema.json`.
    Correlation,
    /// `sigma-filters-schema.json`.
    Filter,
}

impl SchemaKind {
    /// The schema's file name in the specification.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::Rule => "sigma-detection-rule-schema.json",
            SchemaKind::Correlation => "sigma-correlation-rules-schema.json",
            SchemaKind::Filter => "sigma-filters-schema.json",
        }
    }

    fn schema(self) -> &'static Schema {
        static RULE: OnceLock<Schema> = OnceLock::new();
        static CORRELATION: OnceLock<Schema> = OnceLock::new();
        static FILTER: OnceLock<Schema> = OnceLock::new();
        let (cell, text) = match self {
            SchemaKind::Rule => (
                &RULE,
                include_str!("../schemas/sigma-detection-rule-schema.json"),
            ),
            SchemaKind::Correlation => (
                &CORRELATION,
                include_str!("../schemas/sigma-correlation-rules-schema.json"),
            ),
            SchemaKind::Filter => (
                &FILTER,
                include_str!("../schemas/sigma-filters-schema.json"),
            ),
        };
        // The schemas are part of this crate and tested to parse.
        cell.get_or_init(|| {
            Schema::compile(&serde_json::from_str(text).unwrap_or(Value::Bool(true)))
        })
    }
}

/// A schema with its keywords looked up once: a document's every node is
/// checked against several schema objects, and looking their keywords up
/// by name each time cost more than the checks.
enum Schema {
    /// `true`, or anything that is neither a boolean nor an object.
    Any,
    /// `false`.
    Nothing,
    Object(Box<Keywords>),
}

/// The keywords of a schema object that the validator implements (see the
/// module documentation), as they were written.
#[derive(Default)]
struct Keywords {
    /// `type`, when a string or an array (the allowed type names).
    types: Option<Vec<String>>,
    constant: Option<Value>,
    /// `enum`, when an array.
    options: Option<Vec<Value>>,
    max_length: Option<u64>,
    min_length: Option<u64>,
    /// `pattern`, and its regex (`None` if it does not compile).
    pattern: Option<(String, Option<Regex>)>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
    items: Option<Schema>,
    /// `required`, when an array (its strings).
    required: Option<Vec<String>>,
    /// `properties`, when an object.
    properties: Option<HashMap<String, Schema>>,
    additional: Option<Schema>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    all_of: Option<Vec<Schema>>,
    any_of: Option<Vec<Schema>>,
    one_of: Option<Vec<Schema>>,
    condition: Option<Schema>,
    then: Option<Schema>,
    otherwise: Option<Schema>,
}

impl Schema {
    fn compile(v: &Value) -> Schema {
        match v {
            Value::Bool(false) => Schema::Nothing,
            Value::Object(o) => Schema::Object(Box::new(Keywords::compile(o))),
            _ => Schema::Any,
        }
    }
}

impl Keywords {
    fn compile(o: &Map<String, Value>) -> Keywords {
        let sub = |k: &str| o.get(k).map(Schema::compile);
        let list = |k: &str| match o.get(k) {
            Some(Value::Array(items)) => Some(items.iter().map(Schema::compile).collect()),
            _ => None,
        };
        let strings = |v: &Vec<Value>| {
            v.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        };
        Keywords {
            types: match o.get("type") {
                Some(Value::String(t)) => Some(vec![t.clone()]),
                Some(Value::Array(list)) => Some(strings(list)),
                _ => None,
            },
            constant: o.get("const").cloned(),
            options: match o.get("enum") {
                Some(Value::Array(options)) => Some(options.clone()),
                _ => None,
            },
            max_length: o.get("maxLength").and_then(Value::as_u64),
            min_length: o.get("minLength").and_then(Value::as_u64),
            pattern: o
                .get("pattern")
                .and_then(Value::as_str)
                .map(|p| (p.to_string(), Regex::new(p).ok())),
            min_items: o.get("minItems").and_then(Value::as_u64),
            max_items: o.get("maxItems").and_then(Value::as_u64),
            unique_items: o.get("uniqueItems") == Some(&Value::Bool(true)),
            items: sub("items"),
            required: match o.get("required") {
                Some(Value::Array(required)) => Some(strings(required)),
                _ => None,
            },
            properties: o.get("properties").and_then(Value::as_object).map(|p| {
                p.iter()
                    .map(|(k, v)| (k.clone(), Schema::compile(v)))
                    .collect()
            }),
            additional: sub("additionalProperties"),
            minimum: o.get("minimum").and_then(Value::as_f64),
            maximum: o.get("maximum").and_then(Value::as_f64),
            all_of: list("allOf"),
            any_of: list("anyOf"),
            one_of: list("oneOf"),
            condition: sub("if"),
            then: sub("then"),
            otherwise: sub("else"),
        }
    }
}

/// Why a document does not satisfy a schema: the JSON pointer of the
/// offending value and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer into the document (`/detection/selection`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "at {at}: {}", self.message)
    }
}

/// Checks `doc` against the specification's schema of `kind`; the first
/// violation found is returned.
pub fn validate(kind: SchemaKind, doc: &Value) -> Result<(), SchemaViolation> {
    check(kind.schema(), doc, "")
}

thread_local! {
    /// Set while alternatives of `anyOf`/`oneOf`/`if` are tried: their
    /// failures are expected and their messages not worth building.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn fail<T>(pointer: &str, message: impl FnOnce() -> String) -> Result<T, SchemaViolation> {
    if QUIET.with(|q| q.get()) {
        return Err(SchemaViolation {
            pointer: String::new(),
            message: String::new(),
        });
    }
    Err(SchemaViolation {
        pointer: pointer.to_string(),
        message: message(),
    })
}

/// Whether `value` satisfies `schema`, without building messages.
fn passes(schema: &Schema, value: &Value, at: &str) -> bool {
    let was = QUIET.with(|q| q.replace(true));
    let ok = check(schema, value, at).is_ok();
    QUIET.with(|q| q.set(was));
    ok
}

fn check(schema: &Schema, value: &Value, at: &str) -> Result<(), SchemaViolation> {
    let schema = match schema {
        Schema::Any => return Ok(()),
        Schema::Nothing => return fail(at, || "no value is allowed here".into()),
        Schema::Object(s) => s,
    };
    if let Some(t) = &schema.types {
        check_type(t, value, at)?;
    }
    if let Some(c) = &schema.constant
        && c != value
    {
        return fail(at, || format!("must be {c}"));
    }
    if let Some(options) = &schema.options
        && !options.contains(value)
    {
        return fail(at, || {
            format!("must be one of {}", Value::Array(options.clone()))
        });
    }
    match value {
        Value::String(s) => check_string(schema, s, at)?,
        Value::Array(items) => check_array(schema, items, at)?,
        Value::Object(map) => check_object(schema, map, at)?,
        Value::Number(n) => check_number(schema, n.as_f64().unwrap_or(f64::NAN), at)?,
        _ => {}
    }
    check_combinators(schema, value, at)
}

fn check_type(allowed: &[String], value: &Value, at: &str) -> Result<(), SchemaViolation> {
    let ok = allowed.iter().any(|t| match t.as_str() {
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    });
    if ok {
        Ok(())
    } else {
        fail(at, || {
            format!(
                "{} is not of type {}",
                describe(value),
                allowed.join(" or ")
            )
        })
    }
}

fn describe(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut}...")
    } else {
        text
    }
}

fn check_string(schema: &Keywords, s: &str, at: &str) -> Result<(), SchemaViolation> {
    let len = s.chars().count() as u64;
    if let Some(max) = schema.max_length
        && len > max
    {
        return fail(at, || format!("longer than {max} characters ({len})"));
    }
    if let Some(min) = schema.min_length
        && len < min
    {
        return fail(at, || format!("shorter than {min} characters"));
    }
    if let Some((pattern, Some(re))) = &schema.pattern
        && !re.is_match(s)
    {
        return fail(at, || format!("{s:?} does not match the pattern {pattern}"));
    }
    Ok(())
}

fn check_array(schema: &Keywords, items: &[Value], at: &str) -> Result<(), SchemaViolation> {
    let n = items.len() as u64;
    if let Some(min) = schema.min_items
        && n < min
    {
        return fail(at, || format!("needs at least {min} items"));
    }
    if let Some(max) = schema.max_items
        && n > max
    {
        return fail(at, || format!("allows at most {max} items"));
    }
    if schema.unique_items {
        for (i, item) in items.iter().enumerate() {
            if items[..i].contains(item) {
                return fail(&format!("{at}/{i}"), || {
                    format!("duplicate item {}", describe(item))
                });
            }
        }
    }
    if let Some(item_schema) = &schema.items {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &pointer(at, &i.to_string()))?;
        }
    }
    Ok(())
}

/// The pointer of a member of `at`; not built while alternatives are
/// tried quietly (nothing reads it then).
fn pointer(at: &str, member: &str) -> String {
    if QUIET.with(|q| q.get()) {
        return String::new();
    }
    format!("{at}/{}", member.replace('~', "~0").replace('/', "~1"))
}

fn check_object(
    schema: &Keywords,
    map: &Map<String, Value>,
    at: &str,
) -> Result<(), SchemaViolation> {
    if let Some(required) = &schema.required {
        for key in required {
            if !map.contains_key(key) {
                return fail(at, || format!("the required property {key:?} is missing"));
            }
        }
    }
    for (key, value) in map {
        let here = pointer(at, key);
        match schema.properties.as_ref().and_then(|p| p.get(key)) {
            Some(prop) => check(prop, value, &here)?,
            None => {
                if let Some(extra) = &schema.additional {
                    check(extra, value, &here)?;
                }
            }
        }
    }
    Ok(())
}

fn check_number(schema: &Keywords, n: f64, at: &str) -> Result<(), SchemaViolation> {
    if let Some(min) = schema.minimum
        && n < min
    {
        return fail(at, || format!("{n} is less than {min}"));
    }
    if let Some(max) = schema.maximum
        && n > max
    {
        return fail(at, || format!("{n} is greater than {max}"));
    }
    Ok(())
}

fn check_combinators(schema: &Keywords, value: &Value, at: &str) -> Result<(), SchemaViolation> {
    if let Some(all) = &schema.all_of {
        for sub in all {
            check(sub, value, at)?;
        }
    }
    if let Some(any) = &schema.any_of
        && !any.iter().any(|sub| passes(sub, value, at))
    {
        return Err(alternatives_failed(any, value, at));
    }
    if let Some(one) = &schema.one_of {
        match one.iter().filter(|sub| passes(sub, value, at)).count() {
            1 => {}
            0 => return Err(alternatives_failed(one, value, at)),
            _ => return fail(at, || "matches more than one of the allowed forms".into()),
        }
    }
    if let Some(condition) = &schema.condition {
        let branch = if passes(condition, value, at) {
            &schema.then
        } else {
            &schema.otherwise
        };
        if let Some(branch) = branch {
            check(branch, value, at)?;
        }
    }
    Ok(())
}

fn alternatives_failed(alternatives: &[Schema], value: &Value, at: &str) -> SchemaViolation {
    if QUIET.with(|q| q.get()) {
        return SchemaViolation {
            pointer: String::new(),
            message: String::new(),
        };
    }
    let first = alternatives.first().and_then(|a| check(a, value, at).err());
    let detail = first.map(|e| format!(" (e.g. {e})")).unwrap_or_default();
    SchemaViolation {
        pointer: at.to_string(),
        message: format!("does not match any of the allowed forms{detail}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shipped_schemas_parse() {
        for kind in [
            SchemaKind::Rule,
            SchemaKind::Correlation,
            SchemaKind::Filter,
        ] {
            assert!(
                matches!(kind.schema(), Schema::Object(_)),
                "{}",
                kind.file_name()
            );
        }
    }

    #[test]
    fn table_of_rule_documents() {
        let base = || {
            json!({"title": "t", "logsource": {"product": "windows"},
                   "detection": {"sel": {"a": "b"}, "condition": "sel"}})
        };
        let cases: Vec<(&str, Value, Option<&str>)> = vec![
            ("minimal rule", base(), None),
            (
                "missing title",
                {
                    let mut d = base();
                    d.as_object_mut().unwrap().remove("title");
                    d
                },
                Some("\"title\" is missing"),
            ),
            (
                "bad level",
                {
                    let mut d = base();
                    d["level"] = json!("severe");
                    d
                },
                Some("/level"),
            ),
            (
                "bad date",
                {
                    let mut d = base();
                    d["date"] = json!("2024/01/02");
                    d
                },
                Some("does not match the pattern"),
            ),
            (
                "bad tag",
                {
                    let mut d = base();
                    d["tags"] = json!(["Attack T1000"]);
                    d
                },
                Some("/tags/0"),
            ),
            (
                "duplicate tag",
                {
                    let mut d = base();
                    d["tags"] = json!(["attack.t1", "attack.t1"]);
                    d
                },
                Some("duplicate"),
            ),
            (
                "condition not a string",
                {
                    let mut d = base();
                    d["detection"]["condition"] = json!(1);
                    d
                },
                Some("/detection/condition"),
            ),
            (
                "selection a bare string",
                {
                    let mut d = base();
                    d["detection"]["sel"] = json!("x");
                    d
                },
                Some("/detection/sel"),
            ),
            (
                "title too long",
                {
                    let mut d = base();
                    d["title"] = json!("x".repeat(257));
                    d
                },
                Some("longer than 256"),
            ),
            (
                "id need not be a uuid",
                {
                    let mut d = base();
                    d["id"] = json!("my-rule");
                    d
                },
                None,
            ),
        ];
        for (name, doc, want) in cases {
            let got = validate(SchemaKind::Rule, &doc);
            match (want, got) {
                (None, Ok(())) => {}
                (Some(w), Err(e)) => assert!(e.to_string().contains(w), "{name}: {e}"),
                (w, g) => panic!("{name}: wanted {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn correlation_and_filter_documents() {
        let corr = json!({"title": "c", "correlation": {"type": "event_count", "rules": ["a"],
            "group-by": ["x"], "timespan": "1h", "condition": {"gte": 3}}});
        assert_eq!(validate(SchemaKind::Correlation, &corr), Ok(()));
        let bad = json!({"title": "c", "correlation": {"type": "event_count", "rules": ["a"], "timespan": "1h"}});
        let err = validate(SchemaKind::Correlation, &bad).unwrap_err();
        assert!(err.message.contains("condition"), "{err}");
        let unknown = json!({"title": "c", "correlation": {"type": "near", "rules": ["a"], "timespan": "1h"}});
        assert!(validate(SchemaKind::Correlation, &unknown).is_err());
        let filter = json!({"title": "f", "logsource": {"product": "windows"},
            "filter": {"rules": ["r"], "selection": {"User": "x"}, "condition": "not selection"}});
        assert_eq!(validate(SchemaKind::Filter, &filter), Ok(()));
        let empty_rules = json!({"title": "f", "logsource": {}, "filter": {"rules": [], "selection": {}, "condition": "x"}});
        assert!(validate(SchemaKind::Filter, &empty_rules).is_err());
    }
}
