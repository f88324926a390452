//! Errors of loading and compiling rules. Every variant names the file and,
//! where known, the line, so a skipped rule can be found and fixed.

use std::path::PathBuf;

/// Why a rule, correlation, filter or mapping could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid YAML.
    #[error("{}: line {line}, column {column}: invalid YAML: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// What the YAML parser said.
        message: String,
    },
    /// The document does not satisfy the specification's JSON schema.
    #[error("{}: line {line}: refused by {schema}: {reason}", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// Line of the document.
        line: u64,
        /// The schema's file name.
        schema: &'static str,
        /// The schema violation (JSON pointer and message).
        reason: String,
    },
    /// The document is well-formed but cannot be understood (unknown
    /// modifier, bad condition, value of the wrong type, ...).
    #[error("{}: line {line}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Line of the offending item.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// No log-source mapping covers the rule's `logsource`.
    #[error("{}: line {line}: no log-source mapping for {logsource}{hint}", path.display())]
    Unmapped {
        /// The file.
        path: PathBuf,
        /// Line of the document.
        line: u64,
        /// The rule's log source.
        logsource: String,
        /// Why, when the mapping says so (e.g. "ETW only").
        hint: String,
    },
    /// A correlation or filter refers to a rule that is not loaded.
    #[error("{}: line {line}: {reason}", path.display())]
    Unresolved {
        /// The file.
        path: PathBuf,
        /// Line of the document.
        line: u64,
        /// Which reference could not be resolved.
        reason: String,
    },
    /// A mapping file is wrong.
    #[error("{}: line {line}: mapping: {reason}", path.display())]
    Mapping {
        /// The mapping file.
        path: PathBuf,
        /// Line of the offending entry.
        line: u64,
        /// What is wrong.
        reason: String,
    },
}

impl Error {
    /// A short class name for summaries: `yaml`, `schema`, `invalid`,
    /// `unmapped`, `unresolved`, `mapping`, `io`.
    pub fn class(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Yaml { .. } => "yaml",
            Error::Schema { .. } => "schema",
            Error::Invalid { .. } => "invalid",
            Error::Unmapped { .. } => "unmapped",
            Error::Unresolved { .. } => "unresolved",
            Error::Mapping { .. } => "mapping",
        }
    }

    /// The file concerned.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Error::Io { path, .. }
            | Error::Yaml { path, .. }
            | Error::Schema { path, .. }
            | Error::Invalid { path, .. }
            | Error::Unmapped { path, .. }
            | Error::Unresolved { path, .. }
            | Error::Mapping { path, .. } => path,
        }
    }

    /// The line concerned, when known.
    pub fn line(&self) -> Option<u64> {
        match self {
            Error::Io { .. } => None,
            Error::Yaml { line, .. }
            | Error::Schema { line, .. }
            | Error::Invalid { line, .. }
            | Error::Unmapped { line, .. }
            | Error::Unresolved { line, .. }
            | Error::Mapping { line, .. } => Some(*line),
        }
    }

    /// The reason without the file and line.
    pub fn reason(&self) -> String {
        match self {
            Error::Io { source, .. } => format!("cannot read: {source}"),
            Error::Yaml { message, .. } => format!("invalid YAML: {message}"),
            Error::Schema { schema, reason, .. } => format!("refused by {schema}: {reason}"),
            Error::Invalid { reason, .. } | Error::Unresolved { reason, .. } => reason.clone(),
            Error::Unmapped {
                logsource, hint, ..
            } => {
                format!("no log-source mapping for {logsource}{hint}")
            }
            Error::Mapping { reason, .. } => format!("mapping: {reason}"),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
