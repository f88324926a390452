//! One sequential pass over every member: its local header and data
//! descriptor against the canonical form, its bytes decompressed, hashed
//! and CRC'd. Metadata members are kept in memory for the later checks.

use crate::format::{TRAILER, VERSION};
use crate::report::{Check, Finding};
use crate::zip::{Member, Method, ZipIndex};
use mirt_hash::{Algorithms, Digests, ThreadedHasher};
use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};

use crate::METADATA_LIMIT;

/// What the pass found per member.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    /// Digests of each member's uncompressed bytes, by name (the first
    /// member of a name, if names repeat).
    pub digests: HashMap<String, Digests>,
    /// The bytes of the metadata members, by name.
    pub metadata: HashMap<String, Vec<u8>>,
    /// Uncompressed bytes read.
    pub bytes: u64,
}

fn is_metadata(name: &str) -> bool {
    name == VERSION || TRAILER.contains(&name)
}

/// Reads every member of `index` from `r`; problems go to `findings`.
pub(crate) fn scan<R: Read + Seek>(
    r: &mut R,
    index: &ZipIndex,
    findings: &mut Vec<Finding>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Scanned> {
    let mut out = Scanned::default();
    let mut hasher = ThreadedHasher::new(Algorithms::default());
    for m in &index.members {
        r.seek(SeekFrom::Start(m.offset))?;
        let header = m.expected_local_header();
        let mut got = vec![0u8; header.len()];
        if let Err(e) = r.read_exact(&mut got) {
            findings.push(Finding::member(
                Check::Container,
                &m.name,
                format!("local header cannot be read: {e}"),
            ));
            continue;
        }
        if got != header {
            findings.push(Finding::member(
                Check::Container,
                &m.name,
                format!(
                    "local header differs from the central directory (byte {})",
                    crate::zip::first_difference(&got, &header)
                ),
            ));
        }
        let keep = is_metadata(&m.name) && m.size <= METADATA_LIMIT;
        if is_metadata(&m.name) && !keep {
            findings.push(Finding::member(
                Check::Metadata,
                &m.name,
                format!(
                    "is {} bytes, too large to check (limit {METADATA_LIMIT})",
                    m.size
                ),
            ));
        }
        let mut kept = keep.then(Vec::new);
        let (digests, crc) = match read_data(r, m, &mut hasher, kept.as_mut(), progress) {
            Ok(x) => x,
            Err(e) => {
                findings.push(Finding::member(
                    Check::Member,
                    &m.name,
                    format!("data cannot be read: {e}"),
                ));
                continue;
            }
        };
        check_data(m, &digests, crc, findings);
        check_descriptor(r, m, findings)?;
        out.bytes += digests.len;
        if let Some(bytes) = kept {
            out.metadata.entry(m.name.clone()).or_insert(bytes);
        }
        out.digests.entry(m.name.clone()).or_insert(digests);
    }
    Ok(out)
}

fn check_data(m: &Member, d: &Digests, crc: u32, findings: &mut Vec<Finding>) {
    if d.len != m.size {
        findings.push(Finding::member(
            Check::Member,
            &m.name,
            format!(
                "holds {} bytes, the central directory says {}",
                d.len, m.size
            ),
        ));
    } else if crc != m.crc {
        findings.push(Finding::member(
            Check::Member,
            &m.name,
            format!(
                "CRC-32 is {crc:08x}, the central directory says {:08x}: its bytes were changed",
                m.crc
            ),
        ));
    }
}

fn check_descriptor<R: Read + Seek>(
    r: &mut R,
    m: &Member,
    findings: &mut Vec<Finding>,
) -> io::Result<()> {
    r.seek(SeekFrom::Start(m.data_offset() + m.compressed))?;
    let want = m.expected_descriptor();
    let mut got = vec![0u8; want.len()];
    match r.read_exact(&mut got) {
        Ok(()) if got == want => {}
        Ok(()) => findings.push(Finding::member(
            Check::Container,
            &m.name,
            format!(
                "data descriptor differs from the central directory (byte {})",
                crate::zip::first_difference(&got, &want)
            ),
        )),
        Err(e) => findings.push(Finding::member(
            Check::Container,
            &m.name,
            format!("data descriptor cannot be read: {e}"),
        )),
    }
    Ok(())
}

/// A reader over the uncompressed bytes of member `m` of the archive `r`.
pub fn member_reader<'a, R: Read + Seek>(
    r: &'a mut R,
    m: &Member,
) -> io::Result<Box<dyn Read + 'a>> {
    r.seek(SeekFrom::Start(m.data_offset()))?;
    let raw = r.take(m.compressed);
    Ok(match m.method {
        Method::Store => Box::new(raw),
        Method::Deflate => Box::new(flate2::read::DeflateDecoder::new(raw)),
        Method::Zstd => Box::new(zstd::stream::read::Decoder::new(raw)?),
    })
}

fn read_data<R: Read + Seek>(
    r: &mut R,
    m: &Member,
    hasher: &mut ThreadedHasher,
    mut kept: Option<&mut Vec<u8>>,
    progress: &mut dyn FnMut(u64),
) -> io::Result<(Digests, u32)> {
    let mut reader = member_reader(r, m)?;
    let mut crc = crc32fast::Hasher::new();
    let result = loop {
        let mut buf = hasher.take_buffer();
        let n = match read_full(&mut reader, &mut buf) {
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        if n == 0 {
            hasher.put_back(buf);
            break Ok(());
        }
        let block = hasher.submit(buf, n);
        crc.update(&block);
        if let Some(k) = kept.as_deref_mut() {
            k.extend_from_slice(&block);
        }
        hasher.recycle(block);
        progress(n as u64);
    };
    let digests = hasher.finish_stream();
    result.map(|()| (digests, crc.finalize()))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
