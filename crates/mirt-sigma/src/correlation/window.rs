//! The time-window algorithms of the seven correlation types, over the
//! time-ordered inputs of one group.
//!
//! Conditions with lower bounds only (`gt`, `gte`) use a sliding window and
//! fire as soon as they hold (then start afresh); conditions with an upper
//! bound, averages and percentiles are judged over windows anchored at the
//! first event of each window, when the window closes. The working state
//! holds at most the events of one timespan.

use super::CompiledCorrelation;
use crate::ast::{CorrelationCondition, CorrelationType};
use compact_str::CompactString;
use mirt_core::Timestamp;
use std::collections::HashMap;

/// One input as the windows see it.
pub(crate) struct Item<'a> {
    pub time: Timestamp,
    pub positions: &'a [u8],
    pub value: Option<&'a CompactString>,
}

/// A window that satisfied the condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fired {
    /// Indices of the items that formed it.
    pub items: Vec<usize>,
    /// The count, sum, average or percentage that satisfied the condition.
    pub value: f64,
    /// The field value a percentile finding is about.
    pub label: Option<String>,
}

fn within(a: Timestamp, b: Timestamp, span: u64) -> bool {
    let d = b.as_nanosecond() - a.as_nanosecond();
    d <= i128::from(span) * 1_000_000_000
}

/// Runs correlation `c` over `items` (sorted by time).
pub(crate) fn run(c: &CompiledCorrelation, items: &[Item<'_>]) -> Vec<Fired> {
    let n = c.inputs.len();
    let default_all = CorrelationCondition {
        comparisons: vec![(crate::ast::CompareOp::Gte, n as f64)],
        fields: Vec::new(),
    };
    let cond = c
        .condition
        .as_ref()
        .filter(|c| !c.comparisons.is_empty())
        .unwrap_or(&default_all);
    let span = c.timespan;
    match c.kind {
        CorrelationType::TemporalOrdered => ordered(items, n, span),
        CorrelationType::ValuePercentile => percentile(items, span, cond),
        kind => {
            let metric = || Metric::new(kind);
            if cond.is_lower_bound() && kind != CorrelationType::ValueAvg {
                sliding(items, span, cond, metric)
            } else {
                anchored(items, span, cond, metric)
            }
        }
    }
}

/// Incremental count, distinct count, sum or average over a window.
struct Metric {
    kind: CorrelationType,
    count: usize,
    sum: f64,
    numbers: usize,
    distinct: HashMap<CompactString, usize>,
    positions: HashMap<u8, usize>,
}

impl Metric {
    fn new(kind: CorrelationType) -> Metric {
        Metric {
            kind,
            count: 0,
            sum: 0.0,
            numbers: 0,
            distinct: HashMap::new(),
            positions: HashMap::new(),
        }
    }

    fn change(&mut self, item: &Item<'_>, add: bool) {
        let step = |n: &mut usize| if add { *n += 1 } else { *n -= 1 };
        step(&mut self.count);
        if let Some(v) = item.value {
            let e = self.distinct.entry(v.clone()).or_insert(0);
            step(e);
            if *e == 0 {
                self.distinct.remove(v);
            }
            if let Ok(x) = v.trim().parse::<f64>() {
                self.sum += if add { x } else { -x };
                step(&mut self.numbers);
            }
        }
        for p in item.positions {
            let e = self.positions.entry(*p).or_insert(0);
            step(e);
            if *e == 0 {
                self.positions.remove(p);
            }
        }
    }

    fn value(&self) -> f64 {
        match self.kind {
            CorrelationType::EventCount => self.count as f64,
            CorrelationType::ValueCount => self.distinct.len() as f64,
            CorrelationType::ValueSum => self.sum,
            CorrelationType::ValueAvg if self.numbers == 0 => f64::NAN,
            CorrelationType::ValueAvg => self.sum / self.numbers as f64,
            _ => self.positions.len() as f64,
        }
    }
}

fn sliding(
    items: &[Item<'_>],
    span: u64,
    cond: &CorrelationCondition,
    metric: impl Fn() -> Metric,
) -> Vec<Fired> {
    let mut fired = Vec::new();
    let mut m = metric();
    let mut start = 0;
    for i in 0..items.len() {
        m.change(&items[i], true);
        while !within(items[start].time, items[i].time, span) {
            m.change(&items[start], false);
            start += 1;
        }
        let value = m.value();
        if cond.holds(value) {
            fired.push(Fired {
                items: (start..=i).collect(),
                value,
                label: None,
            });
            m = metric();
            start = i + 1;
        }
    }
    fired
}

fn anchored(
    items: &[Item<'_>],
    span: u64,
    cond: &CorrelationCondition,
    metric: impl Fn() -> Metric,
) -> Vec<Fired> {
    let mut fired = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut m = metric();
        let mut end = start;
        while end < items.len() && within(items[start].time, items[end].time, span) {
            m.change(&items[end], true);
            end += 1;
        }
        let value = m.value();
        if cond.holds(value) {
            fired.push(Fired {
                items: (start..end).collect(),
                value,
                label: None,
            });
        }
        start = end;
    }
    fired
}

/// The share (percent) of each value among the events of a window; fires
/// for each value whose share satisfies the condition.
fn percentile(items: &[Item<'_>], span: u64, cond: &CorrelationCondition) -> Vec<Fired> {
    let mut fired = Vec::new();
    let mut start = 0;
    while start < items.len() {
        let mut end = start;
        let mut by_value: Vec<(Option<&CompactString>, Vec<usize>)> = Vec::new();
        while end < items.len() && within(items[start].time, items[end].time, span) {
            match by_value.iter_mut().find(|(v, _)| *v == items[end].value) {
                Some((_, list)) => list.push(end),
                None => by_value.push((items[end].value, vec![end])),
            }
            end += 1;
        }
        let total = (end - start) as f64;
        for (value, list) in by_value {
            let share = 100.0 * list.len() as f64 / total;
            if cond.holds(share) {
                fired.push(Fired {
                    items: list,
                    value: share,
                    label: value.map(|v| v.to_string()),
                });
            }
        }
        start = end;
    }
    fired
}

/// Inputs in the given order within the timespan: keeps, for each prefix
/// of the rule list, the latest-starting chain that completes it.
fn ordered(items: &[Item<'_>], n: usize, span: u64) -> Vec<Fired> {
    let mut fired = Vec::new();
    let mut chains: Vec<Option<(Timestamp, Vec<usize>)>> = vec![None; n];
    for (i, item) in items.iter().enumerate() {
        for chain in chains.iter_mut() {
            if chain
                .as_ref()
                .is_some_and(|(s, _)| !within(*s, item.time, span))
            {
                *chain = None;
            }
        }
        let mut positions: Vec<u8> = item.positions.to_vec();
        positions.sort_unstable_by(|a, b| b.cmp(a));
        for k in positions {
            let k = k as usize;
            if k == 0 {
                chains[0] = Some((item.time, vec![i]));
            } else if let Some((s, evs)) = chains[k - 1].clone() {
                let mut evs = evs;
                evs.push(i);
                chains[k] = Some((s, evs));
            }
        }
        if let Some((_, evs)) = chains[n - 1].take() {
            fired.push(Fired {
                items: evs,
                value: n as f64,
                label: None,
            });
            chains.iter_mut().for_each(|c| *c = None);
        }
    }
    fired
}
