//! Correlation rules: their references resolved to loaded rules, the
//! inputs that matching events give them, and the engine that turns those
//! inputs into findings.

mod engine;
mod window;

use crate::ast::{Correlation, CorrelationCondition, CorrelationType};
use crate::ruleset::{RuleInfo, RuleKind, Skipped};
use compact_str::CompactString;
use mirt_core::{Event, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use engine::{CorrelationEngine, CorrelationFinding};

/// What a correlation refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum RuleRef {
    /// A detection rule (index in the rule set).
    Rule(u32),
    /// Another correlation (index in the correlation list).
    Correlation(u32),
}

/// A correlation ready to run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct CompiledCorrelation {
    /// Its entry in the rule set.
    pub rule: u32,
    pub kind: CorrelationType,
    /// The referenced rules, in the order written.
    pub inputs: Vec<RuleRef>,
    /// Per input: its name (for aliases).
    pub input_names: Vec<Option<String>>,
    pub group_by: Vec<String>,
    /// alias -> input name -> field.
    pub aliases: BTreeMap<String, BTreeMap<String, String>>,
    pub timespan: u64,
    pub condition: Option<CorrelationCondition>,
    pub generate: bool,
}

impl CompiledCorrelation {
    /// The field to read for group-by `g` in events of input `i`.
    pub(crate) fn group_field<'a>(&'a self, g: &'a str, i: usize) -> &'a str {
        self.aliases
            .get(g)
            .and_then(|per_rule| {
                let name = self.input_names[i].as_deref()?;
                per_rule.get(name)
            })
            .map_or(g, String::as_str)
    }
}

/// Where an event that took part in a finding is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRef {
    /// Event time (UTC).
    #[serde(serialize_with = "ser_time")]
    pub timestamp: Option<Timestamp>,
    /// Host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computer: Option<CompactString>,
    /// Channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<CompactString>,
    /// Event id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<u32>,
    /// Record id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_id: Option<u64>,
    /// File.
    #[serde(serialize_with = "ser_path")]
    pub path: Arc<Path>,
    /// Byte offset in the file.
    pub offset: u64,
}

fn ser_time<S: serde::Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(&mirt_core::time::Rfc3339(*t)),
        None => s.serialize_none(),
    }
}

fn ser_path<S: serde::Serializer>(p: &Arc<Path>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

impl EventRef {
    /// The reference of `event`.
    pub fn of(event: &Event) -> EventRef {
        EventRef {
            timestamp: event.timestamp,
            computer: event.computer.clone(),
            channel: event.channel.clone(),
            event_id: event.event_id,
            record_id: event.record_id,
            path: Arc::clone(&event.source.path),
            offset: event.source.offset,
        }
    }
}

/// What one matching event contributes to one correlation.
#[derive(Debug, Clone)]
pub struct CorrelationInput {
    pub(crate) correlation: u32,
    /// Positions of the matched rule among the correlation's inputs.
    pub(crate) positions: Vec<u8>,
    pub(crate) time: Timestamp,
    pub(crate) group: Box<[Option<CompactString>]>,
    pub(crate) value: Option<CompactString>,
    pub(crate) event: EventRef,
}

/// Resolves the references of `correlations` to loaded rules and earlier
/// correlations, appends a [`RuleInfo`] for each, and records those that
/// cannot be resolved.
pub(crate) fn resolve(
    correlations: Vec<(PathBuf, u64, Correlation)>,
    infos: &mut Vec<RuleInfo>,
    skipped: &mut Vec<Skipped>,
    selected: impl Fn(&crate::ast::Meta) -> bool,
) -> Vec<CompiledCorrelation> {
    let mut out: Vec<CompiledCorrelation> = Vec::new();
    let mut pending = correlations;
    // Correlations may refer to correlations defined later in the file:
    // resolve in rounds until nothing changes.
    loop {
        let before = pending.len();
        let mut still = Vec::new();
        for (path, line, c) in pending {
            match refs(&c, infos, &out) {
                Some((inputs, names)) => {
                    let index = infos.len() as u32;
                    infos.push(RuleInfo {
                        meta: c.meta.clone(),
                        logsource: None,
                        path,
                        line,
                        kind: RuleKind::Correlation,
                        report: true,
                        filters: Vec::new(),
                    });
                    out.push(CompiledCorrelation {
                        rule: index,
                        kind: c.kind,
                        inputs,
                        input_names: names,
                        group_by: c.group_by,
                        aliases: c.aliases,
                        timespan: c.timespan,
                        condition: c.condition,
                        generate: c.generate,
                    });
                }
                None => still.push((path, line, c)),
            }
        }
        pending = still;
        if pending.is_empty() || pending.len() == before {
            break;
        }
    }
    for (path, line, c) in pending {
        let missing: Vec<&str> = c
            .rules
            .iter()
            .filter(|r| find(r, infos, &out).is_none())
            .map(String::as_str)
            .collect();
        skipped.push(Skipped {
            path,
            line: Some(line),
            id: c.meta.id.clone(),
            title: Some(c.meta.title.clone()),
            class: "unresolved",
            reason: format!(
                "the correlation refers to rules that are not loaded: {}",
                missing.join(", ")
            ),
        });
    }
    // Chained correlations: an inner correlation reports only when asked.
    let inner: Vec<u32> = out
        .iter()
        .flat_map(|c| c.inputs.iter())
        .filter_map(|r| match r {
            RuleRef::Correlation(i) => Some(*i),
            RuleRef::Rule(_) => None,
        })
        .collect();
    for i in inner {
        let rule = out[i as usize].rule as usize;
        infos[rule].report = out[i as usize].generate;
    }
    for c in &out {
        let info = &mut infos[c.rule as usize];
        if !selected(&info.meta) {
            info.report = false;
        }
    }
    out
}

fn find(reference: &str, infos: &[RuleInfo], done: &[CompiledCorrelation]) -> Option<RuleRef> {
    let hit = |m: &crate::ast::Meta| {
        m.id.as_deref() == Some(reference) || m.name.as_deref() == Some(reference)
    };
    if let Some(i) = infos
        .iter()
        .position(|r| r.kind == RuleKind::Detection && hit(&r.meta))
    {
        return Some(RuleRef::Rule(i as u32));
    }
    done.iter()
        .position(|c| hit(&infos[c.rule as usize].meta))
        .map(|i| RuleRef::Correlation(i as u32))
}

type Resolved = (Vec<RuleRef>, Vec<Option<String>>);

fn refs(c: &Correlation, infos: &[RuleInfo], done: &[CompiledCorrelation]) -> Option<Resolved> {
    let mut inputs = Vec::new();
    let mut names = Vec::new();
    for r in &c.rules {
        let found = find(r, infos, done)?;
        let meta = match found {
            RuleRef::Rule(i) => &infos[i as usize].meta,
            RuleRef::Correlation(i) => &infos[done[i as usize].rule as usize].meta,
        };
        names.push(meta.name.clone().or_else(|| Some(r.clone())));
        inputs.push(found);
    }
    Some((inputs, names))
}
