//! What `mirt hunt` writes: one record per detection (a rule matched an
//! event) or correlation finding, as JSON Lines, CSV or a table.

use crate::output::Tabular;
use mirt_core::json::write_str;
use mirt_core::time::Rfc3339;
use mirt_core::{Event, Severity, Value};
use mirt_sigma::{CorrelationFinding, EventRef, RuleInfo};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The rule fields every record carries.
#[derive(Serialize)]
pub struct RuleRef<'a> {
    pub rule_id: Option<&'a str>,
    pub title: &'a str,
    pub level: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    pub tags: &'a [String],
    /// ATT&CK technique ids from the `attack.tNNNN` tags.
    pub attack: AttackIds<'a>,
    #[serde(serialize_with = "ser_path")]
    pub rule_path: &'a Path,
}

impl<'a> RuleRef<'a> {
    /// Its members as `Serialize` writes them, each after a comma.
    fn write_members(&self, buf: &mut Vec<u8>, text: &mut String) {
        buf.extend_from_slice(b",\"rule_id\":");
        write_opt_str(buf, self.rule_id);
        buf.extend_from_slice(b",\"title\":");
        write_str(buf, self.title);
        buf.extend_from_slice(b",\"level\":");
        write_str(buf, self.level.as_str());
        if let Some(status) = self.status {
            buf.extend_from_slice(b",\"status\":");
            write_str(buf, status);
        }
        buf.extend_from_slice(b",\"tags\":[");
        for (i, tag) in self.tags.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            write_str(buf, tag);
        }
        buf.extend_from_slice(b"],\"attack\":[");
        for (i, id) in self.attack.ids().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            write_display(buf, text, TechniqueId(id));
        }
        buf.extend_from_slice(b"],\"rule_path\":");
        write_display(buf, text, self.rule_path.display());
    }

    pub fn of(rule: &'a RuleInfo) -> RuleRef<'a> {
        RuleRef {
            rule_id: rule.meta.id.as_deref(),
            title: &rule.meta.title,
            level: rule.meta.level.unwrap_or(Severity::Informational),
            status: rule.meta.status.map(|s| s.as_str()),
            tags: &rule.meta.tags,
            attack: AttackIds(&rule.meta.tags),
            rule_path: &rule.path,
        }
    }
}

/// The ATT&CK technique ids of some tags, written as a list without
/// building one (every detection writes its rule's).
pub struct AttackIds<'a>(pub &'a [String]);

impl AttackIds<'_> {
    /// `attack.t1059.001` -> `T1059.001`, without the `T`.
    fn ids(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter_map(|t| t.strip_prefix("attack.t"))
            .filter(|id| id.starts_with(|c: char| c.is_ascii_digit()))
    }
}

impl Serialize for AttackIds<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.ids().map(TechniqueId))
    }
}

/// A technique id without its `T`, written with it, in upper case.
struct TechniqueId<'a>(&'a str);

impl std::fmt::Display for TechniqueId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "T{}", self.0.to_uppercase())
    }
}

impl Serialize for TechniqueId<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

fn ser_path<S: serde::Serializer>(path: &&Path, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&path.display())
}

/// A rule that matched one event.
#[derive(Serialize)]
pub struct DetectionRecord<'a> {
    #[serde(flatten)]
    pub head: DetectionHead<'a>,
    pub event: &'a Event,
}

/// What a detection says besides the event itself.
#[derive(Serialize)]
pub struct DetectionHead<'a> {
    pub kind: &'static str,
    #[serde(flatten)]
    pub rule: RuleRef<'a>,
    #[serde(serialize_with = "ser_time")]
    pub timestamp: Option<mirt_core::Timestamp>,
    pub computer: Option<&'a str>,
    pub channel: Option<&'a str>,
    pub event_id: Option<u32>,
    pub record_id: Option<u64>,
    /// The fields whose values made the rule match.
    pub matched: BTreeMap<String, Value>,
}

impl<'a> DetectionRecord<'a> {
    pub fn new(rule: &'a RuleInfo, event: &'a Event, matched: BTreeMap<String, Value>) -> Self {
        DetectionRecord {
            head: DetectionHead {
                kind: "detection",
                rule: RuleRef::of(rule),
                timestamp: event.timestamp,
                computer: event.computer.as_deref(),
                channel: event.channel.as_deref(),
                event_id: event.event_id,
                record_id: event.record_id,
                matched,
            },
            event,
        }
    }
}

/// A correlation rule that fired.
#[derive(Serialize)]
pub struct CorrelationRecord<'a> {
    pub kind: &'static str,
    #[serde(flatten)]
    pub rule: RuleRef<'a>,
    pub correlation: &'static str,
    /// First event of the finding.
    #[serde(serialize_with = "ser_time")]
    pub timestamp: Option<mirt_core::Timestamp>,
    /// Last event of the finding.
    #[serde(serialize_with = "ser_time")]
    pub end: Option<mirt_core::Timestamp>,
    pub group: BTreeMap<&'a str, Option<&'a str>>,
    /// The count, sum, average or share that met the condition.
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_of: Option<&'a str>,
    pub event_count: usize,
    pub events: &'a [EventRef],
}

/// Appends a `Display` value as a JSON string (as serde's `collect_str`),
/// formatted in `text`.
fn write_display(buf: &mut Vec<u8>, text: &mut String, value: impl std::fmt::Display) {
    use std::fmt::Write;
    text.clear();
    let _ = write!(text, "{value}");
    write_str(buf, text);
}

fn write_opt_str(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
}

fn write_opt_int(buf: &mut Vec<u8>, n: Option<u64>) {
    match n {
        Some(n) => buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        None => buf.extend_from_slice(b"null"),
    }
}

fn ser_time<S: serde::Serializer>(
    t: &Option<mirt_core::Timestamp>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(&Rfc3339(*t)),
        None => s.serialize_none(),
    }
}

impl<'a> CorrelationRecord<'a> {
    pub fn new(rule: &'a RuleInfo, f: &'a CorrelationFinding) -> CorrelationRecord<'a> {
        CorrelationRecord {
            kind: "correlation",
            rule: RuleRef::of(rule),
            correlation: f.kind.as_str(),
            timestamp: Some(f.first),
            end: Some(f.last),
            group: f
                .group
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_deref()))
                .collect(),
            value: f.value,
            value_of: f.value_of.as_deref(),
            event_count: f.event_count,
            events: &f.events,
        }
    }
}

const COLUMNS: &[&str] = &[
    "timestamp",
    "level",
    "title",
    "computer",
    "channel",
    "event_id",
    "record_id",
    "details",
    "rule_id",
];
const WIDTHS: &[usize] = &[28, 13, 44, 18, 24, 8, 9, 70, 36];

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl Tabular for DetectionRecord<'_> {
    const COLUMNS: &'static [&'static str] = COLUMNS;
    const WIDTHS: &'static [usize] = WIDTHS;

    /// Written directly (mirt-core's string escaper and event writer, as
    /// `mirt evtx` writes events): the same bytes as serialising the
    /// record, for a fraction of the time (serde's `flatten` goes through
    /// a map for every member).
    fn write_json(&self, buf: &mut Vec<u8>) {
        let h = &self.head;
        let mut text = String::new();
        buf.extend_from_slice(b"{\"kind\":");
        write_str(buf, h.kind);
        h.rule.write_members(buf, &mut text);
        buf.extend_from_slice(b",\"timestamp\":");
        match h.timestamp {
            Some(t) => write_display(buf, &mut text, Rfc3339(t)),
            None => buf.extend_from_slice(b"null"),
        }
        buf.extend_from_slice(b",\"computer\":");
        write_opt_str(buf, h.computer);
        buf.extend_from_slice(b",\"channel\":");
        write_opt_str(buf, h.channel);
        buf.extend_from_slice(b",\"event_id\":");
        write_opt_int(buf, h.event_id.map(u64::from));
        buf.extend_from_slice(b",\"record_id\":");
        write_opt_int(buf, h.record_id);
        buf.extend_from_slice(b",\"matched\":{");
        for (i, (k, v)) in h.matched.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            write_str(buf, k);
            buf.push(b':');
            mirt_core::json::write_value(buf, v);
        }
        buf.extend_from_slice(b"},\"event\":");
        mirt_core::json::write_event(buf, self.event);
        buf.push(b'}');
    }

    fn cells(&self) -> Vec<String> {
        let h = &self.head;
        let details = h
            .matched
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        vec![
            opt(h.timestamp.map(Rfc3339)),
            h.rule.level.to_string(),
            h.rule.title.to_string(),
            opt(h.computer),
            opt(h.channel),
            opt(h.event_id),
            opt(h.record_id),
            details,
            opt(h.rule.rule_id),
        ]
    }
}

impl Tabular for CorrelationRecord<'_> {
    const COLUMNS: &'static [&'static str] = COLUMNS;
    const WIDTHS: &'static [usize] = WIDTHS;
    fn cells(&self) -> Vec<String> {
        let group = self
            .group
            .iter()
            .map(|(k, v)| format!("{k}={}", v.unwrap_or("")))
            .collect::<Vec<_>>()
            .join("; ");
        let first = self.events.first();
        vec![
            opt(self.timestamp.map(Rfc3339)),
            self.rule.level.to_string(),
            self.rule.title.to_string(),
            opt(first.and_then(|e| e.computer.as_deref())),
            opt(first.and_then(|e| e.channel.as_deref())),
            String::new(),
            String::new(),
            format!(
                "{} {}: {} events; {group}",
                self.correlation, self.value, self.event_count
            ),
            opt(self.rule.rule_id),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirt_core::{Source, SourceKind};

    #[test]
    fn detections_write_the_bytes_serde_writes() {
        let rule = "title: A \"quoted\" title\nid: 5b0c8e0e-0000-4000-8000-0000000000bb\n\
            logsource: {product: windows}\ndetection:\n  sel: {Image|endswith: 'x.exe'}\n\
            \x20 condition: sel\nlevel: high\ntags: [attack.t1059.001]\n";
        // No id, a status, odd tags, a path that needs escaping.
        let other = "title: Other\nstatus: test\nlogsource: {product: windows}\n\
            detection:\n  sel: {Image|endswith: 'x.exe'}\n  condition: sel\n\
            tags: [attack.t1003, cve.2021-1, attack.t1x]\n";
        let mut b = mirt_sigma::RuleSetBuilder::new(mirt_sigma::Mapping::builtin());
        b.add_text("r.yml", rule)
            .add_text("C:\\rules\\\"odd\" \u{e9}.yml", other);
        let set = b.build();
        assert!(set.skipped().is_empty(), "{:?}", set.skipped());
        assert_eq!(set.rules().len(), 2);
        let mut e = Event::new(Source::new(SourceKind::Evtx, "C:\\logs\\a \"b\".evtx", 7));
        e.channel = Some("Security".into());
        e.event_id = Some(4688);
        e.record_id = Some(9);
        e.timestamp = Some("2024-01-02T03:04:05.5Z".parse().unwrap());
        e.fields.push("Image", Value::from("C:\\x.exe"));
        e.fields.push("Count", Value::UInt(3));
        e.fields
            .push("Odd", Value::from("a\u{1}\n\"\u{e9}\u{2028}"));
        let matched = BTreeMap::from([
            ("Image".to_string(), Value::from("C:\\x.exe")),
            ("Ratio".to_string(), Value::Float(0.25)),
            (
                "Many".to_string(),
                Value::List(vec![Value::Int(-1), Value::Null]),
            ),
        ]);
        let mut bare = Event::new(Source::new(SourceKind::Evtx, "b.evtx", 0));
        bare.fields.push("Image", Value::from("x.exe"));
        for record in [
            DetectionRecord::new(&set.rules()[0], &e, matched.clone()),
            DetectionRecord::new(&set.rules()[0], &e, BTreeMap::new()),
            DetectionRecord::new(&set.rules()[1], &e, matched),
            DetectionRecord::new(&set.rules()[1], &bare, BTreeMap::new()),
        ] {
            let mut fast = Vec::new();
            record.write_json(&mut fast);
            let slow = serde_json::to_vec(&record).unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(slow).unwrap()
            );
        }
    }

    #[test]
    fn attack_tags_become_technique_ids() {
        let tags: Vec<String> = [
            "attack.execution",
            "attack.t1059.001",
            "attack.t1027",
            "cve.2021-1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let json = serde_json::to_string(&AttackIds(&tags)).unwrap();
        assert_eq!(json, r#"["T1059.001","T1027"]"#);
    }
}
