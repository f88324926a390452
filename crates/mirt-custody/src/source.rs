//! Opening evidence read-only without touching its access time, and
//! recording what the file system says about it before it is read.

use crate::format::{EntryKind, FileTimes, ManifestEntry, Status};
use crate::walk::raw_path_hex;
use jiff::Timestamp;
use std::fs::{File, Metadata};
use std::path::Path;

/// Opens `path` read-only. On Linux with `O_NOATIME` where the file's
/// owner (or root) allows it, so reading does not change its access time.
pub fn open_evidence(path: &Path) -> std::io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let noatime = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOATIME.bits() as i32)
            .open(path);
        match noatime {
            Ok(f) => return Ok(f),
            // Not the owner: O_NOATIME is not allowed; open normally.
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => {}
            Err(e) => return Err(e),
        }
    }
    File::open(path)
}

fn ts(t: std::io::Result<std::time::SystemTime>) -> Option<Timestamp> {
    t.ok().and_then(|t| Timestamp::try_from(t).ok())
}

/// Times of `meta`.
pub fn file_times(meta: &Metadata) -> FileTimes {
    #[cfg(unix)]
    let changed = {
        use std::os::unix::fs::MetadataExt;
        Timestamp::new(meta.ctime(), meta.ctime_nsec() as i32).ok()
    };
    #[cfg(not(unix))]
    let changed = None;
    FileTimes {
        modified: ts(meta.modified()),
        accessed: ts(meta.accessed()),
        changed,
        created: ts(meta.created()),
    }
}

/// A manifest entry for `path` with what `meta` says; content fields
/// (stored, hashes, status) are filled in by the caller.
pub fn entry_for(kind: EntryKind, path: &Path, meta: Option<&Metadata>) -> ManifestEntry {
    let mut e = ManifestEntry {
        kind,
        path: path.to_string_lossy().into_owned(),
        path_bytes: raw_path_hex(path),
        stored: None,
        status: Status::Unread,
        size: 0,
        file_size: None,
        times: FileTimes::default(),
        mode: None,
        uid: None,
        gid: None,
        link_target: None,
        blake3: None,
        sha256: None,
        md5: None,
        sha1: None,
        errors: Vec::new(),
    };
    if let Some(m) = meta {
        e.times = file_times(m);
        if m.is_file() {
            e.file_size = Some(m.len());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            e.mode = Some(format!("{:o}", m.mode()));
            e.uid = Some(m.uid());
            e.gid = Some(m.gid());
        }
    }
    e
}

/// The manifest entry of a symbolic link (not followed).
pub fn link_entry(path: &Path) -> ManifestEntry {
    let meta = std::fs::symlink_metadata(path);
    let mut e = entry_for(EntryKind::Link, path, meta.as_ref().ok());
    match std::fs::read_link(path) {
        Ok(t) => e.link_target = Some(t.to_string_lossy().into_owned()),
        Err(err) => e.errors.push(format!("cannot read the link target: {err}")),
    }
    if let Err(err) = meta {
        e.errors.push(format!("cannot read its metadata: {err}"));
    }
    e.errors
        .push("symbolic link: recorded, not followed".to_string());
    e
}

/// The manifest entry of a device, FIFO or socket (not read).
pub fn other_entry(path: &Path) -> ManifestEntry {
    let meta = std::fs::symlink_metadata(path);
    let mut e = entry_for(EntryKind::Other, path, meta.as_ref().ok());
    e.errors
        .push("not a regular file (device, FIFO or socket): recorded, not read".to_string());
    e
}
