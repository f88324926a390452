//! One module per subcommand, each with its clap `Args` and an `exec`.

pub mod evtx;
pub mod logs;
