//! The seven correlation types, chaining, aliases, and filters, over
//! in-memory events.

use mirt_core::{Event, Source, SourceKind, Value};
use mirt_sigma::{CorrelationFinding, Mapping, RuleSet, RuleSetBuilder};

const BASE: &str = r#"
title: Failed logon
id: 00000000-0000-4000-8000-000000000001
name: failed_logon
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4625}
    condition: selection
level: low
---
title: Successful logon
id: 00000000-0000-4000-8000-000000000002
name: successful_logon
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4624}
    condition: selection
level: low
---
title: Process start
id: 00000000-0000-4000-8000-000000000003
name: proc
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '.exe'
    condition: selection
level: informational
"#;

fn set(correlation: &str) -> RuleSet {
    let text = format!("{BASE}---\n{correlation}");
    let set = RuleSetBuilder::new(Mapping::builtin())
        .add_text("c.yml", text)
        .build();
    assert!(set.skipped().is_empty(), "{:?}", set.skipped());
    set
}

struct Ev {
    secs: i64,
    eid: u32,
    fields: Vec<(&'static str, &'static str)>,
}

fn ev(secs: i64, eid: u32, fields: &[(&'static str, &'static str)]) -> Ev {
    Ev {
        secs,
        eid,
        fields: fields.to_vec(),
    }
}

fn run(set: &RuleSet, events: &[Ev]) -> Vec<CorrelationFinding> {
    let mut engine = set.correlation_engine();
    for (i, e) in events.iter().enumerate() {
        let mut event = Event::new(Source::new(SourceKind::Evtx, "x.evtx", i as u64));
        event.timestamp = Some(jiff::Timestamp::from_second(1_700_000_000 + e.secs).unwrap());
        event.event_id = Some(e.eid);
        event.record_id = Some(i as u64 + 1);
        event.channel = Some(
            if e.eid == 1 {
                "Microsoft-Windows-Sysmon/Operational"
            } else {
                "Security"
            }
            .into(),
        );
        for (k, v) in &e.fields {
            event.fields.push(*k, Value::from(*v));
        }
        for hit in set.scan(&event) {
            for input in set.correlation_inputs(&event, &hit) {
                engine.push(input);
            }
        }
    }
    engine.finish()
}

fn title(set: &RuleSet, f: &CorrelationFinding) -> String {
    set.rules()[f.rule as usize].meta.title.clone()
}

#[test]
fn event_count_brute_force_per_source_address() {
    let s = set(
        "title: Brute force\ncorrelation:\n    type: event_count\n    rules: [failed_logon]\n    group-by: [IpAddress]\n    timespan: 5m\n    condition: {gte: 3}\nlevel: high\n",
    );
    let mut events = Vec::new();
    for i in 0..4 {
        events.push(ev(i * 10, 4625, &[("IpAddress", "10.0.0.5")]));
    }
    events.push(ev(5, 4625, &[("IpAddress", "10.0.0.9")]));
    events.push(ev(1000, 4625, &[("IpAddress", "10.0.0.9")]));
    let found = run(&s, &events);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].group,
        vec![("IpAddress".to_string(), Some("10.0.0.5".to_string()))]
    );
    assert_eq!(found[0].event_count, 3);
    assert_eq!(
        found[0]
            .events
            .iter()
            .map(|e| e.record_id.unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(title(&s, &found[0]), "Brute force");
    // The base rule only feeds the correlation: it does not report on its own.
    let base = s
        .rules()
        .iter()
        .find(|r| r.meta.title == "Failed logon")
        .unwrap();
    assert!(!base.report);
}

#[test]
fn event_count_outside_the_timespan_does_not_fire() {
    let s = set(
        "title: Brute force\ncorrelation:\n    type: event_count\n    rules: [failed_logon]\n    group-by: [IpAddress]\n    timespan: 1m\n    condition: {gte: 3}\n",
    );
    let events: Vec<Ev> = (0..5)
        .map(|i| ev(i * 40, 4625, &[("IpAddress", "10.0.0.5")]))
        .collect();
    assert!(run(&s, &events).is_empty());
}

#[test]
fn upper_bounds_are_judged_when_the_window_closes() {
    let s = set(
        "title: Few\ncorrelation:\n    type: event_count\n    rules: [failed_logon]\n    group-by: [IpAddress]\n    timespan: 1m\n    condition: {gte: 2, lte: 3}\n",
    );
    let events = vec![
        ev(0, 4625, &[("IpAddress", "a")]),
        ev(1, 4625, &[("IpAddress", "a")]),
        ev(2, 4625, &[("IpAddress", "b")]),
        ev(3, 4625, &[("IpAddress", "b")]),
        ev(4, 4625, &[("IpAddress", "b")]),
        ev(5, 4625, &[("IpAddress", "b")]),
    ];
    let found = run(&s, &events);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].group[0].1.as_deref(), Some("a"));
}

#[test]
fn value_count_distinct_users_per_address() {
    let s = set(
        "title: Spray\ncorrelation:\n    type: value_count\n    rules: [failed_logon]\n    group-by: [IpAddress]\n    timespan: 10m\n    condition: {field: TargetUserName, gte: 3}\n",
    );
    let events = vec![
        ev(0, 4625, &[("IpAddress", "a"), ("TargetUserName", "u1")]),
        ev(1, 4625, &[("IpAddress", "a"), ("TargetUserName", "u1")]),
        ev(2, 4625, &[("IpAddress", "a"), ("TargetUserName", "u2")]),
        ev(3, 4625, &[("IpAddress", "a"), ("TargetUserName", "u3")]),
    ];
    let found = run(&s, &events);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].value, 3.0);
    assert_eq!(found[0].event_count, 4);
}

#[test]
fn temporal_any_order_and_ordered() {
    let any = set(
        "title: Both\ncorrelation:\n    type: temporal\n    rules: [successful_logon, failed_logon]\n    group-by: [TargetUserName]\n    timespan: 1m\n",
    );
    let events = vec![
        ev(0, 4624, &[("TargetUserName", "bob")]),
        ev(10, 4625, &[("TargetUserName", "bob")]),
    ];
    assert_eq!(run(&any, &events).len(), 1);
    let ordered = set(
        "title: Fail then success\ncorrelation:\n    type: temporal_ordered\n    rules: [failed_logon, successful_logon]\n    group-by: [TargetUserName]\n    timespan: 1m\n",
    );
    assert!(run(&ordered, &events).is_empty(), "success came first");
    let right = vec![
        ev(0, 4625, &[("TargetUserName", "bob")]),
        ev(10, 4624, &[("TargetUserName", "bob")]),
    ];
    let found = run(&ordered, &right);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].event_count, 2);
    let late = vec![
        ev(0, 4625, &[("TargetUserName", "bob")]),
        ev(100, 4624, &[("TargetUserName", "bob")]),
    ];
    assert!(run(&ordered, &late).is_empty());
}

#[test]
fn value_sum_avg_and_percentile() {
    let sum = set(
        "title: Sum\ncorrelation:\n    type: value_sum\n    rules: [failed_logon]\n    group-by: [IpAddress]\n    timespan: 1h\n    condition: {field: Bytes, gt: 100}\n",
    );
    let events = vec![
        ev(0, 4625, &[("IpAddress", "a"), ("Bytes", "60")]),
        ev(1, 4625, &[("IpAddress", "a"), ("Bytes", "50")]),
    ];
    assert_eq!(run(&sum, &events)[0].value, 110.0);
    let avg = set(
        "title: Avg\ncorrelation:\n    type: value_avg\n    rules: [failed_logon]\n    group-by: [IpAddress]\n    timespan: 1h\n    condition: {field: Bytes, gte: 55}\n",
    );
    let found = run(&avg, &events);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].value, 55.0);
    let pct = set(
        "title: Rare\ncorrelation:\n    type: value_percentile\n    rules: [proc]\n    group-by: [Computer]\n    timespan: 1d\n    condition: {field: Image, lte: 10}\n",
    );
    let mut events: Vec<Ev> = (0..19)
        .map(|i| ev(i, 1, &[("Image", "C:\\a.exe")]))
        .collect();
    events.push(ev(30, 1, &[("Image", "C:\\rare.exe")]));
    let found = run(&pct, &events);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].value_of.as_deref(), Some("C:\\rare.exe"));
    assert_eq!(found[0].value, 5.0);
}

#[test]
fn chained_correlation_with_aliases() {
    let text = "title: Brute force then success\ncorrelation:\n    type: temporal_ordered\n    rules: [many_failed, successful_logon]\n    group-by: [user]\n    timespan: 10m\n    aliases:\n        user:\n            many_failed: TargetUserName\n            successful_logon: TargetUserName\nlevel: critical\n---\ntitle: Many failed\nname: many_failed\ncorrelation:\n    type: event_count\n    rules: [failed_logon]\n    group-by: [TargetUserName]\n    timespan: 10m\n    condition: {gte: 3}\n";
    let s = set(text);
    let mut events: Vec<Ev> = (0..3)
        .map(|i| ev(i, 4625, &[("TargetUserName", "admin")]))
        .collect();
    events.push(ev(60, 4624, &[("TargetUserName", "admin")]));
    events.push(ev(61, 4624, &[("TargetUserName", "other")]));
    let found: Vec<_> = run(&s, &events)
        .into_iter()
        .filter(|f| s.rules()[f.rule as usize].report)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(title(&s, &found[0]), "Brute force then success");
    assert_eq!(found[0].event_count, 4);
    let inner = s
        .rules()
        .iter()
        .find(|r| r.meta.title == "Many failed")
        .unwrap();
    assert!(
        !inner.report,
        "an inner correlation reports only with generate: true"
    );
}

#[test]
fn filters_apply_to_the_rules_they_name() {
    let rules = "title: Whoami\nid: 00000000-0000-4000-8000-0000000000aa\nlogsource: {product: windows, category: process_creation}\ndetection:\n    s:\n        Image|endswith: '\\whoami.exe'\n    condition: s\n";
    let filter = "title: Not the admin\nlogsource: {product: windows, category: process_creation}\nfilter:\n    rules: [00000000-0000-4000-8000-0000000000aa]\n    selection:\n        User|startswith: 'adm_'\n    condition: not selection\n";
    let other_ls = "title: Wrong log source\nlogsource: {product: windows, service: security}\nfilter:\n    rules: [00000000-0000-4000-8000-0000000000aa]\n    selection: {User: bob}\n    condition: not selection\n";
    let set = RuleSetBuilder::new(Mapping::builtin())
        .add_text("r.yml", rules)
        .add_text("f.yml", filter)
        .add_text("g.yml", other_ls)
        .build();
    assert!(set.skipped().is_empty(), "{:?}", set.skipped());
    assert_eq!(set.rules()[0].filters, vec!["Not the admin"]);
    let mk = |user: &str| {
        let mut e = Event::new(Source::new(SourceKind::Evtx, "s.evtx", 0));
        e.channel = Some("Microsoft-Windows-Sysmon/Operational".into());
        e.event_id = Some(1);
        e.fields
            .push("Image", Value::from("C:\\Windows\\whoami.exe"));
        e.fields.push("User", Value::from(user));
        e
    };
    assert_eq!(set.scan(&mk("bob")).len(), 1);
    assert!(set.scan(&mk("adm_alice")).is_empty());
}
