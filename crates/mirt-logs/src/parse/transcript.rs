//! PowerShell transcripts (`Start-Transcript`), in English and German.
//!
//! A transcript is a header (start time, user, machine, host application,
//! versions) between lines of asterisks, then blocks of commands and their
//! output, separated by asterisk lines that may carry a "Command start
//! time". Each block becomes one event: the time of the block (or of the
//! transcript), the header as fields, the commands typed at a `PS ...>`
//! prompt as a list, and the whole block as the message. A block that the
//! file ends in (a transcript that was never stopped) is an event too.

use super::{FileCtx, FormatParser, Parsed, Prescan, Rec, State, YearHint, name, s};
use crate::frame::{Framing, Records};
use crate::timefmt::{civil, digits};
use compact_str::CompactString;
use mirt_core::{Fields, Value};

/// The transcript parser.
pub(crate) struct TranscriptParser;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    /// Before the first separator.
    #[default]
    Start,
    /// Inside the header (after the separator and the start line).
    Header,
    /// Collecting a block of commands and output.
    Block,
    /// Between a block's closing separator and the next block.
    Between,
}

/// Where a transcript reading is.
#[derive(Debug, Clone, Default)]
pub(crate) struct TranscriptState {
    phase: Phase,
    header: Fields,
    start_time: Option<jiff::Timestamp>,
    computer: Option<CompactString>,
    block_time: Option<jiff::Timestamp>,
    block: String,
    commands: Vec<Value>,
    block_offset: u64,
    block_line: u64,
}

fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 10 && t.bytes().all(|c| c == b'*')
}

/// Whether `head` (the file start) is a transcript.
pub(crate) fn looks_like_transcript(head: &str) -> bool {
    let mut lines = head.trim_start_matches('\u{feff}').lines();
    lines.next().is_some_and(is_separator) && lines.next().is_some_and(|l| l.contains("PowerShell"))
}

/// `Key: value` with the header keys of English and German transcripts
/// mapped to one set of names.
fn header_key(key: &str) -> CompactString {
    let k = match key {
        "Start time" | "Startzeit" => "start_time",
        "Username" | "Benutzername" => "username",
        "RunAs User" | "RunAs-Benutzer" => "runas_user",
        "Configuration Name" | "Konfigurationsname" => "configuration_name",
        "Machine" | "Computer" => "machine",
        "Host Application" | "Hostanwendung" => "host_application",
        "Process ID" | "Prozess-ID" => "process_id",
        "PSVersion" => "ps_version",
        "PSEdition" => "ps_edition",
        "PSCompatibleVersions" => "ps_compatible_versions",
        "BuildVersion" => "build_version",
        "CLRVersion" => "clr_version",
        "WSManStackVersion" => "wsman_stack_version",
        "PSRemotingProtocolVersion" => "ps_remoting_protocol_version",
        "SerializationVersion" => "serialization_version",
        other => return CompactString::from(other.to_ascii_lowercase().replace([' ', '-'], "_")),
    };
    name(k)
}

fn is_time_key(key: &str) -> bool {
    matches!(
        key,
        "Start time" | "Startzeit" | "Command start time" | "Befehlsstartzeit"
    )
}

/// `20220824122111`, local time.
fn compact_time(v: &str, ctx: &FileCtx) -> Option<jiff::Timestamp> {
    let b = v.trim().as_bytes();
    if b.len() != 14 {
        return None;
    }
    let dt = civil(
        digits(b, 4)? as i32,
        digits(&b[4..], 2)? as u8,
        digits(&b[6..], 2)? as u8,
        digits(&b[8..], 2)? as u8,
        digits(&b[10..], 2)? as u8,
        digits(&b[12..], 2)? as u8,
        0,
    )?;
    ctx.clock.local(dt)
}

/// The command typed at a prompt line (`PS C:\Users\x> whoami`).
fn prompt_command(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("PS ")?;
    let at = rest.find("> ")?;
    Some(rest[at + 2..].trim())
}

impl TranscriptState {
    fn take_event(&mut self, ctx: &FileCtx) -> Option<Parsed> {
        let block = std::mem::take(&mut self.block);
        let commands = std::mem::take(&mut self.commands);
        let time = self.block_time.take().or(self.start_time);
        if block.trim().is_empty() {
            return None;
        }
        let rec = Rec {
            text: &block,
            offset: self.block_offset,
            line: self.block_line,
        };
        let mut ev = ctx.event(&rec, "powershell_transcript");
        ev.timestamp = time;
        ev.computer = self.computer.clone();
        ev.provider = Some(name("PowerShell"));
        for (k, v) in self.header.iter() {
            ev.fields.push(CompactString::from(k), v.clone());
        }
        ev.fields.push(name("commands"), Value::List(commands));
        ev.message = Some(block.trim_end().to_string());
        Some(Parsed::Event(Box::new(ev)))
    }

    fn header_line(&mut self, line: &str, ctx: &FileCtx) {
        let Some((key, value)) = line.split_once(':') else {
            return;
        };
        let (key, value) = (key.trim(), value.trim());
        if is_time_key(key) {
            self.start_time = compact_time(value, ctx);
        }
        if header_key(key) == "machine" {
            let host = value.split(" (").next().unwrap_or(value).trim();
            if !host.is_empty() {
                self.computer = Some(CompactString::from(host));
            }
        }
        self.header.push(
            header_key(key),
            if value.is_empty() {
                Value::Null
            } else {
                s(value)
            },
        );
    }
}

impl FormatParser for TranscriptParser {
    fn framing(&self) -> Framing {
        Framing {
            records: Records::Lines,
            whole_file: true,
        }
    }

    fn chunk_states(&self, prescans: &[Prescan], _hint: &YearHint) -> Vec<State> {
        vec![State::Transcript(Box::default()); prescans.len().max(1)]
    }

    fn parse(&self, state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed {
        let State::Transcript(st) = state else {
            return Parsed::fail("transcript parser without transcript state");
        };
        let line = rec.text.trim_start_matches('\u{feff}');
        if is_separator(line) {
            return match st.phase {
                Phase::Start => {
                    st.phase = Phase::Header;
                    st.header = Fields::new();
                    Parsed::Skip
                }
                Phase::Header | Phase::Between => {
                    st.phase = Phase::Block;
                    st.block_offset = rec.offset + rec.text.len() as u64 + 1;
                    st.block_line = rec.line + 1;
                    Parsed::Skip
                }
                Phase::Block => {
                    st.phase = Phase::Between;
                    st.take_event(ctx).unwrap_or(Parsed::Skip)
                }
            };
        }
        match st.phase {
            Phase::Start => Parsed::fail("text before the transcript header"),
            Phase::Header => {
                if !line.contains("PowerShell") || line.contains(':') {
                    st.header_line(line, ctx);
                }
                Parsed::Skip
            }
            Phase::Between => {
                if let Some((key, value)) = line.split_once(':')
                    && is_time_key(key.trim())
                {
                    st.block_time = compact_time(value, ctx);
                }
                Parsed::Skip
            }
            Phase::Block => {
                if st.block.is_empty()
                    && line.contains("PowerShell")
                    && line.contains("transcript start")
                {
                    // A second transcript appended to the same file.
                    st.phase = Phase::Header;
                    st.header = Fields::new();
                    return Parsed::Skip;
                }
                if let Some(cmd) = prompt_command(line) {
                    st.commands.push(s(cmd));
                }
                st.block.push_str(line);
                st.block.push('\n');
                Parsed::Skip
            }
        }
    }

    fn finish(&self, state: &mut State, ctx: &FileCtx) -> Option<Parsed> {
        match state {
            State::Transcript(st) if st.phase == Phase::Block => st.take_event(ctx),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::Clock;
    use std::sync::Arc;

    #[test]
    fn blocks_become_events() {
        let text = "\u{feff}**********************\nWindows PowerShell transcript start\nStart time: 20220721023749\nUsername: HOST\\IEUser\nMachine: HOST (Microsoft Windows NT 10.0)\n**********************\nPS C:\\> whoami\nhost\\ieuser\n**********************\nCommand start time: 20220721023800\n**********************\nPS C:\\> rm x\n";
        let ctx = FileCtx {
            path: Arc::from(std::path::Path::new("t.txt")),
            clock: Clock::new(None),
            keep_raw: false,
            format: crate::LogFormat::PowerShellTranscript,
            year_now: 2020,
        };
        assert!(looks_like_transcript(text));
        let p = TranscriptParser;
        let mut state = p
            .chunk_states(
                &[Prescan::None],
                &YearHint {
                    first_year: None,
                    modified: None,
                },
            )
            .remove(0);
        let mut events = Vec::new();
        let mut offset = 0u64;
        for (i, line) in text.split('\n').enumerate() {
            let rec = Rec {
                text: line,
                offset,
                line: i as u64,
            };
            offset += line.len() as u64 + 1;
            if let Parsed::Event(e) = p.parse(&mut state, &rec, &ctx) {
                events.push(e);
            }
        }
        if let Some(Parsed::Event(e)) = p.finish(&mut state, &ctx) {
            events.push(e);
        }
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[0].timestamp.unwrap().to_string(),
            "2022-07-21T02:37:49Z"
        );
        assert_eq!(events[0].computer.as_deref(), Some("HOST"));
        assert_eq!(
            events[0].fields.get("username"),
            Some(&Value::from("HOST\\IEUser"))
        );
        assert_eq!(
            events[0].fields.get("commands"),
            Some(&Value::List(vec!["whoami".into()]))
        );
        assert_eq!(events[0].source.line, Some(6));
        assert_eq!(
            events[1].timestamp.unwrap().to_string(),
            "2022-07-21T02:38:00Z"
        );
        assert_eq!(
            events[1].fields.get("commands"),
            Some(&Value::List(vec!["rm x".into()]))
        );
    }
}
