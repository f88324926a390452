//! Reading files with holes (sparse disk images) without having the kernel
//! fill gigabytes of zero pages: holes are answered with zeros directly,
//! only data extents are read. The bytes seen are exactly those `read`
//! would give; only the work differs.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// A file read with positional reads, holes skipped (Linux; elsewhere
/// every byte is read).
#[derive(Debug)]
pub struct SparseFile {
    file: File,
    pos: u64,
    /// The current segment `[pos, seg_end)` is a hole (`true`) or data.
    hole: bool,
    seg_end: u64,
    /// Whether the file system answers SEEK_DATA / SEEK_HOLE.
    holes_known: bool,
}

impl SparseFile {
    /// Wraps `file`, reading from its start.
    pub fn new(file: File) -> SparseFile {
        SparseFile {
            file,
            pos: 0,
            hole: false,
            seg_end: 0,
            holes_known: cfg!(target_os = "linux"),
        }
    }

    /// The file.
    pub fn get_ref(&self) -> &File {
        &self.file
    }

    /// Finds the segment that starts at `self.pos`.
    #[cfg(target_os = "linux")]
    fn locate(&mut self) {
        use rustix::fs::{SeekFrom as Rx, seek};
        match seek(&self.file, Rx::Data(self.pos)) {
            Ok(data) if data > self.pos => {
                self.hole = true;
                self.seg_end = data;
            }
            Ok(_) => {
                self.hole = false;
                self.seg_end = seek(&self.file, Rx::Hole(self.pos)).unwrap_or(u64::MAX);
            }
            // No data at or after pos: a hole up to the end of the file,
            // or pos is at or past the end (then read for real to see EOF).
            Err(rustix::io::Errno::NXIO) => {
                let len = self.file.metadata().map(|m| m.len()).unwrap_or(0);
                self.hole = self.pos < len;
                self.seg_end = if self.hole { len } else { u64::MAX };
            }
            Err(_) => {
                self.holes_known = false;
                self.hole = false;
                self.seg_end = u64::MAX;
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn locate(&mut self) {
        self.hole = false;
        self.seg_end = u64::MAX;
    }

    fn read_at(&self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_at(&self.file, buf, self.pos)
        }
        #[cfg(windows)]
        {
            std::os::windows::fs::FileExt::seek_read(&self.file, buf, self.pos)
        }
    }
}

impl Read for SparseFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.holes_known {
            let n = self.read_at(buf)?;
            self.pos += n as u64;
            return Ok(n);
        }
        if self.pos >= self.seg_end {
            self.locate();
        }
        let room = (self.seg_end - self.pos).min(buf.len() as u64) as usize;
        let n = if self.hole {
            buf[..room].fill(0);
            room
        } else {
            self.read_at(&mut buf[..room])?
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SparseFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.file.metadata()?.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target != self.pos {
            self.pos = target;
            // Re-locate at the next read.
            self.seg_end = 0;
        }
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_the_same_bytes_as_a_plain_read_holes_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.img");
        let mut f = File::create(&path).unwrap();
        f.write_all(b"head").unwrap();
        f.set_len(5 << 20).unwrap();
        f.seek(SeekFrom::Start(3 << 20)).unwrap();
        f.write_all(&[7u8; 10000]).unwrap();
        drop(f);
        let plain = std::fs::read(&path).unwrap();
        let mut got = Vec::new();
        let mut s = SparseFile::new(File::open(&path).unwrap());
        let mut buf = vec![0u8; 300_000];
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got == plain, "{} vs {} bytes", got.len(), plain.len());
        s.seek(SeekFrom::Start((3 << 20) + 5)).unwrap();
        let mut two = [0u8; 2];
        s.read_exact(&mut two).unwrap();
        assert_eq!(two, [7, 7]);
        assert_eq!(s.seek(SeekFrom::End(-1)).unwrap(), (5 << 20) - 1);
    }
}
