//! The rules shipped with mirt: all load, each reporting rule has a case,
//! fires on its events and stays quiet on the look-alikes.

mod builtin_cases;

use builtin_cases::{Ev, cases};
use mirt_core::{Event, Source, SourceKind, Value};
use mirt_sigma::{Mapping, RuleSet, RuleSetBuilder};
use std::collections::BTreeSet;

fn builtin() -> RuleSet {
    let mut b = RuleSetBuilder::new(Mapping::builtin());
    for (path, text) in mirt_sigma::builtin::rules() {
        b.add_text(*path, *text);
    }
    b.build()
}

fn to_event(e: &Ev, i: usize) -> Event {
    let mut ev = Event::new(Source::new(SourceKind::Evtx, "mem.evtx", i as u64));
    ev.timestamp = Some(jiff::Timestamp::from_second(1_714_000_000 + e.at).unwrap());
    ev.channel = Some(e.channel.into());
    ev.provider = Some(e.provider.into());
    ev.event_id = Some(e.event_id);
    ev.computer = Some("WS01.corp.local".into());
    ev.record_id = Some(i as u64 + 1);
    for (k, v) in &e.fields {
        ev.fields.push(*k, Value::from(v.as_str()));
    }
    ev
}

/// Titles of the rules and correlations that report on `events`.
pub fn fired(set: &RuleSet, events: &[Event]) -> BTreeSet<String> {
    let mut engine = set.correlation_engine();
    let mut titles = BTreeSet::new();
    for e in events {
        for hit in set.scan(e) {
            let rule = &set.rules()[hit.rule as usize];
            if rule.report {
                titles.insert(rule.meta.title.clone());
            }
            set.correlation_inputs(e, &hit)
                .into_iter()
                .for_each(|c| engine.push(c));
        }
    }
    for f in engine.finish() {
        let rule = &set.rules()[f.rule as usize];
        if rule.report {
            titles.insert(rule.meta.title.clone());
        }
    }
    titles
}

#[test]
fn every_shipped_rule_loads_and_has_a_case() {
    let set = builtin();
    assert!(set.skipped().is_empty(), "{:?}", set.skipped());
    let reporting: BTreeSet<&str> = set
        .rules()
        .iter()
        .filter(|r| r.report)
        .map(|r| r.meta.title.as_str())
        .collect();
    let covered: BTreeSet<&str> = cases().iter().map(|c| c.title).collect();
    assert_eq!(reporting, covered);
}

#[test]
fn each_rule_fires_on_its_case_and_not_on_the_look_alike() {
    let set = builtin();
    for case in cases() {
        for (i, e) in case.fires.iter().enumerate() {
            // Correlation cases need all their events; single events each fire.
            let events: Vec<Event> = if case.fires.len() > 3 {
                case.fires
                    .iter()
                    .enumerate()
                    .map(|(j, e)| to_event(e, j))
                    .collect()
            } else {
                vec![to_event(e, i)]
            };
            assert!(
                fired(&set, &events).contains(case.title),
                "{} did not fire on {e:?}",
                case.title
            );
        }
        let quiet: Vec<Event> = case
            .quiet
            .iter()
            .enumerate()
            .map(|(j, e)| to_event(e, j))
            .collect();
        let titles = fired(&set, &quiet);
        assert!(
            !titles.contains(case.title),
            "{} fired on its look-alike",
            case.title
        );
    }
}
