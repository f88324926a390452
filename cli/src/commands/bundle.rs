//! `mirt bundle`: seal evidence into a signed chain-of-custody bundle, and
//! verify, show and extract bundles.

use super::bundle_read;
use super::keys::{KeysDirArg, load_signing_key};
use crate::exit::{self, Outcome};
use crate::style;
use anyhow::Context;
use jiff::Timestamp;
use mirt_custody::zip::Method;
use mirt_custody::{
    BundleWriter, Collection, CreateOptions, EncryptedSeal, Event, NewEntry, Sink, Tlp, Tool,
};
use std::path::{Path, PathBuf};

/// Seal evidence into a signed, verifiable bundle (NAME.mirt.zip), and
/// check, show or extract bundles.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Create(Box<CreateArgs>),
    Verify(bundle_read::VerifyArgs),
    Show(bundle_read::ShowArgs),
    Extract(bundle_read::ExtractArgs),
}

/// Copy evidence into a new bundle, hashing every file as it is read.
///
/// Every file is read once (never whole into memory; on Linux without
/// changing its access time), stored byte for byte (or compressed with
/// --compression), and listed in manifest.jsonl with its original path,
/// size, times, BLAKE3 and SHA-256. Files that cannot be read are listed
/// with the reason. The root hash over collection.json and the manifest is
/// signed with your key, and the custody log starts with a signed `sealed`
/// entry. The bundle is written under a temporary name and renamed at the
/// end: a failed run leaves no bundle.
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt bundle create --case CERT-2024-0042 --examiner \"Erika Mustermann\" \\
      --municipality Musterstadt --witness \"Max Mustermann\" --place \"Rathaus, Serverraum\" \\
      --host RATHAUS-DC01 --tlp amber collected/ -o /media/usb/dc01.mirt.zip
  mirt bundle create --case C1 --examiner E --municipality M evidence/ \\
      --results findings.jsonl --encrypt-to age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p \\
      -o case.mirt.zip            # writes case.mirt.zip.age and case.mirt.zip.age.custody.jsonl
  mirt bundle create ... --started 2024-03-01T09:00:00Z --ended 2024-03-01T11:00:00Z   # reproducible")]
pub struct CreateArgs {
    /// Evidence files and folders (folders are read recursively; links are
    /// recorded, not followed).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The bundle to write (NAME.mirt.zip; with --encrypt-to, NAME.mirt.zip.age).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: PathBuf,
    /// Case or incident id.
    #[arg(long = "case", value_name = "ID")]
    case_id: String,
    /// Who collected the evidence.
    #[arg(long, value_name = "NAME")]
    examiner: String,
    /// The municipality (or organisation) the evidence comes from.
    #[arg(long, value_name = "NAME")]
    municipality: String,
    /// Who witnessed the collection.
    #[arg(long, value_name = "NAME")]
    witness: Option<String>,
    /// Where the evidence was collected.
    #[arg(long, value_name = "TEXT")]
    place: Option<String>,
    /// Why it was collected.
    #[arg(long, value_name = "TEXT")]
    purpose: Option<String>,
    /// Host the evidence comes from (repeatable).
    #[arg(long = "host", value_name = "NAME")]
    hosts: Vec<String>,
    /// TLP 2.0 label: clear, green, amber, amber+strict, red.
    #[arg(long, default_value = "amber", value_name = "LABEL")]
    tlp: Tlp,
    /// Legal basis of the collection.
    #[arg(long, value_name = "TEXT")]
    legal_basis: Option<String>,
    /// Where the times come from and whether the clock was checked.
    #[arg(
        long,
        default_value = "system clock (not checked)",
        value_name = "TEXT"
    )]
    clock_source: String,
    /// Free-text notes for collection.json.
    #[arg(long, value_name = "TEXT")]
    notes: Option<String>,
    /// Result files or folders (findings, timeline, report) to store under
    /// results/ (repeatable).
    #[arg(long = "results", value_name = "PATH")]
    results: Vec<PathBuf>,
    /// Compression of evidence and results (metadata is always stored).
    #[arg(long, value_enum, default_value_t = Compression::Store)]
    compression: Compression,
    /// Also record MD5 and SHA-1 of every file (for legacy hash lists).
    #[arg(long)]
    legacy_hashes: bool,
    /// Encrypt the bundle with age to this recipient (age1...; repeatable).
    #[arg(long = "encrypt-to", value_name = "RECIPIENT")]
    encrypt_to: Vec<String>,
    /// Start of collection (UTC; default: now).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    started: Option<Timestamp>,
    /// End of collection (UTC; default: when the last file was read).
    #[arg(long, value_parser = parse_time, value_name = "TIME")]
    ended: Option<Timestamp>,
    /// Stop and write no bundle when a file cannot be read (default: list
    /// it in the manifest with the reason and go on).
    #[arg(long)]
    stop_on_read_error: bool,
    /// Replace an existing bundle.
    #[arg(long)]
    force: bool,
    /// Signing key (default: signing.key in the key folder).
    #[arg(long, env = "MIRT_KEY", value_name = "FILE")]
    key: Option<PathBuf>,
    #[command(flatten)]
    dir: KeysDirArg,
    /// Do not print the summary on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Compression {
    Store,
    Deflate,
    Zstd,
}

pub(crate) fn parse_time(s: &str) -> Result<Timestamp, String> {
    mirt_core::time::parse_user_time(s).map_err(|e| e.to_string())
}

pub fn exec(args: Args) -> Outcome {
    match args.command {
        Command::Create(a) => create(*a),
        Command::Verify(a) => bundle_read::verify(a),
        Command::Show(a) => bundle_read::show(a),
        Command::Extract(a) => bundle_read::extract(a),
    }
}

fn create(args: CreateArgs) -> Outcome {
    let started = args.started.unwrap_or_else(Timestamp::now);
    // Hashing the binary takes as long as some evidence: do it meanwhile.
    let own_hash = std::thread::spawn(binary_sha256);
    let recipients = args
        .encrypt_to
        .iter()
        .map(|r| mirt_custody::parse_recipient(r))
        .collect::<Result<Vec<_>, _>>()?;
    for p in args.paths.iter().chain(&args.results) {
        // A mistyped path must not give a bundle without its evidence.
        std::fs::symlink_metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
    }
    let out_path = output_path(&args.output, !recipients.is_empty());
    refuse_output_inside_evidence(&out_path, args.paths.iter().chain(&args.results))?;
    let key = load_signing_key(args.key.as_deref(), &args.dir)?;
    let method = match args.compression {
        Compression::Store => Method::Store,
        Compression::Deflate => Method::Deflate,
        Compression::Zstd => Method::Zstd,
    };
    let opts = CreateOptions {
        method,
        stop_on_read_error: args.stop_on_read_error,
        extra: mirt_hash::Algorithms {
            md5: args.legacy_hashes,
            sha1: args.legacy_hashes,
        },
        tool_version: crate::VERSION.to_string(),
    };
    let sink = if recipients.is_empty() {
        Sink::plain(&out_path, args.force)?
    } else {
        Sink::encrypted(&out_path, args.force, &recipients)?
    };
    let total = if args.quiet {
        0
    } else {
        count_bytes(&args.paths, &args.results)
    };
    let bar = crate::progress::bar(total, "bundle", true);
    let mut writer = BundleWriter::new(sink, &out_path, opts)?;
    let b = bar.clone();
    writer.on_progress(move |n| b.inc(n));
    writer.add_paths(&args.paths, false)?;
    writer.add_paths(&args.results, true)?;
    let ended = args.ended.unwrap_or_else(Timestamp::now);
    let own_hash = own_hash.join().ok().flatten();
    let collection = collection(&args, started, ended, method, own_hash);
    let (sink, sealed) = writer.finish(&collection, &key)?;
    bar.finish_and_clear();
    let root_bytes = format!("{}\n", sealed.root);
    let seal = (!recipients.is_empty()).then(|| EncryptedSeal {
        root_bytes: root_bytes.as_bytes(),
        recipients: args.encrypt_to.clone(),
        entry: NewEntry {
            event: Event::Encrypted,
            time: ended,
            actor: args.examiner.clone(),
            place: args.place.clone(),
            purpose: args.purpose.clone(),
            from: None,
            to: None,
            note: None,
            ciphertext: None,
        },
        key: &key,
    });
    sink.commit(&out_path, seal)
        .with_context(|| format!("finishing {}", out_path.display()))?;
    report(&args, &out_path, &sealed, !recipients.is_empty())?;
    Ok(exit::OK)
}

/// With encryption the file is NAME.mirt.zip.age.
fn output_path(output: &Path, encrypted: bool) -> PathBuf {
    if encrypted && output.extension().is_none_or(|e| e != "age") {
        let mut p = output.as_os_str().to_owned();
        p.push(".age");
        PathBuf::from(p)
    } else {
        output.to_path_buf()
    }
}

/// Writing into an evidence folder would change the evidence (and read the
/// bundle into itself).
fn refuse_output_inside_evidence<'a>(
    out: &Path,
    inputs: impl Iterator<Item = &'a PathBuf>,
) -> anyhow::Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = std::fs::canonicalize(dir)
        .with_context(|| format!("output folder {} does not exist", dir.display()))?;
    for input in inputs {
        let Ok(root) = std::fs::canonicalize(input) else {
            continue;
        };
        if root.is_dir() && dir.starts_with(&root) {
            anyhow::bail!(
                "the bundle would be written inside the evidence folder {}: write it elsewhere, \
                 evidence is never modified",
                input.display()
            );
        }
    }
    Ok(())
}

fn count_bytes(paths: &[PathBuf], results: &[PathBuf]) -> u64 {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return 0;
    }
    let sum = |roots: &[PathBuf]| -> u64 {
        roots
            .iter()
            .flat_map(|r| walkdir::WalkDir::new(r).follow_links(false))
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    };
    sum(paths) + sum(results)
}

fn collection(
    args: &CreateArgs,
    started: Timestamp,
    ended: Timestamp,
    method: Method,
    binary_sha256: Option<String>,
) -> Collection {
    Collection {
        format: mirt_custody::format::FORMAT_LINE.into(),
        case_id: args.case_id.clone(),
        municipality: args.municipality.clone(),
        hosts: args.hosts.clone(),
        examiner: args.examiner.clone(),
        witness: args.witness.clone(),
        place: args.place.clone(),
        purpose: args.purpose.clone(),
        started,
        ended,
        clock_source: args.clock_source.clone(),
        tlp: args.tlp,
        legal_basis: args.legal_basis.clone(),
        compression: method,
        notes: args.notes.clone(),
        tool: Tool {
            name: "mirt".into(),
            version: crate::VERSION.into(),
            binary_sha256,
            command_line: std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
        },
    }
}

/// SHA-256 of the running binary, so the bundle says which build made it.
fn binary_sha256() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let file = std::fs::File::open(exe).ok()?;
    let mut h = mirt_hash::MultiHasher::new(Default::default());
    h.update_reader(file).ok()?;
    Some(h.finalize().sha256_hex())
}

#[derive(serde::Serialize)]
struct Created<'a> {
    bundle: &'a Path,
    encrypted: bool,
    sidecar: Option<PathBuf>,
    root: &'a str,
    key_id: String,
    custody_head: &'a str,
    #[serde(flatten)]
    totals: &'a mirt_custody::Totals,
}

fn report(
    args: &CreateArgs,
    out: &Path,
    sealed: &mirt_custody::Sealed,
    encrypted: bool,
) -> anyhow::Result<()> {
    let line = Created {
        bundle: out,
        encrypted,
        sidecar: encrypted.then(|| mirt_custody::sidecar_path(out)),
        root: &sealed.root,
        key_id: sealed.key_id.to_string(),
        custody_head: &sealed.custody_head,
        totals: &sealed.totals,
    };
    println!("{}", serde_json::to_string(&line)?);
    if args.quiet {
        return Ok(());
    }
    for p in &sealed.problems {
        eprintln!(
            "{} {}: {}",
            style::warning_label(),
            p.path,
            p.errors.join("; ")
        );
    }
    let t = &sealed.totals;
    eprintln!(
        "{} {} files, {} bytes sealed in {} ({} partial, {} unread, {} links recorded); root {}",
        style::bold("bundle:"),
        t.files,
        t.bytes,
        out.display(),
        t.partial,
        t.unread,
        t.links,
        sealed.root
    );
    Ok(())
}
