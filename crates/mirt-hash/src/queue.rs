//! Hashing a sequence of streams (files) on helper threads without waiting
//! for any of them: the caller hands over ranges of shared buffers, marks
//! where each stream ends, and collects the digests later, in stream order.
//! A bundle writer thus goes on with file N+1 while file N is still being
//! hashed, and with more than one SHA-256 thread (machines with more than
//! two cores) several files are hashed at once.
//!
//! Nothing is copied: each thread reads the caller's buffers and drops its
//! reference as soon as it is done with a range, so a caller that recycles
//! buffers when their last reference goes (a pool) gets them back in time.
//! Memory in flight is bounded by the buffers the caller shares.

use crate::threaded::{Slow, SlowDigests};
use crate::{Algorithms, Digests, MultiHasher};
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

/// Bytes shared with the hashing threads, which drop their reference when
/// they are done with them.
pub type Shared = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Work waiting for the threads is handed over at the latest when it holds
/// this many bytes or events (fewer, larger hand-overs: less switching).
const BATCH_BYTES: u64 = 4 << 20;
const BATCH_EVENTS: usize = 256;

enum Event {
    Data(Shared, Range<usize>),
    End,
}

/// The state of one kind of hash over the current stream.
trait StreamHash: Send + 'static {
    type Out: Send + 'static;
    fn update(&mut self, data: &[u8]);
    /// The digest of the stream, and a fresh state for the next one.
    fn finish(&mut self) -> Self::Out;
}

struct SlowState(Slow, Algorithms);

impl StreamHash for SlowState {
    type Out = SlowDigests;
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(&mut self) -> SlowDigests {
        std::mem::replace(&mut self.0, Slow::new(self.1)).finish()
    }
}

impl StreamHash for blake3::Hasher {
    type Out = [u8; 32];
    fn update(&mut self, data: &[u8]) {
        blake3::Hasher::update(self, data);
    }
    fn finish(&mut self) -> [u8; 32] {
        let d = *self.finalize().as_bytes();
        self.reset();
        d
    }
}

/// One hashing thread, with the work not yet handed to it.
struct Worker<R> {
    tx: Option<Sender<Vec<Event>>>,
    results: Receiver<R>,
    /// Bytes handed over and not hashed yet.
    queued: Arc<AtomicU64>,
    handle: Option<JoinHandle<()>>,
    batch: Vec<Event>,
}

impl<R: Send + 'static> Worker<R> {
    fn spawn<S: StreamHash<Out = R>>(name: &str, mut state: S) -> Option<Worker<R>> {
        let (tx, inbox) = channel::<Vec<Event>>();
        let (done, results) = channel::<R>();
        let queued = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&queued);
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                for batch in inbox {
                    for event in batch {
                        match event {
                            Event::Data(buf, range) => {
                                let n = range.len() as u64;
                                state.update(&(*buf).as_ref()[range]);
                                // Drop the reference now, not at the end of
                                // the batch: the buffer may be awaited.
                                drop(buf);
                                counter.fetch_sub(n, Ordering::Relaxed);
                            }
                            Event::End => {
                                if done.send(state.finish()).is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
            })
            .ok()?;
        Some(Worker {
            tx: Some(tx),
            results,
            queued,
            handle: Some(handle),
            batch: Vec::new(),
        })
    }

    fn push(&mut self, event: Event) {
        if let Event::Data(_, r) = &event {
            self.queued.fetch_add(r.len() as u64, Ordering::Relaxed);
        }
        self.batch.push(event);
    }

    fn flush(&mut self) {
        if !self.batch.is_empty()
            && let Some(tx) = &self.tx
        {
            // A send fails only if the thread is gone; `recv` reports it.
            let _ = tx.send(std::mem::take(&mut self.batch));
        }
    }

    fn recv(&self) -> R {
        // The threads only hash and cannot fail; if one is gone all the
        // same, a wrong digest must not be returned silently.
        let r = self.results.recv();
        r.expect("mirt-hash: a hashing thread ended early")
    }

    fn try_recv(&self) -> Option<R> {
        self.results.try_recv().ok()
    }
}

impl<R> Drop for Worker<R> {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

struct Threads {
    /// SHA-256 (and MD5/SHA-1 when asked for): each stream on one of them.
    sha: Vec<Worker<SlowDigests>>,
    /// BLAKE3, every stream.
    blake3: Worker<[u8; 32]>,
}

/// A stream that ended and whose digests were not collected yet.
struct Ended {
    /// Index of its SHA-256 thread.
    sha: usize,
    len: u64,
}

/// Hashes a sequence of streams on helper threads (BLAKE3 on one, SHA-256
/// and the extras on one or more others) and returns the digests in stream
/// order whenever the caller asks for them.
///
/// ```
/// use mirt_hash::{Algorithms, HashQueue, MultiHasher, Shared};
/// use std::sync::Arc;
///
/// let mut q = HashQueue::new(Algorithms::default());
/// let buf: Shared = Arc::new(b"abcdef".to_vec());
/// q.update(&buf, 0..3); // stream 1: "abc"
/// q.end_stream();
/// q.update(&buf, 3..6); // stream 2: "def"
/// q.end_stream();
///
/// let mut m = MultiHasher::new(Algorithms::default());
/// m.update(b"abc");
/// assert_eq!(q.next_digests(), Some(m.finalize()));
/// let second = q.next_digests().unwrap();
/// assert_eq!(second.len, 3);
/// assert_eq!(q.next_digests(), None);
/// ```
pub struct HashQueue {
    extra: Algorithms,
    /// `None` if no thread could be started: then everything is hashed on
    /// the caller's thread.
    threads: Option<Threads>,
    inline: MultiHasher,
    inline_done: VecDeque<Digests>,
    /// The SHA-256 thread of the current stream (chosen at its first bytes).
    current: Option<usize>,
    current_len: u64,
    ended: VecDeque<Ended>,
    /// Digests of the oldest ended stream received from one thread only.
    got_slow: Option<SlowDigests>,
    got_blake3: Option<[u8; 32]>,
    batch_bytes: u64,
    batch_events: usize,
}

/// SHA-256 threads for this machine: one per core beyond the two that the
/// caller and BLAKE3 keep busy, at least one, at most three (more would
/// wait on the single writer anyway).
pub fn default_sha_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .saturating_sub(2)
        .clamp(1, 3)
}

impl HashQueue {
    /// Starts the threads ([`default_sha_threads`] for SHA-256).
    pub fn new(extra: Algorithms) -> Self {
        Self::with_sha_threads(extra, default_sha_threads())
    }

    /// Starts the threads, with `sha_threads` (at least one) for SHA-256.
    pub fn with_sha_threads(extra: Algorithms, sha_threads: usize) -> Self {
        let sha: Option<Vec<_>> = (0..sha_threads.max(1))
            .map(|i| {
                let state = SlowState(Slow::new(extra), extra);
                Worker::spawn(&format!("mirt-sha256-{i}"), state)
            })
            .collect();
        let blake3 = Worker::spawn("mirt-blake3", blake3::Hasher::new());
        let threads = match (sha, blake3) {
            (Some(sha), Some(blake3)) => Some(Threads { sha, blake3 }),
            _ => None,
        };
        HashQueue {
            extra,
            threads,
            inline: MultiHasher::new(extra),
            inline_done: VecDeque::new(),
            current: None,
            current_len: 0,
            ended: VecDeque::new(),
            got_slow: None,
            got_blake3: None,
            batch_bytes: 0,
            batch_events: 0,
        }
    }

    /// Adds `data[range]` to the current stream. The threads keep a
    /// reference to `data` until they have hashed the range.
    pub fn update(&mut self, data: &Shared, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        let n = range.len() as u64;
        self.current_len += n;
        let Some(t) = &mut self.threads else {
            self.inline.update(&(**data).as_ref()[range]);
            return;
        };
        let w = *self.current.get_or_insert_with(|| least_busy(&t.sha));
        t.sha[w].push(Event::Data(Arc::clone(data), range.clone()));
        t.blake3.push(Event::Data(Arc::clone(data), range));
        self.batch_bytes += n;
        self.maybe_flush();
    }

    /// Ends the current stream (it may be empty); its digests come from
    /// [`next_digests`](Self::next_digests) after those of the streams before it.
    pub fn end_stream(&mut self) {
        let len = std::mem::take(&mut self.current_len);
        let Some(t) = &mut self.threads else {
            let h = std::mem::replace(&mut self.inline, MultiHasher::new(self.extra));
            self.inline_done.push_back(h.finalize());
            return;
        };
        let sha = self.current.take().unwrap_or_else(|| least_busy(&t.sha));
        t.sha[sha].push(Event::End);
        t.blake3.push(Event::End);
        self.ended.push_back(Ended { sha, len });
        self.batch_events += 1;
        self.maybe_flush();
    }

    fn maybe_flush(&mut self) {
        if self.batch_bytes >= BATCH_BYTES || self.batch_events >= BATCH_EVENTS {
            self.flush();
        }
    }

    /// Hands everything added so far to the threads now (it is otherwise
    /// handed over in batches).
    pub fn flush(&mut self) {
        if let Some(t) = &mut self.threads {
            for w in &mut t.sha {
                w.flush();
            }
            t.blake3.flush();
        }
        self.batch_bytes = 0;
        self.batch_events = 0;
    }

    /// Streams ended whose digests were not collected yet.
    pub fn pending(&self) -> usize {
        self.ended.len() + self.inline_done.len()
    }

    /// The digests of the oldest ended stream not collected yet, waiting
    /// for them; `None` if there is none.
    pub fn next_digests(&mut self) -> Option<Digests> {
        self.flush();
        self.take_ready(true)
    }

    /// Like [`next_digests`](Self::next_digests), but only if they are ready (work still
    /// in a batch is not handed over: call [`flush`](Self::flush)).
    pub fn try_next_digests(&mut self) -> Option<Digests> {
        self.take_ready(false)
    }

    fn take_ready(&mut self, wait: bool) -> Option<Digests> {
        if let Some(d) = self.inline_done.pop_front() {
            return Some(d);
        }
        let t = self.threads.as_ref()?;
        let e = self.ended.front()?;
        if self.got_slow.is_none() {
            let w = &t.sha[e.sha];
            self.got_slow = if wait { Some(w.recv()) } else { w.try_recv() };
        }
        if self.got_blake3.is_none() {
            let w = &t.blake3;
            self.got_blake3 = if wait { Some(w.recv()) } else { w.try_recv() };
        }
        if self.got_slow.is_none() || self.got_blake3.is_none() {
            return None;
        }
        let (sha256, md5, sha1) = self.got_slow.take()?;
        let blake3 = self.got_blake3.take()?;
        let len = self.ended.pop_front()?.len;
        Some(Digests {
            blake3,
            sha256,
            md5,
            sha1,
            len,
        })
    }
}

fn least_busy(sha: &[Worker<SlowDigests>]) -> usize {
    (0..sha.len())
        .min_by_key(|&i| sha[i].queued.load(Ordering::Relaxed))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize, seed: usize) -> Vec<u8> {
        (0..n).map(|i| ((i * 31 + seed * 7) % 251) as u8).collect()
    }

    #[test]
    fn digests_come_back_in_order_and_match_the_plain_hasher() {
        for sha_threads in [1, 3] {
            let mut q = HashQueue::with_sha_threads(Algorithms::all(), sha_threads);
            let sizes = [0usize, 1, 5 << 20, 3, 0, 1 << 20, 70_000];
            let mut want = Vec::new();
            for (i, &n) in sizes.iter().enumerate() {
                let data = pattern(n, i);
                let mut m = MultiHasher::new(Algorithms::all());
                m.update(&data);
                want.push(m.finalize());
                let shared: Shared = Arc::new(data);
                // Uneven pieces, some of them empty.
                let mut at = 0;
                for step in [0, 10, 100_000, 1 << 20].iter().cycle() {
                    if at >= n {
                        break;
                    }
                    let end = (at + step).min(n);
                    q.update(&shared, at..end);
                    at = end;
                }
                q.end_stream();
                if i == 2 {
                    // Collecting some early must not disturb the order.
                    assert_eq!(q.next_digests().as_ref(), Some(&want[0]));
                }
            }
            let got: Vec<_> = std::iter::from_fn(|| q.next_digests()).collect();
            assert_eq!(got, want[1..], "{sha_threads} SHA threads");
        }
    }

    #[test]
    fn buffers_are_released_once_hashed() {
        let mut q = HashQueue::new(Algorithms::default());
        let data = Arc::new(pattern(1000, 1));
        let shared: Shared = data.clone();
        q.update(&shared, 0..1000);
        drop(shared);
        q.end_stream();
        assert_eq!(q.next_digests().unwrap().len, 1000);
        assert_eq!(Arc::strong_count(&data), 1);
    }

    #[test]
    fn try_next_does_not_wait_and_gets_there() {
        let mut q = HashQueue::new(Algorithms::default());
        assert!(q.try_next_digests().is_none());
        let shared: Shared = Arc::new(pattern(100, 2));
        q.update(&shared, 0..100);
        q.end_stream();
        q.flush();
        let d = loop {
            if let Some(d) = q.try_next_digests() {
                break d;
            }
            std::thread::yield_now();
        };
        assert_eq!(d.len, 100);
        assert_eq!(q.pending(), 0);
    }
}
