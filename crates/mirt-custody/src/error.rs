//! The one error type of this crate.

use std::path::PathBuf;

/// Why a bundle, key or custody operation failed. Each variant names the
/// file (and where it helps, the member or entry) involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the bundle failed (the output device, e.g. disk full).
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The bundle being written.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An evidence file could not be read and the run was told to stop on
    /// read errors.
    #[error("reading evidence {} at offset {offset}: {source}", path.display())]
    EvidenceRead {
        /// The evidence file.
        path: PathBuf,
        /// Bytes read before the error.
        offset: u64,
        /// The cause.
        source: std::io::Error,
    },
    /// The output exists already.
    #[error("{} exists already; remove it or choose another name", path.display())]
    Exists {
        /// The output.
        path: PathBuf,
    },
    /// A file is not a mirt bundle, or its container is damaged beyond
    /// reading its member list.
    #[error("{}: not a readable mirt bundle: {reason}", path.display())]
    NotABundle {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A member that must be there is missing or cannot be parsed.
    #[error("{}: member {member}: {reason}", path.display())]
    Member {
        /// The bundle.
        path: PathBuf,
        /// The member.
        member: String,
        /// What is wrong.
        reason: String,
    },
    /// A key file or key string cannot be read.
    #[error("{}: {reason}", path.display())]
    Key {
        /// The key file (or `-` for a key given on the command line).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The passphrase of a protected key is wrong or missing.
    #[error("{}: {reason}", path.display())]
    Passphrase {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Metadata given for the bundle is not acceptable.
    #[error("invalid {field}: {reason}")]
    Metadata {
        /// The field (`case`, `tlp`, ...).
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The custody log cannot be extended (it is broken, or the bundle is
    /// not laid out as expected).
    #[error("{}: custody log: {reason}", path.display())]
    Custody {
        /// The bundle or sidecar.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// age encryption failed.
    #[error("encrypting to {}: {source}", path.display())]
    Encrypt {
        /// The encrypted output.
        path: PathBuf,
        /// The cause.
        source: Box<age::EncryptError>,
    },
    /// age decryption failed (wrong identity, damaged header).
    #[error("decrypting {}: {source}", path.display())]
    Decrypt {
        /// The encrypted bundle.
        path: PathBuf,
        /// The cause.
        source: Box<age::DecryptError>,
    },
    /// An age recipient or identity cannot be read.
    #[error("{what}: {reason}")]
    Age {
        /// The recipient string or identity file.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// `extract` refused a member name or kind.
    #[error("{}: refusing to extract member {member:?}: {reason}", path.display())]
    Unsafe {
        /// The bundle.
        path: PathBuf,
        /// The member.
        member: String,
        /// Why it is refused.
        reason: String,
    },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Adds the path to an I/O error.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.into(),
            source,
        })
    }
}
