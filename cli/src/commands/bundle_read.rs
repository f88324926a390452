//! `mirt bundle verify | show | extract`.

use super::keys::{KeysDirArg, load_trust};
use crate::exit::{self, Outcome};
use crate::style;
use anyhow::Context;
use mirt_custody::{Identities, Report, Summary, VerifyOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Check a bundle: every member's hash, the manifest, the root, the
/// signature against your trusted keys, and the custody chain.
///
/// Says exactly what is wrong (which member, which custody entry) and exits
/// with 0 only when everything holds. An encrypted bundle (.age) is checked
/// against its sidecar; its contents need the age identity.
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt bundle verify dc01.mirt.zip
  mirt bundle verify dc01.mirt.zip.age --identity ~/.config/age/cert.key
  mirt bundle verify dc01.mirt.zip --trusted cert-trusted.keys --format table
  mirt bundle verify dc01.mirt.zip --custody-head sha256:3b1f...   # head from a receipt")]
pub struct VerifyArgs {
    /// The bundle (NAME.mirt.zip or NAME.mirt.zip.age).
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    /// age identity file to decrypt an encrypted bundle (repeatable).
    #[arg(long = "identity", short = 'i', value_name = "FILE")]
    identities: Vec<PathBuf>,
    /// Trusted keys file (default: trusted.keys in the key folder).
    #[arg(long, value_name = "FILE")]
    trusted: Option<PathBuf>,
    /// The custody log must end in this head (sha256:...), e.g. from a
    /// receipt: catches entries cut from its end.
    #[arg(long, value_name = "HASH")]
    custody_head: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ReportFormat::Json)]
    format: ReportFormat,
    #[command(flatten)]
    dir: KeysDirArg,
    /// Do not print the summary and problems on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    /// One JSON object (on one line).
    Json,
    /// Text for reading.
    Table,
}

/// Print a bundle's collection data, manifest summary and custody history
/// (without hashing the evidence: use `verify` for that).
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt bundle show dc01.mirt.zip
  mirt bundle show dc01.mirt.zip --files
  mirt bundle show dc01.mirt.zip --format json | jq .custody")]
pub struct ShowArgs {
    /// The bundle.
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    /// age identity file for an encrypted bundle (repeatable).
    #[arg(long = "identity", short = 'i', value_name = "FILE")]
    identities: Vec<PathBuf>,
    /// Output format (default: text on a terminal, JSON otherwise).
    #[arg(long, short = 'f', value_enum)]
    format: Option<ReportFormat>,
    /// List every file of the manifest (text format).
    #[arg(long)]
    files: bool,
}

/// Extract a bundle into a new folder, checking every member as it is
/// written. Refuses absolute paths, `..` and links before writing anything.
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt bundle extract dc01.mirt.zip -o /cases/42/dc01
  mirt bundle extract dc01.mirt.zip.age -i cert.key -o /cases/42/dc01")]
pub struct ExtractArgs {
    /// The bundle.
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    /// Target folder (created; must be empty if it exists).
    #[arg(long, short = 'o', value_name = "DIR")]
    output: PathBuf,
    /// age identity file for an encrypted bundle (repeatable).
    #[arg(long = "identity", short = 'i', value_name = "FILE")]
    identities: Vec<PathBuf>,
    /// Do not print the summary on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

fn identities(paths: &[PathBuf]) -> anyhow::Result<Identities> {
    let mut all = Identities::new();
    for p in paths {
        all.extend(mirt_custody::load_identities(p)?);
    }
    Ok(all)
}

pub fn verify(args: VerifyArgs) -> Outcome {
    let trust = load_trust(args.trusted.as_deref(), &args.dir)?;
    let ids = identities(&args.identities)?;
    let opts = VerifyOptions {
        trust: &trust,
        custody_head: args.custody_head.as_deref(),
    };
    let size = std::fs::metadata(&args.bundle)
        .with_context(|| format!("cannot read {}", args.bundle.display()))?
        .len();
    let bar = crate::progress::bar(size, "verify", true);
    let b = bar.clone();
    let report = mirt_custody::verify_path(&args.bundle, &ids, &opts, &mut |n| b.inc(n))?;
    bar.finish_and_clear();
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string(&VerifyOut::new(&args.bundle, &report))?
        )?,
        ReportFormat::Table => print_verify(&mut out, &args.bundle, &report)?,
    }
    if !args.quiet {
        summarize_verify(&args.bundle, &report);
    }
    Ok(if report.ok() { exit::OK } else { exit::FAILED })
}

#[derive(serde::Serialize)]
struct VerifyOut<'a> {
    bundle: &'a Path,
    ok: bool,
    root: Option<&'a str>,
    signer: Option<&'a str>,
    signer_trusted: bool,
    members: usize,
    bytes: u64,
    files: usize,
    custody_entries: usize,
    custody_head: Option<&'a str>,
    findings: &'a [mirt_custody::Finding],
}

impl<'a> VerifyOut<'a> {
    fn new(bundle: &'a Path, r: &'a Report) -> Self {
        VerifyOut {
            bundle,
            ok: r.ok(),
            root: r.root.as_deref(),
            signer: r.signer.as_deref(),
            signer_trusted: r.signer_trusted,
            members: r.members,
            bytes: r.bytes,
            files: r.manifest.len(),
            custody_entries: r.custody.len(),
            custody_head: r.custody_head.as_deref(),
            findings: &r.findings,
        }
    }
}

fn print_verify(out: &mut impl Write, bundle: &Path, r: &Report) -> std::io::Result<()> {
    writeln!(out, "bundle:   {}", bundle.display())?;
    writeln!(out, "result:   {}", if r.ok() { "OK" } else { "FAILED" })?;
    writeln!(out, "root:     {}", r.root.as_deref().unwrap_or("-"))?;
    writeln!(
        out,
        "signer:   {}{}",
        r.signer.as_deref().unwrap_or("-"),
        if r.signer_trusted { " (trusted)" } else { "" }
    )?;
    writeln!(out, "members:  {} ({} bytes)", r.members, r.bytes)?;
    writeln!(out, "custody:  {} entries", r.custody.len())?;
    for f in &r.findings {
        writeln!(out, "problem:  {f}")?;
    }
    Ok(())
}

fn summarize_verify(bundle: &Path, r: &Report) {
    for f in &r.findings {
        eprintln!("{} {f}", style::error_label());
    }
    if r.ok() {
        eprintln!(
            "{} {} is intact: {} members, {} bytes, signed by {} (trusted), {} custody entries",
            style::bold("verify: OK"),
            bundle.display(),
            r.members,
            r.bytes,
            r.signer.as_deref().unwrap_or("-"),
            r.custody.len()
        );
    } else {
        eprintln!(
            "{} {}: {} problem(s)",
            style::bold("verify: FAILED"),
            bundle.display(),
            r.findings.len()
        );
    }
}

pub fn show(args: ShowArgs) -> Outcome {
    let ids = identities(&args.identities)?;
    let s = mirt_custody::summary(&args.bundle, &ids)?;
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        ReportFormat::Table
    } else {
        ReportFormat::Json
    });
    let mut out = std::io::stdout().lock();
    match format {
        ReportFormat::Json => writeln!(out, "{}", serde_json::to_string(&s)?)?,
        ReportFormat::Table => print_summary(&mut out, &s, args.files)?,
    }
    Ok(exit::OK)
}

fn print_summary(out: &mut impl Write, s: &Summary, files: bool) -> std::io::Result<()> {
    writeln!(
        out,
        "bundle:       {} ({} bytes{})",
        s.path.display(),
        s.file_size,
        if s.encrypted { ", encrypted" } else { "" }
    )?;
    writeln!(out, "root:         {}", s.root.as_deref().unwrap_or("-"))?;
    if let Some(c) = &s.collection {
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        writeln!(out, "case:         {}", c.case_id)?;
        writeln!(out, "municipality: {}", c.municipality)?;
        writeln!(out, "hosts:        {}", c.hosts.join(", "))?;
        writeln!(out, "examiner:     {}", c.examiner)?;
        writeln!(out, "witness:      {}", opt(&c.witness))?;
        writeln!(out, "place:        {}", opt(&c.place))?;
        writeln!(
            out,
            "collected:    {} to {} ({})",
            c.started, c.ended, c.clock_source
        )?;
        writeln!(
            out,
            "tlp:          {}",
            serde_json::to_string(&c.tlp)
                .unwrap_or_default()
                .trim_matches('"')
        )?;
        writeln!(out, "legal basis:  {}", opt(&c.legal_basis))?;
        writeln!(out, "tool:         {} {}", c.tool.name, c.tool.version)?;
    }
    let bytes: u64 = s.manifest.iter().map(|e| e.size).sum();
    let with_errors = s.manifest.iter().filter(|e| !e.errors.is_empty()).count();
    writeln!(
        out,
        "manifest:     {} entries, {bytes} bytes, {with_errors} with errors",
        s.manifest.len()
    )?;
    if files {
        for e in &s.manifest {
            writeln!(
                out,
                "  {:>12}  {}  {}",
                e.size,
                e.sha256.as_deref().unwrap_or("-"),
                e.path
            )?;
        }
    }
    writeln!(out, "custody:")?;
    for e in &s.custody {
        let mut line = format!(
            "  #{} {} {} by {} (key {})",
            e.seq,
            e.time,
            e.event.as_str(),
            e.actor,
            e.key_id
        );
        for (label, v) in [
            ("from", &e.from),
            ("to", &e.to),
            ("at", &e.place),
            ("for", &e.purpose),
        ] {
            if let Some(v) = v {
                line.push_str(&format!(", {label} {v}"));
            }
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

pub fn extract(args: ExtractArgs) -> Outcome {
    let ids = identities(&args.identities)?;
    let done = mirt_custody::extract(&args.bundle, &ids, &args.output)?;
    println!(
        "{}",
        serde_json::json!({
            "bundle": args.bundle,
            "output": args.output,
            "files": done.files,
            "bytes": done.bytes,
            "ok": done.findings.is_empty(),
            "findings": done.findings,
        })
    );
    if !args.quiet {
        for f in &done.findings {
            eprintln!("{} {f}", style::error_label());
        }
        eprintln!(
            "{} {} files, {} bytes into {}{}",
            style::bold("extract:"),
            done.files,
            done.bytes,
            args.output.display(),
            if done.findings.is_empty() {
                "; all match the manifest"
            } else {
                "; SOME DO NOT MATCH"
            }
        );
    }
    Ok(if done.findings.is_empty() {
        exit::OK
    } else {
        exit::FAILED
    })
}
