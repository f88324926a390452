//! Apache httpd and nginx access logs: the common log format, combined
//! (with referer and user agent), and Debian's vhost_combined (`%v:%p`
//! first). Fields are named as in the Sigma `webserver` taxonomy (W3C names);
//! cells the server wrote as `-` (nothing) are left out.

use super::{FileCtx, FormatParser, Parsed, Rec, State, name, s};
use crate::timefmt::{civil, digits, month_abbr};
use jiff::Timestamp;
use mirt_core::Event;
use nom::IResult;
use nom::bytes::complete::{tag, take_till1};

type R<'a, T> = IResult<&'a str, T, ()>;

/// The access log parser.
pub(crate) struct ApacheAccess;

/// The parts of an access log line, borrowed from it.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct AccessLine<'a> {
    pub vhost: Option<&'a str>,
    pub host: &'a str,
    pub ident: &'a str,
    pub user: &'a str,
    pub time: Option<Timestamp>,
    pub request: &'a str,
    pub status: &'a str,
    pub bytes: &'a str,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub rest: &'a str,
}

fn token(i: &str) -> R<'_, &str> {
    take_till1(|c| c == ' ')(i)
}

fn sp(i: &str) -> R<'_, &str> {
    tag(" ")(i)
}

/// The common log format time `13/Jan/2016:19:31:16 +0000` at the start
/// of `b`, and the bytes it takes.
pub(crate) fn clf_time(b: &[u8]) -> Option<(Timestamp, usize)> {
    if b.len() < 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let d = digits(b, 2)? as u8;
    let mo = month_abbr(&b[3..6])?;
    let y = digits(&b[7..], 4)? as i32;
    let (h, mi, sec, nanos, used) = crate::timefmt::hms(&b[12..])?;
    let p = 12 + used;
    if b.get(p) != Some(&b' ') {
        return None;
    }
    let (off, n) = crate::timefmt::offset(&b[p + 1..])?;
    let dt = civil(y, mo, d, h, mi, sec, nanos)?;
    let ts = jiff::tz::Offset::from_seconds(off)
        .ok()?
        .to_timestamp(dt)
        .ok()?;
    Some((ts, p + 1 + n))
}

/// `[13/Jan/2016:19:31:16 +0000]`
pub(crate) fn bracket_time(i: &str) -> R<'_, Timestamp> {
    let b = i.as_bytes();
    match b.strip_prefix(b"[").and_then(clf_time) {
        Some((ts, used)) if b.get(used + 1) == Some(&b']') => Ok((&i[used + 2..], ts)),
        _ => Err(nom::Err::Error(())),
    }
}

/// A double-quoted string with backslash escapes; returns the text between
/// the quotes as written.
pub(crate) fn quoted(i: &str) -> R<'_, &str> {
    let b = i.as_bytes();
    if b.first() != Some(&b'"') {
        return Err(nom::Err::Error(()));
    }
    let mut k = 1;
    while let Some(at) = memchr::memchr2(b'"', b'\\', b.get(k..).unwrap_or_default()) {
        k += at;
        if b[k] == b'"' {
            return Ok((&i[k + 1..], &i[1..k]));
        }
        k += 2;
    }
    Err(nom::Err::Error(()))
}

/// The request `"%r"`. Some servers do not escape quotes inside it, so it
/// ends at the first quote followed by a space and a three-digit status.
fn request(i: &str) -> R<'_, &str> {
    let b = i.as_bytes();
    if b.first() != Some(&b'"') {
        return Err(nom::Err::Error(()));
    }
    let mut first_close = None;
    for k in memchr::memchr_iter(b'"', &b[1..]).map(|k| k + 1) {
        if b.get(k + 1) != Some(&b' ') {
            if k + 1 == b.len() {
                first_close.get_or_insert(k);
            }
            continue;
        }
        first_close.get_or_insert(k);
        let after = &b[k + 2..];
        if digits(after, 3).is_some() && after.get(3).is_none_or(|&c| c == b' ') {
            return Ok((&i[k + 1..], &i[1..k]));
        }
    }
    match first_close {
        Some(k) => Ok((&i[k + 1..], &i[1..k])),
        None => Err(nom::Err::Error(())),
    }
}

/// Parses one access log line.
pub(crate) fn access_line(line: &str) -> Option<AccessLine<'_>> {
    // The vhost_combined form has one token more before the time.
    let before_time = line.find(" [")?;
    let tokens = memchr::memchr_iter(b' ', &line.as_bytes()[..before_time]).count() + 1;
    let (mut i, vhost) = match tokens {
        3 => (line, None),
        4 => {
            let (rest, v) = token(line).ok()?;
            let (rest, _) = sp(rest).ok()?;
            (rest, Some(v))
        }
        _ => return None,
    };
    let mut out = AccessLine {
        vhost,
        ..Default::default()
    };
    (i, out.host) = token(i).ok()?;
    (i, _) = sp(i).ok()?;
    (i, out.ident) = token(i).ok()?;
    (i, _) = sp(i).ok()?;
    (i, out.user) = token(i).ok()?;
    (i, _) = sp(i).ok()?;
    let (rest, ts) = bracket_time(i).ok()?;
    out.time = Some(ts);
    (i, _) = sp(rest).ok()?;
    (i, out.request) = request(i).ok()?;
    (i, _) = sp(i).ok()?;
    (i, out.status) = token(i).ok()?;
    if !(out.status.len() == 3 && out.status.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    (i, _) = sp(i).ok()?;
    (i, out.bytes) = token(i).ok()?;
    if !(out.bytes == "-" || out.bytes.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    if i.is_empty() {
        return Some(out);
    }
    // Combined: referer and user agent, both quoted; an unterminated one
    // means the line was cut.
    let (r, _) = sp(i).ok()?;
    let (r, referer) = quoted(r).ok()?;
    let (r, _) = sp(r).ok()?;
    let (r, agent) = quoted(r).ok()?;
    out.referer = Some(referer);
    out.user_agent = Some(agent);
    out.rest = r.trim_start();
    Some(out)
}

impl AccessLine<'_> {
    fn variant(&self) -> &'static str {
        match (self.vhost.is_some(), self.user_agent.is_some()) {
            (true, _) => "apache_vhost_combined",
            (false, true) => "apache_combined",
            (false, false) => "apache_common",
        }
    }

    fn fill(&self, event: &mut Event) {
        let f = &mut event.fields;
        if let Some(vhost) = self.vhost {
            match vhost.rsplit_once(':') {
                Some((site, port)) if port.bytes().all(|c| c.is_ascii_digit()) => {
                    f.push(name("s-sitename"), s(site));
                    f.push(name("s-port"), super::int_or_text(port));
                }
                _ => f.push(name("s-sitename"), s(vhost)),
            }
        }
        f.push(name("c-ip"), s(self.host));
        if self.ident != "-" {
            f.push(name("ident"), s(self.ident));
        }
        if self.user != "-" {
            f.push(name("cs-username"), s(self.user));
        }
        // The request line in parts; kept whole as `request` only when it
        // is not `METHOD URI [VERSION]` (scanners send anything).
        let mut parts = self.request.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(method), Some(uri), version)
                if !method.is_empty()
                    && !uri.is_empty()
                    && version.is_none_or(|v| !v.contains(' ')) =>
            {
                f.push(name("cs-method"), s(method));
                let (stem, query) = match uri.split_once('?') {
                    Some((stem, query)) => (stem, Some(query)),
                    None => (uri, None),
                };
                f.push(name("cs-uri-stem"), s(stem));
                if let Some(query) = query {
                    f.push(name("cs-uri-query"), s(query));
                }
                if let Some(v) = version {
                    f.push(name("cs-version"), s(v));
                }
            }
            _ => f.push(name("request"), s(self.request)),
        }
        f.push(name("sc-status"), super::int_or_text(self.status));
        f.push(name("sc-bytes"), super::int_or_text(self.bytes));
        // `-` (nothing sent) is left out rather than stored as null.
        if let Some(referer) = self.referer.filter(|r| *r != "-") {
            f.push(name("cs-referer"), s(referer));
        }
        if let Some(agent) = self.user_agent.filter(|a| *a != "-") {
            f.push(name("cs-user-agent"), s(agent));
        }
        if !self.rest.is_empty() {
            f.push(name("extra"), s(self.rest));
        }
    }
}

impl FormatParser for ApacheAccess {
    fn parse(&self, _state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed {
        if rec.text.trim().is_empty() {
            return Parsed::Skip;
        }
        let Some(line) = access_line(rec.text) else {
            return Parsed::fail(
                "not an Apache/nginx access log line (common, combined or vhost_combined)",
            );
        };
        let mut event = ctx.event(rec, line.variant());
        event.timestamp = line.time;
        line.fill(&mut event);
        Parsed::Event(Box::new(event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirt_core::{Source, SourceKind};

    fn fields(line: &str) -> Vec<(String, String)> {
        let mut e = Event::new(Source::new(SourceKind::TextLog, "a", 0));
        access_line(line).unwrap().fill(&mut e);
        e.fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_text()))
            .collect()
    }

    #[test]
    fn request_split_into_w3c_fields() {
        let f = fields(
            r#"1.2.3.4 - bob [13/Jan/2016:19:31:17 +0000] "GET /a/b.php?x=1&y=2 HTTP/1.1" 200 5 "-" "-""#,
        );
        let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "c-ip",
                "cs-username",
                "cs-method",
                "cs-uri-stem",
                "cs-uri-query",
                "cs-version",
                "sc-status",
                "sc-bytes"
            ]
        );
        assert_eq!(f[4].1, "x=1&y=2");
        let f = fields(r#"1.2.3.4 - - [13/Jan/2016:19:31:17 +0000] "\x16\x03\x01" 400 0"#);
        assert_eq!(f[1], ("request".to_string(), "\\x16\\x03\\x01".to_string()));
    }

    #[test]
    fn combined_line() {
        let l = access_line(r#"10.1.1.2 - bob [13/Jan/2016:19:31:17 +0200] "GET /a.php?cmd=id HTTP/1.1" 200 1063 "-" "Mozilla/5.0 (X11)""#).unwrap();
        assert_eq!(l.host, "10.1.1.2");
        assert_eq!(l.user, "bob");
        assert_eq!(l.time.unwrap().to_string(), "2016-01-13T17:31:17Z");
        assert_eq!(l.request, "GET /a.php?cmd=id HTTP/1.1");
        assert_eq!((l.status, l.bytes), ("200", "1063"));
        assert_eq!(l.user_agent, Some("Mozilla/5.0 (X11)"));
        assert_eq!(l.variant(), "apache_combined");
    }

    #[test]
    fn variants_and_oddities() {
        let common =
            access_line(r#"::1 - - [25/Apr/2021:06:15:33 +0000] "GET / HTTP/1.0" 404 -"#).unwrap();
        assert_eq!(common.variant(), "apache_common");
        assert_eq!(common.host, "::1");
        let vhost = access_line(r#"www.example.org:443 1.2.3.4 - - [13/Jan/2018:19:31:17 +0000] "GET / HTTP/1.1" 200 5 "-" "x""#).unwrap();
        assert_eq!(vhost.vhost, Some("www.example.org:443"));
        assert_eq!(vhost.variant(), "apache_vhost_combined");
        let unescaped = access_line(r#"1.2.3.4 - - [25/Apr/2021:06:15:33 +0000] "GET /$%7B("a"+"b")%7D/x HTTP/1.0" 404 1164"#).unwrap();
        assert_eq!(unescaped.request, r#"GET /$%7B("a"+"b")%7D/x HTTP/1.0"#);
        let escaped = access_line(r#"1.2.3.4 - - [25/Apr/2021:06:15:33 +0000] "GET / HTTP/1.0" 200 1 "-" "say \"hi\"" "extra""#).unwrap();
        assert_eq!(escaped.user_agent, Some(r#"say \"hi\""#));
        assert_eq!(escaped.rest, "\"extra\"");
    }

    #[test]
    fn rejects_cut_and_foreign_lines() {
        for bad in [
            r#"46.1.1.1 - - [20/May/2015:12:05:17 +0000] "GET / HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible"#,
            "Jan 22 07:52:33 host client[30840]: INFO",
            r#"1.2.3.4 - - [99/Foo/2021:06:15:33 +0000] "GET / HTTP/1.0" 200 1"#,
            r#"1.2.3.4 - - [25/Apr/2021:06:15:33 +0000] "GET / HTTP/1.0" 2000 1"#,
            "",
        ] {
            assert!(access_line(bad).is_none(), "{bad}");
        }
    }
}
