//! Streaming writer of the canonical ZIP64 layout: needs only `Write`, so
//! it can write straight into an age encryptor or a pipe.

use super::{CentralEntry, Method, central_header, descriptor, local_header, tail};
use std::io::{self, Read, Write};

/// A sink that evidence can be read into directly, without a copy in
/// between (see [`crate::spool::Spool`]).
pub trait Fill: Write {
    /// Reads once from `r` straight into the sink's next bytes; `seen` gets
    /// the bytes read. Returns how many (0 at the end of `r`) and the read
    /// error, if any; `Err` is a failure to write.
    fn fill_from(
        &mut self,
        r: &mut dyn Read,
        seen: &mut dyn FnMut(&[u8]),
    ) -> io::Result<(usize, Option<io::Error>)>;
}

impl<W: Write + Send + 'static> Fill for crate::spool::Spool<W> {
    fn fill_from(
        &mut self,
        r: &mut dyn Read,
        seen: &mut dyn FnMut(&[u8]),
    ) -> io::Result<(usize, Option<io::Error>)> {
        crate::spool::Spool::fill_from(self, r, seen)
    }
}

/// Counts the bytes that go through, for member offsets.
struct Counting<W> {
    inner: W,
    pos: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)?;
        self.pos += buf.len() as u64;
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Fill> Counting<W> {
    fn fill_from(
        &mut self,
        r: &mut dyn Read,
        seen: &mut dyn FnMut(&[u8]),
    ) -> io::Result<(usize, Option<io::Error>)> {
        let (n, err) = self.inner.fill_from(r, seen)?;
        self.pos += n as u64;
        Ok((n, err))
    }
}

/// Writes members one after the other, then the central directory.
pub struct ZipWriter<W: Write> {
    out: Counting<W>,
    entries: Vec<CentralEntry>,
}

impl<W: Write> ZipWriter<W> {
    /// A writer at the start of `out`.
    pub fn new(out: W) -> Self {
        ZipWriter {
            out: Counting { inner: out, pos: 0 },
            entries: Vec::new(),
        }
    }

    /// A writer that continues an archive whose members `entries` end at
    /// `offset`, where `out` is positioned (to append to the last member's
    /// place without rewriting the ones before).
    pub(crate) fn resume(out: W, offset: u64, entries: Vec<CentralEntry>) -> Self {
        ZipWriter {
            out: Counting {
                inner: out,
                pos: offset,
            },
            entries,
        }
    }

    /// The sink (to reach it between members).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out.inner
    }

    /// Bytes written so far (the offset of the next member).
    pub fn position(&self) -> u64 {
        self.out.pos
    }

    /// Starts the member `name`; write its bytes to the returned writer and
    /// call [`EntryWriter::finish`].
    pub fn start(&mut self, name: &str, method: Method) -> io::Result<EntryWriter<'_, W>> {
        if !super::is_safe_name(name) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a valid member name: {name:?}"),
            ));
        }
        let offset = self.out.pos;
        self.out.write_all(&local_header(name, method))?;
        let data_start = self.out.pos;
        let sink = match method {
            Method::Store => Sink::Store(&mut self.out),
            Method::Deflate => Sink::Deflate(flate2::write::DeflateEncoder::new(
                &mut self.out,
                flate2::Compression::new(6),
            )),
            Method::Zstd => Sink::Zstd(zstd::stream::write::Encoder::new(&mut self.out, 3)?),
        };
        Ok(EntryWriter {
            sink,
            entries: &mut self.entries,
            name: name.to_string(),
            method,
            offset,
            data_start,
            crc: crc32fast::Hasher::new(),
            size: 0,
        })
    }

    /// Writes the member `name` with the bytes `data`.
    pub fn add(&mut self, name: &str, method: Method, data: &[u8]) -> io::Result<()> {
        let mut entry = self.start(name, method)?;
        entry.write_all(data)?;
        entry.finish()
    }

    /// Writes the central directory and the end records; returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        let cd_start = self.out.pos;
        let mut cd = Vec::with_capacity(self.entries.len() * 128);
        for e in &self.entries {
            cd.extend_from_slice(&central_header(e));
        }
        self.out.write_all(&cd)?;
        let cd_size = self.out.pos - cd_start;
        self.out
            .write_all(&tail(self.entries.len() as u64, cd_size, cd_start))?;
        self.out.flush()?;
        Ok(self.out.inner)
    }
}

enum Sink<'a, W: Write> {
    Store(&'a mut Counting<W>),
    Deflate(flate2::write::DeflateEncoder<&'a mut Counting<W>>),
    Zstd(zstd::stream::write::Encoder<'static, &'a mut Counting<W>>),
}

/// One member being written.
pub struct EntryWriter<'a, W: Write> {
    sink: Sink<'a, W>,
    entries: &'a mut Vec<CentralEntry>,
    name: String,
    method: Method,
    offset: u64,
    data_start: u64,
    crc: crc32fast::Hasher,
    size: u64,
}

impl<W: Write> Write for EntryWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Store(w) => w.write_all(buf)?,
            Sink::Deflate(w) => w.write_all(buf)?,
            Sink::Zstd(w) => w.write_all(buf)?,
        }
        self.crc.update(buf);
        self.size += buf.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Fill> EntryWriter<'_, W> {
    /// Reads once from `r` straight into a stored member: the bytes are
    /// not copied on the way. Returns the bytes read (0 at the end of `r`)
    /// and the read error, if any; `Err` is a failure to write, or a
    /// compressed member (write those with `write_all`).
    pub fn store_from(&mut self, r: &mut dyn Read) -> io::Result<(usize, Option<io::Error>)> {
        let Sink::Store(out) = &mut self.sink else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "only stored members are read into directly",
            ));
        };
        let crc = &mut self.crc;
        let (n, err) = out.fill_from(r, &mut |b| crc.update(b))?;
        self.size += n as u64;
        Ok((n, err))
    }
}

impl<W: Write> EntryWriter<'_, W> {
    /// Uncompressed bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Ends the member: flushes the compressor, writes the data descriptor.
    pub fn finish(self) -> io::Result<()> {
        let out = match self.sink {
            Sink::Store(w) => w,
            Sink::Deflate(w) => w.finish()?,
            Sink::Zstd(w) => w.finish()?,
        };
        let compressed = out.pos - self.data_start;
        let crc = self.crc.finalize();
        out.write_all(&descriptor(crc, compressed, self.size))?;
        self.entries.push(CentralEntry {
            name: self.name,
            method: self.method,
            crc,
            compressed,
            size: self.size,
            offset: self.offset,
        });
        Ok(())
    }
}
