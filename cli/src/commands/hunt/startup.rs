//! The rules load on their own thread while the first event logs are
//! read: loading a large rule set (thousands of YAML files) leaves a core
//! idle in its serial parts, and the readers can use it. Until the set is
//! ready, what the readers hand back waits here in order (events unmatched);
//! then it is matched in parallel and handed to the [`Hunter`] in the same
//! order, so output and errors are exactly those of loading first.

use super::{Args, Hunter, Out, detect};
use mirt_core::{Problem, ProblemKind};
use mirt_sigma::{RuleSet, RuleSetBuilder};
use rayon::prelude::*;
use std::sync::{Arc, OnceLock};
use std::thread::ScopedJoinHandle;

/// At most this many items wait for the rules: beyond it the reader waits
/// instead, so memory stays bounded whatever the evidence size.
const MAX_WAITING: usize = 32 * 1024;

/// The loader's result: the set is also published in the shared cell the
/// workers read.
pub type Loader<'s> = ScopedJoinHandle<'s, anyhow::Result<Arc<RuleSet>>>;

/// Compiles the rules of `builder` on a thread of `scope`, publishing the
/// set in `cell` for the workers as soon as it is built.
pub fn spawn<'s, 'e: 's>(
    scope: &'s std::thread::Scope<'s, 'e>,
    args: &'e Args,
    builder: RuleSetBuilder,
    cell: &Arc<OnceLock<Arc<RuleSet>>>,
) -> Loader<'s> {
    let cell = Arc::clone(cell);
    scope.spawn(move || {
        let set = Arc::new(super::rules::build(args, builder)?);
        let _ = cell.set(Arc::clone(&set));
        Ok(set)
    })
}

/// The hunt before and after its rules are ready.
pub enum Startup<'s, 'a> {
    Loading {
        args: &'a Args,
        loader: Loader<'s>,
        /// Problems found while looking for inputs, reported first.
        found: Vec<Problem>,
        waiting: Vec<Out>,
    },
    Ready(Hunter<'a>),
    /// Loading failed; the error was returned once.
    Failed,
}

impl<'s, 'a> Startup<'s, 'a> {
    pub fn new(args: &'a Args, loader: Loader<'s>, found: Vec<Problem>) -> Self {
        Startup::Loading {
            args,
            loader,
            found,
            waiting: Vec::new(),
        }
    }

    /// Takes one item of the readers, in order.
    pub fn accept(&mut self, out: Out) -> anyhow::Result<()> {
        if let Startup::Loading {
            loader, waiting, ..
        } = self
            && !loader.is_finished()
            && waiting.len() < MAX_WAITING
        {
            waiting.push(out);
            return Ok(());
        }
        self.hunter()?.accept(out)
    }

    /// The hunter, once the rules are loaded (waits for them).
    pub fn hunter(&mut self) -> anyhow::Result<&mut Hunter<'a>> {
        if matches!(self, Startup::Loading { .. })
            && let Startup::Loading {
                args,
                loader,
                found,
                waiting,
            } = std::mem::replace(self, Startup::Failed)
        {
            let set = loader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            *self = Startup::Ready(ready(args, set, &found, waiting)?);
        }
        match self {
            Startup::Ready(hunter) => Ok(hunter),
            _ => anyhow::bail!("the rules could not be loaded"),
        }
    }

    /// The hunter, for the rest of the run.
    pub fn into_hunter(mut self) -> anyhow::Result<Hunter<'a>> {
        self.hunter()?;
        match self {
            Startup::Ready(hunter) => Ok(hunter),
            _ => anyhow::bail!("the rules could not be loaded"),
        }
    }
}

/// Starts the hunter: the problems of input discovery first, then what
/// waited, matched in parallel.
fn ready<'a>(
    args: &'a Args,
    set: Arc<RuleSet>,
    found: &[Problem],
    waiting: Vec<Out>,
) -> anyhow::Result<Hunter<'a>> {
    let mut hunter = Hunter::new(args, Arc::clone(&set))?;
    for p in found {
        hunter.problem(p)?;
        if p.kind != ProblemKind::Skipped {
            hunter.tally.unreadable += 1;
        }
    }
    let matched: Vec<Out> = waiting
        .into_par_iter()
        .map(|out| match out {
            Out::Pending(event) => detect(&set, &event, args.format),
            other => other,
        })
        .collect();
    for out in matched {
        hunter.accept(out)?;
    }
    Ok(hunter)
}
