//! Opening a log: memory-mapped when it is a plain file, decompressed as a
//! stream when it is gzip, bzip2, xz or zstd (detected by magic bytes, not
//! by name).

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;

/// How a file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Compression {
    /// gzip (`.gz`), including concatenated members.
    Gzip,
    /// bzip2 (`.bz2`), including concatenated streams.
    Bzip2,
    /// xz (`.xz`).
    Xz,
    /// Zstandard (`.zst`).
    Zstd,
}

impl Compression {
    /// The lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
        }
    }

    /// The compression whose magic bytes `head` starts with.
    pub fn detect(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|c| (b'1'..=b'9').contains(c))
        {
            Some(Compression::Bzip2)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Some(Compression::Xz)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }
}

/// A read-only memory map of a whole file.
pub(crate) struct Mapped {
    map: memmap2::Mmap,
}

impl Mapped {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }
}

/// Maps `file` read-only.
///
/// The map is only read. If another process truncates the file while it is
/// mapped, reading the lost pages faults (SIGBUS on Unix); that is why
/// mapping is an explicit choice (`LogReader::mmap`) and files that are
/// still being written can be read as streams instead.
#[allow(unsafe_code)]
fn map(file: &File, path: &Path) -> Result<Mapped> {
    // SAFETY: the map is read-only and private to this process; the crate
    // never writes through it. Concurrent truncation by another process is
    // the documented risk of memory maps (see above).
    let map = unsafe { memmap2::MmapOptions::new().map(file) }.map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    #[cfg(unix)]
    {
        // Sequential advice doubles read-ahead; a failure only costs speed.
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(Mapped { map })
}

/// An opened log.
pub(crate) enum Input {
    /// A plain file, mapped (or read whole when mapping is off and it is small).
    Mapped(Arc<Mapped>),
    /// A plain file read as a stream (mapping off).
    Plain,
    /// A compressed file, decompressed as a stream.
    Compressed(Compression),
    /// An empty file.
    Empty,
}

/// What [`open`] found.
pub(crate) struct Opened {
    pub input: Input,
    pub modified: Option<jiff::Timestamp>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Opens `path` read-only and decides how to read it.
pub(crate) fn open(path: &Path, use_mmap: bool) -> Result<Opened> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let meta = file.metadata().map_err(io_err(path))?;
    let size = meta.len();
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok());
    if size == 0 {
        return Ok(Opened {
            input: Input::Empty,
            modified,
        });
    }
    let mut magic = [0u8; 6];
    let n = read_up_to(&mut file, &mut magic).map_err(io_err(path))?;
    let input = match Compression::detect(&magic[..n]) {
        Some(c) => Input::Compressed(c),
        None if use_mmap => Input::Mapped(Arc::new(map(&file, path)?)),
        None => Input::Plain,
    };
    Ok(Opened { input, modified })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads as many bytes as fit into `buf` (fewer only at the end).
pub(crate) fn fill(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A decompressing (or plain) reader over `path`.
pub(crate) fn stream(
    path: &Path,
    compression: Option<Compression>,
) -> Result<Box<dyn Read + Send>> {
    let file = BufReader::with_capacity(1 << 20, File::open(path).map_err(io_err(path))?);
    Ok(match compression {
        None => Box::new(file),
        Some(Compression::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Some(Compression::Bzip2) => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        Some(Compression::Zstd) => Box::new(
            ruzstd::decoding::StreamingDecoder::new(file)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
                .map_err(io_err(path))?,
        ),
        Some(Compression::Xz) => Box::new(XzReader::spawn(file)),
    })
}

/// xz through `lzma-rs`, which writes into a `Write`: it runs on a thread of
/// its own and hands blocks over a bounded channel, so memory stays bounded.
struct XzReader {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    block: Vec<u8>,
    pos: usize,
    done: bool,
}

struct ChannelWriter(mpsc::SyncSender<io::Result<Vec<u8>>>);

impl io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(Ok(buf.to_vec()))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl XzReader {
    fn spawn(file: BufReader<File>) -> Self {
        let (tx, rx) = mpsc::sync_channel(8);
        std::thread::spawn(move || {
            let mut input = file;
            let mut out = io::BufWriter::with_capacity(1 << 18, ChannelWriter(tx.clone()));
            let result = lzma_rs::xz_decompress(&mut input, &mut out);
            let flushed = io::Write::flush(&mut out);
            if let Err(e) = result {
                let _ = tx.send(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    e.to_string(),
                )));
            } else if let Err(e) = flushed {
                let _ = tx.send(Err(e));
            }
        });
        XzReader {
            rx,
            block: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for XzReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.block.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(block)) => {
                    self.block = block;
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.block.len() - self.pos);
        buf[..n].copy_from_slice(&self.block[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(
            Compression::detect(&[0x1f, 0x8b, 8]),
            Some(Compression::Gzip)
        );
        assert_eq!(Compression::detect(b"BZh91AY"), Some(Compression::Bzip2));
        assert_eq!(Compression::detect(b"BZhX"), None);
        assert_eq!(
            Compression::detect(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Some(Compression::Xz)
        );
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd]),
            Some(Compression::Zstd)
        );
        assert_eq!(Compression::detect(b"Jan 1 "), None);
    }
}
