//! W3C extended logs: IIS (6 to 10) and the Windows Firewall's
//! `pfirewall.log`. Columns are named by `#Fields:` directives, which may
//! change in the middle of a file (IIS writes a new header when its
//! configuration changes); a pre-pass finds the directives of each chunk so
//! that chunks are still parsed in parallel.
//!
//! IIS names are normalised to the Sigma `webserver` taxonomy
//! (`cs(User-Agent)` becomes `cs-user-agent`); firewall names to its
//! `firewall` taxonomy (`src-ip` becomes `src_ip`). IIS times are UTC by
//! definition; firewall times are local unless the header says otherwise.

use super::{FileCtx, FormatParser, Parsed, Prescan, Rec, State, YearHint, int_or_text, s};
use crate::timefmt::{civil, digits, hms};
use compact_str::CompactString;
use jiff::civil::Date;
use memchr::memmem;
use mirt_core::Value;
use std::sync::Arc;

/// Which W3C dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Iis,
    Firewall,
}

/// The W3C parser.
pub(crate) struct W3cParser {
    dialect: Dialect,
}

impl W3cParser {
    pub(crate) fn iis() -> Self {
        W3cParser {
            dialect: Dialect::Iis,
        }
    }

    pub(crate) fn firewall() -> Self {
        W3cParser {
            dialect: Dialect::Firewall,
        }
    }

    fn variant(&self) -> &'static str {
        match self.dialect {
            Dialect::Iis => "iis_w3c",
            Dialect::Firewall => "windows_firewall",
        }
    }
}

/// The role of a column.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    Date,
    Time,
    Field(CompactString),
}

/// The directives in force.
#[derive(Debug, Clone, Default)]
pub(crate) struct W3cState {
    columns: Option<Arc<[Column]>>,
    date: Option<Date>,
    /// Times are local (`#Time Format: Local`, the firewall's default).
    local: bool,
}

/// The last directives of a chunk, as text (the pre-pass does not parse).
#[derive(Debug, Clone, Default)]
pub(crate) struct Directives {
    fields: Option<String>,
    date: Option<String>,
    time_format: Option<String>,
}

impl W3cState {
    fn apply(&mut self, directive: &str, dialect: Dialect) -> bool {
        let Some(body) = directive.strip_prefix('#') else {
            return false;
        };
        let (key, value) = body.split_once(':').unwrap_or((body, ""));
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "fields" => {
                self.columns = Some(
                    value
                        .split_ascii_whitespace()
                        .map(|n| column(n, dialect))
                        .collect(),
                );
            }
            "date" | "start-date" => {
                if let Some(d) = parse_date(value.as_bytes()) {
                    self.date = Some(d);
                }
            }
            "time format" => self.local = !value.eq_ignore_ascii_case("utc"),
            _ => {}
        }
        true
    }
}

fn column(n: &str, dialect: Dialect) -> Column {
    match n {
        "date" => return Column::Date,
        "time" => return Column::Time,
        _ => {}
    }
    let normalised = match dialect {
        Dialect::Iis => match n.split_once('(') {
            // `cs(User-Agent)` -> `cs-user-agent`
            Some((prefix, header)) => {
                format!(
                    "{prefix}-{}",
                    header.trim_end_matches(')').to_ascii_lowercase()
                )
            }
            None => n.to_string(),
        },
        Dialect::Firewall => n.replace('-', "_"),
    };
    Column::Field(CompactString::from(normalised))
}

fn parse_date(b: &[u8]) -> Option<Date> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(b, 4)? as i16;
    let m = digits(&b[5..], 2)? as i8;
    let d = digits(&b[8..], 2)? as i8;
    Date::new(y, m, d).ok()
}

/// Columns that hold numbers in IIS and firewall logs.
fn numeric(name: &str) -> bool {
    matches!(
        name,
        "sc-status"
            | "sc-substatus"
            | "sc-win32-status"
            | "s-port"
            | "time-taken"
            | "sc-bytes"
            | "cs-bytes"
            | "src_port"
            | "dst_port"
            | "size"
            | "tcpsyn"
            | "tcpack"
            | "tcpwin"
            | "icmptype"
            | "icmpcode"
            | "pid"
    )
}

impl FormatParser for W3cParser {
    fn needs_prescan(&self) -> bool {
        true
    }

    fn prescan(&self, chunk: &[u8]) -> Prescan {
        let mut d = Directives::default();
        let starts = std::iter::once(0)
            .filter(|_| chunk.first() == Some(&b'#'))
            .chain(memmem::find_iter(chunk, b"\n#").map(|i| i + 1));
        for start in starts {
            let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |i| start + i);
            let line = String::from_utf8_lossy(&chunk[start..end])
                .trim_end()
                .to_string();
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("#fields:") {
                d.fields = Some(line);
            } else if lower.starts_with("#date:") || lower.starts_with("#start-date:") {
                d.date = Some(line);
            } else if lower.starts_with("#time format:") {
                d.time_format = Some(line);
            }
        }
        Prescan::W3c(d)
    }

    fn chunk_states(&self, prescans: &[Prescan], _hint: &YearHint) -> Vec<State> {
        let mut state = W3cState {
            local: self.dialect == Dialect::Firewall,
            ..Default::default()
        };
        let mut out = Vec::with_capacity(prescans.len().max(1));
        for p in prescans {
            out.push(State::W3c(state.clone()));
            if let Prescan::W3c(d) = p {
                for line in [&d.fields, &d.date, &d.time_format].into_iter().flatten() {
                    state.apply(line, self.dialect);
                }
            }
        }
        if out.is_empty() {
            out.push(State::W3c(state));
        }
        out
    }

    fn parse(&self, state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed {
        let State::W3c(st) = state else {
            return Parsed::fail("W3C parser without W3C state");
        };
        let text = rec.text.strip_prefix('\u{feff}').unwrap_or(rec.text);
        if text.trim().is_empty() {
            return Parsed::Skip;
        }
        if text.starts_with('#') {
            st.apply(text, self.dialect);
            return Parsed::Skip;
        }
        let Some(columns) = st.columns.clone() else {
            return Parsed::fail("data line before any #Fields: directive");
        };
        let values: Vec<&str> = text.split_ascii_whitespace().collect();
        if values.len() != columns.len() {
            return Parsed::Fail(format!(
                "{} values for the {} columns of the #Fields: directive",
                values.len(),
                columns.len()
            ));
        }
        let mut ev = ctx.event(rec, self.variant());
        let mut date = st.date;
        let mut time = None;
        for (column, value) in columns.iter().zip(&values) {
            match column {
                Column::Date => date = parse_date(value.as_bytes()),
                Column::Time => time = hms(value.as_bytes()),
                Column::Field(n) => {
                    let v = if *value == "-" {
                        Value::Null
                    } else if numeric(n) {
                        int_or_text(value)
                    } else {
                        s(value)
                    };
                    if n == "s-computername"
                        && let Value::Str(host) = &v
                    {
                        ev.computer = Some(host.clone());
                    }
                    ev.fields.push(n.clone(), v);
                }
            }
        }
        match (date, time) {
            (Some(d), Some((h, mi, sec, nanos, _))) => {
                let dt = civil(
                    i32::from(d.year()),
                    d.month() as u8,
                    d.day() as u8,
                    h,
                    mi,
                    sec,
                    nanos,
                );
                ev.timestamp = dt.and_then(|dt| {
                    if st.local {
                        ctx.clock.local(dt)
                    } else {
                        ctx.clock.resolve(dt, Some(0))
                    }
                });
                if ev.timestamp.is_none() {
                    return Parsed::fail("date or time out of range");
                }
            }
            (None, Some(_)) => {
                return Parsed::fail(
                    "time without a date (no date column and no #Date: directive)",
                );
            }
            (_, None) => return Parsed::fail("no valid time column"),
        }
        Parsed::Event(Box::new(ev))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::Clock;
    use mirt_core::Event;

    fn run(p: &W3cParser, lines: &[&str]) -> Vec<Result<Event, String>> {
        let ctx = FileCtx {
            path: Arc::from(std::path::Path::new("u_ex.log")),
            clock: Clock::new(Some(jiff::tz::TimeZone::get("Europe/Berlin").unwrap())),
            keep_raw: false,
            format: crate::LogFormat::IisW3c,
            year_now: 2020,
        };
        let mut state = p
            .chunk_states(
                &[Prescan::None],
                &YearHint {
                    first_year: None,
                    modified: None,
                },
            )
            .remove(0);
        lines
            .iter()
            .filter_map(|l| {
                let rec = Rec {
                    text: l,
                    offset: 0,
                    line: 0,
                };
                match p.parse(&mut state, &rec, &ctx) {
                    Parsed::Event(e) => Some(Ok(*e)),
                    Parsed::Fail(r) => Some(Err(r)),
                    Parsed::Skip => None,
                }
            })
            .collect()
    }

    #[test]
    fn fields_change_mid_file_and_names_are_normalised() {
        let out = run(
            &W3cParser::iis(),
            &[
                "#Fields: date time c-ip cs(User-Agent) sc-status",
                "2021-04-01 00:00:21 1.2.3.4 Mozilla/5.0 200",
                "#Fields: time cs-method",
                "#Date: 2013-07-30 00:00:00",
                "00:00:03 GET",
                "00:00:04 GET extra",
            ],
        );
        let first = out[0].as_ref().unwrap();
        assert_eq!(first.timestamp.unwrap().to_string(), "2021-04-01T00:00:21Z");
        assert_eq!(
            first.fields.get("cs-user-agent"),
            Some(&Value::from("Mozilla/5.0"))
        );
        assert_eq!(first.fields.get("sc-status"), Some(&Value::Int(200)));
        let second = out[1].as_ref().unwrap();
        assert_eq!(
            second.timestamp.unwrap().to_string(),
            "2013-07-30T00:00:03Z"
        );
        assert!(
            out[2]
                .as_ref()
                .unwrap_err()
                .contains("3 values for the 2 columns")
        );
    }

    #[test]
    fn firewall_times_are_local() {
        let out = run(
            &W3cParser::firewall(),
            &[
                "#Time Format: Local",
                "#Fields: date time action protocol src-ip dst-ip src-port dst-port",
                "2005-04-11 08:05:57 DROP UDP 1.2.3.4 5.6.7.8 137 137",
            ],
        );
        let e = out[0].as_ref().unwrap();
        assert_eq!(e.timestamp.unwrap().to_string(), "2005-04-11T06:05:57Z");
        assert_eq!(e.fields.get("src_ip"), Some(&Value::from("1.2.3.4")));
        assert_eq!(e.fields.get("dst_port"), Some(&Value::Int(137)));
    }

    #[test]
    fn data_before_fields_fails() {
        let out = run(&W3cParser::iis(), &["2021-04-01 00:00:21 x"]);
        assert!(out[0].is_err());
    }
}
