//! Reads the canonical ZIP64 layout back, checking every header byte.

use super::{
    CENTRAL_EXTRA, CENTRAL_FIXED, CENTRAL_SIG, CentralEntry, DESCRIPTOR_LEN, LOCAL_EXTRA,
    LOCAL_FIXED, MAX_NAME_LEN, Method, TAIL_LEN, ZIP64_EOCD_SIG, central_header, descriptor,
    local_header, tail,
};
use std::io::{self, Read, Seek, SeekFrom};

/// Largest central directory read into memory (about ten million members).
const MAX_DIRECTORY: u64 = 1 << 30;

/// One member as the central directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Name inside the archive.
    pub name: String,
    /// Compression method.
    pub method: Method,
    /// CRC-32 of the uncompressed bytes.
    pub crc: u32,
    /// Stored (compressed) size.
    pub compressed: u64,
    /// Uncompressed size.
    pub size: u64,
    /// Offset of the local header.
    pub offset: u64,
    /// The external attributes (Unix mode in the upper 16 bits).
    pub external_attrs: u32,
}

impl Member {
    /// Offset of the first data byte.
    pub fn data_offset(&self) -> u64 {
        self.offset + (LOCAL_FIXED + self.name.len() + LOCAL_EXTRA) as u64
    }

    /// Whether the attributes mark it as a symbolic link.
    pub fn is_symlink(&self) -> bool {
        (self.external_attrs >> 16) & 0o170000 == 0o120000
    }

    /// Offset just past the data descriptor.
    pub fn end(&self) -> u64 {
        self.data_offset() + self.compressed + DESCRIPTOR_LEN as u64
    }

    /// The canonical local header this member must start with.
    pub(crate) fn expected_local_header(&self) -> Vec<u8> {
        local_header(&self.name, self.method)
    }

    /// The canonical data descriptor this member must end with.
    pub(crate) fn expected_descriptor(&self) -> Vec<u8> {
        descriptor(self.crc, self.compressed, self.size)
    }

    pub(crate) fn central(&self) -> CentralEntry {
        CentralEntry {
            name: self.name.clone(),
            method: self.method,
            crc: self.crc,
            compressed: self.compressed,
            size: self.size,
            offset: self.offset,
        }
    }
}

/// The member list of an archive, from its central directory.
#[derive(Debug, Clone)]
pub struct ZipIndex {
    /// Members in central directory order.
    pub members: Vec<Member>,
    /// Where the central directory starts (= where the members end).
    pub cd_offset: u64,
    /// Length of the whole file.
    pub file_len: u64,
    /// Damage found while reading the directory that did not stop it from
    /// being read (non-canonical entries, gaps between members).
    pub problems: Vec<String>,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// Index of the first differing byte.
pub(crate) fn first_difference(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

impl ZipIndex {
    /// Reads the end records and the central directory of `r`. Fails
    /// (`InvalidData`, with the reason) when they cannot be found or read;
    /// lesser damage goes to [`ZipIndex::problems`].
    pub fn read<R: Read + Seek>(r: &mut R) -> io::Result<ZipIndex> {
        let file_len = r.seek(SeekFrom::End(0))?;
        if file_len < TAIL_LEN as u64 {
            return Err(bad(format!(
                "file is {file_len} bytes, too short for a bundle: truncated?"
            )));
        }
        let mut end = vec![0u8; TAIL_LEN];
        r.seek(SeekFrom::Start(file_len - TAIL_LEN as u64))?;
        r.read_exact(&mut end)?;
        if u32_at(&end, 0) != ZIP64_EOCD_SIG {
            return Err(bad(
                "no ZIP64 end record at the end of the file: truncated, or bytes appended after it",
            ));
        }
        let count = u64_at(&end, 24);
        let cd_size = u64_at(&end, 40);
        let cd_offset = u64_at(&end, 48);
        if end != tail(count, cd_size, cd_offset) {
            let at = first_difference(&end, &tail(count, cd_size, cd_offset));
            return Err(bad(format!(
                "end records are damaged (byte {} of the last {TAIL_LEN})",
                at
            )));
        }
        if cd_offset.checked_add(cd_size) != Some(file_len - TAIL_LEN as u64) {
            return Err(bad(format!(
                "central directory ({cd_size} bytes at {cd_offset}) does not end where the end \
                 records begin ({}): truncated, or bytes inserted or removed",
                file_len - TAIL_LEN as u64
            )));
        }
        if cd_size > MAX_DIRECTORY {
            return Err(bad(format!(
                "central directory of {cd_size} bytes is larger than mirt reads ({MAX_DIRECTORY})"
            )));
        }
        let min_entry = (CENTRAL_FIXED + CENTRAL_EXTRA + 1) as u64;
        if count.saturating_mul(min_entry) > cd_size {
            return Err(bad(format!(
                "end record claims {count} members, more than fit in the central directory"
            )));
        }
        let mut cd = vec![0u8; cd_size as usize];
        r.seek(SeekFrom::Start(cd_offset))?;
        r.read_exact(&mut cd)?;
        let mut index = ZipIndex {
            members: Vec::with_capacity(count as usize),
            cd_offset,
            file_len,
            problems: Vec::new(),
        };
        index.parse_directory(&cd, count)?;
        index.check_contiguous();
        Ok(index)
    }

    fn parse_directory(&mut self, cd: &[u8], count: u64) -> io::Result<()> {
        let mut at = 0usize;
        for i in 0..count {
            let entry = parse_central(&cd[at..]).map_err(|why| {
                bad(format!(
                    "central directory entry {} (at {}) cannot be read: {why}",
                    i + 1,
                    self.cd_offset + at as u64
                ))
            })?;
            let (member, raw_len, raw_ok) = entry;
            let canonical = central_header(&member.central());
            let raw = &cd[at..at + raw_len];
            if !raw_ok || raw != canonical.as_slice() {
                self.problems.push(format!(
                    "central directory entry {} ({:?}) is damaged (byte {} differs from the \
                     canonical form)",
                    i + 1,
                    member.name,
                    first_difference(raw, &canonical)
                ));
            }
            at += raw_len;
            self.members.push(member);
        }
        if at != cd.len() {
            self.problems.push(format!(
                "{} unexpected bytes after the last central directory entry",
                cd.len() - at
            ));
        }
        Ok(())
    }

    /// Members must follow each other without gaps from offset 0 to the
    /// central directory: any inserted or removed byte shows here.
    fn check_contiguous(&mut self) {
        let mut expected = 0u64;
        for m in &self.members {
            if m.offset != expected {
                self.problems.push(format!(
                    "member {:?} starts at {} but the previous member ends at {expected}: bytes \
                     inserted, removed or hidden between members",
                    m.name, m.offset
                ));
            }
            expected = m.end();
        }
        if expected != self.cd_offset {
            self.problems.push(format!(
                "the last member ends at {expected} but the central directory starts at {}",
                self.cd_offset
            ));
        }
    }

    /// The member called `name`.
    pub fn get(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// Parses one central directory header: the member, the header's length,
/// and whether the fields not kept in `Member` had their canonical values
/// (checked again by comparing with the canonical bytes).
fn parse_central(b: &[u8]) -> Result<(Member, usize, bool), String> {
    if b.len() < CENTRAL_FIXED {
        return Err("directory ends inside the entry".into());
    }
    if u32_at(b, 0) != CENTRAL_SIG {
        return Err("no central directory signature".into());
    }
    let name_len = u16_at(b, 28) as usize;
    let extra_len = u16_at(b, 30) as usize;
    let comment_len = u16_at(b, 32) as usize;
    let total = CENTRAL_FIXED + name_len + extra_len + comment_len;
    if name_len == 0 || name_len > MAX_NAME_LEN || total > b.len() {
        return Err(format!("implausible name length {name_len}"));
    }
    if extra_len != CENTRAL_EXTRA {
        return Err(format!(
            "extra field of {extra_len} bytes, expected {CENTRAL_EXTRA}"
        ));
    }
    let name_bytes = &b[CENTRAL_FIXED..CENTRAL_FIXED + name_len];
    let name = String::from_utf8_lossy(name_bytes).into_owned();
    let method_code = u16_at(b, 10);
    let method = Method::from_code(method_code)
        .ok_or_else(|| format!("{name:?}: unknown compression method {method_code}"))?;
    let extra = &b[CENTRAL_FIXED + name_len..];
    let member = Member {
        name,
        method,
        crc: u32_at(b, 16),
        size: u64_at(extra, 4),
        compressed: u64_at(extra, 12),
        offset: u64_at(extra, 20),
        external_attrs: u32_at(b, 38),
    };
    let ok = std::str::from_utf8(name_bytes).is_ok() && comment_len == 0;
    Ok((member, total, ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zip::ZipWriter;
    use std::io::Cursor;

    fn sample(method: Method) -> Vec<u8> {
        let mut z = ZipWriter::new(Vec::new());
        z.add("VERSION", method, b"hello").unwrap();
        z.add("evidence/1/a", method, &[7u8; 5000]).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn written_archives_read_back_without_problems() {
        for method in [Method::Store, Method::Deflate, Method::Zstd] {
            let bytes = sample(method);
            let index = ZipIndex::read(&mut Cursor::new(&bytes)).unwrap();
            assert!(index.problems.is_empty(), "{:?}", index.problems);
            assert_eq!(index.members.len(), 2);
            assert_eq!(index.members[1].size, 5000);
            assert_eq!(index.members[0].crc, crc32fast::hash(b"hello"));
        }
    }

    #[test]
    fn every_flipped_byte_of_the_directory_and_tail_is_noticed() {
        let bytes = sample(Method::Store);
        let index = ZipIndex::read(&mut Cursor::new(&bytes)).unwrap();
        for at in index.cd_offset as usize..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x01;
            match ZipIndex::read(&mut Cursor::new(&damaged)) {
                Err(_) => {}
                Ok(i) => assert!(
                    !i.problems.is_empty() || i.members != index.members,
                    "flip at {at} unnoticed"
                ),
            }
        }
    }

    #[test]
    fn truncation_is_reported() {
        let bytes = sample(Method::Store);
        for keep in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            let err = ZipIndex::read(&mut Cursor::new(&bytes[..keep])).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{keep}: {err}");
        }
    }
}
