//! Typed values as BinXML substitutions carry them: strings, integers,
//! SIDs, GUIDs, FILETIMEs, and the rest of the value types Windows writes.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// A value of an `EventData`/`UserData` item or of a `System` field, with
/// the BinXML type it is written as. The type is what a reader sees: an
/// `UInt32` comes back as a number, a `HexInt64` as `0x..` text, a `Sid` as
/// `S-1-..` text.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FieldValue {
    /// No value: the item is written with a NULL substitution.
    Null,
    /// UTF-16 text (`win:UnicodeString`).
    Str(String),
    /// 8-bit text (`win:AnsiString`); keep it ASCII, readers guess the code page.
    Ansi(String),
    /// `win:Int8`.
    I8(i8),
    /// `win:UInt8`.
    U8(u8),
    /// `win:Int16`.
    I16(i16),
    /// `win:UInt16`.
    U16(u16),
    /// `win:Int32`.
    I32(i32),
    /// `win:UInt32`.
    U32(u32),
    /// `win:Int64`.
    I64(i64),
    /// `win:UInt64`.
    U64(u64),
    /// `win:Double`.
    F64(f64),
    /// `win:Boolean` (stored as a 32-bit 0 or 1).
    Bool(bool),
    /// `win:Binary`, shown as upper-case hex.
    Binary(Vec<u8>),
    /// `win:GUID`.
    Guid(Guid),
    /// `win:FILETIME`: 100 ns ticks since 1601-01-01 UTC.
    FileTime(u64),
    /// `win:SID`.
    Sid(Sid),
    /// `win:HexInt32`, shown as `0x..`.
    HexInt32(u32),
    /// `win:HexInt64`, shown as `0x..`.
    HexInt64(u64),
}

/// BinXML value type codes (MS-EVEN6 and the libyal EVTX notes).
pub(crate) mod ty {
    pub const NULL: u8 = 0x00;
    pub const STRING: u8 = 0x01;
    pub const ANSI: u8 = 0x02;
    pub const I8: u8 = 0x03;
    pub const U8: u8 = 0x04;
    pub const I16: u8 = 0x05;
    pub const U16: u8 = 0x06;
    pub const I32: u8 = 0x07;
    pub const U32: u8 = 0x08;
    pub const I64: u8 = 0x09;
    pub const U64: u8 = 0x0a;
    pub const F64: u8 = 0x0c;
    pub const BOOL: u8 = 0x0d;
    pub const BINARY: u8 = 0x0e;
    pub const GUID: u8 = 0x0f;
    pub const FILETIME: u8 = 0x11;
    pub const SID: u8 = 0x13;
    pub const HEX32: u8 = 0x14;
    pub const HEX64: u8 = 0x15;
    pub const BINXML: u8 = 0x21;
}

impl FieldValue {
    /// A SID value from its `S-1-..` text.
    ///
    /// # Panics
    /// If `text` is not a SID: this builds test input, where a typo should fail loudly.
    pub fn sid(text: &str) -> Self {
        FieldValue::Sid(text.parse().unwrap_or_else(|e| panic!("{e}")))
    }

    /// A GUID value from its `{..}` text (braces optional).
    ///
    /// # Panics
    /// If `text` is not a GUID.
    pub fn guid(text: &str) -> Self {
        FieldValue::Guid(text.parse().unwrap_or_else(|e| panic!("{e}")))
    }

    /// A FILETIME value from an RFC 3339 time.
    ///
    /// # Panics
    /// If `text` is not an RFC 3339 time.
    pub fn filetime(text: &str) -> Self {
        FieldValue::FileTime(parse_filetime(text).unwrap_or_else(|e| panic!("{e}")))
    }

    /// The BinXML type code this value is written as.
    pub(crate) fn type_code(&self) -> u8 {
        match self {
            FieldValue::Null => ty::NULL,
            FieldValue::Str(_) => ty::STRING,
            FieldValue::Ansi(_) => ty::ANSI,
            FieldValue::I8(_) => ty::I8,
            FieldValue::U8(_) => ty::U8,
            FieldValue::I16(_) => ty::I16,
            FieldValue::U16(_) => ty::U16,
            FieldValue::I32(_) => ty::I32,
            FieldValue::U32(_) => ty::U32,
            FieldValue::I64(_) => ty::I64,
            FieldValue::U64(_) => ty::U64,
            FieldValue::F64(_) => ty::F64,
            FieldValue::Bool(_) => ty::BOOL,
            FieldValue::Binary(_) => ty::BINARY,
            FieldValue::Guid(_) => ty::GUID,
            FieldValue::FileTime(_) => ty::FILETIME,
            FieldValue::Sid(_) => ty::SID,
            FieldValue::HexInt32(_) => ty::HEX32,
            FieldValue::HexInt64(_) => ty::HEX64,
        }
    }

    /// The type a template declares for this value: a NULL value still
    /// stands in a slot typed as text, as Windows' templates do.
    pub(crate) fn template_type(&self) -> u8 {
        match self {
            FieldValue::Null => ty::STRING,
            other => other.type_code(),
        }
    }

    /// Appends the value's bytes as a substitution holds them (strings
    /// without a terminating NUL).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            FieldValue::Null => {}
            FieldValue::Str(s) => out.extend(s.encode_utf16().flat_map(u16::to_le_bytes)),
            FieldValue::Ansi(s) => out.extend_from_slice(s.as_bytes()),
            FieldValue::I8(v) => out.extend(v.to_le_bytes()),
            FieldValue::U8(v) => out.push(*v),
            FieldValue::I16(v) => out.extend(v.to_le_bytes()),
            FieldValue::U16(v) => out.extend(v.to_le_bytes()),
            FieldValue::I32(v) => out.extend(v.to_le_bytes()),
            FieldValue::U32(v) | FieldValue::HexInt32(v) => out.extend(v.to_le_bytes()),
            FieldValue::I64(v) => out.extend(v.to_le_bytes()),
            FieldValue::U64(v) | FieldValue::HexInt64(v) | FieldValue::FileTime(v) => {
                out.extend(v.to_le_bytes())
            }
            FieldValue::F64(v) => out.extend(v.to_le_bytes()),
            FieldValue::Bool(v) => out.extend(u32::from(*v).to_le_bytes()),
            FieldValue::Binary(b) => out.extend_from_slice(b),
            FieldValue::Guid(g) => out.extend_from_slice(&g.to_bytes()),
            FieldValue::Sid(s) => s.encode(out),
        }
    }

    /// The value as text, for the plain (template-free) encoding, in the
    /// form a reader renders the typed value.
    pub(crate) fn to_text(&self) -> String {
        match self {
            FieldValue::Null => String::new(),
            FieldValue::Str(s) | FieldValue::Ansi(s) => s.clone(),
            FieldValue::I8(v) => v.to_string(),
            FieldValue::U8(v) => v.to_string(),
            FieldValue::I16(v) => v.to_string(),
            FieldValue::U16(v) => v.to_string(),
            FieldValue::I32(v) => v.to_string(),
            FieldValue::U32(v) => v.to_string(),
            FieldValue::I64(v) => v.to_string(),
            FieldValue::U64(v) => v.to_string(),
            FieldValue::F64(v) => v.to_string(),
            FieldValue::Bool(v) => v.to_string(),
            FieldValue::Binary(b) => b.iter().map(|x| format!("{x:02X}")).collect(),
            FieldValue::Guid(g) => g.to_string(),
            FieldValue::FileTime(t) => filetime_to_text(*t),
            FieldValue::Sid(s) => s.to_string(),
            FieldValue::HexInt32(v) => format!("{v:#x}"),
            FieldValue::HexInt64(v) => format!("{v:#x}"),
        }
    }
}

macro_rules! from_impls {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for FieldValue {
            fn from(v: $t) -> Self {
                FieldValue::$variant(v.into())
            }
        })*
    };
}

from_impls! {
    &str => Str, String => Str, i8 => I8, u8 => U8, i16 => I16, u16 => U16,
    i32 => I32, u32 => U32, i64 => I64, u64 => U64, f64 => F64, bool => Bool,
    Vec<u8> => Binary, Guid => Guid, Sid => Sid,
}

impl From<&String> for FieldValue {
    fn from(v: &String) -> Self {
        FieldValue::Str(v.clone())
    }
}

impl From<jiff::Timestamp> for FieldValue {
    fn from(t: jiff::Timestamp) -> Self {
        FieldValue::FileTime(to_filetime(t))
    }
}

impl<T: Into<FieldValue>> From<Option<T>> for FieldValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(FieldValue::Null, Into::into)
    }
}

/// 100 ns ticks between 1601-01-01 (FILETIME's epoch) and 1970-01-01.
const FILETIME_UNIX_EPOCH: i128 = 116_444_736_000_000_000;

/// A timestamp as a FILETIME (100 ns ticks since 1601-01-01 UTC); times
/// before 1601 become 0.
pub fn to_filetime(t: jiff::Timestamp) -> u64 {
    let ticks = t.as_nanosecond() / 100 + FILETIME_UNIX_EPOCH;
    u64::try_from(ticks).unwrap_or(0)
}

/// A FILETIME as a timestamp, where jiff can represent it.
pub fn from_filetime(ticks: u64) -> Option<jiff::Timestamp> {
    let nanos = (i128::from(ticks) - FILETIME_UNIX_EPOCH) * 100;
    jiff::Timestamp::from_nanosecond(nanos).ok()
}

/// Reads an RFC 3339 time (`2024-03-01T10:00:00Z`, fractions and offsets
/// allowed) as a FILETIME.
pub fn parse_filetime(text: &str) -> Result<u64> {
    text.parse::<jiff::Timestamp>()
        .map(to_filetime)
        .map_err(|_| Error::Parse {
            what: "RFC 3339 time",
            input: text.to_string(),
        })
}

/// A FILETIME as readers render it: RFC 3339 UTC with seven fractional digits.
fn filetime_to_text(ticks: u64) -> String {
    match from_filetime(ticks) {
        Some(t) => format!(
            "{}.{:07}Z",
            t.strftime("%Y-%m-%dT%H:%M:%S"),
            ticks % 10_000_000
        ),
        None => ticks.to_string(),
    }
}

/// A Windows security identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sid {
    revision: u8,
    authority: u64,
    sub_authorities: Vec<u32>,
}

impl Sid {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.revision);
        out.push(self.sub_authorities.len() as u8);
        out.extend_from_slice(&self.authority.to_be_bytes()[2..]);
        for sub in &self.sub_authorities {
            out.extend(sub.to_le_bytes());
        }
    }
}

impl FromStr for Sid {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let err = || Error::Parse {
            what: "SID",
            input: text.to_string(),
        };
        let rest = text.strip_prefix("S-").ok_or_else(err)?;
        let mut parts = rest.split('-');
        let revision = parts.next().and_then(|p| p.parse().ok()).ok_or_else(err)?;
        let authority: u64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(err)?;
        let sub_authorities = parts
            .map(|p| p.parse::<u32>().map_err(|_| err()))
            .collect::<Result<Vec<_>>>()?;
        // 48 bits of authority and at most 15 sub-authorities, as Windows allows.
        if authority >= 1 << 48 || sub_authorities.len() > 15 {
            return Err(err());
        }
        Ok(Sid {
            revision,
            authority,
            sub_authorities,
        })
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-{}", self.revision, self.authority)?;
        for sub in &self.sub_authorities {
            write!(f, "-{sub}")?;
        }
        Ok(())
    }
}

/// A GUID, written as Windows stores it (first three groups little-endian)
/// and shown as readers render it: lower-case hex in braces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guid {
    data1: u32,
    data2: u16,
    data3: u16,
    data4: [u8; 8],
}

impl Guid {
    /// A GUID from its 16 bytes in the order they are shown (big-endian groups).
    pub fn from_display_bytes(b: [u8; 16]) -> Self {
        Guid {
            data1: u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            data2: u16::from_be_bytes([b[4], b[5]]),
            data3: u16::from_be_bytes([b[6], b[7]]),
            data4: [b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]],
        }
    }

    /// The 16 bytes as stored on disk.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0; 16];
        out[..4].copy_from_slice(&self.data1.to_le_bytes());
        out[4..6].copy_from_slice(&self.data2.to_le_bytes());
        out[6..8].copy_from_slice(&self.data3.to_le_bytes());
        out[8..].copy_from_slice(&self.data4);
        out
    }
}

impl FromStr for Guid {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let err = || Error::Parse {
            what: "GUID",
            input: text.to_string(),
        };
        let inner = text.trim_start_matches('{').trim_end_matches('}');
        let groups: Vec<&str> = inner.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        if lengths != [8, 4, 4, 4, 12] {
            return Err(err());
        }
        let hex: String = groups.concat();
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).ok_or_else(err)?, 16)
                .map_err(|_| err())?;
        }
        Ok(Guid::from_display_bytes(bytes))
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.data4;
        write!(
            f,
            "{{{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}}}",
            self.data1, self.data2, self.data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_round_trips_and_encodes_authority_big_endian() {
        let sid: Sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
            .parse()
            .unwrap();
        assert_eq!(
            sid.to_string(),
            "S-1-5-21-3623811015-3361044348-30300820-1013"
        );
        let mut out = Vec::new();
        sid.encode(&mut out);
        assert_eq!(&out[..8], &[1, 5, 0, 0, 0, 0, 0, 5]);
        assert_eq!(out.len(), 8 + 5 * 4);
        for bad in ["S-1", "1-5-18", "S-1-x-1", "S-1-281474976710656-1"] {
            assert!(bad.parse::<Sid>().is_err(), "{bad}");
        }
    }

    #[test]
    fn guid_is_stored_mixed_endian_and_shown_lower_case() {
        let g: Guid = "{54849625-5478-4994-A5BA-3E3B0328C30D}".parse().unwrap();
        assert_eq!(g.to_string(), "{54849625-5478-4994-a5ba-3e3b0328c30d}");
        assert_eq!(&g.to_bytes()[..4], &[0x25, 0x96, 0x84, 0x54]);
        assert!(
            "{5484962-5478-4994-A5BA-3E3B0328C30D}"
                .parse::<Guid>()
                .is_err()
        );
    }

    #[test]
    fn filetime_converts_both_ways() {
        let ft = parse_filetime("2024-03-01T10:00:00.1234567Z").unwrap();
        assert_eq!(ft % 10_000_000, 1_234_567);
        assert_eq!(filetime_to_text(ft), "2024-03-01T10:00:00.1234567Z");
        assert_eq!(
            parse_filetime("1970-01-01T00:00:00Z").unwrap(),
            116_444_736_000_000_000
        );
        assert!(parse_filetime("yesterday").is_err());
    }
}
