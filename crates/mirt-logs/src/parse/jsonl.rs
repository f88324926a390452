//! JSON Lines: one object per line. Nested objects are flattened to dotted
//! names (`protoPayload.authenticationInfo.principalEmail`), arrays of
//! objects with their index (`Parameters.0.Name`); arrays of plain values
//! stay lists. The time is taken from the first of the usual time members.

use super::{FileCtx, FormatParser, Parsed, Rec, State};
use compact_str::CompactString;
use jiff::Timestamp;
use mirt_core::{Fields, Raw, Value};
use serde_json::Map;

/// The JSON Lines parser.
pub(crate) struct JsonlParser;

/// Top-level members that hold the event time, in order of preference
/// (Elastic, generic, CloudTrail, Microsoft 365, Azure, GCP, Windows).
const TIME_KEYS: [&str; 14] = [
    "@timestamp",
    "timestamp",
    "eventTime",
    "CreationTime",
    "time",
    "TimeGenerated",
    "TimeCreated",
    "datetime",
    "date",
    "ts",
    "EventTime",
    "receiveTimestamp",
    "eventTimestamp",
    "created_at",
];

/// A time written as text: RFC 3339 / ISO 8601, the other forms the
/// generic reader knows, or epoch seconds/milliseconds.
pub(crate) fn time_from_text(text: &str, ctx: &FileCtx) -> Option<Timestamp> {
    let t = text.trim();
    if let Some((dt, off, _)) = crate::timefmt::iso_datetime(t.as_bytes()) {
        return ctx.clock.resolve(dt, off);
    }
    if let Some((ts, _)) = super::generic::leading_time(t, &ctx.clock, ctx.year_now) {
        return Some(ts);
    }
    epoch(t)
}

/// Seconds, milliseconds, microseconds or nanoseconds since 1970 written
/// as decimal text, told apart by the number of integer digits; computed
/// exactly (no floating point).
fn epoch(text: &str) -> Option<Timestamp> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty()
        || int.len() > 19
        || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let scale: u32 = match int.len() {
        0..=11 => 9,
        12..=14 => 6,
        15..=17 => 3,
        _ => 0,
    };
    let mut nanos: i128 = int.parse::<i128>().ok()? * 10i128.pow(scale);
    for (i, c) in frac.bytes().take(scale as usize).enumerate() {
        nanos += i128::from(c - b'0') * 10i128.pow(scale - 1 - i as u32);
    }
    Timestamp::from_nanosecond(nanos).ok()
}

fn flatten(prefix: &mut String, v: &serde_json::Value, out: &mut Fields) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                let len = prefix.len();
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(k);
                flatten(prefix, item, out);
                prefix.truncate(len);
            }
        }
        serde_json::Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            for (i, item) in items.iter().enumerate() {
                let len = prefix.len();
                prefix.push('.');
                prefix.push_str(itoa::Buffer::new().format(i));
                flatten(prefix, item, out);
                prefix.truncate(len);
            }
        }
        other => out.push(CompactString::from(prefix.as_str()), Value::from(other)),
    }
}

impl FormatParser for JsonlParser {
    fn parse(&self, _state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed {
        let text = rec.text.strip_prefix('\u{feff}').unwrap_or(rec.text).trim();
        if text.is_empty() {
            return Parsed::Skip;
        }
        let map: Map<String, serde_json::Value> = match serde_json::from_str(text) {
            Ok(map) => map,
            Err(e) => return Parsed::Fail(format!("not a JSON object: {e}")),
        };
        let mut ev = ctx.event(rec, "jsonl");
        for key in TIME_KEYS {
            let ts = match map.get(key) {
                Some(serde_json::Value::String(t)) => time_from_text(t, ctx),
                Some(serde_json::Value::Number(n)) => epoch(&n.to_string()),
                _ => None,
            };
            if ts.is_some() {
                ev.timestamp = ts;
                break;
            }
        }
        let mut prefix = String::new();
        flatten(&mut prefix, &serde_json::Value::Object(map), &mut ev.fields);
        if ctx.keep_raw
            && let Ok(raw) = serde_json::value::RawValue::from_string(text.to_string())
        {
            ev.raw = Some(Raw::Json(raw));
        }
        Parsed::Event(Box::new(ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::Clock;
    use std::sync::Arc;

    fn parse(line: &str) -> Result<mirt_core::Event, String> {
        let ctx = FileCtx {
            path: Arc::from(std::path::Path::new("x.jsonl")),
            clock: Clock::new(None),
            keep_raw: true,
            format: crate::LogFormat::Jsonl,
            year_now: 2020,
        };
        let rec = Rec {
            text: line,
            offset: 0,
            line: 0,
        };
        match JsonlParser.parse(&mut State::None, &rec, &ctx) {
            Parsed::Event(e) => Ok(*e),
            Parsed::Fail(r) => Err(r),
            Parsed::Skip => Err("skip".into()),
        }
    }

    #[test]
    fn nested_members_are_flattened() {
        let e = parse(r#"{"eventTime":"2021-10-19T02:57:47.834659236Z","a":{"b":{"c":1}},"tags":["x","y"],"P":[{"Name":"n","Value":"v"}],"n":null}"#).unwrap();
        assert_eq!(
            e.timestamp.unwrap().to_string(),
            "2021-10-19T02:57:47.834659236Z"
        );
        assert_eq!(e.fields.get("a.b.c"), Some(&Value::Int(1)));
        assert_eq!(
            e.fields.get("tags"),
            Some(&Value::List(vec!["x".into(), "y".into()]))
        );
        assert_eq!(e.fields.get("P.0.Value"), Some(&Value::from("v")));
        assert_eq!(e.fields.get("n"), Some(&Value::Null));
        assert!(matches!(e.raw, Some(Raw::Json(_))));
    }

    #[test]
    fn times_in_other_spellings() {
        let e = parse(r#"{"CreationTime":"2022-05-07T12:55:53"}"#).unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2022-05-07T12:55:53Z");
        let e = parse(r#"{"ts":1700000000.5}"#).unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2023-11-14T22:13:20.5Z");
        let e = parse(r#"{"timestamp":"1700000000123"}"#).unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2023-11-14T22:13:20.123Z");
        assert!(parse("[1,2]").is_err());
        assert!(parse("{\"a\":").is_err());
    }
}
