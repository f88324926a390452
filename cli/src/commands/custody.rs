//! `mirt custody`: extend a bundle's chain of custody.

use super::keys::{KeysDirArg, load_signing_key};
use crate::exit::{self, Outcome};
use crate::style;
use jiff::Timestamp;
use mirt_custody::{Event, NewEntry};
use std::path::PathBuf;

/// Record what happens to a bundle in its custody log.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    Add(AddArgs),
}

/// Append a signed entry to a bundle's custody log, without rewriting the
/// evidence (for an encrypted bundle: to its sidecar log).
///
/// The entry is signed with your key and chained to the entry before it.
/// The new head (sha256 of the new line) is printed: keep it, e.g. in the
/// transfer receipt, and check it later with `bundle verify --custody-head`.
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt custody add dc01.mirt.zip --event transferred --from \"Erika Mustermann\" \\
      --to \"CERT Landesamt\" --purpose \"analysis\" --place \"Rathaus Musterstadt\"
  mirt custody add dc01.mirt.zip.age --event received --from \"Erika Mustermann\" --to \"CERT\"
  mirt custody add dc01.mirt.zip --event verified --note \"mirt bundle verify: OK\"")]
pub struct AddArgs {
    /// The bundle (NAME.mirt.zip or NAME.mirt.zip.age).
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    /// What happened.
    #[arg(long, value_enum)]
    event: EventArg,
    /// Handed over by.
    #[arg(long, value_name = "WHO")]
    from: Option<String>,
    /// Handed over to.
    #[arg(long, value_name = "WHO")]
    to: Option<String>,
    /// Why.
    #[arg(long, value_name = "TEXT")]
    purpose: Option<String>,
    /// Where.
    #[arg(long, value_name = "TEXT")]
    place: Option<String>,
    /// Free text.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Who (default: the name stored with your key).
    #[arg(long, value_name = "NAME")]
    actor: Option<String>,
    /// When (UTC; default: now).
    #[arg(long, value_parser = super::bundle::parse_time, value_name = "TIME")]
    time: Option<Timestamp>,
    /// Signing key (default: signing.key in the key folder).
    #[arg(long, env = "MIRT_KEY", value_name = "FILE")]
    key: Option<PathBuf>,
    #[command(flatten)]
    dir: KeysDirArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum EventArg {
    Transferred,
    Received,
    Verified,
    Opened,
}

pub fn exec(args: Args) -> Outcome {
    match args.command {
        Command::Add(a) => add(a),
    }
}

fn add(args: AddArgs) -> Outcome {
    let key = load_signing_key(args.key.as_deref(), &args.dir)?;
    let event = match args.event {
        EventArg::Transferred => Event::Transferred,
        EventArg::Received => Event::Received,
        EventArg::Verified => Event::Verified,
        EventArg::Opened => Event::Opened,
    };
    let entry = NewEntry {
        event,
        time: args.time.unwrap_or_else(Timestamp::now),
        actor: args.actor.clone().unwrap_or_default(),
        place: args.place,
        purpose: args.purpose,
        from: args.from,
        to: args.to,
        note: args.note,
        ciphertext: None,
    };
    let done = mirt_custody::append(&args.bundle, entry, &key)?;
    print!("{}", String::from_utf8_lossy(&done.line));
    eprintln!(
        "{} entry {} ({}) appended to {}; new head {}",
        style::bold("custody:"),
        done.seq,
        event.as_str(),
        done.file.display(),
        done.head
    );
    Ok(exit::OK)
}
