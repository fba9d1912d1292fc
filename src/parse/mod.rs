//! Bytes to records: the hot path. No database, no command line.
//!
//! Each input format has a reader (`reader`) that knows only its framing (the
//! classic `[----]` header in `classic`), and hands the message text to the one
//! message parser in `message`, which knows every shape miq-memlog stores.
//! `scan` finds the few candidate lines of a file with a multi-literal search;
//! `dump_name` reads a heap-dump file name. A record's time says whether it is
//! the appliance's local wall clock or already UTC; `crate::zone` decides the
//! UTC time of local ones once a file is read whole.

use serde::{Deserialize, Serialize};

pub mod classic;
pub mod container;
pub mod dump_name;
#[cfg(test)]
mod fuzz;
pub mod journal;
pub mod message;
pub mod reader;
pub mod scan;
pub mod time;

/// Which kind of line a sample was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SampleKind {
    /// A patched worker's `Memory Info XXXX` line (the seed's patch: PSS in
    /// ManageIQ's kB × 1000).
    Patch,
    /// A stock `log_status` line.
    Status,
    /// The appliance enrichment's `Memory Info XXXX ... Memlog: 1}` line:
    /// memory in true bytes.
    Memlog,
}

impl SampleKind {
    /// The name stored in the database's `source` column.
    pub fn as_str(self) -> &'static str {
        match self {
            SampleKind::Patch => "patch",
            SampleKind::Status => "status",
            SampleKind::Memlog => "memlog",
        }
    }

    /// Written after each queue message (not every few minutes): live and old
    /// objects, the message delivered.
    pub fn per_message(self) -> bool {
        matches!(self, SampleKind::Patch | SampleKind::Memlog)
    }

    pub fn from_name(name: &str) -> Option<SampleKind> {
        match name {
            "patch" => Some(SampleKind::Patch),
            "status" => Some(SampleKind::Status),
            "memlog" => Some(SampleKind::Memlog),
            _ => None,
        }
    }
}

/// A record's time, as its line gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogTime {
    /// The appliance's wall clock, in µs since 1970 read as if it were UTC:
    /// the file's zone decision (`crate::zone`) turns it into UTC.
    Local(i64),
    /// UTC µs: the line carried its zone (journald's realtime stamp, an offset).
    Utc(i64),
}

impl LogTime {
    /// The µs as written, local or UTC.
    pub fn us(self) -> i64 {
        match self {
            LogTime::Local(us) | LogTime::Utc(us) => us,
        }
    }
}

/// One memory sample of one process, as read from one log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub line_no: u64,
    pub time: LogTime,
    /// The host the line names (journald, pods); the file's host when `None`.
    pub host: Option<String>,
    pub pid: i64,
    pub worker: String,
    pub kind: SampleKind,
    pub rss_bytes: Option<i64>,
    pub pss_bytes: Option<i64>,
    pub uss_bytes: Option<i64>,
    pub vsz_bytes: Option<i64>,
    pub live_slots: Option<i64>,
    pub old_objects: Option<i64>,
    pub msg_id: Option<i64>,
    pub msg_class: Option<String>,
    pub msg_method: Option<String>,
    /// `Last Heartbeat [.. UTC]` of a worker status line, UTC µs: reveals the
    /// appliance's UTC offset.
    pub heartbeat_utc_us: Option<i64>,
    /// The enrichment's further values: swap (bytes), the forced GC and the
    /// message's delivery (ms), messages delivered so far.
    pub swap_bytes: Option<i64>,
    pub gc_ms: Option<i64>,
    pub msg_ms: Option<i64>,
    pub msgs: Option<i64>,
}

impl Default for Sample {
    fn default() -> Sample {
        Sample::new(0, LogTime::Local(0), 0, String::new(), SampleKind::Patch)
    }
}

impl Sample {
    /// An empty sample of `kind` at `time`, to fill in.
    pub fn new(line_no: u64, time: LogTime, pid: i64, worker: String, kind: SampleKind) -> Sample {
        Sample {
            line_no,
            time,
            host: None,
            pid,
            worker,
            kind,
            rss_bytes: None,
            pss_bytes: None,
            uss_bytes: None,
            vsz_bytes: None,
            live_slots: None,
            old_objects: None,
            msg_id: None,
            msg_class: None,
            msg_method: None,
            heartbeat_utc_us: None,
            swap_bytes: None,
            gc_ms: None,
            msg_ms: None,
            msgs: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    MemoryExceeded,
    /// The server stopping itself for memory (`monitor_myself`).
    ServerMemoryExceeded,
    WorkerStarted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::MemoryExceeded => "memory_exceeded",
            EventKind::ServerMemoryExceeded => "server_memory_exceeded",
            EventKind::WorkerStarted => "worker_started",
        }
    }
}

/// A lifecycle event of a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub line_no: u64,
    pub time: LogTime,
    /// The host the line names (journald, pods); the file's host when `None`.
    pub host: Option<String>,
    pub pid: i64,
    pub worker: Option<String>,
    pub kind: EventKind,
    pub usage_bytes: Option<i64>,
    pub limit_bytes: Option<i64>,
    pub size_bytes: Option<i64>,
    pub detail: String,
}

/// What the appliance enrichment says of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnrichmentKind {
    /// `miq_memlog started: version 1, ruby 3.1.2, pid N, settings {...}`.
    Started,
    /// `miq_memlog dump: file NAME, bytes N, ms N`.
    Dump,
    /// `miq_memlog dump skipped: cap N reached`.
    DumpCap,
    /// `miq_memlog disabled: REASON`.
    Disabled,
}

impl EnrichmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrichmentKind::Started => "started",
            EnrichmentKind::Dump => "dump",
            EnrichmentKind::DumpCap => "dump_cap",
            EnrichmentKind::Disabled => "disabled",
        }
    }
}

/// The settings a process of the enrichment runs with (its `started` line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichmentSettings {
    /// The worker classes it samples (a regular expression).
    pub workers: Option<String>,
    pub every: Option<i64>,
    pub gc: Option<bool>,
    pub dump_every: Option<i64>,
    pub dump_max: Option<i64>,
    pub trace: Option<bool>,
    pub sinks: Option<String>,
}

/// One of the enrichment's lines about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrichment {
    pub line_no: u64,
    pub time: LogTime,
    pub host: Option<String>,
    pub pid: i64,
    /// The worker type whose runner wrote it (`None` from its installation).
    pub worker: Option<String>,
    pub kind: EnrichmentKind,
    pub version: Option<i64>,
    pub ruby: Option<String>,
    pub settings: EnrichmentSettings,
    /// A dump's file name, bytes and milliseconds; the cap for `DumpCap`
    /// (in `dump_max` of the settings).
    pub dump_file: Option<String>,
    pub size_bytes: Option<i64>,
    pub ms: Option<i64>,
    pub reason: Option<String>,
}

/// What one candidate line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Sample(Sample),
    Event(Event),
    Enrichment(Enrichment),
    /// A line of a recognised shape whose values are malformed: counted, never stored.
    Rejected(&'static str),
    /// A stored shape cut by ManageIQ's message limit before its values:
    /// counted, never stored, not malformed.
    Truncated,
    /// Not a shape miq-memlog stores (mentions a trigger word in passing).
    Ignored,
}

/// Strips a trailing `::Runner`: a worker's patched lines name its runner class,
/// its status lines the worker class; both are one process.
pub fn worker_type(class: &str) -> &str {
    class.strip_suffix("::Runner").unwrap_or(class)
}

/// What parsing a log hands to the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Record {
    Sample(Sample),
    Event(Event),
    Enrichment(Enrichment),
}

impl Record {
    pub fn line_no(&self) -> u64 {
        match self {
            Record::Sample(s) => s.line_no,
            Record::Event(e) => e.line_no,
            Record::Enrichment(n) => n.line_no,
        }
    }

    pub fn time(&self) -> LogTime {
        match self {
            Record::Sample(s) => s.time,
            Record::Event(e) => e.time,
            Record::Enrichment(n) => n.time,
        }
    }

    pub fn host_mut(&mut self) -> &mut Option<String> {
        match self {
            Record::Sample(s) => &mut s.host,
            Record::Event(e) => &mut e.host,
            Record::Enrichment(n) => &mut n.host,
        }
    }
}

/// `bytes` as text, invalid UTF-8 replaced. Checked first as a whole, which
/// is several times faster on valid text (the short ASCII fields of log
/// lines, a query's text cells) than
/// `String::from_utf8_lossy`'s byte-at-a-time walk.
pub(crate) fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// Where `needle` first occurs in `hay`. The parsers look for short literals
/// in one line at a time, where building a `memmem` searcher per call costs
/// more than the search: this one looks for the needle's most telling byte
/// with `memchr` and compares the rest there, building nothing.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    // Spaces and lower-case letters fill log lines; anything else is rarer.
    let commonness = |b: u8| match b {
        b' ' => 3,
        b'a'..=b'z' => 2,
        b'A'..=b'Z' | b'0'..=b'9' => 1,
        _ => 0,
    };
    let (at, &byte) = needle
        .iter()
        .enumerate()
        .min_by_key(|&(_, &b)| commonness(b))
        .expect("needle is not empty");
    let mut from = at;
    while from < hay.len() {
        let found = from + memchr::memchr(byte, &hay[from..])?;
        let start = found - at;
        if hay[start..].starts_with(needle) {
            return Some(start);
        }
        from = found + 1;
    }
    None
}

#[cfg(test)]
mod find_tests {
    use super::{find, lossy};

    #[test]
    fn lossy_is_what_from_utf8_lossy_gives() {
        for bytes in [
            &b""[..],
            b"MiqGenericWorker",
            "Storage.perf_process \u{e9}\u{1F600}".as_bytes(),
            b"bad \xff\xfe byte",
            b"cut \xe2\x82",
        ] {
            assert_eq!(lossy(bytes), String::from_utf8_lossy(bytes), "{bytes:?}");
        }
        assert!(matches!(
            lossy(b"ascii"),
            std::borrow::Cow::Borrowed("ascii")
        ));
    }

    #[test]
    fn finds_what_a_naive_search_finds() {
        let naive = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
        let hays: [&[u8]; 6] = [
            b"",
            b"a -- b: c",
            b"[----] I, [2017-03-01T00:00:06.137911 #63119:26ae0d37]  INFO -- : MIQ(x) y",
            b"PID [ PID [12] Memory Usage [3]",
            b"::::: : :",
            b"Q-task_id([r1]) ]) MIQ(A#b) c",
        ];
        let needles: [&[u8]; 8] = [
            b" -- ",
            b": ",
            b"PID [",
            b"]) ",
            b"#",
            b"z",
            b"Memory Usage [",
            b"a -- b: c!",
        ];
        for hay in hays {
            for needle in needles {
                assert_eq!(
                    find(hay, needle),
                    naive(hay, needle),
                    "{needle:?} in {hay:?}"
                );
            }
        }
        assert_eq!(find(b"abc", b""), Some(0));
    }
}
