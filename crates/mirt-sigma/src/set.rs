//! Using a compiled [`RuleSet`]: scanning events, explaining matches,
//! feeding correlations.

use crate::correlation::{CorrelationEngine, CorrelationInput, EventRef, RuleRef};
use crate::matcher::{self, Explained, Hit, Scratch};
use crate::rules::Rules;
use crate::ruleset::{RuleSet, Skipped};
use compact_str::CompactString;
use mirt_core::{Event, Value};
use std::cell::RefCell;

/// Counts describing a rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RuleSetStats {
    /// Detection rules compiled.
    pub detection_rules: usize,
    /// Correlation rules resolved.
    pub correlation_rules: usize,
    /// Filters read.
    pub filters: usize,
    /// Documents not loaded because of an error.
    pub failed: usize,
    /// Rules left out on purpose (`--status`, `--min-level`).
    pub excluded: usize,
    /// Buckets (distinct channel and event id routes) of the matcher.
    pub buckets: usize,
    /// Whether the compiled set came from the rule-set cache.
    pub from_cache: bool,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

impl RuleSet {
    /// The loaded rules; [`Hit::rule`] and correlation findings index it.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The documents that were not loaded, with reasons.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Whether the set was loaded from the rule-set cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// Why the rule-set cache could not be read or written, if so (the set
    /// was then compiled as usual).
    pub fn cache_problem(&self) -> Option<&str> {
        self.cache_problem.as_deref()
    }

    /// Stores the automata this set's matcher built (for the routes the
    /// events met) beside the cached set, so that the next hunt with these
    /// rules reads them instead of building them again. Does nothing
    /// without a cache, or when nothing was built. Returns, in words, why
    /// a stored automaton could not be used or the file not written, if so
    /// (for a warning: the hunt's results are not affected).
    pub fn store_automata(&self) -> Option<String> {
        let (dir, key) = self.automata_home.as_ref()?;
        let automata = self.matcher.automata();
        let (stored, new) = automata.to_store()?;
        let written = crate::cache::automata::write(dir, key, stored, &new).err();
        match (automata.problem(), written) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        }
    }

    /// Counts of what was loaded.
    pub fn stats(&self) -> RuleSetStats {
        let detection = self.rules.detections();
        RuleSetStats {
            detection_rules: detection,
            correlation_rules: self.rules.len() - detection,
            filters: self.filters,
            failed: self.skipped.iter().filter(|s| s.is_failure()).count(),
            excluded: self.skipped.iter().filter(|s| !s.is_failure()).count(),
            buckets: self.matcher.bucket_count(),
            from_cache: self.from_cache,
        }
    }

    /// Assembles the matcher's buckets now rather than when the first
    /// event needs each (for a steady latency, or to measure the set).
    pub fn prepare(&self) {
        self.matcher.build_all();
    }

    /// Appends the rules that match `event` to `hits`, using `scratch` as
    /// working memory (keep one per thread). Allocates nothing unless a
    /// rule matches.
    pub fn scan_with(&self, event: &Event, scratch: &mut Scratch, hits: &mut Vec<Hit>) {
        self.matcher.scan(event, scratch, hits);
    }

    /// How many rules match `event`, with a scratch of its own.
    #[cfg(test)]
    pub(crate) fn scan_with_fresh(&self, event: &Event) -> usize {
        let mut hits = Vec::new();
        self.scan_with(event, &mut Scratch::new(), &mut hits);
        hits.len()
    }

    /// The rules that match `event` (with a per-thread scratch).
    pub fn scan(&self, event: &Event) -> Vec<Hit> {
        let mut hits = Vec::new();
        SCRATCH.with(|s| self.scan_with(event, &mut s.borrow_mut(), &mut hits));
        hits
    }

    /// The rules that match `event`, each with the fields whose values made
    /// it match (cheaper than [`RuleSet::scan`] then
    /// [`RuleSet::matched_fields`] for every hit).
    pub fn scan_explained(&self, event: &Event) -> Vec<Explained> {
        let mut out = Vec::new();
        SCRATCH.with(|s| {
            self.matcher
                .scan_explained(event, &mut s.borrow_mut(), &mut out)
        });
        out
    }

    /// The fields whose values made `hit` match, with those values.
    pub fn matched_fields(&self, event: &Event, hit: &Hit) -> Vec<(String, Value)> {
        SCRATCH.with(|s| self.matcher.matched_fields(event, hit, &mut s.borrow_mut()))
    }

    /// A correlation engine for this rule set.
    pub fn correlation_engine(&self) -> CorrelationEngine {
        CorrelationEngine::new(self.correlations.clone())
    }

    /// Whether any loaded correlation uses the rule of `hit`.
    pub fn feeds_correlation(&self, hit: &Hit) -> bool {
        self.correlations
            .iter()
            .any(|c| c.inputs.contains(&RuleRef::Rule(hit.rule)))
    }

    /// What `event`, matched by `hit`, contributes to each correlation
    /// that uses the rule: the group-by values and the value field, read
    /// through the rule's field mapping and the correlation's aliases.
    pub fn correlation_inputs(&self, event: &Event, hit: &Hit) -> Vec<CorrelationInput> {
        let Some(time) = event.timestamp else {
            return Vec::new();
        };
        let source = &self.matcher.variants[hit.variant as usize].source;
        let read = |name: &str| -> Option<CompactString> {
            let v = matcher::field_value(event, source.field(name))?;
            match v {
                Value::Null => None,
                Value::Str(s) => Some(s),
                other => Some(CompactString::from(other.to_text())),
            }
        };
        let mut out = Vec::new();
        for (ci, c) in self.correlations.iter().enumerate() {
            let positions: Vec<u8> = c
                .inputs
                .iter()
                .enumerate()
                .filter(|(_, r)| **r == RuleRef::Rule(hit.rule))
                .map(|(p, _)| p as u8)
                .collect();
            let Some(&first) = positions.first() else {
                continue;
            };
            let group = c
                .group_by
                .iter()
                .map(|g| read(c.group_field(g, first as usize)))
                .collect();
            let value = c.condition.as_ref().and_then(|cond| {
                let parts: Vec<CompactString> =
                    cond.fields.iter().filter_map(|f| read(f)).collect();
                (!parts.is_empty() && parts.len() == cond.fields.len())
                    .then(|| parts.join("\u{1f}").into())
            });
            out.push(CorrelationInput {
                correlation: ci as u32,
                positions,
                time,
                group,
                value,
                event: EventRef::of(event),
            });
        }
        out
    }
}
