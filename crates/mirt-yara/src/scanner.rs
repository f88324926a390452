//! Scanning bytes with compiled rules, one [`FileScanner`] per thread, with
//! the external variables set for each file.

use crate::compile::CompiledRules;
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::{Map, Value};
use std::time::Duration;

/// What the rules see about the file being scanned (the external
/// variables that LOKI, THOR and signature-base use).
#[derive(Debug, Clone, Copy, Default)]
pub struct FileContext<'a> {
    /// The file name, e.g. `invoice.exe`.
    pub filename: &'a str,
    /// The whole path, e.g. `C:\Users\x\invoice.exe` or `a.zip!dir/x.exe`.
    pub filepath: &'a str,
    /// The extension in lower case with its dot, e.g. `.exe`; empty if none.
    pub extension: &'a str,
    /// The type by content, in THOR's words (`EXE`, `ELF`, `PHP`...); see
    /// [`crate::filetype`].
    pub filetype: &'a str,
    /// The owner's account name, where known.
    pub owner: &'a str,
}

/// One rule that matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleMatch {
    /// The rule's identifier.
    pub rule: String,
    /// Its namespace (the rule file it came from).
    pub namespace: String,
    /// Its tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Its metadata; a key given several times becomes an array.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub meta: Map<String, Value>,
    /// The strings (patterns) that matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strings: Vec<StringMatch>,
}

/// Where one string of a matching rule was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StringMatch {
    /// The identifier, e.g. `$mz`.
    pub identifier: String,
    /// How many times it matched.
    pub count: usize,
    /// Byte offsets of the first matches (at most the scanner's limit).
    pub offsets: Vec<u64>,
    /// The first match, printable ASCII kept and other bytes as `\xNN`,
    /// cut at 64 bytes.
    pub first: String,
}

/// A scanner for one thread: reuse it for many files.
pub struct FileScanner<'r> {
    inner: yara_x::Scanner<'r>,
    max_offsets: usize,
}

impl<'r> FileScanner<'r> {
    /// A scanner over `rules`, reporting at most 16 offsets per string.
    pub fn new(rules: &'r CompiledRules) -> Self {
        let mut inner = yara_x::Scanner::new(rules.rules());
        // Bounds memory on files full of one string, as yr does by default.
        inner.max_matches_per_pattern(1_000_000);
        FileScanner {
            inner,
            max_offsets: 16,
        }
    }

    /// Stops a scan that runs longer than `timeout`.
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.inner.set_timeout(timeout);
        self
    }

    /// Reports at most `n` offsets per matching string.
    pub fn max_offsets(&mut self, n: usize) -> &mut Self {
        self.max_offsets = n;
        self
    }

    /// Scans `data` as the file `ctx` describes.
    pub fn scan(&mut self, data: &[u8], ctx: &FileContext<'_>) -> Result<Vec<RuleMatch>> {
        for (name, value) in [
            ("filename", ctx.filename),
            ("filepath", ctx.filepath),
            ("extension", ctx.extension),
            ("filetype", ctx.filetype),
            ("owner", ctx.owner),
        ] {
            self.inner
                .set_global(name, value)
                .map_err(|e| Error::Variable {
                    name,
                    message: e.to_string(),
                })?;
        }
        let max_offsets = self.max_offsets;
        let results = self.inner.scan(data).map_err(|e| match e {
            yara_x::ScanError::Timeout => Error::Timeout {
                path: ctx.filepath.to_string(),
            },
            other => Error::Scan {
                path: ctx.filepath.to_string(),
                message: other.to_string(),
            },
        })?;
        Ok(results
            .matching_rules()
            .map(|rule| rule_match(&rule, max_offsets))
            .collect())
    }
}

fn rule_match(rule: &yara_x::Rule<'_, '_>, max_offsets: usize) -> RuleMatch {
    let mut meta = Map::new();
    for (key, value) in rule.metadata() {
        let value = match value {
            yara_x::MetaValue::Integer(i) => Value::from(i),
            yara_x::MetaValue::Float(f) => Value::from(f),
            yara_x::MetaValue::Bool(b) => Value::from(b),
            yara_x::MetaValue::String(s) => Value::from(s),
            yara_x::MetaValue::Bytes(b) => Value::from(escape(b)),
        };
        match meta.get_mut(key) {
            None => {
                meta.insert(key.to_string(), value);
            }
            Some(Value::Array(items)) => items.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    let strings = rule
        .patterns()
        .filter_map(|p| {
            let mut matches = p.matches();
            let count = matches.len();
            let first = matches.next()?;
            let offsets = std::iter::once(first.range().start as u64)
                .chain(matches.map(|m| m.range().start as u64))
                .take(max_offsets)
                .collect();
            Some(StringMatch {
                identifier: p.identifier().to_string(),
                count,
                offsets,
                first: escape(&first.data()[..first.data().len().min(64)]),
            })
        })
        .collect();
    RuleMatch {
        rule: rule.identifier().to_string(),
        namespace: rule.namespace().to_string(),
        tags: rule.tags().map(|t| t.identifier().to_string()).collect(),
        meta,
        strings,
    }
}

/// Printable ASCII as is, everything else as `\xNN` (and `\` as `\\`).
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, RuleSources, compile};

    fn rules(text: &str) -> CompiledRules {
        let mut s = RuleSources::new();
        s.add_text("t", "t.yar", text);
        compile(&s, &CompileOptions::default()).unwrap()
    }

    #[test]
    fn reports_rule_tags_meta_and_offsets() {
        let r = rules(
            r#"rule evil : ransom test {
                 meta: author = "mirt" hash = "a" hash = "b" score = 80
                 strings: $a = "evil" $b = "never"
                 condition: $a or $b }"#,
        );
        let mut s = FileScanner::new(&r);
        s.max_offsets(2);
        let m = s
            .scan(b"evil, evil\x00 and evil", &FileContext::default())
            .unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].rule, "evil");
        assert_eq!(m[0].namespace, "t");
        assert_eq!(m[0].tags, ["ransom", "test"]);
        assert_eq!(m[0].meta["hash"], serde_json::json!(["a", "b"]));
        assert_eq!(m[0].meta["score"], serde_json::json!(80));
        assert_eq!(m[0].strings.len(), 1);
        assert_eq!(m[0].strings[0].count, 3);
        assert_eq!(m[0].strings[0].offsets, [0, 6]);
    }

    #[test]
    fn externals_reach_the_rules() {
        let r = rules(
            r#"rule by_name { condition: filename == "x.php" and extension == ".php"
                 and filetype == "PHP" and filepath contains "www" and owner == "alice" }"#,
        );
        let mut s = FileScanner::new(&r);
        let ctx = FileContext {
            filename: "x.php",
            filepath: "/var/www/x.php",
            extension: ".php",
            filetype: "PHP",
            owner: "alice",
        };
        assert_eq!(s.scan(b"", &ctx).unwrap().len(), 1);
        // The next file does not inherit the previous file's values.
        assert!(s.scan(b"", &FileContext::default()).unwrap().is_empty());
    }

    #[test]
    fn escape_keeps_ascii() {
        assert_eq!(escape(b"MZ\x90\x00\\"), "MZ\\x90\\x00\\\\");
    }
}
