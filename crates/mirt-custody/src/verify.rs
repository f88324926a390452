//! `verify`: everything a bundle claims, checked, with each problem named.

use crate::custody::{self, CustodyEntry};
use crate::format::{
    COLLECTION, CUSTODY, Collection, EVIDENCE_DIR, FORMAT_LINE, MANIFEST, ManifestEntry,
    RESULTS_DIR, ROOT, SIGNATURE, Signature, TRAILER, VERSION, root_text,
};
use crate::keys::{PublicKey, TrustStore};
use crate::report::{Check, Finding};
use crate::scan::{Scanned, scan};
use crate::zip::ZipIndex;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

/// What to check against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// Keys whose signatures are accepted.
    pub trust: &'a TrustStore,
    /// The custody head (`sha256:` of the last line) recorded elsewhere,
    /// e.g. in a receipt: catches a log cut after its last known entry.
    pub custody_head: Option<&'a str>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Everything that does not hold; empty when the bundle is intact.
    pub findings: Vec<Finding>,
    /// `collection.json`, when readable.
    pub collection: Option<Collection>,
    /// `manifest.jsonl` lines that could be read.
    pub manifest: Vec<ManifestEntry>,
    /// Custody entries that could be read.
    pub custody: Vec<CustodyEntry>,
    /// `sha256:` of the last custody line.
    pub custody_head: Option<String>,
    /// The root (as the `ROOT` member says).
    pub root: Option<String>,
    /// Who signed the root, when the signature holds.
    pub signer: Option<String>,
    /// Whether that key is trusted.
    pub signer_trusted: bool,
    /// Members in the archive.
    pub members: usize,
    /// Uncompressed bytes read.
    pub bytes: u64,
}

impl Report {
    /// Whether everything holds.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Verifies the bundle read from `r`; `progress` gets byte counts.
pub fn verify<R: Read + Seek>(
    r: &mut R,
    opts: &VerifyOptions<'_>,
    progress: &mut dyn FnMut(u64),
) -> Report {
    let mut report = Report::default();
    let index = match ZipIndex::read(r) {
        Ok(i) => i,
        Err(e) => {
            report
                .findings
                .push(Finding::new(Check::Container, e.to_string()));
            return report;
        }
    };
    report.members = index.members.len();
    for p in &index.problems {
        report
            .findings
            .push(Finding::new(Check::Container, p.clone()));
    }
    check_layout(&index, &mut report.findings);
    let scanned = match scan(r, &index, &mut report.findings, progress) {
        Ok(s) => s,
        Err(e) => {
            report
                .findings
                .push(Finding::new(Check::Container, format!("read error: {e}")));
            return report;
        }
    };
    report.bytes = scanned.bytes;
    check_contents(&index, &scanned, opts, &mut report);
    report
}

/// `VERSION` first; then evidence, then results; then the trailer in its
/// fixed order, each member once.
fn check_layout(index: &ZipIndex, findings: &mut Vec<Finding>) {
    let names: Vec<&str> = index.members.iter().map(|m| m.name.as_str()).collect();
    let mut seen = HashSet::new();
    for n in &names {
        if !seen.insert(*n) {
            findings.push(Finding::member(
                Check::Container,
                n,
                "appears more than once",
            ));
        }
    }
    if names.first() != Some(&VERSION) {
        findings.push(Finding::member(
            Check::Container,
            VERSION,
            "is not the first member",
        ));
    }
    let tail: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| TRAILER.contains(n))
        .collect();
    for t in TRAILER {
        if !names.contains(&t) {
            findings.push(Finding::member(Check::Container, t, "is missing"));
        }
    }
    let trailer_start = names.len().saturating_sub(TRAILER.len());
    if tail.len() == TRAILER.len() && names[trailer_start..] != TRAILER {
        findings.push(Finding::new(
            Check::Container,
            format!(
                "the last members must be {} in this order, found {}",
                TRAILER.join(", "),
                names[trailer_start..].join(", ")
            ),
        ));
    }
    let mut in_results = false;
    for n in &names {
        let top = n.split('/').next().unwrap_or_default();
        match top {
            _ if *n == VERSION || TRAILER.contains(n) => {}
            EVIDENCE_DIR if in_results => findings.push(Finding::member(
                Check::Container,
                n,
                "evidence member after result members",
            )),
            EVIDENCE_DIR => {}
            RESULTS_DIR => in_results = true,
            _ => findings.push(Finding::member(
                Check::Container,
                n,
                "is neither evidence, a result nor a metadata member",
            )),
        }
    }
}

fn check_contents(
    index: &ZipIndex,
    scanned: &Scanned,
    opts: &VerifyOptions<'_>,
    report: &mut Report,
) {
    let meta = |name: &str| scanned.metadata.get(name);
    let f = &mut report.findings;
    if let Some(v) = meta(VERSION)
        && v.split(|&b| b == b'\n').next() != Some(FORMAT_LINE.as_bytes())
    {
        f.push(Finding::member(
            Check::Metadata,
            VERSION,
            format!("does not start with {FORMAT_LINE:?}: unknown format or changed"),
        ));
    }
    if let Some(c) = meta(COLLECTION) {
        match serde_json::from_slice::<Collection>(c) {
            Ok(c) => report.collection = Some(c),
            Err(e) => f.push(Finding::member(
                Check::Metadata,
                COLLECTION,
                format!("cannot be read: {e}"),
            )),
        }
    }
    if let Some(m) = meta(MANIFEST) {
        report.manifest = parse_manifest(m, f);
        check_manifest(index, scanned, &report.manifest, f);
    }
    let root_bytes = meta(ROOT).cloned().unwrap_or_default();
    if let (Some(v), Some(c), Some(m)) = (meta(VERSION), meta(COLLECTION), meta(MANIFEST)) {
        let expected = root_text(v, c, m);
        report.root = Some(String::from_utf8_lossy(&root_bytes).trim_end().to_string());
        if meta(ROOT).is_some() && root_bytes != expected.as_bytes() {
            f.push(Finding::member(
                Check::Root,
                ROOT,
                format!(
                    "does not match VERSION, collection.json and manifest.jsonl (they give {}): \
                     one of them was changed",
                    expected.trim_end()
                ),
            ));
        }
    }
    if let Some(s) = meta(SIGNATURE) {
        check_signature(s, &root_bytes, opts.trust, report);
    }
    if let Some(log) = meta(CUSTODY) {
        let chain = custody::check_chain(log, &root_bytes, Some(opts.trust));
        report.findings.extend(chain.findings);
        if let (Some(want), Some(head)) = (opts.custody_head, &chain.head)
            && want != head
        {
            report.findings.push(Finding::member(
                Check::Custody,
                CUSTODY,
                format!(
                    "ends in {head}, not in the expected head {want}: entries were \
                         dropped or added at its end"
                ),
            ));
        }
        report.custody = chain.entries;
        report.custody_head = chain.head;
    }
}

fn parse_manifest(bytes: &[u8], f: &mut Vec<Finding>) -> Vec<ManifestEntry> {
    let mut entries = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<ManifestEntry>(line) {
            Ok(e) => entries.push(e),
            Err(e) => f.push(Finding::member(
                Check::Manifest,
                MANIFEST,
                format!("line {} cannot be read: {e}", i + 1),
            )),
        }
    }
    entries
}

/// Content members against the manifest: each listed one there, in order,
/// with its size and hashes; none unlisted.
fn check_manifest(
    index: &ZipIndex,
    scanned: &Scanned,
    manifest: &[ManifestEntry],
    f: &mut Vec<Finding>,
) {
    let listed: Vec<&ManifestEntry> = manifest.iter().filter(|e| e.stored.is_some()).collect();
    let by_name: HashMap<&str, &ManifestEntry> = listed
        .iter()
        .filter_map(|e| e.stored.as_deref().map(|s| (s, *e)))
        .collect();
    let content: Vec<&str> = index
        .members
        .iter()
        .map(|m| m.name.as_str())
        .filter(|n| *n != VERSION && !TRAILER.contains(n))
        .collect();
    let present: HashSet<&str> = content.iter().copied().collect();
    let missing: Vec<&ManifestEntry> = listed
        .iter()
        .copied()
        .filter(|e| !present.contains(e.stored.as_deref().unwrap_or_default()))
        .collect();
    let mut renamed_from = HashSet::new();
    for name in content.iter().filter(|n| !by_name.contains_key(**n)) {
        let d = scanned.digests.get(*name);
        let twin = missing.iter().find(|e| {
            d.is_some_and(|d| e.size == d.len && e.sha256.as_deref() == Some(&d.sha256_hex()))
        });
        match twin {
            Some(e) => {
                let old = e.stored.as_deref().unwrap_or_default();
                renamed_from.insert(old);
                f.push(Finding::member(
                    Check::Manifest,
                    name,
                    format!("was renamed: the manifest lists this content as {old:?}"),
                ));
            }
            None => f.push(Finding::member(
                Check::Manifest,
                name,
                "is not listed in the manifest: it was added",
            )),
        }
    }
    for e in &missing {
        let name = e.stored.as_deref().unwrap_or_default();
        if !renamed_from.contains(name) {
            f.push(Finding::member(
                Check::Manifest,
                name,
                "is listed in the manifest but missing: it was removed",
            ));
        }
    }
    check_order(&content, &listed, &present, f);
    for name in &content {
        let (Some(e), Some(d)) = (by_name.get(name), scanned.digests.get(*name)) else {
            continue;
        };
        let sha = d.sha256_hex();
        let b3 = d.blake3_hex();
        if e.size != d.len || e.sha256.as_deref() != Some(&sha) || e.blake3.as_deref() != Some(&b3)
        {
            f.push(Finding::member(
                Check::Member,
                name,
                format!(
                    "content does not match the manifest: {} bytes, SHA-256 {sha}; the manifest \
                     says {} bytes, SHA-256 {}",
                    d.len,
                    e.size,
                    e.sha256.as_deref().unwrap_or("-")
                ),
            ));
        }
    }
}

/// Members present and listed must come in manifest order.
fn check_order(
    content: &[&str],
    listed: &[&ManifestEntry],
    present: &HashSet<&str>,
    f: &mut Vec<Finding>,
) {
    let expected: Vec<&str> = listed
        .iter()
        .filter_map(|e| e.stored.as_deref())
        .filter(|s| present.contains(s))
        .collect();
    let listed_set: HashSet<&str> = expected.iter().copied().collect();
    let actual: Vec<&str> = content
        .iter()
        .copied()
        .filter(|n| listed_set.contains(n))
        .collect();
    if let Some(i) = actual.iter().zip(&expected).position(|(a, b)| a != b) {
        f.push(Finding::member(
            Check::Manifest,
            actual[i],
            format!(
                "is out of order: the manifest lists {:?} at this place (members were reordered)",
                expected[i]
            ),
        ));
    }
}

fn check_signature(bytes: &[u8], root_bytes: &[u8], trust: &TrustStore, report: &mut Report) {
    let sig: Signature = match serde_json::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => {
            report.findings.push(Finding::member(
                Check::Signature,
                SIGNATURE,
                format!("cannot be read: {e}"),
            ));
            return;
        }
    };
    match sig.holds_for(root_bytes) {
        Err(why) => report
            .findings
            .push(Finding::member(Check::Signature, SIGNATURE, why)),
        Ok(key) => {
            report.signer = Some(describe(&key));
            report.signer_trusted = trust.contains(&key);
            if !report.signer_trusted {
                report.findings.push(Finding::member(
                    Check::Signature,
                    SIGNATURE,
                    format!(
                        "made by key {}, which is not trusted (add it with `mirt keys trust` if \
                         you know it is theirs)",
                        describe(&key)
                    ),
                ));
            }
        }
    }
}

fn describe(key: &PublicKey) -> String {
    if key.name().is_empty() {
        key.id().to_string()
    } else {
        format!("{} ({})", key.id(), key.name())
    }
}
