//! The rules of a set as [`RuleSet::rules`](crate::RuleSet::rules) gives
//! them. A set read from the rule-set cache keeps each rule's metadata
//! (title, description, references, tags...: about half of the cached
//! set's bytes) encoded in the mapped cache file and decodes it when it is
//! first asked for: a hunt shows the few hundred rules that fire, not the
//! thousands it loads. Whether a rule is a detection or a correlation, and
//! whether its matches are reported, are at hand for every rule.

use crate::ruleset::{RuleInfo, RuleKind};
use mirt_core::cache::CacheBytes;
use std::ops::{Index, Range};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The loaded rules, indexed as [`Hit::rule`](crate::Hit) indexes them.
#[derive(Default)]
pub struct Rules {
    entries: Vec<Entry>,
    /// The cache file that holds the entries not decoded yet.
    stored: Option<Stored>,
}

struct Stored {
    bytes: Arc<CacheBytes>,
    path: PathBuf,
}

struct Entry {
    kind: RuleKind,
    report: bool,
    /// Where the encoded [`RuleInfo`] is in the cache file's bytes.
    encoded: Range<usize>,
    info: OnceLock<Box<RuleInfo>>,
}

/// A rule as the rule-set cache stores it: kind and reporting, then the
/// encoded [`RuleInfo`].
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct StoredRule<'a> {
    pub kind: RuleKind,
    pub report: bool,
    #[serde(borrow)]
    pub info: Encoded<'a>,
}

/// Bytes stored as a MessagePack binary (not as a list of numbers), and
/// read back borrowed from the buffer they are in.
pub(crate) struct Encoded<'a>(pub std::borrow::Cow<'a, [u8]>);

impl serde::Serialize for Encoded<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Encoded<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bytes: &'de [u8] = serde::Deserialize::deserialize(d)?;
        Ok(Encoded(std::borrow::Cow::Borrowed(bytes)))
    }
}

impl Rules {
    /// Rules decoded already (a set compiled from its sources).
    pub(crate) fn decoded(infos: Vec<RuleInfo>) -> Rules {
        let entries = infos
            .into_iter()
            .map(|info| Entry {
                kind: info.kind,
                report: info.report,
                encoded: 0..0,
                info: OnceLock::from(Box::new(info)),
            })
            .collect();
        Rules {
            entries,
            stored: None,
        }
    }

    /// Rules whose metadata stays encoded in `bytes` (the cache file at
    /// `path`) until asked for. `None` if an entry does not lie in `bytes`.
    pub(crate) fn stored(
        stored: &[StoredRule<'_>],
        bytes: Arc<CacheBytes>,
        path: PathBuf,
    ) -> Option<Rules> {
        let base = bytes.as_ptr() as usize;
        let end = base + bytes.len();
        let entries = stored
            .iter()
            .map(|r| {
                let at = r.info.0.as_ptr() as usize;
                let range = at.checked_sub(base)?..at.checked_sub(base)? + r.info.0.len();
                (at + r.info.0.len() <= end).then(|| Entry {
                    kind: r.kind,
                    report: r.report,
                    encoded: range,
                    info: OnceLock::new(),
                })
            })
            .collect::<Option<_>>()?;
        Some(Rules {
            entries,
            stored: Some(Stored { bytes, path }),
        })
    }

    /// The number of rules.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Rule `i`, decoded now if it was not yet.
    pub fn get(&self, i: usize) -> Option<&RuleInfo> {
        let entry = self.entries.get(i)?;
        Some(entry.info.get_or_init(|| Box::new(self.decode(i, entry))))
    }

    /// Whether rule `i` is a detection or a correlation (without decoding it).
    pub fn kind(&self, i: usize) -> Option<RuleKind> {
        self.entries.get(i).map(|e| e.kind)
    }

    /// Whether the matches of rule `i` are reported (without decoding it).
    pub fn reports(&self, i: usize) -> Option<bool> {
        self.entries.get(i).map(|e| e.report)
    }

    /// Every rule, in order (decoding those not decoded yet).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &RuleInfo> + '_ {
        (0..self.len()).map(|i| &self[i])
    }

    /// How many rules are detections (the others are correlations).
    pub(crate) fn detections(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.kind == RuleKind::Detection)
            .count()
    }

    /// The stored form of every rule (for writing the cache).
    pub(crate) fn to_store(&self) -> Result<Vec<StoredRule<'_>>, rmp_serde::encode::Error> {
        self.iter()
            .map(|info| {
                Ok(StoredRule {
                    kind: info.kind,
                    report: info.report,
                    info: Encoded(rmp_serde::to_vec(info)?.into()),
                })
            })
            .collect()
    }

    /// Decodes rule `i`. The cache file was checked against its digest
    /// when read, so an entry that does not decode means a fault in this
    /// build's cache format; the rule is then still shown, named by its
    /// number, with the reason, rather than taking the hunt down.
    fn decode(&self, i: usize, entry: &Entry) -> RuleInfo {
        let Some(stored) = &self.stored else {
            return unreachable_entry(i, entry, "no cache file holds it", PathBuf::new());
        };
        let bytes = stored.bytes.get(entry.encoded.clone()).unwrap_or_default();
        match rmp_serde::from_slice::<RuleInfo>(bytes) {
            Ok(mut info) => {
                // The kind and reporting stored beside it are the ones the
                // set was built with.
                info.kind = entry.kind;
                info.report = entry.report;
                info
            }
            Err(e) => unreachable_entry(i, entry, &e.to_string(), stored.path.clone()),
        }
    }
}

/// A rule whose cached metadata cannot be decoded: named by its number.
fn unreachable_entry(i: usize, entry: &Entry, why: &str, path: PathBuf) -> RuleInfo {
    RuleInfo {
        meta: crate::ast::Meta {
            title: format!("rule {i} of the cached rule set (its metadata does not decode: {why})"),
            ..Default::default()
        },
        logsource: None,
        path,
        line: 0,
        kind: entry.kind,
        report: entry.report,
        filters: Vec::new(),
    }
}

impl Index<usize> for Rules {
    type Output = RuleInfo;

    fn index(&self, i: usize) -> &RuleInfo {
        match self.get(i) {
            Some(info) => info,
            None => panic!("rule {i} of {} rules", self.len()),
        }
    }
}

impl<'a> IntoIterator for &'a Rules {
    type Item = &'a RuleInfo;
    type IntoIter = Box<dyn ExactSizeIterator<Item = &'a RuleInfo> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let decoded = self.entries.iter().filter(|e| e.info.get().is_some());
        write!(
            f,
            "Rules({} rules, {} decoded)",
            self.len(),
            decoded.count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn an_entry_that_does_not_decode_is_named_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let good = rmp_serde::to_vec(&unreachable_entry(
            0,
            &Entry {
                kind: RuleKind::Correlation,
                report: false,
                encoded: 0..0,
                info: OnceLock::new(),
            },
            "-",
            PathBuf::from("a.yml"),
        ))
        .unwrap();
        let mut body = good.clone();
        body.extend_from_slice(b"\xc1 not MessagePack");
        mirt_core::cache::write(dir.path(), "r", b"M", &[&body]).unwrap();
        let path = dir.path().join("r");
        let bytes = Arc::new(mirt_core::cache::read(&path, b"M").unwrap().unwrap());
        let entry = |range: Range<usize>, kind| StoredRule {
            kind,
            report: true,
            info: Encoded(Cow::Borrowed(&bytes[range])),
        };
        let stored = [
            entry(0..good.len(), RuleKind::Detection),
            entry(good.len()..bytes.len(), RuleKind::Correlation),
        ];
        let rules = Rules::stored(&stored, Arc::clone(&bytes), path.clone()).unwrap();
        assert_eq!(rules.len(), 2);
        // The kind and reporting stored beside the entry win.
        assert_eq!(rules[0].kind, RuleKind::Detection);
        assert!(rules[0].report);
        assert_eq!(rules[0].path, PathBuf::from("a.yml"));
        let bad = &rules[1];
        assert!(
            bad.meta.title.starts_with("rule 1 of the cached rule set"),
            "{}",
            bad.meta.title
        );
        assert_eq!(
            (bad.kind, bad.path.as_path()),
            (RuleKind::Correlation, path.as_path())
        );
        // Bytes that are not the file's are refused.
        let elsewhere = [StoredRule {
            kind: RuleKind::Detection,
            report: true,
            info: Encoded(Cow::Borrowed(b"x")),
        }];
        assert!(Rules::stored(&elsewhere, bytes, path).is_none());
    }
}
