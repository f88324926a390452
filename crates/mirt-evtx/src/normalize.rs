//! Turns the JSON that the `evtx` crate renders for a record into a
//! normalised [`Event`], in one pass and without building a JSON tree.
//!
//! The rendering (with `separate_json_attributes` off) looks like
//! `{"Event":{"System":{"Provider":{"#attributes":{"Name":..}},"EventID":4624,
//! ...},"EventData":{"SubjectUserSid":"S-1-5-18",...}}}`; `UserData` holds
//! one element whose children are the fields.

use compact_str::CompactString;
use mirt_core::{Event, Fields, Timestamp, Value};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Fills `event` from the rendered JSON of one record. The header fields
/// (`record_id`, `timestamp`) already set from the record header are
/// overwritten only by what the record itself says.
pub fn normalize_record(json: &[u8], event: &mut Event) -> serde_json::Result<()> {
    let mut de = serde_json::Deserializer::from_slice(json);
    Root(event).deserialize(&mut de)?;
    de.end()
}

/// A map key, copied inline when short (almost all are).
struct Key(CompactString);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(CompactString::from(v)))
            }
        }
        d.deserialize_str(V)
    }
}

struct Root<'e>(&'e mut Event);

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            if key == "Event" {
                map.next_value_seed(Body(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// The `Event` element: `System`, then the data sections.
struct Body<'e>(&'e mut Event);

impl<'de> DeserializeSeed<'de> for Body<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Body<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the Event element")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let event = self.0;
        while let Some(Key(key)) = map.next_key()? {
            match key.as_str() {
                "System" => map.next_value_seed(System(event))?,
                "#attributes" => {
                    map.next_value::<IgnoredAny>()?;
                }
                "RenderingInfo" => map.next_value_seed(Rendering(event))?,
                // EventData, UserData, and the rarer ProcessingErrorData,
                // DebugData, BinaryEventData: all fields of the event.
                _ => map.next_value_seed(Flatten {
                    fields: &mut event.fields,
                    parent: &key,
                })?,
            }
        }
        Ok(())
    }
}

/// The `System` element: typed header fields, the rest into `event.system`.
struct System<'e>(&'e mut Event);

impl<'de> DeserializeSeed<'de> for System<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for System<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the System element")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let e = self.0;
        while let Some(Key(key)) = map.next_key()? {
            match key.as_str() {
                "EventID" => {
                    let v: AnyValue = map.next_value()?;
                    match v.0 {
                        // `{"#attributes":{"Qualifiers":..},"#text":7036}` arrives flattened.
                        Value::List(_) | Value::Null => {}
                        other => e.event_id = other.as_u64().and_then(|n| u32::try_from(n).ok()),
                    }
                }
                "Level" => {
                    let v: AnyValue = map.next_value()?;
                    e.level = v.0.as_u64().and_then(|n| u8::try_from(n).ok());
                }
                "EventRecordID" => {
                    let v: AnyValue = map.next_value()?;
                    if let Some(id) = v.0.as_u64() {
                        e.record_id = Some(id);
                    }
                }
                "Channel" => e.channel = map.next_value::<AnyValue>()?.into_text(),
                "Computer" => e.computer = map.next_value::<AnyValue>()?.into_text(),
                "TimeCreated" => {
                    let mut attrs = Fields::new();
                    map.next_value_seed(Attributes(&mut attrs))?;
                    let time = attrs.get("SystemTime").and_then(Value::as_str);
                    if let Some(ts) = time.and_then(|t| t.parse::<Timestamp>().ok()) {
                        e.timestamp = Some(ts);
                    }
                }
                "Provider" => {
                    let mut attrs = Fields::new();
                    map.next_value_seed(Attributes(&mut attrs))?;
                    for (name, value) in attrs.iter() {
                        match name {
                            "Name" => e.provider = value.as_str().map(CompactString::from),
                            "Guid" => e.system.push("Provider_Guid", value.clone()),
                            _ => e.system.push(name, value.clone()),
                        }
                    }
                }
                "Security" => {
                    let mut attrs = Fields::new();
                    map.next_value_seed(Attributes(&mut attrs))?;
                    e.user_sid = attrs
                        .get("UserID")
                        .and_then(Value::as_str)
                        .map(CompactString::from);
                }
                // Correlation (ActivityID), Execution (ProcessID, ThreadID), and
                // the scalars Version, Task, Opcode, Keywords.
                _ => map.next_value_seed(Flatten {
                    fields: &mut e.system,
                    parent: &key,
                })?,
            }
        }
        Ok(())
    }
}

/// An element's `#attributes` (and any text), as fields.
struct Attributes<'f>(&'f mut Fields);

impl<'de> DeserializeSeed<'de> for Attributes<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        Flatten {
            fields: self.0,
            parent: "#text",
        }
        .deserialize(d)
    }
}

/// `RenderingInfo` (present when a message table was given): the message.
struct Rendering<'e>(&'e mut Event);

impl<'de> DeserializeSeed<'de> for Rendering<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let mut fields = Fields::new();
        Flatten {
            fields: &mut fields,
            parent: "RenderingInfo",
        }
        .deserialize(d)?;
        if let Some(message) = fields.get("Message") {
            self.0.message = Some(message.to_text());
        }
        Ok(())
    }
}

/// Flattens an element into `fields`: leaves are stored under their own
/// name (`UserData/LogFileCleared/SubjectUserName` becomes
/// `SubjectUserName`), an element's text under the element's name, and
/// attributes under their names. `xmlns` declarations are dropped: they say
/// nothing about the event.
struct Flatten<'f, 'p> {
    fields: &'f mut Fields,
    parent: &'p str,
}

impl<'de> DeserializeSeed<'de> for Flatten<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an element")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key()? {
            match key.as_str() {
                "#text" => {
                    let v: AnyValue = map.next_value()?;
                    self.fields.push(self.parent, v.0);
                }
                "#attributes" => map.next_value_seed(Flatten {
                    fields: &mut *self.fields,
                    parent: self.parent,
                })?,
                k if k == "xmlns" || k.starts_with("xmlns:") => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => map.next_value_seed(Flatten {
                    fields: &mut *self.fields,
                    parent: &key,
                })?,
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let list = AnyVisitor.visit_seq(seq)?;
        self.fields.push(self.parent, list.0);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        // `"EventData": null` is an empty section, not a field.
        if !is_section(self.parent) {
            self.fields.push(self.parent, Value::Null);
        }
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.fields.push(self.parent, Value::Bool(v));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.fields.push(self.parent, Value::Int(v));
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.fields.push(self.parent, Value::UInt(v));
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.fields.push(self.parent, Value::Float(v));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.fields
            .push(self.parent, Value::Str(CompactString::from(v)));
        Ok(())
    }
}

fn is_section(name: &str) -> bool {
    matches!(
        name,
        "EventData" | "UserData" | "ProcessingErrorData" | "DebugData" | "BinaryEventData"
    )
}

/// Any JSON value as a [`Value`]; objects (rare inside lists) become their
/// JSON text so that nothing is lost.
struct AnyValue(Value);

impl AnyValue {
    fn into_text(self) -> Option<CompactString> {
        match self.0 {
            Value::Str(s) => Some(s),
            Value::Null => None,
            other => Some(CompactString::from(other.to_text())),
        }
    }
}

impl<'de> de::Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor)
    }
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = AnyValue;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_unit<E>(self) -> Result<AnyValue, E> {
        Ok(AnyValue(Value::Null))
    }
    fn visit_bool<E>(self, v: bool) -> Result<AnyValue, E> {
        Ok(AnyValue(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<AnyValue, E> {
        Ok(AnyValue(Value::Int(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<AnyValue, E> {
        Ok(AnyValue(Value::UInt(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<AnyValue, E> {
        Ok(AnyValue(Value::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<AnyValue, E> {
        Ok(AnyValue(Value::Str(CompactString::from(v))))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(AnyValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(AnyValue(Value::List(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyValue, A::Error> {
        // `{"#attributes":{..},"#text":X}`: the text is the value (EventID
        // with Qualifiers); otherwise keep the object as JSON text.
        let mut text = None;
        let mut object = serde_json::Map::new();
        while let Some(Key(key)) = map.next_key()? {
            let value: serde_json::Value = map.next_value()?;
            if key == "#text" {
                text = Some(Value::from(&value));
            }
            object.insert(key.into_string(), value);
        }
        Ok(AnyValue(text.unwrap_or_else(|| {
            Value::Str(serde_json::Value::Object(object).to_string().into())
        })))
    }
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
