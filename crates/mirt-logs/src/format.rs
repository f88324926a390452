//! The log formats this crate reads, by name.

use crate::error::Error;
use std::fmt;
use std::str::FromStr;

/// A log format: what the sniffer detects and what `--input-format` forces.
///
/// Events carry a more precise variant name in `source.format` (for example
/// `apache_combined` for an [`LogFormat::ApacheAccess`] line) and the
/// format's [`LogFormat::name`] in `channel`, so that Sigma log sources can
/// select them as they select EVTX channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogFormat {
    /// BSD syslog (RFC 3164) as syslogd and rsyslog write files, with the
    /// rsyslog high-precision (RFC 3339 time) and RFC 5424 lines mixed in.
    Syslog,
    /// Linux `auth.log` / `secure`: syslog with sshd, sudo and su fields.
    LinuxAuth,
    /// Apache and nginx access logs: common, combined and vhost_combined.
    ApacheAccess,
    /// Apache httpd and nginx error logs.
    ApacheError,
    /// IIS W3C extended logs (`#Fields:` directives), IIS 6 to 10.
    IisW3c,
    /// Windows Firewall `pfirewall.log` (W3C style).
    WindowsFirewall,
    /// Comma, semicolon, tab or pipe separated values with a header row.
    Csv,
    /// One JSON object per line; nested objects flattened to dotted names.
    Jsonl,
    /// PowerShell transcripts (`Start-Transcript`), English and German.
    PowerShellTranscript,
    /// Anything else: one event per line, with the time found at its start.
    Generic,
}

impl LogFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [LogFormat; 10] = [
        LogFormat::Syslog,
        LogFormat::LinuxAuth,
        LogFormat::ApacheAccess,
        LogFormat::ApacheError,
        LogFormat::IisW3c,
        LogFormat::WindowsFirewall,
        LogFormat::Csv,
        LogFormat::Jsonl,
        LogFormat::PowerShellTranscript,
        LogFormat::Generic,
    ];

    /// The snake_case name used in output and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::Syslog => "syslog",
            LogFormat::LinuxAuth => "linux_auth",
            LogFormat::ApacheAccess => "apache_access",
            LogFormat::ApacheError => "apache_error",
            LogFormat::IisW3c => "iis_w3c",
            LogFormat::WindowsFirewall => "windows_firewall",
            LogFormat::Csv => "csv",
            LogFormat::Jsonl => "jsonl",
            LogFormat::PowerShellTranscript => "powershell_transcript",
            LogFormat::Generic => "generic",
        }
    }

    /// Other names accepted by [`FromStr`].
    fn aliases(self) -> &'static [&'static str] {
        match self {
            LogFormat::Syslog => &["rfc3164", "rfc5424", "rsyslog", "messages"],
            LogFormat::LinuxAuth => &["auth", "secure", "auth.log", "sshd"],
            LogFormat::ApacheAccess => &[
                "apache",
                "nginx",
                "access",
                "apache_combined",
                "apache_common",
                "combined",
                "common",
                "clf",
            ],
            LogFormat::ApacheError => &["nginx_error", "error_log"],
            LogFormat::IisW3c => &["iis", "w3c"],
            LogFormat::WindowsFirewall => &["firewall", "pfirewall", "winfirewall"],
            LogFormat::Csv => &["tsv"],
            LogFormat::Jsonl => &["json", "ndjson", "json_lines"],
            LogFormat::PowerShellTranscript => &["powershell", "transcript"],
            LogFormat::Generic => &["text", "plain"],
        }
    }

    /// A one-line description for `--help`.
    pub fn describe(self) -> &'static str {
        match self {
            LogFormat::Syslog => "syslog: RFC 3164 and 5424, rsyslog variants",
            LogFormat::LinuxAuth => "auth.log / secure: syslog plus sshd, sudo, su fields",
            LogFormat::ApacheAccess => "Apache/nginx access: common, combined, vhost_combined",
            LogFormat::ApacheError => "Apache httpd / nginx error log",
            LogFormat::IisW3c => "IIS W3C extended (#Fields), IIS 6 to 10",
            LogFormat::WindowsFirewall => "Windows Firewall pfirewall.log",
            LogFormat::Csv => "CSV/TSV with a header row",
            LogFormat::Jsonl => "JSON Lines, nested fields flattened",
            LogFormat::PowerShellTranscript => "PowerShell transcript",
            LogFormat::Generic => "any text: one event per line, time detected",
        }
    }

    /// Names and aliases, for error messages and help.
    pub fn known_names() -> String {
        LogFormat::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        LogFormat::ALL
            .into_iter()
            .find(|f| f.name() == wanted || f.aliases().contains(&wanted.as_str()))
            .ok_or_else(|| Error::UnknownFormat {
                name: s.to_string(),
                known: LogFormat::known_names(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_round_trip() {
        for f in LogFormat::ALL {
            assert_eq!(f.name().parse::<LogFormat>().unwrap(), f);
            for alias in f.aliases() {
                assert_eq!(alias.parse::<LogFormat>().unwrap(), f, "{alias}");
            }
        }
        assert_eq!("IIS".parse::<LogFormat>().unwrap(), LogFormat::IisW3c);
        assert_eq!(
            "windows-firewall".parse::<LogFormat>().unwrap(),
            LogFormat::WindowsFirewall
        );
        let err = "evtx".parse::<LogFormat>().unwrap_err().to_string();
        assert!(err.contains("apache_access"), "{err}");
    }
}
