//! RFC 5424 syslog lines (after the `<PRI>`): version, time, host, app,
//! process id, message id, structured data and message. Structured data
//! parameters become fields named `SD-ID.name`.

use super::{FileCtx, int_or_text, name, s};
use crate::timefmt::iso_datetime;
use compact_str::CompactString;
use mirt_core::{Event, Value};
use nom::IResult;
use nom::bytes::complete::take_while1;

type R<'a, T> = IResult<&'a str, T, ()>;

fn word(i: &str) -> R<'_, &str> {
    take_while1(|c: char| c != ' ')(i)
}

/// RFC 5424: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP
/// MSGID SP STRUCTURED-DATA [SP MSG]`, after the `<PRI>`.
pub(crate) fn parse(text: &str, ev: &mut Event, ctx: &FileCtx) -> Result<(), String> {
    let bad = || "RFC 5424 header not understood".to_string();
    let mut rest = text.strip_prefix("1 ").ok_or_else(bad)?;
    let mut next = || -> Result<&str, String> {
        let (r, w) = word(rest).map_err(|_| bad())?;
        rest = r.strip_prefix(' ').unwrap_or(r);
        Ok(w)
    };
    let stamp = next()?;
    let host = next()?;
    let app = next()?;
    let procid = next()?;
    let msgid = next()?;
    if stamp != "-" {
        let (dt, off, _) = iso_datetime(stamp.as_bytes()).ok_or("RFC 5424 time not understood")?;
        ev.timestamp = ctx.clock.resolve(dt, off);
    }
    if host != "-" {
        ev.computer = Some(CompactString::from(host));
    }
    if app != "-" {
        ev.provider = Some(CompactString::from(app));
    }
    if procid != "-" {
        ev.fields.push(name("pid"), int_or_text(procid));
    }
    if msgid != "-" {
        ev.fields.push(name("msgid"), s(msgid));
    }
    let msg = structured_data(rest, ev).ok_or("RFC 5424 structured data not understood")?;
    let msg = msg.strip_prefix(' ').unwrap_or(msg);
    let msg = msg.strip_prefix('\u{feff}').unwrap_or(msg);
    ev.message = Some(msg.trim_start().to_string());
    Ok(())
}

/// `-` or `[id k="v" ...]...`: params become fields named `id.k`.
fn structured_data<'a>(i: &'a str, ev: &mut Event) -> Option<&'a str> {
    if let Some(r) = i.strip_prefix('-') {
        return Some(r);
    }
    let mut rest = i;
    while let Some(r) = rest.strip_prefix('[') {
        let (r, id) = take_while1::<_, _, ()>(|c: char| c != ' ' && c != ']')(r).ok()?;
        let mut r = r;
        loop {
            if let Some(after) = r.strip_prefix(']') {
                r = after;
                break;
            }
            let after = r.strip_prefix(' ')?;
            let eq = after.find("=\"")?;
            let key = &after[..eq];
            let (value, after_value) = sd_value(&after[eq + 2..])?;
            ev.fields.push(format!("{id}.{key}"), Value::from(value));
            r = after_value;
        }
        rest = r;
    }
    Some(rest)
}

/// A param value up to its closing quote, with `\"`, `\\` and `\]` unescaped.
fn sd_value(i: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = i.char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\' | ']'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return None,
            },
            '"' => return Some((out, &i[k + 1..])),
            _ => out.push(c),
        }
    }
    None
}
