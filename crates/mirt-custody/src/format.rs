//! The bundle's metadata members: `VERSION`, `collection.json`,
//! `manifest.jsonl`, `ROOT` and `SIGNATURE`, and how the root is computed.

use crate::keys::{PublicKey, SigningKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Format name and version on the first line of `VERSION`.
pub const FORMAT_LINE: &str = "mirt-bundle 1";
/// Member names, in the order they appear (evidence and results go between
/// `VERSION` and `collection.json`).
pub const VERSION: &str = "VERSION";
/// See [`VERSION`].
pub const COLLECTION: &str = "collection.json";
/// See [`VERSION`].
pub const MANIFEST: &str = "manifest.jsonl";
/// See [`VERSION`].
pub const ROOT: &str = "ROOT";
/// See [`VERSION`].
pub const SIGNATURE: &str = "SIGNATURE";
/// See [`VERSION`].
pub const CUSTODY: &str = "custody.jsonl";
/// Folder of evidence members.
pub const EVIDENCE_DIR: &str = "evidence";
/// Folder of result members.
pub const RESULTS_DIR: &str = "results";

/// The members after evidence and results, in order.
pub const TRAILER: [&str; 5] = [COLLECTION, MANIFEST, ROOT, SIGNATURE, CUSTODY];

const ROOT_DOMAIN: &[u8] = b"mirt-bundle-root-v1\n";
const SIGNATURE_DOMAIN: &[u8] = b"mirt-bundle-signature-v1\n";

/// The text of `VERSION`.
pub fn version_text(tool_version: &str) -> String {
    format!("{FORMAT_LINE}\ntool mirt {tool_version}\n")
}

/// Traffic Light Protocol 2.0 label of the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tlp {
    /// TLP:CLEAR.
    #[serde(rename = "TLP:CLEAR")]
    Clear,
    /// TLP:GREEN.
    #[serde(rename = "TLP:GREEN")]
    Green,
    /// TLP:AMBER.
    #[serde(rename = "TLP:AMBER")]
    Amber,
    /// TLP:AMBER+STRICT.
    #[serde(rename = "TLP:AMBER+STRICT")]
    AmberStrict,
    /// TLP:RED.
    #[serde(rename = "TLP:RED")]
    Red,
}

impl std::str::FromStr for Tlp {
    type Err = String;
    fn from_str(s: &str) -> Result<Tlp, String> {
        let t = s.trim().to_ascii_uppercase();
        let t = t.strip_prefix("TLP:").unwrap_or(&t);
        Ok(match t {
            "CLEAR" | "WHITE" => Tlp::Clear,
            "GREEN" => Tlp::Green,
            "AMBER" => Tlp::Amber,
            "AMBER+STRICT" | "AMBER-STRICT" => Tlp::AmberStrict,
            "RED" => Tlp::Red,
            _ => {
                return Err(format!(
                    "not a TLP 2.0 label: {s:?} (clear, green, amber, amber+strict, red)"
                ));
            }
        })
    }
}

/// The tool that made the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    /// `mirt`.
    pub name: String,
    /// Version and commit.
    pub version: String,
    /// SHA-256 of the running binary, when it could be read.
    pub binary_sha256: Option<String>,
    /// The command line, argument by argument.
    pub command_line: Vec<String>,
}

/// `collection.json`: who collected what, where, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    /// Always [`FORMAT_LINE`].
    pub format: String,
    /// Case or incident id.
    pub case_id: String,
    /// The municipality (or organisation) the evidence comes from.
    pub municipality: String,
    /// Hosts the evidence comes from.
    pub hosts: Vec<String>,
    /// Who collected it.
    pub examiner: String,
    /// Who witnessed the collection.
    pub witness: Option<String>,
    /// Where it was collected.
    pub place: Option<String>,
    /// Why it was collected.
    pub purpose: Option<String>,
    /// When collection started (UTC).
    pub started: Timestamp,
    /// When collection ended (UTC).
    pub ended: Timestamp,
    /// Where the times come from and how far they can be trusted.
    pub clock_source: String,
    /// TLP label.
    pub tlp: Tlp,
    /// Legal basis of the collection.
    pub legal_basis: Option<String>,
    /// Compression of evidence and result members.
    pub compression: crate::zip::Method,
    /// Free-text notes.
    pub notes: Option<String>,
    /// The tool.
    pub tool: Tool,
}

impl Collection {
    /// The canonical bytes of `collection.json` (pretty JSON, newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// What an entry of the manifest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular evidence file (stored under `evidence/`).
    File,
    /// A result file (stored under `results/`).
    Result,
    /// A symbolic link: recorded with its target, not followed.
    Link,
    /// A device, FIFO or socket: recorded, not read.
    Other,
}

/// How much of a file is in the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Read to its end without error.
    Complete,
    /// Read until an error; the member holds what was read.
    Partial,
    /// Not read at all (cannot be opened, or not a regular file).
    Unread,
}

/// File times, UTC, as the file system reported them before reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTimes {
    /// Last modification.
    pub modified: Option<Timestamp>,
    /// Last access.
    pub accessed: Option<Timestamp>,
    /// Last status change (Unix ctime).
    pub changed: Option<Timestamp>,
    /// Creation (birth), where the file system records it.
    pub created: Option<Timestamp>,
}

/// One line of `manifest.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// What it is.
    pub kind: EntryKind,
    /// The original absolute path (exact when it is valid Unicode).
    pub path: String,
    /// The exact bytes of the path in hex, when it is not valid Unicode
    /// (Unix: the raw bytes; Windows: UTF-16LE).
    pub path_bytes: Option<String>,
    /// The member holding the content, if any.
    pub stored: Option<String>,
    /// How much of it was read.
    pub status: Status,
    /// Bytes stored (= bytes read).
    pub size: u64,
    /// Size the file system reported when the file was opened.
    pub file_size: Option<u64>,
    /// File times.
    pub times: FileTimes,
    /// Unix mode (octal text), owner and group ids.
    pub mode: Option<String>,
    /// Unix owner id.
    pub uid: Option<u32>,
    /// Unix group id.
    pub gid: Option<u32>,
    /// Target of a symbolic link.
    pub link_target: Option<String>,
    /// BLAKE3 of the stored bytes.
    pub blake3: Option<String>,
    /// SHA-256 of the stored bytes.
    pub sha256: Option<String>,
    /// MD5, when asked for.
    pub md5: Option<String>,
    /// SHA-1, when asked for.
    pub sha1: Option<String>,
    /// What went wrong while reading it.
    pub errors: Vec<String>,
}

impl ManifestEntry {
    /// The canonical line (compact JSON and newline).
    pub fn to_line(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

/// SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut h = mirt_hash::MultiHasher::new(Default::default());
    h.update(bytes);
    h.finalize().sha256_hex()
}

/// `sha256:<hex>` of `bytes`: how the format names a hash.
pub fn tagged_sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

/// The text of `ROOT` for these three members: `sha256:<hex>` and a newline,
/// where hex is SHA-256 over the domain line and, per member, its name, a
/// space, the hex SHA-256 of its bytes and a newline.
pub fn root_text(version: &[u8], collection: &[u8], manifest: &[u8]) -> String {
    let mut pre = ROOT_DOMAIN.to_vec();
    for (name, bytes) in [
        (VERSION, version),
        (COLLECTION, collection),
        (MANIFEST, manifest),
    ] {
        pre.extend_from_slice(format!("{name} {}\n", sha256_hex(bytes)).as_bytes());
    }
    format!("{}\n", tagged_sha256(&pre))
}

/// `SIGNATURE`: the Ed25519 signature over the domain line and `ROOT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Always `ed25519`.
    pub algorithm: String,
    /// Id of the signing key.
    pub key_id: String,
    /// The signing key as a `mirt-ed25519` line.
    pub public_key: String,
    /// The root that was signed (the `ROOT` text without newline).
    pub root: String,
    /// Base64 of the 64-byte signature.
    pub signature: String,
}

impl Signature {
    /// Signs the `ROOT` text.
    pub fn sign(key: &SigningKey, root: &str) -> Signature {
        let public = key.public();
        Signature {
            algorithm: "ed25519".into(),
            key_id: public.id().to_string(),
            public_key: public.to_line(),
            root: root.trim_end().to_string(),
            signature: B64.encode(key.sign(&signature_message(root.as_bytes()))),
        }
    }

    /// The canonical bytes (pretty JSON, newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// The signer's key, if the line can be read.
    pub fn signer(&self) -> Result<PublicKey, String> {
        PublicKey::parse(&self.public_key)
    }

    /// Whether the signature over `root_bytes` (the `ROOT` member) holds
    /// for the embedded key.
    pub fn holds_for(&self, root_bytes: &[u8]) -> Result<PublicKey, String> {
        let key = self.signer()?;
        if key.id().as_str() != self.key_id {
            return Err(format!(
                "key id {} does not belong to the embedded public key ({})",
                self.key_id,
                key.id()
            ));
        }
        let sig = B64
            .decode(&self.signature)
            .map_err(|_| "signature is not base64".to_string())?;
        if !key.verify(&signature_message(root_bytes), &sig) {
            return Err(format!(
                "the signature by key {} does not verify over ROOT: ROOT or SIGNATURE was changed",
                self.key_id
            ));
        }
        Ok(key)
    }
}

fn signature_message(root_bytes: &[u8]) -> Vec<u8> {
    let mut m = SIGNATURE_DOMAIN.to_vec();
    m.extend_from_slice(root_bytes);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_follows_the_documented_recipe() {
        // FORMAT.md shows the same computation with sha256sum.
        let root = root_text(b"v", b"c", b"m");
        let pre = format!(
            "mirt-bundle-root-v1\nVERSION {}\ncollection.json {}\nmanifest.jsonl {}\n",
            sha256_hex(b"v"),
            sha256_hex(b"c"),
            sha256_hex(b"m")
        );
        assert_eq!(root, format!("sha256:{}\n", sha256_hex(pre.as_bytes())));
        assert_ne!(root, root_text(b"v", b"c", b"m2"));
    }

    #[test]
    fn signatures_bind_the_root() {
        let key = SigningKey::from_seed([9; 32], "E");
        let sig = Signature::sign(&key, "sha256:ab\n");
        assert!(sig.holds_for(b"sha256:ab\n").is_ok());
        assert!(sig.holds_for(b"sha256:ac\n").is_err());
    }

    #[test]
    fn tlp_labels_parse() {
        assert_eq!("amber+strict".parse::<Tlp>().unwrap(), Tlp::AmberStrict);
        assert_eq!("TLP:RED".parse::<Tlp>().unwrap(), Tlp::Red);
        assert!("purple".parse::<Tlp>().is_err());
    }
}
