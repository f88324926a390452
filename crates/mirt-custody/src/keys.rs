//! Ed25519 signing keys, public keys with their ids and owners' names, and
//! the set of trusted keys a verifier accepts.
//!
//! Text forms (see `FORMAT.md`, "Keys"):
//! - public key: `mirt-ed25519 <base64 of the 32-byte key> <name>`, one line;
//! - signing key file: comment lines and `mirt-ed25519-secret <base64 of the
//!   32-byte seed> <name>`, mode 0600; with a passphrase, that text
//!   encrypted with age's scrypt recipient, ASCII-armoured;
//! - trusted keys: a file of public key lines (comments with `#`).

use crate::error::{Error, IoContext, Result};
use age::secrecy::{ExposeSecret, SecretString};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, Verifier};
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const PUBLIC_TAG: &str = "mirt-ed25519";
const SECRET_TAG: &str = "mirt-ed25519-secret";
const ARMOR_BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";

/// A short, stable name for a public key: the first 8 bytes of the SHA-256
/// of the raw key, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    fn of(key: &ed25519_dalek::VerifyingKey) -> KeyId {
        let mut h = mirt_hash::MultiHasher::new(Default::default());
        h.update(key.as_bytes());
        KeyId(mirt_hash::to_hex(&h.finalize().sha256[..8]))
    }

    /// The id as text (16 hex digits).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Ed25519 public key and the name of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
    name: String,
}

impl PublicKey {
    /// Reads a `mirt-ed25519 <base64> <name>` line.
    pub fn parse(line: &str) -> std::result::Result<PublicKey, String> {
        let mut parts = line.trim().splitn(3, ' ');
        if parts.next() != Some(PUBLIC_TAG) {
            return Err(format!("a public key line starts with {PUBLIC_TAG:?}"));
        }
        let b64 = parts.next().unwrap_or_default();
        let key = Self::from_base64(b64)?;
        let name = parts.next().unwrap_or_default().trim().to_string();
        Ok(PublicKey { key, name })
    }

    /// The key from the base64 of its 32 bytes.
    pub fn from_base64(b64: &str) -> std::result::Result<ed25519_dalek::VerifyingKey, String> {
        let raw = B64
            .decode(b64)
            .map_err(|e| format!("public key is not base64: {e}"))?;
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|_| "an Ed25519 public key has 32 bytes".to_string())?;
        ed25519_dalek::VerifyingKey::from_bytes(&raw)
            .map_err(|_| "not a valid Ed25519 public key".to_string())
    }

    /// A key with a name.
    pub fn new(key: ed25519_dalek::VerifyingKey, name: impl Into<String>) -> PublicKey {
        PublicKey {
            key,
            name: clean_name(&name.into()),
        }
    }

    /// Its id.
    pub fn id(&self) -> KeyId {
        KeyId::of(&self.key)
    }

    /// The owner's name (may be empty).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Base64 of the 32 key bytes.
    pub fn to_base64(&self) -> String {
        B64.encode(self.key.as_bytes())
    }

    /// The `mirt-ed25519 <base64> <name>` line (without newline).
    pub fn to_line(&self) -> String {
        if self.name.is_empty() {
            format!("{PUBLIC_TAG} {}", self.to_base64())
        } else {
            format!("{PUBLIC_TAG} {} {}", self.to_base64(), self.name)
        }
    }

    /// Whether `signature` (64 bytes) is this key's signature of `message`.
    /// Uses strict verification (no malleable or small-order forms).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(message, &sig).is_ok() && self.key.verify(message, &sig).is_ok()
    }

    /// Whether both are the same key (names aside).
    pub fn same_key(&self, other: &PublicKey) -> bool {
        self.key == other.key
    }
}

/// Names are one line of printable text.
fn clean_name(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// An Ed25519 signing key and its owner's name.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    name: String,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, {:?})", self.public().id(), self.name)
    }
}

impl SigningKey {
    /// A new random key from the operating system's generator.
    pub fn generate(name: &str) -> Result<SigningKey> {
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed).map_err(|e| Error::Key {
            path: PathBuf::from("-"),
            reason: format!("no random numbers from the operating system: {e}"),
        })?;
        Ok(Self::from_seed(seed, name))
    }

    /// The key with this 32-byte seed (for tests and known-answer checks).
    pub fn from_seed(seed: [u8; 32], name: &str) -> SigningKey {
        SigningKey {
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
            name: clean_name(name),
        }
    }

    /// Its public half.
    pub fn public(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
            name: self.name.clone(),
        }
    }

    /// The owner's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Signs `message` (deterministic, as Ed25519 is).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    fn secret_text(&self) -> String {
        let public = self.public();
        format!(
            "# mirt Ed25519 signing key: keep this file secret\n# key id: {}\n# public key: {}\n{SECRET_TAG} {} {}\n",
            public.id(),
            public.to_line(),
            B64.encode(self.key.to_bytes()),
            self.name
        )
    }

    /// Writes the key to a new file `path` (mode 0600 on Unix), encrypted
    /// with `passphrase` when given. Never overwrites a file.
    pub fn save(&self, path: &Path, passphrase: Option<SecretString>) -> Result<()> {
        let text = self.secret_text();
        let bytes = match passphrase {
            None => text.into_bytes(),
            Some(p) => encrypt_with_passphrase(text.as_bytes(), p).at(path)?,
        };
        let mut file = create_private(path)?;
        file.write_all(&bytes).at(path)?;
        file.sync_all().at(path)
    }

    /// Reads a key file; `passphrase` is asked only when the file is
    /// passphrase-protected.
    pub fn load(
        path: &Path,
        passphrase: impl FnOnce() -> Option<SecretString>,
    ) -> Result<SigningKey> {
        let raw = std::fs::read(path).at(path)?;
        let text = if raw.starts_with(ARMOR_BEGIN.as_bytes()) {
            let pass = passphrase().ok_or_else(|| Error::Passphrase {
                path: path.into(),
                reason: "the key is protected by a passphrase and none was given".into(),
            })?;
            decrypt_with_passphrase(&raw, pass).map_err(|reason| Error::Passphrase {
                path: path.into(),
                reason,
            })?
        } else {
            raw
        };
        let text = String::from_utf8(text).map_err(|_| Error::Key {
            path: path.into(),
            reason: "not a mirt signing key (not text)".into(),
        })?;
        parse_secret(&text).map_err(|reason| Error::Key {
            path: path.into(),
            reason,
        })
    }
}

fn parse_secret(text: &str) -> std::result::Result<SigningKey, String> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or("no key in the file")?;
    let mut parts = line.splitn(3, ' ');
    if parts.next() != Some(SECRET_TAG) {
        return Err(format!("not a mirt signing key (expected {SECRET_TAG:?})"));
    }
    let seed = B64
        .decode(parts.next().unwrap_or_default())
        .map_err(|e| format!("key is not base64: {e}"))?;
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| "an Ed25519 seed has 32 bytes".to_string())?;
    Ok(SigningKey::from_seed(
        seed,
        parts.next().unwrap_or_default(),
    ))
}

/// Creates `path` for writing, readable only by its owner.
fn create_private(path: &Path) -> Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            Error::Exists { path: path.into() }
        } else {
            Error::Io {
                path: path.into(),
                source,
            }
        }
    })
}

/// scrypt work factor for key files: `MIRT_KEY_SCRYPT_LOG_N` overrides
/// age's calibrated default (about one second), for tests.
fn scrypt_recipient(passphrase: SecretString) -> age::scrypt::Recipient {
    let mut r = age::scrypt::Recipient::new(passphrase);
    if let Some(n) = std::env::var("MIRT_KEY_SCRYPT_LOG_N")
        .ok()
        .and_then(|v| v.parse::<u8>().ok())
    {
        r.set_work_factor(n.clamp(10, 30));
    }
    r
}

fn encrypt_with_passphrase(plain: &[u8], passphrase: SecretString) -> std::io::Result<Vec<u8>> {
    let recipient = scrypt_recipient(passphrase);
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(std::io::Error::other)?;
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)?;
    let mut w = enc.wrap_output(armor)?;
    w.write_all(plain)?;
    w.finish()?.finish()?;
    Ok(out)
}

fn decrypt_with_passphrase(
    armored: &[u8],
    passphrase: SecretString,
) -> std::result::Result<Vec<u8>, String> {
    if passphrase.expose_secret().is_empty() {
        return Err("empty passphrase".into());
    }
    let reader = age::armor::ArmoredReader::new(armored);
    let dec = age::Decryptor::new(reader).map_err(|e| format!("damaged key file: {e}"))?;
    let identity = age::scrypt::Identity::new(passphrase);
    let mut r = dec
        .decrypt(std::iter::once(&identity as _))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                "wrong passphrase".to_string()
            }
            other => format!("cannot decrypt the key: {other}"),
        })?;
    let mut out = Vec::new();
    r.read_to_end(&mut out)
        .map_err(|e| format!("damaged key file: {e}"))?;
    Ok(out)
}

/// The public keys a verifier accepts.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    keys: Vec<PublicKey>,
}

impl TrustStore {
    /// An empty set.
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Reads a file of public key lines; a missing file is an empty set.
    pub fn load(path: &Path) -> Result<TrustStore> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TrustStore::new()),
            Err(e) => return Err(e).at(path),
        };
        let mut store = TrustStore::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = PublicKey::parse(line).map_err(|reason| Error::Key {
                path: path.into(),
                reason: format!("line {}: {reason}", n + 1),
            })?;
            store.add(key);
        }
        Ok(store)
    }

    /// Adds `key` unless the same key is there; returns whether it was new.
    pub fn add(&mut self, key: PublicKey) -> bool {
        if self.keys.iter().any(|k| k.same_key(&key)) {
            return false;
        }
        self.keys.push(key);
        true
    }

    /// Writes the set to `path` (replacing it atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = String::from("# mirt trusted public keys: one per line\n");
        for k in &self.keys {
            text.push_str(&k.to_line());
            text.push('\n');
        }
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        let dir = dir.unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).at(dir)?;
        tmp.write_all(text.as_bytes()).at(path)?;
        tmp.persist(path).map_err(|e| e.error).at(path)?;
        Ok(())
    }

    /// The trusted key with this id.
    pub fn get(&self, id: &KeyId) -> Option<&PublicKey> {
        self.keys.iter().find(|k| &k.id() == id)
    }

    /// Whether this exact key is trusted.
    pub fn contains(&self, key: &PublicKey) -> bool {
        self.keys.iter().any(|k| k.same_key(key))
    }

    /// All trusted keys, in the order they were added.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

/// The key folder: `signing.key`, `signing.pub` and `trusted.keys`.
#[derive(Debug, Clone)]
pub struct KeyDir {
    root: PathBuf,
}

impl KeyDir {
    /// The folder `root`.
    pub fn new(root: impl Into<PathBuf>) -> KeyDir {
        KeyDir { root: root.into() }
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The default signing key file.
    pub fn signing_key(&self) -> PathBuf {
        self.root.join("signing.key")
    }

    /// The default public key file.
    pub fn signing_pub(&self) -> PathBuf {
        self.root.join("signing.pub")
    }

    /// The trusted keys file.
    pub fn trusted(&self) -> PathBuf {
        self.root.join("trusted.keys")
    }

    /// Creates the folder (mode 0700 on Unix) if needed.
    pub fn create(&self) -> Result<()> {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(&self.root).at(&self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_lines_round_trip() {
        let k = SigningKey::from_seed([7; 32], "Erika Mustermann");
        let line = k.public().to_line();
        assert!(line.starts_with("mirt-ed25519 "));
        let back = PublicKey::parse(&line).unwrap();
        assert_eq!(back, k.public());
        assert_eq!(back.name(), "Erika Mustermann");
        assert_eq!(back.id().as_str().len(), 16);
        assert!(PublicKey::parse("ssh-ed25519 AAAA").is_err());
        assert!(PublicKey::parse("mirt-ed25519 AAAA").is_err());
    }

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let k = SigningKey::from_seed([1; 32], "a");
        let other = SigningKey::from_seed([2; 32], "b");
        let sig = k.sign(b"root");
        assert!(k.public().verify(b"root", &sig));
        assert!(!k.public().verify(b"roots", &sig));
        assert!(!other.public().verify(b"root", &sig));
        assert!(!k.public().verify(b"root", &sig[..63]));
    }

    #[test]
    fn key_files_are_private_and_round_trip_with_and_without_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let k = SigningKey::from_seed([3; 32], "E");
        let plain = dir.path().join("plain.key");
        k.save(&plain, None).unwrap();
        assert_eq!(
            SigningKey::load(&plain, || None).unwrap().public(),
            k.public()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&plain).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(k.save(&plain, None), Err(Error::Exists { .. })));

        let protected = dir.path().join("protected.key");
        let text = encrypt_with_low_work(&k);
        std::fs::write(&protected, text).unwrap();
        let pass = || Some(SecretString::from("correct horse".to_string()));
        assert_eq!(
            SigningKey::load(&protected, pass).unwrap().public(),
            k.public()
        );
        let wrong = SigningKey::load(&protected, || Some(SecretString::from("nope".to_string())));
        assert!(matches!(wrong, Err(Error::Passphrase { .. })), "{wrong:?}");
        assert!(matches!(
            SigningKey::load(&protected, || None),
            Err(Error::Passphrase { .. })
        ));
    }

    /// Same as `save` with a passphrase, at a low scrypt cost.
    fn encrypt_with_low_work(k: &SigningKey) -> Vec<u8> {
        let mut r = age::scrypt::Recipient::new(SecretString::from("correct horse".to_string()));
        r.set_work_factor(10);
        let enc = age::Encryptor::with_recipients(std::iter::once(&r as _)).unwrap();
        let mut out = Vec::new();
        let armor =
            age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
                .unwrap();
        let mut w = enc.wrap_output(armor).unwrap();
        w.write_all(k.secret_text().as_bytes()).unwrap();
        w.finish().unwrap().finish().unwrap();
        out
    }

    #[test]
    fn trust_store_keeps_each_key_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trusted.keys");
        let mut s = TrustStore::load(&path).unwrap();
        let a = SigningKey::from_seed([4; 32], "a").public();
        assert!(s.add(a.clone()));
        assert!(!s.add(PublicKey::new(a.key, "other name")));
        s.save(&path).unwrap();
        let back = TrustStore::load(&path).unwrap();
        assert_eq!(back.keys().len(), 1);
        assert!(back.get(&a.id()).is_some());
    }
}
