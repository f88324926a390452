//! `mirt keys`: the examiner's signing key and the keys they trust.

use crate::exit::{self, Outcome};
use crate::style;
use anyhow::Context;
use mirt_custody::keys::KeyId;
use mirt_custody::{KeyDir, PublicKey, SigningKey, TrustStore};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Manage Ed25519 signing keys and trusted public keys.
///
/// Bundles and custody entries are signed with your key; `mirt bundle
/// verify` accepts only signatures by keys in your trusted list. Keys live
/// in the key folder (--keys-dir, $MIRT_KEYS_DIR, or ~/.config/mirt).
#[derive(clap::Args)]
#[command(after_long_help = "\
Examples:
  mirt keys generate --name \"Erika Mustermann\" --passphrase
  mirt keys trust \"mirt-ed25519 3q2+7w... Max Mustermann\"
  mirt keys trust colleague.pub
  mirt keys list --format table")]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Create your signing key (private file with mode 0600) and trust it.
    Generate(GenerateArgs),
    /// Add a public key (a `mirt-ed25519 ...` line or a file of them) to
    /// the trusted keys.
    Trust(TrustArgs),
    /// List your key and the trusted keys.
    List(ListArgs),
}

/// Where the keys are.
#[derive(clap::Args, Clone)]
pub struct KeysDirArg {
    /// Key folder (default: $XDG_CONFIG_HOME/mirt or ~/.config/mirt;
    /// %APPDATA%\mirt on Windows).
    #[arg(long, env = "MIRT_KEYS_DIR", value_name = "DIR", global = true)]
    pub keys_dir: Option<PathBuf>,
}

impl KeysDirArg {
    pub fn dir(&self) -> anyhow::Result<KeyDir> {
        if let Some(d) = &self.keys_dir {
            return Ok(KeyDir::new(d));
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .context("no key folder: set --keys-dir or MIRT_KEYS_DIR")?;
        Ok(KeyDir::new(base.join("mirt")))
    }
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Your name, stored with the key and shown with your signatures.
    #[arg(long, value_name = "NAME")]
    name: String,
    /// Protect the key file with a passphrase (asked on the terminal, or
    /// taken from $MIRT_KEY_PASSPHRASE).
    #[arg(long)]
    passphrase: bool,
    /// Write the key to FILE instead of the key folder's signing.key.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    dir: KeysDirArg,
}

#[derive(clap::Args)]
struct TrustArgs {
    /// A public key line (`mirt-ed25519 <base64> <name>`) or a file with
    /// such lines.
    #[arg(value_name = "KEY")]
    key: String,
    /// Name to record for the key (default: the name in the key line).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    #[command(flatten)]
    dir: KeysDirArg,
}

#[derive(clap::Args)]
struct ListArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ListFormat::Jsonl)]
    format: ListFormat,
    #[command(flatten)]
    dir: KeysDirArg,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ListFormat {
    Jsonl,
    Table,
}

pub fn exec(args: Args) -> Outcome {
    match args.command {
        Command::Generate(a) => generate(a),
        Command::Trust(a) => trust(a),
        Command::List(a) => list(a),
    }
}

fn generate(args: GenerateArgs) -> Outcome {
    let dir = args.dir.dir()?;
    dir.create()
        .with_context(|| format!("creating the key folder {}", dir.root().display()))?;
    let path = args.out.clone().unwrap_or_else(|| dir.signing_key());
    let passphrase = if args.passphrase {
        Some(new_passphrase()?)
    } else {
        None
    };
    let key = SigningKey::generate(&args.name)?;
    key.save(&path, passphrase)?;
    let public = key.public();
    let pub_path = match &args.out {
        Some(out) => {
            let mut p = out.clone().into_os_string();
            p.push(".pub");
            PathBuf::from(p)
        }
        None => dir.signing_pub(),
    };
    std::fs::write(&pub_path, format!("{}\n", public.to_line()))
        .with_context(|| format!("writing {}", pub_path.display()))?;
    let mut trusted = TrustStore::load(&dir.trusted())?;
    trusted.add(public.clone());
    trusted.save(&dir.trusted())?;
    println!("{}", public.to_line());
    eprintln!(
        "{} key {} for {} written to {} (public key: {}); it is trusted here. Give the public \
         key line above to whoever verifies your bundles.",
        style::bold("keys:"),
        public.id(),
        public.name(),
        path.display(),
        pub_path.display()
    );
    Ok(exit::OK)
}

fn trust(args: TrustArgs) -> Outcome {
    let dir = args.dir.dir()?;
    dir.create()?;
    let lines: Vec<String> = if Path::new(&args.key).is_file() {
        std::fs::read_to_string(&args.key)
            .with_context(|| format!("reading {}", args.key))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect()
    } else {
        vec![args.key.clone()]
    };
    anyhow::ensure!(!lines.is_empty(), "no public key in {}", args.key);
    let mut trusted = TrustStore::load(&dir.trusted())?;
    for line in lines {
        let key = PublicKey::parse(&line).map_err(|e| anyhow::anyhow!("{e}: {line:?}"))?;
        let key = match &args.name {
            Some(n) => rename(&key, n)?,
            None => key,
        };
        let new = trusted.add(key.clone());
        eprintln!(
            "{} {} {} ({})",
            style::bold("keys:"),
            if new {
                "now trusting"
            } else {
                "already trusted:"
            },
            key.id(),
            key.name()
        );
    }
    trusted.save(&dir.trusted())?;
    Ok(exit::OK)
}

fn rename(key: &PublicKey, name: &str) -> anyhow::Result<PublicKey> {
    let line = format!("mirt-ed25519 {} {name}", key.to_base64());
    PublicKey::parse(&line).map_err(|e| anyhow::anyhow!(e))
}

#[derive(serde::Serialize)]
struct Row {
    key_id: String,
    name: String,
    own: bool,
    trusted: bool,
    public_key: String,
}

fn list(args: ListArgs) -> Outcome {
    let dir = args.dir.dir()?;
    let trusted = TrustStore::load(&dir.trusted())?;
    let own: Option<PublicKey> = std::fs::read_to_string(dir.signing_pub())
        .ok()
        .and_then(|t| PublicKey::parse(t.trim()).ok());
    let own_id: Option<KeyId> = own.as_ref().map(PublicKey::id);
    let mut rows: Vec<Row> = Vec::new();
    if let Some(k) = own.as_ref().filter(|k| !trusted.contains(k)) {
        rows.push(row(k, true, false));
    }
    for k in trusted.keys() {
        rows.push(row(k, own_id.as_ref() == Some(&k.id()), true));
    }
    match args.format {
        ListFormat::Jsonl => {
            for r in &rows {
                println!("{}", serde_json::to_string(r)?);
            }
        }
        ListFormat::Table => {
            println!("{:<16}  {:<4}  {:<7}  NAME", "KEY ID", "OWN", "TRUSTED");
            for r in &rows {
                println!(
                    "{:<16}  {:<4}  {:<7}  {}",
                    r.key_id,
                    if r.own { "yes" } else { "" },
                    if r.trusted { "yes" } else { "no" },
                    r.name
                );
            }
        }
    }
    if rows.is_empty() {
        eprintln!(
            "{} no keys in {}: create yours with `mirt keys generate --name ...`",
            style::bold("keys:"),
            dir.root().display()
        );
    }
    Ok(exit::OK)
}

fn row(k: &PublicKey, own: bool, trusted: bool) -> Row {
    Row {
        key_id: k.id().to_string(),
        name: k.name().to_string(),
        own,
        trusted,
        public_key: k.to_line(),
    }
}

/// The passphrase from $MIRT_KEY_PASSPHRASE, or asked on the terminal.
pub fn passphrase_from_user(prompt: &str) -> Option<mirt_custody::SecretString> {
    if let Ok(p) = std::env::var("MIRT_KEY_PASSPHRASE") {
        return Some(p.into());
    }
    if !std::io::stdin().is_terminal() {
        return None;
    }
    rpassword::prompt_password(prompt).ok().map(Into::into)
}

fn new_passphrase() -> anyhow::Result<mirt_custody::SecretString> {
    if let Ok(p) = std::env::var("MIRT_KEY_PASSPHRASE") {
        anyhow::ensure!(!p.is_empty(), "MIRT_KEY_PASSPHRASE is empty");
        return Ok(p.into());
    }
    anyhow::ensure!(
        std::io::stdin().is_terminal(),
        "--passphrase needs a terminal to ask on, or MIRT_KEY_PASSPHRASE"
    );
    let a = rpassword::prompt_password("Passphrase for the new key: ")?;
    let b = rpassword::prompt_password("Again: ")?;
    anyhow::ensure!(a == b, "the passphrases differ");
    anyhow::ensure!(
        a.chars().count() >= 8,
        "use a passphrase of at least 8 characters"
    );
    Ok(a.into())
}

/// Loads the signing key at `path` (default: the key folder's), asking for
/// its passphrase if it has one.
pub fn load_signing_key(path: Option<&Path>, dir: &KeysDirArg) -> anyhow::Result<SigningKey> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => dir.dir()?.signing_key(),
    };
    if !path.exists() {
        anyhow::bail!(
            "no signing key at {}: create one with `mirt keys generate --name \"Your Name\"`, or \
             give --key",
            path.display()
        );
    }
    let prompt = format!("Passphrase for {}: ", path.display());
    Ok(SigningKey::load(&path, || passphrase_from_user(&prompt))?)
}

/// The trusted keys at `path` (default: the key folder's).
pub fn load_trust(path: Option<&Path>, dir: &KeysDirArg) -> anyhow::Result<TrustStore> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => dir.dir()?.trusted(),
    };
    Ok(TrustStore::load(&path)?)
}
