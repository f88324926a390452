//! The committed fixtures are exactly what the generator makes, read as
//! their README says, and tell the story they claim to.

mod common;

use common::read_path;
use mirt_core::{ProblemKind, Value};
use mirt_testkit::{fixtures, layout};
use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn regenerating_the_fixtures_gives_the_committed_bytes() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_mirt-fixtures"))
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let mut names: Vec<String> = fixtures::all()
        .unwrap()
        .iter()
        .map(|f| f.name.to_string())
        .collect();
    names.push("README.md".into());
    for name in names {
        let fresh = std::fs::read(out.path().join(&name)).unwrap();
        let committed = std::fs::read(fixtures::path(&name)).unwrap_or_else(|e| {
            panic!(
                "{name} is not committed ({e}): run `cargo run -p mirt-testkit --bin mirt-fixtures`"
            )
        });
        assert!(
            fresh == committed,
            "{name} differs from what the generator makes: run `cargo run -p mirt-testkit --bin mirt-fixtures` and commit"
        );
    }
}

#[test]
fn fixtures_are_small() {
    let total: usize = fixtures::all().unwrap().iter().map(|f| f.bytes.len()).sum();
    assert!(total < 1_500_000, "{total} bytes");
}

#[test]
fn fixtures_read_as_documented() {
    for f in fixtures::all().unwrap() {
        let read = read_path(&fixtures::path(f.name), 1);
        assert_eq!(
            read.events.len() as u64,
            f.good_records,
            "{}: {:#?}",
            f.name,
            read.problems
        );
        let kinds: BTreeSet<&str> = read.problems.iter().map(|p| p.kind.as_str()).collect();
        match f.problem {
            None => assert!(kinds.is_empty(), "{}: {:#?}", f.name, read.problems),
            Some(kind) => assert!(kinds.contains(kind), "{}: {kind} not in {kinds:?}", f.name),
        }
    }
}

#[test]
fn the_security_sample_tells_the_intrusion() {
    let path = fixtures::path("sample-security.evtx");
    let bytes = std::fs::read(&path).unwrap();
    assert!(layout::chunk_count(&bytes) >= 2);
    let read = read_path(&path, 0);
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let events = &read.events;
    assert!(events.len() >= 300, "{}", events.len());
    let ids: BTreeSet<u32> = events.iter().filter_map(|e| e.event_id).collect();
    for id in [
        4624, 4625, 4634, 4672, 4688, 4720, 4722, 4732, 7045, 7036, 104, 1102,
    ] {
        assert!(ids.contains(&id), "no {id}");
    }
    let times: Vec<_> = events.iter().map(|e| e.timestamp.unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");

    // The spray: more than 50 failures from one address within ten minutes.
    let spray: Vec<_> = events
        .iter()
        .filter(|e| e.event_id == Some(4625))
        .filter(|e| e.fields.get("IpAddress") == Some(&Value::from("185.220.101.47")))
        .collect();
    assert!(spray.len() > 50);
    let span = spray.last().unwrap().timestamp.unwrap() - spray[0].timestamp.unwrap();
    assert!(span.get_seconds() < 600, "{span:?}");
    assert_eq!(spray[0].fields.get("LogonType"), Some(&Value::UInt(3)));
    assert_eq!(
        spray[0].fields.get("Status"),
        Some(&Value::from("0xc000006d"))
    );

    let one = |id| events.iter().find(|e| e.event_id == Some(id)).unwrap();
    let service = one(7045);
    assert_eq!(service.channel.as_deref(), Some("System"));
    assert_eq!(
        service.fields.get("ImagePath"),
        Some(&Value::from(r"C:\ProgramData\svc\updater.exe"))
    );
    let added = one(4732);
    assert_eq!(
        added.fields.get("TargetSid"),
        Some(&Value::from("S-1-5-32-544"))
    );
    assert_eq!(
        added.fields.get("MemberSid"),
        one(4720).fields.get("TargetSid")
    );
    let cleared = one(1102);
    assert_eq!(
        cleared.fields.get("SubjectUserName"),
        Some(&Value::from("it-service"))
    );
    assert_eq!(one(104).channel.as_deref(), Some("System"));
    let dump = events
        .iter()
        .filter(|e| e.event_id == Some(4688))
        .filter_map(|e| e.fields.get("CommandLine").and_then(Value::as_str))
        .any(|c| c.contains("comsvcs.dll, MiniDump"));
    assert!(dump, "the LSASS dump");
}

#[test]
fn the_sysmon_sample_has_its_event_kinds() {
    let read = read_path(&fixtures::path("sample-sysmon.evtx"), 1);
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let ids: BTreeSet<u32> = read.events.iter().filter_map(|e| e.event_id).collect();
    assert_eq!(ids, BTreeSet::from([1, 3, 11]));
    assert!(
        read.events
            .iter()
            .all(|e| e.channel.as_deref() == Some("Microsoft-Windows-Sysmon/Operational"))
    );
    let macro_child = read
        .events
        .iter()
        .find(|e| {
            e.fields
                .get("ParentImage")
                .and_then(Value::as_str)
                .is_some_and(|p| p.ends_with("WINWORD.EXE"))
        })
        .expect("Word starts PowerShell");
    assert!(
        macro_child
            .fields
            .get("Image")
            .and_then(Value::as_str)
            .unwrap()
            .ends_with("powershell.exe")
    );
    let callout = read
        .events
        .iter()
        .find(|e| {
            e.event_id == Some(3) && e.fields.get("DestinationPort") == Some(&Value::UInt(8443))
        })
        .expect("the implant calls out");
    assert_eq!(callout.fields.get("Initiated"), Some(&Value::Bool(true)));
}

#[test]
fn damaged_fixtures_report_where_the_damage_is() {
    let read = read_path(&fixtures::path("damaged-bad-chunk-magic.evtx"), 1);
    assert_eq!(read.problems.len(), 1);
    assert_eq!(
        (read.problems[0].kind, read.problems[0].chunk),
        (ProblemKind::DamagedBlock, Some(1))
    );
    let ids = read.record_ids();
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&120));
    assert!(!ids.contains(&41) && !ids.contains(&80));
}
