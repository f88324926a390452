//! [`EventSpec`]: one event as a test author describes it, with the header
//! fields Windows writes in `System` and the items of `EventData` or
//! `UserData`.

use crate::value::{FieldValue, Guid, Sid, parse_filetime};

/// One event to write. Start with [`EventSpec::new`] and set what the test
/// cares about; the rest keeps neutral defaults (channel `Application`,
/// provider `mirt-testkit`, computer `TESTHOST`, 2024-01-01T00:00:00Z).
///
/// ```
/// use mirt_testkit::EventSpec;
///
/// let logon = EventSpec::new(4624)
///     .channel("Security")
///     .provider("Microsoft-Windows-Security-Auditing")
///     .computer("WS01")
///     .time("2024-03-01T10:00:00Z")
///     .data("TargetUserName", "alice")
///     .data_u32("LogonType", 3);
/// assert_eq!(logon.event_id(), 4624);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EventSpec {
    pub(crate) event_id: u16,
    pub(crate) qualifiers: Option<u16>,
    pub(crate) version: u8,
    pub(crate) level: u8,
    pub(crate) task: u16,
    pub(crate) opcode: u8,
    pub(crate) keywords: u64,
    pub(crate) time: u64,
    pub(crate) record_id: Option<u64>,
    pub(crate) provider: String,
    pub(crate) provider_guid: Option<Guid>,
    pub(crate) event_source_name: Option<String>,
    pub(crate) activity_id: Option<Guid>,
    pub(crate) related_activity_id: Option<Guid>,
    pub(crate) process_id: u32,
    pub(crate) thread_id: u32,
    pub(crate) channel: String,
    pub(crate) computer: String,
    pub(crate) user_id: Option<Sid>,
    pub(crate) body: Body,
}

/// The data section of an event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// No data section at all.
    None,
    /// `<EventData>` with `<Data>` (and `<Binary>`) items.
    EventData(Vec<Item>),
    /// `<UserData><Element xmlns=..><Name>value</Name>..</Element></UserData>`.
    UserData {
        element: String,
        xmlns: String,
        items: Vec<(String, FieldValue)>,
    },
}

/// One `EventData` item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub(crate) kind: ItemKind,
    pub(crate) value: FieldValue,
}

/// How an `EventData` item is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ItemKind {
    /// `<Data Name="..">`.
    Named(String),
    /// `<Data>` without a name (classic providers).
    Unnamed,
    /// `<Binary>` (classic providers' raw data).
    Binary,
}

/// 2024-01-01T00:00:00Z as a FILETIME.
const DEFAULT_TIME: u64 = 133_485_408_000_000_000;

macro_rules! typed_data {
    ($($(#[$doc:meta])* $fn:ident($t:ty) => $variant:ident;)*) => {
        $($(#[$doc])*
        pub fn $fn(self, name: &str, value: $t) -> Self {
            self.data(name, FieldValue::$variant(value.into()))
        })*
    };
}

impl EventSpec {
    /// An event with id `event_id` and neutral defaults.
    pub fn new(event_id: u16) -> Self {
        EventSpec {
            event_id,
            qualifiers: None,
            version: 0,
            level: 0,
            task: 0,
            opcode: 0,
            keywords: 0,
            time: DEFAULT_TIME,
            record_id: None,
            provider: "mirt-testkit".into(),
            provider_guid: None,
            event_source_name: None,
            activity_id: None,
            related_activity_id: None,
            process_id: 4,
            thread_id: 8,
            channel: "Application".into(),
            computer: "TESTHOST".into(),
            user_id: None,
            body: Body::EventData(Vec::new()),
        }
    }

    /// The event id.
    pub fn event_id(&self) -> u16 {
        self.event_id
    }

    /// The channel (`Security`, `System`, `Microsoft-Windows-Sysmon/Operational`).
    pub fn channel(mut self, channel: &str) -> Self {
        self.channel = channel.into();
        self
    }

    /// The provider's name.
    pub fn provider(mut self, name: &str) -> Self {
        self.provider = name.into();
        self
    }

    /// The provider's GUID (`{..}`).
    ///
    /// # Panics
    /// If `guid` is not a GUID.
    pub fn provider_guid(mut self, guid: &str) -> Self {
        self.provider_guid = Some(parse_or_panic(guid));
        self
    }

    /// The `EventSourceName` attribute classic providers have.
    pub fn event_source_name(mut self, name: &str) -> Self {
        self.event_source_name = Some(name.into());
        self
    }

    /// The computer name.
    pub fn computer(mut self, name: &str) -> Self {
        self.computer = name.into();
        self
    }

    /// When the event was created, as RFC 3339 (`2024-03-01T10:00:00Z`,
    /// fractions down to 100 ns). Also the record's written time.
    ///
    /// # Panics
    /// If `time` is not RFC 3339.
    pub fn time(mut self, time: &str) -> Self {
        self.time = parse_filetime(time).unwrap_or_else(|e| panic!("{e}"));
        self
    }

    /// When the event was created, as a FILETIME (100 ns ticks since 1601).
    pub fn filetime(mut self, ticks: u64) -> Self {
        self.time = ticks;
        self
    }

    /// When the event was created.
    pub fn timestamp(mut self, time: jiff::Timestamp) -> Self {
        self.time = crate::value::to_filetime(time);
        self
    }

    /// The creation time as a FILETIME.
    pub fn time_filetime(&self) -> u64 {
        self.time
    }

    /// A record id for this event; by default the writer numbers records
    /// one after the other. Used to write gaps and repeats.
    pub fn record_id(mut self, id: u64) -> Self {
        self.record_id = Some(id);
        self
    }

    /// The level (0 LogAlways, 1 critical, 2 error, 3 warning, 4 information, 5 verbose).
    pub fn level(mut self, level: u8) -> Self {
        self.level = level;
        self
    }

    /// The task.
    pub fn task(mut self, task: u16) -> Self {
        self.task = task;
        self
    }

    /// The opcode.
    pub fn opcode(mut self, opcode: u8) -> Self {
        self.opcode = opcode;
        self
    }

    /// The keywords mask (`0x8020000000000000` is audit success).
    pub fn keywords(mut self, keywords: u64) -> Self {
        self.keywords = keywords;
        self
    }

    /// The event's version.
    pub fn version(mut self, version: u8) -> Self {
        self.version = version;
        self
    }

    /// The `Qualifiers` attribute of `EventID` (classic providers, e.g. 16384).
    pub fn qualifiers(mut self, qualifiers: u16) -> Self {
        self.qualifiers = Some(qualifiers);
        self
    }

    /// `Correlation/@ActivityID`.
    ///
    /// # Panics
    /// If `guid` is not a GUID.
    pub fn activity_id(mut self, guid: &str) -> Self {
        self.activity_id = Some(parse_or_panic(guid));
        self
    }

    /// `Correlation/@RelatedActivityID`.
    ///
    /// # Panics
    /// If `guid` is not a GUID.
    pub fn related_activity_id(mut self, guid: &str) -> Self {
        self.related_activity_id = Some(parse_or_panic(guid));
        self
    }

    /// `Execution/@ProcessID` and `@ThreadID` of the logging process.
    pub fn execution(mut self, process_id: u32, thread_id: u32) -> Self {
        self.process_id = process_id;
        self.thread_id = thread_id;
        self
    }

    /// `Security/@UserID`, the SID the event is logged for.
    ///
    /// # Panics
    /// If `sid` is not a SID.
    pub fn user_id(mut self, sid: &str) -> Self {
        self.user_id = Some(parse_or_panic(sid));
        self
    }

    /// Adds an item: `<Data Name="name">value</Data>` in `EventData`, or
    /// `<name>value</name>` after [`EventSpec::user_data`]. The value's Rust
    /// type picks the BinXML type (`&str` text, `u32` UInt32, `bool`
    /// Boolean...); see [`FieldValue`] for the others.
    pub fn data(mut self, name: &str, value: impl Into<FieldValue>) -> Self {
        let value = value.into();
        match &mut self.body {
            Body::UserData { items, .. } => items.push((name.into(), value)),
            Body::EventData(items) => items.push(Item {
                kind: ItemKind::Named(name.into()),
                value,
            }),
            Body::None => {
                self.body = Body::EventData(vec![Item {
                    kind: ItemKind::Named(name.into()),
                    value,
                }])
            }
        }
        self
    }

    typed_data! {
        /// Adds a `UInt8` item.
        data_u8(u8) => U8;
        /// Adds a `UInt16` item.
        data_u16(u16) => U16;
        /// Adds a `UInt32` item.
        data_u32(u32) => U32;
        /// Adds a `UInt64` item.
        data_u64(u64) => U64;
        /// Adds an `Int32` item.
        data_i32(i32) => I32;
        /// Adds an `Int64` item.
        data_i64(i64) => I64;
        /// Adds a `Boolean` item.
        data_bool(bool) => Bool;
        /// Adds a `HexInt32` item (shown as `0x..`).
        data_hex32(u32) => HexInt32;
        /// Adds a `HexInt64` item (shown as `0x..`).
        data_hex64(u64) => HexInt64;
        /// Adds a `Binary` item (shown as upper-case hex).
        data_binary(&[u8]) => Binary;
    }

    /// Adds a `SID` item from its `S-1-..` text.
    ///
    /// # Panics
    /// If `sid` is not a SID.
    pub fn data_sid(self, name: &str, sid: &str) -> Self {
        self.data(name, FieldValue::sid(sid))
    }

    /// Adds a `GUID` item from its `{..}` text.
    ///
    /// # Panics
    /// If `guid` is not a GUID.
    pub fn data_guid(self, name: &str, guid: &str) -> Self {
        self.data(name, FieldValue::guid(guid))
    }

    /// Adds a `FILETIME` item from an RFC 3339 time.
    ///
    /// # Panics
    /// If `time` is not RFC 3339.
    pub fn data_filetime(self, name: &str, time: &str) -> Self {
        self.data(name, FieldValue::filetime(time))
    }

    /// Adds an item with a NULL value (`<Data Name="name"/>`).
    pub fn data_null(self, name: &str) -> Self {
        self.data(name, FieldValue::Null)
    }

    /// Adds an unnamed `<Data>value</Data>` item, as classic providers write.
    pub fn unnamed(mut self, value: impl Into<FieldValue>) -> Self {
        self.push_item(ItemKind::Unnamed, value.into());
        self
    }

    /// Adds `<Binary>..</Binary>` to `EventData`, as classic providers write.
    pub fn binary(mut self, bytes: &[u8]) -> Self {
        self.push_item(ItemKind::Binary, FieldValue::Binary(bytes.to_vec()));
        self
    }

    /// Writes the data as `<UserData><element xmlns="xmlns">..</element></UserData>`
    /// (as Windows does for 1102 and 104); later [`EventSpec::data`] calls
    /// add children of `element`. Named items added before move into it;
    /// unnamed ones have no place there and are dropped.
    pub fn user_data(mut self, element: &str, xmlns: &str) -> Self {
        let items = match std::mem::replace(&mut self.body, Body::None) {
            Body::EventData(items) => items
                .into_iter()
                .filter_map(|item| match item.kind {
                    ItemKind::Named(name) => Some((name, item.value)),
                    _ => None,
                })
                .collect(),
            Body::UserData { items, .. } => items,
            Body::None => Vec::new(),
        };
        self.body = Body::UserData {
            element: element.into(),
            xmlns: xmlns.into(),
            items,
        };
        self
    }

    /// Writes no data section at all.
    pub fn without_data(mut self) -> Self {
        self.body = Body::None;
        self
    }

    /// The items as written: names (`None` for unnamed `Data` and `Binary`)
    /// and values, in order.
    pub fn items(&self) -> Vec<(Option<&str>, &FieldValue)> {
        match &self.body {
            Body::None => Vec::new(),
            Body::EventData(items) => items
                .iter()
                .map(|item| match &item.kind {
                    ItemKind::Named(name) => (Some(name.as_str()), &item.value),
                    ItemKind::Unnamed | ItemKind::Binary => (None, &item.value),
                })
                .collect(),
            Body::UserData { items, .. } => items
                .iter()
                .map(|(name, value)| (Some(name.as_str()), value))
                .collect(),
        }
    }

    fn push_item(&mut self, kind: ItemKind, value: FieldValue) {
        match &mut self.body {
            Body::EventData(items) => items.push(Item { kind, value }),
            // Unnamed items only exist in EventData: switch to it.
            _ => self.body = Body::EventData(vec![Item { kind, value }]),
        }
    }
}

fn parse_or_panic<T: std::str::FromStr<Err = crate::Error>>(text: &str) -> T {
    text.parse().unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_time_is_2024() {
        assert_eq!(
            parse_filetime("2024-01-01T00:00:00Z").unwrap(),
            DEFAULT_TIME
        );
    }

    #[test]
    fn data_after_user_data_goes_into_it() {
        let spec = EventSpec::new(1102)
            .user_data("LogFileCleared", "http://x")
            .data("SubjectUserName", "admin");
        assert_eq!(
            spec.items(),
            vec![(Some("SubjectUserName"), &FieldValue::from("admin"))]
        );
    }
}
