//! `mirt`: the field toolkit of a Mobile Incident Response Team.
//!
//! This binary only parses arguments, wires the library crates together,
//! draws progress and formats output. Each subcommand lives in its own file
//! under `commands/`, with a clap definition and an `exec` function.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod alloc;
mod commands;
mod exit;
mod output;
mod progress;
mod style;

const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("MIRT_GIT_COMMIT"),
    ")"
);

/// Field toolkit for incident responders: event logs, Sigma hunting, YARA
/// scanning and a signed chain of custody, in one static binary.
#[derive(Parser)]
#[command(name = "mirt", version = VERSION, propagate_version = true)]
#[command(after_long_help = exit::EXIT_CODES_HELP)]
struct Cli {
    /// Worker threads (default: one per CPU core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Evtx(commands::evtx::Args),
    Logs(commands::logs::Args),
    Bundle(commands::bundle::Args),
    Keys(commands::keys::Args),
    Custody(commands::custody::Args),
    Hunt(commands::hunt::Args),
    Scan(commands::scan::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // `--help` and `--version` land here too, and are not errors.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    if let Some(n) = cli.threads {
        // Fails only if a pool was built already, which does not happen here.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let result = match cli.command {
        Command::Evtx(args) => commands::evtx::exec(args, cli.threads),
        Command::Logs(args) => commands::logs::exec(args, cli.threads),
        Command::Bundle(args) => commands::bundle::exec(args),
        Command::Keys(args) => commands::keys::exec(args),
        Command::Custody(args) => commands::custody::exec(args),
        Command::Hunt(args) => commands::hunt::exec(args, cli.threads),
        Command::Scan(args) => commands::scan::exec(args, cli.threads),
    };
    exit::finish(result)
}
