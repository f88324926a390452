//! One parser per format, behind one trait, and what they share: the file
//! context, per-chunk state, and small helpers to build events.

use crate::format::LogFormat;
use crate::frame::Framing;
use crate::timefmt::{Clock, MonthRun, YearRun};
use compact_str::CompactString;
use mirt_core::{Event, Raw, Source, SourceKind, Value};
use std::path::Path;
use std::sync::Arc;

pub(crate) mod apache;
pub(crate) mod apache_error;
pub(crate) mod auth;
pub(crate) mod csv;
pub(crate) mod generic;
pub(crate) mod jsonl;
pub(crate) mod rfc5424;
pub(crate) mod syslog;
pub(crate) mod transcript;
pub(crate) mod w3c;

/// What every parser of one file needs to know.
#[derive(Clone)]
pub(crate) struct FileCtx {
    pub path: Arc<Path>,
    pub clock: Clock,
    pub keep_raw: bool,
    pub format: LogFormat,
    /// The year for year-less times outside syslog (from `--year` or the
    /// file time).
    pub year_now: i32,
}

impl FileCtx {
    /// An event for `rec`, with its source filled in.
    pub(crate) fn event(&self, rec: &Rec<'_>, variant: &'static str) -> Event {
        let mut source = Source::shared(SourceKind::TextLog, Arc::clone(&self.path), rec.offset);
        source.line = Some(rec.line);
        source.format = Some(variant);
        let mut event = Event::new(source);
        // Most formats carry a dozen fields or fewer: one allocation.
        event.fields = mirt_core::Fields::with_capacity(16);
        event.channel = Some(CompactString::const_new(self.format.name()));
        if self.keep_raw {
            event.raw = Some(Raw::Text(rec.text.to_string()));
        }
        event
    }
}

/// One record handed to a parser.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rec<'a> {
    /// The decoded text, without the final line break.
    pub text: &'a str,
    /// Byte offset in the file (in the decompressed stream for compressed files).
    pub offset: u64,
    /// 1-based line number in the file.
    pub line: u64,
}

/// What a parser made of a record.
pub(crate) enum Parsed {
    /// An event.
    Event(Box<Event>),
    /// A record that holds no event by design: a blank line, a comment, a
    /// header or directive.
    Skip,
    /// A record the format cannot read, with the reason.
    Fail(String),
}

impl Parsed {
    pub(crate) fn fail(reason: impl Into<String>) -> Parsed {
        Parsed::Fail(reason.into())
    }
}

/// What a chunk pre-pass found, for formats whose state crosses chunks.
#[derive(Debug, Clone, Default)]
pub(crate) enum Prescan {
    /// Nothing to carry.
    #[default]
    None,
    /// Months of year-less syslog records.
    Months(MonthRun),
    /// The last W3C directives in the chunk.
    W3c(w3c::Directives),
}

/// Parser state at a chunk start, carried through the chunk.
#[derive(Debug, Clone, Default)]
pub(crate) enum State {
    /// Stateless format.
    #[default]
    None,
    /// Year-less syslog: the year run.
    Year(YearRun),
    /// W3C: the fields and date in force.
    W3c(w3c::W3cState),
    /// A transcript being read.
    Transcript(Box<transcript::TranscriptState>),
}

/// What a file offers for working out years of year-less records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct YearHint {
    /// `--year`: the year of the first record.
    pub first_year: Option<i32>,
    /// The file's modification time: the last record is at or before it.
    pub modified: Option<jiff::Timestamp>,
}

/// A format's parser.
pub(crate) trait FormatParser: Send + Sync {
    /// How records are delimited and whether chunks may be parsed apart.
    fn framing(&self) -> Framing {
        Framing::LINES
    }

    /// Whether [`FormatParser::prescan`] must run before parsing.
    fn needs_prescan(&self) -> bool {
        false
    }

    /// A quick pass over one chunk for the state that crosses chunks.
    fn prescan(&self, _chunk: &[u8]) -> Prescan {
        Prescan::None
    }

    /// The state at the start of every chunk, given all pre-passes in order.
    fn chunk_states(&self, prescans: &[Prescan], _hint: &YearHint) -> Vec<State> {
        vec![State::None; prescans.len().max(1)]
    }

    /// Parses one record.
    fn parse(&self, state: &mut State, rec: &Rec<'_>, ctx: &FileCtx) -> Parsed;

    /// Called once after the last record of a file (for formats that hold
    /// a pending record, such as transcripts).
    fn finish(&self, _state: &mut State, _ctx: &FileCtx) -> Option<Parsed> {
        None
    }
}

/// The parser for `format`, given what the sniffer saw at the file start.
pub(crate) fn parser_for(format: LogFormat, head: &str) -> Box<dyn FormatParser> {
    match format {
        LogFormat::Syslog | LogFormat::LinuxAuth => Box::new(syslog::SyslogParser),
        LogFormat::ApacheAccess => Box::new(apache::ApacheAccess),
        LogFormat::ApacheError => Box::new(apache_error::ApacheError),
        LogFormat::IisW3c => Box::new(w3c::W3cParser::iis()),
        LogFormat::WindowsFirewall => Box::new(w3c::W3cParser::firewall()),
        LogFormat::Csv => Box::new(csv::CsvParser::from_head(head)),
        LogFormat::Jsonl => Box::new(jsonl::JsonlParser),
        LogFormat::PowerShellTranscript => Box::new(transcript::TranscriptParser),
        LogFormat::Generic => Box::new(generic::GenericParser),
    }
}

/// A string field value.
pub(crate) fn s(v: &str) -> Value {
    Value::Str(CompactString::from(v))
}

/// A field name known at compile time (stored without copying).
pub(crate) fn name(n: &'static str) -> CompactString {
    CompactString::const_new(n)
}

/// An integer cell, kept as text when it is not one (`-` is empty).
pub(crate) fn int_or_text(v: &str) -> Value {
    if v == "-" || v.is_empty() {
        return Value::Null;
    }
    match v.parse::<i64>() {
        Ok(n) => Value::Int(n),
        Err(_) => s(v),
    }
}
