//! The readers: one per log format, each knowing only its framing (where a
//! record starts, what its header or envelope says), all handing the message
//! text to the one message parser.

use std::sync::OnceLock;

use super::journal::{self, Framed, YearClock, YearStart};
use super::message::{self, PREFILTER, TRIGGERS};
use super::scan::Scanner;
use super::{classic, container, Parsed};

/// A log format's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// `[----] I, [time #pid:tid]  INFO -- progname: message` (`evm.log`, and the
    /// appliance enrichment's `memlog.log`).
    Classic,
    /// `journalctl -o json` / `-o json-seq`.
    JournalJson,
    /// `journalctl -o short-*` and rsyslog's `/var/log/messages`.
    JournalText,
    /// Pods' container-logger JSON (`oc logs`).
    Container,
}

/// A journal record whose message is not valid UTF-8 holds its text as an
/// array of byte values, where no trigger literal shows: such records are
/// candidates too.
const BYTE_MESSAGE: &[u8] = b"\"MESSAGE\":[";
const BYTE_MESSAGE_PIECE: &[u8] = b"AGE\":[";

/// What a reader keeps from line to line of one file.
#[derive(Debug, Clone)]
pub struct ReaderState {
    /// The years of text forms without them.
    pub years: YearClock,
}

impl ReaderState {
    pub fn new(years: YearStart) -> ReaderState {
        ReaderState {
            years: YearClock::new(years),
        }
    }
}

impl Default for ReaderState {
    fn default() -> Self {
        ReaderState::new(YearStart::Given(1970))
    }
}

fn json_starts_record(head: &[u8]) -> bool {
    head.strip_prefix(b"\x1e").unwrap_or(head).starts_with(b"{")
}

impl Reader {
    /// The scanner that finds this format's candidate lines.
    pub fn scanner(self) -> Scanner {
        let mut prefilter = PREFILTER.to_vec();
        let mut triggers = TRIGGERS.to_vec();
        let starts_record: fn(&[u8]) -> bool = match self {
            Reader::Classic => classic::starts_record,
            Reader::JournalJson => {
                prefilter.push(BYTE_MESSAGE_PIECE);
                triggers.push(BYTE_MESSAGE);
                json_starts_record
            }
            Reader::JournalText => journal::is_text_record,
            Reader::Container => container::is_record,
        };
        Scanner::new(&prefilter, &triggers, starts_record)
    }

    /// One candidate line to what it holds: framing, then the message parser.
    /// Records read from journald or a pod carry the host their line names.
    pub fn parse(self, line: &[u8], line_no: u64, state: &mut ReaderState) -> Parsed {
        let framed: Result<Option<Framed>, &'static str> = match self {
            Reader::Classic => {
                return match classic::frame(line, line_no) {
                    Ok(Some((meta, text))) => message::parse(&meta, text),
                    Ok(None) => Parsed::Ignored,
                    Err(reason) => Parsed::Rejected(reason),
                }
            }
            Reader::JournalJson => journal::frame_json(line, line_no),
            Reader::JournalText => journal::frame_text(line, line_no, &mut state.years),
            Reader::Container => container::frame(line, line_no),
        };
        match framed {
            Ok(Some(framed)) => {
                with_host(message::parse(&framed.meta, &framed.message), framed.host)
            }
            Ok(None) => Parsed::Ignored,
            Err(reason) => Parsed::Rejected(reason),
        }
    }
}

fn with_host(mut parsed: Parsed, host: Option<String>) -> Parsed {
    match &mut parsed {
        Parsed::Sample(s) => s.host = host,
        Parsed::Event(e) => e.host = host,
        Parsed::Enrichment(n) => n.host = host,
        _ => {}
    }
    parsed
}

/// Each reader's scanner, built the first time a file of its format is read
/// and shared by every parse thread after that.
#[derive(Default)]
pub struct Scanners {
    classic: OnceLock<Scanner>,
    journal_json: OnceLock<Scanner>,
    journal_text: OnceLock<Scanner>,
    container: OnceLock<Scanner>,
}

impl Scanners {
    pub fn get(&self, reader: Reader) -> &Scanner {
        let slot = match reader {
            Reader::Classic => &self.classic,
            Reader::JournalJson => &self.journal_json,
            Reader::JournalText => &self.journal_text,
            Reader::Container => &self.container,
        };
        slot.get_or_init(|| reader.scanner())
    }
}
