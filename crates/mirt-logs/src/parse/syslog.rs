//! Syslog files: BSD syslog (RFC 3164, `Mmm dd hh:mm:ss host tag: msg`,
//! with or without `<PRI>`, with or without a host), the rsyslog
//! high-precision form (RFC 3339 time first), ChromeOS's (severity instead
//! of host), and RFC 5424 lines. A line that does not start with a time
//! continues the record before it. Years that the log does not write are
//! inferred (see [`crate::timefmt::YearRun`]).

use super::{FileCtx, FormatParser, Parsed, Prescan, Rec, State, YearHint, name, s};
use crate::frame::{Framing, RecordIter, Records};
use crate::timefmt::{MonthRun, YearRun, civil, digits, hms, iso_datetime, month_abbr};
use compact_str::CompactString;
use mirt_core::Event;
use nom::IResult;
use nom::bytes::complete::take_while1;

/// Syslog, and auth.log (the same lines; only the channel differs).
pub(crate) struct SyslogParser;

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Strips a leading UTF-8 BOM and NUL padding, so that the pre-pass and the
/// parser see the same start.
fn trim_start_junk(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let n = b.iter().take_while(|&&c| c == 0).count();
    &b[n..]
}

/// `<PRI>` at the start: the value and the bytes it takes.
fn pri(b: &[u8]) -> Option<(u8, usize)> {
    if b.first() != Some(&b'<') {
        return None;
    }
    let n = b[1..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n == 0 || b.get(1 + n) != Some(&b'>') {
        return None;
    }
    let v: u32 = std::str::from_utf8(&b[1..1 + n]).ok()?.parse().ok()?;
    (v <= 191).then_some((v as u8, n + 2))
}

/// Whether a line starts a syslog record: a `<PRI>`, an ISO date, or three
/// letters, a day and a time (`MMM` included, so a bad month is reported as
/// a bad line rather than glued to the one before).
pub(crate) fn is_record_start(line: &[u8]) -> bool {
    let b = trim_start_junk(line);
    if pri(b).is_some() {
        return true;
    }
    if b.len() >= 11 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-' {
        return true;
    }
    bsd_stamp_shape(b)
}

/// `Www dd hh:mm:ss` shape with any three letters (the day may be padded).
fn bsd_stamp_shape(b: &[u8]) -> bool {
    if b.len() < 15 || !b[..3].iter().all(u8::is_ascii_alphabetic) || b[3] != b' ' {
        return false;
    }
    let rest = &b[4..];
    let day_len = if rest[0] == b' ' {
        rest.get(1).is_some_and(u8::is_ascii_digit) as usize + 1
    } else {
        rest.iter()
            .take(2)
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    if day_len == 0 || rest.get(day_len) != Some(&b' ') {
        return false;
    }
    let t = &rest[day_len + 1..];
    t.len() >= 8 && t[2] == b':' && t[5] == b':'
}

/// The month of a year-less BSD time at the start of a record (after an
/// optional `<PRI>`), used by both the pre-pass and the parser.
pub(crate) fn bsd_month(line: &[u8]) -> Option<u8> {
    let b = trim_start_junk(line);
    let b = match pri(b) {
        Some((_, n)) => &b[n..],
        None => b,
    };
    if !bsd_stamp_shape(b) {
        return None;
    }
    month_abbr(b)
}

/// A BSD time: month, day, optional year, time. Returns the parts and the
/// bytes read.
struct BsdStamp {
    month: u8,
    day: u8,
    year: Option<i32>,
    h: u8,
    mi: u8,
    s: u8,
    nanos: u32,
}

fn bsd_stamp(b: &[u8]) -> Option<(BsdStamp, usize)> {
    let month = month_abbr(b)?;
    let mut p = 4;
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    let day_len = b[p..]
        .iter()
        .take(2)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let day = std::str::from_utf8(&b[p..p + day_len]).ok()?.parse().ok()?;
    p += day_len;
    if b.get(p) != Some(&b' ') {
        return None;
    }
    p += 1;
    // Some devices write the year before the time (`Mar  6 2021 04:07:23`).
    let mut year = None;
    if b.len() > p + 5
        && b[p + 4] == b' '
        && let Some(y) = digits(&b[p..], 4)
    {
        year = Some(y as i32);
        p += 5;
    }
    let (h, mi, s, nanos, used) = hms(&b[p..])?;
    Some((
        BsdStamp {
            month,
            day,
            year,
            h,
            mi,
            s,
            nanos,
        },
        p + used,
    ))
}

type R<'a, T> = IResult<&'a str, T, ()>;

fn word(i: &str) -> R<'_, &str> {
    take_while1(|c: char| c != ' ')(i)
}

/// A syslog tag: `prog:`, `prog[pid]:`, or macOS's `prog[pid] <Level>:`.
/// Returns (program, pid, rest after the colon).
fn tag(i: &str) -> Option<(&str, Option<&str>, &str)> {
    let (rest, tok) = word(i).ok()?;
    if let Some(prog) = tok.strip_suffix(':') {
        let (prog, pid) = split_pid(prog)?;
        return Some((prog, pid, rest));
    }
    // `prog[pid] <Level>:` or `prog[pid]` without a colon is not a tag.
    let (prog, pid) = split_pid(tok)?;
    pid?;
    let r = rest.strip_prefix(' ')?;
    if r.starts_with('<') {
        let close = r.find(">:")?;
        return Some((prog, pid, &r[close + 2..]));
    }
    None
}

fn split_pid(tok: &str) -> Option<(&str, Option<&str>)> {
    match tok.find('[') {
        Some(open) => {
            let pid = tok[open + 1..].strip_suffix(']')?;
            (!tok[..open].is_empty()).then_some((&tok[..open], Some(pid)))
        }
        None if !tok.is_empty() && !tok.contains([']', '(', '"']) => Some((tok, None)),
        None => None,
    }
}

const CHROMEOS_LEVELS: [&str; 10] = [
    "EMERG", "ALERT", "CRIT", "ERR", "ERROR", "WARNING", "WARN", "NOTICE", "INFO", "DEBUG",
];

impl SyslogParser {
    /// Host, tag and message after the time of a BSD or rsyslog line.
    fn header_and_message(event: &mut Event, rest: &str, chromeos_ok: bool) {
        let rest = rest.trim_start_matches(' ');
        if let Some(msg) = rest.strip_prefix(':') {
            event.message = Some(msg.trim_start().to_string());
            return;
        }
        let mut after_host = rest;
        if let Some((prog, pid, msg)) = tag(rest) {
            // `kernel: ...`: no host written.
            set_tag(event, prog, pid);
            event.message = Some(msg.trim_start().to_string());
            return;
        }
        if let Ok((r, host)) = word(rest) {
            if chromeos_ok && CHROMEOS_LEVELS.contains(&host) {
                event
                    .fields
                    .push(name("severity"), s(&host.to_ascii_lowercase()));
                event.level = level_of_name(host);
            } else {
                event.computer = Some(CompactString::from(host));
            }
            after_host = r.strip_prefix(' ').unwrap_or(r);
        }
        match tag(after_host) {
            Some((prog, pid, msg)) => {
                set_tag(event, prog, pid);
                event.message = Some(msg.trim_start().to_string());
            }
            None => event.message = Some(after_host.to_string()),
        }
    }

    fn parse_bsd(
        &self,
        state: &mut State,
        b: &[u8],
        text: &str,
        ev: &mut Event,
        ctx: &FileCtx,
    ) -> Result<(), String> {
        let (stamp, used) =
            bsd_stamp(b).ok_or("syslog time not understood (expected `Mmm dd hh:mm:ss`)")?;
        let year = match stamp.year {
            Some(y) => y,
            None => match state {
                State::Year(run) => run.year_for(stamp.month),
                _ => return Err("syslog record without a year outside a year run".into()),
            },
        };
        match civil(
            year,
            stamp.month,
            stamp.day,
            stamp.h,
            stamp.mi,
            stamp.s,
            stamp.nanos,
        ) {
            Some(dt) => ev.timestamp = ctx.clock.local(dt),
            None => {
                // The line is good; only the inferred year does not have this
                // day (29 February). Keep the event, without a time.
                ev.fields.push(
                    name("time_problem"),
                    s(&format!(
                        "{:02}-{:02} does not exist in the inferred year {year}; give --year",
                        stamp.month, stamp.day
                    )),
                );
            }
        }
        Self::header_and_message(ev, &text[used..], false);
        Ok(())
    }

    fn parse_iso(&self, b: &[u8], text: &str, ev: &mut Event, ctx: &FileCtx) -> Result<(), String> {
        let (dt, off, used) =
            iso_datetime(b).ok_or("syslog time not understood (expected RFC 3339)")?;
        ev.timestamp = ctx.clock.resolve(dt, off);
        Self::header_and_message(ev, &text[used..], true);
        Ok(())
    }
}

fn set_tag(event: &mut Event, prog: &str, pid: Option<&str>) {
    event.provider = Some(CompactString::from(prog));
    if let Some(pid) = pid {
        event.fields.push(name("pid"), super::int_or_text(pid));
    }
}

fn level_of_severity(sev: u8) -> u8 {
    match sev {
        0..=2 => 1,
        3 => 2,
        4 => 3,
        5 | 6 => 4,
        _ => 5,
    }
}

fn level_of_name(n: &str) -> Option<u8> {
    let sev = match n {
        "EMERG" => 0,
        "ALERT" => 1,
        "CRIT" => 2,
        "ERR" | "ERROR" => 3,
        "WARNING" | "WARN" => 4,
        "NOTICE" => 5,
        "INFO" => 6,
        "DEBUG" => 7,
        _ => return None,
    };
    Some(level_of_severity(sev))
}

impl FormatParser for SyslogParser {
    fn framing(&self) -> Framing {
        Framing {
            records: Records::Multiline(is_record_start),
            whole_file: false,
        }
    }

    fn needs_prescan(&self) -> bool {
        true
    }

    fn prescan(&self, chunk: &[u8]) -> Prescan {
        let mut months = MonthRun::default();
        for rec in RecordIter::new(chunk, Records::Multiline(is_record_start)) {
            if let Some(m) = bsd_month(rec.bytes) {
                months.push(m);
            }
        }
        Prescan::Months(months)
    }

    fn chunk_states(&self, prescans: &[Prescan], hint: &YearHint) -> Vec<State> {
        let runs: Vec<MonthRun> = prescans
            .iter()
            .map(|p| match p {
                Prescan::Months(m) => *m,
                _ => MonthRun::default(),
            })
            .collect();
        // Turns before each chunk, and the month before it.
        let mut before = Vec::with_capacity(runs.len());
        let mut turns = 0i32;
        let mut last: Option<u8> = None;
        for run in &runs {
            before.push((turns, last));
            if let (Some(first), Some(prev)) = (run.first, last)
                && first < prev
            {
                turns += 1;
            }
            turns += run.turns as i32;
            if run.last.is_some() {
                last = run.last;
            }
        }
        let first_year = start_year(hint, turns, last);
        let mut states: Vec<State> = before
            .into_iter()
            .map(|(t, last_month)| {
                State::Year(YearRun {
                    year: first_year + t,
                    last_month,
                })
            })
            .collect();
        if states.is_empty() {
            states.push(State::Year(YearRun {
                year: first_year,
                last_month: None,
            }));
        }
        states
    }

    fn parse(&self, state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed {
        let text = rec.text.strip_prefix('\u{feff}').unwrap_or(rec.text);
        if text.trim().is_empty() {
            return Parsed::Skip;
        }
        let b = text.as_bytes();
        let mut ev = ctx.event(rec, "syslog");
        let (body, bb) = match pri(b) {
            Some((p, n)) => {
                let (fac, sev) = (usize::from(p / 8), p % 8);
                ev.fields.push(name("facility"), s(FACILITIES[fac.min(23)]));
                ev.fields
                    .push(name("severity"), s(SEVERITIES[usize::from(sev)]));
                ev.level = Some(level_of_severity(sev));
                (&text[n..], &b[n..])
            }
            None => (text, b),
        };
        let result = if bb.first().is_some_and(u8::is_ascii_digit) {
            if body.starts_with("1 ") {
                ev.source.format = Some("syslog_rfc5424");
                super::rfc5424::parse(body, &mut ev, ctx)
            } else {
                ev.source.format = Some("syslog_rfc3339");
                self.parse_iso(bb, body, &mut ev, ctx)
            }
        } else {
            self.parse_bsd(state, bb, body, &mut ev, ctx)
        };
        if let Err(reason) = result {
            return Parsed::Fail(reason);
        }
        super::auth::extract(&mut ev);
        Parsed::Event(Box::new(ev))
    }
}

/// The year of the first record: `--year`, or worked back from the file
/// time (the last record is not after it) and the year turns in the file.
fn start_year(hint: &YearHint, turns: i32, last_month: Option<u8>) -> i32 {
    if let Some(y) = hint.first_year {
        return y;
    }
    let anchor = hint.modified.unwrap_or_else(jiff::Timestamp::now);
    let civil = anchor.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let mut last_year = i32::from(civil.year());
    if last_month.is_some_and(|m| m > civil.month() as u8) {
        last_year -= 1;
    }
    last_year - turns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::Clock;
    use mirt_core::Value;
    use std::sync::Arc;

    fn ctx() -> FileCtx {
        FileCtx {
            path: Arc::from(std::path::Path::new("syslog")),
            clock: Clock::new(None),
            keep_raw: false,
            format: crate::LogFormat::Syslog,
            year_now: 2020,
        }
    }

    fn parse(line: &str, year: i32) -> Event {
        let mut state = State::Year(YearRun {
            year,
            last_month: None,
        });
        let rec = Rec {
            text: line,
            offset: 0,
            line: 0,
        };
        match SyslogParser.parse(&mut state, &rec, &ctx()) {
            Parsed::Event(e) => *e,
            Parsed::Fail(r) => panic!("{line}: {r}"),
            Parsed::Skip => panic!("{line}: skipped"),
        }
    }

    #[test]
    fn bsd_lines() {
        let e = parse(
            "Jan 22 07:52:33 myhost client[30840]: INFO No new content",
            2012,
        );
        assert_eq!(e.timestamp.unwrap().to_string(), "2012-01-22T07:52:33Z");
        assert_eq!(e.computer.as_deref(), Some("myhost"));
        assert_eq!(e.provider.as_deref(), Some("client"));
        assert_eq!(e.fields.get("pid"), Some(&Value::Int(30840)));
        assert_eq!(e.message.as_deref(), Some("INFO No new content"));

        let e = parse("Nov 18 08:30:20 kernel: [997.390602] sda2: rw=0", 2012);
        assert_eq!((e.computer, e.provider.as_deref()), (None, Some("kernel")));

        let e = parse("Feb 29 01:15:43: --- testing leap year ---", 2012);
        assert_eq!(e.message.as_deref(), Some("--- testing leap year ---"));
        assert_eq!(e.timestamp.unwrap().to_string(), "2012-02-29T01:15:43Z");

        let e = parse("Feb 29 01:15:43: --- testing leap year ---", 2013);
        assert!(e.timestamp.is_none());
        assert!(e.fields.get("time_problem").is_some());

        let e = parse("Jan 22 07:54:32 host Job `cron.daily' terminated", 2012);
        assert_eq!((e.computer.as_deref(), e.provider), (Some("host"), None));
        assert_eq!(e.message.as_deref(), Some("Job `cron.daily' terminated"));

        let e = parse(
            "Mar 11 19:26:45 osx-machine sockerfilterfw[1985] <Info>: launchd Allow",
            2012,
        );
        assert_eq!(e.provider.as_deref(), Some("sockerfilterfw"));
        assert_eq!(e.message.as_deref(), Some("launchd Allow"));

        let e = parse("Mar 23 23:01:18.123 host prog[19]: frac", 2012);
        assert_eq!(e.timestamp.unwrap().to_string(), "2012-03-23T23:01:18.123Z");
        let e = parse("<86>Mar  6 2021 04:07:23 host sshd[1]: x", 1999);
        assert_eq!(e.timestamp.unwrap().to_string(), "2021-03-06T04:07:23Z");
        assert_eq!(e.fields.get("facility"), Some(&Value::from("authpriv")));
    }

    #[test]
    fn rfc3339_and_5424_lines() {
        let e = parse(
            "2016-10-25T12:37:24.987995-07:00 WARNING kernel: [ 316.5] init: killed",
            0,
        );
        assert_eq!(
            e.timestamp.unwrap().to_string(),
            "2016-10-25T19:37:24.987995Z"
        );
        assert_eq!(e.computer, None);
        assert_eq!(e.level, Some(3));
        let e = parse(
            "2020-05-31T00:00:45.738158+00:00 localhost systemd[1]: Reloaded.",
            0,
        );
        assert_eq!(e.computer.as_deref(), Some("localhost"));
        assert_eq!(e.source.format, Some("syslog_rfc3339"));

        let e = parse(
            r#"<165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [ex@32473 iut="3" src="a\"b"] BOMmsg"#,
            0,
        );
        assert_eq!(e.source.format, Some("syslog_rfc5424"));
        assert_eq!(e.fields.get("ex@32473.src"), Some(&Value::from("a\"b")));
        assert_eq!(e.fields.get("msgid"), Some(&Value::from("ID47")));
        assert_eq!(e.message.as_deref(), Some("BOMmsg"));
        let e = parse(
            "<15>1 2021-03-06T04:07:38.251122+00:00 hostname log_tag - 123 -  this is debug",
            0,
        );
        assert_eq!(e.message.as_deref(), Some("this is debug"));
    }

    #[test]
    fn record_starts() {
        for yes in [
            "Jan  1 00:00:00 h x",
            "MMM 22 07:54:32 h x",
            "<13>1 2020-01-01T00:00:00Z",
            "2020-01-01T00:00:00 x",
        ] {
            assert!(is_record_start(yes.as_bytes()), "{yes}");
        }
        for no in [
            "\tmany syslog parsers.",
            "with another line",
            " **: rhythmbox",
            "",
        ] {
            assert!(!is_record_start(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn years_worked_back_from_the_file_time() {
        let hint = YearHint {
            first_year: None,
            modified: Some("2024-02-10T00:00:00Z".parse().unwrap()),
        };
        // Records from November to January, file written in February 2024.
        let p = SyslogParser;
        let chunks = [
            b"Nov  1 00:00:00 h a: x\nDec  1 00:00:00 h a: x\n".as_slice(),
            b"Jan  5 00:00:00 h a: x\n",
        ];
        let prescans: Vec<Prescan> = chunks.iter().map(|c| p.prescan(c)).collect();
        let states = p.chunk_states(&prescans, &hint);
        let years: Vec<i32> = states
            .iter()
            .map(|s| match s {
                State::Year(r) => r.year,
                _ => 0,
            })
            .collect();
        assert_eq!(years, [2023, 2023]);
        let State::Year(mut second) = states[1].clone() else {
            panic!()
        };
        assert_eq!(second.year_for(1), 2024);
    }
}
