//! The matcher through the rule set, on cases its structures make
//! delicate: literals longer than the scanner's heads, and buckets
//! assembled up front.

use crate::{Mapping, RuleSet, RuleSetBuilder};
use mirt_core::{Event, Source, SourceKind, Value};

fn event(fields: &[(&str, &str)]) -> Event {
    let mut e = Event::new(Source::new(SourceKind::Evtx, "t.evtx", 0));
    e.channel = Some("Test".into());
    e.event_id = Some(1);
    for (k, v) in fields {
        e.fields.push(*k, Value::from(*v));
    }
    e
}

fn set(detection: &str) -> RuleSet {
    let body: String = detection.lines().map(|l| format!("    {l}\n")).collect();
    let text = format!(
        "title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource:\n    product: windows\ndetection:\n{body}"
    );
    let set = RuleSetBuilder::new(Mapping::builtin())
        .add_text("t.yml", text)
        .build();
    assert!(set.skipped().is_empty(), "{detection}");
    set
}

/// (what it shows, the detection, the event's fields, whether it matches).
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    bool,
);

/// The scanner searches literals by their first bytes and compares the
/// rest where those are found: long literals must still match whole, at
/// their position, in any case.
#[test]
fn long_literals_match_whole_and_in_place() {
    let hashes = "SHA1=AA,MD5=BB,IMPHASH=0123456789ABCDEF0123456789ABCDEF";
    let cases: Vec<Case> = vec![
        (
            "a long literal inside the value",
            "sel:\n    Hashes|contains: 'imphash=0123456789abcdef0123456789abcdef'\ncondition: sel",
            vec![("Hashes", hashes)],
            true,
        ),
        (
            "the head alone is no match",
            "sel:\n    Hashes|contains: 'IMPHASH=0123456789ABCDEF0123456789ABCDEE'\ncondition: sel",
            vec![("Hashes", hashes)],
            false,
        ),
        (
            "one of many literals that share their head",
            "sel:\n    Hashes|contains:\n        - 'IMPHASH=0123456789ABCDEF0123456789ABCDE0'\n        - 'IMPHASH=0123456789ABCDEF0123456789ABCDEF'\n        - 'IMPHASH=0123456789ABCDEF0123456789ABCDE1'\ncondition: sel",
            vec![("Hashes", hashes)],
            true,
        ),
        (
            "a long suffix must end the value",
            "sel:\n    Image|endswith: '\\AppData\\Local\\Temp\\evil.exe'\ncondition: sel",
            vec![("Image", "C:\\Users\\x\\appdata\\local\\temp\\EVIL.exe.bak")],
            false,
        ),
        (
            "a long prefix must start the value",
            "sel:\n    Image|startswith: 'C:\\Windows\\System32\\'\ncondition: sel",
            vec![("Image", "C:\\WINDOWS\\system32\\cmd.exe")],
            true,
        ),
        (
            "a long exact value",
            "sel:\n    Image: 'C:\\Windows\\System32\\cmd.exe'\ncondition: sel",
            vec![("Image", "C:\\Windows\\System32\\cmd.exe.x")],
            false,
        ),
        (
            "a long keyword within one value",
            "keywords:\n    - 'Invoke-Mimikatz -DumpCreds'\ncondition: keywords",
            vec![("A", "run invoke-mimikatz -dumpcreds now")],
            true,
        ),
        (
            "a long keyword does not span two values",
            "keywords:\n    - 'Invoke-Mimikatz -DumpCreds'\ncondition: keywords",
            vec![("A", "invoke-mimikatz"), ("B", " -dumpcreds")],
            false,
        ),
    ];
    for (what, detection, fields, want) in cases {
        let found = !set(detection).scan(&event(&fields)).is_empty();
        assert_eq!(found, want, "{what}");
    }
}

#[test]
fn buckets_assembled_up_front_match_as_lazy_ones() {
    let set = set("sel:\n    CommandLine|contains: ' -EncodedCommand '\ncondition: sel");
    set.prepare();
    let hit = event(&[("CommandLine", "powershell -encodedcommand AAAA")]);
    assert_eq!(set.scan(&hit).len(), 1);
    assert!(
        set.scan(&event(&[("CommandLine", "powershell")]))
            .is_empty()
    );
}

/// A test over a long value list checks one literal set instead of each
/// value; with `all`, or with a regex or wildcard among the values, it
/// must still mean what the rule says.
#[test]
fn long_value_lists_match_as_short_ones() {
    let list =
        "    - '\\a.exe'\n    - '\\b.exe'\n    - '\\c.exe'\n    - '\\d.exe'\n    - '\\e.exe'\n";
    let cases: Vec<Case> = vec![
        (
            "one value of five",
            "endswith",
            vec![("Image", "C:\\x\\D.EXE")],
            true,
        ),
        (
            "none of five",
            "endswith",
            vec![("Image", "C:\\x\\f.exe")],
            false,
        ),
        (
            "at the wrong place",
            "endswith",
            vec![("Image", "C:\\x\\d.exe.bak")],
            false,
        ),
        (
            "all of five, one there",
            "contains|all",
            vec![("Image", "\\a.exe")],
            false,
        ),
        (
            "all of five there",
            "contains|all",
            vec![("Image", "\\a.exe \\b.exe \\c.exe \\d.exe \\e.exe")],
            true,
        ),
    ];
    for (what, modifiers, fields, want) in cases {
        let detection = format!("sel:\n  Image|{modifiers}:\n{list}condition: sel");
        let detection: &'static str = detection.leak();
        let found = !set(detection).scan(&event(&fields)).is_empty();
        assert_eq!(found, want, "{what}");
    }
    // Values that are not literals stay beside the set.
    let mixed = "sel:\n  Image:\n    - 'a'\n    - 'b'\n    - 'c'\n    - 'd'\n    - '*\\evil?.exe'\n    - ''\ncondition: sel";
    let set = set(mixed);
    assert_eq!(set.scan(&event(&[("Image", "C")])).len(), 1);
    assert_eq!(set.scan(&event(&[("Image", "x\\EVIL1.exe")])).len(), 1);
    assert_eq!(set.scan(&event(&[("Image", "")])).len(), 1);
    assert!(set.scan(&event(&[("Image", "e")])).is_empty());
}

/// Slots are remembered from one event to the next while the field names
/// stay the same: a run of one template, then events whose names differ
/// (order, case, one more or fewer), each matched as a fresh scratch would.
#[test]
fn remembered_slots_follow_the_field_names() {
    let set = set("sel:\n    Image|endswith: '\\x.exe'\n    User: admin\ncondition: sel");
    let events = [
        event(&[("Image", "C:\\x.exe"), ("User", "admin")]),
        event(&[("Image", "C:\\y.exe"), ("User", "admin")]),
        event(&[("Image", "C:\\x.exe"), ("User", "admin")]),
        event(&[("User", "admin"), ("Image", "C:\\x.exe")]),
        event(&[("User", "guest"), ("Image", "C:\\x.exe")]),
        event(&[("Image", "C:\\x.exe"), ("user", "ADMIN")]),
        event(&[("Image", "C:\\x.exe")]),
        event(&[("Image", "C:\\x.exe"), ("User", "admin"), ("Other", "1")]),
        event(&[("Other", "1"), ("Image", "C:\\x.exe"), ("User", "admin")]),
        event(&[
            ("Image", "C:\\x.exe"),
            ("Image", "C:\\z.exe"),
            ("User", "admin"),
        ]),
    ];
    let mut scratch = crate::Scratch::new();
    for (i, e) in events.iter().enumerate() {
        let mut hits = Vec::new();
        set.scan_with(e, &mut scratch, &mut hits);
        let fresh = set.scan_with_fresh(e);
        assert_eq!(hits.len(), fresh, "event {i}");
    }
    let expected = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1];
    let mut scratch = crate::Scratch::new();
    for (e, want) in events.iter().zip(expected) {
        let mut hits = Vec::new();
        set.scan_with(e, &mut scratch, &mut hits);
        assert_eq!(hits.len(), want, "{e:?}");
    }
}
