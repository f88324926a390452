//! Which rules a hunt runs: the shipped ones unless `--no-builtin`, plus
//! `--rules`, mapped by the shipped mapping plus `--mapping`; and the
//! `--list-skipped` / `--list-rules` listings.

use super::Args;
use crate::exit::{self, Outcome};
use crate::output::{RecordWriter, Tabular};
use anyhow::Context;
use clap::ValueEnum;
use mirt_core::Severity;
use mirt_sigma::ast::Status;
use mirt_sigma::{Mapping, Placeholders, RuleSet, RuleSetBuilder, Skipped};
use serde::Serialize;

/// A level on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl From<LevelArg> for Severity {
    fn from(l: LevelArg) -> Severity {
        match l {
            LevelArg::Informational => Severity::Informational,
            LevelArg::Low => Severity::Low,
            LevelArg::Medium => Severity::Medium,
            LevelArg::High => Severity::High,
            LevelArg::Critical => Severity::Critical,
        }
    }
}

/// A rule status on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    Stable,
    Test,
    Experimental,
    Deprecated,
    Unsupported,
}

impl From<StatusArg> for Status {
    fn from(s: StatusArg) -> Status {
        match s {
            StatusArg::Stable => Status::Stable,
            StatusArg::Test => Status::Test,
            StatusArg::Experimental => Status::Experimental,
            StatusArg::Deprecated => Status::Deprecated,
            StatusArg::Unsupported => Status::Unsupported,
        }
    }
}

/// Loads and compiles the rule set the arguments ask for.
pub fn load(args: &Args) -> anyhow::Result<RuleSet> {
    build(args, builder(args)?)
}

/// The options the arguments ask for and the shipped rules: what can be
/// wrong with them (a missing rule folder, a bad mapping) is found at once,
/// before any evidence is read. The `--rules` folders are listed by
/// [`build`], on the loader's thread.
pub fn builder(args: &Args) -> anyhow::Result<RuleSetBuilder> {
    let mut mapping = Mapping::builtin();
    for path in &args.mapping {
        mapping.extend(
            Mapping::load(path)
                .with_context(|| format!("cannot use the mapping {}", path.display()))?,
        );
    }
    let mut builder = RuleSetBuilder::new(mapping);
    builder.cache_dir(match (&args.rule_cache, args.no_rule_cache) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => mirt_sigma::cache::default_cache_dir(),
    });
    if let Some(path) = &args.placeholders {
        builder.placeholders(read_placeholders(path)?);
    }
    if let Some(level) = args.min_level {
        builder.min_level(level.into());
    }
    let statuses = if args.status.is_empty() {
        vec![Status::Stable, Status::Test, Status::Experimental]
    } else {
        args.status.iter().map(|s| Status::from(*s)).collect()
    };
    builder.statuses(statuses);
    if !args.no_builtin {
        for (path, text) in mirt_sigma::builtin::rules() {
            builder.add_text(*path, *text);
        }
    }
    for path in &args.rules {
        if !path.exists() {
            anyhow::bail!(
                "cannot read rules from {}: no such file or folder",
                path.display()
            );
        }
    }
    Ok(builder)
}

/// Adds the `--rules` files and folders (listing thousands of files is
/// worth a thread), then parses and compiles, or loads from the cache.
pub fn build(args: &Args, mut builder: RuleSetBuilder) -> anyhow::Result<RuleSet> {
    for path in &args.rules {
        builder.add_path(path);
    }
    let set = builder.build();
    if let Some(why) = set.cache_problem()
        && !args.quiet
    {
        eprintln!("{} {why}", crate::style::warning_label());
    }
    if set.rules().is_empty() && !(args.list_skipped || args.list_rules) {
        anyhow::bail!("no rule could be loaded (see --list-skipped)");
    }
    Ok(set)
}

fn read_placeholders(path: &std::path::Path) -> anyhow::Result<Placeholders> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let docs = mirt_sigma::yaml::load_documents(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut out = Placeholders::new();
    for (k, v) in docs.first().and_then(|d| d.as_map()).unwrap_or_default() {
        let name = k.scalar_text().unwrap_or_default();
        let values = match v.as_seq() {
            Some(items) => items.iter().filter_map(|i| i.scalar_text()).collect(),
            None => v.scalar_text().into_iter().collect(),
        };
        out.insert(name, values);
    }
    Ok(out)
}

#[derive(Serialize)]
struct Listed<'a> {
    rule_id: Option<&'a str>,
    title: &'a str,
    kind: mirt_sigma::RuleKind,
    level: Option<Severity>,
    status: Option<&'static str>,
    path: String,
    filters: &'a [String],
}

impl Tabular for Listed<'_> {
    const COLUMNS: &'static [&'static str] = &["rule_id", "level", "status", "title", "path"];
    const WIDTHS: &'static [usize] = &[36, 13, 12, 60, 40];
    fn cells(&self) -> Vec<String> {
        vec![
            self.rule_id.unwrap_or_default().to_string(),
            self.level.map(|l| l.to_string()).unwrap_or_default(),
            self.status.unwrap_or_default().to_string(),
            self.title.to_string(),
            self.path.clone(),
        ]
    }
}

impl Tabular for Skipped {
    const COLUMNS: &'static [&'static str] = &["class", "path", "line", "title", "reason"];
    const WIDTHS: &'static [usize] = &[10, 60, 5, 40, 80];
    fn cells(&self) -> Vec<String> {
        vec![
            self.class.to_string(),
            self.path.display().to_string(),
            self.line.map(|l| l.to_string()).unwrap_or_default(),
            self.title.clone().unwrap_or_default(),
            self.reason.clone(),
        ]
    }
}

/// `--list-skipped` and `--list-rules`.
pub fn list(args: &Args, set: &RuleSet) -> Outcome {
    if args.list_skipped {
        let mut w = RecordWriter::create::<Skipped>(args.format, args.output.as_deref())?;
        for s in set.skipped() {
            w.write(s)?;
        }
        w.finish()?;
    } else {
        let mut w = RecordWriter::create::<Listed>(args.format, args.output.as_deref())?;
        for r in set.rules() {
            w.write(&Listed {
                rule_id: r.meta.id.as_deref(),
                title: &r.meta.title,
                kind: r.kind,
                level: r.meta.level,
                status: r.meta.status.map(Status::as_str),
                path: r.path.display().to_string(),
                filters: &r.filters,
            })?;
        }
        w.finish()?;
    }
    if !args.quiet {
        let s = set.stats();
        eprintln!(
            "rules: {} detection and {} correlation rules loaded; {} not loaded; {} left out by --status/--min-level",
            s.detection_rules, s.correlation_rules, s.failed, s.excluded
        );
    }
    Ok(exit::OK)
}
