//! The rules shipped with mirt: all load, each reporting rule has a case,
//! fires on its generated EVTX fixture and stays quiet on the look-alike
//! one; and nothing fires on a generated clean baseline.
//!
//! The fixtures are committed under `fixtures/sigma/` and generated from
//! `builtin_cases`; `MIRT_REGENERATE=1 cargo test -p mirt-sigma --test
//! builtin_rules` rewrites them after a change.

mod builtin_cases;
mod common;

use builtin_cases::{Ev, baseline, cases};
use mirt_core::Event;
use mirt_evtx::{EvtxReader, Item};
use mirt_sigma::{Mapping, RuleSet, RuleSetBuilder};
use mirt_testkit::{EventSpec, EvtxWriter};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn builtin() -> RuleSet {
    let mut b = RuleSetBuilder::new(Mapping::builtin());
    for (path, text) in mirt_sigma::builtin::rules() {
        b.add_text(*path, *text);
    }
    b.build()
}

fn spec(e: &Ev, base: i64) -> EventSpec {
    let time = jiff::Timestamp::from_second(base + e.at).unwrap();
    let mut s = EventSpec::new(e.event_id as u16)
        .channel(e.channel)
        .provider(e.provider)
        .computer("WS01.rathaus.local")
        .timestamp(time);
    for (k, v) in &e.fields {
        s = s.data(k, v.as_str());
    }
    s
}

fn evtx_bytes(events: &[Ev]) -> Vec<u8> {
    let base = 1_714_550_400; // 2024-05-01T08:00:00Z
    EvtxWriter::new()
        .extend(events.iter().map(|e| spec(e, base)))
        .to_bytes()
        .unwrap()
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sigma")
}

fn slug(title: &str) -> String {
    title
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

/// The committed fixtures, checked against (or, with `MIRT_REGENERATE`,
/// rewritten from) what the cases generate; once per test run.
fn fixtures() -> Vec<(String, PathBuf, PathBuf)> {
    static ONCE: std::sync::OnceLock<Vec<(String, PathBuf, PathBuf)>> = std::sync::OnceLock::new();
    ONCE.get_or_init(generate).clone()
}

fn generate() -> Vec<(String, PathBuf, PathBuf)> {
    let regenerate = std::env::var_os("MIRT_REGENERATE").is_some();
    let mut all: Vec<(String, Vec<Ev>)> = Vec::new();
    for c in cases() {
        all.push((format!("{}.fires", slug(c.title)), c.fires));
        all.push((format!("{}.quiet", slug(c.title)), c.quiet));
    }
    all.push(("clean_baseline".into(), baseline()));
    let mut paths = BTreeMap::new();
    for (name, events) in all {
        let path = fixture_dir().join(format!("{name}.evtx"));
        let bytes = evtx_bytes(&events);
        if regenerate {
            std::fs::create_dir_all(fixture_dir()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "{} is stale: run MIRT_REGENERATE=1 cargo test -p mirt-sigma --test builtin_rules",
            path.display()
        );
        paths.insert(name, path);
    }
    cases()
        .iter()
        .map(|c| {
            let s = slug(c.title);
            (
                c.title.to_string(),
                paths[&format!("{s}.fires")].clone(),
                paths[&format!("{s}.quiet")].clone(),
            )
        })
        .collect()
}

fn read(path: &Path) -> Vec<Event> {
    let mut events = Vec::new();
    EvtxReader::new()
        .threads(1)
        .read_files(&[path.to_path_buf()], |item| {
            if let Item::Event(e) = item {
                events.push(*e);
            }
        });
    events
}

/// How often each reporting rule or correlation fired on `events`.
fn fired(set: &RuleSet, events: &[Event]) -> BTreeMap<String, usize> {
    let mut engine = set.correlation_engine();
    let mut counts = BTreeMap::new();
    for e in events {
        for hit in set.scan(e) {
            let rule = &set.rules()[hit.rule as usize];
            if rule.report {
                *counts.entry(rule.meta.title.clone()).or_default() += 1;
            }
            set.correlation_inputs(e, &hit)
                .into_iter()
                .for_each(|c| engine.push(c));
        }
    }
    for f in engine.finish() {
        let rule = &set.rules()[f.rule as usize];
        if rule.report {
            *counts.entry(rule.meta.title.clone()).or_default() += 1;
        }
    }
    counts
}

#[test]
fn every_shipped_rule_loads_and_has_a_case() {
    let set = builtin();
    assert!(set.skipped().is_empty(), "{:?}", set.skipped());
    // The rules for text logs (rules/sigma/web, rules/sigma/linux) have
    // log fixtures of their own, tested in cli/tests/hunt_logs.rs.
    let reporting: Vec<&str> = set
        .rules()
        .iter()
        .filter(|r| r.report && r.path.starts_with("rules/sigma/windows"))
        .map(|r| r.meta.title.as_str())
        .collect();
    let mut covered: Vec<&str> = cases().iter().map(|c| c.title).collect();
    let mut reporting_sorted = reporting.clone();
    reporting_sorted.sort();
    covered.sort();
    assert_eq!(reporting_sorted, covered);
}

#[test]
fn each_rule_fires_on_its_fixture_and_not_on_the_look_alike() {
    let set = builtin();
    for (title, fires, quiet) in fixtures() {
        let case = cases().into_iter().find(|c| c.title == title).unwrap();
        let got = fired(&set, &read(&fires));
        let n = got.get(&title).copied().unwrap_or(0);
        // A detection rule fires once per event; a correlation at least once.
        let is_correlation = set
            .rules()
            .iter()
            .any(|r| r.meta.title == title && r.kind == mirt_sigma::RuleKind::Correlation);
        if is_correlation {
            assert!(n >= 1, "{title} did not fire on {}", fires.display());
        } else {
            assert_eq!(n, case.fires.len(), "{title} on {}", fires.display());
        }
        let got = fired(&set, &read(&quiet));
        assert!(
            !got.contains_key(&title),
            "{title} fired on {}: {got:?}",
            quiet.display()
        );
    }
}

#[test]
fn nothing_fires_on_the_clean_baseline() {
    fixtures();
    let events = read(&fixture_dir().join("clean_baseline.evtx"));
    assert_eq!(events.len(), baseline().len());
    let got = fired(&builtin(), &events);
    assert!(
        got.is_empty(),
        "shipped rules fired on the clean baseline: {got:?}"
    );
    // SigmaHQ's Windows rules raise nothing high or critical on it either.
    let Some(corpus) = common::corpus() else {
        return;
    };
    let sigmahq = RuleSetBuilder::new(Mapping::builtin())
        .min_level(mirt_core::Severity::High)
        .add_path(&corpus.join("sigma/sigmahq/rules/windows"))
        .build();
    let got = fired(&sigmahq, &events);
    assert!(
        got.is_empty(),
        "SigmaHQ high/critical rules fired on the clean baseline: {got:?}"
    );
}
