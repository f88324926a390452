//! RFC 3339 in UTC, formatted and parsed without the general machinery of
//! `jiff` for the one shape the hot paths see (`2019-03-19T10:42:17.4026582Z`):
//! every event carries a time, and formatting or parsing it the general way
//! costs more than the rest of the event's header. Anything outside that
//! shape (times before 1970 or after 9999, offsets, leap seconds) goes
//! through `jiff`, so the results are always `jiff`'s.

use crate::Timestamp;

const SECONDS_PER_DAY: i64 = 86_400;
/// 9999-12-31T23:59:59Z, the last second with a four-digit year.
const MAX_SECOND: i64 = 253_402_300_799;

/// The longest text [`format`] writes: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub(crate) const MAX_LEN: usize = 30;

/// Formats `ts` like `jiff`'s `Display` (RFC 3339 in UTC, `Z`, the
/// fraction without trailing zeros) into `buf`; returns the length, or
/// `None` for times outside 1970..=9999 (left to `jiff`).
pub(crate) fn format(ts: Timestamp, buf: &mut [u8; MAX_LEN]) -> Option<usize> {
    let secs = ts.as_second();
    let nanos = ts.subsec_nanosecond();
    if !(0..=MAX_SECOND).contains(&secs) || nanos < 0 {
        return None;
    }
    let (y, m, d) = civil_from_days(secs / SECONDS_PER_DAY);
    let sod = secs % SECONDS_PER_DAY;
    let year = y as u32;
    two(&mut buf[0..2], year / 100);
    two(&mut buf[2..4], year % 100);
    buf[4] = b'-';
    two(&mut buf[5..7], m);
    buf[7] = b'-';
    two(&mut buf[8..10], d);
    buf[10] = b'T';
    two(&mut buf[11..13], (sod / 3600) as u32);
    buf[13] = b':';
    two(&mut buf[14..16], (sod / 60 % 60) as u32);
    buf[16] = b':';
    two(&mut buf[17..19], (sod % 60) as u32);
    let mut len = 19;
    if nanos > 0 {
        buf[19] = b'.';
        let mut n = nanos as u32;
        for i in (20..29).rev() {
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        len = 29;
        while buf[len - 1] == b'0' {
            len -= 1;
        }
    }
    buf[len] = b'Z';
    Some(len + 1)
}

fn two(out: &mut [u8], n: u32) {
    out[0] = b'0' + (n / 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with a valid date and time;
/// `None` for any other text (which `jiff` may still accept).
pub(crate) fn parse(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let (month, day) = (digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 || year < 1970 {
        return None;
    }
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            let n = digits(frac)?;
            n * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * SECONDS_PER_DAY
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    Timestamp::new(secs, nanos as i32).ok()
}

/// The value of ASCII decimal digits (at most nine).
fn digits(b: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u32::from(d);
    }
    Some(n)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01 (`civil_from_days`), for
/// days from 0 on.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(ts: Timestamp) -> Option<String> {
        let mut buf = [0u8; MAX_LEN];
        let n = format(ts, &mut buf)?;
        Some(String::from_utf8(buf[..n].to_vec()).unwrap())
    }

    #[test]
    fn known_times() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2019-03-19T10:42:17.4026582Z",
            "2000-02-29T23:59:59.999999999Z",
            "2016-09-19T16:50:10.8Z",
            "9999-12-30T21:59:59.999999999Z",
        ] {
            let ts: Timestamp = text.parse().unwrap();
            assert_eq!(formatted(ts).as_deref(), Some(text));
            assert_eq!(parse(text), Some(ts), "{text}");
        }
        assert_eq!(formatted("1969-12-31T23:59:59Z".parse().unwrap()), None);
    }

    #[test]
    fn other_shapes_are_left_to_jiff() {
        for text in [
            "2019-03-19T10:42:17+01:00",
            "2019-03-19t10:42:17z",
            "2019-02-29T10:42:17Z",
            "2019-03-19T24:00:00Z",
            "2019-03-19T10:42:60Z",
            "2019-03-19T10:42:17.Z",
            "2019-03-19T10:42:17.1234567890Z",
            "2019-03-19T10:42:17,5Z",
            "1969-03-19T10:42:17Z",
            "+2019-03-19T10:42:17Z",
            "2019-03-19 10:42:17Z",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn formats_like_jiff(secs in -100_000_000_000i64..260_000_000_000, nanos in 0i32..1_000_000_000, round in 0u8..3) {
            // Whole seconds and round fractions are common: test them often.
            let nanos = match round { 0 => 0, 1 => nanos / 100 * 100, _ => nanos };
            let Ok(ts) = Timestamp::new(secs, nanos) else { return Ok(()) };
            let jiff = ts.to_string();
            if let Some(ours) = formatted(ts) {
                proptest::prop_assert_eq!(&ours, &jiff);
            } else {
                proptest::prop_assert!(!(0..=MAX_SECOND).contains(&secs));
            }
            // What jiff writes, the fast parser reads back to the same instant
            // (or leaves to jiff).
            if let Some(back) = parse(&jiff) {
                proptest::prop_assert_eq!(back, ts);
            }
        }

        #[test]
        fn parses_like_jiff(text in "[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,10})?Z") {
            if let Some(ours) = parse(&text) {
                proptest::prop_assert_eq!(Some(ours), text.parse::<Timestamp>().ok());
            }
        }
    }
}
