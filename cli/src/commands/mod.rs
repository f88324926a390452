//! One module per subcommand, each with its clap `Args` and an `exec`.

pub mod bundle;
mod bundle_read;
pub mod custody;
pub mod evtx;
pub mod hunt;
pub mod keys;
pub mod logs;
pub mod scan;
