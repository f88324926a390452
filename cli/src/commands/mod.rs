//! One module per subcommand, each with its clap `Args` and an `exec`.

pub mod bundle;
mod bundle_read;
pub mod custody;
pub mod evtx;
pub mod logs;
pub mod hunt;
pub mod keys;
