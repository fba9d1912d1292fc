//! The classic `evm.log` framing: `[----] I, [2017-08-11T19:06:20.698103 #2949:b81140]  INFO -- : message`.
//! The header gives the local time and the writing process; the message goes
//! to the one message parser. A line that does not start with `[----] `
//! continues the one before it (backtraces, dumps of hashes) and is never a record.

use memchr::memchr;

use super::message::{self, LineMeta};
use super::reader::{Reader, ReaderState};
use super::time::parse_datetime;
use super::{LogTime, Parsed};

pub const LINE_START: &[u8] = b"[----] ";

/// The fixed part of every evm.log line.
#[derive(Debug, PartialEq, Eq)]
pub struct Header<'a> {
    pub local_us: i64,
    pub pid: i64,
    /// Empty up to Morphy, `evm` from Najdorf, `miq_memlog` in the file the
    /// appliance enrichment writes (whose times are UTC).
    pub progname: &'a [u8],
    pub message: &'a [u8],
}

/// The progname of the appliance enrichment's own log, written in UTC.
pub const MEMLOG_PROGNAME: &[u8] = b"miq_memlog";

/// Parses `[----] I, [2017-08-11T19:06:20.698103 #2949:b81140]  INFO -- : message`.
pub fn parse_header(line: &[u8]) -> Result<Header<'_>, &'static str> {
    if !line.starts_with(LINE_START) || line.get(8..11) != Some(b", [") {
        return Err("malformed line header");
    }
    let (local_us, used) = parse_datetime(&line[11..]).ok_or("impossible or malformed time")?;
    let mut at = 11 + used;
    while line.get(at) == Some(&b' ') {
        at += 1;
    }
    if line.get(at) != Some(&b'#') {
        return Err("malformed line header");
    }
    at += 1;
    let pid_len = line[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    let pid =
        message::parse_count(&line[at..at + pid_len]).map_err(|_| "malformed pid in header")?;
    at += pid_len;
    let close = memchr(b']', &line[at..]).ok_or("malformed line header")? + at;
    let rest = &line[close + 1..];
    let dashes = super::find(rest, b" -- ").ok_or("malformed line header")?;
    let after = &rest[dashes + 4..];
    let colon = super::find(after, b": ").ok_or("malformed line header")?;
    Ok(Header {
        local_us,
        pid,
        progname: &after[..colon],
        message: &after[colon + 2..],
    })
}

/// Whether the head of a line (of any length) starts a record.
pub fn starts_record(head: &[u8]) -> bool {
    head.starts_with(LINE_START)
}

/// The framing of one line: `Ok(None)` for a continuation line, an error for a
/// record start whose header is malformed.
pub fn frame(line: &[u8], line_no: u64) -> Result<Option<(LineMeta, &[u8])>, &'static str> {
    if !starts_record(line) {
        return Ok(None);
    }
    let header = parse_header(line)?;
    let time = if header.progname == MEMLOG_PROGNAME {
        LogTime::Utc(header.local_us)
    } else {
        LogTime::Local(header.local_us)
    };
    let meta = LineMeta {
        line_no,
        time,
        pid: header.pid,
    };
    Ok(Some((meta, header.message)))
}

/// Any classic line to a record, as if the scanner had picked it: `Ignored`
/// for a line that holds no trigger literal or continues another.
pub fn parse_line(line: &[u8], line_no: u64) -> Parsed {
    if !message::holds_trigger(line) {
        return Parsed::Ignored;
    }
    Reader::Classic.parse(line, line_no, &mut ReaderState::default())
}
