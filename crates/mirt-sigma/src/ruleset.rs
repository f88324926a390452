//! Loading a rule set: rule files are read and parsed in parallel, filters
//! merged into the rules they name, rules compiled for their mapped
//! sources, correlations resolved, and every document that cannot be used
//! recorded with its reason.

use crate::ast::{Correlation, Document, Filter, LogSource, Meta, Rule, Status};
use crate::cache::{self, SourceText};
use crate::compile::{self, CompileError, Placeholders, Variant};
use crate::correlation::{CompiledCorrelation, RuleRef};
use crate::error::Error;
use crate::mapping::Mapping;
use crate::matcher::Matcher;
use crate::parse::{self, Parsed};
use crate::rules::Rules;
use mirt_core::Severity;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What kind of rule an entry of the set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A detection rule.
    Detection,
    /// A correlation rule.
    Correlation,
}

/// A loaded rule.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RuleInfo {
    /// Metadata (title, id, level, status, tags...).
    pub meta: Meta,
    /// Log source (detection rules).
    pub logsource: Option<LogSource>,
    /// The file it came from.
    pub path: PathBuf,
    /// Line of its document.
    pub line: u64,
    /// Detection or correlation.
    pub kind: RuleKind,
    /// Whether its own matches are reported (false for rules that only
    /// feed a correlation without `generate: true`).
    pub report: bool,
    /// Filters merged into it (their titles).
    pub filters: Vec<String>,
}

/// A document that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Line of the document or item, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Rule id, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Rule title, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// `yaml`, `schema`, `invalid`, `unmapped`, `unresolved`, `io`, or
    /// `excluded` (left out on purpose by `--status`/`--min-level`).
    pub class: &'static str,
    /// Why.
    pub reason: String,
}

/// The classes a [`Skipped`] can have.
const CLASSES: [&str; 8] = [
    "io",
    "yaml",
    "schema",
    "invalid",
    "unmapped",
    "unresolved",
    "mapping",
    "excluded",
];

/// A [`Skipped`] as the rule-set cache stores it: every field present
/// (the cache's encoding is positional), the class by name.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredSkipped {
    path: PathBuf,
    line: Option<u64>,
    id: Option<String>,
    title: Option<String>,
    class: String,
    reason: String,
}

impl From<&Skipped> for StoredSkipped {
    fn from(s: &Skipped) -> StoredSkipped {
        StoredSkipped {
            path: s.path.clone(),
            line: s.line,
            id: s.id.clone(),
            title: s.title.clone(),
            class: s.class.to_string(),
            reason: s.reason.clone(),
        }
    }
}

impl TryFrom<StoredSkipped> for Skipped {
    type Error = String;

    fn try_from(s: StoredSkipped) -> Result<Skipped, String> {
        let class = CLASSES
            .into_iter()
            .find(|c| *c == s.class)
            .ok_or_else(|| format!("unknown class {:?}", s.class))?;
        Ok(Skipped {
            path: s.path,
            line: s.line,
            id: s.id,
            title: s.title,
            class,
            reason: s.reason,
        })
    }
}

impl Skipped {
    fn from_error(e: &Error, meta: Option<&Meta>) -> Skipped {
        Skipped {
            path: e.path().to_path_buf(),
            line: e.line(),
            id: meta.and_then(|m| m.id.clone()),
            title: meta.map(|m| m.title.clone()),
            class: e.class(),
            reason: e.reason(),
        }
    }

    /// Whether this is a failure (not an exclusion the user asked for).
    pub fn is_failure(&self) -> bool {
        self.class != "excluded"
    }
}

/// Where the text of one rule source comes from.
#[derive(Debug, Clone)]
enum Input {
    /// Given as text.
    Text(String),
    /// A file, read when the set is built (in parallel with the others),
    /// with its status when it was taken while listing its folder.
    File(Option<std::fs::Metadata>),
    /// A folder entry that could not be listed.
    Unlisted(String),
}

/// Collects rule sources and options, then builds a [`RuleSet`].
#[derive(Debug, Clone)]
pub struct RuleSetBuilder {
    pub(crate) mapping: Mapping,
    pub(crate) placeholders: Placeholders,
    texts: Vec<(PathBuf, Input)>,
    pub(crate) min_level: Option<Severity>,
    pub(crate) statuses: Option<Vec<Status>>,
    cache_dir: Option<PathBuf>,
}

impl RuleSetBuilder {
    /// A builder that maps log sources with `mapping`.
    pub fn new(mapping: Mapping) -> RuleSetBuilder {
        RuleSetBuilder {
            mapping,
            placeholders: Placeholders::new(),
            texts: Vec::new(),
            min_level: None,
            statuses: None,
            cache_dir: None,
        }
    }

    /// Keep compiled rule sets in `dir` (see [`crate::cache`]): a later
    /// build from the same sources and options loads instead of compiling.
    /// `None` (the default) compiles every time.
    pub fn cache_dir(&mut self, dir: Option<PathBuf>) -> &mut Self {
        self.cache_dir = dir;
        self
    }

    /// Values for `%name%` placeholders (the `expand` modifier).
    pub fn placeholders(&mut self, p: Placeholders) -> &mut Self {
        self.placeholders = p;
        self
    }

    /// Only rules of at least this level (correlated rules are kept).
    pub fn min_level(&mut self, level: Severity) -> &mut Self {
        self.min_level = Some(level);
        self
    }

    /// Only rules with these statuses (rules without a status count as
    /// `experimental`).
    pub fn statuses(&mut self, statuses: Vec<Status>) -> &mut Self {
        self.statuses = Some(statuses);
        self
    }

    /// Adds rule text; `path` names it in output.
    pub fn add_text(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> &mut Self {
        self.texts.push((path.into(), Input::Text(text.into())));
        self
    }

    /// Adds a rule file, or every `*.yml`/`*.yaml` under a folder (in name
    /// order).
    pub fn add_path(&mut self, path: &Path) -> &mut Self {
        if path.is_dir() {
            self.add_folder(path);
        } else {
            self.texts.push((path.to_path_buf(), Input::File(None)));
        }
        self
    }

    /// The rule files under `dir`, depth first, siblings by name (as
    /// bytes); symbolic links are not followed. Each file's status is
    /// taken through its folder as it is listed (one name to resolve, not
    /// the whole path: for SigmaHQ's 2,400 files that was the larger part
    /// of checking them against the cache index). A folder that cannot be
    /// listed is recorded with the reason.
    fn add_folder(&mut self, dir: &Path) {
        let unlisted = |e: std::io::Error| {
            let why = format!("cannot list the folder {}: {e}", dir.display());
            (dir.to_path_buf(), Input::Unlisted(why))
        };
        let listed =
            std::fs::read_dir(dir).and_then(|entries| entries.collect::<Result<Vec<_>, _>>());
        let mut entries = match listed {
            Ok(entries) => entries,
            Err(e) => {
                self.texts.push(unlisted(e));
                return;
            }
        };
        entries.sort_unstable_by(|a, b| {
            let (a, b) = (a.file_name(), b.file_name());
            a.as_encoded_bytes().cmp(b.as_encoded_bytes())
        });
        for entry in entries {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => self.add_folder(&path),
                Ok(t) if t.is_file() && is_rule_file(&path) => {
                    self.texts.push((path, Input::File(entry.metadata().ok())));
                }
                Ok(_) => {}
                Err(e) => self.texts.push(unlisted(e)),
            }
        }
    }

    /// Parses, compiles and indexes everything added, or loads the result
    /// of an earlier build of the same sources from the cache.
    pub fn build(&self) -> RuleSet {
        let Some(dir) = &self.cache_dir else {
            return self.compile(self.read_sources());
        };
        let (mut set, key) = self.build_cached(dir);
        set.use_stored_automata(dir, key);
        set
    }

    /// The set from the cache in `dir` or compiled (and stored there),
    /// and its key.
    fn build_cached(&self, dir: &Path) -> (RuleSet, String) {
        // Unchanged files: the index knows their key without reading them.
        let status = cache::index::status_key(self, self.source_refs());
        if let Some(s) = &status
            && let Some(key) = cache::index::lookup(dir, &s.key)
            && let Ok(Some((stored, skipped))) = cache::load(dir, &key)
        {
            return (RuleSet::loaded(stored, skipped), key);
        }
        let sources = self.read_sources();
        let key = cache::key(self, &sources);
        let indexed = || {
            let s = status.as_ref().filter(|s| s.settled)?;
            cache::index::store(dir, &s.key, &key).err()
        };
        let problem = match cache::load(dir, &key) {
            Ok(Some((stored, skipped))) => {
                let mut set = RuleSet::loaded(stored, skipped);
                set.cache_problem = indexed();
                return (set, key);
            }
            Ok(None) => None,
            Err(why) => Some(why),
        };
        let mut set = self.compile(sources);
        let stored = match cache::store(dir, &key, &set) {
            Ok(()) => indexed(),
            Err(why) => Some(why),
        };
        set.cache_problem = join_problems(problem, stored);
        (set, key)
    }

    /// The sources as the status index sees them.
    fn source_refs(&self) -> impl Iterator<Item = cache::index::SourceRef<'_>> {
        use cache::index::SourceRef;
        self.texts.iter().map(|(path, input)| match input {
            Input::File(status) => SourceRef::File(path, status.as_ref()),
            Input::Text(t) | Input::Unlisted(t) => SourceRef::Text(path, t),
        })
    }

    /// The text of every source (files read in parallel), or why it could
    /// not be read.
    fn read_sources(&self) -> Vec<SourceText<'_>> {
        self.texts
            .par_iter()
            .map(|(path, input)| {
                let text = match input {
                    Input::Text(t) => Ok(Cow::Borrowed(t.as_str())),
                    Input::File(_) => std::fs::read_to_string(path)
                        .map(Cow::Owned)
                        .map_err(|e| e.to_string()),
                    Input::Unlisted(e) => Err(e.clone()),
                };
                (path.as_path(), text)
            })
            .collect()
    }

    fn compile(&self, sources: Vec<SourceText<'_>>) -> RuleSet {
        let parsed: Vec<(&Path, Vec<crate::Result<Parsed>>)> = sources
            .into_par_iter()
            .map(|(path, text)| {
                let results = match text {
                    Ok(t) => parse::parse_text(&t, path),
                    Err(e) => vec![Err(io_error(path, &e))],
                };
                (path, results)
            })
            .collect();
        let mut skipped = Vec::new();
        let mut docs = Docs::default();
        for (path, results) in parsed {
            for r in results {
                match r {
                    Ok(p) => docs.push(path.to_path_buf(), p),
                    Err(e) => skipped.push(Skipped::from_error(&e, None)),
                }
            }
        }
        assemble(self, docs, skipped)
    }
}

fn is_rule_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

fn io_error(path: &Path, e: &str) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    }
}

#[derive(Default)]
struct Docs {
    rules: Vec<(PathBuf, u64, Rule)>,
    correlations: Vec<(PathBuf, u64, Correlation)>,
    filters: Vec<(PathBuf, u64, Filter)>,
}

impl Docs {
    fn push(&mut self, path: PathBuf, p: Parsed) {
        match p.document {
            Document::Rule(r) => self.rules.push((path, p.line, r)),
            Document::Correlation(c) => self.correlations.push((path, p.line, c)),
            Document::Filter(f) => self.filters.push((path, p.line, f)),
        }
    }
}

/// Two problems in one text, when there are two.
fn join_problems(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// A compiled rule set: rules, their matcher, correlations, and what was
/// skipped.
pub struct RuleSet {
    pub(crate) rules: Rules,
    pub(crate) matcher: Matcher,
    pub(crate) correlations: Vec<CompiledCorrelation>,
    pub(crate) skipped: Vec<Skipped>,
    pub(crate) filters: usize,
    /// Whether the set was loaded from the cache.
    pub(crate) from_cache: bool,
    /// Why the cache could not be read or written, when it could not.
    pub(crate) cache_problem: Option<String>,
    /// The cache folder and the set's key there, for storing automata.
    pub(crate) automata_home: Option<(PathBuf, String)>,
}

impl RuleSet {
    fn loaded(stored: cache::Loaded, skipped: Vec<Skipped>) -> RuleSet {
        RuleSet {
            rules: stored.rules,
            matcher: Matcher::with_catalog(stored.variants, stored.catalog),
            correlations: stored.correlations,
            skipped,
            filters: stored.filters,
            from_cache: true,
            cache_problem: None,
            automata_home: None,
        }
    }

    /// Has the matcher read the automata stored for the set `key` in
    /// `dir`, and store its own there (see [`RuleSet::store_automata`]).
    fn use_stored_automata(&mut self, dir: &Path, key: String) {
        let stored = match cache::automata::StoredAutomata::open(dir, &key) {
            Ok(stored) => stored,
            Err(why) => {
                self.cache_problem = join_problems(self.cache_problem.take(), Some(why));
                None
            }
        };
        self.matcher.use_stored_automata(stored);
        self.automata_home = Some((dir.to_path_buf(), key));
    }
}

fn assemble(b: &RuleSetBuilder, docs: Docs, mut skipped: Vec<Skipped>) -> RuleSet {
    let Docs {
        rules,
        correlations,
        filters,
    } = docs;
    let mut rules = dedupe(rules, &mut skipped);
    // Correlation references decide which rules must stay loaded.
    let referenced: BTreeSet<String> = correlations
        .iter()
        .flat_map(|(_, _, c)| c.rules.iter().cloned())
        .collect();
    rules.retain(|(path, line, r)| {
        let keep = referenced_by(&r.meta, &referenced) || selected(b, &r.meta);
        if !keep {
            skipped.push(excluded(path, *line, &r.meta, b));
        }
        keep
    });
    let mut applied: Vec<Vec<String>> = vec![Vec::new(); rules.len()];
    for (n, (_, _, f)) in filters.iter().enumerate() {
        for (i, (_, _, r)) in rules.iter_mut().enumerate() {
            if compile::filter_applies(f, r) {
                compile::apply_filter(&mut r.detection, f, n);
                applied[i].push(f.meta.title.clone());
            }
        }
    }
    let compiled: Vec<Result<Vec<Variant>, CompileError>> = rules
        .par_iter()
        .enumerate()
        .map(|(i, (_, _, r))| compile::compile_rule(i as u32, r, &b.mapping, &b.placeholders))
        .collect();
    let mut infos = Vec::new();
    let mut variants = Vec::new();
    for ((path, line, rule), (result, filters)) in
        rules.into_iter().zip(compiled.into_iter().zip(applied))
    {
        let index = infos.len() as u32;
        match result {
            Ok(vs) => {
                variants.extend(vs.into_iter().map(|mut v| {
                    v.rule = index;
                    v
                }));
                infos.push(RuleInfo {
                    meta: rule.meta,
                    logsource: Some(rule.logsource),
                    path,
                    line,
                    kind: RuleKind::Detection,
                    report: true,
                    filters,
                });
            }
            Err(e) => skipped.push(Skipped::from_error(
                &compile_error(e, &path, line, &rule.logsource),
                Some(&rule.meta),
            )),
        }
    }
    let compiled_correlations =
        crate::correlation::resolve(correlations, &mut infos, &mut skipped, |c| selected(b, c));
    mark_generated(&mut infos, &compiled_correlations);
    RuleSet {
        rules: Rules::decoded(infos),
        matcher: Matcher::build(variants),
        correlations: compiled_correlations,
        skipped,
        filters: filters.len(),
        from_cache: false,
        cache_problem: None,
        automata_home: None,
    }
}

fn compile_error(e: CompileError, path: &Path, line: u64, ls: &LogSource) -> Error {
    match e {
        CompileError::Unmapped(hint) => Error::Unmapped {
            path: path.to_path_buf(),
            line,
            logsource: ls.to_string(),
            hint,
        },
        CompileError::Invalid(l, reason) => Error::Invalid {
            path: path.to_path_buf(),
            line: if l == 0 { line } else { l },
            reason,
        },
    }
}

/// Later rules with an id seen before are skipped.
fn dedupe(
    rules: Vec<(PathBuf, u64, Rule)>,
    skipped: &mut Vec<Skipped>,
) -> Vec<(PathBuf, u64, Rule)> {
    let mut first: HashMap<String, PathBuf> = HashMap::new();
    let mut out = Vec::with_capacity(rules.len());
    for (path, line, rule) in rules {
        if let Some(id) = &rule.meta.id {
            if let Some(prev) = first.get(id) {
                skipped.push(Skipped {
                    path: path.clone(),
                    line: Some(line),
                    id: Some(id.clone()),
                    title: Some(rule.meta.title.clone()),
                    class: "invalid",
                    reason: format!(
                        "duplicate rule id {id} (first loaded from {})",
                        prev.display()
                    ),
                });
                continue;
            }
            first.insert(id.clone(), path.clone());
        }
        out.push((path, line, rule));
    }
    out
}

fn referenced_by(meta: &Meta, refs: &BTreeSet<String>) -> bool {
    meta.id.as_ref().is_some_and(|id| refs.contains(id))
        || meta.name.as_ref().is_some_and(|n| refs.contains(n))
}

fn selected(b: &RuleSetBuilder, meta: &Meta) -> bool {
    let level_ok = b
        .min_level
        .is_none_or(|min| meta.level.unwrap_or(Severity::Informational) >= min);
    let status = meta.status.unwrap_or(Status::Experimental);
    let status_ok = b.statuses.as_ref().is_none_or(|s| s.contains(&status));
    level_ok && status_ok
}

fn excluded(path: &Path, line: u64, meta: &Meta, b: &RuleSetBuilder) -> Skipped {
    let level = meta
        .level
        .map_or("no level".to_string(), |l| format!("level {l}"));
    let status = meta.status.map_or("no status", Status::as_str);
    let why = match (&b.min_level, &b.statuses) {
        (Some(min), _) if meta.level.unwrap_or(Severity::Informational) < *min => {
            format!("{level} is below --min-level {min}")
        }
        _ => format!("status {status} is not among --status"),
    };
    Skipped {
        path: path.to_path_buf(),
        line: Some(line),
        id: meta.id.clone(),
        title: Some(meta.title.clone()),
        class: "excluded",
        reason: why,
    }
}

/// Rules that only feed correlations report nothing of their own unless a
/// correlation says `generate: true`.
fn mark_generated(infos: &mut [RuleInfo], correlations: &[CompiledCorrelation]) {
    let mut feeds = vec![false; infos.len()];
    let mut generate = vec![false; infos.len()];
    for c in correlations {
        for r in &c.inputs {
            if let RuleRef::Rule(i) = r {
                feeds[*i as usize] = true;
                generate[*i as usize] |= c.generate;
            }
        }
    }
    for (i, info) in infos.iter_mut().enumerate() {
        if info.kind == RuleKind::Detection && feeds[i] && !generate[i] {
            info.report = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_listed_depth_first_by_name_with_each_files_status() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (path, text) in [
            ("c.YML", "c"),
            ("a.yml", "a"),
            ("a/z.yaml", "z"),
            ("b/notes.txt", "not a rule"),
            ("b/y.yml", "y"),
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("a.yml"), root.join("link.yml")).unwrap();
        let mut b = RuleSetBuilder::new(Mapping::builtin());
        b.add_path(root).add_path(&root.join("missing.yml"));
        let listed: Vec<(String, bool)> = b
            .texts
            .iter()
            .map(|(path, input)| {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                let status = match input {
                    Input::File(status) => status.as_ref().is_some_and(|m| m.len() == 1),
                    _ => panic!("{name} not listed as a file"),
                };
                (name.replace('\\', "/"), status)
            })
            .collect();
        // Links are not followed; a path given alone is stated when the
        // set is built.
        let want = [
            ("a/z.yaml", true),
            ("a.yml", true),
            ("b/y.yml", true),
            ("c.YML", true),
            ("missing.yml", false),
        ];
        let want: Vec<(String, bool)> = want.iter().map(|(n, s)| (n.to_string(), *s)).collect();
        assert_eq!(listed, want);
    }

    #[test]
    fn a_regex_too_large_to_search_refuses_its_rule_with_the_reason() {
        let rule = |title: &str, re: &str| {
            format!(
                "title: {title}\nlogsource: {{product: windows, category: process_creation}}\n\
                 detection:\n    sel:\n        CommandLine|re: '{re}'\n    condition: sel\n"
            )
        };
        let mut b = RuleSetBuilder::new(Mapping::builtin());
        b.add_text("small.yml", rule("Small", r"-e(nc)?\s+[a-z0-9+/=]{20,}"))
            .add_text("large.yml", rule("Large", r"(\w{1000}){1000}"));
        let set = b.build();
        assert_eq!(set.rules().len(), 1);
        assert_eq!(set.rules()[0].meta.title, "Small");
        let [skipped] = set.skipped() else {
            panic!("{:?}", set.skipped())
        };
        assert_eq!(
            (skipped.class, skipped.title.as_deref()),
            ("invalid", Some("Large"))
        );
        assert!(
            skipped.reason.contains("too large to search"),
            "{}",
            skipped.reason
        );
    }
}
