//! The ordered parallel pipeline: each chunk is parsed and its events
//! mapped by the caller's function on the rayon pool, in one task (so an
//! event is allocated and freed on the same thread); results are handed to
//! the sink in file and record order. The reader knows each chunk's first
//! line number before the chunk is parsed (it counts newlines while it
//! dispatches), so events leave the worker complete.

use crate::summary::{FileSummary, Item};
use mirt_core::{Problem, ProblemKind};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, mpsc};

/// Counts of one chunk, summed into its file's summary.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub records: u64,
    pub events: u64,
    pub emitted: u64,
    pub skipped: u64,
    pub failed: u64,
    pub damaged: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, o: &Counts) {
        self.records += o.records;
        self.events += o.events;
        self.emitted += o.emitted;
        self.skipped += o.skipped;
        self.failed += o.failed;
        self.damaged += o.damaged;
    }
}

/// A batch of mapped events, or a problem (mapped later, in order, so that
/// only the first ones of a file are listed).
pub(crate) enum Slot<B> {
    Out(B),
    Problem(Box<Problem>),
}

/// What a worker makes of a chunk.
pub(crate) struct ChunkOut<B> {
    pub slots: Vec<Slot<B>>,
    /// Problems beyond the chunk's own cap, counted but not kept.
    pub problems_dropped: u64,
    pub counts: Counts,
}

impl<B> Default for ChunkOut<B> {
    fn default() -> Self {
        ChunkOut {
            slots: Vec::new(),
            problems_dropped: 0,
            counts: Counts::default(),
        }
    }
}

enum Pending<B> {
    Parsed(ChunkOut<B>),
    FileEnd(Box<FileSummary>),
    Problems(Vec<Problem>),
}

/// Per-file running totals while its chunks reach the sink in order.
#[derive(Default)]
struct FileRun {
    counts: Counts,
    problems_listed: u64,
    problems_omitted: u64,
}

pub(crate) struct Pipeline<B, M> {
    map: Arc<M>,
    inline: bool,
    max_in_flight: usize,
    max_problems: u64,
    tx: mpsc::Sender<(u64, ChunkOut<B>)>,
    rx: mpsc::Receiver<(u64, ChunkOut<B>)>,
    next_seq: u64,
    pending: BTreeMap<u64, Pending<B>>,
    next_out: u64,
    in_flight: usize,
    run: FileRun,
}

impl<B, M> Pipeline<B, M>
where
    B: Default + Send + 'static,
    M: Fn(Item, &mut B) + Send + Sync + 'static,
{
    pub(crate) fn new(map: M, threads: usize, max_problems: usize) -> Self {
        let (tx, rx) = mpsc::channel();
        Pipeline {
            map: Arc::new(map),
            inline: threads <= 1,
            max_in_flight: threads * 2 + 2,
            max_problems: if max_problems == 0 {
                u64::MAX
            } else {
                max_problems as u64
            },
            tx,
            rx,
            next_seq: 0,
            pending: BTreeMap::new(),
            next_out: 0,
            in_flight: 0,
            run: FileRun::default(),
        }
    }

    /// The caller's map function, for the chunk jobs.
    pub(crate) fn map(&self) -> Arc<M> {
        Arc::clone(&self.map)
    }

    fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq - 1
    }

    /// Queues file-level problems (unreadable file, damaged stream).
    pub(crate) fn problems(&mut self, problems: Vec<Problem>, sink: &mut impl FnMut(B)) {
        let seq = self.take_seq();
        self.pending.insert(seq, Pending::Problems(problems));
        self.advance(sink);
    }

    /// Queues the end of a file; its counts are filled in from its chunks.
    pub(crate) fn file_end(&mut self, summary: FileSummary, sink: &mut impl FnMut(B)) {
        let seq = self.take_seq();
        self.pending
            .insert(seq, Pending::FileEnd(Box::new(summary)));
        self.advance(sink);
    }

    /// Runs `work` (parse and map one chunk) on the pool, or here when inline.
    pub(crate) fn chunk(
        &mut self,
        work: impl FnOnce() -> ChunkOut<B> + Send + 'static,
        path: Arc<Path>,
        sink: &mut impl FnMut(B),
    ) {
        let seq = self.take_seq();
        if self.inline {
            let out = guarded(work, &path);
            self.pending.insert(seq, Pending::Parsed(out));
            self.advance(sink);
            return;
        }
        while self.in_flight >= self.max_in_flight {
            self.wait(sink);
        }
        self.in_flight += 1;
        let tx = self.tx.clone();
        rayon::spawn(move || {
            let _ = tx.send((seq, guarded(work, &path)));
        });
        self.advance(sink);
    }

    fn wait(&mut self, sink: &mut impl FnMut(B)) {
        if let Ok((seq, out)) = self.rx.recv() {
            self.in_flight -= 1;
            self.pending.insert(seq, Pending::Parsed(out));
        }
        self.advance(sink);
    }

    /// Hands every unit whose turn it is to the sink.
    fn advance(&mut self, sink: &mut impl FnMut(B)) {
        while let Some(unit) = self.pending.remove(&self.next_out) {
            self.next_out += 1;
            match unit {
                Pending::Parsed(out) => {
                    self.run.counts.add(&out.counts);
                    self.run.problems_omitted += out.problems_dropped;
                    for slot in out.slots {
                        match slot {
                            Slot::Out(batch) => sink(batch),
                            Slot::Problem(p) if self.run.problems_listed < self.max_problems => {
                                self.run.problems_listed += 1;
                                sink(self.one(Item::Problem(*p)));
                            }
                            Slot::Problem(_) => self.run.problems_omitted += 1,
                        }
                    }
                }
                Pending::FileEnd(summary) => self.end_file(*summary, sink),
                Pending::Problems(problems) => {
                    for p in problems {
                        sink(self.one(Item::Problem(p)));
                    }
                }
            }
        }
    }

    /// A batch of one item.
    fn one(&self, item: Item) -> B {
        let mut batch = B::default();
        (self.map)(item, &mut batch);
        batch
    }

    fn end_file(&mut self, mut summary: FileSummary, sink: &mut impl FnMut(B)) {
        let run = std::mem::take(&mut self.run);
        summary.add_counts(&run.counts);
        summary.problems_listed = run.problems_listed;
        if run.problems_omitted > 0 {
            let reason = format!(
                "{} more unread or damaged records not listed (the first {} are); see the counts in the summary, or raise --max-problems",
                run.problems_omitted, run.problems_listed
            );
            let p = Problem::file(ProblemKind::DamagedRecord, &summary.path, reason);
            sink(self.one(Item::Problem(p)));
        }
        sink(self.one(Item::FileDone(summary)));
    }

    pub(crate) fn finish(&mut self, sink: &mut impl FnMut(B)) {
        while self.next_out < self.next_seq {
            self.wait(sink);
        }
    }
}

/// Runs a chunk's work, turning a panic into a problem of the chunk rather
/// than losing the run.
fn guarded<B>(work: impl FnOnce() -> ChunkOut<B>, path: &Path) -> ChunkOut<B> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        let text = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        let reason = format!(
            "the parser failed on a chunk of this file ({text}); its other chunks are still read"
        );
        ChunkOut {
            slots: vec![Slot::Problem(Box::new(Problem::file(
                ProblemKind::DamagedBlock,
                path,
                reason,
            )))],
            ..Default::default()
        }
    })
}
