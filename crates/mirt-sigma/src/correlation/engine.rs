//! The correlation engine: collects what matching events contribute to each
//! correlation (one small record per match, not the events), and at the
//! end of the input runs the windows group by group, feeding the findings
//! of inner correlations into the ones that chain them.
//!
//! Evaluating at the end, in time order, is what makes correlations
//! correct across files that are read one after the other (a Security log
//! and a Sysmon log of the same day).

use super::window::{self, Item};
use super::{CompiledCorrelation, CorrelationInput, EventRef, RuleRef};
use crate::ast::CorrelationType;
use compact_str::CompactString;
use mirt_core::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many events are listed per finding; `event_count` has the
/// full number.
pub const MAX_LISTED_EVENTS: usize = 1000;

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationFinding {
    /// Index of the correlation rule in the rule set.
    pub rule: u32,
    /// The correlation type.
    pub kind: CorrelationType,
    /// The `group-by` fields and their values.
    pub group: Vec<(String, Option<String>)>,
    /// Time of the first event.
    #[serde(serialize_with = "ser_time")]
    pub first: Timestamp,
    /// Time of the last event.
    #[serde(serialize_with = "ser_time")]
    pub last: Timestamp,
    /// The count, sum, average or percentage that met the condition.
    pub value: f64,
    /// For `value_percentile`: the value that is rare (or common).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_of: Option<String>,
    /// How many events formed the finding.
    pub event_count: usize,
    /// The events (at most [`MAX_LISTED_EVENTS`]).
    pub events: Vec<EventRef>,
}

fn ser_time<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&mirt_core::time::Rfc3339(*t))
}

/// Collects correlation inputs and evaluates them at the end.
pub struct CorrelationEngine {
    correlations: Vec<CompiledCorrelation>,
    inputs: Vec<Vec<CorrelationInput>>,
}

/// An input with the events it stands for (several for a finding of an
/// inner correlation).
struct Entry {
    time: Timestamp,
    positions: Vec<u8>,
    group: Box<[Option<CompactString>]>,
    value: Option<CompactString>,
    first: Timestamp,
    events: Vec<EventRef>,
    event_count: usize,
}

impl CorrelationEngine {
    pub(crate) fn new(correlations: Vec<CompiledCorrelation>) -> CorrelationEngine {
        let n = correlations.len();
        CorrelationEngine {
            correlations,
            inputs: (0..n).map(|_| Vec::new()).collect(),
        }
    }

    /// Whether there is anything to correlate.
    pub fn is_empty(&self) -> bool {
        self.correlations.is_empty()
    }

    /// Records one input (from [`crate::RuleSet::correlation_inputs`]).
    pub fn push(&mut self, input: CorrelationInput) {
        if let Some(list) = self.inputs.get_mut(input.correlation as usize) {
            list.push(input);
        }
    }

    /// Runs every correlation; findings in time order.
    pub fn finish(self) -> Vec<CorrelationFinding> {
        let CorrelationEngine {
            correlations,
            inputs,
        } = self;
        let mut entries: Vec<Vec<Entry>> = inputs
            .into_iter()
            .map(|list| list.into_iter().map(entry_of_input).collect())
            .collect();
        let mut all = Vec::new();
        for (i, c) in correlations.iter().enumerate() {
            let findings = evaluate(c, std::mem::take(&mut entries[i]));
            // Feed the findings to the correlations that chain this one.
            for (j, later) in correlations.iter().enumerate().skip(i + 1) {
                let positions: Vec<u8> = later
                    .inputs
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| **r == RuleRef::Correlation(i as u32))
                    .map(|(p, _)| p as u8)
                    .collect();
                if positions.is_empty() {
                    continue;
                }
                for f in &findings {
                    entries[j].push(chained(later, &positions, f));
                }
            }
            all.extend(findings);
        }
        all.sort_by_key(|f| (f.first, f.rule));
        all
    }
}

fn entry_of_input(i: CorrelationInput) -> Entry {
    Entry {
        time: i.time,
        first: i.time,
        positions: i.positions,
        group: i.group,
        value: i.value,
        events: vec![i.event],
        event_count: 1,
    }
}

/// A finding of an inner correlation as an input of an outer one: the
/// group values are taken from the inner finding's group by field name.
fn chained(outer: &CompiledCorrelation, positions: &[u8], f: &CorrelationFinding) -> Entry {
    let p = positions[0] as usize;
    let group = outer
        .group_by
        .iter()
        .map(|g| {
            let field = outer.group_field(g, p);
            f.group
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(field))
                .and_then(|(_, v)| v.as_deref().map(CompactString::from))
        })
        .collect();
    Entry {
        time: f.last,
        first: f.first,
        positions: positions.to_vec(),
        group,
        value: None,
        events: f.events.clone(),
        event_count: f.event_count,
    }
}

fn evaluate(c: &CompiledCorrelation, mut entries: Vec<Entry>) -> Vec<CorrelationFinding> {
    entries.sort_by_key(|e| e.time);
    let mut groups: BTreeMap<&[Option<CompactString>], Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        groups.entry(&e.group).or_default().push(i);
    }
    let mut findings = Vec::new();
    for (key, members) in groups {
        let items: Vec<Item<'_>> = members
            .iter()
            .map(|&i| Item {
                time: entries[i].time,
                positions: &entries[i].positions,
                value: entries[i].value.as_ref(),
            })
            .collect();
        for fired in window::run(c, &items) {
            let parts: Vec<&Entry> = fired.items.iter().map(|&k| &entries[members[k]]).collect();
            findings.push(finding(c, key, &parts, fired.value, fired.label));
        }
    }
    findings
}

fn finding(
    c: &CompiledCorrelation,
    key: &[Option<CompactString>],
    parts: &[&Entry],
    value: f64,
    label: Option<String>,
) -> CorrelationFinding {
    let first = parts.iter().map(|e| e.first).min().unwrap_or_default();
    let last = parts.iter().map(|e| e.time).max().unwrap_or_default();
    let mut events = Vec::new();
    for e in parts {
        for ev in &e.events {
            if events.len() < MAX_LISTED_EVENTS {
                events.push(ev.clone());
            }
        }
    }
    CorrelationFinding {
        rule: c.rule,
        kind: c.kind,
        group: c
            .group_by
            .iter()
            .zip(key)
            .map(|(g, v)| (g.clone(), v.as_ref().map(|s| s.to_string())))
            .collect(),
        first,
        last,
        value,
        value_of: label,
        event_count: parts.iter().map(|e| e.event_count).sum(),
        events,
    }
}
