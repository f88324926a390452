//! The normalised event that every parser produces.

use crate::{Fields, Timestamp, Value};
use compact_str::CompactString;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// What kind of evidence an event was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SourceKind {
    /// A Windows XML event log (`.evtx`).
    Evtx,
    /// A line-oriented text log.
    TextLog,
}

impl SourceKind {
    /// The name used in output (`evtx`, `text_log`).
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Evtx => "evtx",
            SourceKind::TextLog => "text_log",
        }
    }
}

/// Where an event was read from: the file, and the byte offset of its record
/// or line in that file, so that an examiner can find it again.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The kind of evidence.
    pub kind: SourceKind,
    /// The file, shared by all events read from it.
    pub path: Arc<Path>,
    /// Byte offset of the record or line in the file.
    pub offset: u64,
    /// EVTX: the chunk number; text logs: unused.
    pub chunk: Option<u64>,
    /// Text logs: the 1-based line number.
    pub line: Option<u64>,
    /// Text logs: the format the line was parsed as (for example `apache_combined`).
    pub format: Option<&'static str>,
}

impl Source {
    /// A source at `offset` in `path`.
    pub fn new(kind: SourceKind, path: impl AsRef<Path>, offset: u64) -> Self {
        Source::shared(kind, Arc::from(path.as_ref()), offset)
    }

    /// A source at `offset` in an already shared `path` (no allocation).
    pub fn shared(kind: SourceKind, path: Arc<Path>, offset: u64) -> Self {
        Source {
            kind,
            path,
            offset,
            chunk: None,
            line: None,
            format: None,
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("path", &self.path.to_string_lossy())?;
        map.serialize_entry("offset", &self.offset)?;
        if let Some(chunk) = self.chunk {
            map.serialize_entry("chunk", &chunk)?;
        }
        if let Some(line) = self.line {
            map.serialize_entry("line", &line)?;
        }
        if let Some(format) = self.format {
            map.serialize_entry("format", format)?;
        }
        map.end()
    }
}

/// The record as the source held it, kept for output on request.
#[derive(Debug, Clone)]
pub enum Raw {
    /// A JSON rendering (EVTX records, JSON log lines), embedded verbatim.
    Json(Box<RawValue>),
    /// A line of text.
    Text(String),
}

impl Serialize for Raw {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Raw::Json(raw) => raw.serialize(s),
            Raw::Text(text) => s.serialize_str(text),
        }
    }
}

/// One normalised record: an EVTX record, a log line.
///
/// The header fields that every triage question starts from are typed; the
/// rest (`EventData`/`UserData` items, log columns) is a flat typed map.
#[derive(Debug, Clone)]
pub struct Event {
    /// When it happened, in UTC. `None` only for log lines without a time.
    pub timestamp: Option<Timestamp>,
    /// Where it was read from.
    pub source: Source,
    /// EVTX `EventRecordID`.
    pub record_id: Option<u64>,
    /// The host that logged it (EVTX `Computer`, syslog host name).
    pub computer: Option<CompactString>,
    /// EVTX channel (`Security`, `Microsoft-Windows-Sysmon/Operational`).
    pub channel: Option<CompactString>,
    /// EVTX provider name, or the program that wrote a log line.
    pub provider: Option<CompactString>,
    /// EVTX event id.
    pub event_id: Option<u32>,
    /// EVTX level (1 critical, 2 error, 3 warning, 4 information, 5 verbose).
    pub level: Option<u8>,
    /// EVTX `Security/@UserID`, the SID the event was logged for.
    pub user_sid: Option<CompactString>,
    /// A human-readable message, where the source has one (log lines).
    pub message: Option<String>,
    /// `EventData` / `UserData` items, or the columns of a log line.
    pub fields: Fields,
    /// The other EVTX `System` items (`Task`, `Opcode`, `Keywords`,
    /// `Version`, `ProcessID`, `ThreadID`, `ActivityID`, ...).
    pub system: Fields,
    /// The full record as rendered by the parser, when kept.
    pub raw: Option<Raw>,
}

impl Event {
    /// An event with only its source set.
    pub fn new(source: Source) -> Self {
        Event {
            timestamp: None,
            source,
            record_id: None,
            computer: None,
            channel: None,
            provider: None,
            event_id: None,
            level: None,
            user_sid: None,
            message: None,
            fields: Fields::new(),
            system: Fields::new(),
            raw: None,
        }
    }

    /// A field by the name Sigma rules and analysts use: the `EventData` /
    /// log fields first, then the EVTX `System` names (`EventID`, `Channel`,
    /// `Provider_Name`, `Computer`, `Level`, `EventRecordID`, `UserID`, and
    /// the other `System` items).
    pub fn get(&self, name: &str) -> Option<Cow<'_, Value>> {
        if let Some(v) = self.fields.get(name) {
            return Some(Cow::Borrowed(v));
        }
        let header = match name {
            "EventID" => self.event_id.map(|id| Value::UInt(id.into())),
            "Channel" => self.channel.clone().map(Value::Str),
            "Provider_Name" | "Provider" => self.provider.clone().map(Value::Str),
            "Computer" => self.computer.clone().map(Value::Str),
            "Level" => self.level.map(|l| Value::UInt(l.into())),
            "EventRecordID" => self.record_id.map(Value::UInt),
            "UserID" | "SecurityUserID" => self.user_sid.clone().map(Value::Str),
            "Message" | "message" => self.message.as_deref().map(Value::from),
            _ => return self.system.get(name).map(Cow::Borrowed),
        };
        header.map(Cow::Owned)
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(ts) = &self.timestamp {
            map.serialize_entry("timestamp", &crate::time::Rfc3339(*ts))?;
        }
        entry(&mut map, "computer", &self.computer)?;
        entry(&mut map, "channel", &self.channel)?;
        entry(&mut map, "provider", &self.provider)?;
        entry(&mut map, "event_id", &self.event_id)?;
        entry(&mut map, "level", &self.level)?;
        entry(&mut map, "record_id", &self.record_id)?;
        entry(&mut map, "user_sid", &self.user_sid)?;
        entry(&mut map, "message", &self.message)?;
        map.serialize_entry("fields", &self.fields)?;
        if !self.system.is_empty() {
            map.serialize_entry("system", &self.system)?;
        }
        map.serialize_entry("source", &self.source)?;
        entry(&mut map, "raw", &self.raw)?;
        map.end()
    }
}

fn entry<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &'static str,
    value: &Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(v) => map.serialize_entry(key, v),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_resolve_like_sigma_expects() {
        let mut e = Event::new(Source::new(SourceKind::Evtx, "a.evtx", 0));
        e.event_id = Some(4688);
        e.channel = Some("Security".into());
        e.system.push("Keywords", Value::from("0x8020000000000000"));
        e.fields.push("NewProcessName", Value::from("C:\\x.exe"));
        assert_eq!(e.get("EventID").unwrap().as_u64(), Some(4688));
        assert_eq!(e.get("Channel").unwrap().as_str(), Some("Security"));
        assert_eq!(
            e.get("Keywords").unwrap().as_u64(),
            Some(0x8020000000000000)
        );
        assert_eq!(e.get("NewProcessName").unwrap().as_str(), Some("C:\\x.exe"));
        assert!(e.get("Computer").is_none());
    }

    #[test]
    fn json_has_utc_time_and_source() {
        let mut e = Event::new(Source::new(SourceKind::Evtx, "a.evtx", 4096));
        e.timestamp = Some("2024-01-02T03:04:05.1234567Z".parse().unwrap());
        e.event_id = Some(1);
        let json = serde_json::to_string(&e).unwrap();
        for kind in [SourceKind::Evtx, SourceKind::TextLog] {
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.name())
            );
        }
        assert_eq!(
            json,
            r#"{"timestamp":"2024-01-02T03:04:05.1234567Z","event_id":1,"fields":{},"source":{"kind":"evtx","path":"a.evtx","offset":4096}}"#
        );
    }
}
