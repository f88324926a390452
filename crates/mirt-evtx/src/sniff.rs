//! Tells an EVTX file from a legacy `.evt` file and from anything else, by
//! its first bytes, before the parser sees it.

use std::io::Read;
use std::path::Path;

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Starts with the EVTX file header magic `ElfFile\0`.
    Evtx,
    /// A Windows NT/2000/XP/2003 event log (`LfLe` signature at offset 4).
    LegacyEvt,
    /// Zero bytes long.
    Empty,
    /// Shorter than an EVTX file header (4096 bytes) but starting with its magic.
    TruncatedHeader,
    /// Anything else.
    Other,
}

const EVTX_MAGIC: &[u8; 8] = b"ElfFile\0";
const EVT_SIGNATURE: &[u8; 4] = b"LfLe";

/// Classifies the first bytes of a file (`len` is the whole file's size).
pub fn classify(head: &[u8], len: u64) -> FileKind {
    if len == 0 {
        return FileKind::Empty;
    }
    if head.starts_with(EVTX_MAGIC) {
        return if len < 4096 {
            FileKind::TruncatedHeader
        } else {
            FileKind::Evtx
        };
    }
    if head.get(4..8) == Some(EVT_SIGNATURE.as_slice()) {
        return FileKind::LegacyEvt;
    }
    FileKind::Other
}

/// Reads the first bytes of `path` and classifies them.
pub fn sniff(path: &Path) -> std::io::Result<FileKind> {
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut head = [0u8; 8];
    let mut n = 0;
    let mut reader = file.take(8);
    while n < head.len() {
        match reader.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(classify(&head[..n], len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_magic() {
        assert_eq!(classify(b"ElfFile\0", 69632), FileKind::Evtx);
        assert_eq!(classify(b"ElfFile\0", 100), FileKind::TruncatedHeader);
        assert_eq!(classify(b"\x30\0\0\0LfLe", 65536), FileKind::LegacyEvt);
        assert_eq!(classify(b"", 0), FileKind::Empty);
        assert_eq!(classify(b"MZ\x90\0", 4), FileKind::Other);
    }
}
