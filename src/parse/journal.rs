//! journald exports, where appliances have logged since Oparin (and as a copy
//! from Ivanchuk to Najdorf). ManageIQ's journald formatter writes only
//! `%5s -- %s: %s` (severity, progname, message); time and PID are journald's.
//!
//! - `journalctl -o json` / `-o json-seq`: one JSON object per line; `MESSAGE`
//!   (an array of byte values when it is not valid UTF-8), `_PID`,
//!   `__REALTIME_TIMESTAMP` (UTC µs), `_HOSTNAME`. A multi-line message is one
//!   record.
//! - the text forms `short-iso`, `short-iso-precise`, `short-unix` (UTC known),
//!   `short-precise`, `short` and rsyslog's `/var/log/messages` (local time
//!   without a year): `STAMP HOST IDENT[PID]: MESSAGE`; lines that continue a
//!   multi-line message and lines of other services are not records.

use std::borrow::Cow;

use serde::Deserialize;

use super::message::{parse_count, LineMeta};
use super::time::civil_to_us;
use super::LogTime;

/// Strips ManageIQ's `%5s -- %s: ` (` INFO -- evm: `) from a journald message:
/// `None` for the messages of other programs.
pub fn miq_message(text: &[u8]) -> Option<&[u8]> {
    let start = text.iter().position(|&c| c != b' ')?;
    let word = text[start..]
        .iter()
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    if word == 0 {
        return None;
    }
    let rest = text[start + word..].strip_prefix(b" -- ")?;
    let colon = super::find(rest, b": ")?;
    let progname = &rest[..colon];
    if progname.contains(&b' ') {
        return None;
    }
    Some(&rest[colon + 2..])
}

/// A message's first line: its continuation (a backtrace, a dump of a hash)
/// is never a record, as in the classic log, where it is a line of its own.
pub fn first_line(message: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', message).unwrap_or(message.len());
    message[..end]
        .strip_suffix(b"\r")
        .unwrap_or(&message[..end])
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(rename = "MESSAGE", borrow)]
    message: Option<Message<'a>>,
    #[serde(rename = "_PID", borrow)]
    pid: Option<Cow<'a, str>>,
    #[serde(rename = "__REALTIME_TIMESTAMP", borrow)]
    realtime: Option<Cow<'a, str>>,
    #[serde(rename = "_HOSTNAME", borrow)]
    hostname: Option<Cow<'a, str>>,
}

/// journalctl writes a message that is not valid UTF-8 as an array of bytes.
#[derive(Deserialize)]
#[serde(untagged)]
enum Message<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Bytes(Vec<u8>),
}

/// One journald record framed: where it came from and its ManageIQ message.
pub struct Framed {
    pub meta: LineMeta,
    pub host: Option<String>,
    pub message: Vec<u8>,
}

/// A `journalctl -o json` line; `Ok(None)` for other programs' records.
pub fn frame_json(line: &[u8], line_no: u64) -> Result<Option<Framed>, &'static str> {
    let line = line.strip_prefix(b"\x1e").unwrap_or(line);
    let entry: Entry<'_> =
        serde_json::from_slice(line).map_err(|_| "malformed journal JSON record")?;
    let message = match &entry.message {
        Some(Message::Text(text)) => text.as_bytes(),
        Some(Message::Bytes(bytes)) => bytes.as_slice(),
        None => return Ok(None),
    };
    let Some(message) = miq_message(first_line(message)) else {
        return Ok(None);
    };
    let pid = entry.pid.as_deref().ok_or("no _PID in journal record")?;
    let realtime = entry
        .realtime
        .as_deref()
        .ok_or("no __REALTIME_TIMESTAMP in journal record")?;
    let meta = LineMeta {
        line_no,
        time: LogTime::Utc(parse_count(realtime.as_bytes())?),
        pid: parse_count(pid.as_bytes())?,
    };
    Ok(Some(Framed {
        meta,
        host: entry.hostname.map(Cow::into_owned),
        message: message.to_vec(),
    }))
}

/// The stamp a text form starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    Utc(i64),
    /// Month, day and wall-clock time without a year.
    Yearless {
        month: u32,
        day: u32,
        secs_of_day: u32,
        micros: u32,
    },
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, &c| n * 10 + (c - b'0') as u32))
}

/// `HH:MM:SS[.ffffff]` at the start of `b`: seconds of the day, µs, bytes used.
fn clock(b: &[u8]) -> Option<(u32, u32, usize)> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (digits(&b[0..2])?, digits(&b[3..5])?, digits(&b[6..8])?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let (micros, used) = fraction(&b[8..]);
    Some((h * 3600 + m * 60 + s.min(59), micros, 8 + used))
}

/// `.ffffff` (1 to 9 digits) at the start of `b`, as µs, and the bytes used.
fn fraction(b: &[u8]) -> (u32, usize) {
    if b.first() != Some(&b'.') {
        return (0, 0);
    }
    let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 || n > 9 {
        return (0, 0);
    }
    let kept = &b[1..1 + n.min(6)];
    let micros = digits(kept).unwrap_or(0) * 10u32.pow(6 - kept.len() as u32);
    (micros, 1 + n)
}

/// Reads the stamp at the start of a text-form line and the bytes it used.
fn stamp(line: &[u8]) -> Option<(Stamp, usize)> {
    let first = *line.first()?;
    if first.is_ascii_digit() && line.get(4) == Some(&b'-') {
        // short-iso(-precise): 2023-06-17T16:16:44[.123456]+0000 or +00:00.
        let (local_us, used) = super::time::parse_datetime(line)?;
        let (sign, rest) = match line.get(used)? {
            b'+' => (1, &line[used + 1..]),
            b'-' => (-1, &line[used + 1..]),
            b'Z' => return Some((Stamp::Utc(local_us), used + 1)),
            _ => return None,
        };
        let (hours, minutes, zone_len) = if rest.get(2) == Some(&b':') {
            (digits(rest.get(0..2)?)?, digits(rest.get(3..5)?)?, 5)
        } else {
            (digits(rest.get(0..2)?)?, digits(rest.get(2..4)?)?, 4)
        };
        if hours > 14 || minutes > 59 {
            return None;
        }
        let offset_us = sign * (hours as i64 * 3600 + minutes as i64 * 60) * 1_000_000;
        return Some((Stamp::Utc(local_us - offset_us), used + 1 + zone_len));
    }
    if first.is_ascii_digit() {
        // short-unix: 1687018604.123456
        let secs_len = line.iter().take_while(|c| c.is_ascii_digit()).count();
        let secs = parse_count(&line[..secs_len]).ok()?;
        let (micros, used) = fraction(&line[secs_len..]);
        if used == 0 {
            return None;
        }
        return Some((
            Stamp::Utc(secs.checked_mul(1_000_000)? + micros as i64),
            secs_len + used,
        ));
    }
    // short, short-precise, /var/log/messages: "Jun 17 16:16:44[.123456]", "Jun  7 ...".
    let month = MONTHS.iter().position(|m| line.starts_with(*m))? as u32 + 1;
    if line.get(3) != Some(&b' ') {
        return None;
    }
    let mut at = 4;
    if line.get(at) == Some(&b' ') {
        at += 1;
    }
    let day_len = line[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    let day = digits(&line[at..at + day_len])?;
    at += day_len;
    if line.get(at) != Some(&b' ') || !(1..=31).contains(&day) {
        return None;
    }
    let (secs_of_day, micros, used) = clock(&line[at + 1..])?;
    Some((
        Stamp::Yearless {
            month,
            day,
            secs_of_day,
            micros,
        },
        at + 1 + used,
    ))
}

/// Where the years of a text form without them start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearStart {
    /// The first line's year, given (`--year`).
    Given(i64),
    /// Assumed from the file's modification time (its year and month): the
    /// first line's year is that year, or the year before when the first
    /// line's month is later than the modification's (a log begun in December
    /// and copied in January).
    Modified { year: i64, month: u32 },
}

/// The years of a text form without them: the first line's year from its
/// start, and each time the month goes back (December to January) a year
/// has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearClock {
    start: YearStart,
    first_year: Option<i64>,
    year: i64,
    last_month: Option<u32>,
}

impl YearClock {
    pub fn new(start: YearStart) -> YearClock {
        YearClock {
            start,
            first_year: None,
            year: 0,
            last_month: None,
        }
    }

    /// The first year-less line's year, and the rule that gave it (`None`
    /// when no line lacked its year).
    pub fn first_year(&self) -> Option<(i64, YearStart)> {
        self.first_year.map(|y| (y, self.start))
    }

    fn local_us(&mut self, month: u32, day: u32, secs: u32, micros: u32) -> Option<i64> {
        match self.last_month {
            None => {
                self.year = match self.start {
                    YearStart::Given(year) => year,
                    YearStart::Modified { year, month: m } if month > m => year - 1,
                    YearStart::Modified { year, .. } => year,
                };
                self.first_year = Some(self.year);
            }
            Some(last) if month < last => self.year += 1,
            Some(_) => {}
        }
        self.last_month = Some(month);
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        civil_to_us(self.year, month, day, h, m, s, micros)
    }
}

/// Whether a line looks like a text-form record: stamp, host, `IDENT[PID]:`.
pub fn is_text_record(line: &[u8]) -> bool {
    stamp(line).is_some_and(|(_, used)| line.get(used) == Some(&b' '))
}

/// A text-form line: `STAMP HOST IDENT[PID]: MESSAGE`. `Ok(None)` for header
/// lines (`-- Boot ... --`), continuation lines and other programs' messages.
pub fn frame_text(
    line: &[u8],
    line_no: u64,
    years: &mut YearClock,
) -> Result<Option<Framed>, &'static str> {
    let Some((stamp, used)) = stamp(line) else {
        return Ok(None);
    };
    let Some(rest) = line[used..].strip_prefix(b" ") else {
        return Ok(None);
    };
    let Some(host_len) = memchr::memchr(b' ', rest) else {
        return Ok(None);
    };
    let host = &rest[..host_len];
    let rest = &rest[host_len + 1..];
    let Some(colon) = super::find(rest, b": ") else {
        return Ok(None);
    };
    let ident = &rest[..colon];
    let Some(message) = miq_message(&rest[colon + 2..]) else {
        return Ok(None);
    };
    let pid = match (memchr::memchr(b'[', ident), ident.last()) {
        (Some(open), Some(b']')) => parse_count(&ident[open + 1..ident.len() - 1])?,
        _ => return Err("no [PID] after the identifier"),
    };
    let time = match stamp {
        Stamp::Utc(us) => LogTime::Utc(us),
        Stamp::Yearless {
            month,
            day,
            secs_of_day,
            micros,
        } => LogTime::Local(
            years
                .local_us(month, day, secs_of_day, micros)
                .ok_or("impossible date for the year assumed")?,
        ),
    };
    Ok(Some(Framed {
        meta: LineMeta { line_no, time, pid },
        host: Some(super::lossy(host).into_owned()),
        message: message.to_vec(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::time::format_utc_us;

    fn text_line(line: &str) -> Framed {
        frame_text(
            line.as_bytes(),
            3,
            &mut YearClock::new(YearStart::Given(2023)),
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn every_text_form_gives_its_time_host_pid_and_message() {
        let utc = |f: &Framed| match f.meta.time {
            LogTime::Utc(us) => format_utc_us(us),
            LogTime::Local(us) => format!("local {}", format_utc_us(us)),
        };
        for (line, time) in [
            (
                "2023-06-17T12:16:44.123456-0400 miq evm[2440]:  INFO -- evm: MIQ(X#y) hi",
                "2023-06-17T16:16:44.123456Z",
            ),
            (
                "2023-06-17T12:16:44.123456-04:00 miq evm[2440]:  INFO -- evm: MIQ(X#y) hi",
                "2023-06-17T16:16:44.123456Z",
            ),
            (
                "2023-06-17T16:16:44+0000 miq evm[2440]:  INFO -- evm: MIQ(X#y) hi",
                "2023-06-17T16:16:44.000000Z",
            ),
            (
                "1687018604.123456 miq evm[2440]:  INFO -- evm: MIQ(X#y) hi",
                "2023-06-17T16:16:44.123456Z",
            ),
            (
                "Jun 17 16:16:44.123456 miq evm[2440]:  INFO -- evm: MIQ(X#y) hi",
                "local 2023-06-17T16:16:44.123456Z",
            ),
            (
                "Jun 17 16:16:44 miq manageiq[2440]:  INFO -- evm: MIQ(X#y) hi",
                "local 2023-06-17T16:16:44.000000Z",
            ),
            (
                "Jun  7 06:16:44 miq evm[2440]:  WARN -- : MIQ(X#y) hi",
                "local 2023-06-07T06:16:44.000000Z",
            ),
        ] {
            let f = text_line(line);
            assert_eq!(utc(&f), time, "{line}");
            assert_eq!((f.meta.pid, f.meta.line_no), (2440, 3), "{line}");
            assert_eq!(f.host.as_deref(), Some("miq"), "{line}");
            assert_eq!(f.message, b"MIQ(X#y) hi", "{line}");
        }
    }

    #[test]
    fn other_lines_are_not_records() {
        for line in [
            "-- Boot 0123456789abcdef0123456789abcdef --",
            "-- Logs begin at Sat 2023-06-17 10:00:00 UTC, end at Sat 2023-06-17 12:00:00 UTC. --",
            "                                            /var/www/miq/vmdb/app/x.rb:12:in `y'",
            "Jun 17 16:16:44 miq sshd[811]: Accepted publickey for root from 10.0.0.1",
            "Jun 17 16:16:44 miq kernel: Memory Info XXXX",
        ] {
            let framed = frame_text(
                line.as_bytes(),
                1,
                &mut YearClock::new(YearStart::Given(2023)),
            )
            .unwrap();
            assert!(framed.is_none(), "{line}");
        }
    }

    #[test]
    fn the_year_turns_when_the_month_goes_back() {
        let mut years = YearClock::new(YearStart::Given(2022));
        let local = |years: &mut YearClock, line: &str| match frame_text(line.as_bytes(), 1, years)
            .unwrap()
            .unwrap()
            .meta
            .time
        {
            LogTime::Local(us) => format_utc_us(us),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            local(&mut years, "Dec 31 23:59:59 miq evm[1]:  INFO -- evm: x"),
            "2022-12-31T23:59:59.000000Z"
        );
        assert_eq!(
            local(&mut years, "Jan  1 00:00:01 miq evm[1]:  INFO -- evm: x"),
            "2023-01-01T00:00:01.000000Z"
        );
        assert!(frame_text(
            b"Feb 29 00:00:01 miq evm[1]:  INFO -- evm: x",
            1,
            &mut years
        )
        .is_err());
        assert_eq!(years.first_year(), Some((2022, YearStart::Given(2022))));
        // Copied in January, begun in December: the year before the copy's.
        let mut copied = YearClock::new(YearStart::Modified {
            year: 2024,
            month: 1,
        });
        assert_eq!(
            local(&mut copied, "Dec 30 10:00:00 miq evm[1]:  INFO -- evm: x"),
            "2023-12-30T10:00:00.000000Z"
        );
        let mut same = YearClock::new(YearStart::Modified {
            year: 2024,
            month: 7,
        });
        assert_eq!(
            local(&mut same, "Jun 30 10:00:00 miq evm[1]:  INFO -- evm: x"),
            "2024-06-30T10:00:00.000000Z"
        );
    }

    #[test]
    fn json_records_with_text_or_byte_messages() {
        let line = br#"{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1687018604123456","_PID":"2440","_HOSTNAME":"miq","SYSLOG_IDENTIFIER":"evm","MESSAGE":" INFO -- evm: MIQ(X#y) a\nb"}"#;
        let f = frame_json(line, 9).unwrap().unwrap();
        assert_eq!(f.meta.time, LogTime::Utc(1_687_018_604_123_456));
        assert_eq!((f.meta.pid, f.meta.line_no), (2440, 9));
        assert_eq!(f.host.as_deref(), Some("miq"));
        assert_eq!(f.message, b"MIQ(X#y) a");
        // Not valid UTF-8: an array of bytes (" INFO -- evm: \xff").
        let bytes = br#"{"MESSAGE":[32,73,78,70,79,32,45,45,32,101,118,109,58,32,255],"_PID":"7","__REALTIME_TIMESTAMP":"1"}"#;
        let f = frame_json(&[b"\x1e", &bytes[..]].concat(), 1)
            .unwrap()
            .unwrap();
        assert_eq!(f.message, b"\xff");
        assert_eq!(f.host, None);
        // Another program's record is not one of ManageIQ's.
        let other = br#"{"MESSAGE":"Accepted publickey","_PID":"811","__REALTIME_TIMESTAMP":"1"}"#;
        assert!(frame_json(other, 1).unwrap().is_none());
        assert_eq!(
            frame_json(b"{\"MESSAGE\":", 1).err(),
            Some("malformed journal JSON record")
        );
    }
}
