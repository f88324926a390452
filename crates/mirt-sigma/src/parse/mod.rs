//! YAML documents to the typed AST: each document is first checked against
//! the specification's JSON schema, then read into [`Document`].

mod correlation;
mod detection;

use crate::ast::{Document, Filter, FilterTargets, LogSource, Meta, Related, Rule, Status};
use crate::error::{Error, Result};
use crate::schema::{self, SchemaKind};
use crate::yaml::{self, Node};
use std::path::Path;

pub(crate) use detection::parse_detection;

/// A parsed document and the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The document.
    pub document: Document,
    /// 1-based line of its first key.
    pub line: u64,
}

/// Parses every document of a rule file's text. Each document is parsed
/// on its own: one bad document does not hide the others.
pub fn parse_text(text: &str, path: &Path) -> Vec<Result<Parsed>> {
    let docs = match yaml::load_documents(text) {
        Ok(docs) => docs,
        Err(e) => {
            return vec![Err(Error::Yaml {
                path: path.to_path_buf(),
                line: e.line,
                column: e.column,
                message: e.message,
            })];
        }
    };
    docs.iter()
        .map(|node| {
            parse_document(node, path).map(|document| Parsed {
                document,
                line: node.line,
            })
        })
        .collect()
}

/// Parses one YAML document.
pub fn parse_document(node: &Node, path: &Path) -> Result<Document> {
    let invalid = |line: u64, reason: String| Error::Invalid {
        path: path.to_path_buf(),
        line,
        reason,
    };
    if node.as_map().is_none() {
        return Err(invalid(
            node.line,
            format!("a rule must be a map, not a {}", node.type_name()),
        ));
    }
    if node.get("action").is_some() {
        return Err(invalid(
            node.line,
            "'action' collections (global/reset/repeat) are Sigma 1.0 syntax, not part of Sigma 2.1"
                .into(),
        ));
    }
    let kind = if node.get("correlation").is_some() {
        SchemaKind::Correlation
    } else if node.get("filter").is_some() && node.get("detection").is_none() {
        SchemaKind::Filter
    } else {
        SchemaKind::Rule
    };
    schema::validate(kind, &node.to_json()).map_err(|v| Error::Schema {
        path: path.to_path_buf(),
        line: node.line,
        schema: kind.file_name(),
        reason: v.to_string(),
    })?;
    let known: &[&str] = match kind {
        SchemaKind::Rule => &["logsource", "detection"],
        SchemaKind::Correlation => &["correlation"],
        SchemaKind::Filter => &["logsource", "filter"],
    };
    let meta = parse_meta(node, known);
    match kind {
        SchemaKind::Rule => {
            let detection_node = node
                .get("detection")
                .ok_or_else(|| invalid(node.line, "the rule has no detection".into()))?;
            Ok(Document::Rule(Rule {
                meta,
                logsource: parse_logsource(node.get("logsource")),
                detection: parse_detection(detection_node, &[]).map_err(|(l, r)| invalid(l, r))?,
            }))
        }
        SchemaKind::Correlation => correlation::parse(node, meta).map_err(|(l, r)| invalid(l, r)),
        SchemaKind::Filter => parse_filter(node, meta).map_err(|(l, r)| invalid(l, r)),
    }
}

fn text(node: &Node, key: &str) -> Option<String> {
    node.get(key).and_then(Node::scalar_text)
}

fn texts(node: &Node, key: &str) -> Vec<String> {
    match node.get(key) {
        Some(n) => match n.as_seq() {
            Some(items) => items.iter().filter_map(Node::scalar_text).collect(),
            None => n.scalar_text().into_iter().collect(),
        },
        None => Vec::new(),
    }
}

const META_KEYS: &[&str] = &[
    "title",
    "id",
    "name",
    "related",
    "taxonomy",
    "status",
    "description",
    "license",
    "author",
    "references",
    "date",
    "modified",
    "fields",
    "falsepositives",
    "level",
    "tags",
    "scope",
];

fn parse_meta(node: &Node, structural: &[&str]) -> Meta {
    let related = node
        .get("related")
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| {
            Some(Related {
                id: text(r, "id")?,
                kind: text(r, "type")?,
            })
        })
        .collect();
    let custom = node
        .as_map()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            let key = k.scalar_text()?;
            let skip = META_KEYS.contains(&key.as_str()) || structural.contains(&key.as_str());
            (!skip).then(|| (key, v.to_json()))
        })
        .collect();
    Meta {
        title: text(node, "title").unwrap_or_default(),
        id: text(node, "id"),
        name: text(node, "name"),
        related,
        taxonomy: text(node, "taxonomy"),
        status: text(node, "status").and_then(|s| Status::parse(&s)),
        description: text(node, "description"),
        license: text(node, "license"),
        author: text(node, "author"),
        references: texts(node, "references"),
        date: text(node, "date"),
        modified: text(node, "modified"),
        fields: texts(node, "fields"),
        falsepositives: texts(node, "falsepositives"),
        level: text(node, "level").and_then(|l| l.parse().ok()),
        tags: texts(node, "tags"),
        scope: texts(node, "scope"),
        custom,
    }
}

/// Log-source values are compared in lower case, as the specification
/// writes them.
fn parse_logsource(node: Option<&Node>) -> LogSource {
    let get = |k: &str| node.and_then(|n| text(n, k)).map(|s| s.to_lowercase());
    LogSource {
        category: get("category"),
        product: get("product"),
        service: get("service"),
        definition: node.and_then(|n| text(n, "definition")),
    }
}

fn parse_filter(node: &Node, meta: Meta) -> Result<Document, (u64, String)> {
    let filter = node
        .get("filter")
        .ok_or((node.line, "the filter has no 'filter' section".to_string()))?;
    let rules: FilterTargets = match filter.get("rules") {
        Some(n) => match n.as_seq() {
            Some(items) => items.iter().filter_map(Node::scalar_text).collect(),
            None => n.scalar_text().into_iter().collect(),
        },
        None => return Err((filter.line, "the filter names no 'rules'".into())),
    };
    let detection = parse_detection(filter, &["rules"])?;
    Ok(Document::Filter(Filter {
        meta,
        logsource: parse_logsource(node.get("logsource")),
        rules,
        detection,
    }))
}
