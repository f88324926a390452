//! Reading evidence once: opened read-only (without touching the access
//! time where the system allows), loaded into memory when small, mapped
//! when large, so hashing and scanning share the same bytes.

use std::fs::File;
use std::io::{self, Read};
use std::ops::Deref;
use std::path::Path;

/// Files at least this large are memory-mapped instead of read.
pub const DEFAULT_MMAP_THRESHOLD: u64 = 16 * 1024 * 1024;

/// The bytes of one file.
pub enum Contents {
    /// Read into memory.
    Read(Vec<u8>),
    /// Memory-mapped, read-only.
    Mapped(memmap2::Mmap),
}

impl Deref for Contents {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Contents::Read(v) => v,
            Contents::Mapped(m) => m,
        }
    }
}

impl Contents {
    /// Whether the bytes are memory-mapped.
    pub fn is_mapped(&self) -> bool {
        matches!(self, Contents::Mapped(_))
    }
}

/// Opens `path` read-only for evidence: without updating its access time
/// where the system permits (Linux `O_NOATIME`, allowed to the file's owner
/// and root), without blocking on a FIFO that appeared since it was listed,
/// and, unless `follow` is set, without following a symlink in its last
/// component.
pub fn open_evidence(path: &Path, follow: bool) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let base = libc::O_NONBLOCK | if follow { 0 } else { libc::O_NOFOLLOW };
        let open = |flags: i32| {
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(flags)
                .open(path)
        };
        match open(base | libc::O_NOATIME) {
            // O_NOATIME is refused for files of other users without CAP_FOWNER.
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => open(base),
            other => other,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = follow;
        File::open(path)
    }
}

/// Reads all of `file`, whose size was `len` when listed: mapped when
/// `len >= mmap_threshold`, read otherwise. Files that report a size of 0
/// (as `/proc` files do) are read to their end.
pub fn read_contents(file: &mut File, len: u64, mmap_threshold: u64) -> io::Result<Contents> {
    if len > 0 && len >= mmap_threshold {
        return map(file);
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    file.read_to_end(&mut buf)?;
    Ok(Contents::Read(buf))
}

#[allow(unsafe_code)]
fn map(file: &File) -> io::Result<Contents> {
    // SAFETY: the map is read-only and private to this process. Evidence is
    // expected not to change while it is read; if another process truncates
    // the file meanwhile, reading past the new end faults (SIGBUS), which is
    // the documented cost of mapping, accepted for large files only.
    let map = unsafe { memmap2::MmapOptions::new().map(file)? };
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(Contents::Mapped(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_mapped_give_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.bin");
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut f = open_evidence(&path, false).unwrap();
        let read = read_contents(&mut f, data.len() as u64, u64::MAX).unwrap();
        assert!(!read.is_mapped());
        let mut f = open_evidence(&path, false).unwrap();
        let mapped = read_contents(&mut f, data.len() as u64, 1).unwrap();
        assert!(mapped.is_mapped());
        assert_eq!(&*read, &data[..]);
        assert_eq!(&*mapped, &data[..]);
    }

    #[test]
    fn empty_files_read_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty");
        std::fs::write(&path, b"").unwrap();
        let mut f = open_evidence(&path, false).unwrap();
        assert!(read_contents(&mut f, 0, 1).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_followed_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("target"), b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("target"), &link).unwrap();
        assert!(open_evidence(&link, false).is_err());
        assert!(open_evidence(&link, true).is_ok());
    }
}
