//! The rule-set cache: a compiled [`RuleSet`] (its rules, their compiled
//! variants, correlations and the list of what was skipped) stored under
//! the BLAKE3 of everything that went into it, so that the next hunt with
//! the same rules loads it (SigmaHQ's Windows set: about 40 ms) instead of
//! parsing and compiling some thousand YAML files again (about 110 ms, and
//! twice the CPU).
//!
//! The key covers the build of this crate (its sources' fingerprint), the
//! mapping, placeholders and selection options, and the path and bytes of
//! every rule source: any change is a miss, never a stale hit. A file is
//! `MIRTSGMC`, the BLAKE3 of the body, and the body (MessagePack, structs
//! as arrays: every stored type writes all its fields); a file
//! that does not verify is reported and rebuilt. Files are written as
//! [`mirt_core::cache`] writes them.
//!
//! Reading every rule file to find the key costs more than loading the
//! set: an [`index`] maps the files' status to the key, so that unchanged
//! rules are not read at all.
//!
//! The variants' programs are stored once, numbered over the rule set's
//! fields and literals (the matcher's catalog). Each rule's metadata is
//! encoded on its own and decoded from the file (mapped, not read) when it
//! is first asked for ([`Rules`]). What is not stored: the
//! matcher's buckets (assembled on first use, for the routes an evidence
//! set needs) and compiled regexes (built on first use). The automata of
//! the buckets are stored after a hunt, in a file of their own
//! ([`automata`]).

pub(crate) mod automata;
pub(crate) mod index;

use crate::compile::Variant;
use crate::correlation::CompiledCorrelation;
use crate::mapping::Source;
use crate::matcher::catalog::Catalog;
use crate::rules::{Rules, StoredRule};
use crate::ruleset::{RuleSet, RuleSetBuilder, Skipped, StoredSkipped};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"MIRTSGMC";

/// The cache folder to use when none is given: `$MIRT_CACHE_DIR/sigma`,
/// else the platform's user cache folder (see [`mirt_core::cache::cache_dir`]).
pub fn default_cache_dir() -> Option<PathBuf> {
    mirt_core::cache::cache_dir("sigma")
}

/// What a rule source held when the set was built: its text, or why it
/// could not be read.
pub(crate) type SourceText<'a> = (&'a Path, Result<std::borrow::Cow<'a, str>, String>);

/// A hasher over what the set depends on besides its sources: this
/// build of the crate, the mapping, placeholders and options.
fn config_hasher(b: &RuleSetBuilder) -> blake3::Hasher {
    let mut h = blake3::Hasher::new();
    h.update(b"mirt-sigma compiled rule set, format 1\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(env!("MIRT_SIGMA_SOURCE_DIGEST").as_bytes());
    // Debug forms of ordered data (Vec, BTreeMap) are deterministic.
    field(&mut h, format!("{:?}", b.mapping).as_bytes());
    field(&mut h, format!("{:?}", b.placeholders).as_bytes());
    field(
        &mut h,
        format!("{:?} {:?}", b.min_level, b.statuses).as_bytes(),
    );
    h
}

/// The key of a rule set built by `b` from `sources`.
pub(crate) fn key(b: &RuleSetBuilder, sources: &[SourceText<'_>]) -> String {
    let mut h = config_hasher(b);
    for (path, text) in sources {
        field(&mut h, path.as_os_str().as_encoded_bytes());
        match text {
            Ok(t) => {
                h.update(b"T");
                field(&mut h, t.as_bytes());
            }
            Err(e) => {
                h.update(b"E");
                field(&mut h, e.as_bytes());
            }
        }
    }
    h.finalize().to_hex().to_string()
}

/// Length-prefixed, so that no two different lists hash alike.
fn field(h: &mut blake3::Hasher, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn file_name(key: &str) -> String {
    format!("{key}.sigc")
}

fn file_for(dir: &Path, key: &str) -> PathBuf {
    dir.join(file_name(key))
}

/// A rule set as stored. The variants' sources are stored once each, and
/// referred to by index; each rule's metadata is encoded on its own, to be
/// decoded when asked for (see [`Rules`]).
#[derive(Serialize)]
struct Stored<'a> {
    rules: Vec<StoredRule<'a>>,
    variants: &'a [Variant],
    sources: Vec<&'a Source>,
    variant_sources: Vec<u32>,
    catalog: &'a Catalog,
    correlations: &'a [CompiledCorrelation],
    skipped: Vec<StoredSkipped>,
    filters: usize,
}

/// A stored rule set as decoded, its rules' metadata still encoded in the
/// file's bytes.
#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    rules: Vec<StoredRule<'a>>,
    variants: Vec<Variant>,
    sources: Vec<Source>,
    variant_sources: Vec<u32>,
    catalog: Catalog,
    correlations: Vec<CompiledCorrelation>,
    skipped: Vec<StoredSkipped>,
    filters: usize,
}

/// A rule set as read back.
pub(crate) struct Loaded {
    pub rules: Rules,
    pub variants: Vec<Variant>,
    pub catalog: Catalog,
    pub correlations: Vec<CompiledCorrelation>,
    pub filters: usize,
}

/// The stored rule set for `key`, and its skipped documents: `Ok(None)`
/// when there is none, `Err` (in words) when a file is there but unusable.
pub(crate) fn load(dir: &Path, key: &str) -> Result<Option<(Loaded, Vec<Skipped>)>, String> {
    let path = file_for(dir, key);
    let Some(bytes) = read_checked(&path, MAGIC)? else {
        return Ok(None);
    };
    let bytes = Arc::new(bytes);
    let bad = |why: &str| mirt_core::cache::damaged(&path, why);
    let mut body: Body<'_> =
        rmp_serde::from_slice(&bytes[DIGEST..]).map_err(|e| bad(&e.to_string()))?;
    body.share_sources().map_err(|e| bad(&e))?;
    let rules = Rules::stored(&body.rules, Arc::clone(&bytes), path.clone())
        .ok_or_else(|| bad("rule entries outside the file"))?;
    let skipped = std::mem::take(&mut body.skipped)
        .into_iter()
        .map(Skipped::try_from)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&e))?;
    let loaded = Loaded {
        rules,
        variants: body.variants,
        catalog: body.catalog,
        correlations: body.correlations,
        filters: body.filters,
    };
    Ok(Some((loaded, skipped)))
}

impl Body<'_> {
    /// Gives each variant its source, one shared copy per source.
    fn share_sources(&mut self) -> Result<(), String> {
        if self.variant_sources.len() != self.variants.len() {
            return Err("source table does not fit the variants".into());
        }
        let sources: Vec<Arc<Source>> = self.sources.drain(..).map(Arc::new).collect();
        for (v, &i) in self.variants.iter_mut().zip(&self.variant_sources) {
            let source = sources.get(i as usize).ok_or("source index out of range")?;
            v.source = Arc::clone(source);
        }
        Ok(())
    }
}

/// The distinct sources of `variants`, and each variant's index among them.
fn source_table(variants: &[Variant]) -> (Vec<&Source>, Vec<u32>) {
    let mut index: HashMap<*const Source, u32> = HashMap::new();
    let mut table = Vec::new();
    let refs = variants
        .iter()
        .map(|v| {
            *index.entry(Arc::as_ptr(&v.source)).or_insert_with(|| {
                table.push(&*v.source);
                table.len() as u32 - 1
            })
        })
        .collect();
    (table, refs)
}

/// Stores `set` under `key`; the error is in words, for a warning.
pub(crate) fn store(dir: &Path, key: &str, set: &RuleSet) -> Result<(), String> {
    let (sources, variant_sources) = source_table(&set.matcher.variants);
    let rules = set.rules.to_store().map_err(|e| {
        format!(
            "cannot write the rule cache in {}: serialise: {e}",
            dir.display()
        )
    })?;
    let stored = Stored {
        rules,
        variants: &set.matcher.variants,
        sources,
        variant_sources,
        catalog: set.matcher.catalog(),
        correlations: &set.correlations,
        skipped: set.skipped.iter().map(StoredSkipped::from).collect(),
        filters: set.filters,
    };
    let body = rmp_serde::to_vec(&stored).map_err(|e| {
        format!(
            "cannot write the rule cache in {}: serialise: {e}",
            dir.display()
        )
    })?;
    write_checked(dir, &file_name(key), MAGIC, &body)
}

/// The length of the BLAKE3 digest that starts a checked file's body.
pub(crate) const DIGEST: usize = 32;

/// The bytes after `magic` of the cache file at `path`, whose first
/// [`DIGEST`] bytes were checked to be the BLAKE3 of the rest: `Ok(None)`
/// when there is none, `Err` (in words) when it is unusable.
pub(crate) fn read_checked(
    path: &Path,
    magic: &[u8],
) -> Result<Option<mirt_core::cache::CacheBytes>, String> {
    let Some(bytes) = mirt_core::cache::read(path, magic)? else {
        return Ok(None);
    };
    let bad = |why: &str| mirt_core::cache::damaged(path, why);
    let (digest, body) = bytes
        .split_first_chunk::<DIGEST>()
        .ok_or_else(|| bad("too short"))?;
    if blake3::hash(body).as_bytes() != digest {
        return Err(bad("checksum mismatch"));
    }
    Ok(Some(bytes))
}

/// Writes `body` after `magic` and its BLAKE3 as the cache file `name` in
/// `dir` (see [`read_checked`]); the error is in words, for a warning.
pub(crate) fn write_checked(
    dir: &Path,
    name: &str,
    magic: &[u8],
    body: &[u8],
) -> Result<(), String> {
    let digest = blake3::hash(body);
    mirt_core::cache::write(dir, name, magic, &[digest.as_bytes(), body])
}

#[cfg(test)]
mod tests {
    use crate::{Mapping, RuleSetBuilder};
    use mirt_core::{Event, Source, SourceKind, Value};

    const RULE: &str = r#"
title: Encoded PowerShell
id: 5b0c8e0e-0000-4000-8000-000000000001
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\powershell.exe'
        CommandLine|re: '(?i)-e(nc|ncodedcommand)?\s+[a-z0-9+/=]{20,}'
    keywords: [FromBase64String]
    condition: selection or keywords
level: high
"#;

    fn builder(dir: &std::path::Path, rule: &str) -> RuleSetBuilder {
        let mut b = RuleSetBuilder::new(Mapping::builtin());
        b.cache_dir(Some(dir.to_path_buf()))
            .add_text("a.yml", rule)
            .add_text("broken.yml", "title: [unclosed\n");
        b
    }

    fn event() -> Event {
        let mut e = Event::new(Source::new(SourceKind::Evtx, "Sysmon.evtx", 0));
        e.channel = Some("Microsoft-Windows-Sysmon/Operational".into());
        e.event_id = Some(1);
        e.fields
            .push("Image", Value::from(r"C:\Windows\System32\PowerShell.exe"));
        e.fields.push(
            "CommandLine",
            Value::from("powershell -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA"),
        );
        e
    }

    #[test]
    fn a_second_build_loads_the_same_set() {
        let dir = tempfile::tempdir().unwrap();
        let first = builder(dir.path(), RULE).build();
        let second = builder(dir.path(), RULE).build();
        assert!(!first.from_cache());
        assert!(second.from_cache(), "{:?}", second.cache_problem());
        assert_eq!(second.skipped(), first.skipped());
        assert_eq!(second.skipped()[0].class, "yaml");
        // Rule metadata is decoded from the file when first asked for.
        assert_eq!(format!("{:?}", second.rules()), "Rules(1 rules, 0 decoded)");
        assert_eq!(second.rules().kind(0), Some(crate::RuleKind::Detection));
        assert_eq!(second.rules()[0].meta, first.rules()[0].meta);
        assert_eq!(format!("{:?}", second.rules()), "Rules(1 rules, 1 decoded)");
        assert_eq!(second.scan(&event()).len(), 1);
        assert_eq!(first.scan(&event()).len(), 1);
    }

    #[test]
    fn a_changed_rule_is_compiled_again() {
        let dir = tempfile::tempdir().unwrap();
        builder(dir.path(), RULE).build();
        let changed = builder(dir.path(), &RULE.replace("level: high", "level: low")).build();
        assert!(!changed.from_cache());
        assert_eq!(
            changed.rules()[0].meta.level,
            Some(mirt_core::Severity::Low)
        );
    }

    #[test]
    fn a_damaged_file_is_reported_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        builder(dir.path(), RULE).build();
        let file = file_with(dir.path(), "sigc").unwrap();
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&file, bytes).unwrap();
        let again = builder(dir.path(), RULE).build();
        assert!(!again.from_cache());
        let why = again.cache_problem().unwrap();
        assert!(why.contains("damaged") && why.contains("checksum"), "{why}");
        assert_eq!(again.scan(&event()).len(), 1);
        assert!(builder(dir.path(), RULE).build().from_cache());
    }

    fn file_with(dir: &std::path::Path, ext: &str) -> Option<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension() == Some(ext.as_ref()))
    }

    #[test]
    fn automata_built_in_one_hunt_are_read_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let first = builder(dir.path(), RULE).build();
        let hits = first.scan(&event());
        assert_eq!(hits.len(), 1);
        let (read, built) = first.matcher.automata().origins();
        assert!(read == 0 && built > 0, "{read} {built}");
        assert!(file_with(dir.path(), "siga").is_none());
        assert_eq!(first.store_automata(), None);
        let file = file_with(dir.path(), "siga").unwrap();

        let second = builder(dir.path(), RULE).build();
        assert_eq!(second.scan(&event()), hits);
        assert_eq!(second.matcher.automata().origins(), (built, 0));
        // Nothing new was built: the file is left as it is.
        let written = std::fs::metadata(&file).unwrap().modified().unwrap();
        assert_eq!(second.store_automata(), None);
        assert_eq!(
            std::fs::metadata(&file).unwrap().modified().unwrap(),
            written
        );

        // A damaged file is reported, its automata built again and the
        // file replaced.
        let mut bytes = std::fs::read(&file).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&file, bytes).unwrap();
        let third = builder(dir.path(), RULE).build();
        let why = third.cache_problem().unwrap();
        assert!(why.contains("damaged") && why.contains("siga"), "{why}");
        assert_eq!(third.scan(&event()), hits);
        assert_eq!(third.matcher.automata().origins(), (0, built));
        assert_eq!(third.store_automata(), None);
        let fourth = builder(dir.path(), RULE).build();
        assert_eq!(fourth.cache_problem(), None);
        assert_eq!(fourth.scan(&event()), hits);
        assert_eq!(fourth.matcher.automata().origins(), (built, 0));
    }

    #[test]
    fn automata_that_cannot_be_stored_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("sub");
        let set = builder(&cache, RULE).build();
        assert_eq!(set.scan(&event()).len(), 1);
        std::fs::remove_dir_all(&cache).unwrap();
        std::fs::write(&cache, b"not a folder").unwrap();
        let why = set.store_automata().unwrap();
        assert!(why.contains("cannot write the rule cache"), "{why}");
    }

    #[test]
    fn without_a_cache_no_automata_are_stored() {
        let mut b = RuleSetBuilder::new(Mapping::builtin());
        b.add_text("a.yml", RULE);
        let set = b.build();
        assert_eq!(set.scan(&event()).len(), 1);
        assert_eq!(set.store_automata(), None);
    }

    #[test]
    fn an_unwritable_folder_is_reported_and_the_set_still_built() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"not a folder").unwrap();
        let set = builder(&blocker.join("sub"), RULE).build();
        assert!(
            set.cache_problem()
                .unwrap()
                .contains("cannot write the rule cache")
        );
        assert_eq!(set.rules().len(), 1);
    }
}
