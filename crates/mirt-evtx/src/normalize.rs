//! Turns the JSON that the `evtx` crate renders for a record into a
//! normalised [`Event`], in one pass and without building a JSON tree.
//!
//! The rendering (with `separate_json_attributes` off) looks like
//! `{"Event":{"System":{"Provider":{"#attributes":{"Name":..}},"EventID":4624,
//! ...},"EventData":{"SubjectUserSid":"S-1-5-18",...}}}`; `UserData` holds
//! one element whose children are the fields.

pub use crate::json::SyntaxError;
use crate::json::{Result, Scanner};
use compact_str::CompactString;
use mirt_core::{Event, Fields, Value};

/// Fills `event` from the rendered JSON of one record. The header fields
/// (`record_id`, `timestamp`) already set from the record header are
/// overwritten only by what the record itself says.
pub fn normalize_record(json: &[u8], event: &mut Event) -> Result<()> {
    let mut s = Scanner::new(json)?;
    s.object(|s, key| {
        if key == "Event" {
            body(s, event)
        } else {
            s.skip()
        }
    })?;
    s.end()
}

/// The `Event` element: `System`, then the data sections.
fn body(s: &mut Scanner<'_>, event: &mut Event) -> Result<()> {
    if s.null()? {
        return Ok(());
    }
    s.object(|s, key| match &*key {
        "System" => system(s, event),
        "#attributes" => s.skip(),
        "RenderingInfo" => {
            let mut fields = Fields::new();
            flatten(s, &mut fields, "RenderingInfo")?;
            if let Some(message) = fields.get("Message") {
                event.message = Some(message.to_text());
            }
            Ok(())
        }
        // EventData, UserData, and the rarer ProcessingErrorData, DebugData,
        // BinaryEventData: all fields of the event.
        section => flatten(s, &mut event.fields, section),
    })
}

/// The `System` element: typed header fields, the rest into `event.system`.
fn system(s: &mut Scanner<'_>, e: &mut Event) -> Result<()> {
    if s.null()? {
        return Ok(());
    }
    s.object(|s, key| {
        match &*key {
            // `{"#attributes":{"Qualifiers":..},"#text":7036}` reads as its text.
            "EventID" => e.event_id = s.value()?.as_u64().and_then(|n| u32::try_from(n).ok()),
            "Level" => e.level = s.value()?.as_u64().and_then(|n| u8::try_from(n).ok()),
            "EventRecordID" => {
                if let Some(id) = s.value()?.as_u64() {
                    e.record_id = Some(id);
                }
            }
            "Channel" => e.channel = text(s.value()?),
            "Computer" => e.computer = text(s.value()?),
            "TimeCreated" => {
                let attrs = attributes(s)?;
                let time = attrs.get("SystemTime").and_then(Value::as_str);
                if let Some(ts) = time.and_then(mirt_core::time::parse_rfc3339) {
                    e.timestamp = Some(ts);
                }
            }
            "Provider" => {
                for (name, value) in attributes(s)?.iter() {
                    match name {
                        "Name" => e.provider = value.as_str().map(CompactString::from),
                        "Guid" => e.system.push("Provider_Guid", value.clone()),
                        _ => e.system.push(name, value.clone()),
                    }
                }
            }
            "Security" => {
                e.user_sid = attributes(s)?
                    .get("UserID")
                    .and_then(Value::as_str)
                    .map(CompactString::from);
            }
            // Correlation (ActivityID), Execution (ProcessID, ThreadID), and
            // the scalars Version, Task, Opcode, Keywords. An empty element
            // (`<Correlation/>`) says nothing.
            other => {
                if !s.null()? {
                    flatten(s, &mut e.system, other)?;
                }
            }
        }
        Ok(())
    })
}

fn text(value: Value) -> Option<CompactString> {
    match value {
        Value::Str(s) => Some(s),
        Value::Null => None,
        other => Some(CompactString::from(other.to_text())),
    }
}

/// An element's `#attributes` (and any text), as fields.
fn attributes(s: &mut Scanner<'_>) -> Result<Fields> {
    let mut attrs = Fields::new();
    flatten(s, &mut attrs, "#text")?;
    Ok(attrs)
}

/// Flattens an element into `fields`: leaves are stored under their own
/// name (`UserData/LogFileCleared/SubjectUserName` becomes
/// `SubjectUserName`), an element's text under the element's name, and
/// attributes under their names. `xmlns` declarations are dropped: they say
/// nothing about the event.
fn flatten(s: &mut Scanner<'_>, fields: &mut Fields, name: &str) -> Result<()> {
    if s.at_object() {
        return s.object(|s, key| match &*key {
            "#text" => {
                let v = s.value()?;
                fields.push(name, v);
                Ok(())
            }
            "#attributes" => flatten(s, fields, name),
            k if k == "xmlns" || k.starts_with("xmlns:") => s.skip(),
            k => flatten(s, fields, k),
        });
    }
    if s.null()? {
        // `"EventData": null` is an empty section, not a field.
        if !is_section(name) {
            fields.push(name, Value::Null);
        }
        return Ok(());
    }
    let v = s.value()?;
    fields.push(name, v);
    Ok(())
}

fn is_section(name: &str) -> bool {
    matches!(
        name,
        "EventData" | "UserData" | "ProcessingErrorData" | "DebugData" | "BinaryEventData"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirt_core::{Source, SourceKind};

    fn parse(json: &str) -> Event {
        let mut e = Event::new(Source::new(SourceKind::Evtx, "t.evtx", 0));
        normalize_record(json.as_bytes(), &mut e).unwrap();
        e
    }

    #[test]
    fn system_header_is_typed() {
        let e = parse(
            r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"{54849625}"}},"EventID":4624,"Version":2,"Level":0,"Task":12544,"Opcode":0,"Keywords":"0x8020000000000000","TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T10:42:17.4026582Z"}},"EventRecordID":42,"Correlation":{"#attributes":{"ActivityID":"{A}"}},"Execution":{"#attributes":{"ProcessID":656,"ThreadID":700}},"Channel":"Security","Computer":"DC01.corp","Security":{"#attributes":{"UserID":"S-1-5-18"}}},"EventData":{"SubjectUserSid":"S-1-5-18","LogonType":3,"IpAddress":"-"}}}"##,
        );
        assert_eq!(
            e.provider.as_deref(),
            Some("Microsoft-Windows-Security-Auditing")
        );
        assert_eq!(e.event_id, Some(4624));
        assert_eq!(e.level, Some(0));
        assert_eq!(e.record_id, Some(42));
        assert_eq!(e.channel.as_deref(), Some("Security"));
        assert_eq!(e.computer.as_deref(), Some("DC01.corp"));
        assert_eq!(e.user_sid.as_deref(), Some("S-1-5-18"));
        assert_eq!(
            e.timestamp.unwrap().to_string(),
            "2019-03-19T10:42:17.4026582Z"
        );
        assert_eq!(e.system.get("Task"), Some(&Value::UInt(12544)));
        assert_eq!(e.system.get("ProcessID"), Some(&Value::UInt(656)));
        assert_eq!(
            e.system.get("ActivityID").and_then(Value::as_str),
            Some("{A}")
        );
        assert_eq!(
            e.system.get("Provider_Guid").and_then(Value::as_str),
            Some("{54849625}")
        );
        assert_eq!(e.fields.get("LogonType"), Some(&Value::UInt(3)));
        assert_eq!(e.fields.len(), 3);
    }

    #[test]
    fn event_id_with_qualifiers_and_unnamed_data() {
        let e = parse(
            r##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":7036},"Security":null},"EventData":{"Data":{"#text":["Windows Update","running"]},"Binary":"00FF"}}}"##,
        );
        assert_eq!(e.event_id, Some(7036));
        assert_eq!(e.user_sid, None);
        assert_eq!(
            e.fields.get("Data"),
            Some(&Value::List(vec![
                Value::from("Windows Update"),
                Value::from("running")
            ]))
        );
        assert_eq!(e.fields.get("Binary").and_then(Value::as_str), Some("00FF"));
    }

    #[test]
    fn user_data_is_flattened_to_leaves() {
        let e = parse(
            r##"{"Event":{"System":{"EventID":1102},"UserData":{"LogFileCleared":{"#attributes":{"xmlns":"http://manifests"},"SubjectUserSid":"S-1-5-21-1","SubjectUserName":"admin"}}}}"##,
        );
        assert_eq!(
            e.fields.get("SubjectUserName").and_then(Value::as_str),
            Some("admin")
        );
        assert_eq!(e.fields.len(), 2);
    }

    #[test]
    fn empty_event_data_adds_nothing() {
        let e = parse(r##"{"Event":{"System":{"EventID":1},"EventData":null}}"##);
        assert!(e.fields.is_empty());
    }

    #[test]
    fn not_json_is_an_error() {
        let mut e = Event::new(Source::new(SourceKind::Evtx, "t.evtx", 0));
        assert!(normalize_record(b"{\"Event\":", &mut e).is_err());
    }
}
