//! A direct JSON writer for events, for the output hot path: it gives the
//! same bytes as the `serde` implementations, at a fraction of the cost.
//! Strings are checked for characters to escape sixteen bytes at a time,
//! keys known in advance are written as literals, times without `fmt`, and
//! an [`EventWriter`] escapes each source path once rather than per event.

mod escape;

use crate::{Event, Fields, Raw, Source, Value};
use escape::write_key;
pub use escape::write_str;
use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

/// Writes events as JSON Lines records, remembering the escaped form of the
/// last source path: the events of one file (or one chunk of it) share
/// their path, so it is escaped once for all of them. Keep one per thread
/// or per batch of output.
///
/// ```
/// use mirt_core::{Event, Source, SourceKind, json::EventWriter};
///
/// let event = Event::new(Source::new(SourceKind::Evtx, "Security.evtx", 4096));
/// let mut writer = EventWriter::new();
/// let mut out = Vec::new();
/// writer.write_event(&mut out, &event);
/// assert_eq!(out, serde_json::to_vec(&event).unwrap());
/// ```
#[derive(Debug, Default, Clone)]
pub struct EventWriter {
    /// The path whose JSON form `path_json` holds; kept alive so that a
    /// new path can never reuse its address.
    path: Option<Arc<Path>>,
    path_json: Vec<u8>,
}

impl EventWriter {
    /// A writer with nothing remembered yet.
    pub fn new() -> Self {
        EventWriter::default()
    }

    /// Appends `e` as one JSON object, the same bytes as its `Serialize`.
    pub fn write_event(&mut self, out: &mut Vec<u8>, e: &Event) {
        let path = &e.source.path;
        if !self.path.as_ref().is_some_and(|p| Arc::ptr_eq(p, path)) {
            self.path_json.clear();
            write_str(&mut self.path_json, &path.to_string_lossy());
            self.path = Some(Arc::clone(path));
        }
        write_event_with(out, e, &self.path_json);
    }
}

/// Appends an event as one JSON object, the same bytes as its `Serialize`.
/// Each thread keeps an [`EventWriter`] for it, so that the events of one
/// file, rendered on a worker one after the other, share the escaped path.
pub fn write_event(out: &mut Vec<u8>, e: &Event) {
    thread_local! {
        static WRITER: RefCell<EventWriter> = RefCell::new(EventWriter::new());
    }
    WRITER.with(|writer| match writer.try_borrow_mut() {
        Ok(mut writer) => writer.write_event(out, e),
        // Only reachable from a nested call; never in practice.
        Err(_) => EventWriter::new().write_event(out, e),
    });
}

/// Appends a value as JSON.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Value::UInt(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        // Rare: let serde_json format floats (and non-finite ones as null).
        Value::Float(_) => {
            let _ = serde_json::to_writer(&mut *out, value);
        }
        Value::Str(s) => write_str(out, s),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
    }
}

/// Appends fields as a JSON object.
pub fn write_fields(out: &mut Vec<u8>, fields: &Fields) {
    out.push(b'{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_key(out, k);
        write_value(out, v);
    }
    out.push(b'}');
}

/// The members of an object being written, with keys known in advance.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Object<'_> {
    /// Starts a member: `key` is written as given, a literal of the form
    /// `,"name":` whose comma is dropped for the first member.
    #[inline]
    fn key(&mut self, key: &'static [u8]) -> &mut Vec<u8> {
        let key = if self.first { &key[1..] } else { key };
        self.first = false;
        self.out.extend_from_slice(key);
        self.out
    }

    #[inline]
    fn str(&mut self, key: &'static [u8], value: Option<&str>) {
        if let Some(v) = value {
            write_str(self.key(key), v);
        }
    }

    #[inline]
    fn uint(&mut self, key: &'static [u8], value: Option<u64>) {
        if let Some(v) = value {
            let mut buf = itoa::Buffer::new();
            let text = buf.format(v);
            self.key(key).extend_from_slice(text.as_bytes());
        }
    }
}

fn write_source(out: &mut Vec<u8>, source: &Source, path_json: &[u8]) {
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(source.kind.name().as_bytes());
    out.extend_from_slice(b"\",\"path\":");
    out.extend_from_slice(path_json);
    let mut o = Object { out, first: false };
    o.uint(b",\"offset\":", Some(source.offset));
    o.uint(b",\"chunk\":", source.chunk);
    o.uint(b",\"line\":", source.line);
    o.str(b",\"format\":", source.format);
    out.push(b'}');
}

/// [`write_event`] with the source path already in JSON.
fn write_event_with(out: &mut Vec<u8>, e: &Event, path_json: &[u8]) {
    // One reservation for the usual event: the fields' text and a little
    // for the keys and punctuation around each.
    out.reserve(256 + path_json.len() + 48 * (e.fields.len() + e.system.len()));
    out.push(b'{');
    let mut o = Object { out, first: true };
    if let Some(ts) = e.timestamp {
        let out = o.key(b",\"timestamp\":\"");
        crate::time::write_rfc3339(out, ts);
        out.push(b'"');
    }
    o.str(b",\"computer\":", e.computer.as_deref());
    o.str(b",\"channel\":", e.channel.as_deref());
    o.str(b",\"provider\":", e.provider.as_deref());
    o.uint(b",\"event_id\":", e.event_id.map(u64::from));
    o.uint(b",\"level\":", e.level.map(u64::from));
    o.uint(b",\"record_id\":", e.record_id);
    o.str(b",\"user_sid\":", e.user_sid.as_deref());
    o.str(b",\"message\":", e.message.as_deref());
    write_fields(o.key(b",\"fields\":"), &e.fields);
    if !e.system.is_empty() {
        write_fields(o.key(b",\"system\":"), &e.system);
    }
    write_source(o.key(b",\"source\":"), &e.source, path_json);
    match &e.raw {
        // Embedded verbatim, as serde_json writes a `RawValue`.
        Some(Raw::Json(raw)) => o.key(b",\"raw\":").extend_from_slice(raw.get().as_bytes()),
        Some(Raw::Text(text)) => write_str(o.key(b",\"raw\":"), text),
        None => {}
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Source, SourceKind};

    fn both_ways(e: &Event) {
        let serde = serde_json::to_string(e).unwrap();
        let mut out = Vec::new();
        write_event(&mut out, e);
        assert_eq!(String::from_utf8(out).unwrap(), serde);
        // Twice through one writer: the remembered path is reused.
        let mut writer = EventWriter::new();
        let mut out = Vec::new();
        writer.write_event(&mut out, e);
        writer.write_event(&mut out, e);
        assert_eq!(String::from_utf8(out).unwrap(), serde.repeat(2));
    }

    #[test]
    fn events_match_their_serde_form() {
        let mut e = Event::new(Source::new(
            SourceKind::Evtx,
            "C:\\logs\\Security.evtx",
            4096,
        ));
        e.timestamp = Some("2024-01-02T03:04:05.5Z".parse().unwrap());
        e.event_id = Some(4688);
        e.record_id = Some(9);
        e.level = Some(4);
        e.channel = Some("Security".into());
        e.computer = Some("PC\u{1}".into());
        e.provider = Some("P".into());
        e.user_sid = Some("S-1-5-18".into());
        e.fields
            .push("CommandLine", Value::from("cmd.exe /c \"x\""));
        e.fields.push("N", Value::Int(-3));
        e.fields.push("U", Value::UInt(u64::MAX));
        e.fields.push("F", Value::Float(1.5));
        e.fields.push("NaN", Value::Float(f64::NAN));
        e.fields.push("Key \"quoted\"", Value::Bool(false));
        e.fields
            .push("L", Value::List(vec![Value::Null, Value::Bool(true)]));
        e.system.push("Task", Value::UInt(12544));
        e.source.chunk = Some(3);
        e.raw = Some(Raw::Json(
            serde_json::value::RawValue::from_string(r#"{"a": [1, "x"]}"#.into()).unwrap(),
        ));
        both_ways(&e);
        // Before 1970: the time goes through jiff.
        e.timestamp = Some("1601-01-01T00:00:00Z".parse().unwrap());
        e.raw = Some(Raw::Text("line \"with\" quotes\n".into()));
        both_ways(&e);
    }

    #[test]
    fn log_lines_match_their_serde_form() {
        // A text log line, with the parts of the source EVTX does not set.
        let mut source = Source::new(SourceKind::TextLog, "/var/log/\"auth\".log", 77);
        source.line = Some(3);
        source.format = Some("syslog");
        let mut line = Event::new(source);
        line.message = Some("Accepted password".into());
        both_ways(&line);
        // Nothing but the source.
        both_ways(&Event::new(Source::new(SourceKind::TextLog, "ü.log", 0)));
    }

    #[test]
    fn a_new_path_is_noticed() {
        let mut writer = EventWriter::new();
        for path in ["a.evtx", "b.evtx", "a.evtx"] {
            let e = Event::new(Source::new(SourceKind::Evtx, path, 0));
            let mut out = Vec::new();
            writer.write_event(&mut out, &e);
            assert_eq!(out, serde_json::to_vec(&e).unwrap());
        }
    }
}
