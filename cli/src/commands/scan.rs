//! `mirt scan`: hash every file and scan it with YARA-X, reading each byte once.

use crate::exit::{self, Outcome};
use crate::output::{self, Format, ProblemLog, RecordWriter, Tabular};
use crate::style;
use anyhow::Context;
use mirt_core::{Problem, ProblemKind};
use mirt_hash::Algorithms;
use mirt_scan::{Engine, FileRecord, HashList, Output, ScanOptions, ScanStatus};
use mirt_yara::{CompileOptions, CompiledRules, RuleSources};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Hash every file and scan it with YARA rules, reading each file once.
///
/// Files and folders are read recursively; zip archives are opened and their
/// members reported as `archive.zip!member/path`. Every file gets BLAKE3 and
/// SHA-256 (MD5 and SHA-1 on request, or when a hash list needs them) and,
/// unless it is larger than --max-size or in a --known-good list, a YARA-X
/// scan of the same bytes. Without --rules the project's built-in rules are
/// used (ransomware notes and binaries, web shells, offensive tooling).
/// Symlinks are not followed unless asked; special files are not read.
/// Compiled rules are cached, so the second run over a rule set starts at once.
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt scan /mnt/evidence
  mirt scan C:/inetpub --rules signature-base/yara --skip-bad-rules --matches-only -f table
  mirt scan share/ --bad-hashes signature-base/iocs/hash-iocs.txt --md5 -o scan.jsonl
  mirt scan triage.zip --known-good nsrl-subset.csv --errors not-read.jsonl
  mirt scan /usr/lib --no-rules -f csv -o hashes.csv

Rules see the external variables filename, filepath, extension (\".exe\"),
filetype (EXE, ELF, PHP...) and owner for each file, as signature-base expects.")]
pub struct Args {
    /// Files or folders to scan (recursively).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// YARA rule file, or folder of *.yar/*.yara (repeatable); replaces the
    /// built-in rules.
    #[arg(long, short = 'r', value_name = "PATH")]
    rules: Vec<PathBuf>,

    /// Also use the built-in rules when --rules is given.
    #[arg(long)]
    builtin: bool,

    /// Do not scan with YARA: hash only.
    #[arg(long, conflicts_with_all = ["rules", "builtin"])]
    no_rules: bool,

    /// Leave out rule files that do not compile (they are listed) instead of stopping.
    #[arg(long)]
    skip_bad_rules: bool,

    /// Folder for compiled rules [default: the user's cache folder, mirt/yara].
    #[arg(long, value_name = "DIR")]
    rule_cache: Option<PathBuf>,

    /// Compile the rules every time; do not read or write the cache.
    #[arg(long, conflicts_with = "rule_cache")]
    no_rule_cache: bool,

    /// Also compute MD5.
    #[arg(long)]
    md5: bool,

    /// Also compute SHA-1.
    #[arg(long)]
    sha1: bool,

    /// Known-bad hashes (MD5, SHA-1, SHA-256 or BLAKE3; one per line, optionally
    /// `hash;comment`, or CSV with a hash column); matches are findings (repeatable).
    #[arg(long, value_name = "FILE")]
    bad_hashes: Vec<PathBuf>,

    /// Known-good hashes, same formats: those files are not scanned (repeatable).
    #[arg(long, value_name = "FILE")]
    known_good: Vec<PathBuf>,

    /// Files larger than this are hashed but not scanned (K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    max_size: u64,

    /// Stop scanning one file after this many seconds (0: no limit).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,

    /// Follow symlinks (with loop detection) instead of listing them as skipped.
    #[arg(long)]
    follow_symlinks: bool,

    /// Levels of zip archives to open (0: do not open archives).
    #[arg(long, value_name = "N", default_value_t = 3)]
    zip_depth: u32,

    /// Most uncompressed bytes read from one file's zip members, against zip bombs.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    zip_max_total: u64,

    /// Most members read from one file's zip archives.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    zip_max_members: u64,

    /// Offsets reported per matching string.
    #[arg(long, value_name = "N", default_value_t = 16)]
    max_offsets: usize,

    /// Output only files with a rule match or a bad hash.
    #[arg(long)]
    matches_only: bool,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Jsonl)]
    format: Format,

    /// Write records to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also write every file not read or not scanned (and why) as JSON Lines to FILE.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// Do not print the summary and problems on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Reads `512`, `64K`, `256M`, `2G` (binary multiples).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                'B' => 1,
                _ => return Err(format!("unknown size suffix in {s:?} (use K, M, G, T)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("cannot read {s:?} as a size"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} too large"))
}

/// What a worker hands back for one output item.
enum Out {
    Rendered(Vec<u8>, Tally),
    Problem(Problem),
    Done(u64),
}

pub fn exec(args: Args, threads: Option<usize>) -> Outcome {
    let started = Instant::now();
    let mut problems = ProblemLog::create(args.errors.as_deref())?;
    let rules = load_rules(&args, &mut problems)?;
    let mut engine = Engine::new(scan_options(&args, threads), rules.as_ref());
    load_lists(&args, &mut engine, &mut problems)?;

    let listing = mirt_scan::list_files(&args.paths, args.follow_symlinks);
    for p in &listing.problems {
        // Symlinks and special files can be thousands (a system folder): they
        // are counted in the summary and listed in full with --errors.
        let passed_over = p.kind == ProblemKind::Skipped;
        if !passed_over && !args.quiet {
            eprintln!("{} {p}", style::warning_label());
        }
        problems.write(p).context("writing the --errors file")?;
    }
    let mut totals = Totals {
        symlinks: listing.symlinks,
        special: listing.special,
        unlisted: listing.problems.len() as u64 - listing.symlinks - listing.special,
        ..Totals::default()
    };
    if listing.files.is_empty() {
        problems.finish().context("writing the --errors file")?;
        anyhow::bail!("no files to scan under the given paths");
    }

    let mut writer = RecordWriter::create::<FileRecord>(args.format, args.output.as_deref())?;
    let bar = crate::progress::bar(listing.total_bytes(), "scan", true);
    let (format, matches_only) = (args.format, args.matches_only);
    let mut failure: Option<anyhow::Error> = None;
    engine.run(
        &listing.files,
        |out| match out {
            Output::Record(rec) => {
                let tally = Tally::of(&rec);
                let mut buf = Vec::new();
                if !matches_only || rec.is_finding() {
                    output::render(format, &*rec, &mut buf);
                }
                Out::Rendered(buf, tally)
            }
            Output::Problem(p) => Out::Problem(p),
            Output::FileDone { bytes } => Out::Done(bytes),
        },
        |out| {
            if failure.is_some() {
                return;
            }
            let step = match out {
                Out::Rendered(bytes, tally) => {
                    totals.add(&tally);
                    if bytes.is_empty() {
                        Ok(())
                    } else {
                        writer.write_rendered(&bytes).map_err(Into::into)
                    }
                }
                Out::Problem(p) => bar.suspend(|| report(&args, &p, &mut problems)),
                Out::Done(bytes) => {
                    totals.done(bytes);
                    bar.inc(bytes);
                    Ok(())
                }
            };
            if let Err(e) = step {
                failure = Some(e);
            }
        },
    )?;
    bar.finish_and_clear();
    if let Some(e) = failure {
        return Err(e).context("writing output");
    }
    writer.finish()?;
    problems.finish().context("writing the --errors file")?;
    if !args.quiet {
        totals.print(started.elapsed());
    }
    Ok(if totals.files == totals.unreadable {
        exit::FAILED
    } else {
        exit::OK
    })
}

fn scan_options(args: &Args, threads: Option<usize>) -> ScanOptions {
    ScanOptions {
        algorithms: Algorithms {
            md5: args.md5,
            sha1: args.sha1,
        },
        max_scan_size: args.max_size,
        timeout: (args.timeout > 0).then(|| Duration::from_secs(args.timeout)),
        follow_symlinks: args.follow_symlinks,
        zip_depth: args.zip_depth,
        zip_max_total: args.zip_max_total,
        zip_max_members: args.zip_max_members,
        max_offsets: args.max_offsets,
        threads: threads.unwrap_or(0),
        ..ScanOptions::default()
    }
}

fn load_rules(args: &Args, problems: &mut ProblemLog) -> anyhow::Result<Option<CompiledRules>> {
    if args.no_rules {
        return Ok(None);
    }
    let mut sources = if args.rules.is_empty() || args.builtin {
        RuleSources::builtin()
    } else {
        RuleSources::new()
    };
    for path in &args.rules {
        sources.add_path(path)?;
    }
    let cache_dir = match (&args.rule_cache, args.no_rule_cache) {
        (_, true) => None,
        (Some(dir), false) => Some(dir.clone()),
        (None, false) => mirt_yara::default_cache_dir(),
    };
    let opts = CompileOptions {
        skip_bad_rules: args.skip_bad_rules,
        cache_dir,
    };
    let started = Instant::now();
    let compiled = mirt_yara::compile(&sources, &opts).context("loading YARA rules")?;
    for bad in compiled.skipped() {
        if !args.quiet {
            eprintln!("{} rule file skipped: {bad}", style::warning_label());
        }
        problems
            .write(&bad.to_problem())
            .context("writing the --errors file")?;
    }
    if !args.quiet {
        if let Some(why) = compiled.cache_problem() {
            eprintln!("{} {why}", style::warning_label());
        }
        eprintln!(
            "{} {} rules from {} files ({} skipped), {} in {:.1} s",
            style::bold("rules:"),
            compiled.rule_count(),
            compiled.files() - distinct_files(&compiled),
            distinct_files(&compiled),
            if compiled.from_cache() {
                "loaded from cache"
            } else {
                "compiled"
            },
            started.elapsed().as_secs_f64()
        );
    }
    Ok(Some(compiled))
}

fn distinct_files(compiled: &CompiledRules) -> usize {
    let files: std::collections::BTreeSet<_> = compiled.skipped().iter().map(|e| &e.path).collect();
    files.len()
}

fn load_lists(
    args: &Args,
    engine: &mut Engine<'_>,
    problems: &mut ProblemLog,
) -> anyhow::Result<()> {
    for (paths, bad) in [(&args.bad_hashes, true), (&args.known_good, false)] {
        for path in paths {
            let (list, unread) = HashList::load(path)?;
            if !args.quiet {
                eprintln!(
                    "{} {} hashes from {}{}",
                    style::bold(if bad { "bad hashes:" } else { "known good:" }),
                    list.len(),
                    path.display(),
                    if unread.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({} lines without a hash, listed with --errors)",
                            unread.len()
                        )
                    }
                );
            }
            for p in &unread {
                problems.write(p).context("writing the --errors file")?;
            }
            if list.is_empty() {
                anyhow::bail!("{}: no hashes found", path.display());
            }
            if bad {
                engine.bad_hashes(list);
            } else {
                engine.known_good(list);
            }
        }
    }
    Ok(())
}

fn report(args: &Args, problem: &Problem, log: &mut ProblemLog) -> anyhow::Result<()> {
    if !args.quiet {
        eprintln!("{} {problem}", style::warning_label());
    }
    log.write(problem).context("writing the --errors file")
}

/// What one record adds to the summary (computed on the workers).
#[derive(Default)]
struct Tally {
    status: Option<ScanStatus>,
    matched: bool,
    rules: u64,
    bad: bool,
}

impl Tally {
    fn of(rec: &FileRecord) -> Self {
        Tally {
            status: Some(rec.scan),
            matched: !rec.matches.is_empty(),
            rules: rec.matches.len() as u64,
            bad: !rec.bad_hashes.is_empty(),
        }
    }
}

#[derive(Default)]
struct Totals {
    files: u64,
    records: u64,
    bytes: u64,
    scanned: u64,
    hash_only: u64,
    known_good: u64,
    too_large: u64,
    timeouts: u64,
    errors: u64,
    unreadable: u64,
    archive_limit: u64,
    matched: u64,
    rule_matches: u64,
    bad: u64,
    symlinks: u64,
    special: u64,
    unlisted: u64,
}

impl Totals {
    fn done(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }

    fn add(&mut self, t: &Tally) {
        self.records += 1;
        match t.status {
            Some(ScanStatus::Scanned) => self.scanned += 1,
            Some(ScanStatus::HashOnly) => self.hash_only += 1,
            Some(ScanStatus::KnownGood) => self.known_good += 1,
            Some(ScanStatus::TooLarge) => self.too_large += 1,
            Some(ScanStatus::Timeout) => self.timeouts += 1,
            Some(ScanStatus::Error) => self.errors += 1,
            Some(ScanStatus::Unreadable) => self.unreadable += 1,
            Some(ScanStatus::ArchiveLimit) => self.archive_limit += 1,
            None => {}
        }
        self.matched += u64::from(t.matched);
        self.rule_matches += t.rules;
        self.bad += u64::from(t.bad);
    }

    fn print(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64().max(1e-6);
        let mib = self.bytes as f64 / (1024.0 * 1024.0);
        eprintln!(
            "{} {} files ({:.1} MiB) and {} zip members in {:.1} s ({:.0} MiB/s)",
            style::bold("scan:"),
            self.files,
            mib,
            self.records - self.files,
            secs,
            mib / secs
        );
        eprintln!(
            "      {} scanned, {} hashed only, {} known good, {} too large, {} timed out, {} scan errors, {} unreadable, {} over archive limits",
            self.scanned,
            self.hash_only,
            self.known_good,
            self.too_large,
            self.timeouts,
            self.errors,
            self.unreadable,
            self.archive_limit
        );
        eprintln!(
            "      {} symlinks and {} special files not read, {} paths not listable",
            self.symlinks, self.special, self.unlisted
        );
        let findings = format!(
            "{} files matched ({} rule matches), {} with a bad hash",
            self.matched, self.rule_matches, self.bad
        );
        let text = if self.matched + self.bad > 0 {
            style::bold(&findings)
        } else {
            findings
        };
        eprintln!("{} {text}", style::bold("found:"));
    }
}

impl Tabular for FileRecord {
    const COLUMNS: &'static [&'static str] = &[
        "path",
        "size",
        "filetype",
        "scan",
        "matches",
        "bad_hashes",
        "sha256",
        "blake3",
        "md5",
        "sha1",
        "modified",
        "reason",
    ];
    const WIDTHS: &'static [usize] = &[48, 10, 6, 10, 36, 16, 64, 64, 32, 40, 27, 40];

    fn cells(&self) -> Vec<String> {
        let hex = |alg| {
            self.hashes
                .as_ref()
                .and_then(|d| d.get(alg))
                .map(mirt_hash::to_hex)
                .unwrap_or_default()
        };
        let matches: Vec<String> = self
            .matches
            .iter()
            .map(|m| format!("{}:{}", m.namespace, m.rule))
            .collect();
        let bad: Vec<String> = self
            .bad_hashes
            .iter()
            .map(|h| format!("{}:{}", h.list, h.algorithm))
            .collect();
        vec![
            self.path.clone(),
            self.size.to_string(),
            self.filetype.to_string(),
            self.scan.as_str().to_string(),
            matches.join(" "),
            bad.join(" "),
            hex(mirt_hash::Algorithm::Sha256),
            hex(mirt_hash::Algorithm::Blake3),
            hex(mirt_hash::Algorithm::Md5),
            hex(mirt_hash::Algorithm::Sha1),
            self.modified.map(|t| t.to_string()).unwrap_or_default(),
            self.reason.clone().unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512").unwrap(), 512);
        assert_eq!(parse_size("64K").unwrap(), 65536);
        assert_eq!(parse_size("256m").unwrap(), 256 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert!(parse_size("1X").is_err());
        assert!(parse_size("lots").is_err());
    }
}
