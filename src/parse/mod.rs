//! Bytes to records: the hot path. No database, no command line.
//!
//! `scan` finds the few candidate lines of a log with a multi-literal search,
//! `line` turns one candidate line into a record, `dump` reads a heap-dump file
//! name. Times here are the appliance's local wall clock ("local µs"); the store
//! converts them to UTC once the file's zone is known.

pub mod dump;
#[cfg(test)]
mod fuzz;
pub mod line;
pub mod scan;
pub mod time;

/// Where a sample came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A patched worker's `Memory Info XXXX` line.
    Patch,
    /// A stock `log_status` line.
    Status,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Patch => "patch",
            Source::Status => "status",
        }
    }
}

/// One memory sample of one process, as read from one log line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sample {
    pub line_no: u64,
    pub local_us: i64,
    pub pid: i64,
    pub worker: String,
    pub source: Option<Source>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    MemoryExceeded,
    WorkerStarted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::MemoryExceeded => "memory_exceeded",
            EventKind::WorkerStarted => "worker_started",
        }
    }
}

/// A lifecycle event of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub line_no: u64,
    /// Local µs.
    pub ts_us: i64,
    pub pid: i64,
    pub worker: Option<String>,
    pub kind: EventKind,
    pub usage_bytes: Option<i64>,
    pub limit_bytes: Option<i64>,
    pub size_bytes: Option<i64>,
    pub detail: String,
}

/// What one candidate line turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Sample(Sample),
    Event(Event),
    /// A line of a recognised shape whose values are malformed: counted, never stored.
    Rejected(&'static str),
    /// Not a shape miq-memlog stores (mentions a trigger word in passing).
    Ignored,
}

/// Strips a trailing `::Runner`: a worker's patched lines name its runner class,
/// its status lines the worker class; both are one process.
pub fn worker_type(class: &str) -> &str {
    class.strip_suffix("::Runner").unwrap_or(class)
}

/// What parsing a log hands to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Sample(Sample),
    Event(Event),
}
