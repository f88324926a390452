//! Hash lists: known-bad indicators (`--bad-hashes`) and known-good files
//! (`--known-good`). A list is one hash per line, optionally followed by a
//! comment after `;`, `,`, a tab or a space (LOKI's `hash;comment` IOC
//! files), or a CSV/TSV with a header that names the hash column(s).
//! MD5, SHA-1, SHA-256 and BLAKE3 are told apart by length (SHA-256 and
//! BLAKE3 share one and are both looked up).

use crate::error::{Error, Result};
use mirt_core::{Problem, ProblemKind};
use mirt_hash::{Algorithm, Algorithms, Digests, parse_hex_digest, to_hex};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A loaded hash list.
#[derive(Debug, Default)]
pub struct HashList {
    name: String,
    md5: HashMap<[u8; 16], u32>,
    sha1: HashMap<[u8; 20], u32>,
    long: HashMap<[u8; 32], u32>,
    comments: Vec<String>,
}

/// A file's hash found in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HashHit {
    /// The list's file name.
    pub list: String,
    /// Which digest matched (`md5`, `sha1`, `sha256`, `blake3`).
    pub algorithm: &'static str,
    /// The digest, lowercase hex.
    pub hash: String,
    /// The list's comment for that hash, if any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

const HEADER_WORDS: &[&str] = &[
    "md5",
    "sha1",
    "sha-1",
    "sha256",
    "sha-256",
    "blake3",
    "hash",
    "digest",
    "ioc",
    "indicator",
];

impl HashList {
    /// Loads the list at `path`; lines that hold no hash are returned as
    /// problems (with their line number), not dropped silently.
    pub fn load(path: &Path) -> Result<(HashList, Vec<Problem>)> {
        let bytes = std::fs::read(path).map_err(|source| Error::HashList {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (list, bad) = HashList::parse(&name, &String::from_utf8_lossy(&bytes));
        let problems = bad
            .into_iter()
            .map(|(line, reason)| {
                let mut p = Problem::file(ProblemKind::DamagedRecord, PathBuf::from(path), reason);
                p.line = Some(line);
                p
            })
            .collect();
        Ok((list, problems))
    }

    /// Reads list text; returns the list and the lines (1-based) it could
    /// not read, with the reason.
    pub fn parse(name: &str, text: &str) -> (HashList, Vec<(u64, String)>) {
        let mut list = HashList {
            name: name.to_string(),
            ..HashList::default()
        };
        let mut bad = Vec::new();
        let mut columns: Option<(char, Vec<usize>)> = None;
        let mut seen_data = false;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i as u64 + 1;
            let line = raw.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
                continue;
            }
            if !seen_data && columns.is_none() {
                seen_data = true;
                if let Some(header) = header_columns(line) {
                    columns = Some(header);
                    continue;
                }
            }
            let found = match &columns {
                Some((sep, cols)) => list.add_row(line, *sep, cols),
                None => list.add_line(line),
            };
            if let Err(reason) = found {
                bad.push((line_no, reason));
            }
        }
        (list, bad)
    }

    fn add_line(&mut self, line: &str) -> std::result::Result<(), String> {
        let (hash, comment) = match line.find([';', ',', '\t', ' ', '|']) {
            Some(i) => (&line[..i], line[i + 1..].trim()),
            None => (line, ""),
        };
        self.add(unquote(hash), comment)
    }

    fn add_row(
        &mut self,
        line: &str,
        sep: char,
        cols: &[usize],
    ) -> std::result::Result<(), String> {
        let cells: Vec<&str> = line.split(sep).map(unquote).collect();
        let comment: Vec<&str> = cells
            .iter()
            .enumerate()
            .filter(|(i, c)| !cols.contains(i) && !c.is_empty())
            .map(|(_, c)| *c)
            .collect();
        let comment = comment.join(" | ");
        let mut added = 0;
        for &c in cols {
            if let Some(v) = cells.get(c).copied().filter(|v| !v.is_empty()) {
                self.add(v, &comment)?;
                added += 1;
            }
        }
        if added == 0 {
            return Err("no hash in the hash column(s)".to_string());
        }
        Ok(())
    }

    fn add(&mut self, hash: &str, comment: &str) -> std::result::Result<(), String> {
        let (bytes, len) = parse_hex_digest(hash).map_err(|e| e.to_string())?;
        let idx = self.comments.len() as u32;
        self.comments.push(comment.to_string());
        match len {
            16 => self.md5.insert(bytes.try_into().unwrap_or_default(), idx),
            20 => self.sha1.insert(bytes.try_into().unwrap_or_default(), idx),
            _ => self.long.insert(bytes.try_into().unwrap_or_default(), idx),
        };
        Ok(())
    }

    /// The list's name (its file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of distinct hashes.
    pub fn len(&self) -> usize {
        self.md5.len() + self.sha1.len() + self.long.len()
    }

    /// Whether the list holds no hash.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The optional algorithms this list needs computed (MD5, SHA-1).
    pub fn needs(&self) -> Algorithms {
        Algorithms {
            md5: !self.md5.is_empty(),
            sha1: !self.sha1.is_empty(),
        }
    }

    /// The list's entries that match `digests`.
    pub fn lookup(&self, digests: &Digests) -> Vec<HashHit> {
        let mut hits = Vec::new();
        let mut hit = |algorithm: Algorithm, idx: Option<&u32>, hash: &[u8]| {
            if let Some(&i) = idx {
                hits.push(HashHit {
                    list: self.name.clone(),
                    algorithm: algorithm.as_str(),
                    hash: to_hex(hash),
                    comment: self.comments[i as usize].clone(),
                });
            }
        };
        hit(
            Algorithm::Sha256,
            self.long.get(&digests.sha256),
            &digests.sha256,
        );
        hit(
            Algorithm::Blake3,
            self.long.get(&digests.blake3),
            &digests.blake3,
        );
        if let Some(d) = &digests.sha1 {
            hit(Algorithm::Sha1, self.sha1.get(d), d);
        }
        if let Some(d) = &digests.md5 {
            hit(Algorithm::Md5, self.md5.get(d), d);
        }
        hits
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(s)
        .trim()
}

/// The separator and hash columns of a header line, if it is one.
fn header_columns(line: &str) -> Option<(char, Vec<usize>)> {
    let sep = [',', ';', '\t'].into_iter().find(|c| line.contains(*c))?;
    let cells: Vec<String> = line.split(sep).map(|c| unquote(c).to_lowercase()).collect();
    if cells.iter().any(|c| parse_hex_digest(c).is_ok()) {
        return None;
    }
    let cols: Vec<usize> = cells
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            HEADER_WORDS
                .iter()
                .any(|w| c.as_str() == *w || c.contains(w))
        })
        .map(|(i, _)| i)
        .collect();
    (!cols.is_empty()).then_some((sep, cols))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirt_hash::MultiHasher;

    fn digests(data: &[u8]) -> Digests {
        let mut h = MultiHasher::new(Algorithms::all());
        h.update(data);
        h.finalize()
    }

    #[test]
    fn loki_style_lines_with_comments() {
        let text = "# comment\n\
            900150983cd24fb0d6963f7d28e17f72;abc as md5\n\
            ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad;abc as sha256\n\
            nothex;broken\n";
        let (list, bad) = HashList::parse("iocs.txt", text);
        assert_eq!(list.len(), 2);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].0, 4);
        assert_eq!(
            list.needs(),
            Algorithms {
                md5: true,
                sha1: false
            }
        );
        let hits = list.lookup(&digests(b"abc"));
        let algos: Vec<_> = hits.iter().map(|h| h.algorithm).collect();
        assert_eq!(algos, ["sha256", "md5"]);
        assert_eq!(hits[1].comment, "abc as md5");
        assert!(list.lookup(&digests(b"abd")).is_empty());
    }

    #[test]
    fn csv_with_a_header_uses_the_hash_columns() {
        let text = "name,SHA1,size\n\
            \"abc.txt\",\"a9993e364706816aba3e25717850c26c9cd0d89d\",3\n";
        let (list, bad) = HashList::parse("good.csv", text);
        assert!(bad.is_empty(), "{bad:?}");
        let hits = list.lookup(&digests(b"abc"));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].algorithm, "sha1");
        assert_eq!(hits[0].comment, "abc.txt | 3");
    }

    #[test]
    fn blake3_digests_are_found() {
        let b3 = digests(b"abc").blake3_hex();
        let (list, _) = HashList::parse("b3", &format!("{b3}  abc\n"));
        assert_eq!(list.lookup(&digests(b"abc"))[0].algorithm, "blake3");
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_without_panic(text in "\\PC{0,400}") {
            let _ = HashList::parse("fuzz", &text);
        }

        #[test]
        fn written_digests_are_found(data: Vec<u8>, sep in "[;,\t ]") {
            let d = digests(&data);
            let text = format!(
                "{}{sep}x\n{}{sep}y\n",
                d.sha256_hex(),
                to_hex(d.md5.as_ref().unwrap())
            );
            let (list, bad) = HashList::parse("p", &text);
            proptest::prop_assert!(bad.is_empty());
            proptest::prop_assert_eq!(list.lookup(&d).len(), 2);
        }
    }
}
