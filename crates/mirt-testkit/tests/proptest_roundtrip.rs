//! Random events (names and values with non-ASCII text, quotes,
//! backslashes, control characters, long strings, numbers at their limits)
//! come back from mirt's EVTX reader as they were written.

mod common;

use common::read_bytes;
use mirt_core::Value;
use mirt_testkit::{EventSpec, EvtxWriter, FieldValue, from_filetime};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z_][A-Za-z0-9_]{0,24}",
        "[A-Za-zÄÖÜäöüßéñ_][A-Za-z0-9ÄÖÜäöüßéñ_.-]{0,12}",
    ]
    // `xmlns` attributes are namespace declarations, not data.
    .prop_filter("not a namespace", |n| !n.starts_with("xmlns"))
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[^\u{0}]{0,40}",
        3 => "[\"'\\\\<>&a-zäöüß€😀 \t\r\n%{}]{0,60}",
        1 => "[^\u{0}]{1000,3000}",
    ]
}

fn value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        4 => text().prop_map(FieldValue::Str),
        1 => any::<u16>().prop_map(FieldValue::U16),
        1 => any::<u32>().prop_map(FieldValue::U32),
        1 => any::<u64>().prop_map(FieldValue::U64),
        1 => any::<i64>().prop_map(FieldValue::I64),
        1 => any::<bool>().prop_map(FieldValue::Bool),
        1 => any::<u64>().prop_map(FieldValue::HexInt64),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(FieldValue::Binary),
    ]
}

/// What mirt's reader makes of a written value.
fn expected(value: &FieldValue) -> Value {
    match value {
        FieldValue::Str(s) => Value::from(s.as_str()),
        FieldValue::U16(n) => Value::UInt(u64::from(*n)),
        FieldValue::U32(n) => Value::UInt(u64::from(*n)),
        FieldValue::U64(n) => Value::UInt(*n),
        FieldValue::I64(n) if *n >= 0 => Value::UInt(*n as u64),
        FieldValue::I64(n) => Value::Int(*n),
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::HexInt64(n) => Value::from(format!("{n:#x}")),
        FieldValue::Binary(b) => {
            Value::from(b.iter().map(|x| format!("{x:02X}")).collect::<String>())
        }
        other => unreachable!("not generated: {other:?}"),
    }
}

#[derive(Debug, Clone)]
struct Case {
    event_id: u16,
    channel: String,
    computer: String,
    provider: String,
    time: u64,
    fields: BTreeMap<String, FieldValue>,
}

fn case() -> impl Strategy<Value = Case> {
    let header_text = "[^\u{0}]{1,30}";
    (
        any::<u16>(),
        header_text,
        header_text,
        header_text,
        // 1601 to 9999, the years a FILETIME is rendered for.
        0u64..2_650_467_744_000_000_000,
        prop::collection::btree_map(name(), value(), 0..8),
    )
        .prop_map(
            |(event_id, channel, computer, provider, time, fields)| Case {
                event_id,
                channel,
                computer,
                provider,
                time,
                fields,
            },
        )
}

fn spec(case: &Case) -> EventSpec {
    let spec = EventSpec::new(case.event_id)
        .channel(&case.channel)
        .computer(&case.computer)
        .provider(&case.provider)
        .filetime(case.time);
    case.fields
        .iter()
        .fold(spec, |s, (n, v)| s.data(n, v.clone()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_events_round_trip(cases in prop::collection::vec(case(), 1..5), first_id in 1u64..1_000_000) {
        let bytes = EvtxWriter::new()
            .first_record_id(first_id)
            .extend(cases.iter().map(spec))
            .to_bytes()
            .unwrap();
        let read = read_bytes(&bytes, "random.evtx");
        prop_assert!(read.problems.is_empty(), "{:?}", read.problems);
        prop_assert_eq!(read.events.len(), cases.len());
        for (i, (event, case)) in read.events.iter().zip(&cases).enumerate() {
            prop_assert_eq!(event.record_id, Some(first_id + i as u64));
            prop_assert_eq!(event.event_id, Some(u32::from(case.event_id)));
            prop_assert_eq!(event.channel.as_deref(), Some(case.channel.as_str()));
            prop_assert_eq!(event.computer.as_deref(), Some(case.computer.as_str()));
            prop_assert_eq!(event.provider.as_deref(), Some(case.provider.as_str()));
            prop_assert_eq!(event.timestamp, from_filetime(case.time));
            let got: Vec<(&str, &Value)> = event.fields.iter().collect();
            let want: Vec<(&str, Value)> = case.fields.iter().map(|(n, v)| (n.as_str(), expected(v))).collect();
            let want: Vec<(&str, &Value)> = want.iter().map(|(n, v)| (*n, v)).collect();
            prop_assert_eq!(got, want);
        }
    }
}
