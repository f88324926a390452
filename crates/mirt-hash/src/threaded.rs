//! Hashing on helper threads: SHA-256 (with MD5/SHA-1 when asked for) on
//! one, BLAKE3 on another, while the caller's thread does whatever else it
//! does with the bytes (reading them, CRC, writing them out). Each block is
//! shared, not copied. Copying evidence into a bundle then runs at the speed
//! of the slowest of the three instead of the sum of all the work, and on
//! two cores the operating system balances the three.

use crate::{Algorithms, Digests};
use sha2::Digest as _;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Size of the blocks handed out by [`ThreadedHasher::take_buffer`].
pub const BLOCK_SIZE: usize = 1 << 20;
/// Blocks in flight: enough that reading, hashing and writing overlap.
const BLOCKS: usize = 4;

enum Msg {
    /// A block and how many of its bytes are data.
    Data(Arc<Vec<u8>>, usize),
    /// End of one stream: send its digests back and start a new one.
    End,
}

pub(crate) struct Slow {
    sha256: sha2::Sha256,
    md5: Option<md5::Md5>,
    sha1: Option<sha1::Sha1>,
}

impl Slow {
    pub(crate) fn new(extra: Algorithms) -> Self {
        Slow {
            sha256: sha2::Sha256::new(),
            md5: extra.md5.then(md5::Md5::new),
            sha1: extra.sha1.then(sha1::Sha1::new),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
    }

    pub(crate) fn finish(self) -> SlowDigests {
        (
            self.sha256.finalize().into(),
            self.md5.map(|h| h.finalize().into()),
            self.sha1.map(|h| h.finalize().into()),
        )
    }
}

pub(crate) type SlowDigests = ([u8; 32], Option<[u8; 16]>, Option<[u8; 20]>);

/// What one helper thread computes.
#[allow(clippy::large_enum_variant)] // one per thread, never moved around
enum State {
    Slow(Slow, Algorithms),
    Blake3(blake3::Hasher),
}

/// Its result for one stream.
enum Done {
    Slow(SlowDigests),
    Blake3([u8; 32]),
}

impl State {
    fn update(&mut self, data: &[u8]) {
        match self {
            State::Slow(s, _) => s.update(data),
            State::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// The result, and a fresh state for the next stream.
    fn finish(&mut self) -> Done {
        match self {
            State::Slow(s, extra) => Done::Slow(std::mem::replace(s, Slow::new(*extra)).finish()),
            State::Blake3(h) => {
                let done = *h.finalize().as_bytes();
                h.reset();
                Done::Blake3(done)
            }
        }
    }
}

struct Worker {
    tx: SyncSender<Msg>,
    results: Receiver<Done>,
    handle: JoinHandle<()>,
}

impl Worker {
    fn spawn(name: &str, mut state: State, free: SyncSender<Vec<u8>>) -> Option<Worker> {
        let (tx, inbox) = sync_channel::<Msg>(BLOCKS);
        let (done_tx, results) = sync_channel::<Done>(1);
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                for msg in inbox {
                    match msg {
                        Msg::Data(block, len) => {
                            state.update(&block[..len]);
                            // The last user of a block hands it back.
                            if let Ok(v) = Arc::try_unwrap(block) {
                                let _ = free.try_send(v);
                            }
                        }
                        Msg::End => {
                            if done_tx.send(state.finish()).is_err() {
                                return;
                            }
                        }
                    }
                }
            })
            .ok()?;
        Some(Worker {
            tx,
            results,
            handle,
        })
    }

    fn finish(&self) -> Done {
        let _ = self.tx.send(Msg::End);
        // The worker only hashes and cannot fail; if it is gone all the
        // same, a wrong digest must not be returned silently.
        let done = self.results.recv();
        done.expect("mirt-hash: a hashing thread ended early")
    }
}

/// Hashes a sequence of streams (files) block by block on two helper
/// threads (SHA-256 and extras; BLAKE3). Streams that fit in one short
/// block (small files) are hashed on the caller's thread: handing them over
/// would cost more thread switches than hashing them.
///
/// ```
/// use mirt_hash::{Algorithms, MultiHasher, ThreadedHasher};
///
/// let mut t = ThreadedHasher::new(Algorithms::default());
/// let mut buf = t.take_buffer();
/// buf[..3].copy_from_slice(b"abc");
/// let block = t.submit(buf, 3); // being hashed; `block` can be written out
/// assert_eq!(&block[..], b"abc");
/// t.recycle(block);
/// let d = t.finish_stream();
///
/// let mut m = MultiHasher::new(Algorithms::default());
/// m.update(b"abc");
/// assert_eq!(d, m.finalize());
/// ```
pub struct ThreadedHasher {
    extra: Algorithms,
    len: u64,
    /// SHA-256 and BLAKE3 workers (both, or none if no thread could be
    /// started: then everything is hashed on the caller's thread).
    workers: Option<(Worker, Worker)>,
    free: Receiver<Vec<u8>>,
    spare: Vec<Vec<u8>>,
    inline: Slow,
    inline_blake3: blake3::Hasher,
    /// Whether the current stream is hashed on the caller's thread.
    stream_inline: bool,
}

impl ThreadedHasher {
    /// Starts the helper threads.
    pub fn new(extra: Algorithms) -> Self {
        let (free_tx, free) = sync_channel::<Vec<u8>>(BLOCKS * 2);
        let sha = Worker::spawn(
            "mirt-sha256",
            State::Slow(Slow::new(extra), extra),
            free_tx.clone(),
        );
        let b3 = Worker::spawn("mirt-blake3", State::Blake3(blake3::Hasher::new()), free_tx);
        let workers = match (sha, b3) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        ThreadedHasher {
            extra,
            len: 0,
            workers,
            free,
            spare: Vec::new(),
            inline: Slow::new(extra),
            inline_blake3: blake3::Hasher::new(),
            stream_inline: false,
        }
    }

    /// A buffer of [`BLOCK_SIZE`] bytes to read the next block into. It
    /// may hold old bytes: only those [`submit`](Self::submit) is told of
    /// count. (Reused buffers keep their length, so that nothing has to be
    /// zeroed for every small file.)
    pub fn take_buffer(&mut self) -> Vec<u8> {
        // Never wait here: a buffer the caller dropped instead of handing
        // it back never returns, and allocating one more is cheap.
        let mut buf = self
            .spare
            .pop()
            .or_else(|| self.free.try_recv().ok())
            .unwrap_or_else(|| vec![0u8; BLOCK_SIZE]);
        buf.resize(BLOCK_SIZE, 0);
        buf
    }

    /// Returns a buffer from [`take_buffer`](Self::take_buffer) that was
    /// not submitted (nothing was read into it).
    pub fn put_back(&mut self, buf: Vec<u8>) {
        if self.spare.len() < BLOCKS {
            self.spare.push(buf);
        }
    }

    /// Starts hashing the first `len` bytes of `buf` and hands them back
    /// for the caller to use; give the block to [`recycle`](Self::recycle)
    /// (or drop it) when done. A stream whose first block is shorter than
    /// [`BLOCK_SIZE`] (a small file, read whole) is hashed entirely on this
    /// thread.
    pub fn submit(&mut self, buf: Vec<u8>, len: usize) -> Block {
        let len = len.min(buf.len());
        if self.len == 0 {
            self.stream_inline = len < BLOCK_SIZE || self.workers.is_none();
        }
        self.len += len as u64;
        let data = Arc::new(buf);
        match &self.workers {
            Some((sha, b3)) if !self.stream_inline => {
                let _ = sha.tx.send(Msg::Data(Arc::clone(&data), len));
                let _ = b3.tx.send(Msg::Data(Arc::clone(&data), len));
            }
            _ => {
                self.inline.update(&data[..len]);
                self.inline_blake3.update(&data[..len]);
            }
        }
        Block { data, len }
    }

    /// Takes a block back for reuse once the caller is done with it.
    pub fn recycle(&mut self, block: Block) {
        if let Ok(v) = Arc::try_unwrap(block.data)
            && self.spare.len() < BLOCKS
        {
            self.spare.push(v);
        }
    }

    /// Bytes submitted in the current stream.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was submitted in the current stream.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digests of the current stream; the next `submit` starts a new one.
    pub fn finish_stream(&mut self) -> Digests {
        let (slow, blake3) = match &self.workers {
            Some((sha, b3)) if !self.stream_inline => {
                let slow = match sha.finish() {
                    Done::Slow(d) => d,
                    Done::Blake3(_) => unreachable_mixup(),
                };
                let blake3 = match b3.finish() {
                    Done::Blake3(d) => d,
                    Done::Slow(_) => unreachable_mixup(),
                };
                (slow, blake3)
            }
            _ => {
                let slow = std::mem::replace(&mut self.inline, Slow::new(self.extra)).finish();
                let blake3 = *self.inline_blake3.finalize().as_bytes();
                self.inline_blake3.reset();
                (slow, blake3)
            }
        };
        self.stream_inline = false;
        let (sha256, md5, sha1) = slow;
        Digests {
            blake3,
            sha256,
            md5,
            sha1,
            len: std::mem::take(&mut self.len),
        }
    }
}

/// Bytes being hashed, shared with the hashing threads.
#[derive(Debug, Clone)]
pub struct Block {
    data: Arc<Vec<u8>>,
    len: usize,
}

impl std::ops::Deref for Block {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// Each worker is built with its own state and never changes it.
fn unreachable_mixup() -> ! {
    unreachable!("mirt-hash: a worker returned the other worker's digest")
}

impl Drop for ThreadedHasher {
    fn drop(&mut self) {
        if let Some((sha, b3)) = self.workers.take() {
            for w in [sha, b3] {
                drop(w.tx);
                let _ = w.handle.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MultiHasher;

    #[test]
    fn matches_the_single_threaded_hasher_over_several_streams() {
        let mut t = ThreadedHasher::new(Algorithms::all());
        for n in [
            0usize,
            1,
            BLOCK_SIZE - 1,
            BLOCK_SIZE,
            BLOCK_SIZE * 3 + 17,
            5,
        ] {
            let data: Vec<u8> = (0..n).map(|i| (i * 31 % 251) as u8).collect();
            for chunk in data.chunks(BLOCK_SIZE) {
                let mut buf = t.take_buffer();
                buf[..chunk.len()].copy_from_slice(chunk);
                let block = t.submit(buf, chunk.len());
                t.recycle(block);
            }
            let mut m = MultiHasher::new(Algorithms::all());
            m.update(&data);
            assert_eq!(t.finish_stream(), m.finalize(), "{n} bytes");
        }
    }

    #[test]
    fn short_reads_after_a_short_first_block_stay_correct() {
        let mut t = ThreadedHasher::new(Algorithms::default());
        let data = b"a short first block, then a long one".repeat(40_000);
        for chunk in [&data[..10], &data[10..]] {
            let mut buf = t.take_buffer();
            buf.clear();
            buf.extend_from_slice(chunk);
            let n = buf.len();
            drop(t.submit(buf, n));
        }
        let mut m = MultiHasher::new(Algorithms::default());
        m.update(&data);
        assert_eq!(t.finish_stream(), m.finalize());
    }

    #[test]
    fn buffers_kept_by_the_caller_do_not_block() {
        let mut t = ThreadedHasher::new(Algorithms::default());
        let mut kept = Vec::new();
        for _ in 0..BLOCKS * 2 {
            let buf = t.take_buffer();
            kept.push(t.submit(buf, 10));
        }
        assert_eq!(t.finish_stream().len, (BLOCKS * 2 * 10) as u64);
    }
}
