//! The catalog's two largest tables in compact stored forms: tens of
//! thousands of literal texts and atoms, which the rule-set cache would
//! otherwise decode one small object at a time (a fifth of loading a
//! cached SigmaHQ set). Texts are one string and their end offsets, atoms
//! seven bytes each; both are checked when read back.

use super::catalog::Atom;
use crate::compile::pattern::Pos;
use serde::de::{Error as _, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ops::Index;

/// Literal texts by number, in one string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Texts {
    joined: String,
    ends: Vec<u32>,
}

impl Texts {
    #[cfg(test)]
    fn len(&self) -> usize {
        self.ends.len()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Texts {
    fn from_iter<I: IntoIterator<Item = S>>(texts: I) -> Texts {
        let mut out = Texts::default();
        for t in texts {
            out.joined.push_str(t.as_ref());
            out.ends.push(out.joined.len() as u32);
        }
        out
    }
}

impl Index<usize> for Texts {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        &self.joined[start..self.ends[i] as usize]
    }
}

impl Serialize for Texts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ends: Vec<u8> = self.ends.iter().flat_map(|e| e.to_le_bytes()).collect();
        (&self.joined, Bytes(&ends)).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Texts, D::Error> {
        let (joined, ByteBuf(ends)) = <(String, ByteBuf)>::deserialize(d)?;
        if ends.len() % 4 != 0 {
            return Err(D::Error::custom("text offsets are not whole"));
        }
        let ends: Vec<u32> = ends
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let mut last = 0;
        for &end in &ends {
            if end < last || !joined.is_char_boundary(end as usize) {
                return Err(D::Error::custom("text offsets do not fit the texts"));
            }
            last = end;
        }
        Ok(Texts { joined, ends })
    }
}

/// Atoms as seven bytes each: slot, text (little-endian), then the case
/// flag and the position in one byte.
pub(crate) mod atoms {
    use super::*;

    const SIZE: usize = 7;
    const POSITIONS: [Pos; 4] = [Pos::Exact, Pos::Prefix, Pos::Suffix, Pos::Contains];

    pub(crate) fn serialize<S: Serializer>(atoms: &[Atom], s: S) -> Result<S::Ok, S::Error> {
        let mut out = Vec::with_capacity(atoms.len() * SIZE);
        for a in atoms {
            out.extend(a.slot.to_le_bytes());
            out.extend(a.text.to_le_bytes());
            let pos = POSITIONS.iter().position(|p| *p == a.pos).unwrap_or(0) as u8;
            out.push(u8::from(a.cased) | pos << 1);
        }
        Bytes(&out).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Atom>, D::Error> {
        let ByteBuf(bytes) = ByteBuf::deserialize(d)?;
        if bytes.len() % SIZE != 0 {
            return Err(D::Error::custom("atoms are not whole"));
        }
        bytes
            .chunks_exact(SIZE)
            .map(|c| {
                let flags = c[6];
                let pos = POSITIONS
                    .get(usize::from(flags >> 1))
                    .ok_or_else(|| D::Error::custom("an atom has no position"))?;
                Ok(Atom {
                    slot: u16::from_le_bytes([c[0], c[1]]),
                    text: u32::from_le_bytes([c[2], c[3], c[4], c[5]]),
                    cased: flags & 1 == 1,
                    pos: *pos,
                })
            })
            .collect()
    }
}

/// Bytes written as one byte string (MessagePack `bin`), not a list.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

/// A byte string read back.
struct ByteBuf(Vec<u8>);

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ByteBuf, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
        }
        d.deserialize_bytes(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Both {
        texts: Texts,
        #[serde(with = "atoms")]
        atoms: Vec<Atom>,
    }

    #[test]
    fn tables_read_back_as_written() {
        let both = Both {
            texts: ["", "cmd.exe", "é\\ü", "x"].into_iter().collect(),
            atoms: POSITIONS_ALL
                .iter()
                .enumerate()
                .map(|(i, pos)| Atom {
                    slot: u16::MAX - i as u16,
                    cased: i % 2 == 0,
                    text: 70_000 + i as u32,
                    pos: *pos,
                })
                .collect(),
        };
        assert_eq!((&both.texts[0], &both.texts[2]), ("", "é\\ü"));
        assert_eq!(both.texts.len(), 4);
        let bytes = rmp_serde::to_vec(&both).unwrap();
        let back: Both = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, both);
    }

    const POSITIONS_ALL: [Pos; 4] = [Pos::Contains, Pos::Exact, Pos::Suffix, Pos::Prefix];

    #[test]
    fn damaged_tables_are_refused() {
        // An offset inside a character, and past the end.
        for ends in [vec![1u8, 0, 0, 0], vec![9, 0, 0, 0], vec![1, 0, 0]] {
            let bytes = rmp_serde::to_vec(&("é", Bytes(&ends))).unwrap();
            assert!(rmp_serde::from_slice::<Texts>(&bytes).is_err(), "{ends:?}");
        }
        #[derive(Deserialize, Debug)]
        struct Only(#[serde(with = "atoms")] Vec<Atom>);
        for atom in [vec![0u8; 6], vec![0, 0, 0, 0, 0, 0, 8]] {
            let bytes = rmp_serde::to_vec(&(Bytes(&atom),)).unwrap();
            let read = rmp_serde::from_slice::<Only>(&bytes).map(|o| o.0);
            assert!(read.is_err(), "{atom:?}");
        }
    }
}
