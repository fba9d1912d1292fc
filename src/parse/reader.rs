//! The readers: one per log format, each knowing only its framing (where a
//! record starts, what its header or envelope says), all handing the message
//! text to the one message parser.

use std::sync::OnceLock;

use super::message::{self, LineMeta, PREFILTER, TRIGGERS};
use super::scan::Scanner;
use super::{classic, Parsed};

/// A log format's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// `[----] I, [time #pid:tid]  INFO -- progname: message`.
    Classic,
}

impl Reader {
    /// The scanner that finds this format's candidate lines.
    pub fn scanner(self) -> Scanner {
        match self {
            Reader::Classic => Scanner::new(&PREFILTER, &TRIGGERS, classic::starts_record),
        }
    }

    /// One candidate line to what it holds: framing, then the message parser.
    pub fn parse(self, line: &[u8], line_no: u64) -> Parsed {
        let framed: Result<Option<(LineMeta, &[u8])>, &'static str> = match self {
            Reader::Classic => classic::frame(line, line_no),
        };
        match framed {
            Ok(Some((meta, text))) => message::parse(&meta, text),
            Ok(None) => Parsed::Ignored,
            Err(reason) => Parsed::Rejected(reason),
        }
    }
}

/// Each reader's scanner, built the first time a file of its format is read
/// and shared by every parse thread after that.
#[derive(Default)]
pub struct Scanners {
    classic: OnceLock<Scanner>,
}

impl Scanners {
    pub fn get(&self, reader: Reader) -> &Scanner {
        let slot = match reader {
            Reader::Classic => &self.classic,
        };
        slot.get_or_init(|| reader.scanner())
    }
}
