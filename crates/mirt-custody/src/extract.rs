//! `extract`: members into a new folder, each checked as it is written.
//!
//! Refused before anything is written: member names that are absolute,
//! contain `..`, backslashes, drive letters or control characters, and
//! members marked as symbolic links. The target folder must be new or
//! empty, files are created only with `create_new`, so nothing outside it
//! is ever written or followed.

use crate::bundle::{Identities, not_a_bundle, open};
use crate::error::{Error, IoContext, Result};
use crate::format::{MANIFEST, ManifestEntry};
use crate::report::{Check, Finding};
use crate::scan::member_reader;
use crate::zip::{Member, ZipIndex, is_safe_name};
use mirt_hash::MultiHasher;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// What was extracted and what did not check out.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    /// Files written.
    pub files: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Members whose bytes do not match the manifest or their CRC (they
    /// are written all the same, so that they can be examined).
    pub findings: Vec<Finding>,
}

/// Why a member name is refused, if it is.
pub fn refusal(m: &Member) -> Option<&'static str> {
    if m.is_symlink() {
        return Some("it is a symbolic link");
    }
    if m.name.starts_with('/') || m.name.starts_with('\\') {
        return Some("its path is absolute");
    }
    if m.name.split(['/', '\\']).any(|p| p == "..") {
        return Some("its path leads out of the target folder (..)");
    }
    if !is_safe_name(&m.name) {
        return Some("its name is not a safe relative path");
    }
    None
}

/// Extracts the bundle at `path` into `dest` (created; must be empty).
pub fn extract(path: &Path, identities: &Identities, dest: &Path) -> Result<Extracted> {
    let mut r = open(path, identities)?;
    let index = ZipIndex::read(&mut r).map_err(|e| not_a_bundle(path, e))?;
    for m in &index.members {
        if let Some(reason) = refusal(m) {
            return Err(Error::Unsafe {
                path: path.into(),
                member: m.name.clone(),
                reason: reason.into(),
            });
        }
    }
    prepare_dest(dest)?;
    let manifest = read_manifest(&mut r, &index, path)?;
    let mut out = Extracted::default();
    for p in &index.problems {
        out.findings.push(Finding::new(Check::Container, p.clone()));
    }
    let listed: std::collections::HashMap<&str, &ManifestEntry> = manifest
        .iter()
        .filter_map(|e| e.stored.as_deref().map(|s| (s, e)))
        .collect();
    for m in &index.members {
        let target = dest.join(&m.name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        let (digests, crc) = copy_member(&mut r, m, &target)?;
        out.files += 1;
        out.bytes += digests.len;
        let entry = listed.get(m.name.as_str()).copied();
        check(m, &digests, crc, entry, &mut out.findings);
        finish_file(&target, entry);
    }
    Ok(out)
}

fn prepare_dest(dest: &Path) -> Result<()> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::Exists { path: dest.into() });
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(dest).at(dest),
        Err(e) => Err(e).at(dest),
    }
}

fn read_manifest<R: Read + io::Seek>(
    r: &mut R,
    index: &ZipIndex,
    path: &Path,
) -> Result<Vec<ManifestEntry>> {
    let Some(m) = index.get(MANIFEST) else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::new();
    member_reader(r, m)
        .and_then(|rd| rd.take(crate::METADATA_LIMIT).read_to_end(&mut bytes))
        .map_err(|e| Error::Member {
            path: path.into(),
            member: MANIFEST.into(),
            reason: e.to_string(),
        })?;
    Ok(bytes
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect())
}

fn copy_member<R: Read + io::Seek>(
    r: &mut R,
    m: &Member,
    target: &PathBuf,
) -> Result<(mirt_hash::Digests, u32)> {
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .open(target)
        .at(target)?;
    let mut reader = member_reader(r, m).at(target)?;
    let mut hasher = MultiHasher::new(Default::default());
    let mut crc = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).at(target),
        };
        hasher.update(&buf[..n]);
        crc.update(&buf[..n]);
        file.write_all(&buf[..n]).at(target)?;
    }
    file.sync_all().at(target)?;
    Ok((hasher.finalize(), crc.finalize()))
}

fn check(
    m: &Member,
    d: &mirt_hash::Digests,
    crc: u32,
    listed: Option<&ManifestEntry>,
    findings: &mut Vec<Finding>,
) {
    if crc != m.crc || d.len != m.size {
        findings.push(Finding::member(
            Check::Member,
            &m.name,
            "CRC-32 or size does not match the central directory: its bytes were changed",
        ));
    }
    if let Some(e) = listed
        && (e.sha256.as_deref() != Some(&d.sha256_hex()) || e.size != d.len)
    {
        findings.push(Finding::member(
            Check::Member,
            &m.name,
            "content does not match the manifest",
        ));
    }
}

/// Read-only, with the original modification time where the manifest has
/// it (best effort: a failure here does not change the content).
fn finish_file(target: &Path, listed: Option<&ManifestEntry>) {
    if let Some(t) = listed.and_then(|e| e.times.modified)
        && let Ok(f) = File::options().write(true).open(target)
    {
        let _ = f.set_modified(std::time::SystemTime::from(t));
    }
    if let Ok(meta) = std::fs::metadata(target) {
        let mut perm = meta.permissions();
        perm.set_readonly(true);
        let _ = std::fs::set_permissions(target, perm);
    }
}
