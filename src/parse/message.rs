//! The one message parser: the text of a log line after its reader's framing
//! (the classic `[----]` header, a journald or container JSON envelope) to a
//! record. Every shape is parsed by hand from the literal markers of the
//! formats reference; values are validated, never guessed.

use memchr::{memchr, memmem, memrchr};

use super::time::parse_datetime;
use super::{worker_type, Event, EventKind, LogTime, Parsed, Sample, SampleKind};

const MEMORY_INFO: &[u8] = b"Memory Info XXXX";
const PROCESS_INFO_WORKER: &[u8] = b"Process Info:";
const PROCESS_INFO_SERVER: &[u8] = b"Process info:";
const EXCEEDED: &[u8] = b"exceeded limit [";
const STARTED: &[u8] = b"Worker started:";

/// The literals that make a line a candidate; the scanner's prefilter searches
/// for these and nothing else.
pub const TRIGGERS: [&[u8]; 5] = [
    MEMORY_INFO,
    PROCESS_INFO_WORKER,
    PROCESS_INFO_SERVER,
    EXCEEDED,
    STARTED,
];

/// Short pieces of the triggers whose first bytes are rare in logs: every trigger
/// holds one, so a line without any of them holds no trigger. The scanner's SIMD
/// search fingerprints the first bytes of each piece; `Memory`, `Process` or
/// `Worker` would match half the noise (`ManageIQ::Providers`, `MiqWorker`).
pub const PREFILTER: [&[u8]; 4] = [b"XXXX", b"fo:", b"limit [", b"rted:"];

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
    TRIGGERS.iter().any(|t| memmem::find(bytes, t).is_some())
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

/// The class in `MIQ(Class#method)` or `MIQ(Class.method)`.
fn miq_class(message: &[u8]) -> Option<&[u8]> {
    let at = memmem::find(message, b"MIQ(")? + 4;
    let len = message[at..]
        .iter()
        .position(|&c| matches!(c, b'#' | b'.' | b')' | b' '))?;
    (len > 0).then(|| &message[at..at + len])
}

/// The text between `key` (which ends with `[`) and the next `]`.
fn bracketed<'a>(hay: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let at = memmem::find(hay, key)? + key.len();
    let len = memchr(b']', &hay[at..])?;
    Some(&hay[at..at + len])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses the message of one line. `Ignored` when it is not a stored shape.
pub fn parse(meta: &LineMeta, message: &[u8]) -> Parsed {
    let finder = |needle: &[u8]| memmem::find(message, needle);
    let parsed = if finder(MEMORY_INFO).is_some() {
        patch_sample(meta, message).map(Parsed::Sample)
    } else if finder(PROCESS_INFO_WORKER).is_some() || finder(PROCESS_INFO_SERVER).is_some() {
        status_sample(meta, message).map(Parsed::Sample)
    } else if finder(EXCEEDED).is_some() {
        exceeded_event(meta, message).map(Parsed::Event)
    } else if finder(STARTED).is_some() {
        started_event(meta, message).map(Parsed::Event)
    } else {
        return Parsed::Ignored;
    };
    parsed.unwrap_or_else(Parsed::Rejected)
}

/// `MIQ(X::Runner#do_work) Memory Info XXXX (<msg.inspect>) => {Live: 1, Old: 2, RSS: 3, PSS: 4}`
fn patch_sample(meta: &LineMeta, message: &[u8]) -> Result<Sample, &'static str> {
    let class = miq_class(message).ok_or("no MIQ(...) class")?;
    let at = memmem::find(message, MEMORY_INFO).ok_or("no Memory Info")? + MEMORY_INFO.len();
    let tail = message[at..].trim_ascii_end();
    let block_start = match tail.last() {
        Some(b'}') => memrchr(b'{', tail).ok_or("no {Live:, Old:, RSS:, PSS:} block")?,
        _ => return Err("no {Live:, Old:, RSS:, PSS:} block at the end of the line"),
    };
    let worker = worker_type(&text(class)).to_string();
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
            _ => continue,
        };
        *slot = Some(parse_count(&pair[colon + 1..])?);
        known += 1;
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
    Ok(sample)
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
    let Some(start) = memmem::find(inspect, b"#<MiqQueue ") else {
        return found;
    };
    let body = &inspect[start + b"#<MiqQueue ".len()..];
    let mut closers: Vec<u8> = Vec::new();
    let mut in_string = false;
    let mut field_start = 0;
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let mut end_of_field = false;
        let mut end_of_object = false;
        match c {
            b'"' => in_string = true,
            b'=' if body.get(i + 1) == Some(&b'>') => i += 1,
            b'(' => closers.push(b')'),
            b'[' => closers.push(b']'),
            b'{' => closers.push(b'}'),
            b'#' if body.get(i + 1) == Some(&b'<') => {
                closers.push(b'>');
                i += 1;
            }
            b')' | b']' | b'}' | b'>' if closers.last() == Some(&c) => {
                closers.pop();
            }
            b',' if closers.is_empty() => end_of_field = true,
            b'>' if closers.is_empty() => end_of_object = true,
            _ => {}
        }
        if end_of_field || end_of_object {
            queue_field(&body[field_start..i], &mut found);
            field_start = i + 1;
            if end_of_object {
                return found;
            }
        }
        i += 1;
    }
    found
}

fn queue_field(field: &[u8], found: &mut QueueMessage) {
    let field = field.trim_ascii();
    let Some(colon) = memmem::find(field, b": ") else {
        return;
    };
    let value = field[colon + 2..].trim_ascii();
    let quoted = || {
        let inner = value.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
        Some(text(inner).replace("\\\"", "\"").replace("\\\\", "\\"))
    };
    match &field[..colon] {
        b"id" => found.id = parse_count(value).ok(),
        b"class_name" => found.class_name = quoted(),
        b"method_name" => found.method_name = quoted(),
        _ => {}
    }
}

/// Worker: `MIQ(Class#log_status) [Name] Worker ID [..], PID [n], ..., Last Heartbeat
/// [.. UTC], Process Info: Memory Usage [..], Memory Size [..], Proportional Set Size:
/// [..], Unique Set Size: [..], ...`. Server: `Process info:` and the header PID.
fn status_sample(meta: &LineMeta, message: &[u8]) -> Result<Sample, &'static str> {
    let class = miq_class(message).ok_or("no MIQ(...) class")?;
    let info_at = memmem::find(message, PROCESS_INFO_WORKER)
        .or_else(|| memmem::find(message, PROCESS_INFO_SERVER))
        .ok_or("no Process Info")?;
    let (before, info) = message.split_at(info_at);
    let pid = match bracketed(before, b"PID [") {
        Some(v) => parse_count(v)?,
        None => meta.pid,
    };
    let optional = |key: &[u8]| bracketed(info, key).map(parse_count).transpose();
    let rss = optional(b"Memory Usage [")?.ok_or("no Memory Usage")?;
    let heartbeat_utc_us = bracketed(before, b"Last Heartbeat [").and_then(|v| {
        let (us, used) = parse_datetime(v)?;
        (&v[used..] == b" UTC").then_some(us)
    });
    Ok(Sample {
        line_no: meta.line_no,
        time: meta.time,
        pid,
        worker: worker_type(&text(class)).to_string(),
        kind: SampleKind::Status,
        rss_bytes: Some(rss),
        vsz_bytes: optional(b"Memory Size [")?,
        pss_bytes: optional(b"Proportional Set Size: [")?,
        uss_bytes: optional(b"Unique Set Size: [")?,
        heartbeat_utc_us,
        ..Sample::default()
    })
}

/// `Worker [X] with ID: [..], PID: [n], GUID: [..] process memory usage [u] exceeded limit [l], ...`
fn exceeded_event(meta: &LineMeta, message: &[u8]) -> Result<Event, &'static str> {
    let worker = bracketed(message, b"Worker [").ok_or("no Worker [...]")?;
    let pid = parse_count(bracketed(message, b"PID: [").ok_or("no PID: [...]")?)?;
    let usage = parse_count(bracketed(message, b"memory usage [").ok_or("no memory usage [...]")?)?;
    let limit = parse_count(bracketed(message, EXCEEDED).ok_or("no exceeded limit [...]")?)?;
    Ok(Event {
        line_no: meta.line_no,
        time: meta.time,
        pid,
        worker: Some(worker_type(&text(worker)).to_string()),
        kind: EventKind::MemoryExceeded,
        usage_bytes: Some(usage),
        limit_bytes: Some(limit),
        size_bytes: None,
        detail: format!("usage={usage} limit={limit}"),
    })
}

/// `MIQ(Class.start_worker) Worker started: ID [n], PID [n], GUID [g]`
fn started_event(meta: &LineMeta, message: &[u8]) -> Result<Event, &'static str> {
    let at = memmem::find(message, STARTED).ok_or("no Worker started")?;
    let fields = &message[at..];
    let id = parse_count(bracketed(fields, b"ID [").ok_or("no ID [...]")?)?;
    let pid = parse_count(bracketed(fields, b"PID [").ok_or("no PID [...]")?)?;
    let guid = bracketed(fields, b"GUID [").map(text).unwrap_or_default();
    let worker = miq_class(message)
        .map(|c| worker_type(&text(c)).to_string())
        .filter(|w| w != "MiqServer");
    Ok(Event {
        line_no: meta.line_no,
        time: meta.time,
        pid,
        worker,
        kind: EventKind::WorkerStarted,
        usage_bytes: None,
        limit_bytes: None,
        size_bytes: None,
        detail: format!("id={id} guid={guid}"),
    })
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
                PREFILTER.iter().any(|p| memmem::find(trigger, p).is_some()),
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
