//! Events written with the testkit come back from mirt's EVTX reader with
//! their header fields, typed data, record ids, times and channels.

mod common;

use common::{read_bytes, read_path};
use mirt_core::Value;
use mirt_testkit::{Encoding, EventSpec, EvtxWriter, FieldValue, layout};

fn logon() -> EventSpec {
    EventSpec::new(4624)
        .channel("Security")
        .provider("Microsoft-Windows-Security-Auditing")
        .provider_guid("{54849625-5478-4994-A5BA-3E3B0328C30D}")
        .computer("WS01.rathaus.local")
        .time("2024-03-01T10:00:00.1234567Z")
        .level(0)
        .task(12544)
        .opcode(0)
        .version(2)
        .keywords(0x8020_0000_0000_0000)
        .execution(664, 1480)
        .activity_id("{a1b2c3d4-0000-4000-8000-00000000abcd}")
        .user_id("S-1-5-18")
        .data_sid("SubjectUserSid", "S-1-5-18")
        .data("TargetUserName", "alice")
        .data_hex64("TargetLogonId", 0x1_a3f2_4711)
        .data_u32("LogonType", 3)
        .data_u16("Port", 445)
        .data_u8("Small", 7)
        .data_u64("Big", u64::MAX)
        .data_i32("Negative", -2)
        .data_i64("Wide", i64::MIN)
        .data_bool("Elevated", true)
        .data_guid("LogonGuid", "{00000000-0000-0000-0000-00000000000F}")
        .data_filetime("When", "2024-02-29T23:59:59.9999999Z")
        .data_hex32("Status", 0xc000_006d)
        .data_binary("Blob", &[0x00, 0xab, 0xff])
        .data("Ratio", 0.5f64)
        .data("Ansi", FieldValue::Ansi("plain ascii".into()))
        .data_null("Missing")
        .data("Empty", "")
}

#[test]
fn header_fields_come_back_typed() {
    let read = read_bytes(
        &EvtxWriter::new().push(logon()).to_bytes().unwrap(),
        "a.evtx",
    );
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let [e] = read.events.as_slice() else {
        panic!("one event: {:?}", read.events)
    };
    assert_eq!(e.event_id, Some(4624));
    assert_eq!(e.record_id, Some(1));
    assert_eq!(e.channel.as_deref(), Some("Security"));
    assert_eq!(
        e.provider.as_deref(),
        Some("Microsoft-Windows-Security-Auditing")
    );
    assert_eq!(e.computer.as_deref(), Some("WS01.rathaus.local"));
    assert_eq!(e.level, Some(0));
    assert_eq!(e.user_sid.as_deref(), Some("S-1-5-18"));
    assert_eq!(
        e.timestamp.unwrap().to_string(),
        "2024-03-01T10:00:00.1234567Z"
    );
    let system = |name| e.system.get(name).cloned();
    assert_eq!(system("Task"), Some(Value::UInt(12544)));
    assert_eq!(system("Version"), Some(Value::UInt(2)));
    assert_eq!(system("ProcessID"), Some(Value::UInt(664)));
    assert_eq!(system("ThreadID"), Some(Value::UInt(1480)));
    assert_eq!(system("Keywords"), Some(Value::from("0x8020000000000000")));
    assert_eq!(
        system("Provider_Guid"),
        Some(Value::from("{54849625-5478-4994-a5ba-3e3b0328c30d}"))
    );
    assert_eq!(
        system("ActivityID"),
        Some(Value::from("{a1b2c3d4-0000-4000-8000-00000000abcd}"))
    );
}

#[test]
fn data_items_keep_their_types() {
    let read = read_bytes(
        &EvtxWriter::new().push(logon()).to_bytes().unwrap(),
        "a.evtx",
    );
    let fields = &read.events[0].fields;
    let expected = [
        ("SubjectUserSid", Value::from("S-1-5-18")),
        ("TargetUserName", Value::from("alice")),
        ("TargetLogonId", Value::from("0x1a3f24711")),
        ("LogonType", Value::UInt(3)),
        ("Port", Value::UInt(445)),
        ("Small", Value::UInt(7)),
        ("Big", Value::UInt(u64::MAX)),
        ("Negative", Value::Int(-2)),
        ("Wide", Value::Int(i64::MIN)),
        ("Elevated", Value::Bool(true)),
        (
            "LogonGuid",
            Value::from("{00000000-0000-0000-0000-00000000000f}"),
        ),
        ("When", Value::from("2024-02-29T23:59:59.9999999Z")),
        ("Status", Value::from("0xc000006d")),
        ("Blob", Value::from("00ABFF")),
        // The evtx crate renders win:Double as text.
        ("Ratio", Value::from("0.5")),
        ("Ansi", Value::from("plain ascii")),
        // A NULL substitution in EventData renders as empty text.
        ("Missing", Value::from("")),
        ("Empty", Value::from("")),
    ];
    let got: Vec<(&str, &Value)> = fields.iter().collect();
    let want: Vec<(&str, &Value)> = expected.iter().map(|(n, v)| (*n, v)).collect();
    assert_eq!(got, want);
}

#[test]
fn user_data_comes_back_flattened() {
    let cleared = EventSpec::new(1102)
        .channel("Security")
        .provider("Microsoft-Windows-Eventlog")
        .user_data(
            "LogFileCleared",
            "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
        )
        .data("SubjectUserSid", FieldValue::sid("S-1-5-21-1-2-3-1130"))
        .data("SubjectUserName", "it-service")
        .data("SubjectLogonId", FieldValue::HexInt64(0x3e7));
    let read = read_bytes(
        &EvtxWriter::new().push(cleared).to_bytes().unwrap(),
        "a.evtx",
    );
    let e = &read.events[0];
    assert_eq!(e.event_id, Some(1102));
    assert_eq!(
        e.fields.get("SubjectUserSid"),
        Some(&Value::from("S-1-5-21-1-2-3-1130"))
    );
    assert_eq!(
        e.fields.get("SubjectUserName"),
        Some(&Value::from("it-service"))
    );
    assert_eq!(e.fields.get("SubjectLogonId"), Some(&Value::from("0x3e7")));
    assert_eq!(e.fields.len(), 3);
}

#[test]
fn classic_events_have_qualifiers_unnamed_data_and_binary() {
    let service = EventSpec::new(7036)
        .channel("System")
        .provider("Service Control Manager")
        .event_source_name("Service Control Manager")
        .qualifiers(16384)
        .unnamed("Druckwarteschlange")
        .unnamed(4u32)
        .binary(&[0x53, 0x00]);
    let read = read_bytes(
        &EvtxWriter::new().push(service).to_bytes().unwrap(),
        "a.evtx",
    );
    let e = &read.events[0];
    assert_eq!(e.event_id, Some(7036));
    assert_eq!(
        e.system.get("EventSourceName"),
        Some(&Value::from("Service Control Manager"))
    );
    assert_eq!(
        e.fields.get("Data"),
        Some(&Value::List(vec![
            Value::from("Druckwarteschlange"),
            Value::UInt(4)
        ]))
    );
    assert_eq!(e.fields.get("Binary"), Some(&Value::from("5300")));
}

#[test]
fn events_without_data_or_optional_header_parts() {
    let bare = EventSpec::new(1).without_data();
    let read = read_bytes(&EvtxWriter::new().push(bare).to_bytes().unwrap(), "a.evtx");
    let e = &read.events[0];
    assert!(e.fields.is_empty());
    assert_eq!(e.user_sid, None);
    assert_eq!(e.system.get("Provider_Guid"), None);
    assert_eq!(e.channel.as_deref(), Some("Application"));
}

#[test]
fn records_spill_over_into_further_chunks_in_order() {
    let events = (0..700u32).map(|i| {
        EventSpec::new(4688)
            .channel("Security")
            .time(&format!("2024-03-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60))
            .data(
                "CommandLine",
                format!("cmd.exe /c echo {i} {}", "x".repeat(i as usize % 300)),
            )
            .data_u32("Index", i)
    });
    let bytes = EvtxWriter::new()
        .first_record_id(1000)
        .extend(events)
        .to_bytes()
        .unwrap();
    let chunks = layout::chunk_count(&bytes);
    assert!(chunks >= 3, "{chunks} chunks");
    assert_eq!(bytes.len(), 4096 + chunks * 65536);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.evtx");
    std::fs::write(&path, &bytes).unwrap();
    // In parallel too: order and content must not depend on the threads.
    for threads in [1, 4] {
        let read = read_path(&path, threads);
        assert!(read.problems.is_empty(), "{:?}", read.problems);
        assert_eq!(read.record_ids(), (1000..1700).collect::<Vec<_>>());
        let locations = layout::records(&bytes);
        for (e, loc) in read.events.iter().zip(&locations) {
            assert_eq!(e.source.offset, loc.offset as u64);
            assert_eq!(e.source.chunk, Some(loc.chunk as u64));
            let i = e.record_id.unwrap() - 1000;
            assert_eq!(e.fields.get("Index"), Some(&Value::UInt(i)));
        }
    }
}

#[test]
fn record_ids_can_be_chosen() {
    let bytes = EvtxWriter::new()
        .push(EventSpec::new(1).record_id(42))
        .push(EventSpec::new(2))
        .push(EventSpec::new(3).record_id(7))
        .to_bytes()
        .unwrap();
    let read = read_bytes(&bytes, "ids.evtx");
    assert_eq!(read.record_ids(), vec![42, 43, 7]);
}

#[test]
fn plain_encoding_reads_back_as_text() {
    let bytes = EvtxWriter::new()
        .encoding(Encoding::Plain)
        .push(logon())
        .to_bytes()
        .unwrap();
    let read = read_bytes(&bytes, "plain.evtx");
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    let e = &read.events[0];
    assert_eq!(e.record_id, Some(1));
    assert_eq!(e.channel.as_deref(), Some("Security"));
    assert_eq!(
        e.timestamp.unwrap().to_string(),
        "2024-03-01T10:00:00.1234567Z"
    );
    assert_eq!(e.fields.get("LogonType"), Some(&Value::from("3")));
    assert_eq!(
        e.fields.get("TargetLogonId"),
        Some(&Value::from("0x1a3f24711"))
    );
    assert_eq!(
        e.fields.get("When"),
        Some(&Value::from("2024-02-29T23:59:59.9999999Z"))
    );
}

#[test]
fn a_log_without_events_is_a_bare_header() {
    let bytes = EvtxWriter::new().to_bytes().unwrap();
    assert_eq!(bytes.len(), 4096);
    let read = read_bytes(&bytes, "none.evtx");
    assert!(
        read.events.is_empty() && read.problems.is_empty(),
        "{read:?}"
    );
}

#[test]
fn a_record_larger_than_a_chunk_is_an_error() {
    let huge = EventSpec::new(1)
        .data("A", "a".repeat(30_000))
        .data("B", "b".repeat(30_000));
    let err = EvtxWriter::new().push(huge).to_bytes().unwrap_err();
    assert!(
        matches!(
            err,
            mirt_testkit::Error::RecordTooLarge { record_id: 1, .. }
        ),
        "{err}"
    );
    let too_long = EventSpec::new(1)
        .data("A", "x")
        .data("B", "a".repeat(40_000));
    let err = EvtxWriter::new().push(too_long).to_bytes().unwrap_err();
    assert_eq!(
        err.to_string(),
        "record 1: data item 2 is 80000 bytes long, more than BinXML's 65535"
    );
}
