//! What verification found: one [`Finding`] per thing that does not hold.

use serde::Serialize;
use std::fmt;

/// Which check a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    /// The ZIP container: end records, directory, headers, member order.
    Container,
    /// A member's bytes against its CRC, the manifest or the ROOT.
    Member,
    /// The manifest against the members.
    Manifest,
    /// `VERSION` or `collection.json`.
    Metadata,
    /// `ROOT` against the metadata members.
    Root,
    /// `SIGNATURE` and the trust in its key.
    Signature,
    /// The custody log.
    Custody,
    /// The encrypted form: sidecar and ciphertext.
    Ciphertext,
}

/// One thing that does not hold, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check.
    pub check: Check,
    /// The member concerned, if any.
    pub member: Option<String>,
    /// The custody entry concerned (its line number, from 1), if any.
    pub entry: Option<u64>,
    /// What is wrong, for a person.
    pub message: String,
}

impl Finding {
    /// A finding about the bundle as a whole.
    pub fn new(check: Check, message: impl Into<String>) -> Finding {
        Finding {
            check,
            member: None,
            entry: None,
            message: message.into(),
        }
    }

    /// A finding about one member.
    pub fn member(check: Check, member: &str, message: impl Into<String>) -> Finding {
        Finding {
            check,
            member: Some(member.to_string()),
            entry: None,
            message: message.into(),
        }
    }

    /// A finding about one custody entry (line number from 1).
    pub fn entry(line: u64, message: impl Into<String>) -> Finding {
        Finding {
            check: Check::Custody,
            member: None,
            entry: Some(line),
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.member, self.entry) {
            (Some(m), _) => write!(f, "{m}: {}", self.message),
            (None, Some(n)) => write!(f, "custody entry {n}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}
