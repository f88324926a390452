//! Rule sources: files and folders of `*.yar`/`*.yara`, or the project's
//! embedded default rules. Each file becomes its own namespace, so rules of
//! the same name in two files do not clash.

use crate::error::{Error, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The project's own default rules (`rules/yara/`), compiled into the binary.
const BUILTIN: &[(&str, &str)] = &[
    (
        "mirt/ransomware",
        include_str!("../../../rules/yara/ransomware.yar"),
    ),
    (
        "mirt/webshells",
        include_str!("../../../rules/yara/webshells.yar"),
    ),
    (
        "mirt/offensive_tools",
        include_str!("../../../rules/yara/offensive_tools.yar"),
    ),
];

/// One rule file's text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// The namespace its rules live in.
    pub namespace: String,
    /// The file it was read from (or `builtin:<name>` for embedded rules).
    pub origin: PathBuf,
    /// The rule text. Files that are not UTF-8 are kept as bytes, so that
    /// the compiler reports where.
    pub text: Vec<u8>,
}

/// The rule files to compile, in a fixed order.
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    files: Vec<RuleSource>,
    namespaces: BTreeSet<String>,
}

/// Whether `path` names a YARA rule file by its extension.
pub fn is_rule_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yar") || e.eq_ignore_ascii_case("yara"))
}

impl RuleSources {
    /// No rules yet.
    pub fn new() -> Self {
        RuleSources::default()
    }

    /// The project's default rules, embedded in the binary.
    pub fn builtin() -> Self {
        let mut s = RuleSources::new();
        for (name, text) in BUILTIN {
            s.push(
                name.to_string(),
                PathBuf::from(format!("builtin:{name}.yar")),
                text.as_bytes().to_vec(),
            );
        }
        s
    }

    /// Adds a rule file (any extension), or every `*.yar`/`*.yara` under a
    /// folder, recursively and sorted by path. Folder symlinks are not
    /// followed, so a loop cannot hang the load.
    pub fn add_path(&mut self, path: &Path) -> Result<&mut Self> {
        let meta = std::fs::metadata(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if !meta.is_dir() {
            let stem = path.file_stem().unwrap_or(path.as_os_str());
            self.add_file(path, &stem.to_string_lossy())?;
            return Ok(self);
        }
        let mut found = 0usize;
        for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
            let entry = entry.map_err(|e| Error::Read {
                path: e.path().unwrap_or(path).to_path_buf(),
                source: e.into(),
            })?;
            if !entry.file_type().is_file() || !is_rule_file(entry.path()) {
                continue;
            }
            let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
            let ns = rel.with_extension("");
            let ns = ns.to_string_lossy().replace('\\', "/");
            self.add_file(entry.path(), &ns)?;
            found += 1;
        }
        if found == 0 {
            return Err(Error::NoRuleFiles {
                path: path.to_path_buf(),
            });
        }
        Ok(self)
    }

    fn add_file(&mut self, path: &Path, namespace: &str) -> Result<()> {
        let text = std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.push(namespace.to_string(), path.to_path_buf(), text);
        Ok(())
    }

    /// Adds rule text under a namespace of its own (made unique if taken).
    pub fn add_text(&mut self, namespace: &str, origin: impl Into<PathBuf>, text: &str) {
        self.push(
            namespace.to_string(),
            origin.into(),
            text.as_bytes().to_vec(),
        );
    }

    fn push(&mut self, namespace: String, origin: PathBuf, text: Vec<u8>) {
        // Two folders may both hold `apt.yar`: number the later ones.
        let mut ns = namespace.clone();
        let mut n = 1;
        while self.namespaces.contains(&ns) {
            n += 1;
            ns = format!("{namespace}~{n}");
        }
        self.namespaces.insert(ns.clone());
        self.files.push(RuleSource {
            namespace: ns,
            origin,
            text,
        });
    }

    /// The files, in the order they are compiled.
    pub fn files(&self) -> &[RuleSource] {
        &self.files
    }

    /// Number of rule files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no rule files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// BLAKE3 over every namespace, origin and text, in order: the part of
    /// the compiled-rule cache key that comes from the rules.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        for f in &self.files {
            for part in [
                f.namespace.as_bytes(),
                f.origin.to_string_lossy().as_bytes(),
                &f.text,
            ] {
                h.update(&(part.len() as u64).to_le_bytes());
                h.update(part);
            }
        }
        *h.finalize().as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_give_one_sorted_namespace_per_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.yar"), "rule b { condition: true }").unwrap();
        std::fs::write(dir.path().join("sub/a.YARA"), "rule a { condition: true }").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a rule").unwrap();
        let mut s = RuleSources::new();
        s.add_path(dir.path()).unwrap();
        let ns: Vec<_> = s.files().iter().map(|f| f.namespace.as_str()).collect();
        assert_eq!(ns, ["b", "sub/a"]);
    }

    #[test]
    fn same_name_twice_gets_a_distinct_namespace() {
        let mut s = RuleSources::new();
        s.add_text("x", "one.yar", "rule a { condition: true }");
        s.add_text("x", "two.yar", "rule a { condition: true }");
        assert_eq!(s.files()[1].namespace, "x~2");
    }

    #[test]
    fn empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = RuleSources::new().add_path(dir.path()).unwrap_err();
        assert!(matches!(err, Error::NoRuleFiles { .. }));
    }

    #[test]
    fn digest_changes_with_text() {
        let mut a = RuleSources::new();
        a.add_text("x", "x.yar", "rule a { condition: true }");
        let mut b = RuleSources::new();
        b.add_text("x", "x.yar", "rule a { condition: false }");
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), a.clone().digest());
    }
}
