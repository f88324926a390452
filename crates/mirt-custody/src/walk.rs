//! Turning evidence paths into an ordered list of files with safe member
//! names.
//!
//! Order: the paths in the order given; inside a folder, entries sorted by
//! their name's bytes (walkdir's `sort_by_file_name`), depth first. Member
//! name: `<folder>/<n>/<name of the path>/<relative path>`, where `n` counts
//! the given paths from 1 and every name component is escaped so that it is
//! safe to extract on Linux and Windows (see [`escape_component`]).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// One thing found under an evidence path.
#[derive(Debug)]
pub struct Found {
    /// Absolute path (not resolving links: the path as the file system
    /// names it).
    pub path: PathBuf,
    /// Member name for its content.
    pub stored: String,
    /// What it is, or why it could not be looked at.
    pub kind: FoundKind,
}

/// What was found.
#[derive(Debug)]
pub enum FoundKind {
    /// A regular file.
    File,
    /// A symbolic link (not followed).
    Link,
    /// A device, FIFO or socket.
    Other,
    /// The folder or entry could not be read.
    Error(std::io::Error),
}

/// Walks `roots` in order; `folder` is `evidence` or `results`.
pub fn walk<'a>(roots: &'a [PathBuf], folder: &'a str) -> impl Iterator<Item = Found> + 'a {
    roots.iter().enumerate().flat_map(move |(i, root)| {
        let abs = std::path::absolute(root).unwrap_or_else(|_| root.clone());
        let label = abs
            .file_name()
            .map(escape_component)
            .unwrap_or_else(|| "_".to_string());
        let base = format!("{folder}/{}/{label}", i + 1);
        walkdir::WalkDir::new(&abs)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_map(move |entry| found(entry, &abs, &base))
    })
}

fn found(entry: walkdir::Result<walkdir::DirEntry>, root: &Path, base: &str) -> Option<Found> {
    match entry {
        Ok(e) => {
            let ft = e.file_type();
            if ft.is_dir() {
                return None;
            }
            let kind = if ft.is_file() {
                FoundKind::File
            } else if ft.is_symlink() {
                FoundKind::Link
            } else {
                FoundKind::Other
            };
            let path = e.into_path();
            let stored = stored_name(base, root, &path);
            Some(Found { path, stored, kind })
        }
        Err(err) => {
            let path = err
                .path()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.into());
            let stored = stored_name(base, root, &path);
            let io = err
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("file system loop"));
            Some(Found {
                path,
                stored,
                kind: FoundKind::Error(io),
            })
        }
    }
}

fn stored_name(base: &str, root: &Path, path: &Path) -> String {
    let mut name = base.to_string();
    if let Ok(rel) = path.strip_prefix(root) {
        for c in rel.components() {
            name.push('/');
            name.push_str(&escape_component(c.as_os_str()));
        }
    }
    name
}

/// Characters that cannot appear in a file name on Windows or are
/// special in member names; `%` because it starts an escape.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\\' | '/' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '%'
        )
}

const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Escapes one path component for a member name: bytes that are not valid
/// UTF-8, characters not allowed in Windows file names, `%`, a trailing dot
/// or space and the first letter of a reserved DOS device name become
/// `%XX` (per byte). Decoding every `%XX` gives the original bytes back, so
/// different names never collide.
pub fn escape_component(c: &OsStr) -> String {
    let bytes = os_bytes(c);
    let mut out = String::with_capacity(bytes.len());
    let mut rest: &[u8] = &bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                push_escaped(&mut out, s);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                push_escaped(&mut out, std::str::from_utf8(good).unwrap_or_default());
                let n = e.error_len().unwrap_or(bad.len());
                for b in &bad[..n] {
                    out.push_str(&format!("%{b:02X}"));
                }
                rest = &bad[n..];
            }
        }
    }
    if out.ends_with('.') || out.ends_with(' ') {
        let last = out.pop().unwrap_or('.');
        out.push_str(&format!("%{:02X}", last as u32));
    }
    let stem = out.split('.').next().unwrap_or_default();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        let first = out.remove(0);
        out.insert_str(0, &format!("%{:02X}", first as u32));
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for ch in s.chars() {
        if must_escape(ch) {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(ch);
        }
    }
}

/// The bytes of a name: Unix as is, elsewhere UTF-8 (lossy only for
/// unpaired UTF-16 surrogates, which [`raw_path_hex`] records exactly).
pub fn os_bytes(c: &OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        c.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        c.to_string_lossy().into_owned().into_bytes()
    }
}

/// The exact bytes of `path` in hex when it is not valid Unicode (Unix: its
/// bytes; Windows: its UTF-16LE code units).
pub fn raw_path_hex(path: &Path) -> Option<String> {
    if path.to_str().is_some() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Some(mirt_hash::to_hex(path.as_os_str().as_bytes()))
    }
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStrExt;
        let bytes: Vec<u8> = path
            .as_os_str()
            .encode_wide()
            .flat_map(u16::to_le_bytes)
            .collect();
        Some(mirt_hash::to_hex(&bytes))
    }
    #[cfg(not(any(unix, windows)))]
    {
        Some(mirt_hash::to_hex(path.to_string_lossy().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_escaped_reversibly() {
        let cases = [
            ("plain.txt", "plain.txt"),
            ("Bürgeramt", "Bürgeramt"),
            ("a%b", "a%25b"),
            ("a:b*c", "a%3Ab%2Ac"),
            ("trailing.", "trailing%2E"),
            ("CON.txt", "%43ON.txt"),
            ("new\nline", "new%0Aline"),
        ];
        for (input, want) in cases {
            assert_eq!(escape_component(OsStr::new(input)), want, "{input:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn invalid_utf8_bytes_are_escaped_and_recorded() {
        use std::os::unix::ffi::OsStrExt;
        let raw = OsStr::from_bytes(b"caf\xe9");
        assert_eq!(escape_component(raw), "caf%E9");
        assert_eq!(raw_path_hex(Path::new(raw)).unwrap(), "636166e9");
        assert_eq!(raw_path_hex(Path::new("ok")), None);
    }

    #[test]
    fn walking_is_sorted_and_names_are_numbered_per_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("host1");
        std::fs::create_dir_all(root.join("b")).unwrap();
        std::fs::write(root.join("b/z.txt"), "z").unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        let single = dir.path().join("single.log");
        std::fs::write(&single, "s").unwrap();
        let roots = vec![root, single];
        let names: Vec<String> = walk(&roots, "evidence").map(|f| f.stored).collect();
        assert_eq!(
            names,
            [
                "evidence/1/host1/a.txt",
                "evidence/1/host1/b/z.txt",
                "evidence/2/single.log"
            ]
        );
    }
}
