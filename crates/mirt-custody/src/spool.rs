//! The staging area between the ZIP writer and the bundle's sink.
//!
//! The archive is assembled in large chunks that start at multiples of
//! [`ALIGN`] both in memory and in the file. Evidence is read straight into
//! a chunk (one kernel copy, no user-space copy); a full chunk is then
//! shared, not copied, with the hashing threads (the byte ranges of
//! evidence in it) and with a writer thread that hands it to the sink. So
//! reading, hashing and writing (or encrypting) overlap, and a sink that
//! writes with direct I/O ([`crate::output::DirectFile`]) only ever gets
//! aligned writes, except for the very last bytes of the archive.
//!
//! Chunks come from a small pool and go back when the last thread lets go
//! of them, which bounds the memory in flight and makes the reader wait
//! for a slow disk instead of filling memory.

use mirt_hash::{HashQueue, Shared};
use std::io::{self, Read, Write};
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

/// Chunks (and direct writes) start at multiples of this, in the file and
/// in memory: the logical block size direct I/O asks for on common disks.
pub const ALIGN: usize = 4096;
/// Size of a chunk: writes large enough for the disk, hand-overs rare
/// enough for the threads.
pub const CHUNK: usize = 1 << 20;
/// Chunks at most: how far hashing and writing may lag behind reading.
/// Measured (`benches/bundle`): 16 chunks of 1 MiB were clearly faster
/// than 6 of 8 MiB or 8 of 4 MiB, likely because 16 MiB in flight stay in
/// the processor's cache between reading, hashing and writing.
const CHUNKS: usize = 16;

/// A buffer of `len` usable bytes, starting at an aligned address.
pub(crate) struct Mem {
    vec: Vec<u8>,
    start: usize,
    len: usize,
}

impl Mem {
    fn new(len: usize) -> Mem {
        let vec = vec![0u8; len + ALIGN];
        // `align_offset` may in theory give up (usize::MAX): the buffer is
        // then simply unaligned, and a direct-I/O sink writes it buffered.
        let start = vec.as_ptr().align_offset(ALIGN).min(ALIGN);
        Mem { vec, start, len }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.vec[self.start..self.start + self.len]
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.vec[self.start..self.start + self.len]
    }
}

/// A bounded set of reusable buffers.
pub(crate) struct Pool {
    size: usize,
    max: usize,
    made: usize,
    free: Receiver<Mem>,
    home: Sender<Mem>,
}

impl Pool {
    pub(crate) fn new(size: usize, max: usize) -> Pool {
        let (home, free) = channel();
        Pool {
            size,
            max: max.max(1),
            made: 0,
            free,
            home,
        }
    }

    /// A free buffer (old bytes in it), waiting for one when all `max`
    /// are in use: they come back when the threads are done with them.
    pub(crate) fn take(&mut self) -> Mem {
        if let Ok(m) = self.free.try_recv() {
            return m;
        }
        if self.made < self.max {
            self.made += 1;
            return Mem::new(self.size);
        }
        // Cannot fail: `self.home` keeps the channel open.
        self.free.recv().unwrap_or_else(|_| Mem::new(self.size))
    }

    /// Shares the first `len` bytes of `mem`; the buffer comes back to the
    /// pool when the last reference is dropped.
    pub(crate) fn share(&self, mem: Mem, len: usize) -> Shared {
        Arc::new(Pooled {
            mem: Some(mem),
            len,
            home: self.home.clone(),
        })
    }
}

struct Pooled {
    mem: Option<Mem>,
    len: usize,
    home: Sender<Mem>,
}

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        self.mem.as_ref().map_or(&[], |m| &m.bytes()[..self.len])
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(m) = self.mem.take() {
            // The pool may be gone already (the writer is being dropped).
            let _ = self.home.send(m);
        }
    }
}

/// What happens to the bytes of the current chunk besides being written.
enum Mark {
    /// Evidence bytes: hash them (as part of the current stream).
    Data(Range<usize>),
    /// The current stream (file) ends here.
    End,
}

enum ToWriter {
    Write(Shared),
    /// Answer once everything sent before is written.
    Sync(SyncSender<()>),
}

/// The thread that hands chunks to the sink, in order.
struct Writer<W> {
    tx: Option<Sender<ToWriter>>,
    errors: Receiver<io::Error>,
    handle: Option<JoinHandle<Option<W>>>,
}

impl<W: Write + Send + 'static> Writer<W> {
    fn spawn(mut out: W) -> io::Result<Writer<W>> {
        let (tx, rx) = channel::<ToWriter>();
        let (err_tx, errors) = channel::<io::Error>();
        let handle = std::thread::Builder::new()
            .name("mirt-bundle-writer".into())
            .spawn(move || {
                let mut ok = true;
                for msg in rx {
                    match msg {
                        // After a failure, chunks are only dropped (back to
                        // the pool), so the reader never waits for them.
                        ToWriter::Write(buf) if ok => {
                            if let Err(e) = out.write_all((*buf).as_ref()) {
                                ok = false;
                                let _ = err_tx.send(e);
                            }
                        }
                        ToWriter::Write(_) => {}
                        ToWriter::Sync(ack) => {
                            let _ = ack.send(());
                        }
                    }
                }
                if !ok {
                    return None;
                }
                match out.flush() {
                    Ok(()) => Some(out),
                    Err(e) => {
                        let _ = err_tx.send(e);
                        None
                    }
                }
            })?;
        Ok(Writer {
            tx: Some(tx),
            errors,
            handle: Some(handle),
        })
    }

    fn send(&self, msg: ToWriter) {
        if let Some(tx) = &self.tx {
            // Fails only if the thread is gone; `wait` then reports it.
            let _ = tx.send(msg);
        }
    }

    /// Waits until everything sent so far is written.
    fn wait(&self) -> io::Result<()> {
        let (ack, done) = sync_channel(1);
        self.send(ToWriter::Sync(ack));
        done.recv()
            .map_err(|_| io::Error::other("the bundle writer thread ended early"))
    }

    /// Ends the thread and returns the sink (`None` after a failure).
    fn close(&mut self) -> Option<W> {
        drop(self.tx.take());
        self.handle.take().and_then(|h| h.join().ok()).flatten()
    }
}

impl<W> Drop for Writer<W> {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A write failure, kept to be reported again by every later call.
#[derive(Clone)]
struct Failure(io::ErrorKind, String);

impl Failure {
    fn error(&self) -> io::Error {
        io::Error::new(self.0, self.1.clone())
    }
}

/// Writes into chunks, reads evidence into them, and hands them to the
/// hashing threads and the sink `W` (see the module documentation).
pub struct Spool<W: Write + Send + 'static> {
    pool: Pool,
    cur: Mem,
    filled: usize,
    marks: Vec<Mark>,
    hasher: Option<HashQueue>,
    writer: Writer<W>,
    failed: Option<Failure>,
}

impl<W: Write + Send + 'static> Spool<W> {
    /// A spool writing to `out`; `hasher` hashes the evidence read with
    /// [`fill_from`](Self::fill_from).
    pub fn new(out: W, hasher: Option<HashQueue>) -> io::Result<Spool<W>> {
        let mut pool = Pool::new(CHUNK, CHUNKS);
        let cur = pool.take();
        Ok(Spool {
            pool,
            cur,
            filled: 0,
            marks: Vec::new(),
            hasher,
            writer: Writer::spawn(out)?,
            failed: None,
        })
    }

    /// The hasher given to [`new`](Self::new).
    pub fn hasher(&mut self) -> Option<&mut HashQueue> {
        self.hasher.as_mut()
    }

    /// Reads once from `r` straight into the archive (evidence of the
    /// current stream, hashed later); `seen` gets the bytes read. Returns
    /// the number of bytes read, 0 at the end, and the read error if any
    /// (bytes read before it are kept); `Err` is a write failure.
    pub fn fill_from(
        &mut self,
        r: &mut dyn Read,
        seen: &mut dyn FnMut(&[u8]),
    ) -> io::Result<(usize, Option<io::Error>)> {
        if self.filled == CHUNK {
            self.submit(CHUNK)?;
        }
        let start = self.filled;
        let space = &mut self.cur.bytes_mut()[start..];
        let n = loop {
            match r.read(space) {
                Ok(n) => break n.min(space.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Ok((0, Some(e))),
            }
        };
        if n == 0 {
            return Ok((0, None));
        }
        let end = start + n;
        seen(&self.cur.bytes()[start..end]);
        match self.marks.last_mut() {
            Some(Mark::Data(r)) if r.end == start => r.end = end,
            _ => self.marks.push(Mark::Data(start..end)),
        }
        self.filled = end;
        Ok((n, None))
    }

    /// Ends the current stream of evidence read with `fill_from`.
    pub fn end_stream(&mut self) {
        if self.hasher.is_some() {
            self.marks.push(Mark::End);
        }
    }

    /// Hands everything to the hashing threads and waits until the sink has
    /// everything but a last unaligned block (which stays for the next
    /// write); reports a write failure.
    pub fn sync(&mut self) -> io::Result<()> {
        self.submit(self.filled & !(ALIGN - 1))?;
        self.writer.wait()?;
        self.check()
    }

    /// Writes the rest, ends the writer thread and returns the sink,
    /// flushed.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit(self.filled)?;
        let out = self.writer.close();
        self.check()?;
        out.ok_or_else(|| io::Error::other("the bundle writer thread ended early"))
    }

    /// Freezes the current chunk: its evidence goes to the hashers, its
    /// first `write` bytes to the writer, the bytes after them to the
    /// start of a fresh chunk. Does nothing if there is nothing to do.
    fn submit(&mut self, write: usize) -> io::Result<()> {
        self.check()?;
        if write == 0 && self.marks.is_empty() {
            return Ok(());
        }
        let carry = self.filled - write;
        let mut next = self.pool.take();
        next.bytes_mut()[..carry].copy_from_slice(&self.cur.bytes()[write..self.filled]);
        let full = std::mem::replace(&mut self.cur, next);
        let shared = self.pool.share(full, write.max(self.filled));
        if let Some(h) = &mut self.hasher {
            for mark in self.marks.drain(..) {
                match mark {
                    Mark::Data(r) => h.update(&shared, r),
                    Mark::End => h.end_stream(),
                }
            }
            h.flush();
        }
        self.marks.clear();
        self.filled = carry;
        if write > 0 {
            let to_write = if write == shared_len(&shared) {
                shared
            } else {
                Arc::new(Prefix(shared, write))
            };
            self.writer.send(ToWriter::Write(to_write));
        }
        Ok(())
    }

    /// Reports a failure of the writer thread, now or earlier.
    fn check(&mut self) -> io::Result<()> {
        if self.failed.is_none()
            && let Ok(e) = self.writer.errors.try_recv()
        {
            self.failed = Some(Failure(e.kind(), e.to_string()));
        }
        match &self.failed {
            Some(f) => Err(f.error()),
            None => Ok(()),
        }
    }
}

fn shared_len(s: &Shared) -> usize {
    (**s).as_ref().len()
}

/// The first bytes of a shared chunk (the rest was carried over).
struct Prefix(Shared, usize);

impl AsRef<[u8]> for Prefix {
    fn as_ref(&self) -> &[u8] {
        &(*self.0).as_ref()[..self.1]
    }
}

impl<W: Write + Send + 'static> Write for Spool<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            if self.filled == CHUNK {
                self.submit(CHUNK)?;
            }
            let n = (CHUNK - self.filled).min(buf.len());
            self.cur.bytes_mut()[self.filled..self.filled + n].copy_from_slice(&buf[..n]);
            self.filled += n;
            buf = &buf[n..];
        }
        Ok(())
    }

    /// See [`sync`](Spool::sync): the last unaligned bytes stay.
    fn flush(&mut self) -> io::Result<()> {
        self.sync()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirt_hash::{Algorithms, MultiHasher};

    fn pattern(n: usize, seed: usize) -> Vec<u8> {
        (0..n).map(|i| ((i * 131 + seed) % 253) as u8).collect()
    }

    /// Records the writes it gets.
    #[derive(Clone, Default)]
    struct Log(
        Arc<std::sync::Mutex<Vec<(usize, bool)>>>,
        Arc<std::sync::Mutex<Vec<u8>>>,
    );

    impl Write for Log {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let aligned = buf.as_ptr().align_offset(ALIGN) == 0;
            self.0.lock().unwrap().push((buf.len(), aligned));
            self.1.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn bytes_hashes_and_alignment_survive_every_path() {
        let log = Log::default();
        let mut s = Spool::new(log.clone(), Some(HashQueue::new(Algorithms::default()))).unwrap();
        let mut want = Vec::new();
        let mut want_digests = Vec::new();
        for (i, n) in [3usize, CHUNK + 5, 0, 100, 2 * CHUNK]
            .into_iter()
            .enumerate()
        {
            s.write_all(b"header").unwrap();
            want.extend_from_slice(b"header");
            let data = pattern(n, i);
            let mut src = &data[..];
            let mut seen = 0;
            while s.fill_from(&mut src, &mut |b| seen += b.len()).unwrap().0 > 0 {}
            assert_eq!(seen, n);
            s.end_stream();
            want.extend_from_slice(&data);
            let mut m = MultiHasher::new(Algorithms::default());
            m.update(&data);
            want_digests.push(m.finalize());
            if i == 1 {
                s.sync().unwrap();
            }
        }
        s.sync().unwrap();
        let h = s.hasher().unwrap();
        let got: Vec<_> = std::iter::from_fn(|| h.next_digests()).collect();
        assert_eq!(got, want_digests);
        s.write_all(b"tail").unwrap();
        want.extend_from_slice(b"tail");
        s.finish().unwrap();
        assert!(log.1.lock().unwrap()[..] == want[..]);
        let writes = log.0.lock().unwrap();
        // Every write but the last is aligned in memory and length, so the
        // file offsets are aligned as well.
        for (len, aligned) in &writes[..writes.len() - 1] {
            assert!(*aligned && len % ALIGN == 0, "{writes:?}");
        }
    }

    struct Failing;
    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_failure_is_reported_and_stays() {
        let mut s = Spool::new(Failing, None).unwrap();
        s.write_all(&vec![1u8; CHUNK * 3]).unwrap_or(());
        let e = s.sync().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        assert!(s.write_all(&vec![1u8; CHUNK * 2]).is_err());
        assert!(s.finish().is_err());
    }
}
