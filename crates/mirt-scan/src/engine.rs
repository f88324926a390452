//! The scan engine: worker threads, each with its own YARA scanner, take
//! files in list order, read each once, hash it and scan the same bytes,
//! open zip members, and hand their results back in list order.

use crate::error::{Error, Result};
use crate::hashlist::HashList;
use crate::owner::owner_name;
use crate::record::{FileRecord, ScanStatus};
use crate::walk::Entry;
use crate::zipwalk::{self, Budget};
use mirt_core::{Problem, ProblemKind};
use mirt_hash::{Algorithms, Digests, MultiHasher, PARALLEL_MIN};
use mirt_yara::{CompiledRules, FileContext, FileScanner, filetype};
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Settings of a scan. `Default` gives the command line's defaults.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Optional digests besides BLAKE3 and SHA-256.
    pub algorithms: Algorithms,
    /// Files (and members) larger than this are hashed but not scanned.
    pub max_scan_size: u64,
    /// Per-file YARA timeout.
    pub timeout: Option<Duration>,
    /// Follow symlinks when opening (the walker decides what is listed).
    pub follow_symlinks: bool,
    /// Files at least this large are memory-mapped.
    pub mmap_threshold: u64,
    /// Archive levels to open (0: do not open zip files).
    pub zip_depth: u32,
    /// Most uncompressed bytes read from the members of one file's archives.
    pub zip_max_total: u64,
    /// Most members read from one file's archives.
    pub zip_max_members: u64,
    /// Offsets reported per matching string.
    pub max_offsets: usize,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            algorithms: Algorithms::default(),
            max_scan_size: 256 * 1024 * 1024,
            timeout: Some(Duration::from_secs(60)),
            follow_symlinks: false,
            mmap_threshold: mirt_hash::DEFAULT_MMAP_THRESHOLD,
            zip_depth: 3,
            zip_max_total: 1024 * 1024 * 1024,
            zip_max_members: 100_000,
            max_offsets: 16,
            threads: 0,
        }
    }
}

/// What the engine hands back, in list order.
#[derive(Debug)]
pub enum Output {
    /// A file or zip member.
    Record(Box<FileRecord>),
    /// Something not read or not analysed.
    Problem(Problem),
    /// A listed file is finished (for progress).
    FileDone {
        /// Its size as listed.
        bytes: u64,
    },
}

/// A configured scan over a list of files.
pub struct Engine<'r> {
    opts: ScanOptions,
    rules: Option<&'r CompiledRules>,
    bad: Vec<HashList>,
    good: Vec<HashList>,
    algorithms: Algorithms,
}

/// What one file (with its members) is examined with, on one worker.
pub(crate) struct Item<'a> {
    pub path: String,
    pub name: &'a str,
    pub data: &'a [u8],
    pub depth: u32,
}

impl<'r> Engine<'r> {
    /// A scan with `rules`, or hashing only when `None`.
    pub fn new(opts: ScanOptions, rules: Option<&'r CompiledRules>) -> Self {
        let algorithms = opts.algorithms;
        Engine {
            opts,
            rules,
            bad: Vec::new(),
            good: Vec::new(),
            algorithms,
        }
    }

    /// Adds a known-bad list; MD5/SHA-1 are computed if it holds them.
    pub fn bad_hashes(&mut self, list: HashList) -> &mut Self {
        self.need(list.needs());
        self.bad.push(list);
        self
    }

    /// Adds a known-good list: files in it are not scanned.
    pub fn known_good(&mut self, list: HashList) -> &mut Self {
        self.need(list.needs());
        self.good.push(list);
        self
    }

    fn need(&mut self, extra: Algorithms) {
        self.algorithms.md5 |= extra.md5;
        self.algorithms.sha1 |= extra.sha1;
    }

    /// The digests that will be computed besides BLAKE3 and SHA-256.
    pub fn algorithms(&self) -> Algorithms {
        self.algorithms
    }

    /// Scans `files`. `map` runs on the workers (render output there);
    /// `sink` gets its results on the calling thread, in list order.
    pub fn run<T: Send>(
        &self,
        files: &[Entry],
        map: impl Fn(Output) -> T + Sync,
        mut sink: impl FnMut(T),
    ) -> Result<()> {
        let threads = match self.opts.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        .min(files.len().max(1));
        let next = AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Vec<T>)>();
        std::thread::scope(|s| -> Result<()> {
            for _ in 0..threads {
                let tx = tx.clone();
                let (next, map) = (&next, &map);
                std::thread::Builder::new()
                    .name("mirt-scan".into())
                    .spawn_scoped(s, move || self.worker(files, next, map, tx))
                    .map_err(|source| Error::Threads { source })?;
            }
            drop(tx);
            let mut pending = BTreeMap::new();
            let mut due = 0;
            for (i, outs) in rx {
                pending.insert(i, outs);
                while let Some(outs) = pending.remove(&due) {
                    outs.into_iter().for_each(&mut sink);
                    due += 1;
                }
            }
            Ok(())
        })
    }

    fn worker<T>(
        &self,
        files: &[Entry],
        next: &AtomicUsize,
        map: &(impl Fn(Output) -> T + Sync),
        tx: std::sync::mpsc::Sender<(usize, Vec<T>)>,
    ) {
        let mut scanner = self.new_scanner();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(entry) = files.get(i) else { return };
            let mut outs = Vec::new();
            let mut emit = |o: Output| outs.push(map(o));
            let done = std::panic::catch_unwind(AssertUnwindSafe(|| {
                self.file(scanner.as_mut(), entry, &mut emit)
            }));
            if done.is_err() {
                // A parser deep inside panicked: report the file, and start
                // a fresh scanner in case its state was left half-updated.
                emit(Output::Problem(Problem::file(
                    ProblemKind::Unreadable,
                    &entry.path,
                    "internal error while scanning (panic); file not fully analysed",
                )));
                scanner = self.new_scanner();
            }
            emit(Output::FileDone {
                bytes: entry.meta.len(),
            });
            if tx.send((i, outs)).is_err() {
                return;
            }
        }
    }

    fn new_scanner(&self) -> Option<FileScanner<'r>> {
        self.rules.map(|rules| {
            let mut s = FileScanner::new(rules);
            s.max_offsets(self.opts.max_offsets);
            if let Some(t) = self.opts.timeout {
                s.timeout(t);
            }
            s
        })
    }

    fn file(
        &self,
        scanner: Option<&mut FileScanner<'r>>,
        entry: &Entry,
        emit: &mut dyn FnMut(Output),
    ) {
        let path = entry.path.to_string_lossy().into_owned();
        let mut rec = FileRecord::new(path.clone()).with_metadata(&entry.meta);
        rec.owner = owner_name(&entry.meta);
        let data = match read(&entry.path, entry.meta.len(), &self.opts) {
            Ok(d) => d,
            Err(e) => {
                rec.scan = ScanStatus::Unreadable;
                rec.reason = Some(e.to_string());
                emit(Output::Problem(Problem::file(
                    ProblemKind::Unreadable,
                    &entry.path,
                    e.to_string(),
                )));
                emit(Output::Record(Box::new(rec)));
                return;
            }
        };
        let name = file_name(&entry.path);
        let item = Item {
            path,
            name: &name,
            data: &data,
            depth: 0,
        };
        let mut budget = Budget::new(self.opts.zip_max_total, self.opts.zip_max_members);
        self.examine(scanner, item, rec, &mut budget, emit);
    }

    /// Hashes, scans and looks up one file or member, then opens it if it
    /// is an archive.
    pub(crate) fn examine(
        &self,
        mut scanner: Option<&mut FileScanner<'r>>,
        item: Item<'_>,
        mut rec: FileRecord,
        budget: &mut Budget,
        emit: &mut dyn FnMut(Output),
    ) {
        let data = item.data;
        let extension = filetype::extension_of(item.name);
        rec.size = data.len() as u64;
        rec.filetype = filetype::detect(&data[..data.len().min(64)], &extension);
        let owner = rec.owner.clone();
        let ctx = FileContext {
            filename: item.name,
            filepath: &item.path,
            extension: &extension,
            filetype: rec.filetype,
            owner: &owner,
        };
        let too_large = data.len() as u64 > self.opts.max_scan_size;
        let scan_now = scanner.is_some() && !too_large;
        // Without known-good lists the scan need not wait for the digests:
        // on large files both run side by side.
        let (digests, result) = if scan_now && self.good.is_empty() && data.len() >= PARALLEL_MIN {
            let s = scanner.as_deref_mut();
            std::thread::scope(|sc| {
                let h = sc.spawn(|| self.hash(data));
                let r = s.map(|s| s.scan(data, &ctx));
                (h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), r)
            })
        } else {
            let d = self.hash(data);
            rec.known_good = self.good.iter().flat_map(|l| l.lookup(&d)).collect();
            let skip = !rec.known_good.is_empty();
            let r = match scanner.as_deref_mut() {
                Some(s) if scan_now && !skip => Some(s.scan(data, &ctx)),
                _ => None,
            };
            (d, r)
        };
        rec.bad_hashes = self.bad.iter().flat_map(|l| l.lookup(&digests)).collect();
        rec.scan = match result {
            Some(Ok(matches)) => {
                rec.matches = matches;
                ScanStatus::Scanned
            }
            Some(Err(e)) => self.scan_failed(&item.path, e, &mut rec, emit),
            None if !rec.known_good.is_empty() => ScanStatus::KnownGood,
            None if scanner.is_some() && too_large => {
                rec.reason = Some(format!(
                    "larger than the maximum scan size ({} bytes); hashed only",
                    self.opts.max_scan_size
                ));
                ScanStatus::TooLarge
            }
            None => ScanStatus::HashOnly,
        };
        rec.hashes = Some(digests);
        emit(Output::Record(Box::new(rec)));
        if item.depth < self.opts.zip_depth && zipwalk::is_zip(data) {
            zipwalk::members(self, scanner, &item, budget, emit);
        }
    }

    fn scan_failed(
        &self,
        path: &str,
        err: mirt_yara::Error,
        rec: &mut FileRecord,
        emit: &mut dyn FnMut(Output),
    ) -> ScanStatus {
        let status = match err {
            mirt_yara::Error::Timeout { .. } => ScanStatus::Timeout,
            _ => ScanStatus::Error,
        };
        let reason = match status {
            ScanStatus::Timeout => format!(
                "YARA scan stopped after the timeout of {} s; hashed, matches unknown",
                self.opts.timeout.map_or(0, |t| t.as_secs())
            ),
            _ => err.to_string(),
        };
        emit(Output::Problem(Problem::file(
            ProblemKind::Skipped,
            path,
            reason.clone(),
        )));
        rec.reason = Some(reason);
        status
    }

    fn hash(&self, data: &[u8]) -> Digests {
        let mut h = MultiHasher::new(self.algorithms);
        h.update_parallel(data);
        h.finalize()
    }
}

fn read(path: &Path, len: u64, opts: &ScanOptions) -> std::io::Result<mirt_hash::Contents> {
    let mut file = mirt_hash::open_evidence(path, opts.follow_symlinks)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(
            "no longer a regular file (changed since it was listed)",
        ));
    }
    mirt_hash::read_contents(&mut file, len.max(meta.len()), opts.mmap_threshold)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
