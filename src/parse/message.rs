//! The one message parser: the text of a log line after its reader's framing
//! (the classic `[----]` header, a journald or container JSON envelope) to a
//! record. Every shape is parsed by hand from the literal markers of the
//! formats reference; values are validated, never guessed.

use memchr::{memchr, memchr2, memrchr};

use super::time::parse_datetime;
use super::{
    worker_type, Enrichment, EnrichmentKind, EnrichmentSettings, Event, EventKind, LogTime, Parsed,
    Sample, SampleKind,
};

const MEMORY_INFO: &[u8] = b"Memory Info XXXX";
const PROCESS_INFO_WORKER: &[u8] = b"Process Info:";
const PROCESS_INFO_SERVER: &[u8] = b"Process info:";
const EXCEEDED: &[u8] = b"exceeded limit [";
const SERVER_EXCEEDED: &[u8] = b"exceeded limit: [";
const STARTED: &[u8] = b"Worker started:";
const RUNNER_STARTED: &[u8] = b"::Runner started. ID [";
/// The appliance enrichment's lines about itself: `miq_memlog started: ...`.
const MEMLOG: &[u8] = b"miq_memlog ";

/// The literals that make a line a candidate; the scanner's prefilter searches
/// for these and nothing else. Each stored shape holds one.
pub const TRIGGERS: [&[u8]; 8] = [
    MEMORY_INFO,
    PROCESS_INFO_WORKER,
    PROCESS_INFO_SERVER,
    EXCEEDED,
    SERVER_EXCEEDED,
    STARTED,
    RUNNER_STARTED,
    MEMLOG,
];

/// Short pieces of the triggers whose first bytes are rare in logs: every trigger
/// holds one, so a line without any of them holds no trigger. The scanner's SIMD
/// search fingerprints the first bytes of each piece; `Memory`, `Process` or
/// `Worker` would match half the noise (`ManageIQ::Providers`, `MiqWorker`).
pub const PREFILTER: [&[u8]; 7] = [
    b"XXXX",
    b"fo:",
    b"limit [",
    b"limit: [",
    b"rted:",
    b"rted. ID",
    b"_memlog ",
];

/// ManageIQ's message cut: 8 KB from Lasker on (1 MB before), the cut text
/// ending in `...`. A patched line this long without its `{...}` block was cut.
const MESSAGE_CUT: usize = 8 * 1024;

/// What a reader knows of a line besides its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineMeta {
    pub line_no: u64,
    pub time: LogTime,
    /// The process that wrote the line.
    pub pid: i64,
}

/// Whether `bytes` hold a trigger literal at all.
pub fn holds_trigger(bytes: &[u8]) -> bool {
    TRIGGERS.iter().any(|t| super::find(bytes, t).is_some())
}

/// A non-negative integer that fits in i64, with the reason when it is not one.
pub fn parse_count(b: &[u8]) -> Result<i64, &'static str> {
    let b = b.trim_ascii();
    if b.first() == Some(&b'-') {
        return Err("negative value");
    }
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err("non-numeric value");
    }
    b.iter()
        .try_fold(0i64, |n, &c| {
            n.checked_mul(10)?.checked_add((c - b'0') as i64)
        })
        .ok_or("value out of range")
}

/// The text between `key` (which ends with `[`) and the next `]`.
fn bracketed<'a>(hay: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = super::find(hay, key)? + key.len();
    let len = memchr(b']', &hay[at..])?;
    Some(&hay[at..at + len])
}

/// A bracketed count: `None` for empty brackets (`PID []`: not known yet), an
/// error for anything else that is not a count.
fn bracketed_count(hay: &[u8], key: &[u8]) -> Result<Option<i64>, &'static str> {
    match bracketed(hay, key).map(<[u8]>::trim_ascii) {
        None | Some(b"") => Ok(None),
        Some(v) => parse_count(v).map(Some),
    }
}

fn text(b: &[u8]) -> String {
    super::lossy(b).into_owned()
}

/// A message's own prefix: `MIQ(Class#method) ` or `MIQ(Class.method) `.
struct Prefix<'a> {
    class: &'a [u8],
    method: &'a [u8],
    /// The message after the prefix: only here is a shape the line's own.
    rest: &'a [u8],
}

/// Splits `[Q-task_id([...]) ]MIQ(Class#method) rest`; `Err(text)` with the text
/// after the task id when there is no `MIQ(...)` prefix.
fn prefix(message: &[u8]) -> Result<Prefix<'_>, &[u8]> {
    let mut text = message;
    if let Some(after) = text.strip_prefix(b"Q-task_id([") {
        if let Some(end) = super::find(after, b"]) ") {
            text = &after[end + 3..];
        }
    }
    let Some(inside) = text.strip_prefix(b"MIQ(") else {
        return Err(text);
    };
    let Some(close) = memchr(b')', inside) else {
        return Err(text);
    };
    let (class, method) = match inside[..close].iter().position(|&c| c == b'#' || c == b'.') {
        Some(at) => (&inside[..at], &inside[at + 1..close]),
        None => (&inside[..close], &b""[..]),
    };
    let rest = &inside[close + 1..];
    Ok(Prefix {
        class,
        method,
        rest: rest.strip_prefix(b" ").unwrap_or(rest),
    })
}

/// Parses the message of one line. A shape counts only where it is the
/// message's own text, right after its `Q-task_id(...)`/`MIQ(...)` prefix:
/// the same words quoted inside another message (a queued event's details, an
/// automation log line) are `Ignored`, never an event or a sample.
pub fn parse(meta: &LineMeta, message: &[u8]) -> Parsed {
    let p = match prefix(message) {
        Ok(p) => p,
        Err(text) if text.starts_with(MEMORY_INFO) => return Parsed::Rejected("no MIQ(...) class"),
        Err(text) => {
            return runner_started(meta, text).map_or(Parsed::Ignored, |e| {
                e.map_or_else(Parsed::Rejected, Parsed::Event)
            })
        }
    };
    let rest = p.rest;
    let found = |needle: &[u8]| super::find(rest, needle).is_some();
    let parsed = if rest.starts_with(MEMORY_INFO) {
        patch_sample(meta, &p, message)
    } else if p.method == b"log_status"
        && (found(PROCESS_INFO_WORKER) || found(PROCESS_INFO_SERVER))
    {
        status_sample(meta, &p)
    } else if rest.starts_with(b"Worker [") && found(EXCEEDED) {
        exceeded_event(meta, rest).map(|e| e.map(Parsed::Event))
    } else if p.method == b"monitor_myself"
        && rest.starts_with(b"server(")
        && found(SERVER_EXCEEDED)
    {
        server_exceeded_event(meta, rest).map(|e| Some(Parsed::Event(e)))
    } else if rest.starts_with(STARTED) {
        started_event(meta, &p).map(|e| e.map(Parsed::Event))
    } else if let Some(said) = rest.strip_prefix(MEMLOG) {
        enrichment(meta, &p, said).map(|e| e.map(Parsed::Enrichment))
    } else {
        return Parsed::Ignored;
    };
    match parsed {
        Ok(Some(parsed)) => parsed,
        Ok(None) => Parsed::Ignored,
        Err(reason) => Parsed::Rejected(reason),
    }
}

/// `MIQ(X::Runner#do_work) Memory Info XXXX (<msg.inspect>) => {Live: 1, Old: 2, RSS: 3, PSS: 4}`,
/// more `Key: n` pairs allowed after the four.
fn patch_sample(
    meta: &LineMeta,
    p: &Prefix<'_>,
    message: &[u8],
) -> Result<Option<Parsed>, &'static str> {
    let tail = p.rest[MEMORY_INFO.len()..].trim_ascii_end();
    let block_start = match tail.last() {
        Some(b'}') => memrchr(b'{', tail).ok_or("no {Live:, Old:, RSS:, PSS:} block")?,
        // Cut by ManageIQ's message limit before its block: not malformed.
        _ if message.len() >= MESSAGE_CUT && message.ends_with(b"...") => {
            return Ok(Some(Parsed::Truncated))
        }
        _ => return Err("no {Live:, Old:, RSS:, PSS:} block at the end of the line"),
    };
    let worker = worker_type(&super::lossy(p.class)).to_string();
    let mut sample = Sample::new(meta.line_no, meta.time, meta.pid, worker, SampleKind::Patch);
    let mut known = 0;
    for pair in tail[block_start + 1..tail.len() - 1].split(|&c| c == b',') {
        let Some(colon) = memchr(b':', pair) else {
            return Err("malformed {Live:, Old:, RSS:, PSS:} block");
        };
        let slot = match pair[..colon].trim_ascii() {
            b"Live" => &mut sample.live_slots,
            b"Old" => &mut sample.old_objects,
            b"RSS" => &mut sample.rss_bytes,
            b"PSS" => &mut sample.pss_bytes,
            b"USS" => &mut sample.uss_bytes,
            b"Swap" => &mut sample.swap_bytes,
            b"GCms" => &mut sample.gc_ms,
            b"Ms" => &mut sample.msg_ms,
            b"Msgs" => &mut sample.msgs,
            // The enrichment's line format: its memory is in true bytes.
            b"Memlog" => {
                parse_count(&pair[colon + 1..])?;
                sample.kind = SampleKind::Memlog;
                continue;
            }
            _ => continue,
        };
        *slot = Some(parse_count(&pair[colon + 1..])?);
        if matches!(
            pair[..colon].trim_ascii(),
            b"Live" | b"Old" | b"RSS" | b"PSS"
        ) {
            known += 1;
        }
    }
    if known == 0 {
        return Err("no Live, Old, RSS or PSS value");
    }
    let inspect = tail[..block_start].trim_ascii_end();
    let inspect = inspect.strip_suffix(b"=>").unwrap_or(inspect);
    let queued = queue_message(inspect);
    sample.msg_id = queued.id;
    sample.msg_class = queued.class_name;
    sample.msg_method = queued.method_name;
    Ok(Some(Parsed::Sample(sample)))
}

/// The fields of the delivered `#<MiqQueue ...>` that say which message it was.
#[derive(Debug, Default, PartialEq, Eq)]
struct QueueMessage {
    id: Option<i64>,
    class_name: Option<String>,
    method_name: Option<String>,
}

/// Reads the top-level `key: value` fields of `#<MiqQueue id: 1, ...>`. Values can
/// nest brackets, hashes, `=>` and quoted strings; only top-level commas split.
fn queue_message(inspect: &[u8]) -> QueueMessage {
    let mut found = QueueMessage::default();
    let Some(start) = super::find(inspect, b"#<MiqQueue ") else {
        return found;
    };
    let body = &inspect[start + b"#<MiqQueue ".len()..];
    // Open brackets awaiting their closer; messages nest a few levels, so the
    // stack lives in place and only a deeper one spills to the heap.
    let mut closers = Closers::default();
    let mut field_start = 0;
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        let mut end_of_field = false;
        let mut end_of_object = false;
        match c {
            b'"' => {
                // To the closing quote, past escaped characters.
                let mut at = i + 1;
                loop {
                    if at >= body.len() {
                        return found;
                    }
                    match memchr2(b'"', b'\\', &body[at..]) {
                        Some(n) if body[at + n] == b'\\' => at += n + 2,
                        Some(n) => {
                            at += n;
                            break;
                        }
                        None => return found,
                    }
                }
                i = at;
            }
            b'=' if body.get(i + 1) == Some(&b'>') => i += 1,
            b'(' => closers.push(b')'),
            b'[' => closers.push(b']'),
            b'{' => closers.push(b'}'),
            b'#' if body.get(i + 1) == Some(&b'<') => {
                closers.push(b'>');
                i += 1;
            }
            b')' | b']' | b'}' | b'>' if closers.last() == Some(c) => closers.pop(),
            b',' if closers.is_empty() => end_of_field = true,
            b'>' if closers.is_empty() => end_of_object = true,
            _ => {}
        }
        if end_of_field || end_of_object {
            queue_field(&body[field_start..i], &mut found);
            field_start = i + 1;
            let all =
                found.id.is_some() && found.class_name.is_some() && found.method_name.is_some();
            if end_of_object || all {
                return found;
            }
        }
        i += 1;
    }
    found
}

/// A stack of expected closing brackets, in place up to 32 deep.
#[derive(Default)]
struct Closers {
    inline: [u8; 32],
    len: usize,
    deeper: Vec<u8>,
}

impl Closers {
    fn push(&mut self, c: u8) {
        if self.len < self.inline.len() {
            self.inline[self.len] = c;
        } else {
            self.deeper.push(c);
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len -= 1;
        if self.len >= self.inline.len() {
            self.deeper.pop();
        }
    }

    fn last(&self) -> Option<u8> {
        match self.len {
            0 => None,
            n if n <= self.inline.len() => Some(self.inline[n - 1]),
            _ => self.deeper.last().copied(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn queue_field(field: &[u8], found: &mut QueueMessage) {
    let field = field.trim_ascii();
    let Some(colon) = super::find(field, b": ") else {
        return;
    };
    let value = field[colon + 2..].trim_ascii();
    let quoted = || {
        let inner = value.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        let inner = text(inner);
        if !inner.contains('\\') {
            return Some(inner);
        }
        Some(inner.replace("\\\"", "\"").replace("\\\\", "\\"))
    };
    match &field[..colon] {
        b"id" => found.id = parse_count(value).ok(),
        b"class_name" => found.class_name = quoted(),
        b"method_name" => found.method_name = quoted(),
        _ => {}
    }
}

/// The enrichment's lines about itself, after `miq_memlog `:
/// `started: version 1, ruby 3.1.2, pid 1234, settings {workers: ".", every: 1, ...}`,
/// `dump: file NAME, bytes N, ms N`, `dump skipped: cap N reached`, `disabled: REASON`.
fn enrichment(
    meta: &LineMeta,
    p: &Prefix<'_>,
    said: &[u8],
) -> Result<Option<Enrichment>, &'static str> {
    let worker = Some(worker_type(&text(p.class)).to_string()).filter(|_| p.class != b"MiqMemlog");
    let mut n = Enrichment {
        line_no: meta.line_no,
        time: meta.time,
        host: None,
        pid: meta.pid,
        worker,
        kind: EnrichmentKind::Started,
        version: None,
        ruby: None,
        settings: EnrichmentSettings::default(),
        dump_file: None,
        size_bytes: None,
        ms: None,
        reason: None,
    };
    if let Some(fields) = said.strip_prefix(b"started: ") {
        let (head, settings) = match super::find(fields, b"settings {") {
            Some(at) => (&fields[..at], Some(&fields[at + b"settings ".len()..])),
            None => (fields, None),
        };
        for field in head.split(|&c| c == b',') {
            match field.trim_ascii().split_once_str(b" ") {
                Some((b"version", v)) => n.version = Some(parse_count(v)?),
                Some((b"ruby", v)) => n.ruby = Some(text(v)),
                Some((b"pid", v)) => n.pid = parse_count(v)?,
                _ => {}
            }
        }
        if let Some(settings) = settings {
            n.settings = parse_settings(settings)?;
        }
    } else if let Some(fields) = said.strip_prefix(b"dump: ") {
        n.kind = EnrichmentKind::Dump;
        for field in fields.split(|&c| c == b',') {
            match field.trim_ascii().split_once_str(b" ") {
                Some((b"file", v)) => n.dump_file = Some(text(v)),
                Some((b"bytes", v)) => n.size_bytes = Some(parse_count(v)?),
                Some((b"ms", v)) => n.ms = Some(parse_count(v)?),
                _ => {}
            }
        }
    } else if let Some(cap) = said.strip_prefix(b"dump skipped: cap ") {
        n.kind = EnrichmentKind::DumpCap;
        let cap = cap.strip_suffix(b" reached").ok_or("malformed dump cap")?;
        n.settings.dump_max = Some(parse_count(cap)?);
    } else if let Some(reason) = said.strip_prefix(b"disabled: ") {
        n.kind = EnrichmentKind::Disabled;
        n.reason = Some(text(reason));
    } else {
        return Ok(None);
    }
    Ok(Some(n))
}

/// `{workers: "Generic|Priority", every: 1, gc: false, ..., sinks: "file"}`:
/// values as Ruby's inspect writes them (strings quoted, `\\` and `\"`
/// escaped; booleans; integers).
fn parse_settings(block: &[u8]) -> Result<EnrichmentSettings, &'static str> {
    let body = block
        .strip_prefix(b"{")
        .and_then(|b| b.trim_ascii_end().strip_suffix(b"}"))
        .ok_or("malformed settings")?;
    let mut settings = EnrichmentSettings::default();
    let mut at = 0;
    while at < body.len() {
        let colon = super::find(&body[at..], b": ").ok_or("malformed settings")? + at;
        let key = body[at..colon].trim_ascii();
        let mut i = colon + 2;
        let value = if body.get(i) == Some(&b'"') {
            let mut unescaped = Vec::new();
            i += 1;
            loop {
                match body.get(i) {
                    Some(b'\\') => {
                        unescaped.extend(body.get(i + 1));
                        i += 2;
                    }
                    Some(b'"') => break,
                    Some(&c) => {
                        unescaped.push(c);
                        i += 1;
                    }
                    None => return Err("malformed settings"),
                }
            }
            i += 1;
            Value::Text(text(&unescaped))
        } else {
            let end = memchr(b',', &body[i..]).map_or(body.len(), |e| e + i);
            let raw = body[i..end].trim_ascii();
            i = end;
            match raw {
                b"true" => Value::Flag(true),
                b"false" => Value::Flag(false),
                _ => Value::Count(parse_count(raw)?),
            }
        };
        match (key, value) {
            (b"workers", Value::Text(v)) => settings.workers = Some(v),
            (b"sinks", Value::Text(v)) => settings.sinks = Some(v),
            (b"every", Value::Count(v)) => settings.every = Some(v),
            (b"dump_every", Value::Count(v)) => settings.dump_every = Some(v),
            (b"dump_max", Value::Count(v)) => settings.dump_max = Some(v),
            (b"gc", Value::Flag(v)) => settings.gc = Some(v),
            (b"trace", Value::Flag(v)) => settings.trace = Some(v),
            _ => {}
        }
        at = match memchr(b',', &body[i..]) {
            Some(comma) => i + comma + 1,
            None => body.len(),
        };
    }
    Ok(settings)
}

/// A value of the enrichment's settings.
enum Value {
    Text(String),
    Flag(bool),
    Count(i64),
}

/// `split_once` on a byte separator.
trait SplitOnce {
    fn split_once_str(&self, sep: &[u8]) -> Option<(&[u8], &[u8])>;
}

impl SplitOnce for [u8] {
    fn split_once_str(&self, sep: &[u8]) -> Option<(&[u8], &[u8])> {
        let at = super::find(self, sep)?;
        Some((&self[..at], &self[at + sep.len()..]))
    }
}

/// Worker: `MIQ(Class#log_status) [Name] Worker ID [..], PID [n], ..., Last Heartbeat
/// [.. UTC], Process Info: Memory Usage [..], Memory Size [..], Proportional Set Size:
/// [..], Unique Set Size: [..], ...` (the sample is PID n's). Server:
/// `MIQ(MiqServer.log_status) [EVM Server (N)] Process info: ...` (server N's).
/// Empty brackets (`PID []`, `Memory Usage []`: a worker not started, a pod)
/// give no sample.
fn status_sample(meta: &LineMeta, p: &Prefix<'_>) -> Result<Option<Parsed>, &'static str> {
    let info_at = super::find(p.rest, PROCESS_INFO_WORKER)
        .or_else(|| super::find(p.rest, PROCESS_INFO_SERVER))
        .ok_or("no Process Info")?;
    let (before, info) = p.rest.split_at(info_at);
    let pid = if super::find(before, b"PID [").is_some() {
        match bracketed_count(before, b"PID [")? {
            Some(pid) => pid,
            None => return Ok(None),
        }
    } else {
        server_pid(before).unwrap_or(meta.pid)
    };
    let Some(rss) = bracketed_count(info, b"Memory Usage [")? else {
        return Ok(None);
    };
    let heartbeat_utc_us = bracketed(before, b"Last Heartbeat [").and_then(|v| {
        let (us, used) = parse_datetime(v)?;
        (&v[used..] == b" UTC").then_some(us)
    });
    let sample = Sample {
        line_no: meta.line_no,
        time: meta.time,
        host: None,
        pid,
        worker: worker_type(&text(status_class(p))).to_string(),
        kind: SampleKind::Status,
        rss_bytes: Some(rss),
        vsz_bytes: bracketed_count(info, b"Memory Size [")?,
        pss_bytes: bracketed_count(info, b"Proportional Set Size: [")?,
        uss_bytes: bracketed_count(info, b"Unique Set Size: [")?,
        heartbeat_utc_us,
        ..Sample::default()
    };
    Ok(Some(Parsed::Sample(sample)))
}

/// The worker type a status line describes: its prefix's class, or in the
/// oldest form (`MIQ(MiqWorker.log_status) MiqPriorityWorker: [..]`) the class
/// named after it.
fn status_class<'a>(p: &Prefix<'a>) -> &'a [u8] {
    if p.class == b"MiqWorker" {
        if let Some(colon) = super::find(p.rest, b": [") {
            let named = &p.rest[..colon];
            if !named.is_empty()
                && named
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':'))
            {
                return named;
            }
        }
    }
    p.class
}

/// The N of `[EVM Server (N)]`: the server described (before Lasker a queue
/// worker wrote the line, so the header's PID is not the server's).
fn server_pid(before: &[u8]) -> Option<i64> {
    let name = bracketed(before, b"[")?;
    let inner = name.strip_suffix(b")")?;
    let open = memrchr(b'(', inner)?;
    parse_count(&inner[open + 1..]).ok()
}

fn event(meta: &LineMeta, pid: i64, worker: Option<String>, kind: EventKind) -> Event {
    Event {
        line_no: meta.line_no,
        time: meta.time,
        host: None,
        pid,
        worker,
        kind,
        usage_bytes: None,
        limit_bytes: None,
        size_bytes: None,
        detail: String::new(),
    }
}

/// `Worker [X] with ID: [..], PID: [n], GUID: [..] process memory usage [u] exceeded limit [l], ...`
fn exceeded_event(meta: &LineMeta, rest: &[u8]) -> Result<Option<Event>, &'static str> {
    let worker = bracketed(rest, b"Worker [").ok_or("no Worker [...]")?;
    let Some(pid) = bracketed_count(rest, b"PID: [")? else {
        return Ok(None);
    };
    let usage = parse_count(bracketed(rest, b"memory usage [").ok_or("no memory usage [...]")?)?;
    let limit = parse_count(bracketed(rest, EXCEEDED).ok_or("no exceeded limit [...]")?)?;
    let worker = Some(worker_type(&text(worker)).to_string());
    Ok(Some(Event {
        usage_bytes: Some(usage),
        limit_bytes: Some(limit),
        detail: format!("usage={usage} limit={limit}"),
        ..event(meta, pid, worker, EventKind::MemoryExceeded)
    }))
}

/// `MIQ(MiqServer#monitor_myself) server(pid: 2949, name: ..) memory usage [u] exceeded limit: [l].  Exiting server process.`
fn server_exceeded_event(meta: &LineMeta, rest: &[u8]) -> Result<Event, &'static str> {
    let after = rest
        .strip_prefix(b"server(pid: ")
        .ok_or("no server(pid: ...)")?;
    let end = after
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(after.len());
    let pid = parse_count(&after[..end])?;
    let usage = parse_count(bracketed(rest, b"memory usage [").ok_or("no memory usage [...]")?)?;
    let limit = parse_count(bracketed(rest, SERVER_EXCEEDED).ok_or("no exceeded limit: [...]")?)?;
    Ok(Event {
        usage_bytes: Some(usage),
        limit_bytes: Some(limit),
        detail: format!("usage={usage} limit={limit}"),
        ..event(
            meta,
            pid,
            Some("MiqServer".to_string()),
            EventKind::ServerMemoryExceeded,
        )
    })
}

/// `ID [i], PID [p], GUID [g]` of a start: `None` for the pid of `PID []`.
fn start_fields(fields: &[u8]) -> Result<(Option<i64>, String), &'static str> {
    let id = parse_count(bracketed(fields, b"ID [").ok_or("no ID [...]")?)?;
    let pid = bracketed_count(fields, b"PID [")?;
    let guid = bracketed(fields, b"GUID [").map(text).unwrap_or_default();
    Ok((pid, format!("id={id} guid={guid}")))
}

/// The server's `MIQ(Class#start) Worker started: ID [n], PID [n], GUID [g]`;
/// systemd workers and pods print `PID []`: no event (the worker's own line
/// gives it).
fn started_event(meta: &LineMeta, p: &Prefix<'_>) -> Result<Option<Event>, &'static str> {
    let (pid, detail) = start_fields(p.rest)?;
    let Some(pid) = pid else {
        return Ok(None);
    };
    let worker = Some(worker_type(&text(p.class)).to_string()).filter(|w| w != "MiqServer");
    Ok(Some(Event {
        detail,
        ..event(meta, pid, worker, EventKind::WorkerStarted)
    }))
}

/// The worker's own `Class::Runner started. ID [i], PID [p], GUID [g], Zone [..], Role [..]`
/// (no `MIQ(` prefix): `None` when the text is not that line.
fn runner_started(meta: &LineMeta, text_: &[u8]) -> Option<Result<Event, &'static str>> {
    let at = super::find(text_, RUNNER_STARTED)?;
    let class = &text_[..at];
    let is_constant = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':');
    if class.is_empty() || !class.iter().all(is_constant) {
        return None;
    }
    let fields = &text_[at + RUNNER_STARTED.len() - b"ID [".len()..];
    Some(start_fields(fields).map(|(pid, detail)| Event {
        detail,
        ..event(
            meta,
            pid.unwrap_or(meta.pid),
            Some(text(class)),
            EventKind::WorkerStarted,
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::classic::parse_line;
    use crate::parse::time::format_utc_us;

    fn sample(line: &str) -> Sample {
        match parse_line(line.as_bytes(), 7) {
            Parsed::Sample(s) => s,
            other => panic!("expected a sample from {line}, got {other:?}"),
        }
    }

    fn event(line: &str) -> Event {
        match parse_line(line.as_bytes(), 7) {
            Parsed::Event(e) => e,
            other => panic!("expected an event from {line}, got {other:?}"),
        }
    }

    fn rejected(line: &str) -> &'static str {
        match parse_line(line.as_bytes(), 7) {
            Parsed::Rejected(reason) => reason,
            other => panic!("expected a rejection of {line}, got {other:?}"),
        }
    }

    const PATCH: &str = r#"[----] I, [2017-03-01T00:00:06.137911 #63119:26ae0d37]  INFO -- : MIQ(MiqEmsMetricsProcessorWorker::Runner#do_work) Memory Info XXXX (#<MiqQueue id: 1000000000001, target_id: nil, priority: 100, method_name: "perf_process", args: [], task_id: nil, created_on: "2017-03-01 04:00:06", state: "dequeue", zone: "default", role: "ems_metrics_processor", class_name: "Storage", instance_id: 84>) => {Live: 437956, Old: 363503, RSS: 195054560, PSS: 140439283}"#;

    #[test]
    fn every_trigger_holds_a_prefilter_piece() {
        for trigger in TRIGGERS {
            assert!(
                PREFILTER
                    .iter()
                    .any(|p| memchr::memmem::find(trigger, p).is_some()),
                "{}",
                String::from_utf8_lossy(trigger)
            );
        }
    }

    #[test]
    fn patched_sample() {
        let s = sample(PATCH);
        assert_eq!(format_utc_us(s.time.us()), "2017-03-01T00:00:06.137911Z");
        assert_eq!(s.line_no, 7);
        assert_eq!(s.pid, 63119);
        assert_eq!(s.worker, "MiqEmsMetricsProcessorWorker");
        assert_eq!(s.kind, SampleKind::Patch);
        assert_eq!(s.live_slots, Some(437956));
        assert_eq!(s.old_objects, Some(363503));
        assert_eq!(s.rss_bytes, Some(195054560));
        assert_eq!(s.pss_bytes, Some(140439283));
        assert_eq!((s.uss_bytes, s.vsz_bytes), (None, None));
        assert_eq!(s.msg_id, Some(1000000000001));
        assert_eq!(s.msg_class.as_deref(), Some("Storage"));
        assert_eq!(s.msg_method.as_deref(), Some("perf_process"));
    }

    #[test]
    fn patched_sample_with_task_prefix_nil_message_and_no_space_before_pid() {
        let s = sample("[----] I, [2017-03-01T00:10:00.000001#4242:abc]  INFO -- : Q-task_id([r99_miq_queue_1]) MIQ(ManageIQ::Providers::Vmware::InfraManager::MetricsCollectorWorker::Runner#do_work) Memory Info XXXX (nil) => {Live: 1, Old: 2, RSS: 3, PSS: 4}\r");
        assert_eq!(s.pid, 4242);
        assert_eq!(
            s.worker,
            "ManageIQ::Providers::Vmware::InfraManager::MetricsCollectorWorker"
        );
        assert_eq!(
            (s.live_slots, s.old_objects, s.rss_bytes, s.pss_bytes),
            (Some(1), Some(2), Some(3), Some(4))
        );
        assert_eq!((s.msg_id, s.msg_class, s.msg_method), (None, None, None));
    }

    #[test]
    fn patched_sample_whose_message_holds_parens_hashes_and_arrows() {
        let s = sample(
            r#"[----] I, [2017-03-01T00:00:06.137911 #1:2]  INFO -- : MIQ(MiqGenericWorker::Runner#do_work) Memory Info XXXX (#<MiqQueue id: 55, method_name: "refresh (full)", args: [[{"id"=>5, "name"=>"vm (prod) => {x}", "q"=>"a\"b, c: d"}], #<Foo a: 1>], class_name: "ManageIQ::Providers::Vmware::InfraManager", instance_id: 9>) => {Live: 10, Old: 20, RSS: 30, PSS: 40}"#,
        );
        assert_eq!(s.msg_id, Some(55));
        assert_eq!(s.msg_method.as_deref(), Some("refresh (full)"));
        assert_eq!(
            s.msg_class.as_deref(),
            Some("ManageIQ::Providers::Vmware::InfraManager")
        );
        assert_eq!((s.live_slots, s.pss_bytes), (Some(10), Some(40)));
    }

    const WORKER_STATUS: &str = "[----] I, [2017-08-11T19:06:20.698103 #2949:b81140]  INFO -- : Q-task_id([log_status]) MIQ(MiqEventHandler#log_status) [Event Handler] Worker ID [1000000001071], PID [2922], GUID [c0f9c28a-7ed6-11e7-8b18-525400431635], Last Heartbeat [2017-08-11 23:06:19 UTC], Process Info: Memory Usage [310091776], Memory Size [652206080], Proportional Set Size: [203949000], Unique Set Size: [170000000], Memory % [3.01], CPU Time [735.0], CPU % [0.09], Priority [27]";

    #[test]
    fn worker_status_sample_belongs_to_the_body_pid() {
        let s = sample(WORKER_STATUS);
        assert_eq!(s.pid, 2922);
        assert_eq!(s.worker, "MiqEventHandler");
        assert_eq!(s.kind, SampleKind::Status);
        assert_eq!(s.rss_bytes, Some(310091776));
        assert_eq!(s.vsz_bytes, Some(652206080));
        assert_eq!(s.pss_bytes, Some(203949000));
        assert_eq!(s.uss_bytes, Some(170000000));
        assert_eq!((s.live_slots, s.old_objects, s.msg_id), (None, None, None));
        assert_eq!(
            format_utc_us(s.heartbeat_utc_us.unwrap()),
            "2017-08-11T23:06:19.000000Z"
        );
    }

    #[test]
    fn older_worker_status_without_uss_and_server_status() {
        let old = WORKER_STATUS.replace(" Unique Set Size: [170000000],", "");
        assert_eq!(sample(&old).uss_bytes, None);
        let s = sample("[----] I, [2017-08-11T19:06:20.698103 #2949:b81140]  INFO -- : MIQ(MiqServer#log_status) [EVM Server (2949)] Process info: Memory Usage [410091776], Memory Size [952206080], Proportional Set Size: [303949000], Unique Set Size: [270000000], Memory % [4.01], CPU Time [1735.0], CPU % [0.19], Priority [27]");
        assert_eq!((s.pid, s.worker.as_str()), (2949, "MiqServer"));
        assert_eq!(
            (s.rss_bytes, s.uss_bytes, s.heartbeat_utc_us),
            (Some(410091776), Some(270000000), None)
        );
    }

    #[test]
    fn memory_exceeded_events_new_and_old_form() {
        let line = "[----] W, [2017-03-01T13:22:05.004211 #2949:b81140]  WARN -- : MIQ(MiqServer#validate_worker) Worker [MiqEmsMetricsProcessorWorker] with ID: [1000000000123], PID: [54823], GUID: [c0f9c28a-7ed6-11e7-8b18-000000054823] process memory usage [629145601] exceeded limit [629145600], requesting worker to exit";
        let e = event(line);
        assert_eq!((e.pid, e.kind), (54823, EventKind::MemoryExceeded));
        assert_eq!(e.worker.as_deref(), Some("MiqEmsMetricsProcessorWorker"));
        assert_eq!(
            (e.usage_bytes, e.limit_bytes),
            (Some(629145601), Some(629145600))
        );
        assert_eq!(e.detail, "usage=629145601 limit=629145600");
        assert_eq!(format_utc_us(e.time.us()), "2017-03-01T13:22:05.004211Z");
        assert_eq!(event(&line.replace("MiqServer#", "MiqServer.")), e);
    }

    #[test]
    fn worker_started_event() {
        let e = event("[----] I, [2017-03-01T13:23:00.000000 #2949:b81140]  INFO -- : MIQ(MiqEmsMetricsProcessorWorker.start_worker) Worker started: ID [1000000000124], PID [54900], GUID [abc-def]");
        assert_eq!((e.pid, e.kind), (54900, EventKind::WorkerStarted));
        assert_eq!(e.worker.as_deref(), Some("MiqEmsMetricsProcessorWorker"));
        assert_eq!(e.detail, "id=1000000000124 guid=abc-def");
        let e = event("[----] I, [2017-03-01T13:23:00.000000 #2949:b81140]  INFO -- : MIQ(MiqServer#start_worker) Worker started: ID [1], PID [2], GUID [g]");
        assert_eq!(e.worker, None);
    }

    #[test]
    fn malformed_values_are_rejected_with_a_reason() {
        let with = |from: &str, to: &str| PATCH.replace(from, to);
        assert_eq!(
            rejected(&with("RSS: 195054560", "RSS: abc")),
            "non-numeric value"
        );
        assert_eq!(
            rejected(&with("PSS: 140439283", "PSS: -5")),
            "negative value"
        );
        assert_eq!(
            rejected(&with("RSS: 195054560", "RSS: 99999999999999999999999")),
            "value out of range"
        );
        assert_eq!(
            rejected(&with("RSS: 195054560", "RSS: ")),
            "non-numeric value"
        );
        assert_eq!(
            rejected(&with("2017-03-01T00:00:06", "2017-02-30T25:61:00")),
            "impossible or malformed time"
        );
        assert_eq!(
            rejected(&with(
                " => {Live: 437956, Old: 363503, RSS: 195054560, PSS: 140439283}",
                ""
            )),
            "no {Live:, Old:, RSS:, PSS:} block at the end of the line"
        );
        assert_eq!(
            rejected(&with(
                "{Live: 437956, Old: 363503, RSS: 195054560, PSS: 140439283}",
                "{Live: 437956, Old: 363503, RSS: 195054560, PSS: 140439283"
            )),
            "no {Live:, Old:, RSS:, PSS:} block at the end of the line"
        );
        assert_eq!(
            rejected(&with(
                "MIQ(MiqEmsMetricsProcessorWorker::Runner#do_work) ",
                ""
            )),
            "no MIQ(...) class"
        );
        assert_eq!(rejected(&with("#63119", "#x")), "malformed pid in header");
        assert_eq!(
            rejected(&with("#63119:", "63119:")),
            "malformed line header"
        );
        assert_eq!(
            rejected(&WORKER_STATUS.replace("Memory Usage [310091776]", "Memory Usage [12x4]")),
            "non-numeric value"
        );
        assert_eq!(
            rejected(&WORKER_STATUS.replace("PID [2922]", "PID [-1]")),
            "negative value"
        );
        assert_eq!(rejected("[----] W, [2017-03-01T13:22:05.004211 #2949:b81140]  WARN -- : MIQ(MiqServer#validate_worker) Worker [X] with ID: [1], PID: [5], GUID: [g] process memory usage [6] exceeded limit [lots], requesting worker to exit"), "non-numeric value");
    }

    #[test]
    fn other_lines_are_ignored() {
        for line in [
            "Memory Info XXXX (nil) => {Live: 1, Old: 1, RSS: 1, PSS: 1}",
            "  /usr/lib/ruby/foo.rb:12:in `Process Info: x'",
            "[----] I, [2017-08-11T19:06:20.698103 #2949:b81140]  INFO -- : Q-task_id([log_status]) MIQ(MiqServer#log_status) [EVM Server (2949)] Worker Count: 12",
            "[----] I, [2017-08-11T19:06:20.698103 #2949:b81140]  INFO -- : MIQ(MiqQueue.put) Message id: [1]",
            "",
        ] {
            assert_eq!(parse_line(line.as_bytes(), 1), Parsed::Ignored, "{line}");
        }
    }

    const HEADER: &str = "[----] I, [2017-03-01T13:22:05.004211 #2949:b81140]  INFO -- : ";

    fn line(message: &str) -> String {
        format!("{HEADER}{message}")
    }

    #[test]
    fn quoted_text_is_never_an_event_or_a_sample() {
        for message in [
            r#"MIQ(MiqQueue.put) Message id: [1000000012345], id: [], Zone: [default], Role: [], Server: [], MiqTask id: [], Ident: [generic], Target id: [], Instance id: [], Task id: [], Command: [MiqEvent.raise_evm_event], Timeout: [600], Priority: [100], State: [ready], Deliver On: [], Data: [], Args: [["MiqServer", 1], "evm_worker_memory_exceeded", {:event_details=>"Worker [MiqGenericWorker] with ID: [1000000000123], PID: [54823], GUID: [g] process memory usage [629846016] exceeded limit [629145600], requesting worker to exit", :type=>"MiqGenericWorker"}]"#,
            r#"MIQ(MiqQueue.put) Message id: [1000000012346], Command: [MiqEvent.raise_evm_event], Args: [["MiqServer", 1], "evm_worker_start", {:event_details=>"Worker started: ID [1000000000124], PID [55012], GUID [g]", :type=>"MiqGenericWorker"}]"#,
            r#"MIQ(MiqQueue.get_message_via_drb) Message id: [1000000012345], MiqWorker id: [1], Args: [{:event_details=>"Worker [MiqGenericWorker] with ID: [1], PID: [2], GUID: [g] process memory usage [3] exceeded limit [2], requesting worker to exit"}]"#,
            "Q-task_id([r1_miq_queue_1]) <AEMethod raise_evm_event> Worker [MiqGenericWorker] with ID: [1], PID: [2], GUID: [g] process memory usage [3] exceeded limit [2]",
            "MIQ(MiqServer#validate_worker) Worker [MiqGenericWorker] with ID: [1000000000123], PID: [54823], GUID: [g] uptime has reached the interval [86400] seconds, requesting worker to exit",
            "MIQ(MiqQueue.put) Message id: [1], Args: [\"Memory Info XXXX (nil) => {Live: 1, Old: 2, RSS: 3, PSS: 4}\"]",
            "MIQ(MiqQueue.put) Message id: [1], Args: [\"MiqGenericWorker::Runner started. ID [1], PID [2], GUID [g]\"]",
            "Starting MiqGenericWorker with runner options {:guid=>\"g\"}",
            "** Booting MiqGenericWorker with PID: 2469 and options: {:guid=>\"g\"}",
            "MIQ(MiqServer#stop_worker) Killing worker: ID [1], PID [2], GUID [g], status [started]",
            "MIQ(MiqServer#validate_worker) Worker [MiqGenericWorker] with ID: [1], PID: [2], GUID: [g] has not responded in 600 seconds, restarting worker",
            "MIQ(MiqGenericWorker#start) Worker started: ID [1000000000125], PID [], GUID [g]",
            "Q-task_id([log_status]) MIQ(MiqGenericWorker#log_status) [Generic Worker] Worker ID [1], PID [], GUID [g], Last Heartbeat [], Process Info: Memory Usage [], Memory Size [], Proportional Set Size: [], Unique Set Size: [], Memory % [], CPU Time [], CPU % [], Priority []",
            "Q-task_id([log_status]) MIQ(MiqGenericWorker#log_status) [Generic Worker] Worker ID [1], PID [7], GUID [g], Last Heartbeat [2017-03-01 13:22:00 UTC], Process Info: Memory Usage [], Memory Size [], Proportional Set Size: [], Memory % [], CPU Time [], CPU % [], Priority []",
            "MIQ(MiqServer::WorkerManagement::Process#exceeded_memory_threshold?) Worker [MiqGenericWorker] with ID: [1], PID: [], GUID: [g] process memory usage [3] exceeded limit [2], requesting worker to exit",
        ] {
            assert_eq!(parse_line(line(message).as_bytes(), 7), Parsed::Ignored, "{message}");
        }
    }

    #[test]
    fn every_exceeded_prefix_of_every_release() {
        let text = "Worker [MiqGenericWorker::Runner] with ID: [1], PID: [54823], GUID: [g] process memory usage [629846016] exceeded limit [629145600], requesting worker to exit";
        for prefix in [
            "MIQ(MiqServer.validate_worker)",
            "MIQ(MiqServer#validate_worker)",
            "MIQ(MiqServer#exceeded_memory_threshold?)",
            "MIQ(MiqServer::WorkerManagement::Process#exceeded_memory_threshold?)",
        ] {
            let e = event(&line(&format!("{prefix} {text}")));
            assert_eq!(
                (e.pid, e.kind, e.worker.as_deref()),
                (54823, EventKind::MemoryExceeded, Some("MiqGenericWorker")),
                "{prefix}"
            );
            assert_eq!(e.detail, "usage=629846016 limit=629145600");
        }
    }

    #[test]
    fn the_server_stopping_itself_is_its_own_event() {
        let e = event(&line("MIQ(MiqServer#monitor_myself) server(pid: 2949, name: EVM) memory usage [2151677952] exceeded limit: [2147483648].  Exiting server process."));
        assert_eq!((e.pid, e.kind), (2949, EventKind::ServerMemoryExceeded));
        assert_eq!(e.worker.as_deref(), Some("MiqServer"));
        assert_eq!(
            (e.usage_bytes, e.limit_bytes),
            (Some(2151677952), Some(2147483648))
        );
        assert_eq!(e.detail, "usage=2151677952 limit=2147483648");
    }

    #[test]
    fn the_worker_says_its_own_start() {
        let e = event("[----] I, [2021-12-15T10:00:01.000001 #4242:1a4]  INFO -- evm: MiqGenericWorker::Runner started. ID [1000000000125], PID [4242], GUID [abc-def], Zone [default], Role [automate]");
        assert_eq!((e.pid, e.kind), (4242, EventKind::WorkerStarted));
        assert_eq!(e.worker.as_deref(), Some("MiqGenericWorker"));
        assert_eq!(e.detail, "id=1000000000125 guid=abc-def");
        // Without its pid, the line's own (the worker wrote it).
        let e = event("[----] I, [2021-12-15T10:00:01.000001 #4243:1a4]  INFO -- evm: ManageIQ::Providers::Vmware::InfraManager::RefreshWorker::Runner started. ID [1], PID [], GUID [g], Zone [default], Role []");
        assert_eq!(e.pid, 4243);
        assert_eq!(
            e.worker.as_deref(),
            Some("ManageIQ::Providers::Vmware::InfraManager::RefreshWorker")
        );
    }

    #[test]
    fn the_server_status_is_the_server_pid_s() {
        // Before Lasker a queue worker (pid 3105) wrote the server's status.
        let s = sample("[----] I, [2017-08-11T19:06:20.698103 #3105:b81140]  INFO -- : Q-task_id([log_status]) MIQ(MiqServer.log_status) [EVM Server (2949)] Process info: Memory Usage [410091776], Memory Size [952206080], Proportional Set Size: [303949000], Memory % [4.01], CPU Time [1735.0], CPU % [0.19], Priority [27]");
        assert_eq!(
            (s.pid, s.worker.as_str(), s.kind),
            (2949, "MiqServer", SampleKind::Status)
        );
        assert_eq!(
            (s.rss_bytes, s.pss_bytes, s.uss_bytes),
            (Some(410091776), Some(303949000), None)
        );
        // The oldest worker form names the worker class after the prefix.
        let s = sample("[----] I, [2014-01-07T12:51:21.235250 #4738:1]  INFO -- : MIQ(MiqWorker.log_status) MiqPriorityWorker: [Priority Worker] Worker ID [1], PID [4869], GUID [g], Last Heartbeat [2014-01-07 12:50:24 UTC], Process Info: Memory Usage [72744960], Memory Size [89018368], Memory % [1.8], CPU Time [9], CPU % [2.6], Priority [30]");
        assert_eq!((s.pid, s.worker.as_str()), (4869, "MiqPriorityWorker"));
    }

    #[test]
    fn extra_pairs_truncated_lines_and_the_enrichment_s_utc() {
        let s = sample(&PATCH.replace(
            "PSS: 140439283}",
            "PSS: 140439283, USS: 120000000, Swap: 0, Frob: 9}",
        ));
        assert_eq!(
            (s.pss_bytes, s.uss_bytes),
            (Some(140439283), Some(120000000))
        );
        // Cut by the 8 KB limit before its block: not malformed.
        let mut cut = PATCH[..PATCH.find("args: [").unwrap()].to_string();
        cut.push_str(&"x".repeat(8200));
        cut.push_str("...");
        assert_eq!(parse_line(cut.as_bytes(), 1), Parsed::Truncated);
        // A short line without its block is malformed.
        assert_eq!(
            parse_line(
                PATCH
                    .replace(
                        " => {Live: 437956, Old: 363503, RSS: 195054560, PSS: 140439283}",
                        "..."
                    )
                    .as_bytes(),
                1
            ),
            Parsed::Rejected("no {Live:, Old:, RSS:, PSS:} block at the end of the line")
        );
        // The enrichment's own file (progname miq_memlog) is written in UTC.
        let s = sample(&PATCH.replace("INFO -- : ", "INFO -- miq_memlog: "));
        assert_eq!(s.time, LogTime::Utc(sample(PATCH).time.us()));
        assert!(matches!(sample(PATCH).time, LogTime::Local(_)));
    }

    #[test]
    fn queue_fields_past_deep_nesting_escapes_and_cut_strings() {
        let q = |inner: &str| queue_message(format!("(#<MiqQueue {inner}>)").as_bytes());
        // 40 levels of brackets: deeper than the stack kept in place.
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        let got = q(&format!(
            r#"id: 7, args: {deep}, method_name: "a\\b\"c", class_name: "X, y", instance_id: 1"#
        ));
        assert_eq!(
            got,
            QueueMessage {
                id: Some(7),
                class_name: Some("X, y".into()),
                method_name: Some(r#"a\b"c"#.into()),
            }
        );
        // A comma or `>` inside a string or a nested object splits nothing.
        let got =
            q(r#"id: 8, args: ["x>y", #<Foo a: 1, b: 2>], class_name: "C", method_name: "m""#);
        assert_eq!((got.id, got.class_name.as_deref()), (Some(8), Some("C")));
        assert_eq!(got.method_name.as_deref(), Some("m"));
        // A string left open (the line was cut) or ending in a backslash ends
        // the walk with what came before it.
        let got = queue_message(br#"#<MiqQueue id: 9, method_name: "cut"#);
        assert_eq!((got.id, got.method_name), (Some(9), None));
        let got = queue_message(b"#<MiqQueue id: 10, method_name: \"cut\\");
        assert_eq!((got.id, got.method_name), (Some(10), None));
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count(b" 42 "), Ok(42));
        assert_eq!(parse_count(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            parse_count(b"9223372036854775808"),
            Err("value out of range")
        );
        assert_eq!(parse_count(b"4.5"), Err("non-numeric value"));
        assert_eq!(parse_count(b"+4"), Err("non-numeric value"));
    }
}
