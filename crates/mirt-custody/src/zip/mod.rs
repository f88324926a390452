//! The one ZIP64 layout mirt writes, and the reader that checks a file
//! against it.
//!
//! Every record has exactly one canonical byte form (see `FORMAT.md`,
//! "Container"): the writer produces it and the reader rebuilds it from the
//! parsed values and compares byte for byte. So any changed header byte is
//! found, not only the fields a general-purpose unzip looks at.

mod reader;
mod writer;

pub(crate) use reader::first_difference;
pub use reader::{Member, ZipIndex};
pub use writer::{EntryWriter, Fill, ZipWriter};

/// How a member's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Stored as is (ZIP method 0): the default for evidence.
    Store,
    /// Deflate (ZIP method 8), level 6.
    Deflate,
    /// Zstandard (ZIP method 93), level 3.
    Zstd,
}

impl Method {
    /// The ZIP compression method number.
    pub fn code(self) -> u16 {
        match self {
            Method::Store => 0,
            Method::Deflate => 8,
            Method::Zstd => 93,
        }
    }

    /// The method with ZIP number `code`, if mirt writes it.
    pub fn from_code(code: u16) -> Option<Method> {
        match code {
            0 => Some(Method::Store),
            8 => Some(Method::Deflate),
            93 => Some(Method::Zstd),
            _ => None,
        }
    }

    /// `store`, `deflate` or `zstd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Store => "store",
            Method::Deflate => "deflate",
            Method::Zstd => "zstd",
        }
    }
}

pub(crate) const LOCAL_SIG: u32 = 0x0403_4b50;
pub(crate) const DESCRIPTOR_SIG: u32 = 0x0807_4b50;
pub(crate) const CENTRAL_SIG: u32 = 0x0201_4b50;
pub(crate) const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
pub(crate) const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
pub(crate) const EOCD_SIG: u32 = 0x0605_4b50;

/// ZIP 4.5: ZIP64.
const VERSION_NEEDED: u16 = 45;
/// Made by "Unix" (3), so that the external attributes carry a file mode.
const VERSION_MADE_BY: u16 = (3 << 8) | VERSION_NEEDED;
/// Bit 3 (sizes and CRC in a data descriptor after the data, so members
/// can be streamed) and bit 11 (names are UTF-8).
const FLAGS: u16 = 0x0808;
/// 1980-01-01 00:00:00, the earliest MS-DOS time: real file times live in
/// the manifest, so that the archive does not depend on when it was made.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;
/// A regular file, read-only for everyone (0100444).
const EXTERNAL_ATTRS: u32 = 0o100444 << 16;

/// Fixed sizes of the records.
pub(crate) const LOCAL_FIXED: usize = 30;
pub(crate) const LOCAL_EXTRA: usize = 20;
pub(crate) const DESCRIPTOR_LEN: usize = 24;
pub(crate) const CENTRAL_FIXED: usize = 46;
pub(crate) const CENTRAL_EXTRA: usize = 28;
pub(crate) const ZIP64_EOCD_LEN: usize = 56;
pub(crate) const ZIP64_LOCATOR_LEN: usize = 20;
pub(crate) const EOCD_LEN: usize = 22;
/// The three end records together.
pub(crate) const TAIL_LEN: usize = ZIP64_EOCD_LEN + ZIP64_LOCATOR_LEN + EOCD_LEN;

/// Longest member name mirt writes or accepts.
pub const MAX_NAME_LEN: usize = 4096;

struct Buf(Vec<u8>);

impl Buf {
    fn with_capacity(n: usize) -> Self {
        Buf(Vec::with_capacity(n))
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
}

/// The canonical local file header of a member named `name`.
pub(crate) fn local_header(name: &str, method: Method) -> Vec<u8> {
    let mut b = Buf::with_capacity(LOCAL_FIXED + name.len() + LOCAL_EXTRA);
    b.u32(LOCAL_SIG)
        .u16(VERSION_NEEDED)
        .u16(FLAGS)
        .u16(method.code())
        .u16(DOS_TIME)
        .u16(DOS_DATE)
        // CRC and sizes follow in the data descriptor; the ZIP64 extra
        // field below says the descriptor holds 8-byte sizes.
        .u32(0)
        .u32(u32::MAX)
        .u32(u32::MAX)
        .u16(name.len() as u16)
        .u16(LOCAL_EXTRA as u16)
        .bytes(name.as_bytes())
        .u16(1)
        .u16(16)
        .u64(0)
        .u64(0);
    b.0
}

/// The canonical data descriptor (ZIP64 form) after a member's data.
pub(crate) fn descriptor(crc: u32, compressed: u64, size: u64) -> Vec<u8> {
    let mut b = Buf::with_capacity(DESCRIPTOR_LEN);
    b.u32(DESCRIPTOR_SIG).u32(crc).u64(compressed).u64(size);
    b.0
}

/// What the central directory says about one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CentralEntry {
    pub name: String,
    pub method: Method,
    pub crc: u32,
    pub compressed: u64,
    pub size: u64,
    pub offset: u64,
}

/// The canonical central directory header of `e`.
pub(crate) fn central_header(e: &CentralEntry) -> Vec<u8> {
    let mut b = Buf::with_capacity(CENTRAL_FIXED + e.name.len() + CENTRAL_EXTRA);
    b.u32(CENTRAL_SIG)
        .u16(VERSION_MADE_BY)
        .u16(VERSION_NEEDED)
        .u16(FLAGS)
        .u16(e.method.code())
        .u16(DOS_TIME)
        .u16(DOS_DATE)
        .u32(e.crc)
        .u32(u32::MAX)
        .u32(u32::MAX)
        .u16(e.name.len() as u16)
        .u16(CENTRAL_EXTRA as u16)
        .u16(0) // comment length
        .u16(0) // disk number start
        .u16(0) // internal attributes
        .u32(EXTERNAL_ATTRS)
        .u32(u32::MAX)
        .bytes(e.name.as_bytes())
        .u16(1)
        .u16(24)
        .u64(e.size)
        .u64(e.compressed)
        .u64(e.offset);
    b.0
}

/// The canonical ZIP64 end record, its locator and the classic end record
/// for a central directory of `count` entries, `size` bytes at `offset`.
pub(crate) fn tail(count: u64, size: u64, offset: u64) -> Vec<u8> {
    let mut b = Buf::with_capacity(TAIL_LEN);
    b.u32(ZIP64_EOCD_SIG)
        .u64((ZIP64_EOCD_LEN - 12) as u64)
        .u16(VERSION_MADE_BY)
        .u16(VERSION_NEEDED)
        .u32(0)
        .u32(0)
        .u64(count)
        .u64(count)
        .u64(size)
        .u64(offset);
    b.u32(ZIP64_LOCATOR_SIG).u32(0).u64(offset + size).u32(1);
    // The classic record points readers to the ZIP64 one: counts and
    // offsets are all "see ZIP64", whatever their size.
    b.u32(EOCD_SIG)
        .u16(0)
        .u16(0)
        .u16(u16::MAX)
        .u16(u16::MAX)
        .u32(u32::MAX)
        .u32(u32::MAX)
        .u16(0);
    b.0
}

/// Whether `name` is a member name mirt writes: relative, `/`-separated,
/// no empty, `.` or `..` component, no backslash, colon or control
/// character, at most [`MAX_NAME_LEN`] bytes.
pub fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('/')
        && !name
            .chars()
            .any(|c| c == '\\' || c == ':' || c.is_control())
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_their_documented_sizes() {
        assert_eq!(
            local_header("ab", Method::Store).len(),
            LOCAL_FIXED + 2 + LOCAL_EXTRA
        );
        assert_eq!(descriptor(1, 2, 3).len(), DESCRIPTOR_LEN);
        let e = CentralEntry {
            name: "abc".into(),
            method: Method::Deflate,
            crc: 7,
            compressed: 1,
            size: 2,
            offset: 3,
        };
        assert_eq!(central_header(&e).len(), CENTRAL_FIXED + 3 + CENTRAL_EXTRA);
        assert_eq!(tail(1, 2, 3).len(), TAIL_LEN);
    }

    #[test]
    fn unsafe_names_are_recognised() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "a/./b",
            "a\\b",
            "C:x",
            "a\nb",
            "a/",
        ] {
            assert!(!is_safe_name(bad), "{bad:?}");
        }
        for good in ["VERSION", "evidence/1/host/a b.txt", "results/x..y"] {
            assert!(is_safe_name(good), "{good:?}");
        }
    }
}
