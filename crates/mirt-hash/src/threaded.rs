//! Hashing on two threads: SHA-256 (and MD5/SHA-1 when asked for) runs on a
//! helper thread while BLAKE3 runs on the caller's thread, which also does
//! whatever else it does with the bytes (CRC, writing them out). SHA-256 is
//! the slow one; with this split a copy-and-hash pass runs about as fast as
//! SHA-256 alone instead of the sum of all the work.

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
    Data(Arc<Vec<u8>>),
    /// End of one stream: send its digests back and start a new one.
    End,
}

struct Slow {
    sha256: sha2::Sha256,
    md5: Option<md5::Md5>,
    sha1: Option<sha1::Sha1>,
}

impl Slow {
    fn new(extra: Algorithms) -> Self {
        Slow {
            sha256: sha2::Sha256::new(),
            md5: extra.md5.then(md5::Md5::new),
            sha1: extra.sha1.then(sha1::Sha1::new),
        }
    }

    fn update(&mut self, data: &[u8]) {
        self.sha256.update(data);
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
    }
}

type SlowDigests = ([u8; 32], Option<[u8; 16]>, Option<[u8; 20]>);

/// Hashes a sequence of streams (files) with BLAKE3 on the calling thread
/// and the other algorithms on one helper thread, block by block.
///
/// ```
/// use mirt_hash::{Algorithms, MultiHasher, ThreadedHasher};
///
/// let mut t = ThreadedHasher::new(Algorithms::default());
/// let mut buf = t.take_buffer();
/// buf.clear();
/// buf.extend_from_slice(b"abc");
/// let block = t.submit(buf); // hashed; `block` can still be written out
/// assert_eq!(&block[..], b"abc");
/// drop(block);
/// let d = t.finish_stream();
///
/// let mut m = MultiHasher::new(Algorithms::default());
/// m.update(b"abc");
/// assert_eq!(d, m.finalize());
/// ```
pub struct ThreadedHasher {
    extra: Algorithms,
    blake3: blake3::Hasher,
    len: u64,
    to_worker: Option<SyncSender<Msg>>,
    free: Receiver<Arc<Vec<u8>>>,
    results: Receiver<SlowDigests>,
    worker: Option<JoinHandle<()>>,
    /// SHA-256 (and extras) on the caller's thread, for streams that fit
    /// in one short block (small files: handing them to the helper would
    /// cost two thread switches per file, more than hashing them) and when
    /// the helper thread could not be started.
    inline: Slow,
    /// Whether the current stream is hashed inline.
    stream_inline: bool,
}

impl ThreadedHasher {
    /// Starts the helper thread.
    pub fn new(extra: Algorithms) -> Self {
        let (to_worker, inbox) = sync_channel::<Msg>(BLOCKS + 1);
        let (free_tx, free) = sync_channel::<Arc<Vec<u8>>>(BLOCKS);
        let (result_tx, results) = sync_channel::<SlowDigests>(1);
        for _ in 0..BLOCKS {
            // Cannot fail: the channel has room for every block.
            let _ = free_tx.send(Arc::new(vec![0u8; BLOCK_SIZE]));
        }
        let worker = std::thread::Builder::new()
            .name("mirt-sha256".into())
            .spawn(move || worker(extra, inbox, free_tx, result_tx))
            .ok();
        ThreadedHasher {
            extra,
            blake3: blake3::Hasher::new(),
            len: 0,
            inline: Slow::new(extra),
            stream_inline: false,
            to_worker: worker.is_some().then_some(to_worker),
            free,
            results,
            worker,
        }
    }

    /// A buffer of [`BLOCK_SIZE`] bytes to read the next block into
    /// (truncate it to what was read before [`submit`](Self::submit)).
    pub fn take_buffer(&mut self) -> Vec<u8> {
        // Never wait here: a buffer the caller dropped instead of submitting
        // never comes back, and allocating one more is cheap.
        let mut buf = self
            .free
            .try_recv()
            .ok()
            .and_then(|arc| Arc::try_unwrap(arc).ok())
            .unwrap_or_default();
        buf.resize(BLOCK_SIZE, 0);
        buf
    }

    /// Hashes `block` (BLAKE3 here, the rest on the helper thread) and
    /// hands it back for the caller to use; drop it when done. A stream
    /// whose first block is shorter than [`BLOCK_SIZE`] (a small file, read
    /// whole) is hashed entirely on this thread.
    pub fn submit(&mut self, block: Vec<u8>) -> Arc<Vec<u8>> {
        let block = Arc::new(block);
        if self.len == 0 {
            self.stream_inline = block.len() < BLOCK_SIZE || self.to_worker.is_none();
        }
        self.len += block.len() as u64;
        match &self.to_worker {
            Some(tx) if !self.stream_inline => {
                let _ = tx.send(Msg::Data(Arc::clone(&block)));
            }
            _ => self.inline.update(&block),
        }
        self.blake3.update(&block);
        block
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
        let (sha256, md5, sha1) = match &self.to_worker {
            Some(tx) if !self.stream_inline => {
                let _ = tx.send(Msg::End);
                // The worker only hashes and cannot fail; if it is gone all
                // the same, a wrong digest must not be returned silently.
                let done = self.results.recv();
                done.expect("mirt-hash: the SHA-256 thread ended early")
            }
            _ => finish_slow(std::mem::replace(&mut self.inline, Slow::new(self.extra))),
        };
        self.stream_inline = false;
        let blake3 = std::mem::take(&mut self.blake3);
        let len = std::mem::take(&mut self.len);
        Digests {
            blake3: *blake3.finalize().as_bytes(),
            sha256,
            md5,
            sha1,
            len,
        }
    }
}

impl Drop for ThreadedHasher {
    fn drop(&mut self) {
        drop(self.to_worker.take());
        if let Some(handle) = self.worker.take() {
            let _ = handle.join();
        }
    }
}

fn finish_slow(s: Slow) -> SlowDigests {
    (
        s.sha256.finalize().into(),
        s.md5.map(|h| h.finalize().into()),
        s.sha1.map(|h| h.finalize().into()),
    )
}

fn worker(
    extra: Algorithms,
    inbox: Receiver<Msg>,
    free: SyncSender<Arc<Vec<u8>>>,
    results: SyncSender<SlowDigests>,
) {
    let mut state = Slow::new(extra);
    for msg in inbox {
        match msg {
            Msg::Data(block) => {
                state.update(&block);
                let _ = free.try_send(block);
            }
            Msg::End => {
                let done = std::mem::replace(&mut state, Slow::new(extra));
                if results.send(finish_slow(done)).is_err() {
                    return;
                }
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
                buf.clear();
                buf.extend_from_slice(chunk);
                drop(t.submit(buf));
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
            drop(t.submit(buf));
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
            let mut buf = t.take_buffer();
            buf.truncate(10);
            kept.push(t.submit(buf));
        }
        assert_eq!(t.finish_stream().len, (BLOCKS * 2 * 10) as u64);
    }
}
