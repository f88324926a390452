//! Writes the project's EVTX fixtures.
//!
//! `cargo run -p mirt-testkit --bin mirt-fixtures -- [OUT_DIR]` (default:
//! the workspace's `fixtures/evtx`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let dir = match (args.next(), args.next()) {
        (Some(flag), None) if flag == "-h" || flag == "--help" => {
            println!(
                "usage: mirt-fixtures [OUT_DIR]\n\nWrites the EVTX fixtures (default: the workspace's fixtures/evtx)."
            );
            return ExitCode::SUCCESS;
        }
        (Some(dir), None) => dir.into(),
        (None, _) => mirt_testkit::fixtures::dir(),
        _ => {
            eprintln!("usage: mirt-fixtures [OUT_DIR]");
            return ExitCode::from(2);
        }
    };
    match mirt_testkit::fixtures::write_all(&dir) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mirt-fixtures: {e}");
            ExitCode::FAILURE
        }
    }
}
