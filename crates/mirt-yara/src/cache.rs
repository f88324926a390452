//! The compiled-rule cache: one file per distinct rule set, named by the
//! BLAKE3 of the sources, the yara-x release and the compile options, so
//! that a second run over the same rules loads instead of compiling.
//!
//! A cache file is `MIRTYARC`, a little-endian `u32` length, a JSON header
//! (the files skipped as bad, so a cached run still lists them) and the
//! rules as yara-x serialises them, written as [`mirt_core::cache`] writes.

use crate::compile::YARA_X_VERSION;
use crate::error::RuleFileError;
use crate::sources::RuleSources;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"MIRTYARC";

/// The cache folder to use when none is given: `$MIRT_CACHE_DIR/yara`,
/// else the platform's user cache folder (see [`mirt_core::cache::cache_dir`]).
pub fn default_cache_dir() -> Option<PathBuf> {
    mirt_core::cache::cache_dir("yara")
}

pub(crate) fn key(sources: &RuleSources, skip_bad: bool) -> String {
    let mut h = blake3::Hasher::new();
    h.update(b"mirt-yara compiled rules, format 1\0");
    h.update(YARA_X_VERSION.as_bytes());
    h.update(&[0, u8::from(skip_bad)]);
    h.update(&sources.digest());
    h.finalize().to_hex().to_string()
}

fn file_name(key: &str) -> String {
    format!("{key}.yarc")
}

fn file_for(dir: &Path, key: &str) -> PathBuf {
    dir.join(file_name(key))
}

type Loaded = (yara_x::Rules, Vec<RuleFileError>);

/// The cached rules for `key`: `Ok(None)` when there are none, `Err` (in
/// words) when a cache file is there but unusable.
pub(crate) fn load(dir: &Path, key: &str) -> Result<Option<Loaded>, String> {
    let path = file_for(dir, key);
    let Some(bytes) = mirt_core::cache::read(&path, MAGIC)? else {
        return Ok(None);
    };
    let bad = |why: &str| mirt_core::cache::damaged(&path, why);
    let (len, rest) = bytes
        .split_first_chunk::<4>()
        .ok_or_else(|| bad("too short"))?;
    let len = u32::from_le_bytes(*len) as usize;
    if rest.len() < len {
        return Err(bad("too short"));
    }
    let (header, rules) = rest.split_at(len);
    let skipped: Vec<RuleFileError> =
        serde_json::from_slice(header).map_err(|e| bad(&e.to_string()))?;
    let rules = yara_x::Rules::deserialize(rules).map_err(|e| bad(&e.to_string()))?;
    Ok(Some((rules, skipped)))
}

/// Writes the rules for `key`; the error is in words, for a warning.
pub(crate) fn store(
    dir: &Path,
    key: &str,
    rules: &yara_x::Rules,
    skipped: &[RuleFileError],
) -> Result<(), String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!(
            "cannot write the rule cache in {}: {what}: {e}",
            dir.display()
        )
    };
    let header = serde_json::to_vec(skipped).map_err(|e| fail("header", &e))?;
    let body = rules.serialize().map_err(|e| fail("serialise", &e))?;
    let len = (header.len() as u32).to_le_bytes();
    mirt_core::cache::write(dir, &file_name(key), MAGIC, &[&len, &header, &body])
}

#[cfg(test)]
mod tests {
    use crate::{CompileOptions, RuleSources, compile};

    #[test]
    fn second_compile_comes_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RuleSources::new();
        s.add_text(
            "a",
            "a.yar",
            "rule a { strings: $x = \"evil\" condition: $x }",
        );
        s.add_text("b", "b.yar", "rule b { condition: nosuch }");
        let opts = CompileOptions {
            skip_bad_rules: true,
            cache_dir: Some(dir.path().to_path_buf()),
        };
        let first = compile(&s, &opts).unwrap();
        assert!(!first.from_cache());
        assert_eq!(first.cache_problem(), None);
        let second = compile(&s, &opts).unwrap();
        assert!(second.from_cache());
        assert_eq!(second.rule_count(), 1);
        assert_eq!(second.skipped(), first.skipped());

        // A different option is a different key.
        let strict = CompileOptions {
            skip_bad_rules: false,
            ..opts.clone()
        };
        assert!(compile(&s, &strict).is_err());
    }

    #[test]
    fn damaged_cache_file_is_recompiled_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = RuleSources::new();
        s.add_text("a", "a.yar", "rule a { condition: true }");
        let opts = CompileOptions {
            skip_bad_rules: false,
            cache_dir: Some(dir.path().to_path_buf()),
        };
        compile(&s, &opts).unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            std::fs::write(entry.unwrap().path(), b"MIRTYARC\x02\0\0\0[]garbage").unwrap();
        }
        let again = compile(&s, &opts).unwrap();
        assert!(!again.from_cache());
        assert!(again.cache_problem().unwrap().contains("damaged"));
        assert!(compile(&s, &opts).unwrap().from_cache());
    }
}
