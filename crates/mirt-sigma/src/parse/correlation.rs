//! The `correlation` section of a correlation rule.

use crate::ast::{CompareOp, Correlation, CorrelationCondition, CorrelationType, Document, Meta};
use crate::yaml::{Node, Yaml};
use std::collections::BTreeMap;

type ParseResult<T> = Result<T, (u64, String)>;

pub(super) fn parse(node: &Node, meta: Meta) -> ParseResult<Document> {
    let section = node
        .get("correlation")
        .filter(|n| n.as_map().is_some())
        .ok_or((node.line, "'correlation' must be a map".to_string()))?;
    let kind_node = section
        .get("type")
        .ok_or((section.line, "the correlation has no 'type'".to_string()))?;
    let kind = match kind_node.as_str().unwrap_or_default() {
        "event_count" => CorrelationType::EventCount,
        "value_count" => CorrelationType::ValueCount,
        "temporal" => CorrelationType::Temporal,
        "temporal_ordered" => CorrelationType::TemporalOrdered,
        "value_sum" => CorrelationType::ValueSum,
        "value_avg" => CorrelationType::ValueAvg,
        "value_percentile" => CorrelationType::ValuePercentile,
        other => {
            return Err((
                kind_node.line,
                format!("unknown correlation type {other:?}"),
            ));
        }
    };
    let rules = strings(section.get("rules"));
    if rules.is_empty() {
        return Err((section.line, "the correlation names no rules".into()));
    }
    let timespan_node = section.get("timespan").ok_or((
        section.line,
        "the correlation has no 'timespan'".to_string(),
    ))?;
    let timespan = parse_timespan(&timespan_node.scalar_text().unwrap_or_default())
        .map_err(|e| (timespan_node.line, e))?;
    let condition = match section.get("condition") {
        Some(c) => Some(parse_condition(c)?),
        None => None,
    };
    check_requirements(kind, condition.as_ref(), section.line)?;
    let group_by = strings(section.get("group-by"));
    let generate = matches!(
        node.get("generate")
            .or(section.get("generate"))
            .map(|n| &n.value),
        Some(Yaml::Bool(true))
    );
    Ok(Document::Correlation(Correlation {
        meta,
        kind,
        rules,
        aliases: parse_aliases(section.get("aliases"))?,
        group_by,
        timespan,
        condition,
        generate,
    }))
}

fn strings(node: Option<&Node>) -> Vec<String> {
    match node {
        Some(n) => match n.as_seq() {
            Some(items) => items.iter().filter_map(Node::scalar_text).collect(),
            None => n.scalar_text().into_iter().collect(),
        },
        None => Vec::new(),
    }
}

/// `30s`, `5m`, `1h`, `7d` (and `1w`, which some tools write) to seconds.
pub(crate) fn parse_timespan(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("timespan {text:?} has no unit (s, m, h, d)"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("timespan {text:?} does not start with a number"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "timespan {text:?}: unknown unit {unit:?} (s, m, h, d)"
            ));
        }
    };
    match n.checked_mul(factor) {
        Some(0) => Err("the timespan must be longer than 0".into()),
        Some(secs) => Ok(secs),
        None => Err(format!("timespan {text:?} is too long")),
    }
}

fn parse_condition(node: &Node) -> ParseResult<CorrelationCondition> {
    let entries = node.as_map().ok_or((
        node.line,
        "the correlation condition must be a map".to_string(),
    ))?;
    let mut cond = CorrelationCondition {
        comparisons: Vec::new(),
        fields: Vec::new(),
    };
    for (key, value) in entries {
        let key_text = key.scalar_text().unwrap_or_default();
        let op = match key_text.as_str() {
            "gt" => CompareOp::Gt,
            "gte" => CompareOp::Gte,
            "lt" => CompareOp::Lt,
            "lte" => CompareOp::Lte,
            "eq" => CompareOp::Eq,
            "neq" => CompareOp::Neq,
            "field" => {
                cond.fields = strings(Some(value));
                continue;
            }
            other => {
                return Err((key.line, format!("unknown correlation condition {other:?}")));
            }
        };
        let limit = match value.value {
            Yaml::Int(n) => n as f64,
            Yaml::Float(f) => f,
            _ => return Err((value.line, format!("'{key_text}' needs a number"))),
        };
        cond.comparisons.push((op, limit));
    }
    Ok(cond)
}

fn check_requirements(
    kind: CorrelationType,
    condition: Option<&CorrelationCondition>,
    line: u64,
) -> ParseResult<()> {
    let temporal = matches!(
        kind,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    match condition {
        None if !temporal => Err((
            line,
            format!("a {} correlation needs a condition", kind.as_str()),
        )),
        Some(c) if c.comparisons.is_empty() && !temporal => Err((
            line,
            "the correlation condition has no comparison (gt, gte, ...)".into(),
        )),
        Some(c) if c.fields.is_empty() && !temporal && kind != CorrelationType::EventCount => {
            Err((
                line,
                format!(
                    "a {} correlation needs 'field' in its condition",
                    kind.as_str()
                ),
            ))
        }
        _ => Ok(()),
    }
}

fn parse_aliases(node: Option<&Node>) -> ParseResult<BTreeMap<String, BTreeMap<String, String>>> {
    let mut aliases = BTreeMap::new();
    let Some(node) = node else {
        return Ok(aliases);
    };
    let entries = node
        .as_map()
        .ok_or((node.line, "'aliases' must be a map".to_string()))?;
    for (alias, per_rule) in entries {
        let map = per_rule.as_map().ok_or((
            per_rule.line,
            "an alias maps rule names to fields".to_string(),
        ))?;
        let fields = map
            .iter()
            .filter_map(|(r, f)| Some((r.scalar_text()?, f.scalar_text()?)))
            .collect();
        aliases.insert(alias.scalar_text().unwrap_or_default(), fields);
    }
    Ok(aliases)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespans() {
        let cases = [
            ("30s", Ok(30)),
            ("5m", Ok(300)),
            ("1h", Ok(3600)),
            ("2d", Ok(172_800)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_timespan(text), want, "{text}");
        }
        for bad in ["10", "h", "5y", "0m", "1.5h"] {
            assert!(parse_timespan(bad).is_err(), "{bad}");
        }
    }
}
