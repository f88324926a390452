//! One-pass hashing of evidence: every byte is fed once to every hasher
//! that was asked for. BLAKE3 and SHA-256 are always computed; MD5 and
//! SHA-1 only on request, for legacy hash lists.
//!
//! ```
//! use mirt_hash::{Algorithms, MultiHasher};
//!
//! let mut h = MultiHasher::new(Algorithms::default());
//! h.update(b"abc");
//! let d = h.finalize();
//! assert_eq!(
//!     d.sha256_hex(),
//!     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//! );
//! assert!(d.md5.is_none());
//! ```
#![deny(missing_docs)]
// Only `read` maps files into memory, with its safety argument there.
#![deny(unsafe_code)]

mod queue;
mod read;
mod threaded;

pub use queue::{HashQueue, Shared, default_sha_threads};
pub use read::{Contents, DEFAULT_MMAP_THRESHOLD, open_evidence, read_contents};
pub use threaded::{BLOCK_SIZE, Block, ThreadedHasher};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use sha2::Digest as _;
use std::fmt::Write as _;
use std::io::Read;

/// Which optional algorithms to compute besides BLAKE3 and SHA-256.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Algorithms {
    /// Also compute MD5.
    pub md5: bool,
    /// Also compute SHA-1.
    pub sha1: bool,
}

impl Algorithms {
    /// BLAKE3, SHA-256, MD5 and SHA-1.
    pub fn all() -> Self {
        Algorithms {
            md5: true,
            sha1: true,
        }
    }
}

/// A hash algorithm, for naming digests in hash lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// MD5 (16 bytes).
    Md5,
    /// SHA-1 (20 bytes).
    Sha1,
    /// SHA-256 (32 bytes).
    Sha256,
    /// BLAKE3 (32 bytes).
    Blake3,
}

impl Algorithm {
    /// The lowercase name (`md5`, `sha1`, `sha256`, `blake3`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Blake3 => "blake3",
        }
    }
}

/// Below this many bytes, [`MultiHasher::update_parallel`] stays on the
/// calling thread: starting threads would cost more than it saves.
pub const PARALLEL_MIN: usize = 4 * 1024 * 1024;

/// Feeds the same bytes to several hashers.
#[derive(Clone)]
pub struct MultiHasher {
    blake3: blake3::Hasher,
    sha256: sha2::Sha256,
    md5: Option<md5::Md5>,
    sha1: Option<sha1::Sha1>,
    len: u64,
}

impl MultiHasher {
    /// Hashers for BLAKE3, SHA-256 and the optional `extra` algorithms.
    pub fn new(extra: Algorithms) -> Self {
        MultiHasher {
            blake3: blake3::Hasher::new(),
            sha256: sha2::Sha256::new(),
            md5: extra.md5.then(md5::Md5::new),
            sha1: extra.sha1.then(sha1::Sha1::new),
            len: 0,
        }
    }

    /// Feeds `data` to every hasher.
    pub fn update(&mut self, data: &[u8]) {
        self.blake3.update(data);
        self.sha256.update(data);
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        self.len += data.len() as u64;
    }

    /// Feeds `data` to every hasher, the algorithms side by side on their
    /// own threads when `data` is large (a big file then costs the time of
    /// the slowest algorithm, not of all of them together).
    pub fn update_parallel(&mut self, data: &[u8]) {
        if data.len() < PARALLEL_MIN {
            return self.update(data);
        }
        let MultiHasher {
            blake3,
            sha256,
            md5,
            sha1,
            len,
        } = self;
        std::thread::scope(|s| {
            s.spawn(|| blake3.update(data));
            if let Some(h) = md5 {
                s.spawn(|| h.update(data));
            }
            if let Some(h) = sha1 {
                s.spawn(|| h.update(data));
            }
            sha256.update(data);
        });
        *len += data.len() as u64;
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was fed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digests.
    pub fn finalize(self) -> Digests {
        Digests {
            blake3: *self.blake3.finalize().as_bytes(),
            sha256: self.sha256.finalize().into(),
            md5: self.md5.map(|h| h.finalize().into()),
            sha1: self.sha1.map(|h| h.finalize().into()),
            len: self.len,
        }
    }

    /// Reads `reader` to its end in 256 KiB blocks, hashing as it goes.
    pub fn update_reader(&mut self, mut reader: impl Read) -> std::io::Result<u64> {
        let mut buf = vec![0u8; 256 * 1024];
        let start = self.len;
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(self.len - start),
                Ok(n) => self.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The digests of one stream of bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// BLAKE3.
    pub blake3: [u8; 32],
    /// SHA-256.
    pub sha256: [u8; 32],
    /// MD5, when asked for.
    pub md5: Option<[u8; 16]>,
    /// SHA-1, when asked for.
    pub sha1: Option<[u8; 20]>,
    /// Number of bytes hashed.
    pub len: u64,
}

impl Digests {
    /// BLAKE3 in lowercase hex.
    pub fn blake3_hex(&self) -> String {
        to_hex(&self.blake3)
    }

    /// SHA-256 in lowercase hex.
    pub fn sha256_hex(&self) -> String {
        to_hex(&self.sha256)
    }

    /// The digest of `algorithm`, if it was computed.
    pub fn get(&self, algorithm: Algorithm) -> Option<&[u8]> {
        match algorithm {
            Algorithm::Blake3 => Some(&self.blake3),
            Algorithm::Sha256 => Some(&self.sha256),
            Algorithm::Md5 => self.md5.as_ref().map(|d| d.as_slice()),
            Algorithm::Sha1 => self.sha1.as_ref().map(|d| d.as_slice()),
        }
    }
}

impl Serialize for Digests {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("blake3", &to_hex(&self.blake3))?;
        map.serialize_entry("sha256", &to_hex(&self.sha256))?;
        if let Some(d) = &self.sha1 {
            map.serialize_entry("sha1", &to_hex(d))?;
        }
        if let Some(d) = &self.md5 {
            map.serialize_entry("md5", &to_hex(d))?;
        }
        map.end()
    }
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A hex digest could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a hex digest of MD5, SHA-1, SHA-256 or BLAKE3 length: {0:?}")]
pub struct ParseDigestError(String);

/// Reads a hex digest and tells its algorithm by its length (32 hex digits:
/// MD5, 40: SHA-1, 64: SHA-256 or BLAKE3, which share a length and are told
/// apart by where they are looked up).
pub fn parse_hex_digest(text: &str) -> Result<(Vec<u8>, usize), ParseDigestError> {
    let t = text.trim();
    let err = || ParseDigestError(t.to_string());
    // Checked first: slicing by byte below must not split a multi-byte
    // character (a hash list may hold any text).
    if !matches!(t.len(), 32 | 40 | 64) || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err());
    }
    let bytes = (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&t[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| err())?;
    let n = bytes.len();
    Ok((bytes, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        let mut h = MultiHasher::new(Algorithms::all());
        h.update(b"ab");
        h.update(b"c");
        let d = h.finalize();
        assert_eq!(d.len, 3);
        assert_eq!(to_hex(&d.md5.unwrap()), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            to_hex(&d.sha1.unwrap()),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            d.blake3_hex(),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
        let json = serde_json_like(&d);
        assert!(json.contains("blake3"));
    }

    fn serde_json_like(d: &Digests) -> String {
        format!("blake3={} sha256={}", d.blake3_hex(), d.sha256_hex())
    }

    #[test]
    fn digest_lengths_are_recognised() {
        assert_eq!(
            parse_hex_digest("900150983cd24fb0d6963f7d28e17f72")
                .unwrap()
                .1,
            16
        );
        assert!(parse_hex_digest("xyz").is_err());
        // Multi-byte characters must not make the parser slice inside them.
        assert!(parse_hex_digest(&"é".repeat(16)).is_err());
        assert!(parse_hex_digest("zz0150983cd24fb0d6963f7d28e17f72").is_err());
    }

    #[test]
    fn parallel_update_equals_serial() {
        let data: Vec<u8> = (0..PARALLEL_MIN as u32 + 77)
            .map(|i| (i % 253) as u8)
            .collect();
        let mut a = MultiHasher::new(Algorithms::all());
        a.update(&data);
        let mut b = MultiHasher::new(Algorithms::all());
        b.update_parallel(&data);
        assert_eq!(a.finalize(), b.finalize());
    }

    proptest::proptest! {
        #[test]
        fn split_updates_equal_one_update(data: Vec<u8>, cut in 0usize..512) {
            let cut = cut.min(data.len());
            let mut a = MultiHasher::new(Algorithms::all());
            a.update(&data);
            let mut b = MultiHasher::new(Algorithms::all());
            b.update(&data[..cut]);
            b.update(&data[cut..]);
            proptest::prop_assert_eq!(a.finalize(), b.finalize());
        }
    }
}
