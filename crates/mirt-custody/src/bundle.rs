//! Bundles on disk, plain or encrypted: opening, verifying, showing.

use crate::custody::{self, CustodyEntry};
use crate::error::{Error, IoContext, Result};
use crate::format::{COLLECTION, CUSTODY, Collection, MANIFEST, ManifestEntry, ROOT};
use crate::output::sidecar_path;
use crate::report::{Check, Finding};
use crate::scan::member_reader;
use crate::sparse::SparseFile;
use crate::verify::{Report, VerifyOptions, verify};
use crate::zip::ZipIndex;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// age identities (private keys) to decrypt with.
pub type Identities = Vec<Box<dyn age::Identity>>;

const AGE_MAGIC: &[u8] = b"age-encryption.org/";

/// Whether the file at `path` is age-encrypted (by its first bytes).
pub fn is_encrypted(path: &Path) -> Result<bool> {
    let mut head = [0u8; 19];
    let mut f = File::open(path).at(path)?;
    let n = read_up_to(&mut f, &mut head).at(path)?;
    Ok(&head[..n] == AGE_MAGIC)
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads an age identity file (`AGE-SECRET-KEY-1...` lines).
pub fn load_identities(path: &Path) -> Result<Identities> {
    let file = age::IdentityFile::from_file(path.to_string_lossy().into_owned()).at(path)?;
    file.into_identities().map_err(|e| Error::Age {
        what: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// A bundle opened for reading: the file, or its decrypted stream.
pub enum Opened {
    /// A plain bundle.
    Plain(BufReader<SparseFile>),
    /// The plaintext of an encrypted bundle (seekable).
    Encrypted(Box<age::stream::StreamReader<BufReader<File>>>),
}

impl Read for Opened {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Opened::Plain(r) => r.read(buf),
            Opened::Encrypted(r) => r.read(buf),
        }
    }
}

impl Seek for Opened {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Opened::Plain(r) => r.seek(pos),
            Opened::Encrypted(r) => r.seek(pos),
        }
    }
}

/// Opens `path`; encrypted bundles need `identities`.
pub fn open(path: &Path, identities: &Identities) -> Result<Opened> {
    let encrypted = is_encrypted(path)?;
    let file = File::open(path).at(path)?;
    if !encrypted {
        let sparse = SparseFile::new(file);
        return Ok(Opened::Plain(BufReader::with_capacity(1 << 20, sparse)));
    }
    let file = BufReader::with_capacity(1 << 20, file);
    if identities.is_empty() {
        return Err(Error::Age {
            what: path.display().to_string(),
            reason: "the bundle is encrypted: give an age identity (--identity)".into(),
        });
    }
    let dec = age::Decryptor::new_buffered(file).map_err(|source| Error::Decrypt {
        path: path.into(),
        source: Box::new(source),
    })?;
    let reader = dec
        .decrypt(identities.iter().map(|i| &**i as &dyn age::Identity))
        .map_err(|source| Error::Decrypt {
            path: path.into(),
            source: Box::new(source),
        })?;
    Ok(Opened::Encrypted(Box::new(reader)))
}

/// Verifies the bundle at `path`. For an encrypted bundle, also its sidecar
/// and the ciphertext's hash; its contents only with `identities`.
pub fn verify_path(
    path: &Path,
    identities: &Identities,
    opts: &VerifyOptions<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<Report> {
    if !is_encrypted(path)? {
        let mut r = open(path, identities)?;
        return Ok(verify(&mut r, opts, progress));
    }
    let mut outer = check_sidecar(path, opts)?;
    let inner_opts = VerifyOptions {
        custody_head: None,
        ..*opts
    };
    if identities.is_empty() {
        outer.findings.push(Finding::new(
            Check::Ciphertext,
            "contents not checked: the bundle is encrypted; give its age identity (--identity)",
        ));
        return Ok(outer.into_report());
    }
    let mut inner = match open(path, identities) {
        Ok(mut r) => verify(&mut r, &inner_opts, progress),
        Err(e) => {
            outer.findings.push(Finding::new(
                Check::Ciphertext,
                format!("cannot decrypt: {e}"),
            ));
            return Ok(outer.into_report());
        }
    };
    if let (Some(side), Some(root)) = (&outer.root, &inner.root)
        && side != root
    {
        outer.findings.push(Finding::new(
            Check::Ciphertext,
            format!("the sidecar is about root {side}, the bundle inside has {root}"),
        ));
    }
    let mut findings = outer.findings;
    findings.append(&mut inner.findings);
    inner.findings = findings;
    inner.custody.extend(outer.entries);
    inner.custody_head = outer.head;
    Ok(inner)
}

/// What the sidecar check found.
struct Outer {
    findings: Vec<Finding>,
    entries: Vec<CustodyEntry>,
    root: Option<String>,
    head: Option<String>,
}

impl Outer {
    fn into_report(self) -> Report {
        Report {
            findings: self.findings,
            custody: self.entries,
            custody_head: self.head,
            root: self.root,
            ..Report::default()
        }
    }
}

/// The sidecar's chain, and the ciphertext against its first entry.
fn check_sidecar(path: &Path, opts: &VerifyOptions<'_>) -> Result<Outer> {
    let side = sidecar_path(path);
    let mut outer = Outer {
        findings: Vec::new(),
        entries: Vec::new(),
        root: None,
        head: None,
    };
    let log = match std::fs::read(&side) {
        Ok(l) => l,
        Err(e) => {
            outer.findings.push(Finding::new(
                Check::Ciphertext,
                format!(
                    "sidecar {} cannot be read ({e}): the ciphertext's hash is not checked",
                    side.display()
                ),
            ));
            return Ok(outer);
        }
    };
    let (root_bytes, chain) = sidecar_chain(&log, Some(opts.trust));
    outer.root = Some(String::from_utf8_lossy(&root_bytes).trim_end().to_string());
    outer.findings.extend(chain.findings);
    outer.head = chain.head.clone();
    if let (Some(want), Some(head)) = (opts.custody_head, &chain.head)
        && want != head
    {
        outer.findings.push(Finding::new(
            Check::Custody,
            format!(
                "the sidecar log ends in {head}, not in the expected head {want}: entries \
                     were dropped or added at its end"
            ),
        ));
    }
    let first = chain.entries.first().and_then(|e| e.ciphertext.clone());
    match first {
        None => outer.findings.push(Finding::entry(
            1,
            "the sidecar's first entry does not describe the ciphertext",
        )),
        Some(c) => {
            let d = hash_file(path)?;
            if d.len != c.size || d.sha256_hex() != c.sha256 || d.blake3_hex() != c.blake3 {
                outer.findings.push(Finding::new(
                    Check::Ciphertext,
                    format!(
                        "{} does not match its sidecar: {} bytes, SHA-256 {}; the sidecar says {} \
                         bytes, SHA-256 {}",
                        path.display(),
                        d.len,
                        d.sha256_hex(),
                        c.size,
                        c.sha256
                    ),
                ));
            }
        }
    }
    outer.entries = chain.entries;
    Ok(outer)
}

/// The sidecar's chain, anchored to the root its first entry names.
pub(crate) fn sidecar_chain(
    log: &[u8],
    trust: Option<&crate::keys::TrustStore>,
) -> (Vec<u8>, custody::Chain) {
    let first: Option<CustodyEntry> = log.split(|&b| b == b'\n').next().and_then(|l| {
        // The root is needed to check the chain; the signature check
        // comes with it.
        let v: serde_json::Value = serde_json::from_slice(l).ok()?;
        serde_json::from_value(strip_sig(v)).ok()
    });
    let root_bytes = first
        .map(|e| format!("{}\n", e.root).into_bytes())
        .unwrap_or_default();
    let chain = custody::check_chain(log, &root_bytes, trust);
    (root_bytes, chain)
}

fn strip_sig(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("sig");
    }
    v
}

fn hash_file(path: &Path) -> Result<mirt_hash::Digests> {
    let f = File::open(path).at(path)?;
    let mut h = mirt_hash::MultiHasher::new(Default::default());
    h.update_reader(f).at(path)?;
    Ok(h.finalize())
}

/// What `show` prints: metadata without hashing the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The bundle file.
    pub path: PathBuf,
    /// Whether it is encrypted.
    pub encrypted: bool,
    /// `collection.json`.
    pub collection: Option<Collection>,
    /// Manifest lines.
    pub manifest: Vec<ManifestEntry>,
    /// Custody entries (the bundle's, then the sidecar's).
    pub custody: Vec<CustodyEntry>,
    /// The `ROOT` text.
    pub root: Option<String>,
    /// Members in the archive.
    pub members: usize,
    /// Size of the file.
    pub file_size: u64,
}

/// Reads the metadata of the bundle at `path` (no hashing).
pub fn summary(path: &Path, identities: &Identities) -> Result<Summary> {
    let encrypted = is_encrypted(path)?;
    let file_size = std::fs::metadata(path).at(path)?.len();
    let mut side_entries = Vec::new();
    if encrypted && let Ok(log) = std::fs::read(sidecar_path(path)) {
        side_entries = sidecar_chain(&log, None).1.entries;
    }
    let mut r = open(path, identities)?;
    let index = ZipIndex::read(&mut r).map_err(|e| not_a_bundle(path, e))?;
    let mut read = |name: &str| -> Result<Option<Vec<u8>>> {
        let Some(m) = index.get(name) else {
            return Ok(None);
        };
        let mut buf = Vec::new();
        member_reader(&mut r, m)
            .and_then(|rd| rd.take(crate::METADATA_LIMIT).read_to_end(&mut buf))
            .map_err(|e| Error::Member {
                path: path.into(),
                member: name.into(),
                reason: e.to_string(),
            })?;
        Ok(Some(buf))
    };
    let collection = read(COLLECTION)?.and_then(|b| serde_json::from_slice(&b).ok());
    let manifest = read(MANIFEST)?
        .map(|b| {
            b.split(|&c| c == b'\n')
                .filter_map(|l| serde_json::from_slice(l).ok())
                .collect()
        })
        .unwrap_or_default();
    let root_bytes = read(ROOT)?.unwrap_or_default();
    let mut custody = read(CUSTODY)?
        .map(|log| custody::check_chain(&log, &root_bytes, None).entries)
        .unwrap_or_default();
    custody.append(&mut side_entries);
    Ok(Summary {
        path: path.into(),
        encrypted,
        collection,
        manifest,
        custody,
        root: Some(String::from_utf8_lossy(&root_bytes).trim_end().to_string())
            .filter(|r| !r.is_empty()),
        members: index.members.len(),
        file_size,
    })
}

pub(crate) fn not_a_bundle(path: &Path, e: io::Error) -> Error {
    Error::NotABundle {
        path: path.into(),
        reason: e.to_string(),
    }
}
