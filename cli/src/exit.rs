//! Exit codes, the same for every subcommand.

use std::process::ExitCode;

/// The run did its job. Damaged or unreadable inputs may have been
/// reported on stderr (and in `--errors`), but something was read.
pub const OK: u8 = 0;
/// Nothing at all could be read, or a check failed (`bundle verify`).
pub const FAILED: u8 = 1;
/// Bad command line (unknown option, missing argument): clap's code.
pub const USAGE: u8 = 2;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done; damaged or unreadable inputs, if any, were reported on stderr
  1  nothing could be read, or a verification failed
  2  bad command line";

/// What a subcommand returns: its exit code, or an error to print.
pub type Outcome = anyhow::Result<u8>;

/// Prints an error (unless it is a closed pipe, which is how `| head` ends
/// a run) and turns the outcome into the process exit code.
pub fn finish(result: Outcome) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(OK),
        Err(err) => {
            eprintln!("{} {err:#}", crate::style::error_label());
            ExitCode::from(FAILED)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_not_an_error() {
        let err = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("writing output");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
