//! Binary XML as EVTX chunks hold it: element and attribute names stored
//! once per chunk and referred to by offset afterwards, template
//! definitions stored once per chunk with the first record that uses them,
//! and template instances with typed substitution values.
//!
//! Offsets in BinXML are relative to the chunk, so a record is encoded for
//! the place it will have in its chunk; names and templates it introduces
//! are only added to the chunk's tables when the record is kept.

use crate::error::{Error, Result};
use crate::value::ty;
use crate::xml::{Content, Element, Instance, Leaf, SlotValue};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// BinXML token bytes.
mod token {
    pub const EOF: u8 = 0x00;
    pub const OPEN_START: u8 = 0x01;
    pub const CLOSE_START: u8 = 0x02;
    pub const CLOSE_EMPTY: u8 = 0x03;
    pub const END_ELEMENT: u8 = 0x04;
    pub const VALUE: u8 = 0x05;
    pub const ATTRIBUTE: u8 = 0x06;
    pub const TEMPLATE_INSTANCE: u8 = 0x0c;
    pub const NORMAL_SUBSTITUTION: u8 = 0x0d;
    pub const OPTIONAL_SUBSTITUTION: u8 = 0x0e;
    pub const FRAGMENT_HEADER: u8 = 0x0f;
    /// Set on an element start with attributes, and on an attribute that
    /// another follows.
    pub const MORE: u8 = 0x40;
}

const FRAGMENT_HEADER: [u8; 4] = [token::FRAGMENT_HEADER, 1, 1, 0];
const NO_DEPENDENCY: u16 = 0xffff;

/// A chunk's name and template tables: where each name and template
/// definition was stored, and the heads of the hash buckets the chunk
/// header lists.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    names: FastMap<String, u32>,
    pub(crate) string_buckets: [u32; 64],
    /// Each template's definition offset and id.
    templates: FastMap<Element, (u32, u32)>,
    pub(crate) template_buckets: [u32; 32],
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            names: FastMap::default(),
            string_buckets: [0; 64],
            templates: FastMap::default(),
            template_buckets: [0; 32],
        }
    }
}

/// A map with a fast hasher: each record looks its templates up, and
/// SipHash over a whole template tree cost a fifth of the writing time.
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// Multiply-rotate hashing a word at a time (as rustc's FxHash does); no
/// defence against crafted keys is needed for a test writer's own tables.
#[derive(Default)]
struct WordHasher(u64);

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.add(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        let rest = words.remainder();
        last[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(last) ^ (rest.len() as u64) << 56);
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// As Windows writes them: template instances with typed values.
    #[default]
    Template,
    /// Plain elements with all values as text, no templates. Readers see
    /// every value as a string; useful to test that path of a parser.
    Plain,
}

/// Encodes one record's BinXML at chunk offset `base`.
pub(crate) struct Encoder<'t> {
    tables: &'t Tables,
    base: u32,
    record_id: u64,
    out: Vec<u8>,
    new_names: Vec<(String, u32)>,
    new_templates: Vec<(Element, (u32, u32))>,
    string_buckets: [u32; 64],
    template_buckets: [u32; 32],
}

impl<'t> Encoder<'t> {
    pub(crate) fn new(tables: &'t Tables, base: u32, record_id: u64) -> Self {
        Encoder {
            tables,
            base,
            record_id,
            out: Vec::with_capacity(1024),
            new_names: Vec::new(),
            new_templates: Vec::new(),
            string_buckets: tables.string_buckets,
            template_buckets: tables.template_buckets,
        }
    }

    /// The record's BinXML: a fragment holding the instance (or its plain
    /// elements), then end of stream.
    pub(crate) fn record(mut self, instance: &Instance, encoding: Encoding) -> Result<Encoded> {
        self.out.extend_from_slice(&FRAGMENT_HEADER);
        match encoding {
            Encoding::Template => self.instance(instance, false)?,
            Encoding::Plain => self.element(&instance.resolve(), false)?,
        }
        self.out.push(token::EOF);
        Ok(Encoded {
            bytes: self.out,
            new_names: self.new_names,
            new_templates: self.new_templates,
            string_buckets: self.string_buckets,
            template_buckets: self.template_buckets,
        })
    }

    /// The chunk offset the next byte will have.
    fn here(&self) -> u32 {
        self.base + self.out.len() as u32
    }

    fn u16(&mut self, v: u16) {
        self.out.extend(v.to_le_bytes());
    }

    fn u32(&mut self, v: u32) {
        self.out.extend(v.to_le_bytes());
    }

    fn patch_u32(&mut self, at: usize, v: u32) {
        self.out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn too_long(&self, what: &str, len: usize) -> Error {
        Error::ValueTooLong {
            record_id: self.record_id,
            what: what.to_string(),
            len,
        }
    }

    /// A name reference: the offset of the name, followed by the name itself
    /// the first time the chunk sees it.
    fn name(&mut self, name: &str) -> Result<()> {
        let known = self.tables.names.get(name).copied().or_else(|| {
            self.new_names
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, offset)| *offset)
        });
        if let Some(offset) = known {
            self.u32(offset);
            return Ok(());
        }
        let units: Vec<u16> = name.encode_utf16().collect();
        let count = u16::try_from(units.len()).map_err(|_| self.too_long(name, units.len() * 2))?;
        let offset = self.here() + 4;
        self.u32(offset);
        let hash = name_hash(&units);
        let bucket = usize::from(hash) % self.string_buckets.len();
        // The new name heads its bucket and links to the previous head.
        self.u32(self.string_buckets[bucket]);
        self.string_buckets[bucket] = offset;
        self.u16(hash);
        self.u16(count);
        units.iter().for_each(|u| self.u16(*u));
        self.u16(0);
        self.new_names.push((name.to_string(), offset));
        Ok(())
    }

    fn element(&mut self, e: &Element, in_template: bool) -> Result<()> {
        let has_attributes = !e.attributes.is_empty();
        let more = if has_attributes { token::MORE } else { 0 };
        self.out.push(token::OPEN_START | more);
        if in_template {
            self.u16(e.dependency.unwrap_or(NO_DEPENDENCY));
        }
        let size_at = self.out.len();
        self.u32(0);
        self.name(&e.name)?;
        if has_attributes {
            let list_at = self.out.len();
            self.u32(0);
            for (i, (name, leaf)) in e.attributes.iter().enumerate() {
                let more = if i + 1 < e.attributes.len() {
                    token::MORE
                } else {
                    0
                };
                self.out.push(token::ATTRIBUTE | more);
                self.name(name)?;
                self.leaf(leaf)?;
            }
            let list_size = self.out.len() - list_at - 4;
            self.patch_u32(list_at, list_size as u32);
        }
        if e.children.is_empty() {
            self.out.push(token::CLOSE_EMPTY);
        } else {
            self.out.push(token::CLOSE_START);
            for child in &e.children {
                match child {
                    Content::Element(c) => self.element(c, in_template)?,
                    Content::Leaf(leaf) => self.leaf(leaf)?,
                }
            }
            self.out.push(token::END_ELEMENT);
        }
        // The size counts what follows the size field, to the element's end.
        let size = self.out.len() - size_at - 4;
        self.patch_u32(size_at, size as u32);
        Ok(())
    }

    fn leaf(&mut self, leaf: &Leaf) -> Result<()> {
        match leaf {
            Leaf::Text(text) => {
                let units: Vec<u16> = text.encode_utf16().collect();
                let count =
                    u16::try_from(units.len()).map_err(|_| self.too_long(text, units.len() * 2))?;
                self.out.push(token::VALUE);
                self.out.push(ty::STRING);
                self.u16(count);
                units.iter().for_each(|u| self.u16(*u));
            }
            Leaf::Slot {
                index,
                ty,
                optional,
            } => {
                self.out.push(if *optional {
                    token::OPTIONAL_SUBSTITUTION
                } else {
                    token::NORMAL_SUBSTITUTION
                });
                self.u16(*index);
                self.out.push(*ty);
            }
        }
        Ok(())
    }

    /// A template instance: a reference to the template's definition (the
    /// definition itself the first time the chunk sees it), then the values.
    fn instance(&mut self, instance: &Instance, nested: bool) -> Result<()> {
        let known = self
            .tables
            .templates
            .get(&instance.template)
            .copied()
            .or_else(|| {
                self.new_templates
                    .iter()
                    .find(|(t, _)| *t == instance.template)
                    .map(|(_, known)| *known)
            });
        self.out.push(token::TEMPLATE_INSTANCE);
        self.out.push(1);
        match known {
            Some((offset, id)) => {
                self.u32(id);
                self.u32(offset);
            }
            None => {
                let guid = template_guid(&instance.template);
                let id = u32::from_le_bytes([guid[0], guid[1], guid[2], guid[3]]);
                self.u32(id);
                self.template_definition(&instance.template, id, guid)?;
            }
        }
        self.values(&instance.values, nested)
    }

    fn template_definition(&mut self, template: &Element, id: u32, guid: [u8; 16]) -> Result<()> {
        let offset = self.here() + 4;
        self.u32(offset);
        let bucket = id as usize % self.template_buckets.len();
        self.u32(self.template_buckets[bucket]);
        self.template_buckets[bucket] = offset;
        self.out.extend_from_slice(&guid);
        let size_at = self.out.len();
        self.u32(0);
        self.out.extend_from_slice(&FRAGMENT_HEADER);
        self.element(template, true)?;
        self.out.push(token::EOF);
        let size = self.out.len() - size_at - 4;
        self.patch_u32(size_at, size as u32);
        self.new_templates.push((template.clone(), (offset, id)));
        Ok(())
    }

    /// The value count and descriptors (size, type), then the values, each
    /// written where it will stay so that nested instances get their
    /// offsets right.
    fn values(&mut self, values: &[SlotValue], nested: bool) -> Result<()> {
        self.u32(values.len() as u32);
        let table_at = self.out.len();
        self.out.resize(table_at + 4 * values.len(), 0);
        for (i, value) in values.iter().enumerate() {
            let start = self.out.len();
            let type_code = match value {
                SlotValue::Value(v) => {
                    v.encode(&mut self.out);
                    v.type_code()
                }
                SlotValue::Nested(inner) => {
                    self.instance(inner, true)?;
                    self.out.push(token::EOF);
                    ty::BINXML
                }
            };
            let len = self.out.len() - start;
            let size = u16::try_from(len).map_err(|_| match value {
                // A data section this long cannot fit in a chunk anyway.
                SlotValue::Nested(_) => Error::RecordTooLarge {
                    record_id: self.record_id,
                    size: len,
                    max: crate::chunk::CHUNK_SIZE - crate::chunk::CHUNK_HEADER_SIZE,
                },
                SlotValue::Value(_) if nested => {
                    self.too_long(&format!("data item {}", i + 1), len)
                }
                SlotValue::Value(_) => self.too_long(&format!("System value {i}"), len),
            })?;
            let at = table_at + 4 * i;
            self.out[at..at + 2].copy_from_slice(&size.to_le_bytes());
            self.out[at + 2] = type_code;
        }
        Ok(())
    }
}

/// A record's BinXML and what it adds to its chunk's tables.
pub(crate) struct Encoded {
    pub(crate) bytes: Vec<u8>,
    new_names: Vec<(String, u32)>,
    new_templates: Vec<(Element, (u32, u32))>,
    string_buckets: [u32; 64],
    template_buckets: [u32; 32],
}

impl Encoded {
    /// Adds the record's names and templates to the chunk's tables.
    pub(crate) fn commit(self, tables: &mut Tables) {
        tables.names.extend(self.new_names);
        tables.templates.extend(self.new_templates);
        tables.string_buckets = self.string_buckets;
        tables.template_buckets = self.template_buckets;
    }
}

/// The hash Windows stores with a name: hash * 65599 + each UTF-16 unit,
/// low 16 bits.
fn name_hash(units: &[u16]) -> u16 {
    let hash = units.iter().fold(0u32, |h, &u| {
        h.wrapping_mul(65599).wrapping_add(u32::from(u))
    });
    hash as u16
}

/// A template's GUID, derived from its structure, so that the same
/// template always has the same GUID and fixtures stay byte-identical.
fn template_guid(template: &Element) -> [u8; 16] {
    let mut shape = Vec::with_capacity(1024);
    signature(template, &mut shape);
    let mut guid = [0; 16];
    guid[..8].copy_from_slice(&fnv1a(&shape, 0xcbf2_9ce4_8422_2325).to_le_bytes());
    guid[8..].copy_from_slice(&fnv1a(&shape, 0x6c62_272e_07bb_0142).to_le_bytes());
    guid
}

/// A template's structure as bytes, spelled out field by field (not with
/// `Debug`, whose format may change between compilers and would change the
/// fixtures with it).
fn signature(e: &Element, out: &mut Vec<u8>) {
    let text = |out: &mut Vec<u8>, s: &str| {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    let leaf = |out: &mut Vec<u8>, leaf: &Leaf| match leaf {
        Leaf::Text(s) => {
            out.push(b'T');
            text(out, s);
        }
        Leaf::Slot {
            index,
            ty,
            optional,
        } => {
            out.push(b'S');
            out.extend(index.to_le_bytes());
            out.push(*ty);
            out.push(u8::from(*optional));
        }
    };
    out.push(b'<');
    text(out, &e.name);
    out.extend(e.dependency.unwrap_or(NO_DEPENDENCY).to_le_bytes());
    for (name, value) in &e.attributes {
        out.push(b'@');
        text(out, name);
        leaf(out, value);
    }
    for child in &e.children {
        match child {
            Content::Element(c) => signature(c, out),
            Content::Leaf(l) => leaf(out, l),
        }
    }
    out.push(b'>');
}

fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    bytes.iter().fold(seed, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_hash_matches_windows() {
        // Stored with the names of a Windows Security log.
        let units: Vec<u16> = "Event".encode_utf16().collect();
        assert_eq!(name_hash(&units), 0x0cba);
        let units: Vec<u16> = "xmlns".encode_utf16().collect();
        assert_eq!(name_hash(&units), 0x0fbc);
    }

    #[test]
    fn a_name_is_stored_once_per_chunk() {
        let mut tables = Tables::default();
        let mut enc = Encoder::new(&tables, 600, 1);
        enc.name("Data").unwrap();
        enc.name("Data").unwrap();
        // Offset, link, hash, count, 4 units, NUL; then only the offset.
        assert_eq!(enc.out.len(), 4 + 4 + 2 + 2 + 8 + 2 + 4);
        assert_eq!(&enc.out[..4], &604u32.to_le_bytes());
        assert_eq!(&enc.out[22..26], &604u32.to_le_bytes());
        let encoded = Encoded {
            bytes: enc.out,
            new_names: enc.new_names,
            new_templates: enc.new_templates,
            string_buckets: enc.string_buckets,
            template_buckets: enc.template_buckets,
        };
        encoded.commit(&mut tables);
        let mut next = Encoder::new(&tables, 2000, 2);
        next.name("Data").unwrap();
        assert_eq!(next.out, 604u32.to_le_bytes());
    }
}
