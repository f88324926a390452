//! Apache httpd error logs (2.2 and 2.4 layouts) and nginx error logs.
//! Times are local (no offset written): `--tz` says which zone.

use super::{FileCtx, FormatParser, Parsed, Rec, State, int_or_text, name, s};
use crate::frame::{Framing, Records};
use crate::timefmt::{civil, digits, hms, iso_datetime, month_abbr};
use jiff::civil::DateTime;
use mirt_core::Event;

/// The error log parser.
pub(crate) struct ApacheError;

/// Whether a line starts an error log record (others continue it).
pub(crate) fn is_record_start(line: &[u8]) -> bool {
    ctime_bracket(line).is_some() || iso_datetime(line).is_some()
}

/// `[Wed Oct 11 14:32:52.123456 2000]`: the civil time and bytes read.
fn ctime_bracket(b: &[u8]) -> Option<(DateTime, usize)> {
    if b.first() != Some(&b'[') {
        return None;
    }
    let (dt, used) = ctime(&b[1..])?;
    (b.get(1 + used) == Some(&b']')).then_some((dt, used + 2))
}

/// `Wed Oct 11 14:32:52[.frac] 2000` (also used by vsftpd and others).
pub(crate) fn ctime(b: &[u8]) -> Option<(DateTime, usize)> {
    if b.len() < 24 || !b[..3].iter().all(u8::is_ascii_alphabetic) || b[3] != b' ' {
        return None;
    }
    let mo = month_abbr(&b[4..7])?;
    let mut p = 8;
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    let dlen = b[p..]
        .iter()
        .take(2)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let d = std::str::from_utf8(&b[p..p + dlen]).ok()?.parse().ok()?;
    p += dlen + 1;
    let (h, mi, sec, nanos, used) = hms(b.get(p..)?)?;
    p += used;
    if b.get(p) != Some(&b' ') {
        return None;
    }
    let y = digits(&b[p + 1..], 4)? as i32;
    Some((civil(y, mo, d, h, mi, sec, nanos)?, p + 5))
}

/// The `[...]` groups after the time, then the message.
fn apache_body(rest: &str, ev: &mut Event) {
    let mut r = rest.trim_start();
    while let Some(inner_start) = r.strip_prefix('[') {
        let Some(close) = inner_start.find(']') else {
            break;
        };
        let group = &inner_start[..close];
        r = inner_start[close + 1..].trim_start();
        if let Some(pids) = group.strip_prefix("pid ") {
            let (pid, tid) = match pids.split_once(":tid ") {
                Some((p, t)) => (p, Some(t)),
                None => (pids, None),
            };
            ev.fields.push(name("pid"), int_or_text(pid));
            if let Some(tid) = tid {
                ev.fields.push(name("tid"), int_or_text(tid));
            }
        } else if let Some(client) = group
            .strip_prefix("client ")
            .or_else(|| group.strip_prefix("remote "))
        {
            ev.fields.push(name("client"), s(client));
            let ip = match client.rsplit_once(':') {
                // IPv4:port; a bare IPv6 address has several colons.
                Some((ip, port))
                    if !ip.contains(':') && port.bytes().all(|c| c.is_ascii_digit()) =>
                {
                    ev.fields.push(name("client_port"), int_or_text(port));
                    ip
                }
                _ => client,
            };
            ev.fields.push(name("c-ip"), s(ip));
        } else if let Some((module, severity)) = group.split_once(':') {
            ev.fields.push(name("module"), s(module));
            set_severity(ev, severity);
        } else if group.chars().all(|c| c.is_ascii_alphanumeric()) {
            set_severity(ev, group);
        } else {
            ev.fields.push(name("context"), s(group));
        }
    }
    if let Some((code, _)) = r.split_once(": ")
        && code.len() == 7
        && code.starts_with("AH")
    {
        ev.fields.push(name("error_code"), s(code));
    }
    ev.message = Some(r.to_string());
}

fn set_severity(ev: &mut Event, sev: &str) {
    ev.level = match sev {
        "emerg" | "alert" | "crit" => Some(1),
        "error" => Some(2),
        "warn" => Some(3),
        "notice" | "info" => Some(4),
        s if s.starts_with("debug") || s.starts_with("trace") => Some(5),
        _ => None,
    };
    ev.fields.push(name("severity"), s(sev));
}

/// nginx: `2024/01/02 03:04:05 [error] 1234#5678: *1 message, client: ...`
fn nginx_body(rest: &str, ev: &mut Event) -> Result<(), &'static str> {
    let r = rest.trim_start();
    let r = r
        .strip_prefix('[')
        .ok_or("nginx error line without [level]")?;
    let (level, r) = r
        .split_once("] ")
        .ok_or("nginx error line without [level]")?;
    set_severity(ev, level);
    let (ids, msg) = r.split_once(": ").unwrap_or(("", r));
    if let Some((pid, tid)) = ids.split_once('#') {
        ev.fields.push(name("pid"), int_or_text(pid));
        ev.fields.push(name("tid"), int_or_text(tid));
    }
    let msg = match msg.strip_prefix('*').and_then(|m| m.split_once(' ')) {
        Some((conn, m)) => {
            ev.fields.push(name("connection"), int_or_text(conn));
            m
        }
        None => msg,
    };
    // Trailing `, client: 1.2.3.4, server: x, request: "GET / HTTP/1.1"`.
    let main = match msg.find(", client: ") {
        Some(at) => {
            for kv in msg[at + 2..].split(", ") {
                if let Some((k, v)) = kv.split_once(": ") {
                    let v = v.trim_matches('"');
                    match k {
                        "client" => ev.fields.push(name("c-ip"), s(v)),
                        "server" | "request" | "host" | "upstream" | "referrer" => {
                            ev.fields.push(k.to_string(), s(v))
                        }
                        _ => {}
                    }
                }
            }
            &msg[..at]
        }
        None => msg,
    };
    ev.message = Some(main.to_string());
    Ok(())
}

impl FormatParser for ApacheError {
    fn framing(&self) -> Framing {
        Framing {
            records: Records::Multiline(is_record_start),
            whole_file: false,
        }
    }

    fn parse(&self, _state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed {
        let text = rec.text;
        if text.trim().is_empty() {
            return Parsed::Skip;
        }
        let b = text.as_bytes();
        if let Some((dt, used)) = ctime_bracket(b) {
            let mut ev = ctx.event(rec, "apache_error");
            ev.timestamp = ctx.clock.local(dt);
            apache_body(&text[used..], &mut ev);
            return Parsed::Event(Box::new(ev));
        }
        if let Some((dt, off, used)) = iso_datetime(b) {
            let mut ev = ctx.event(rec, "nginx_error");
            ev.timestamp = ctx.clock.resolve(dt, off);
            return match nginx_body(&text[used..], &mut ev) {
                Ok(()) => Parsed::Event(Box::new(ev)),
                Err(reason) => Parsed::fail(reason),
            };
        }
        Parsed::fail(
            "not an Apache or nginx error log line (expected [Www Mmm dd hh:mm:ss yyyy] or yyyy/mm/dd hh:mm:ss)",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::Clock;
    use mirt_core::Value;
    use std::sync::Arc;

    fn parse(line: &str) -> Event {
        let ctx = FileCtx {
            path: Arc::from(std::path::Path::new("error.log")),
            clock: Clock::new(None),
            keep_raw: false,
            format: crate::LogFormat::ApacheError,
            year_now: 2020,
        };
        let rec = Rec {
            text: line,
            offset: 0,
            line: 0,
        };
        match ApacheError.parse(&mut State::None, &rec, &ctx) {
            Parsed::Event(e) => *e,
            _ => panic!("{line}"),
        }
    }

    #[test]
    fn apache_24_and_22() {
        let e = parse(
            "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1234:tid 5678] [client 10.0.0.1:4711] AH00126: Invalid URI in request GET /../../etc/passwd",
        );
        assert_eq!(
            e.timestamp.unwrap().to_string(),
            "2000-10-11T14:32:52.123456Z"
        );
        assert_eq!(e.fields.get("module"), Some(&Value::from("core")));
        assert_eq!(e.fields.get("c-ip"), Some(&Value::from("10.0.0.1")));
        assert_eq!(e.fields.get("client_port"), Some(&Value::Int(4711)));
        assert_eq!(e.fields.get("error_code"), Some(&Value::from("AH00126")));
        assert_eq!(e.level, Some(2));
        let e = parse("[Sun Mar  7 16:02:00 2004] [notice] Apache/1.3.29 (Unix) configured");
        assert_eq!(e.fields.get("severity"), Some(&Value::from("notice")));
        assert_eq!(
            e.message.as_deref(),
            Some("Apache/1.3.29 (Unix) configured")
        );
    }

    #[test]
    fn nginx() {
        let e = parse(
            r#"2024/01/02 03:04:05 [error] 1234#0: *17 open() "/var/www/x.php" failed (2: No such file or directory), client: 1.2.3.4, server: localhost, request: "GET /x.php HTTP/1.1", host: "example.org""#,
        );
        assert_eq!(e.source.format, Some("nginx_error"));
        assert_eq!(e.fields.get("c-ip"), Some(&Value::from("1.2.3.4")));
        assert_eq!(
            e.fields.get("request"),
            Some(&Value::from("GET /x.php HTTP/1.1"))
        );
        assert_eq!(e.fields.get("connection"), Some(&Value::Int(17)));
        assert!(e.message.unwrap().starts_with("open()"));
    }
}
