//! Fields of the authentication messages in Linux `auth.log` / `secure`:
//! sshd logins and failures, sudo commands, su switches, and the PAM lines
//! they write. Added to any syslog event from these programs, so they are
//! found in `/var/log/messages` too.
//!
//! Field names: `user` (who logs in or acts), `target_user` (sudo/su to
//! whom), `src_ip`, `src_port`, `auth_method`, `outcome` (`success` or
//! `failure`), `action`, `tty`, `pwd`, `command`, `key_type`,
//! `key_fingerprint`, `repeated` (syslog's "message repeated N times").

use super::{int_or_text, name, s};
use mirt_core::{Event, Value};

/// Adds the fields of an sshd, sudo or su message to `event`.
pub(crate) fn extract(event: &mut Event) {
    let Some(program) = event.provider.as_deref() else {
        return;
    };
    let program = program.rsplit('/').next().unwrap_or(program);
    let kind = match program {
        "sshd" | "sshd-session" | "sshd-auth" => Program::Sshd,
        "sudo" => Program::Sudo,
        "su" => Program::Su,
        "login" | "systemd-logind" | "gdm-password" | "lightdm" | "cron" | "CRON" => Program::Pam,
        _ => return,
    };
    let Some(message) = event.message.as_deref() else {
        return;
    };
    let mut out = Vec::new();
    let mut msg = message.trim();
    // "message repeated 5 times: [ Failed password for root from ...]"
    if let Some(rest) = msg.strip_prefix("message repeated ")
        && let Some((n, inner)) = rest.split_once(" times: [")
    {
        out.push(("repeated", int_or_text(n)));
        msg = inner.trim().trim_end_matches(']').trim();
    }
    if let Some(pam) = msg.strip_prefix("pam_unix(") {
        pam_unix(pam, &mut out);
    } else {
        match kind {
            Program::Sshd => sshd(msg, &mut out),
            Program::Sudo => sudo(msg, &mut out),
            Program::Su => su(msg, &mut out),
            Program::Pam => {}
        }
    }
    for (k, v) in out {
        event.fields.push(name(k), v);
    }
}

enum Program {
    Sshd,
    Sudo,
    Su,
    Pam,
}

type Out = Vec<(&'static str, Value)>;

/// The word after `key` in `msg`, up to the next space.
fn word_after<'a>(msg: &'a str, key: &str) -> Option<&'a str> {
    let at = msg.find(key)? + key.len();
    msg[at..].split_whitespace().next()
}

/// `from IP port PORT` (or `IP port PORT` after a user name).
fn from_ip_port(rest: &str, out: &mut Out) {
    let mut words = rest.split_whitespace();
    while let Some(w) = words.next() {
        if w == "from" || looks_like_ip(w) {
            let ip = if w == "from" { words.next() } else { Some(w) };
            if let Some(ip) = ip.filter(|ip| looks_like_ip(ip)) {
                out.push(("src_ip", s(ip)));
                if words.next() == Some("port")
                    && let Some(port) = words.next()
                {
                    out.push(("src_port", int_or_text(port.trim_end_matches([':', ',']))));
                }
            }
            return;
        }
    }
}

fn looks_like_ip(w: &str) -> bool {
    w.parse::<std::net::IpAddr>().is_ok()
        || (w.contains(':')
            && w.bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.'))
}

fn sshd(msg: &str, out: &mut Out) {
    let outcome =
        |out: &mut Out, ok: bool| out.push(("outcome", s(if ok { "success" } else { "failure" })));
    if let Some(rest) = msg
        .strip_prefix("Accepted ")
        .or_else(|| msg.strip_prefix("Failed "))
    {
        let ok = msg.starts_with("Accepted");
        out.push(("action", s(if ok { "accepted" } else { "failed" })));
        outcome(out, ok);
        let mut words = rest.split_whitespace();
        if let Some(method) = words.next() {
            out.push(("auth_method", s(method)));
        }
        let mut after_for = rest.split_once(" for ").map_or("", |(_, r)| r);
        if let Some(r) = after_for.strip_prefix("invalid user ") {
            out.push(("invalid_user", Value::Bool(true)));
            after_for = r;
        }
        if let Some((user, tail)) = after_for.rsplit_once(" from ") {
            out.push(("user", s(user)));
            from_ip_port(&format!("from {tail}"), out);
            if let Some((_, key)) = tail.split_once(": ") {
                let mut k = key.split_whitespace();
                if let (Some(kt), Some(fp)) = (k.next(), k.next()) {
                    out.push(("key_type", s(kt)));
                    out.push(("key_fingerprint", s(fp)));
                }
            }
        }
    } else if let Some(rest) = msg.strip_prefix("Invalid user ") {
        out.push(("action", s("invalid_user")));
        outcome(out, false);
        out.push(("invalid_user", Value::Bool(true)));
        if let Some((user, tail)) = rest.rsplit_once(" from ") {
            out.push(("user", s(user)));
            from_ip_port(&format!("from {tail}"), out);
        }
    } else if let Some(rest) = msg
        .strip_prefix("Connection closed by ")
        .or_else(|| msg.strip_prefix("Disconnected from "))
    {
        out.push((
            "action",
            s(if msg.starts_with("Connection") {
                "connection_closed"
            } else {
                "disconnected"
            }),
        ));
        let rest = rest
            .strip_prefix("authenticating user ")
            .or_else(|| rest.strip_prefix("invalid user "))
            .or_else(|| rest.strip_prefix("user "))
            .inspect(|r| {
                if let Some((user, _)) = r.split_once(' ') {
                    out.push(("user", s(user)));
                }
            })
            .unwrap_or(rest);
        from_ip_port(rest, out);
        if msg.ends_with("[preauth]") {
            out.push(("preauth", Value::Bool(true)));
        }
    } else if let Some(rest) = msg.strip_prefix("Connection from ") {
        out.push(("action", s("connection")));
        from_ip_port(rest, out);
    } else if let Some(rest) = msg.strip_prefix("Received disconnect from ") {
        out.push(("action", s("disconnect_received")));
        from_ip_port(rest, out);
    } else if let Some(rest) = msg.strip_prefix("maximum authentication attempts exceeded for ") {
        out.push(("action", s("max_attempts_exceeded")));
        outcome(out, false);
        let rest = rest.strip_prefix("invalid user ").unwrap_or(rest);
        if let Some((user, tail)) = rest.rsplit_once(" from ") {
            out.push(("user", s(user)));
            from_ip_port(&format!("from {tail}"), out);
        }
    } else if let Some(rest) = msg.strip_prefix("Did not receive identification string from ") {
        out.push(("action", s("no_identification")));
        from_ip_port(rest, out);
    }
}

/// `USER : TTY=pts/0 ; PWD=/home/u ; USER=root ; COMMAND=/bin/sh`, and the
/// failure forms (`3 incorrect password attempts`, `user NOT in sudoers`).
fn sudo(msg: &str, out: &mut Out) {
    let Some((user, rest)) = msg.split_once(" : ") else {
        return;
    };
    out.push(("user", s(user.trim())));
    let mut failed = false;
    for part in rest.split(" ; ") {
        let part = part.trim();
        match part.split_once('=') {
            Some(("TTY", v)) => out.push(("tty", s(v))),
            Some(("PWD", v)) => out.push(("pwd", s(v))),
            Some(("USER", v)) => out.push(("target_user", s(v))),
            Some(("GROUP", v)) => out.push(("target_group", s(v))),
            Some(("COMMAND", v)) => out.push(("command", s(v))),
            Some(("ENV", v)) => out.push(("env", s(v))),
            _ if part.contains("incorrect password")
                || part.contains("NOT in sudoers")
                || part.contains("not allowed")
                || part.contains("authentication failure") =>
            {
                failed = true;
                out.push(("reason", s(part)));
            }
            _ => {}
        }
    }
    out.push(("action", s(if failed { "denied" } else { "command" })));
    out.push(("outcome", s(if failed { "failure" } else { "success" })));
}

/// `(to root) bob on pts/0`, `Successful su for root by bob`, `FAILED su
/// for root by bob`, `+ pts/0 bob:root`.
fn su(msg: &str, out: &mut Out) {
    if let Some(rest) = msg.strip_prefix("(to ") {
        if let Some((target, tail)) = rest.split_once(") ") {
            out.push(("target_user", s(target)));
            let mut words = tail.split_whitespace();
            if let Some(user) = words.next() {
                out.push(("user", s(user)));
            }
            if words.next() == Some("on")
                && let Some(tty) = words.next()
            {
                out.push(("tty", s(tty)));
            }
            out.push(("action", s("switch_user")));
            out.push(("outcome", s("success")));
        }
    } else if let Some(rest) = msg
        .strip_prefix("Successful su for ")
        .or_else(|| msg.strip_prefix("FAILED su for "))
        .or_else(|| msg.strip_prefix("FAILED SU (to "))
    {
        let ok = msg.starts_with("Successful");
        let rest = rest.trim_end_matches(')');
        if let Some((target, user)) = rest.split_once(" by ").or_else(|| rest.split_once(") ")) {
            out.push(("target_user", s(target)));
            out.push(("user", s(user.split_whitespace().next().unwrap_or(user))));
        }
        out.push(("action", s("switch_user")));
        out.push(("outcome", s(if ok { "success" } else { "failure" })));
    } else if let Some(rest) = msg.strip_prefix("+ ").or_else(|| msg.strip_prefix("- ")) {
        let mut words = rest.split_whitespace();
        if let (Some(tty), Some(pair)) = (words.next(), words.next())
            && let Some((user, target)) = pair.split_once(':')
        {
            out.push(("tty", s(tty)));
            out.push(("user", s(user)));
            out.push(("target_user", s(target)));
            out.push(("action", s("switch_user")));
            out.push((
                "outcome",
                s(if msg.starts_with('+') {
                    "success"
                } else {
                    "failure"
                }),
            ));
        }
    }
}

/// `pam_unix(sshd:auth): authentication failure; ... rhost=1.2.3.4  user=root`
/// and `pam_unix(su:session): session opened for user root(uid=0) by bob(uid=1000)`.
fn pam_unix(rest: &str, out: &mut Out) {
    let Some((service, msg)) = rest.split_once("): ") else {
        return;
    };
    out.push(("pam_service", s(service)));
    let msg = msg.trim();
    if let Some(tail) = msg.strip_prefix("authentication failure;") {
        out.push(("action", s("authentication_failure")));
        out.push(("outcome", s("failure")));
        for kv in tail.split_whitespace() {
            match kv.split_once('=') {
                Some(("rhost", v)) if !v.is_empty() => out.push(("src_ip", s(v))),
                Some(("user", v)) if !v.is_empty() => out.push(("target_user", s(v))),
                Some(("ruser", v)) if !v.is_empty() => out.push(("user", s(v))),
                Some(("logname", v)) if !v.is_empty() => out.push(("logname", s(v))),
                Some(("tty", v)) if !v.is_empty() => out.push(("tty", s(v))),
                _ => {}
            }
        }
    } else if let Some(tail) = msg
        .strip_prefix("session opened for user ")
        .or_else(|| msg.strip_prefix("session closed for user "))
    {
        let opened = msg.starts_with("session opened");
        out.push((
            "action",
            s(if opened {
                "session_opened"
            } else {
                "session_closed"
            }),
        ));
        let (target, by) = match tail.split_once(" by ") {
            Some((t, b)) => (t, Some(b)),
            None => (tail, None),
        };
        out.push(("target_user", s(strip_uid(target))));
        if let Some(by) = by.map(strip_uid).filter(|b| !b.is_empty()) {
            out.push(("user", s(by)));
        }
        if let Some(uid) = word_after(target, "(uid=") {
            out.push(("target_uid", int_or_text(uid.trim_end_matches(')'))));
        }
    }
}

fn strip_uid(v: &str) -> &str {
    v.split('(').next().unwrap_or(v).trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirt_core::{Source, SourceKind};

    fn fields(program: &str, message: &str) -> Vec<(String, String)> {
        let mut e = Event::new(Source::new(SourceKind::TextLog, "auth.log", 0));
        e.provider = Some(program.into());
        e.message = Some(message.into());
        extract(&mut e);
        e.fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_text()))
            .collect()
    }

    fn get<'a>(f: &'a [(String, String)], k: &str) -> Option<&'a str> {
        f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn sshd_messages() {
        let f = fields(
            "sshd",
            "Accepted publickey for fred from 192.0.2.60 port 60594 ssh2: RSA SHA256:5xyQ",
        );
        assert_eq!(get(&f, "user"), Some("fred"));
        assert_eq!(get(&f, "src_ip"), Some("192.0.2.60"));
        assert_eq!(get(&f, "src_port"), Some("60594"));
        assert_eq!(get(&f, "auth_method"), Some("publickey"));
        assert_eq!(get(&f, "key_fingerprint"), Some("SHA256:5xyQ"));
        assert_eq!(get(&f, "outcome"), Some("success"));

        let f = fields(
            "sshd",
            "Failed password for invalid user admin from 2001:db8::1 port 8759 ssh2",
        );
        assert_eq!(
            (get(&f, "user"), get(&f, "src_ip")),
            (Some("admin"), Some("2001:db8::1"))
        );
        assert_eq!(get(&f, "invalid_user"), Some("true"));
        assert_eq!(get(&f, "outcome"), Some("failure"));

        let f = fields(
            "/usr/sbin/sshd",
            "message repeated 5 times: [ Failed password for root from 1.2.3.4 port 22 ssh2]",
        );
        assert_eq!(
            (get(&f, "repeated"), get(&f, "user")),
            (Some("5"), Some("root"))
        );

        let f = fields("sshd", "Invalid user oracle from 10.0.0.9 port 4711");
        assert_eq!(
            (get(&f, "user"), get(&f, "src_port")),
            (Some("oracle"), Some("4711"))
        );

        let f = fields(
            "sshd",
            "Connection closed by authenticating user root 1.2.3.4 port 5 [preauth]",
        );
        assert_eq!(
            (get(&f, "user"), get(&f, "src_ip")),
            (Some("root"), Some("1.2.3.4"))
        );

        let f = fields(
            "sshd",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=1.2.3.4  user=root",
        );
        assert_eq!(
            (get(&f, "src_ip"), get(&f, "target_user")),
            (Some("1.2.3.4"), Some("root"))
        );
    }

    #[test]
    fn sudo_and_su_messages() {
        let f = fields(
            "sudo",
            "   bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id -u",
        );
        assert_eq!(get(&f, "user"), Some("bob"));
        assert_eq!(get(&f, "target_user"), Some("root"));
        assert_eq!(get(&f, "command"), Some("/usr/bin/id -u"));
        assert_eq!(get(&f, "outcome"), Some("success"));

        let f = fields(
            "sudo",
            "eve : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/sh",
        );
        assert_eq!(get(&f, "outcome"), Some("failure"));

        let f = fields("su", "(to root) bob on pts/1");
        assert_eq!(
            (get(&f, "user"), get(&f, "target_user"), get(&f, "tty")),
            (Some("bob"), Some("root"), Some("pts/1"))
        );
        let f = fields("su", "FAILED su for root by eve");
        assert_eq!(
            (get(&f, "user"), get(&f, "outcome")),
            (Some("eve"), Some("failure"))
        );
        let f = fields(
            "su",
            "pam_unix(su:session): session opened for user root(uid=0) by bob(uid=1000)",
        );
        assert_eq!(
            (
                get(&f, "user"),
                get(&f, "target_user"),
                get(&f, "target_uid")
            ),
            (Some("bob"), Some("root"), Some("0"))
        );
        assert!(fields("cron", "(root) CMD (true)").is_empty());
        assert!(fields("nginx", "Accepted password for x from 1.2.3.4 port 1").is_empty());
    }
}
