//! The fallback for text that no other parser reads: one event per
//! non-blank line, with the time found at its start (ISO 8601, syslog-style,
//! Apache-style, ctime) and the rest as the message. It never fails a line.

use super::{FileCtx, FormatParser, Parsed, Rec, State};
use crate::timefmt::{Clock, civil, digits, hms, iso_datetime, month_abbr};
use jiff::Timestamp;

/// The generic parser.
pub(crate) struct GenericParser;

/// A time at the start of `text` (after optional `[`), and the bytes it
/// takes. Year-less syslog-style times get the year of `year_now` (the
/// generic reader does not follow year turns).
pub(crate) fn leading_time(text: &str, clock: &Clock, year_now: i32) -> Option<(Timestamp, usize)> {
    let b = text.as_bytes();
    let (b, skip) = match b.first() {
        Some(b'[') => (&b[1..], 1),
        _ => (b, 0),
    };
    if let Some((dt, off, used)) = iso_datetime(b) {
        return Some((clock.resolve(dt, off)?, skip + used + close(b, used)));
    }
    if let Some((dt, used)) = super::apache_error::ctime(b) {
        return Some((clock.local(dt)?, skip + used + close(b, used)));
    }
    if let Some((ts, used)) = super::apache::clf_time(b) {
        return Some((ts, skip + used + close(b, used)));
    }
    // `Mmm dd hh:mm:ss`
    if b.len() >= 15 && b[3] == b' ' {
        let mo = month_abbr(b)?;
        let mut p = 4;
        if b[p] == b' ' {
            p += 1;
        }
        let dlen = b[p..]
            .iter()
            .take(2)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let d = digits(&b[p..], dlen)? as u8;
        p += dlen + 1;
        let (h, mi, s, nanos, used) = hms(b.get(p..)?)?;
        let dt = civil(year_now, mo, d, h, mi, s, nanos)?;
        return Some((clock.local(dt)?, skip + p + used));
    }
    None
}

fn close(b: &[u8], used: usize) -> usize {
    usize::from(b.get(used) == Some(&b']'))
}

impl FormatParser for GenericParser {
    fn parse(&self, _state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed {
        let text = rec.text.strip_prefix('\u{feff}').unwrap_or(rec.text);
        if text.trim().is_empty() {
            return Parsed::Skip;
        }
        let mut ev = ctx.event(rec, "generic");
        let message = match leading_time(text, &ctx.clock, ctx.year_now) {
            Some((ts, used)) => {
                ev.timestamp = Some(ts);
                text[used..].trim_start_matches([' ', ':', '\t', ',', '|', '-'])
            }
            None => text,
        };
        ev.message = Some(message.to_string());
        Parsed::Event(Box::new(ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_at_the_start() {
        let clock = Clock::new(None);
        let cases = [
            (
                "2009-02-25 11:45:23 conffile /etc/X11/Xsession keep",
                "2009-02-25T11:45:23Z",
                19,
            ),
            ("[2024-01-02T03:04:05Z] x", "2024-01-02T03:04:05Z", 22),
            (
                "Mon Jun  6 18:43:28 2016 [pid 2] CONNECT",
                "2016-06-06T18:43:28Z",
                24,
            ),
            ("[13/Jan/2016:19:31:16 +0100] x", "2016-01-13T18:31:16Z", 28),
            ("13/Jan/2016:19:31:16 +0100", "2016-01-13T18:31:16Z", 26),
            (
                "Dec 26 19:11:57 secd[11] <Notice>",
                "2020-12-26T19:11:57Z",
                15,
            ),
        ];
        for (text, want, used) in cases {
            let (ts, n) = leading_time(text, &clock, 2020).unwrap_or_else(|| panic!("{text}"));
            assert_eq!((ts.to_string(), n), (want.to_string(), used), "{text}");
        }
        assert!(leading_time("no time here", &clock, 2020).is_none());
    }
}
