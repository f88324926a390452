//! The custody log: JSON Lines, each entry signed by its actor's key and
//! chained to the one before by the SHA-256 of its line.
//!
//! A line is the compact JSON of a [`CustodyEntry`] with one more member,
//! `"sig"`, last: the base64 Ed25519 signature over the domain line and the
//! same JSON without `"sig"`. So the signed bytes are the line's own bytes
//! and no JSON canonicalisation is needed to check them.

use crate::format::tagged_sha256;
use crate::keys::{PublicKey, SigningKey, TrustStore};
use crate::report::Finding;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

const ENTRY_DOMAIN: &[u8] = b"mirt-custody-entry-v1\n";
const SIG_OPEN: &[u8] = b",\"sig\":\"";
/// Base64 of 64 bytes.
const SIG_B64_LEN: usize = 88;

/// What happened to the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// Collected and sealed into the bundle (the first entry).
    Sealed,
    /// Encrypted with age (the first entry of an encrypted bundle's log).
    Encrypted,
    /// Handed over to someone.
    Transferred,
    /// Taken over from someone.
    Received,
    /// Verified with `mirt bundle verify`.
    Verified,
    /// Opened (decrypted, extracted) for analysis.
    Opened,
}

impl std::str::FromStr for Event {
    type Err = String;
    fn from_str(s: &str) -> Result<Event, String> {
        serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
            .map_err(|_| format!("unknown custody event {s:?}"))
    }
}

impl Event {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Sealed => "sealed",
            Event::Encrypted => "encrypted",
            Event::Transferred => "transferred",
            Event::Received => "received",
            Event::Verified => "verified",
            Event::Opened => "opened",
        }
    }
}

/// The ciphertext an `encrypted` entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ciphertext {
    /// File name of the encrypted bundle.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Its BLAKE3, hex.
    pub blake3: String,
    /// The age recipients it was encrypted to.
    pub recipients: Vec<String>,
}

/// One custody entry (a line without its signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustodyEntry {
    /// 0, 1, 2, ... in log order.
    pub seq: u64,
    /// `sha256:` of the previous line with its newline; for entry 0, of
    /// the bundle's `ROOT` member.
    pub prev: String,
    /// What happened.
    pub event: Event,
    /// When (UTC).
    pub time: Timestamp,
    /// Who did it (the key owner).
    pub actor: String,
    /// Id of the key that signed the entry.
    pub key_id: String,
    /// That key as a `mirt-ed25519` line.
    pub public_key: String,
    /// Where.
    pub place: Option<String>,
    /// Why.
    pub purpose: Option<String>,
    /// Handed over by.
    pub from: Option<String>,
    /// Handed over to.
    pub to: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// The bundle's root (`ROOT` text without newline).
    pub root: String,
    /// For `encrypted`: the ciphertext.
    pub ciphertext: Option<Ciphertext>,
}

/// What a new entry says; the rest (sequence, chain, key) is filled in.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// What happened.
    pub event: Event,
    /// When.
    pub time: Timestamp,
    /// Who (defaults to the key owner's name when empty).
    pub actor: String,
    /// Where.
    pub place: Option<String>,
    /// Why.
    pub purpose: Option<String>,
    /// Handed over by.
    pub from: Option<String>,
    /// Handed over to.
    pub to: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// For `encrypted`.
    pub ciphertext: Option<Ciphertext>,
}

/// The signed line (with newline) for `new` after `prev_line` (or, for the
/// first entry, after the bundle's `ROOT` member `root_bytes`).
pub fn sign_entry(
    new: NewEntry,
    seq: u64,
    prev_line: Option<&[u8]>,
    root_bytes: &[u8],
    key: &SigningKey,
) -> Vec<u8> {
    let public = key.public();
    let entry = CustodyEntry {
        seq,
        prev: tagged_sha256(prev_line.unwrap_or(root_bytes)),
        event: new.event,
        time: new.time,
        actor: if new.actor.trim().is_empty() {
            key.name().to_string()
        } else {
            new.actor
        },
        key_id: public.id().to_string(),
        public_key: public.to_line(),
        place: new.place,
        purpose: new.purpose,
        from: new.from,
        to: new.to,
        note: new.note,
        root: String::from_utf8_lossy(root_bytes).trim_end().to_string(),
        ciphertext: new.ciphertext,
    };
    let body = serde_json::to_vec(&entry).unwrap_or_default();
    let sig = key.sign(&message(&body));
    let mut line = body[..body.len() - 1].to_vec();
    line.extend_from_slice(SIG_OPEN);
    line.extend_from_slice(B64.encode(sig).as_bytes());
    line.extend_from_slice(b"\"}\n");
    line
}

fn message(body: &[u8]) -> Vec<u8> {
    let mut m = ENTRY_DOMAIN.to_vec();
    m.extend_from_slice(body);
    m
}

/// Splits a line (without newline) into the signed body and the signature.
fn split_signature(line: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let tail_len = SIG_OPEN.len() + SIG_B64_LEN + 2;
    if line.len() < tail_len + 2 || !line.ends_with(b"\"}") {
        return None;
    }
    let cut = line.len() - tail_len;
    if &line[cut..cut + SIG_OPEN.len()] != SIG_OPEN {
        return None;
    }
    let sig = B64
        .decode(&line[cut + SIG_OPEN.len()..line.len() - 2])
        .ok()?;
    let mut body = line[..cut].to_vec();
    body.push(b'}');
    Some((body, sig))
}

/// The checked log: its entries and everything that does not hold.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    /// Entries that could be read, in log order.
    pub entries: Vec<CustodyEntry>,
    /// What is wrong.
    pub findings: Vec<Finding>,
    /// `sha256:` of the last line: the head a receipt can pin.
    pub head: Option<String>,
    /// The last line, with its newline.
    pub last_line: Option<Vec<u8>>,
}

/// Checks a custody log against the bundle's `ROOT` member `root_bytes`:
/// every line signed by its key, the key trusted (when `trust` is given),
/// sequence numbers in order, each `prev` the hash of the line before, and
/// each entry about this root.
pub fn check_chain(log: &[u8], root_bytes: &[u8], trust: Option<&TrustStore>) -> Chain {
    let mut chain = Chain::default();
    if log.is_empty() {
        chain
            .findings
            .push(Finding::entry(1, "the custody log is empty"));
        return chain;
    }
    if !log.ends_with(b"\n") {
        chain.findings.push(Finding::entry(
            log.split(|&b| b == b'\n').count() as u64,
            "the last line has no newline: the log was cut off",
        ));
    }
    let root = String::from_utf8_lossy(root_bytes).trim_end().to_string();
    let mut prev_line: Option<&[u8]> = None;
    for (i, line) in log.split_inclusive(|&b| b == b'\n').enumerate() {
        let n = i as u64 + 1;
        check_line(
            line, n, i as u64, prev_line, root_bytes, &root, trust, &mut chain,
        );
        prev_line = Some(line);
    }
    chain.head = prev_line.map(tagged_sha256);
    chain.last_line = prev_line.map(<[u8]>::to_vec);
    chain
}

#[allow(clippy::too_many_arguments)]
fn check_line(
    line: &[u8],
    n: u64,
    expected_seq: u64,
    prev_line: Option<&[u8]>,
    root_bytes: &[u8],
    root: &str,
    trust: Option<&TrustStore>,
    chain: &mut Chain,
) {
    let mut fail = |msg: String| chain.findings.push(Finding::entry(n, msg));
    let bare = line.strip_suffix(b"\n").unwrap_or(line);
    let Some((body, sig)) = split_signature(bare) else {
        fail("has no signature in the expected place (it was edited or cut)".into());
        return;
    };
    let entry: CustodyEntry = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            fail(format!("cannot be read: {e}"));
            return;
        }
    };
    match PublicKey::parse(&entry.public_key) {
        Err(e) => fail(format!("public key cannot be read: {e}")),
        Ok(key) => {
            if key.id().as_str() != entry.key_id {
                fail(format!(
                    "key id {} does not belong to its public key ({})",
                    entry.key_id,
                    key.id()
                ));
            } else if !key.verify(&message(&body), &sig) {
                fail(format!(
                    "signature by key {} does not verify: the entry was edited",
                    entry.key_id
                ));
            } else if trust.is_some_and(|t| !t.contains(&key)) {
                fail(format!(
                    "signed by key {} ({}), which is not trusted",
                    entry.key_id,
                    key.name()
                ));
            }
        }
    }
    if entry.seq != expected_seq {
        fail(format!(
            "has sequence number {}, expected {expected_seq}: an entry was dropped, inserted or \
             moved",
            entry.seq
        ));
    }
    let expected_prev = tagged_sha256(prev_line.unwrap_or(root_bytes));
    if entry.prev != expected_prev {
        let what = if prev_line.is_some() {
            "the line before it"
        } else {
            "ROOT"
        };
        fail(format!(
            "does not chain to {what} (prev {}, expected {expected_prev}): an entry before it \
             was edited, dropped or moved",
            entry.prev
        ));
    }
    if entry.root != root {
        fail(format!(
            "is about root {}, not this bundle's {root}",
            entry.root
        ));
    }
    chain.entries.push(entry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(event: Event) -> NewEntry {
        NewEntry {
            event,
            time: "2024-03-01T10:00:00Z".parse().unwrap(),
            actor: String::new(),
            place: Some("Rathaus".into()),
            purpose: Some("test".into()),
            from: None,
            to: None,
            note: None,
            ciphertext: None,
        }
    }

    fn log(key: &SigningKey, root: &[u8], events: &[Event]) -> Vec<Vec<u8>> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let prev = lines.last().map(|l| l.as_slice());
            lines.push(sign_entry(new(*e), i as u64, prev, root, key));
        }
        lines
    }

    #[test]
    fn a_fresh_log_checks_and_reports_its_head() {
        let key = SigningKey::from_seed([5; 32], "Erika");
        let root = b"sha256:00\n";
        let lines = log(&key, root, &[Event::Sealed, Event::Transferred]);
        let mut trust = TrustStore::new();
        trust.add(key.public());
        let c = check_chain(&lines.concat(), root, Some(&trust));
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        assert_eq!(c.entries.len(), 2);
        assert_eq!(c.entries[0].actor, "Erika");
        assert_eq!(c.head, Some(tagged_sha256(&lines[1])));
    }

    #[test]
    fn edits_drops_and_swaps_are_found_on_the_right_entry() {
        let key = SigningKey::from_seed([5; 32], "Erika");
        let root = b"sha256:00\n";
        let lines = log(
            &key,
            root,
            &[Event::Sealed, Event::Transferred, Event::Received],
        );
        let find = |log: Vec<u8>| check_chain(&log, root, None).findings;

        let mut edited = lines.clone();
        edited[1] = String::from_utf8(edited[1].clone())
            .unwrap()
            .replace("Rathaus", "Rathau5")
            .into_bytes();
        let f = find(edited.concat());
        assert!(
            f.iter()
                .any(|f| f.entry == Some(2) && f.message.contains("edited")),
            "{f:?}"
        );

        let dropped = [lines[0].clone(), lines[2].clone()].concat();
        let f = find(dropped);
        assert!(
            f.iter()
                .any(|f| f.entry == Some(2) && f.message.contains("sequence")),
            "{f:?}"
        );

        let swapped = [lines[0].clone(), lines[2].clone(), lines[1].clone()].concat();
        let f = find(swapped);
        assert!(
            f.iter()
                .any(|f| f.entry == Some(2) && f.message.contains("chain")),
            "{f:?}"
        );

        let other_root = check_chain(&lines.concat(), b"sha256:11\n", None).findings;
        assert!(
            other_root.iter().any(|f| f.entry == Some(1)),
            "{other_root:?}"
        );
    }

    #[test]
    fn untrusted_keys_are_named() {
        let key = SigningKey::from_seed([6; 32], "Mallory");
        let root = b"sha256:00\n";
        let lines = log(&key, root, &[Event::Sealed]);
        let f = check_chain(&lines.concat(), root, Some(&TrustStore::new())).findings;
        assert!(f[0].message.contains("not trusted") && f[0].message.contains("Mallory"));
    }
}
