//! The ordered parallel pipeline: chunks are parsed on the rayon pool
//! (stage 1), then, in file order, given their absolute line numbers and
//! mapped by the caller's function (stage 2, on the pool too), and handed to
//! the sink in file and record order.

use crate::reader::{FileSummary, Item};
use mirt_core::{Event, Problem, ProblemKind};
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

/// An event or problem of a chunk, boxed so the chunk's list stays small
/// (16 bytes an entry) however many events a chunk holds.
pub(crate) enum ChunkItem {
    Event(Box<Event>),
    Problem(Box<Problem>),
}

impl ChunkItem {
    fn into_item(self) -> Item {
        match self {
            ChunkItem::Event(e) => Item::Event(e),
            ChunkItem::Problem(p) => Item::Problem(*p),
        }
    }
}

/// What stage 1 makes of a chunk. Line numbers in it are 0-based and
/// relative to the chunk.
#[derive(Default)]
pub(crate) struct ChunkOut {
    pub items: Vec<ChunkItem>,
    pub problems: usize,
    pub counts: Counts,
    pub lines: u64,
}

enum Pending {
    Parsed(ChunkOut),
    FileEnd(FileSummary),
    Problems(Vec<Problem>),
}

enum Msg<T> {
    Parsed(u64, ChunkOut),
    Mapped(u64, Vec<T>),
}

/// Per-file running totals while its chunks pass stage 2 in order.
#[derive(Default)]
struct FileRun {
    lines: u64,
    counts: Counts,
    problems_listed: u64,
    problems_omitted: u64,
}

pub(crate) struct Pipeline<T, M> {
    map: Arc<M>,
    inline: bool,
    max_in_flight: usize,
    max_problems: u64,
    tx: mpsc::Sender<Msg<T>>,
    rx: mpsc::Receiver<Msg<T>>,
    next_seq: u64,
    pending: BTreeMap<u64, Pending>,
    next_base: u64,
    mapped: BTreeMap<u64, Vec<T>>,
    next_out: u64,
    in_flight: usize,
    run: FileRun,
}

impl<T, M> Pipeline<T, M>
where
    T: Send + 'static,
    M: Fn(Item) -> T + Send + Sync + 'static,
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
            next_base: 0,
            mapped: BTreeMap::new(),
            next_out: 0,
            in_flight: 0,
            run: FileRun::default(),
        }
    }

    fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq - 1
    }

    /// Queues file-level problems (unreadable file, damaged stream).
    pub(crate) fn problems(&mut self, problems: Vec<Problem>, sink: &mut impl FnMut(T)) {
        let seq = self.take_seq();
        self.pending.insert(seq, Pending::Problems(problems));
        self.advance(sink);
    }

    /// Queues the end of a file; its counts are filled in from its chunks.
    pub(crate) fn file_end(&mut self, summary: FileSummary, sink: &mut impl FnMut(T)) {
        let seq = self.take_seq();
        self.pending.insert(seq, Pending::FileEnd(summary));
        self.advance(sink);
    }

    /// Parses a chunk with `work` on the pool (or here, when inline).
    pub(crate) fn chunk(
        &mut self,
        work: impl FnOnce() -> ChunkOut + Send + 'static,
        path: Arc<Path>,
        sink: &mut impl FnMut(T),
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
            let _ = tx.send(Msg::Parsed(seq, guarded(work, &path)));
        });
        self.advance(sink);
    }

    fn wait(&mut self, sink: &mut impl FnMut(T)) {
        match self.rx.recv() {
            Ok(Msg::Parsed(seq, out)) => {
                self.pending.insert(seq, Pending::Parsed(out));
            }
            Ok(Msg::Mapped(seq, out)) => {
                self.in_flight -= 1;
                self.mapped.insert(seq, out);
            }
            Err(_) => {}
        }
        self.advance(sink);
    }

    /// Gives units their line base in order, starts their mapping, and
    /// hands finished units to the sink in order.
    fn advance(&mut self, sink: &mut impl FnMut(T)) {
        while let Some(unit) = self.pending.remove(&self.next_base) {
            let seq = self.next_base;
            self.next_base += 1;
            match unit {
                Pending::Parsed(mut out) => {
                    let base = self.run.lines;
                    self.run.lines += out.lines;
                    self.run.counts.add(&out.counts);
                    self.limit_problems(&mut out);
                    let map = Arc::clone(&self.map);
                    let items = out.items;
                    let job = move || {
                        items
                            .into_iter()
                            .map(|i| map(absolute(i.into_item(), base)))
                            .collect::<Vec<T>>()
                    };
                    if self.inline {
                        self.mapped.insert(seq, job());
                    } else {
                        let tx = self.tx.clone();
                        rayon::spawn(move || {
                            let _ = tx.send(Msg::Mapped(seq, job()));
                        });
                    }
                }
                Pending::FileEnd(mut summary) => {
                    let run = std::mem::take(&mut self.run);
                    summary.lines = run.lines;
                    summary.add_counts(&run.counts);
                    summary.problems_listed = run.problems_listed;
                    let mut out = Vec::new();
                    if run.problems_omitted > 0 {
                        let reason = format!(
                            "{} more unread or damaged records not listed (the first {} are); see the counts in the summary, or raise --max-problems",
                            run.problems_omitted, run.problems_listed
                        );
                        out.push((self.map)(Item::Problem(Problem::file(
                            ProblemKind::DamagedRecord,
                            &summary.path,
                            reason,
                        ))));
                    }
                    out.push((self.map)(Item::FileDone(summary)));
                    self.mapped.insert(seq, out);
                }
                Pending::Problems(problems) => {
                    let out = problems
                        .into_iter()
                        .map(|p| (self.map)(Item::Problem(p)))
                        .collect();
                    self.mapped.insert(seq, out);
                }
            }
        }
        while let Some(out) = self.mapped.remove(&self.next_out) {
            self.next_out += 1;
            out.into_iter().for_each(&mut *sink);
        }
    }

    /// Keeps the first `max_problems` problems of a file; counts the rest.
    fn limit_problems(&mut self, out: &mut ChunkOut) {
        let n = out.problems as u64;
        let left = self.max_problems.saturating_sub(self.run.problems_listed);
        if n <= left {
            self.run.problems_listed += n;
            return;
        }
        let mut keep = left;
        out.items.retain(|item| match item {
            ChunkItem::Problem(_) if keep > 0 => {
                keep -= 1;
                true
            }
            ChunkItem::Problem(_) => false,
            ChunkItem::Event(_) => true,
        });
        self.run.problems_listed += left;
        self.run.problems_omitted += n - left;
    }

    pub(crate) fn finish(&mut self, sink: &mut impl FnMut(T)) {
        while self.next_out < self.next_seq {
            self.wait(sink);
        }
    }
}

/// Makes line numbers absolute and 1-based.
fn absolute(mut item: Item, base: u64) -> Item {
    match &mut item {
        Item::Event(e) => fix_event(e, base),
        Item::Problem(p) => {
            if let Some(l) = p.line.as_mut() {
                *l += base + 1;
            }
        }
        Item::FileDone(_) => {}
    }
    item
}

fn fix_event(e: &mut Event, base: u64) {
    if let Some(l) = e.source.line.as_mut() {
        *l += base + 1;
    }
}

/// Runs stage 1, turning a panic into a problem of the chunk rather than
/// losing the run.
fn guarded(work: impl FnOnce() -> ChunkOut, path: &Path) -> ChunkOut {
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
            items: vec![ChunkItem::Problem(Box::new(Problem::file(
                ProblemKind::DamagedBlock,
                path,
                reason,
            )))],
            problems: 1,
            ..Default::default()
        }
    })
}
