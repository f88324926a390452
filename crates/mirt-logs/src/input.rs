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

/// A text stream: decompressed if need be, and UTF-16 (told by its byte
/// order mark) converted to UTF-8. Returns the reader and the encoding it
/// converted from, if any.
pub(crate) fn text_stream(
    path: &Path,
    compression: Option<Compression>,
) -> Result<(Box<dyn Read + Send>, Option<&'static str>)> {
    let mut reader = BufReader::with_capacity(1 << 16, stream(path, compression)?);
    let start = io::BufRead::fill_buf(&mut reader).map_err(io_err(path))?;
    let big_endian = match start {
        [0xff, 0xfe, ..] => false,
        [0xfe, 0xff, ..] => true,
        _ => return Ok((Box::new(reader), None)),
    };
    io::BufRead::consume(&mut reader, 2);
    let name = if big_endian { "utf-16be" } else { "utf-16le" };
    Ok((Box::new(Utf16Reader::new(reader, big_endian)), Some(name)))
}

/// Whether `head` starts with a UTF-16 byte order mark.
pub(crate) fn is_utf16(head: &[u8]) -> bool {
    head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff])
}

/// A UTF-16 buffer (with its byte order mark) as UTF-8.
pub(crate) fn utf16_to_utf8(data: &[u8]) -> Vec<u8> {
    let big_endian = data.starts_with(&[0xfe, 0xff]);
    let mut out = Vec::with_capacity(data.len());
    let _ = Utf16Reader::new(&data[2..], big_endian).read_to_end(&mut out);
    out
}

/// UTF-16 to UTF-8, as a stream. Unpaired surrogates and a dangling last
/// byte become U+FFFD (and so are flagged as replaced characters later).
struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    /// An odd byte left from the previous read.
    carry: Option<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: Read> Utf16Reader<R> {
    fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            raw: vec![0; 1 << 16],
            carry: None,
            high: None,
            out: Vec::with_capacity(1 << 17),
            pos: 0,
            done: false,
        }
    }

    fn push(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    fn unit(&mut self, u: u16) {
        match (self.high.take(), u) {
            (Some(h), 0xdc00..=0xdfff) => {
                let c = 0x10000 + ((u32::from(h) - 0xd800) << 10) + (u32::from(u) - 0xdc00);
                self.push(char::from_u32(c).unwrap_or('\u{fffd}'));
            }
            (high, _) => {
                if high.is_some() {
                    self.push('\u{fffd}');
                }
                match u {
                    0xd800..=0xdbff => self.high = Some(u),
                    0xdc00..=0xdfff => self.push('\u{fffd}'),
                    _ => self.push(char::from_u32(u32::from(u)).unwrap_or('\u{fffd}')),
                }
            }
        }
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        let mut n = 0;
        if let Some(b) = self.carry.take() {
            self.raw[0] = b;
            n = 1;
        }
        let got = self.inner.read(&mut self.raw[n..])?;
        if got == 0 {
            self.done = true;
            if self.high.take().is_some() {
                self.push('\u{fffd}');
            }
            if n == 1 {
                self.push('\u{fffd}');
            }
            return Ok(());
        }
        n += got;
        if n % 2 == 1 {
            self.carry = Some(self.raw[n - 1]);
            n -= 1;
        }
        for i in (0..n).step_by(2) {
            let pair = [self.raw[i], self.raw[i + 1]];
            let u = if self.big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            };
            self.unit(u);
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
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
    fn utf16_becomes_utf8() {
        let text = "Zeitüberschreitung 😀\r\nzwei\n";
        for big in [false, true] {
            let mut raw: Vec<u8> = Vec::new();
            for u in text.encode_utf16() {
                raw.extend_from_slice(&if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
            // A lone high surrogate and a dangling byte at the end.
            raw.extend_from_slice(&if big {
                0xd800u16.to_be_bytes()
            } else {
                0xd800u16.to_le_bytes()
            });
            raw.push(b'x');
            // Read through a reader that hands out odd-sized pieces.
            struct Odd(Vec<u8>, usize);
            impl Read for Odd {
                fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                    let n = buf.len().min(3).min(self.0.len() - self.1);
                    buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
                    self.1 += n;
                    Ok(n)
                }
            }
            let mut out = String::new();
            Utf16Reader::new(Odd(raw, 0), big)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, format!("{text}\u{fffd}\u{fffd}"));
        }
    }

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
