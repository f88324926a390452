//! Reading an event's fields without copying: the typed header by its Sigma
//! names, `EventData` and `System` items by index, numbers formatted into a
//! reused buffer.

use mirt_core::{Event, Timestamp, Value};
use std::fmt::Write;

/// A header field of [`Event`], by the names Sigma rules use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    EventId,
    Channel,
    Provider,
    Computer,
    Level,
    RecordId,
    UserId,
    Message,
    Time,
}

impl Header {
    /// The header field a name stands for (as `Event::get` resolves it,
    /// plus `TimeCreated` for the event time).
    pub(crate) fn from_name(name: &str) -> Option<Header> {
        Some(match name {
            "EventID" => Header::EventId,
            "Channel" => Header::Channel,
            "Provider_Name" | "Provider" => Header::Provider,
            "Computer" => Header::Computer,
            "Level" => Header::Level,
            "EventRecordID" => Header::RecordId,
            "UserID" | "SecurityUserID" => Header::UserId,
            "Message" | "message" => Header::Message,
            "TimeCreated" | "@timestamp" => Header::Time,
            _ => return None,
        })
    }
}

/// A borrowed field value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FieldRef<'e> {
    Value(&'e Value),
    Str(&'e str),
    UInt(u64),
    Time(Timestamp),
}

/// Where a field was found in the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Loc {
    Absent,
    Field(u32),
    System(u32),
    Header(Header),
}

/// The value at `loc`.
pub(crate) fn value_at(event: &Event, loc: Loc) -> Option<FieldRef<'_>> {
    match loc {
        Loc::Absent => None,
        Loc::Field(i) => event
            .fields
            .get_index(i as usize)
            .map(|(_, v)| FieldRef::Value(v)),
        Loc::System(i) => event
            .system
            .get_index(i as usize)
            .map(|(_, v)| FieldRef::Value(v)),
        Loc::Header(h) => header(event, h),
    }
}

fn header(e: &Event, h: Header) -> Option<FieldRef<'_>> {
    match h {
        Header::EventId => e.event_id.map(|n| FieldRef::UInt(n.into())),
        Header::Channel => e.channel.as_deref().map(FieldRef::Str),
        Header::Provider => e.provider.as_deref().map(FieldRef::Str),
        Header::Computer => e.computer.as_deref().map(FieldRef::Str),
        Header::Level => e.level.map(|n| FieldRef::UInt(n.into())),
        Header::RecordId => e.record_id.map(FieldRef::UInt),
        Header::UserId => e.user_sid.as_deref().map(FieldRef::Str),
        Header::Message => e.message.as_deref().map(FieldRef::Str),
        Header::Time => e.timestamp.map(FieldRef::Time),
    }
}

/// Calls `f` with each text form of the value (each item of a list) until
/// it returns true; returns whether it did.
pub(crate) fn any_text(v: FieldRef<'_>, buf: &mut String, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match v {
        FieldRef::Str(s) => f(s),
        FieldRef::UInt(n) => f(itoa::Buffer::new().format(n)),
        FieldRef::Time(t) => {
            buf.clear();
            let _ = write!(buf, "{t}");
            f(buf)
        }
        FieldRef::Value(v) => value_text(v, buf, f),
    }
}

fn value_text(v: &Value, buf: &mut String, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match v {
        Value::Str(s) => f(s),
        Value::Null => f(""),
        Value::List(items) => items.iter().any(|i| value_text(i, buf, f)),
        Value::Bool(b) => f(if *b { "true" } else { "false" }),
        // Numbers of every event are written out for keyword searches:
        // itoa, not the formatting machinery.
        Value::Int(n) => f(itoa::Buffer::new().format(*n)),
        Value::UInt(n) => f(itoa::Buffer::new().format(*n)),
        Value::Float(x) => {
            buf.clear();
            let _ = write!(buf, "{x}");
            f(buf)
        }
    }
}

/// Whether the value is null or empty text.
pub(crate) fn is_null_or_empty(v: FieldRef<'_>) -> bool {
    match v {
        FieldRef::Str(s) => s.is_empty(),
        FieldRef::Value(Value::Null) => true,
        FieldRef::Value(Value::Str(s)) => s.is_empty(),
        FieldRef::Value(Value::List(items)) => items.is_empty(),
        _ => false,
    }
}

/// The value as numbers (each item of a list), from numbers or numeric
/// text (decimal or `0x` hex).
pub(crate) fn any_number(v: FieldRef<'_>, f: &mut dyn FnMut(f64) -> bool) -> bool {
    fn of_value(v: &Value, f: &mut dyn FnMut(f64) -> bool) -> bool {
        match v {
            Value::List(items) => items.iter().any(|i| of_value(i, f)),
            Value::Str(s) => parse_number(s).is_some_and(&mut *f),
            other => other.as_f64().is_some_and(f),
        }
    }
    match v {
        FieldRef::UInt(n) => f(n as f64),
        FieldRef::Str(s) => parse_number(s).is_some_and(f),
        FieldRef::Time(_) => false,
        FieldRef::Value(v) => of_value(v, f),
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|n| n as f64),
        None => s.parse().ok(),
    }
}

/// The value as a point in time: the event time, RFC 3339 text, or a date
/// and time without offset (Sysmon's `UtcTime`), taken as UTC.
pub(crate) fn as_time(v: FieldRef<'_>) -> Option<jiff::civil::DateTime> {
    match v {
        FieldRef::Time(ts) => Some(ts.to_zoned(jiff::tz::TimeZone::UTC).datetime()),
        FieldRef::Str(s) => parse_time(s),
        FieldRef::Value(Value::Str(s)) => parse_time(s),
        _ => None,
    }
}

fn parse_time(s: &str) -> Option<jiff::civil::DateTime> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts.to_zoned(jiff::tz::TimeZone::UTC).datetime());
    }
    s.parse::<jiff::civil::DateTime>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_of_every_kind() {
        let mut buf = String::new();
        let mut seen = Vec::new();
        let list = Value::List(vec![
            Value::from("a"),
            Value::UInt(7),
            Value::Null,
            Value::Bool(true),
        ]);
        any_text(FieldRef::Value(&list), &mut buf, &mut |t| {
            seen.push(t.to_string());
            false
        });
        assert_eq!(seen, vec!["a", "7", "", "true"]);
        assert!(any_text(FieldRef::UInt(4688), &mut buf, &mut |t| t == "4688"));
    }

    #[test]
    fn numbers_and_times() {
        assert!(any_number(FieldRef::Str("0x10"), &mut |n| n == 16.0));
        assert!(any_number(FieldRef::Value(&Value::Int(-3)), &mut |n| n < 0.0));
        assert!(!any_number(FieldRef::Str("abc"), &mut |_| true));
        let t = as_time(FieldRef::Str("2019-03-02 08:51:00.008")).unwrap();
        assert_eq!((t.hour(), t.minute(), t.day()), (8, 51, 2));
        let z = as_time(FieldRef::Str("2024-12-31T23:30:00+01:00")).unwrap();
        assert_eq!((z.hour(), z.day()), (22, 31));
        assert!(is_null_or_empty(FieldRef::Value(&Value::Null)));
        assert_eq!(Header::from_name("Provider_Name"), Some(Header::Provider));
    }
}
