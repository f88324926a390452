//! From typed rules to per-source programs ([`Variant`]s) that the matcher
//! indexes; filters are merged into the rules they name first.

pub(crate) mod pattern;
mod pcre;
pub(crate) mod program;
pub(crate) mod rule;
pub(crate) mod transform;

use crate::ast::{Detection, Filter, LogSource, Rule, Search};
use crate::condition::{Condition, OfTarget};
use crate::mapping::{Mapping, Source};
pub use rule::Placeholders;
use std::sync::Arc;

/// A rule compiled for one event source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Variant {
    /// Index of the rule in the rule set.
    pub rule: u32,
    /// The source, for translating field names of correlations (stored
    /// once per source in the rule-set cache, not per variant).
    #[serde(skip)]
    pub source: Arc<Source>,
    /// Not stored in the rule-set cache, which stores the matcher's
    /// catalog (the same programs, numbered) instead.
    #[serde(skip, default = "rule::NamedProgram::empty")]
    pub program: rule::NamedProgram,
    /// Lower-cased channel, `None` for any.
    pub channel: Option<String>,
    /// Event ids, empty for any.
    pub event_ids: Vec<u32>,
    pub provider: Option<String>,
}

/// Why a rule yields no variants: unmapped (with the mapping's hint) or
/// invalid (line and reason).
pub(crate) enum CompileError {
    Unmapped(String),
    Invalid(u64, String),
}

/// Compiles `rule` for every source its log source maps to.
pub(crate) fn compile_rule(
    index: u32,
    rule: &Rule,
    mapping: &Mapping,
    placeholders: &Placeholders,
) -> Result<Vec<Variant>, CompileError> {
    let sources = mapping
        .resolve(&rule.logsource)
        .map_err(CompileError::Unmapped)?;
    let mut variants = Vec::new();
    let mut excluded = Vec::new();
    for source in sources {
        let program = rule::compile(&rule.detection, source, placeholders)
            .map_err(|(l, r)| CompileError::Invalid(l, r))?;
        let required = rule::required_event_ids(&program);
        let event_ids: Vec<u32> = match (&required, source.event_ids.is_empty()) {
            (None, _) => source.event_ids.clone(),
            (Some(req), true) => req.iter().copied().collect(),
            (Some(req), false) => source
                .event_ids
                .iter()
                .copied()
                .filter(|e| req.contains(e))
                .collect(),
        };
        if event_ids.is_empty() && required.is_some() {
            excluded.push(source.channel.clone().unwrap_or_else(|| "*".into()));
            continue;
        }
        variants.push(Variant {
            rule: index,
            source: Arc::clone(source),
            program,
            channel: source.channel.as_ref().map(|c| c.to_lowercase()),
            event_ids,
            provider: source.provider.clone(),
        });
    }
    if variants.is_empty() {
        return Err(CompileError::Invalid(
            0,
            format!(
                "the EventID values of the detection never occur in the mapped sources ({})",
                excluded.join(", ")
            ),
        ));
    }
    Ok(variants)
}

/// Whether `filter` applies to `rule` (by reference and log source).
pub(crate) fn filter_applies(filter: &Filter, rule: &Rule) -> bool {
    let targeted = filter.rules.iter().any(|r| {
        rule.meta.id.as_deref() == Some(r.as_str())
            || rule.meta.name.as_deref() == Some(r.as_str())
            || rule.meta.title == *r
    });
    targeted && logsource_within(&rule.logsource, &filter.logsource)
}

fn logsource_within(rule: &LogSource, filter: &LogSource) -> bool {
    let ok = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
    ok(&filter.category, &rule.category)
        && ok(&filter.product, &rule.product)
        && ok(&filter.service, &rule.service)
}

/// Adds the filter's searches to the rule under private names and ANDs its
/// condition to each of the rule's conditions.
pub(crate) fn apply_filter(detection: &mut Detection, filter: &Filter, n: usize) {
    let prefix = format!("__filter{n}__");
    let mut filter_cond = Condition::Or(filter.detection.conditions.clone());
    rename(&mut filter_cond, &prefix);
    for (name, search) in &filter.detection.searches {
        let search: Search = search.clone();
        detection.searches.push((format!("{prefix}{name}"), search));
    }
    for cond in &mut detection.conditions {
        *cond = Condition::And(vec![cond.clone(), filter_cond.clone()]);
    }
}

fn rename(c: &mut Condition, prefix: &str) {
    match c {
        Condition::Search(s) => *s = format!("{prefix}{s}"),
        Condition::And(items) | Condition::Or(items) => {
            items.iter_mut().for_each(|i| rename(i, prefix))
        }
        Condition::Not(inner) => rename(inner, prefix),
        Condition::Of(_, target) => {
            *target = match target {
                OfTarget::Them => OfTarget::Pattern(format!("{prefix}*")),
                OfTarget::Pattern(p) => OfTarget::Pattern(format!("{prefix}{p}")),
            }
        }
    }
}
