//! A direct JSON writer for events, for the output hot path: it gives the
//! same bytes as the `serde` implementations, at a fraction of the cost,
//! mostly because strings are checked for characters to escape eight bytes
//! at a time instead of one.

use crate::{Event, Fields, Value};

/// Appends `s` as a JSON string (quoted and escaped) to `out`.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    // Most strings need no escaping: check 16 bytes at a time (the compiler
    // turns this into vector compares) and copy them whole.
    if is_clean(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip eight clean bytes at a time.
        if i + 8 <= bytes.len() {
            let word = u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
            if !needs_escape(word) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        if b < 0x20 || b == b'"' || b == b'\\' {
            out.extend_from_slice(&bytes[start..i]);
            escape(out, b);
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Whether no byte of `bytes` needs escaping.
#[inline]
fn is_clean(bytes: &[u8]) -> bool {
    let dirty = |c: u8| (c < 0x20) | (c == b'"') | (c == b'\\');
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        let mut any = false;
        for &c in block {
            any |= dirty(c);
        }
        if any {
            return false;
        }
    }
    // The tail (and short strings: keys, most values) eight bytes at a
    // time, the last word padded with a harmless byte.
    let rest = blocks.remainder();
    let mut words = rest.chunks_exact(8);
    for word in &mut words {
        if needs_escape(u64::from_le_bytes(word.try_into().unwrap_or([0; 8]))) {
            return false;
        }
    }
    let tail = words.remainder();
    let mut last = [b'a'; 8];
    last[..tail.len()].copy_from_slice(tail);
    !needs_escape(u64::from_le_bytes(last))
}

/// Whether any of the eight bytes is a control character, `"` or `\`.
#[inline]
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    // Bytes below 0x20; bytes at or above 0x80 are UTF-8 and never escaped,
    // so mask them out of the "less than" test.
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    (below_space | quote | backslash) != 0
}

fn escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        }
    }
}

/// Appends a value as JSON.
pub fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        Value::UInt(n) => out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        // Rare: let serde_json format floats (and non-finite ones as null).
        Value::Float(_) => {
            let _ = serde_json::to_writer(&mut *out, value);
        }
        Value::Str(s) => write_str(out, s),
        Value::List(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
    }
}

/// Appends fields as a JSON object.
pub fn write_fields(out: &mut Vec<u8>, fields: &Fields) {
    out.push(b'{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, v);
    }
    out.push(b'}');
}

struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl Object<'_> {
    fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, key);
        self.out.push(b':');
        self.out
    }

    fn str(&mut self, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            write_str(self.key(key), v);
        }
    }

    fn uint(&mut self, key: &str, value: Option<u64>) {
        if let Some(v) = value {
            let mut buf = itoa::Buffer::new();
            let text = buf.format(v);
            self.key(key).extend_from_slice(text.as_bytes());
        }
    }
}

fn write_source(out: &mut Vec<u8>, source: &crate::Source) {
    out.extend_from_slice(b"{\"kind\":");
    let _ = serde_json::to_writer(&mut *out, &source.kind);
    let mut o = Object { out, first: false };
    write_str(o.key("path"), &source.path.to_string_lossy());
    o.uint("offset", Some(source.offset));
    o.uint("chunk", source.chunk);
    o.uint("line", source.line);
    o.str("format", source.format);
    out.push(b'}');
}

/// Appends an event as one JSON object, the same bytes as its `Serialize`.
pub fn write_event(out: &mut Vec<u8>, e: &Event) {
    out.push(b'{');
    let mut o = Object { out, first: true };
    if let Some(ts) = &e.timestamp {
        // Formatted on the stack: no allocation per event.
        let mut buf = [0u8; 64];
        let mut cursor = std::io::Cursor::new(&mut buf[..]);
        let _ =
            std::io::Write::write_fmt(&mut cursor, format_args!("{}", crate::time::Rfc3339(*ts)));
        let n = cursor.position() as usize;
        write_str(
            o.key("timestamp"),
            std::str::from_utf8(&buf[..n]).unwrap_or_default(),
        );
    }
    o.str("computer", e.computer.as_deref());
    o.str("channel", e.channel.as_deref());
    o.str("provider", e.provider.as_deref());
    o.uint("event_id", e.event_id.map(u64::from));
    o.uint("level", e.level.map(u64::from));
    o.uint("record_id", e.record_id);
    o.str("user_sid", e.user_sid.as_deref());
    o.str("message", e.message.as_deref());
    write_fields(o.key("fields"), &e.fields);
    if !e.system.is_empty() {
        write_fields(o.key("system"), &e.system);
    }
    write_source(o.key("source"), &e.source);
    if let Some(raw) = &e.raw {
        let _ = serde_json::to_writer(&mut *o.key("raw"), raw);
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Source, SourceKind};

    fn via_writer(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_like_serde_json() {
        for s in [
            "",
            "plain",
            "exactly8",
            "a\"quote and a \\backslash, longer than eight",
            "tab\there\nnewline\r\u{1}\u{1f}\u{7f}",
            "ümlaut and emoji 😀 and \u{2028}",
            "C:\\Windows\\System32\\cmd.exe /c \"whoami\"",
        ] {
            assert_eq!(via_writer(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn events_match_their_serde_form() {
        let mut e = Event::new(Source::new(
            SourceKind::Evtx,
            "C:\\logs\\Security.evtx",
            4096,
        ));
        e.timestamp = Some("2024-01-02T03:04:05.5Z".parse().unwrap());
        e.event_id = Some(4688);
        e.record_id = Some(9);
        e.channel = Some("Security".into());
        e.fields
            .push("CommandLine", Value::from("cmd.exe /c \"x\""));
        e.fields.push("N", Value::Int(-3));
        e.fields.push("F", Value::Float(1.5));
        e.fields
            .push("L", Value::List(vec![Value::Null, Value::Bool(true)]));
        e.system.push("Task", Value::UInt(12544));
        let mut out = Vec::new();
        write_event(&mut out, &e);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&e).unwrap()
        );
        // A text log line, with the parts of the source EVTX does not set.
        let mut source = Source::new(SourceKind::TextLog, "/var/log/\"auth\".log", 77);
        source.line = Some(3);
        source.format = Some("syslog");
        let mut line = Event::new(source);
        line.message = Some("Accepted password".into());
        let mut out = Vec::new();
        write_event(&mut out, &line);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(&line).unwrap()
        );
    }

    proptest::proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in ".*") {
            proptest::prop_assert_eq!(via_writer(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
