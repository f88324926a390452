//! `custody add`: a signed entry appended without rewriting the evidence.
//!
//! `custody.jsonl` is the last member, so only it and the central
//! directory after it are rewritten: the bytes of every other member stay
//! where they are. For an encrypted bundle the entry goes to its sidecar.

use crate::bundle::{is_encrypted, not_a_bundle, sidecar_chain};
use crate::custody::{NewEntry, check_chain, sign_entry};
use crate::error::{Error, IoContext, Result};
use crate::format::{CUSTODY, ROOT, SIGNATURE, Signature, TRAILER, tagged_sha256};
use crate::keys::SigningKey;
use crate::output::{AtomicFile, sidecar_path};
use crate::scan::member_reader;
use crate::zip::{Method, ZipIndex, ZipWriter};
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

/// What was appended.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The new line, with newline.
    pub line: Vec<u8>,
    /// Its sequence number.
    pub seq: u64,
    /// `sha256:` of the new line: the new head of the log.
    pub head: String,
    /// The file that was changed (bundle or sidecar).
    pub file: std::path::PathBuf,
}

/// Appends `entry`, signed by `key`, to the custody log of the bundle at
/// `path`. Refuses when the existing log does not check out.
pub fn append(path: &Path, entry: NewEntry, key: &SigningKey) -> Result<Appended> {
    if is_encrypted(path)? {
        append_to_sidecar(path, entry, key)
    } else {
        append_to_bundle(path, entry, key)
    }
}

fn broken(path: &Path, reason: impl Into<String>) -> Error {
    Error::Custody {
        path: path.into(),
        reason: reason.into(),
    }
}

fn append_to_sidecar(path: &Path, entry: NewEntry, key: &SigningKey) -> Result<Appended> {
    let side = sidecar_path(path);
    let log = std::fs::read(&side).at(&side)?;
    let (root_bytes, chain) = sidecar_chain(&log, None);
    if let Some(f) = chain.findings.first() {
        return Err(broken(&side, format!("refusing to append: {f}")));
    }
    let seq = chain.entries.len() as u64;
    let line = sign_entry(entry, seq, chain.last_line.as_deref(), &root_bytes, key);
    let mut file = AtomicFile::create(&side, true)?;
    file.write_all(&log).at(&side)?;
    file.write_all(&line).at(&side)?;
    file.commit()?;
    Ok(Appended {
        head: tagged_sha256(&line),
        line,
        seq,
        file: side,
    })
}

fn read_member<R: Read + Seek>(
    r: &mut R,
    index: &ZipIndex,
    name: &str,
    path: &Path,
) -> Result<Vec<u8>> {
    let m = index
        .get(name)
        .ok_or_else(|| broken(path, format!("member {name} is missing")))?;
    let mut buf = Vec::new();
    member_reader(r, m)
        .and_then(|rd| rd.take(crate::METADATA_LIMIT).read_to_end(&mut buf))
        .at(path)?;
    if crc32fast::hash(&buf) != m.crc {
        return Err(broken(path, format!("member {name} is damaged (CRC-32)")));
    }
    Ok(buf)
}

fn append_to_bundle(path: &Path, entry: NewEntry, key: &SigningKey) -> Result<Appended> {
    let mut file = File::options().read(true).write(true).open(path).at(path)?;
    let index = ZipIndex::read(&mut file).map_err(|e| not_a_bundle(path, e))?;
    if let Some(p) = index.problems.first() {
        return Err(broken(
            path,
            format!("refusing to append to a damaged bundle: {p}"),
        ));
    }
    let names: Vec<&str> = index.members.iter().map(|m| m.name.as_str()).collect();
    if names.len() < TRAILER.len() || names[names.len() - TRAILER.len()..] != TRAILER {
        return Err(broken(
            path,
            "the bundle does not end in its metadata members",
        ));
    }
    let root_bytes = read_member(&mut file, &index, ROOT, path)?;
    let sig: Signature = serde_json::from_slice(&read_member(&mut file, &index, SIGNATURE, path)?)
        .map_err(|e| broken(path, format!("SIGNATURE cannot be read: {e}")))?;
    sig.holds_for(&root_bytes)
        .map_err(|why| broken(path, format!("refusing to append: SIGNATURE: {why}")))?;
    let log = read_member(&mut file, &index, CUSTODY, path)?;
    let chain = check_chain(&log, &root_bytes, None);
    if let Some(f) = chain.findings.first() {
        return Err(broken(path, format!("refusing to append: {f}")));
    }
    let seq = chain.entries.len() as u64;
    let line = sign_entry(entry, seq, chain.last_line.as_deref(), &root_bytes, key);
    let mut new_log = log;
    new_log.extend_from_slice(&line);
    rewrite_tail(&mut file, &index, &new_log, path)?;
    Ok(Appended {
        head: tagged_sha256(&line),
        line,
        seq,
        file: path.into(),
    })
}

/// Replaces the last member (custody.jsonl) and the directory after it.
/// If writing fails, the old tail is put back.
fn rewrite_tail(file: &mut File, index: &ZipIndex, log: &[u8], path: &Path) -> Result<()> {
    let last = index
        .members
        .last()
        .ok_or_else(|| broken(path, "no members"))?;
    let start = last.offset;
    let mut old_tail = Vec::new();
    file.seek(SeekFrom::Start(start)).at(path)?;
    file.read_to_end(&mut old_tail).at(path)?;
    let entries = index.members[..index.members.len() - 1]
        .iter()
        .map(|m| m.central())
        .collect();
    let attempt = (|| -> std::io::Result<()> {
        file.seek(SeekFrom::Start(start))?;
        let mut zip = ZipWriter::resume(BufWriter::new(&mut *file), start, entries);
        zip.add(CUSTODY, Method::Store, log)?;
        let mut out = zip.finish()?;
        out.flush()?;
        drop(out);
        let end = file.stream_position()?;
        file.set_len(end)?;
        file.sync_all()
    })();
    if let Err(e) = attempt {
        let restore = file
            .seek(SeekFrom::Start(start))
            .and_then(|_| file.write_all(&old_tail))
            .and_then(|_| file.set_len(start + old_tail.len() as u64))
            .and_then(|_| file.sync_all());
        let note = match restore {
            Ok(()) => "the bundle was restored as it was",
            Err(_) => {
                "restoring the old log failed too: check the bundle with `mirt bundle verify`"
            }
        };
        return Err(broken(path, format!("appending failed ({e}); {note}")));
    }
    Ok(())
}
