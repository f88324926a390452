//! Reading the times that logs write: ISO 8601 / RFC 3339 in its many
//! spellings, month names, and the conversion of local times to UTC.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// How times without an offset are read: in the zone given by `--tz`, or as
/// UTC when none was given.
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    zone: Option<TimeZone>,
}

impl Clock {
    pub(crate) fn new(zone: Option<TimeZone>) -> Self {
        Clock { zone }
    }

    /// A wall-clock time of the log's zone, in UTC. In a DST fold the
    /// earlier instant is taken, as the log cannot tell.
    pub(crate) fn local(&self, dt: DateTime) -> Option<Timestamp> {
        match &self.zone {
            None => Offset::UTC.to_timestamp(dt).ok(),
            Some(tz) => tz.to_ambiguous_timestamp(dt).compatible().ok(),
        }
    }

    /// A time with an explicit offset in seconds east of UTC, or a local one.
    pub(crate) fn resolve(&self, dt: DateTime, offset: Option<i32>) -> Option<Timestamp> {
        match offset {
            Some(secs) => Offset::from_seconds(secs).ok()?.to_timestamp(dt).ok(),
            None => self.local(dt),
        }
    }
}

/// A civil date and time, or `None` when a part is out of range.
pub(crate) fn civil(y: i32, mo: u8, d: u8, h: u8, mi: u8, s: u8, nanos: u32) -> Option<DateTime> {
    let y = i16::try_from(y).ok()?;
    // Leap seconds (":60") are folded into the last second of the minute.
    let s = s.min(59);
    DateTime::new(
        y,
        mo as i8,
        d as i8,
        h as i8,
        mi as i8,
        s as i8,
        nanos as i32,
    )
    .ok()
}

/// The month number of an English three-letter abbreviation, any case.
pub(crate) fn month_abbr(b: &[u8]) -> Option<u8> {
    if b.len() < 3 {
        return None;
    }
    let key = [
        b[0].to_ascii_lowercase(),
        b[1].to_ascii_lowercase(),
        b[2].to_ascii_lowercase(),
    ];
    let m = match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    };
    Some(m)
}

/// Reads exactly `n` ASCII digits at the start of `b`.
pub(crate) fn digits(b: &[u8], n: usize) -> Option<u32> {
    if b.len() < n {
        return None;
    }
    let mut v = 0u32;
    for &c in &b[..n] {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Reads 1 to 9 fractional digits as nanoseconds; returns them and the
/// number of bytes read (extra digits beyond nanoseconds are consumed).
pub(crate) fn fraction(b: &[u8]) -> (u32, usize) {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut nanos = 0u32;
    for (i, &c) in b[..n.min(9)].iter().enumerate() {
        nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
    }
    (nanos, n)
}

/// `HH:MM:SS` with optional `.fraction` or `,fraction`; returns
/// (hour, minute, second, nanos, bytes read).
pub(crate) fn hms(b: &[u8]) -> Option<(u8, u8, u8, u32, usize)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h = digits(b, 2)? as u8;
    let mi = digits(&b[3..], 2)? as u8;
    let s = digits(&b[6..], 2)? as u8;
    let mut used = 8;
    let mut nanos = 0;
    if b.len() > 9 && (b[8] == b'.' || b[8] == b',') && b[9].is_ascii_digit() {
        let (ns, n) = fraction(&b[9..]);
        nanos = ns;
        used += 1 + n;
    }
    Some((h, mi, s, nanos, used))
}

/// A UTC offset at the start of `b`: `Z`, `+HH:MM`, `+HHMM`, `+HH`; returns
/// seconds east of UTC and bytes read.
pub(crate) fn offset(b: &[u8]) -> Option<(i32, usize)> {
    match b.first()? {
        b'Z' | b'z' => Some((0, 1)),
        sign @ (b'+' | b'-') => {
            let h = digits(&b[1..], 2)? as i32;
            let (m, used) = if b.len() >= 6 && b[3] == b':' {
                (digits(&b[4..], 2)? as i32, 6)
            } else if let Some(m) = digits(&b[3..], 2) {
                (m as i32, 5)
            } else {
                (0, 3)
            };
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 60 + m) * 60;
            Some((if *sign == b'-' { -secs } else { secs }, used))
        }
        _ => None,
    }
}

/// An ISO 8601 date and time at the start of `s`: `YYYY-MM-DD`, then `T` or
/// a space, `HH:MM:SS[.frac]`, then optionally an offset (`Z`, `+01:00`,
/// `+0100`, or ` UTC`/` GMT`). `/` is accepted as the date separator too.
/// Returns the civil time, its offset if written, and the bytes read.
pub(crate) fn iso_datetime(s: &[u8]) -> Option<(DateTime, Option<i32>, usize)> {
    if s.len() < 19 {
        return None;
    }
    let sep = s[4];
    if !(sep == b'-' || sep == b'/') || s[7] != sep {
        return None;
    }
    let y = digits(s, 4)? as i32;
    let mo = digits(&s[5..], 2)? as u8;
    let d = digits(&s[8..], 2)? as u8;
    if !(s[10] == b'T' || s[10] == b' ' || s[10] == b't') {
        return None;
    }
    let (h, mi, sec, nanos, used) = hms(&s[11..])?;
    let mut pos = 11 + used;
    let dt = civil(y, mo, d, h, mi, sec, nanos)?;
    let rest = &s[pos..];
    if let Some((off, n)) = offset(rest) {
        pos += n;
        return Some((dt, Some(off), pos));
    }
    if rest.len() >= 4
        && rest[0] == b' '
        && (rest[1..4].eq_ignore_ascii_case(b"UTC") || rest[1..4].eq_ignore_ascii_case(b"GMT"))
        && rest.get(4).is_none_or(|c| !c.is_ascii_alphanumeric())
    {
        return Some((dt, Some(0), pos + 4));
    }
    Some((dt, None, pos))
}

/// Years for logs that do not write them (BSD syslog `Mmm dd hh:mm:ss`).
///
/// The year of the first record is `start`; it goes up by one each time the
/// month goes down from one record to the next (December to January).
/// `start` comes from `--year`, or is worked back from the file's
/// modification time and the number of such turns in the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct YearRun {
    /// Year of the next record, before looking at its month.
    pub year: i32,
    /// Month of the previous record, if any.
    pub last_month: Option<u8>,
}

impl YearRun {
    /// The year of a record in `month`, advancing the run.
    pub(crate) fn year_for(&mut self, month: u8) -> i32 {
        if self.last_month.is_some_and(|last| month < last) {
            self.year += 1;
        }
        self.last_month = Some(month);
        self.year
    }
}

/// The months of year-less records in one chunk, for the pre-pass that
/// counts year turns before the chunks are parsed in parallel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MonthRun {
    pub first: Option<u8>,
    pub last: Option<u8>,
    pub turns: u32,
}

impl MonthRun {
    pub(crate) fn push(&mut self, month: u8) {
        if self.first.is_none() {
            self.first = Some(month);
        }
        if self.last.is_some_and(|last| month < last) {
            self.turns += 1;
        }
        self.last = Some(month);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn iso_spellings() {
        let clock = Clock::new(None);
        let cases: &[(&str, &str, usize)] = &[
            (
                "2016-10-25T12:37:23.297265-07:00 INFO",
                "2016-10-25T19:37:23.297265Z",
                32,
            ),
            (
                "2020-01-11T16:55:20.356586Z x",
                "2020-01-11T16:55:20.356586Z",
                27,
            ),
            (
                "2022-04-12 00:16:05.526 UTC [7755]",
                "2022-04-12T00:16:05.526Z",
                27,
            ),
            ("2009-02-25 11:45:23 conffile", "2009-02-25T11:45:23Z", 19),
            ("2024/01/02 03:04:05 [error]", "2024-01-02T03:04:05Z", 19),
            ("2024-01-02T03:04:05+0100", "2024-01-02T02:04:05Z", 24),
            ("2024-01-02T03:04:05,5Z", "2024-01-02T03:04:05.5Z", 22),
        ];
        for (input, want, used) in cases {
            let (dt, off, n) = iso_datetime(input.as_bytes()).unwrap();
            assert_eq!(clock.resolve(dt, off).unwrap(), utc(want), "{input}");
            assert_eq!(n, *used, "{input}");
        }
        for bad in [
            "2024-13-01 00:00:00",
            "2024-02-30T00:00:00",
            "20240101 000000",
            "2024-01-01",
        ] {
            assert!(iso_datetime(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn local_times_use_the_zone() {
        let berlin = Clock::new(Some(TimeZone::get("Europe/Berlin").unwrap()));
        let dt = civil(2024, 7, 1, 12, 0, 0, 0).unwrap();
        assert_eq!(berlin.local(dt).unwrap(), utc("2024-07-01T10:00:00Z"));
        let winter = civil(2024, 1, 1, 12, 0, 0, 0).unwrap();
        assert_eq!(berlin.local(winter).unwrap(), utc("2024-01-01T11:00:00Z"));
        assert_eq!(
            Clock::new(None).local(dt).unwrap(),
            utc("2024-07-01T12:00:00Z")
        );
    }

    #[test]
    fn years_turn_when_months_go_back() {
        let mut run = YearRun {
            year: 2012,
            last_month: None,
        };
        let years: Vec<i32> = [1, 1, 2, 12, 3, 12, 11, 2]
            .into_iter()
            .map(|m| run.year_for(m))
            .collect();
        assert_eq!(years, [2012, 2012, 2012, 2012, 2013, 2013, 2014, 2015]);
        let mut months = MonthRun::default();
        for m in [1, 2, 12, 3, 12, 11, 2] {
            months.push(m);
        }
        assert_eq!(months.turns, 3);
        assert_eq!((months.first, months.last), (Some(1), Some(2)));
    }

    #[test]
    fn month_names() {
        assert_eq!(month_abbr(b"Jan"), Some(1));
        assert_eq!(month_abbr(b"DEC"), Some(12));
        assert_eq!(month_abbr(b"MMM"), None);
        assert_eq!(month_abbr(b"Ja"), None);
    }
}
