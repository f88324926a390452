//! The meaning of every modifier and condition form, table-driven: a
//! detection, an event, and whether the rule must match.

use mirt_core::{Event, Source, SourceKind, Value};
use mirt_sigma::{Mapping, Placeholders, RuleSetBuilder};

fn event(fields: &[(&str, Value)]) -> Event {
    let mut e = Event::new(Source::new(SourceKind::Evtx, "t.evtx", 0));
    e.channel = Some("Test".into());
    e.event_id = Some(1);
    e.provider = Some("Prov".into());
    e.timestamp = Some("2024-03-05T22:15:30Z".parse().unwrap());
    for (k, v) in fields {
        e.fields.push(*k, v.clone());
    }
    e
}

/// (what it shows, the detection, the event's fields, whether it matches).
type Case = (&'static str, &'static str, Vec<(&'static str, Value)>, bool);

fn s(v: &str) -> Value {
    Value::from(v)
}

fn rule(detection: &str) -> String {
    let body: String = detection.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "title: t\nid: 11111111-1111-4111-8111-111111111111\nlogsource:\n    product: windows\ndetection:\n{body}"
    )
}

/// Whether `detection` matches the event made of `fields`.
fn matches(detection: &str, fields: &[(&str, Value)]) -> bool {
    let mut ph = Placeholders::new();
    ph.insert("Admins".into(), vec!["adm_*".into(), "root".into()]);
    let set = RuleSetBuilder::new(Mapping::builtin())
        .placeholders(ph)
        .add_text("t.yml", rule(detection))
        .build();
    assert!(set.skipped().is_empty(), "{detection}: {:?}", set.skipped());
    !set.scan(&event(fields)).is_empty()
}

#[test]
fn value_modifiers() {
    let cases: Vec<Case> = vec![
        (
            "equality ignores case",
            "sel:\n    Image: 'C:\\Windows\\cmd.exe'\ncondition: sel",
            vec![("Image", s("c:\\windows\\CMD.EXE"))],
            true,
        ),
        (
            "equality is whole-field",
            "sel:\n    Image: 'cmd.exe'\ncondition: sel",
            vec![("Image", s("x\\cmd.exe"))],
            false,
        ),
        (
            "contains",
            "sel:\n    CommandLine|contains: ' -enc '\ncondition: sel",
            vec![("CommandLine", s("powershell -ENC abc"))],
            true,
        ),
        (
            "startswith",
            "sel:\n    Image|startswith: 'C:\\Users\\'\ncondition: sel",
            vec![("Image", s("C:\\Users\\a\\x.exe"))],
            true,
        ),
        (
            "startswith misses",
            "sel:\n    Image|startswith: 'C:\\Users\\'\ncondition: sel",
            vec![("Image", s("D:\\C:\\Users\\x"))],
            false,
        ),
        (
            "endswith",
            "sel:\n    Image|endswith: '\\x.exe'\ncondition: sel",
            vec![("Image", s("C:\\a\\X.EXE"))],
            true,
        ),
        (
            "list is OR",
            "sel:\n    Image|endswith: ['\\a.exe', '\\b.exe']\ncondition: sel",
            vec![("Image", s("C:\\b.exe"))],
            true,
        ),
        (
            "all is AND",
            "sel:\n    CommandLine|contains|all: ['-a', '-b']\ncondition: sel",
            vec![("CommandLine", s("x -a y"))],
            false,
        ),
        (
            "all is AND (both)",
            "sel:\n    CommandLine|contains|all: ['-a', '-b']\ncondition: sel",
            vec![("CommandLine", s("x -b -a"))],
            true,
        ),
        (
            "wildcard star",
            "sel:\n    Image: 'C:\\\\*\\evil.exe'\ncondition: sel",
            vec![("Image", s("C:\\tmp\\x\\evil.exe"))],
            true,
        ),
        (
            "wildcard question",
            "sel:\n    Image: 'evil?.exe'\ncondition: sel",
            vec![("Image", s("evil1.exe"))],
            true,
        ),
        (
            "wildcard question needs one char",
            "sel:\n    Image: 'evil?.exe'\ncondition: sel",
            vec![("Image", s("evil.exe"))],
            false,
        ),
        (
            "escaped star is literal",
            "sel:\n    CommandLine: 'a\\*b'\ncondition: sel",
            vec![("CommandLine", s("axxb"))],
            false,
        ),
        (
            "escaped star matches star",
            "sel:\n    CommandLine: 'a\\*b'\ncondition: sel",
            vec![("CommandLine", s("a*b"))],
            true,
        ),
        (
            "exists true",
            "sel:\n    Foo|exists: true\ncondition: sel",
            vec![("Foo", s(""))],
            true,
        ),
        (
            "exists false",
            "sel:\n    Foo|exists: false\ncondition: sel",
            vec![("Bar", s("x"))],
            true,
        ),
        (
            "exists false present",
            "sel:\n    Foo|exists: false\ncondition: sel",
            vec![("Foo", s("x"))],
            false,
        ),
        (
            "cased",
            "sel:\n    Name|cased: 'Evil'\ncondition: sel",
            vec![("Name", s("evil"))],
            false,
        ),
        (
            "cased same",
            "sel:\n    Name|cased|contains: 'Evil'\ncondition: sel",
            vec![("Name", s("an Evil one"))],
            true,
        ),
        (
            "neq",
            "sel:\n    User|neq: 'SYSTEM'\ncondition: sel",
            vec![("User", s("alice"))],
            true,
        ),
        (
            "neq equal",
            "sel:\n    User|neq: 'SYSTEM'\ncondition: sel",
            vec![("User", s("system"))],
            false,
        ),
        (
            "neq absent",
            "sel:\n    User|neq: 'SYSTEM'\ncondition: sel",
            vec![],
            false,
        ),
        (
            "windash slash",
            "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel",
            vec![("CommandLine", s("pwsh /enc x"))],
            true,
        ),
        (
            "windash en dash",
            "sel:\n    CommandLine|windash|contains: ' -enc '\ncondition: sel",
            vec![("CommandLine", s("pwsh \u{2013}enc x"))],
            true,
        ),
        (
            "windash keeps inner dashes",
            "sel:\n    CommandLine|windash|contains: 'a-b'\ncondition: sel",
            vec![("CommandLine", s("a/b"))],
            false,
        ),
        (
            "re is unanchored",
            "sel:\n    CommandLine|re: 'e.il'\ncondition: sel",
            vec![("CommandLine", s("my evil"))],
            true,
        ),
        (
            "re is cased",
            "sel:\n    CommandLine|re: 'evil'\ncondition: sel",
            vec![("CommandLine", s("EVIL"))],
            false,
        ),
        (
            "re i",
            "sel:\n    CommandLine|re|i: 'evil'\ncondition: sel",
            vec![("CommandLine", s("EVIL"))],
            true,
        ),
        (
            "re m",
            "sel:\n    CommandLine|re|m: '^two$'\ncondition: sel",
            vec![("CommandLine", s("one\ntwo\nthree"))],
            true,
        ),
        (
            "re without m",
            "sel:\n    CommandLine|re: '^two$'\ncondition: sel",
            vec![("CommandLine", s("one\ntwo"))],
            false,
        ),
        (
            "re s",
            "sel:\n    CommandLine|re|s: 'a.b'\ncondition: sel",
            vec![("CommandLine", s("a\nb"))],
            true,
        ),
        (
            "re without s",
            "sel:\n    CommandLine|re: 'a.b'\ncondition: sel",
            vec![("CommandLine", s("a\nb"))],
            false,
        ),
        (
            "base64",
            "sel:\n    Data|base64: 'cmd'\ncondition: sel",
            vec![("Data", s("Y21k"))],
            true,
        ),
        (
            "base64offset",
            "sel:\n    CommandLine|base64offset|contains: 'http://'\ncondition: sel",
            vec![("CommandLine", s("-e YWJjaHR0cDovL2V2aWw="))],
            true,
        ),
        (
            "utf16le base64offset",
            "sel:\n    CommandLine|utf16le|base64offset|contains: 'IEX'\ncondition: sel",
            vec![("CommandLine", s("powershell -enc SQBFAFgAIAAoAA=="))],
            true,
        ),
        (
            "wide base64",
            "sel:\n    CommandLine|wide|base64offset|contains: 'IEX'\ncondition: sel",
            vec![("CommandLine", s("xSQBFAFgAx"))],
            true,
        ),
        (
            "utf16be base64",
            "sel:\n    Data|utf16be|base64: 'ab'\ncondition: sel",
            vec![("Data", s("AGEAYg=="))],
            true,
        ),
        (
            "utf16 bom base64",
            "sel:\n    Data|utf16|base64: 'ab'\ncondition: sel",
            vec![("Data", s("//5hAGIA"))],
            true,
        ),
        (
            "lt",
            "sel:\n    Size|lt: 10\ncondition: sel",
            vec![("Size", Value::UInt(9))],
            true,
        ),
        (
            "lte",
            "sel:\n    Size|lte: 10\ncondition: sel",
            vec![("Size", s("10"))],
            true,
        ),
        (
            "gt",
            "sel:\n    Size|gt: 10\ncondition: sel",
            vec![("Size", s("0x10"))],
            true,
        ),
        (
            "gte fails",
            "sel:\n    Size|gte: 10\ncondition: sel",
            vec![("Size", Value::Int(9))],
            false,
        ),
        (
            "gt not a number",
            "sel:\n    Size|gt: 10\ncondition: sel",
            vec![("Size", s("big"))],
            false,
        ),
        (
            "hour of the event time",
            "sel:\n    TimeCreated|hour: 22\ncondition: sel",
            vec![],
            true,
        ),
        (
            "hour gte",
            "sel:\n    UtcTime|hour|gte: 20\ncondition: sel",
            vec![("UtcTime", s("2024-03-05 23:01:02.123"))],
            true,
        ),
        (
            "minute",
            "sel:\n    UtcTime|minute: 1\ncondition: sel",
            vec![("UtcTime", s("2024-03-05 23:01:02.123"))],
            true,
        ),
        (
            "day",
            "sel:\n    UtcTime|day: 5\ncondition: sel",
            vec![("UtcTime", s("2024-03-05T23:01:02Z"))],
            true,
        ),
        (
            "week",
            "sel:\n    UtcTime|week: 10\ncondition: sel",
            vec![("UtcTime", s("2024-03-05 23:01:02"))],
            true,
        ),
        (
            "month",
            "sel:\n    UtcTime|month: 3\ncondition: sel",
            vec![("UtcTime", s("2024-03-05 23:01:02"))],
            true,
        ),
        (
            "year",
            "sel:\n    UtcTime|year|lt: 2020\ncondition: sel",
            vec![("UtcTime", s("2024-03-05 23:01:02"))],
            false,
        ),
        (
            "cidr v4",
            "sel:\n    IpAddress|cidr: '10.0.0.0/8'\ncondition: sel",
            vec![("IpAddress", s("10.1.2.3"))],
            true,
        ),
        (
            "cidr v4 outside",
            "sel:\n    IpAddress|cidr: '10.0.0.0/8'\ncondition: sel",
            vec![("IpAddress", s("11.1.2.3"))],
            false,
        ),
        (
            "cidr mapped v6",
            "sel:\n    IpAddress|cidr: '192.168.0.0/16'\ncondition: sel",
            vec![("IpAddress", s("::ffff:192.168.1.1"))],
            true,
        ),
        (
            "cidr v6",
            "sel:\n    IpAddress|cidr: 'fe80::/10'\ncondition: sel",
            vec![("IpAddress", s("fe80::1"))],
            true,
        ),
        (
            "cidr not an ip",
            "sel:\n    IpAddress|cidr: '10.0.0.0/8'\ncondition: sel",
            vec![("IpAddress", s("-"))],
            false,
        ),
        (
            "expand",
            "sel:\n    User|expand: '%Admins%'\ncondition: sel",
            vec![("User", s("ADM_bob"))],
            true,
        ),
        (
            "expand other",
            "sel:\n    User|expand: '%Admins%'\ncondition: sel",
            vec![("User", s("root"))],
            true,
        ),
        (
            "expand miss",
            "sel:\n    User|expand: '%Admins%'\ncondition: sel",
            vec![("User", s("bob"))],
            false,
        ),
        (
            "percent without expand is literal",
            "sel:\n    User: '%Admins%'\ncondition: sel",
            vec![("User", s("%admins%"))],
            true,
        ),
        (
            "fieldref",
            "sel:\n    TargetUserName|fieldref: SubjectUserName\ncondition: sel",
            vec![("TargetUserName", s("Bob")), ("SubjectUserName", s("bob"))],
            true,
        ),
        (
            "fieldref differs",
            "sel:\n    TargetUserName|fieldref: SubjectUserName\ncondition: sel",
            vec![("TargetUserName", s("Bob")), ("SubjectUserName", s("eve"))],
            false,
        ),
        (
            "fieldref neq",
            "sel:\n    TargetUserName|fieldref|neq: SubjectUserName\ncondition: sel",
            vec![("TargetUserName", s("Bob")), ("SubjectUserName", s("eve"))],
            true,
        ),
        (
            "fieldref endswith",
            "sel:\n    Image|fieldref|endswith: Name\ncondition: sel",
            vec![("Image", s("C:\\x\\a.exe")), ("Name", s("A.EXE"))],
            true,
        ),
        (
            "null matches absent",
            "sel:\n    Foo: null\ncondition: sel",
            vec![],
            true,
        ),
        (
            "null matches empty",
            "sel:\n    Foo: null\ncondition: sel",
            vec![("Foo", Value::Null)],
            true,
        ),
        (
            "null misses value",
            "sel:\n    Foo: null\ncondition: sel",
            vec![("Foo", s("x"))],
            false,
        ),
        (
            "empty string",
            "sel:\n    Foo: ''\ncondition: sel",
            vec![("Foo", s(""))],
            true,
        ),
        (
            "empty string misses absent",
            "sel:\n    Foo: ''\ncondition: sel",
            vec![],
            false,
        ),
        (
            "number equals text",
            "sel:\n    LogonType: 3\ncondition: sel",
            vec![("LogonType", s("3"))],
            true,
        ),
        (
            "number equals number",
            "sel:\n    LogonType: 3\ncondition: sel",
            vec![("LogonType", Value::UInt(3))],
            true,
        ),
        (
            "header EventID",
            "sel:\n    EventID: 1\n    Provider_Name: prov\ncondition: sel",
            vec![],
            true,
        ),
        (
            "list-valued field",
            "sel:\n    Data|contains: 'needle'\ncondition: sel",
            vec![("Data", Value::List(vec![s("hay"), s("a needle")]))],
            true,
        ),
        (
            "field names ignore case",
            "sel:\n    commandline|contains: 'x'\ncondition: sel",
            vec![("CommandLine", s("x"))],
            true,
        ),
        (
            "keywords",
            "kw:\n    - 'mimikatz'\n    - 'sekurlsa'\ncondition: kw",
            vec![("Any", s("run sekurlsa::logonpasswords"))],
            true,
        ),
        (
            "keywords miss",
            "kw:\n    - 'mimikatz'\ncondition: kw",
            vec![("Any", s("calc"))],
            false,
        ),
        (
            "keywords all",
            "kw:\n    '|all':\n        - 'Oab'\n        - ' -ExternalUrl '\ncondition: kw",
            vec![("A", s("Set-Oab x")), ("B", s(" -externalurl "))],
            true,
        ),
        (
            "keywords all miss",
            "kw:\n    '|all':\n        - 'Oab'\n        - ' -ExternalUrl '\ncondition: kw",
            vec![("A", s("Set-Oab x"))],
            false,
        ),
        (
            "list of maps is OR",
            "sel:\n    - Image|endswith: '\\a.exe'\n    - Description|contains: 'Test'\ncondition: sel",
            vec![("Description", s("a test"))],
            true,
        ),
        (
            "unicode case folding",
            "sel:\n    Name|contains: 'ÄRGER'\ncondition: sel",
            vec![("Name", s("viel ärger"))],
            true,
        ),
    ];
    let mut failures = Vec::new();
    for (name, detection, fields, want) in &cases {
        if matches(detection, fields) != *want {
            failures.push(*name);
        }
    }
    assert!(failures.is_empty(), "wrong result for: {failures:?}");
}

#[test]
fn condition_forms() {
    let sels = "a:\n    A: '1'\nb:\n    B: '1'\nsel_x:\n    X: '1'\nsel_y:\n    Y: '1'\n_hidden:\n    H: '1'\n";
    let ev = |names: &[&str]| -> Vec<(&'static str, Value)> {
        ["A", "B", "X", "Y", "H"]
            .iter()
            .map(|n| (*n, s(if names.contains(n) { "1" } else { "0" })))
            .collect()
    };
    let cases: Vec<(&str, Vec<&str>, bool)> = vec![
        ("a and b", vec!["A", "B"], true),
        ("a and b", vec!["A"], false),
        ("a or b", vec!["B"], true),
        ("not a", vec!["B"], true),
        ("not a", vec!["A"], false),
        ("a and not b", vec!["A"], true),
        ("a and (b or sel_x)", vec!["A", "X"], true),
        ("(a or b) and not (sel_x or sel_y)", vec!["A", "Y"], false),
        ("1 of sel_*", vec!["Y"], true),
        ("all of sel_*", vec!["Y"], false),
        ("all of sel_*", vec!["X", "Y"], true),
        ("2 of sel_*", vec!["X", "Y"], true),
        ("1 of them", vec!["H"], false),
        ("1 of them", vec!["B"], true),
        ("all of them", vec!["A", "B", "X", "Y"], true),
        ("a or b and sel_x", vec!["A"], true),
        ("not a or b", vec!["A"], false),
        ("not 1 of sel_*", vec!["A"], true),
    ];
    for (cond, set, want) in cases {
        let detection = format!("{sels}condition: {cond}");
        assert_eq!(matches(&detection, &ev(&set)), want, "{cond} with {set:?}");
    }
}

#[test]
fn rules_that_cannot_load_say_why() {
    let cases = [
        ("sel:\n    A|contain: x\ncondition: sel", "unknown modifier"),
        ("sel:\n    A|re: '(?<=x)y'\ncondition: sel", "not supported"),
        (
            "sel:\n    A|expand: '%Nope%'\ncondition: sel",
            "has no value",
        ),
        ("sel:\n    A|base64: 'a*'\ncondition: sel", "wildcards"),
        (
            "sel:\n    A|utf16le: 'äb'\ncondition: sel",
            "Base64-encoded",
        ),
        ("sel:\n    A|cidr: 'nonsense'\ncondition: sel", "CIDR"),
        ("sel:\n    A: x\ncondition: sel | count() > 4", "obsolete"),
    ];
    for (detection, want) in cases {
        let set = RuleSetBuilder::new(Mapping::builtin())
            .add_text("t.yml", rule(detection))
            .build();
        assert_eq!(set.rules().len(), 0, "{detection}");
        let reason = &set.skipped()[0].reason;
        assert!(reason.contains(want), "{detection}: {reason}");
    }
    let unmapped = "title: x\nlogsource: {product: windows, category: nothing_like_this}\ndetection:\n    s: {A: 1}\n    condition: s\n";
    let set = RuleSetBuilder::new(Mapping::builtin())
        .add_text("u.yml", unmapped)
        .build();
    assert_eq!(set.skipped()[0].class, "unmapped");
    let schema = "title: x\nlogsource: {product: windows}\nlevel: severe\ndetection:\n    s: {A: 1}\n    condition: s\n";
    let set = RuleSetBuilder::new(Mapping::builtin())
        .add_text("s.yml", schema)
        .build();
    assert_eq!(set.skipped()[0].class, "schema");
    assert!(
        set.skipped()[0].reason.contains("/level"),
        "{}",
        set.skipped()[0].reason
    );
}

#[test]
fn process_creation_maps_to_security_4688_fields() {
    let r = "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n    s:\n        Image|endswith: '\\whoami.exe'\n        ParentImage|endswith: '\\cmd.exe'\n    condition: s\n";
    let set = RuleSetBuilder::new(Mapping::builtin())
        .add_text("t.yml", r)
        .build();
    let mut e = event(&[
        ("NewProcessName", s("C:\\Windows\\System32\\whoami.exe")),
        ("ParentProcessName", s("C:\\Windows\\System32\\cmd.exe")),
    ]);
    e.channel = Some("Security".into());
    e.event_id = Some(4688);
    let hits = set.scan(&e);
    assert_eq!(hits.len(), 1);
    let fields: Vec<String> = set
        .matched_fields(&e, &hits[0])
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(fields, vec!["NewProcessName", "ParentProcessName"]);
    let explained = set.scan_explained(&e);
    assert_eq!(explained.len(), 1);
    assert_eq!(explained[0].0, hits[0]);
    let names: Vec<&str> = explained[0].1.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, vec!["NewProcessName", "ParentProcessName"]);
    e.event_id = Some(4689);
    assert!(set.scan(&e).is_empty());
    e.event_id = Some(4688);
    e.channel = Some("System".into());
    assert!(set.scan(&e).is_empty());
}
