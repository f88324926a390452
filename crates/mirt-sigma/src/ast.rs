//! The typed form of Sigma documents: detection rules, correlation rules
//! and filters, as the specification 2.1 defines them.

use crate::condition::Condition;
use crate::modifier::Modifier;
use crate::value::SigmaString;
use mirt_core::Severity;
use serde::Serialize;
use std::collections::BTreeMap;

/// One YAML document of a rule file.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    /// A detection rule.
    Rule(Rule),
    /// A correlation (meta) rule.
    Correlation(Correlation),
    /// A filter that adds exclusions to other rules.
    Filter(Filter),
}

impl Document {
    /// The common metadata.
    pub fn meta(&self) -> &Meta {
        match self {
            Document::Rule(r) => &r.meta,
            Document::Correlation(c) => &c.meta,
            Document::Filter(f) => &f.meta,
        }
    }
}

/// The status of a rule.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Considered stable.
    Stable,
    /// Mostly stable.
    Test,
    /// New, may be noisy.
    Experimental,
    /// Replaced by another rule.
    Deprecated,
    /// Cannot be used as it is.
    Unsupported,
}

impl Status {
    /// The name as the specification writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Test => "test",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
            Status::Unsupported => "unsupported",
        }
    }

    /// Parses a status name.
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "stable" => Status::Stable,
            "test" => Status::Test,
            "experimental" => Status::Experimental,
            "deprecated" => Status::Deprecated,
            "unsupported" => Status::Unsupported,
            _ => return None,
        })
    }
}

/// How a rule relates to another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Related {
    /// The other rule's id.
    pub id: String,
    /// `derived`, `obsolete`, `merged`, `renamed` or `similar`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// Metadata shared by rules, correlations and filters.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// Title (mandatory).
    pub title: String,
    /// Globally unique id.
    pub id: Option<String>,
    /// Unique name, used to refer to the rule from correlations.
    pub name: Option<String>,
    /// Related rules.
    pub related: Vec<Related>,
    /// Taxonomy (`sigma` when absent).
    pub taxonomy: Option<String>,
    /// Status.
    pub status: Option<Status>,
    /// Description.
    pub description: Option<String>,
    /// SPDX license id.
    pub license: Option<String>,
    /// Author(s).
    pub author: Option<String>,
    /// References.
    pub references: Vec<String>,
    /// Creation date, `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Last modification date.
    pub modified: Option<String>,
    /// Fields an analyst wants to see.
    pub fields: Vec<String>,
    /// Known false positives.
    pub falsepositives: Vec<String>,
    /// Level.
    pub level: Option<Severity>,
    /// Tags (`attack.t1059.001`, `attack.execution`, ...).
    pub tags: Vec<String>,
    /// Intended scopes.
    pub scope: Vec<String>,
    /// Any other top-level attributes, kept as JSON.
    pub custom: BTreeMap<String, serde_json::Value>,
}

impl Meta {
    /// The id, or the name, or the title: how the rule is named in output.
    pub fn reference(&self) -> &str {
        self.id
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.title)
    }
}

/// The log source a rule or filter applies to.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
pub struct LogSource {
    /// A group of products (`process_creation`, `webserver`).
    pub category: Option<String>,
    /// A product (`windows`, `linux`).
    pub product: Option<String>,
    /// A subset of a product's logs (`security`, `sshd`).
    pub service: Option<String>,
    /// Free text for readers.
    pub definition: Option<String>,
}

impl std::fmt::Display for LogSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        for (k, v) in [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        if parts.is_empty() {
            f.write_str("(empty logsource)")
        } else {
            f.write_str(&parts.join(" "))
        }
    }
}

/// A detection rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Metadata.
    pub meta: Meta,
    /// Where its events come from.
    pub logsource: LogSource,
    /// What it looks for.
    pub detection: Detection,
}

/// The `detection` section: named searches and the condition over them.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Search identifiers and their definitions, in source order.
    pub searches: Vec<(String, Search)>,
    /// The condition(s); several are linked with OR.
    pub conditions: Vec<Condition>,
}

impl Detection {
    /// The search named `name`.
    pub fn search(&self, name: &str) -> Option<&Search> {
        self.searches
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }
}

/// A search identifier's definition.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// Maps of field tests: each map is an AND of its tests, the maps are
    /// linked with OR (a single map is a list of one).
    Selections(Vec<Selection>),
    /// A list of values searched for anywhere in the event (OR).
    Keywords(Vec<SigmaValue>),
}

/// A map of field tests, all of which must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The tests.
    pub tests: Vec<FieldTest>,
}

/// `field|modifier|...: value(s)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldTest {
    /// The field; `None` for a keyword test (`'|all': [...]`).
    pub field: Option<String>,
    /// Modifiers, in the order written.
    pub modifiers: Vec<Modifier>,
    /// The values (OR, or AND with `all`).
    pub values: Vec<SigmaValue>,
    /// Line of the test in its file.
    pub line: u64,
}

/// A value in a detection.
#[derive(Debug, Clone, PartialEq)]
pub enum SigmaValue {
    /// A string, with its wildcards and placeholders.
    Str(SigmaString),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// `null`: the field is absent or empty.
    Null,
}

/// A correlation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    /// Metadata.
    pub meta: Meta,
    /// The kind of correlation.
    pub kind: CorrelationType,
    /// Referenced rules (ids or names), in order.
    pub rules: Vec<String>,
    /// `alias -> (rule name -> field)`.
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    /// Fields whose values must be equal across the events.
    pub group_by: Vec<String>,
    /// The time window in seconds.
    pub timespan: u64,
    /// The condition (absent for temporal correlations: all rules).
    pub condition: Option<CorrelationCondition>,
    /// Whether the referenced rules also report on their own.
    pub generate: bool,
}

/// The seven correlation types of Sigma 2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationType {
    /// Number of events.
    EventCount,
    /// Number of distinct values of a field.
    ValueCount,
    /// All rules matched within the timespan, in any order.
    Temporal,
    /// All rules matched within the timespan, in the given order.
    TemporalOrdered,
    /// Sum of a numeric field.
    ValueSum,
    /// Average of a numeric field.
    ValueAvg,
    /// Share (in percent) of the events that carry a value of the field.
    ValuePercentile,
}

impl CorrelationType {
    /// The name as the specification writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationType::EventCount => "event_count",
            CorrelationType::ValueCount => "value_count",
            CorrelationType::Temporal => "temporal",
            CorrelationType::TemporalOrdered => "temporal_ordered",
            CorrelationType::ValueSum => "value_sum",
            CorrelationType::ValueAvg => "value_avg",
            CorrelationType::ValuePercentile => "value_percentile",
        }
    }
}

/// A comparison in a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompareOp {
    /// Greater than.
    Gt,
    /// Greater or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less or equal.
    Lte,
    /// Equal.
    Eq,
    /// Not equal.
    Neq,
}

impl CompareOp {
    /// Whether `value op limit` holds.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            CompareOp::Gt => value > limit,
            CompareOp::Gte => value >= limit,
            CompareOp::Lt => value < limit,
            CompareOp::Lte => value <= limit,
            CompareOp::Eq => value == limit,
            CompareOp::Neq => value != limit,
        }
    }
}

/// `condition:` of a correlation: comparisons linked with AND, and the
/// field the value correlations aggregate.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorrelationCondition {
    /// The comparisons.
    pub comparisons: Vec<(CompareOp, f64)>,
    /// The field(s) of `value_*` correlations.
    pub fields: Vec<String>,
}

impl CorrelationCondition {
    /// Whether `value` satisfies every comparison.
    pub fn holds(&self, value: f64) -> bool {
        self.comparisons
            .iter()
            .all(|(op, limit)| op.holds(value, *limit))
    }

    /// Whether the condition can only turn from false to true as a count
    /// grows (lower bounds only), so that it may fire as soon as it holds.
    pub fn is_lower_bound(&self) -> bool {
        self.comparisons
            .iter()
            .all(|(op, _)| matches!(op, CompareOp::Gt | CompareOp::Gte))
    }
}

/// A filter document.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Metadata (title, id, ...).
    pub meta: Meta,
    /// Rules must have this log source for the filter to apply.
    pub logsource: LogSource,
    /// The rules it applies to.
    pub rules: FilterTargets,
    /// The searches and condition; the condition is ANDed to the rule's.
    pub detection: Detection,
}

/// Which rules a filter applies to: their ids, names or titles.
pub type FilterTargets = Vec<String>;
