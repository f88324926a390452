//! The run summary: detections by rule and level, files and events read,
//! rules loaded and skipped. Printed on stderr, and as JSON with
//! `--summary FILE`.

use crate::style;
use mirt_core::{Problem, Severity};
use mirt_sigma::{RuleSet, RuleSetStats, Skipped};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Default)]
pub struct Tally {
    pub files: u64,
    pub unreadable: u64,
    pub events: u64,
    pub problems: u64,
    pub detections: u64,
    pub by_rule: BTreeMap<u32, u64>,
}

impl Tally {
    pub fn hit(&mut self, rule: u32) {
        self.detections += 1;
        *self.by_rule.entry(rule).or_default() += 1;
    }
}

#[derive(Serialize)]
struct RuleCount<'a> {
    rule_id: Option<&'a str>,
    title: &'a str,
    level: Severity,
    kind: mirt_sigma::RuleKind,
    count: u64,
}

#[derive(Serialize)]
pub struct Summary<'a> {
    files: u64,
    unreadable_files: u64,
    events: u64,
    problems: u64,
    detections: u64,
    by_level: BTreeMap<Severity, u64>,
    by_rule: Vec<RuleCount<'a>>,
    rules: RuleSetStats,
    skipped_rules: Vec<&'a Skipped>,
    unread: &'a [Problem],
}

impl<'a> Summary<'a> {
    pub fn new(t: &Tally, set: &'a RuleSet, unread: &'a [Problem]) -> Summary<'a> {
        let mut by_rule: Vec<RuleCount<'a>> = t
            .by_rule
            .iter()
            .map(|(&r, &count)| {
                let info = &set.rules()[r as usize];
                RuleCount {
                    rule_id: info.meta.id.as_deref(),
                    title: &info.meta.title,
                    level: info.meta.level.unwrap_or(Severity::Informational),
                    kind: info.kind,
                    count,
                }
            })
            .collect();
        by_rule.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(b.count.cmp(&a.count))
                .then(a.title.cmp(b.title))
        });
        let mut by_level = BTreeMap::new();
        for r in &by_rule {
            *by_level.entry(r.level).or_default() += r.count;
        }
        Summary {
            files: t.files,
            unreadable_files: t.unreadable,
            events: t.events,
            problems: t.problems,
            detections: t.detections,
            by_level,
            by_rule,
            rules: set.stats(),
            skipped_rules: set.skipped().iter().filter(|s| s.is_failure()).collect(),
            unread,
        }
    }

    /// The human summary on stderr.
    pub fn print(&self) {
        let s = &self.rules;
        eprintln!(
            "{} {} files read, {} unreadable; {} events; {} problems",
            style::bold("hunt:"),
            self.files,
            self.unreadable_files,
            self.events,
            self.problems
        );
        eprintln!(
            "{} {} detection and {} correlation rules loaded, {} not loaded (--list-skipped), {} left out by --status/--min-level",
            style::bold("rules:"),
            s.detection_rules,
            s.correlation_rules,
            s.failed,
            s.excluded
        );
        let levels: Vec<String> = Severity::ALL
            .iter()
            .rev()
            .filter_map(|l| self.by_level.get(l).map(|n| format!("{n} {l}")))
            .collect();
        let levels = if levels.is_empty() {
            "none".to_string()
        } else {
            levels.join(", ")
        };
        eprintln!(
            "{} {} ({levels})",
            style::bold("detections:"),
            self.detections
        );
        for r in &self.by_rule {
            eprintln!("  {:>7}  {:<13} {}", r.count, r.level.as_str(), r.title);
        }
    }
}
