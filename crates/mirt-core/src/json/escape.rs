//! JSON string escaping with the bytes `serde_json` writes, made for the
//! output hot path: most strings need no escaping, so the work is finding
//! out fast that a string is clean (sixteen bytes at a time, which the
//! compiler turns into vector compares) and copying it whole.

/// Appends `s` as a JSON string (quoted and escaped) to `out`.
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_escaped(out, s.as_bytes());
    out.push(b'"');
}

/// Appends `s` as an object key: quoted, escaped, and followed by `:`.
#[inline]
pub(crate) fn write_key(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 3);
    out.push(b'"');
    write_escaped(out, s.as_bytes());
    out.extend_from_slice(b"\":");
}

/// Appends `bytes` (UTF-8) escaped, without quotes.
#[inline]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    match find_escape(bytes) {
        None => out.extend_from_slice(bytes),
        Some(at) => write_escaped_from(out, bytes, at),
    }
}

/// The slow path: `bytes` has a byte to escape at `at`.
fn write_escaped_from(out: &mut Vec<u8>, bytes: &[u8], mut at: usize) {
    let mut start = 0;
    loop {
        out.extend_from_slice(&bytes[start..at]);
        escape(out, bytes[at]);
        start = at + 1;
        match find_escape(&bytes[start..]) {
            Some(next) => at = start + next,
            None => break,
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether JSON requires `c` escaped: control characters, `"` and `\`.
#[inline]
fn dirty(c: u8) -> bool {
    (c < 0x20) | (c == b'"') | (c == b'\\')
}

/// The index of the first byte to escape.
#[inline]
fn find_escape(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        let mut any = false;
        for &c in block {
            any |= dirty(c);
        }
        if any {
            break;
        }
        i += 16;
    }
    // The rest (and the block with a hit) eight bytes at a time: the lowest
    // flagged byte of a word is exact.
    while let Some(word) = bytes.get(i..i + 8) {
        let mask = escape_mask(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
        if mask != 0 {
            return Some(i + mask.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    bytes[i..].iter().position(|&c| dirty(c)).map(|k| i + k)
}

/// The high bit of every byte of `word` that needs escaping (and perhaps
/// of bytes above the first such byte: the borrow of a subtraction runs
/// upwards, so only the lowest flag is exact).
#[inline]
fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    // Bytes below 0x20; bytes at or above 0x80 are UTF-8 and never escaped,
    // so the `!word` masks them out of the "less than" test.
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    let quote = has_zero(word ^ (ONES * u64::from(b'"')));
    let backslash = has_zero(word ^ (ONES * u64::from(b'\\')));
    below_space | quote | backslash
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

#[cfg(test)]
mod tests {
    use super::*;

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
            "sixteen clean by\"tes then a quote",
            "0123456789abcdef0123456789abcdef\\",
        ] {
            assert_eq!(via_writer(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn keys_end_with_a_colon() {
        let mut out = Vec::new();
        write_key(&mut out, "a\"b");
        assert_eq!(out, b"\"a\\\"b\":");
    }

    proptest::proptest! {
        #[test]
        fn any_string_escapes_like_serde_json(s in ".*") {
            proptest::prop_assert_eq!(via_writer(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn mostly_clean_strings_escape_like_serde_json(s in "[a-z\"\\\\\n\u{1}é]{0,3}[ -~]{0,40}[a-z\"\\\\\t]{0,3}") {
            proptest::prop_assert_eq!(via_writer(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
