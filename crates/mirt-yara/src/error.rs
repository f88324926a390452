//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;

/// A `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong while loading, compiling or using rules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule file or folder could not be read.
    #[error("cannot read rules from {path}: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A path given as rules holds no `*.yar`/`*.yara` file.
    #[error("no YARA rule files (*.yar, *.yara) under {path}")]
    NoRuleFiles {
        /// The file or folder.
        path: PathBuf,
    },
    /// One or more rule files do not compile (and bad rules are not skipped).
    #[error("{}", CompileErrors(.errors))]
    Compile {
        /// Every error found, per file and line.
        errors: Vec<RuleFileError>,
    },
    /// Every rule file was skipped as bad: nothing is left to scan with.
    #[error("no rule file compiled ({} skipped)", .skipped)]
    NothingCompiled {
        /// How many files were skipped.
        skipped: usize,
    },
    /// A scan ran longer than the timeout.
    #[error("{path}: YARA scan timed out")]
    Timeout {
        /// The file being scanned.
        path: String,
    },
    /// A scan failed for another reason (a module could not parse the file).
    #[error("{path}: YARA scan failed: {message}")]
    Scan {
        /// The file being scanned.
        path: String,
        /// yara-x's message.
        message: String,
    },
    /// An external variable could not be set (an internal inconsistency).
    #[error("cannot set external variable {name}: {message}")]
    Variable {
        /// The variable.
        name: &'static str,
        /// yara-x's message.
        message: String,
    },
}

/// A rule file that did not compile: which file, where, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleFileError {
    /// The rule file (or the embedded rule's name).
    pub path: PathBuf,
    /// 1-based line of the error, where known.
    pub line: Option<u64>,
    /// 1-based column of the error, where known.
    pub column: Option<u64>,
    /// yara-x's error code (`E009`...), or `io` / `utf8` for unreadable files.
    pub code: String,
    /// The error in one line, e.g. ``unknown module `bogus` ``.
    pub message: String,
}

impl RuleFileError {
    /// The error as a [`mirt_core::Problem`] of kind `rule`.
    pub fn to_problem(&self) -> mirt_core::Problem {
        let mut p = mirt_core::Problem::file(
            mirt_core::ProblemKind::Rule,
            self.path.clone(),
            format!("{} ({})", self.message, self.code),
        );
        p.line = self.line;
        p
    }
}

impl fmt::Display for RuleFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {} [{}]", self.message, self.code)
    }
}

struct CompileErrors<'a>(&'a [RuleFileError]);

impl fmt::Display for CompileErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let files: std::collections::BTreeSet<_> = self.0.iter().map(|e| &e.path).collect();
        write!(
            f,
            "{} error(s) in {} rule file(s) (use --skip-bad-rules to load the rest):",
            self.0.len(),
            files.len()
        )?;
        for e in self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_error_lists_file_and_line() {
        let err = Error::Compile {
            errors: vec![RuleFileError {
                path: "x.yar".into(),
                line: Some(3),
                column: Some(5),
                code: "E004".into(),
                message: "unknown module `bogus`".into(),
            }],
        };
        let text = err.to_string();
        assert!(
            text.contains("x.yar:3:5: unknown module `bogus` [E004]"),
            "{text}"
        );
        let p = match &err {
            Error::Compile { errors } => errors[0].to_problem(),
            _ => unreachable!(),
        };
        assert_eq!(p.line, Some(3));
    }
}
