//! UTC timestamps, from parse to output.

use serde::{Serialize, Serializer};
use std::fmt;

/// An instant in UTC (re-exported from `jiff`, which the EVTX parser uses too).
pub type Timestamp = jiff::Timestamp;

/// Formats a timestamp as RFC 3339 in UTC with a `Z`, with as many
/// fractional digits as it has (EVTX times have 100 ns resolution).
#[derive(Debug, Clone, Copy)]
pub struct Rfc3339(pub Timestamp);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; crate::civil::MAX_LEN];
        match crate::civil::format(self.0, &mut buf) {
            // The formatter writes ASCII only.
            Some(n) => f.write_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
            // jiff's `Display` for `Timestamp` is RFC 3339 in UTC with `Z`.
            None => fmt::Display::fmt(&self.0, f),
        }
    }
}

/// Appends `ts` as RFC 3339 in UTC (the text of [`Rfc3339`]) to `out`,
/// without going through `fmt`.
pub fn write_rfc3339(out: &mut Vec<u8>, ts: Timestamp) {
    let mut buf = [0u8; crate::civil::MAX_LEN];
    match crate::civil::format(ts, &mut buf) {
        Some(n) => out.extend_from_slice(&buf[..n]),
        None => {
            use std::io::Write;
            // Writing to a Vec cannot fail.
            let _ = write!(out, "{}", Rfc3339(ts));
        }
    }
}

/// Reads an RFC 3339 time as `jiff` does, with a fast path for the UTC
/// form that EVTX and most JSON logs write (`2019-03-19T10:42:17.4026582Z`).
pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    crate::civil::parse(s).or_else(|| s.parse().ok())
}

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A time given on the command line could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read {input:?} as a time: use RFC 3339 (2024-03-01T12:00:00Z), a date (2024-03-01) or a date and time in UTC (2024-03-01 12:00:00)"
)]
pub struct ParseTimeError {
    input: String,
}

/// Reads a time as a responder types it: RFC 3339 with an offset or `Z`, a
/// bare date (midnight UTC), or a date and time without offset (taken as UTC).
pub fn parse_user_time(input: &str) -> Result<Timestamp, ParseTimeError> {
    let s = input.trim();
    let err = || ParseTimeError {
        input: input.to_string(),
    };
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| err());
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|_| err());
    }
    Err(err())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_times_are_utc() {
        let want: Timestamp = "2024-03-01T12:00:00Z".parse().unwrap();
        assert_eq!(parse_user_time("2024-03-01T12:00:00Z").unwrap(), want);
        assert_eq!(parse_user_time("2024-03-01T13:00:00+01:00").unwrap(), want);
        assert_eq!(parse_user_time("2024-03-01 12:00:00").unwrap(), want);
        assert_eq!(
            parse_user_time("2024-03-01").unwrap(),
            "2024-03-01T00:00:00Z".parse().unwrap()
        );
        assert!(parse_user_time("yesterday").is_err());
    }

    #[test]
    fn fast_paths_agree_with_display_and_jiff() {
        for text in [
            "2019-03-19T10:42:17.4026582Z",
            "1601-01-01T00:00:00Z",
            "2024-03-01T13:00:00+01:00",
        ] {
            let ts = parse_rfc3339(text).unwrap();
            assert_eq!(Some(ts), text.parse().ok());
            let mut out = Vec::new();
            write_rfc3339(&mut out, ts);
            assert_eq!(String::from_utf8(out).unwrap(), Rfc3339(ts).to_string());
        }
        assert_eq!(parse_rfc3339("not a time"), None);
    }

    proptest::proptest! {
        /// The text is jiff's, the one written before the fast path, for
        /// any instant jiff can hold (outside 1970..9999 through jiff).
        #[test]
        fn written_like_jiff_display(secs in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(), nanos in 0i32..1_000_000_000) {
            let Ok(ts) = Timestamp::new(secs, nanos) else { return Ok(()) };
            let mut out = Vec::new();
            write_rfc3339(&mut out, ts);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), ts.to_string());
            proptest::prop_assert_eq!(Rfc3339(ts).to_string(), ts.to_string());
            proptest::prop_assert_eq!(parse_rfc3339(&ts.to_string()), Some(ts));
        }
    }

    #[test]
    fn output_keeps_sub_second_digits() {
        let ts: Timestamp = "2019-03-19T10:42:17.4026582Z".parse().unwrap();
        assert_eq!(Rfc3339(ts).to_string(), "2019-03-19T10:42:17.4026582Z");
        let whole: Timestamp = "2019-03-19T10:42:17Z".parse().unwrap();
        assert_eq!(Rfc3339(whole).to_string(), "2019-03-19T10:42:17Z");
    }
}
