//! Property tests of the parse layer. The line parser, over generated, mutated
//! and arbitrary lines: it never panics, and whatever it returns is what the
//! line says. The scanner, over lines far longer than its buffer: bounded
//! memory, every byte read once. Deterministic (a fixed seed per test), so a
//! failure reproduces exactly.

use std::io::{self, Read};

use super::classic::{parse_header, parse_line};
use super::reader::{Reader, ReaderState};
use super::scan::{Candidate, Scanner, MAX_CANDIDATE_LINE};
use super::time::{civil_to_us, format_utc_us};
use super::{Event, EventKind, LogTime, Parsed, Sample, SampleKind};
use crate::synth::rng::Rng;

/// A non-negative i64 of any magnitude, edges included.
fn count(rng: &mut Rng) -> i64 {
    match rng.below(6) {
        0 => 0,
        1 => i64::MAX,
        2 => rng.below(10) as i64,
        3 => (rng.next_u64() >> 1) as i64,
        _ => (rng.next_u64() >> (1 + rng.below(62))) as i64,
    }
}

/// True in `percent` cases out of a hundred.
fn percent(rng: &mut Rng, percent: u64) -> bool {
    rng.below(100) < percent
}

const WORKERS: [&str; 5] = [
    "MiqGenericWorker",
    "MiqEmsMetricsProcessorWorker",
    "ManageIQ::Providers::Vmware::InfraManager::MetricsCollectorWorker",
    "MiqPriorityWorker",
    "MiqEventHandler",
];

/// A valid local time and how a log writes it (`2017-03-01T00:00:06.137911`).
fn timestamp(rng: &mut Rng) -> (i64, String) {
    let y = 1970 + rng.below(8030) as i64;
    let mo = 1 + rng.below(12) as u32;
    let d = 1 + rng.below(31) as u32;
    let (h, mi, s, us) = (
        rng.below(24) as u32,
        rng.below(60) as u32,
        rng.below(60) as u32,
        rng.below(1_000_000) as u32,
    );
    match civil_to_us(y, mo, d, h, mi, s, us) {
        Some(t) => (
            t,
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}"),
        ),
        None => timestamp(rng),
    }
}

fn header(rng: &mut Rng, stamp: &str, pid: i64) -> String {
    let space = if percent(rng, 50) { " " } else { "" };
    let progname = if percent(rng, 30) { "evm" } else { "" };
    let task = if percent(rng, 30) {
        "Q-task_id([r17_miq_queue_3]) "
    } else {
        ""
    };
    format!("[----] I, [{stamp}{space}#{pid}:2b1c]  INFO -- {progname}: {task}")
}

fn some_count(rng: &mut Rng) -> Option<i64> {
    percent(rng, 80).then(|| count(rng))
}

/// A patched `Memory Info` line made from random values, and the sample it holds.
fn patch_line(rng: &mut Rng) -> (String, Sample) {
    let (local_us, stamp) = timestamp(rng);
    let pid = count(rng);
    let worker = rng.pick(&WORKERS).to_string();
    let mut sample = Sample {
        line_no: 1,
        time: LogTime::Local(local_us),
        pid,
        worker: worker.clone(),
        kind: SampleKind::Patch,
        live_slots: some_count(rng),
        old_objects: some_count(rng),
        rss_bytes: some_count(rng),
        pss_bytes: some_count(rng),
        ..Sample::default()
    };
    if sample.rss_bytes.is_none() {
        sample.rss_bytes = Some(count(rng));
    }
    let mut fields: Vec<String> = [
        ("Live", sample.live_slots),
        ("Old", sample.old_objects),
        ("RSS", sample.rss_bytes),
        ("PSS", sample.pss_bytes),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k}: {v}")))
    .collect();
    for i in (1..fields.len()).rev() {
        fields.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let message = if percent(rng, 25) {
        "nil".to_string()
    } else {
        let id = count(rng);
        let method = *rng.pick(&["perf_process", "refresh (full) => {x}", "a\\\"b, c: d"]);
        let class = *rng.pick(&["Storage", "ManageIQ::Providers::Vmware::InfraManager"]);
        sample.msg_id = Some(id);
        sample.msg_method = Some(method.replace("\\\"", "\""));
        sample.msg_class = Some(class.to_string());
        let mut parts = [
            format!("id: {id}"),
            format!("method_name: \"{method}\""),
            format!("class_name: \"{class}\""),
            "args: [[{\"id\"=>5, \"n\"=>\"(x)\"}], #<Foo a: 1>]".to_string(),
            "target_id: nil".to_string(),
        ];
        for i in (1..parts.len()).rev() {
            parts.swap(i, rng.below(i as u64 + 1) as usize);
        }
        format!("#<MiqQueue {}>", parts.join(", "))
    };
    let runner = if percent(rng, 80) { "::Runner" } else { "" };
    let line = format!(
        "{}MIQ({worker}{runner}#do_work) Memory Info XXXX ({message}) => {{{}}}",
        header(rng, &stamp, pid),
        fields.join(", ")
    );
    (line, sample)
}

/// A stock worker `log_status` line made from random values, and its sample.
fn status_line(rng: &mut Rng) -> (String, Sample) {
    let (local_us, stamp) = timestamp(rng);
    let (beat_us, beat) = timestamp(rng);
    let pid = count(rng);
    let worker = rng.pick(&WORKERS).to_string();
    let sample = Sample {
        line_no: 1,
        time: LogTime::Local(local_us),
        pid,
        worker: worker.clone(),
        kind: SampleKind::Status,
        rss_bytes: Some(count(rng)),
        vsz_bytes: some_count(rng),
        pss_bytes: some_count(rng),
        uss_bytes: some_count(rng),
        heartbeat_utc_us: Some(beat_us / 1_000_000 * 1_000_000),
        ..Sample::default()
    };
    let optional =
        |key: &str, v: Option<i64>| v.map_or(String::new(), |v| format!("{key} [{v}], "));
    let server_pid = count(rng);
    let line = format!(
        "{}MIQ({worker}#log_status) [Some Worker] Worker ID [1], PID [{pid}], GUID [g], \
         Last Heartbeat [{} UTC], Process Info: Memory Usage [{}], {}{}{}Memory % [3.01], CPU % [0.09]",
        header(rng, &stamp, server_pid),
        beat[..19].replace('T', " "),
        sample.rss_bytes.unwrap(),
        optional("Memory Size", sample.vsz_bytes),
        optional("Proportional Set Size:", sample.pss_bytes),
        optional("Unique Set Size:", sample.uss_bytes),
    );
    (line, sample)
}

/// A memory-exceeded line made from random values, and its event.
fn exceeded_line(rng: &mut Rng) -> (String, Event) {
    let (ts_us, stamp) = timestamp(rng);
    let (pid, usage, limit) = (count(rng), count(rng), count(rng));
    let worker = rng.pick(&WORKERS).to_string();
    let server_pid = count(rng);
    let line = format!(
        "{}MIQ(MiqServer#validate_worker) Worker [{worker}] with ID: [1], PID: [{pid}], GUID: [g] \
         process memory usage [{usage}] exceeded limit [{limit}], requesting worker to exit",
        header(rng, &stamp, server_pid)
    );
    let event = Event {
        line_no: 1,
        time: LogTime::Local(ts_us),
        host: None,
        pid,
        worker: Some(worker),
        kind: EventKind::MemoryExceeded,
        usage_bytes: Some(usage),
        limit_bytes: Some(limit),
        size_bytes: None,
        detail: format!("usage={usage} limit={limit}"),
    };
    (line, event)
}

#[test]
fn generated_lines_round_trip_exactly() {
    let mut rng = Rng::new(0x1234_5678_9abc_def1);
    for _ in 0..20_000 {
        let (line, expected) = patch_line(&mut rng);
        assert_eq!(
            parse_line(line.as_bytes(), 1),
            Parsed::Sample(expected),
            "{line}"
        );
        let (line, expected) = status_line(&mut rng);
        assert_eq!(
            parse_line(line.as_bytes(), 1),
            Parsed::Sample(expected),
            "{line}"
        );
        let (line, expected) = exceeded_line(&mut rng);
        assert_eq!(
            parse_line(line.as_bytes(), 1),
            Parsed::Event(expected),
            "{line}"
        );
    }
}

/// Whatever the parser returns must be written in the line: every number in
/// decimal, the time as a date and a clock time, the worker's name.
fn assert_found_in(line: &[u8], parsed: &Parsed) {
    assert_written_in(line, parsed, Written::Iso);
}

/// How a line writes its time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Written {
    /// As the ISO date and clock time returned.
    Iso,
    /// As the µs returned (journald's realtime stamp).
    Micros,
    /// With an offset the time returned was moved by: not checked here.
    Offset,
}

/// As [`assert_found_in`], for a line that writes its time as `time_form`.
fn assert_written_in(line: &[u8], parsed: &Parsed, time_form: Written) {
    let text = String::from_utf8_lossy(line);
    let holds = |what: &str, value: String| {
        assert!(text.contains(&value), "{what} {value} is not in {text:?}");
    };
    let time = |us: i64| match time_form {
        Written::Iso => {
            let iso = format_utc_us(us);
            holds("date", iso[..10].to_string());
            holds("time", iso[11..19].to_string());
        }
        Written::Micros => holds("time", us.to_string()),
        Written::Offset => {}
    };
    match parsed {
        Parsed::Sample(s) => {
            time(s.time.us());
            holds("pid", s.pid.to_string());
            holds("worker", s.worker.clone());
            for v in [
                s.rss_bytes,
                s.pss_bytes,
                s.uss_bytes,
                s.vsz_bytes,
                s.live_slots,
                s.old_objects,
                s.msg_id,
            ]
            .into_iter()
            .flatten()
            {
                assert!(v >= 0, "negative value stored from {text:?}");
                holds("value", v.to_string());
            }
            if s.kind == SampleKind::Patch {
                assert!(s
                    .live_slots
                    .or(s.old_objects)
                    .or(s.rss_bytes)
                    .or(s.pss_bytes)
                    .is_some());
            } else {
                assert!(
                    s.rss_bytes.is_some(),
                    "a status sample without RSS: {text:?}"
                );
            }
        }
        Parsed::Event(e) => {
            time(e.time.us());
            holds("pid", e.pid.to_string());
            for v in [e.usage_bytes, e.limit_bytes].into_iter().flatten() {
                holds("value", v.to_string());
            }
        }
        Parsed::Rejected(reason) => assert!(!reason.is_empty()),
        Parsed::Truncated => assert!(line.len() >= 8 * 1024, "cut before 8 KB: {text:?}"),
        Parsed::Enrichment(n) => {
            time(n.time.us());
            holds("pid", n.pid.to_string());
        }
        Parsed::Ignored => {}
    }
}

/// Every candidate line of the shipped fixtures, decompressed.
fn fixture_lines() -> Vec<Vec<u8>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut lines = Vec::new();
    for name in [
        "appliance-a/evm.log-20170302.gz",
        "appliance-b/evm.log-20170812.gz",
        "trip1/appliance-a/evm.log",
        "edge/malformed.log",
        "edge/invalid-utf8.log",
    ] {
        let raw = std::fs::read(format!("{root}/{name}")).unwrap();
        let mut bytes = Vec::new();
        if name.ends_with(".gz") {
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut bytes)
                .unwrap();
        } else {
            bytes = raw;
        }
        lines.extend(
            bytes
                .split(|&c| c == b'\n')
                .filter(|l| !matches!(parse_line(l, 1), Parsed::Ignored))
                .map(<[u8]>::to_vec),
        );
    }
    lines
}

/// One random edit of the kind that breaks parsers: a changed, dropped,
/// inserted or repeated byte or span, or a cut.
fn mutate(rng: &mut Rng, line: &mut Vec<u8>) {
    const INTERESTING: &[u8] = b"0123456789-+.,:; []{}()#<>=\"\\\x00\xff\xc3\n\rTZ";
    if line.is_empty() {
        line.push(*rng.pick(INTERESTING));
        return;
    }
    let at = rng.below(line.len() as u64) as usize;
    match rng.below(7) {
        0 => line[at] = *rng.pick(INTERESTING),
        1 => line[at] = rng.next_u64() as u8,
        2 => {
            line.remove(at);
        }
        3 => line.insert(at, *rng.pick(INTERESTING)),
        4 => {
            let end = (at + 1 + rng.below(12) as usize).min(line.len());
            let span = line[at..end].to_vec();
            line.splice(at..at, span);
        }
        5 => line.truncate(at),
        _ => {
            let digits = "9".repeat(1 + rng.below(25) as usize);
            line.splice(at..at, digits.bytes());
        }
    }
}

#[test]
fn mutated_real_lines_never_panic_and_return_only_what_they_say() {
    let lines = fixture_lines();
    assert!(lines.len() > 500, "{} candidate lines", lines.len());
    let mut rng = Rng::new(0x0dd_ba11_cafe_f00d);
    let mut outcomes = [0usize; 4];
    for round in 0..60_000 {
        let mut line = lines[round % lines.len()].clone();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut line);
        }
        let parsed = parse_line(&line, 1);
        assert_found_in(&line, &parsed);
        outcomes[match parsed {
            Parsed::Sample(_) => 0,
            Parsed::Event(_) | Parsed::Enrichment(_) => 1,
            Parsed::Rejected(_) => 2,
            Parsed::Ignored | Parsed::Truncated => 3,
        }] += 1;
    }
    // The mutations reach every outcome, so the checks above were exercised.
    assert!(outcomes.iter().all(|&n| n > 20), "{outcomes:?}");
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng::new(0xfeed_face_dead_beef);
    let triggers: [&[u8]; 6] = [
        b"Memory Info XXXX",
        b"Process Info:",
        b"Process info:",
        b"exceeded limit [",
        b"Worker started:",
        b"=> {",
    ];
    for _ in 0..60_000 {
        let mut line = Vec::new();
        if percent(&mut rng, 70) {
            line.extend_from_slice(b"[----] I, [");
        }
        for _ in 0..rng.below(12) {
            match rng.below(4) {
                0 => {
                    let trigger: &&[u8] = rng.pick(&triggers);
                    line.extend_from_slice(trigger)
                }
                1 => line.extend_from_slice(b"2017-03-01T00:00:06.1 #12:ab]  INFO -- : MIQ(A#b) "),
                _ => line.extend((0..rng.below(20)).map(|_| rng.next_u64() as u8)),
            }
        }
        let parsed = parse_line(&line, 1);
        assert_found_in(&line, &parsed);
    }
}

/// `head`, then `filler` bytes of `x`, then `tail`, produced as read: a 64 MiB
/// line costs no memory here. Records the largest read the scanner asks for,
/// which is the size of its buffer.
struct LongLine {
    head: Vec<u8>,
    filler: u64,
    tail: Vec<u8>,
    at: u64,
    largest_read: usize,
}

impl LongLine {
    fn len(&self) -> u64 {
        self.head.len() as u64 + self.filler + self.tail.len() as u64
    }
}

impl Read for LongLine {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.largest_read = self.largest_read.max(out.len());
        let (head, filler) = (self.head.len() as u64, self.filler);
        let mut n = 0;
        while n < out.len() && self.at < self.len() {
            let at = self.at;
            let chunk = if at < head {
                let part = &self.head[at as usize..];
                let k = part.len().min(out.len() - n);
                out[n..n + k].copy_from_slice(&part[..k]);
                k
            } else if at < head + filler {
                let k = ((head + filler - at) as usize).min(out.len() - n);
                out[n..n + k].fill(b'x');
                k
            } else {
                let part = &self.tail[(at - head - filler) as usize..];
                let k = part.len().min(out.len() - n);
                out[n..n + k].copy_from_slice(&part[..k]);
                k
            };
            n += chunk;
            self.at += chunk as u64;
        }
        Ok(n)
    }
}

#[test]
fn a_64_mib_line_is_scanned_in_bounded_memory_reading_each_byte_once() {
    const SAMPLE: &str = "[----] I, [2017-03-01T00:00:06.137911 #7:2]  INFO -- : MIQ(MiqGenericWorker::Runner#do_work) Memory Info XXXX (nil) => {Live: 1, Old: 2, RSS: 3, PSS: 4}";
    for (head, too_long) in [
        ("[----] I, [2017-03-01T00:00:06.137911 #7:2]  INFO -- : MIQ(Vm#refresh) inventory ", false),
        ("[----] I, [2017-03-01T00:00:06.137911 #7:2]  INFO -- : MIQ(X::Runner#do_work) Memory Info XXXX (", true),
    ] {
        let mut input = LongLine {
            head: head.as_bytes().to_vec(),
            filler: 64 << 20,
            tail: format!("\n{SAMPLE}\n").into_bytes(),
            at: 0,
            largest_read: 0,
        };
        let total = input.len();
        let mut found = Vec::new();
        let stats = Scanner::default()
            .scan(std::io::BufReader::new(&mut input), |c| match c {
                Candidate::Line { line_no, bytes } => found.push((line_no, parse_line(bytes, line_no))),
                Candidate::TooLong { line_no } => found.push((line_no, Parsed::Rejected("too long"))),
            })
            .unwrap();
        assert_eq!((stats.bytes, input.at), (total, total), "every byte read once");
        assert_eq!(stats.lines, 2);
        assert!(input.largest_read <= MAX_CANDIDATE_LINE, "buffer grew to {}", input.largest_read);
        let mut expected = Vec::new();
        if too_long {
            expected.push((1, Parsed::Rejected("too long")));
        }
        expected.push((2, parse_line(SAMPLE.as_bytes(), 2)));
        assert!(matches!(expected.last(), Some((_, Parsed::Sample(_)))));
        assert_eq!(found, expected);
    }
}

/// A classic line's message in each reader's envelope, with what that reader
/// must then return: the classic record with the envelope's time and host.
fn envelopes(line: &str, parsed: &Parsed, rng: &mut Rng) -> Vec<(Reader, Vec<u8>, Parsed)> {
    let header = parse_header(line.as_bytes()).unwrap();
    let message = std::str::from_utf8(header.message).unwrap();
    let (pid, us) = (header.pid, header.local_us);
    let with = |time: LogTime| {
        let mut p = parsed.clone();
        match &mut p {
            Parsed::Sample(s) => (s.time, s.host) = (time, Some("miq-1".into())),
            Parsed::Event(e) => (e.time, e.host) = (time, Some("miq-1".into())),
            _ => {}
        }
        p
    };
    let journal_message = format!(" INFO -- evm: {message}");
    let json_message = if percent(rng, 20) {
        serde_json::to_string(&journal_message.as_bytes()).unwrap()
    } else {
        serde_json::to_string(&journal_message).unwrap()
    };
    let json = format!(
        r#"{{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"{us}","_PID":"{pid}","_HOSTNAME":"miq-1","MESSAGE":{json_message},"SYSLOG_IDENTIFIER":"evm"}}"#
    );
    let iso = format_utc_us(us);
    let text = format!("{}+0000 miq-1 evm[{pid}]:{journal_message}", &iso[..26]);
    let pod = format!(
        r#"{{"@timestamp":"{}","hostname":"miq-1","pid":{pid},"tid":"1a4","service":"evm","level":"info","message":{}}}"#,
        &iso[..26],
        serde_json::to_string(message).unwrap()
    );
    vec![
        (
            Reader::JournalJson,
            json.into_bytes(),
            with(LogTime::Utc(us)),
        ),
        (
            Reader::JournalText,
            text.into_bytes(),
            with(LogTime::Utc(us)),
        ),
        (
            Reader::Container,
            pod.into_bytes(),
            with(LogTime::Local(us)),
        ),
    ]
}

#[test]
fn every_reader_gives_the_records_of_the_message_it_frames() {
    let mut rng = Rng::new(0x0005_eed0_fe4e_10e5);
    let mut state = ReaderState::default();
    for _ in 0..5_000 {
        let generated = [
            patch_line(&mut rng).0,
            status_line(&mut rng).0,
            exceeded_line(&mut rng).0,
        ];
        for line in generated {
            let parsed = parse_line(line.as_bytes(), 1);
            assert!(
                matches!(parsed, Parsed::Sample(_) | Parsed::Event(_)),
                "{line}"
            );
            for (reader, framed, expected) in envelopes(&line, &parsed, &mut rng) {
                let got = reader.parse(&framed, 1, &mut state);
                assert_eq!(
                    got,
                    expected,
                    "{reader:?}: {}",
                    String::from_utf8_lossy(&framed)
                );
            }
        }
    }
}

/// A JSON line followed by its message string as decoded (escapes undone).
fn with_decoded_message(line: &[u8]) -> Vec<u8> {
    let mut text = line.to_vec();
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(line) {
        for key in ["MESSAGE", "message"] {
            if let Some(serde_json::Value::String(message)) = fields.get(key) {
                text.push(b'\n');
                text.extend_from_slice(message.as_bytes());
            }
        }
    }
    text
}

#[test]
fn mutated_envelopes_never_panic_and_return_only_what_they_say() {
    let mut rng = Rng::new(0x0a11_5a1d_d01e);
    let mut state = ReaderState::default();
    let mut outcomes = [0usize; 4];
    for _ in 0..20_000 {
        let line = match rng.below(3) {
            0 => patch_line(&mut rng).0,
            1 => status_line(&mut rng).0,
            _ => exceeded_line(&mut rng).0,
        };
        let parsed = parse_line(line.as_bytes(), 1);
        for (reader, mut framed, _) in envelopes(&line, &parsed, &mut rng) {
            for _ in 0..1 + rng.below(4) {
                mutate(&mut rng, &mut framed);
            }
            let got = reader.parse(&framed, 1, &mut state);
            // A byte-array message cannot be checked against the line's text;
            // a JSON string is checked as decoded, beside the line.
            if memchr::memmem::find(&framed, b"\"MESSAGE\":[").is_none() {
                let framed = with_decoded_message(&framed);
                let form = match reader {
                    Reader::JournalJson => Written::Micros,
                    Reader::JournalText => Written::Offset,
                    _ => Written::Iso,
                };
                assert_written_in(&framed, &got, form);
            }
            outcomes[match got {
                Parsed::Sample(_) => 0,
                Parsed::Event(_) | Parsed::Enrichment(_) => 1,
                Parsed::Rejected(_) => 2,
                Parsed::Ignored | Parsed::Truncated => 3,
            }] += 1;
        }
    }
    assert!(outcomes.iter().all(|&n| n > 20), "{outcomes:?}");
}

#[test]
fn arbitrary_bytes_never_panic_in_any_reader() {
    let mut rng = Rng::new(0x0bad_b17e5_u64);
    let pieces: [&[u8]; 10] = [
        b"{\"__REALTIME_TIMESTAMP\":\"",
        b"\",\"MESSAGE\":[",
        b"\",\"MESSAGE\":\" INFO -- evm: MIQ(A#b) ",
        b"{\"@timestamp\":\"2023-08-31T10:12:13",
        b"Jun 17 16:16:44.123456 miq evm[",
        b"2023-06-17T12:16:44.123456-04:00 miq evm[12]:  INFO -- evm: ",
        b"Memory Info XXXX (nil) => {Live: 1",
        b"Process Info: Memory Usage [",
        b"\\u0000\\",
        b"]: ",
    ];
    let mut state = ReaderState::default();
    for _ in 0..40_000 {
        let mut line = Vec::new();
        for _ in 0..rng.below(10) {
            match rng.below(3) {
                0 => {
                    let piece: &&[u8] = rng.pick(&pieces);
                    line.extend_from_slice(piece)
                }
                _ => line.extend((0..rng.below(12)).map(|_| rng.next_u64() as u8)),
            }
        }
        for reader in [
            Reader::Classic,
            Reader::JournalJson,
            Reader::JournalText,
            Reader::Container,
        ] {
            let got = reader.parse(&line, 1, &mut state);
            let form = match reader {
                Reader::JournalJson => Written::Micros,
                Reader::JournalText => Written::Offset,
                _ => Written::Iso,
            };
            if memchr::memmem::find(&line, b"\"MESSAGE\":[").is_none() {
                assert_written_in(&with_decoded_message(&line), &got, form);
            }
        }
    }
}
