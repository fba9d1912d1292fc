//! The records of one file, held from parsing until the file is read whole and
//! its zone is decided: compactly encoded in memory, spilled to an unnamed
//! temporary file beyond [`SPILL_BYTES`], so memory stays bounded however many
//! samples and events a file holds.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use crate::parse::{Event, EventKind, LogTime, Record, Sample, SampleKind};

/// Encoded bytes kept in memory before they go to the temporary file.
pub const SPILL_BYTES: usize = 4 << 20;

/// Records in arrival (line) order.
#[derive(Default)]
pub struct RecordBuffer {
    bytes: Vec<u8>,
    spill: Option<BufWriter<File>>,
    /// Strings that repeat (worker types, message classes and methods), stored once.
    strings: Vec<String>,
    ids: HashMap<String, u32>,
}

const SAMPLE: u8 = 0;
const EVENT: u8 = 1;

impl RecordBuffer {
    pub fn push(&mut self, record: &Record) -> io::Result<()> {
        match record {
            Record::Sample(s) => self.push_sample(s),
            Record::Event(e) => self.push_event(e),
        }
        if self.bytes.len() >= SPILL_BYTES {
            self.spill_bytes()?;
        }
        Ok(())
    }

    fn string_id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.to_string());
        self.ids.insert(s.to_string(), id);
        id
    }

    fn push_sample(&mut self, s: &Sample) {
        let worker = self.string_id(&s.worker);
        let class = s.msg_class.as_deref().map(|c| self.string_id(c));
        let method = s.msg_method.as_deref().map(|m| self.string_id(m));
        let out = &mut self.bytes;
        out.push(SAMPLE);
        put_head(out, s.line_no, s.time, s.pid);
        put_varint(out, worker as u64);
        out.push(match s.kind {
            SampleKind::Patch => 0,
            SampleKind::Status => 1,
        });
        let numbers = [
            s.rss_bytes,
            s.pss_bytes,
            s.uss_bytes,
            s.vsz_bytes,
            s.live_slots,
            s.old_objects,
            s.msg_id,
            s.heartbeat_utc_us,
        ];
        let mut present = 0u16;
        for (i, v) in numbers.iter().enumerate() {
            present |= (v.is_some() as u16) << i;
        }
        present |= (class.is_some() as u16) << 8 | (method.is_some() as u16) << 9;
        out.extend_from_slice(&present.to_le_bytes());
        for v in numbers.into_iter().flatten() {
            put_signed(out, v);
        }
        for id in [class, method].into_iter().flatten() {
            put_varint(out, id as u64);
        }
    }

    fn push_event(&mut self, e: &Event) {
        let worker = e.worker.as_deref().map(|w| self.string_id(w));
        let out = &mut self.bytes;
        out.push(EVENT);
        put_head(out, e.line_no, e.time, e.pid);
        out.push(match e.kind {
            EventKind::MemoryExceeded => 0,
            EventKind::WorkerStarted => 1,
            EventKind::Dump => 2,
        });
        let numbers = [e.usage_bytes, e.limit_bytes, e.size_bytes];
        let mut present = 0u8;
        for (i, v) in numbers.iter().enumerate() {
            present |= (v.is_some() as u8) << i;
        }
        present |= (worker.is_some() as u8) << 3;
        out.push(present);
        for v in numbers.into_iter().flatten() {
            put_signed(out, v);
        }
        if let Some(id) = worker {
            put_varint(out, id as u64);
        }
        put_varint(out, e.detail.len() as u64);
        out.extend_from_slice(e.detail.as_bytes());
    }

    fn spill_bytes(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            self.spill = Some(BufWriter::with_capacity(1 << 16, tempfile::tempfile()?));
        }
        let spill = self.spill.as_mut().expect("spill file just made");
        spill.write_all(&(self.bytes.len() as u64).to_le_bytes())?;
        spill.write_all(&self.bytes)?;
        self.bytes.clear();
        Ok(())
    }

    /// Hands every record, in the order pushed, to `each`.
    pub fn for_each(
        self,
        mut each: impl FnMut(&Record) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut decoder = Decoder::new(&self.strings);
        if let Some(spill) = self.spill {
            let mut file = spill.into_inner().map_err(|e| e.into_error())?;
            file.seek(SeekFrom::Start(0))?;
            let mut reader = BufReader::with_capacity(1 << 16, file);
            let mut chunk = Vec::new();
            loop {
                let mut len = [0u8; 8];
                match reader.read_exact(&mut len) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e.into()),
                }
                chunk.resize(u64::from_le_bytes(len) as usize, 0);
                reader.read_exact(&mut chunk)?;
                decoder.each(&chunk, &mut each)?;
            }
        }
        decoder.each(&self.bytes, &mut each)
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_head(out: &mut Vec<u8>, line_no: u64, time: LogTime, pid: i64) {
    put_varint(out, line_no);
    match time {
        LogTime::Local(us) => {
            out.push(0);
            put_signed(out, us);
        }
        LogTime::Utc(us) => {
            out.push(1);
            put_signed(out, us);
        }
    }
    put_signed(out, pid);
}

/// Reads records back into reused records (no allocation per record once the
/// strings have grown).
struct Decoder<'a> {
    strings: &'a [String],
    sample: Record,
    event: Record,
}

struct Cursor<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes[self.at];
        self.at += 1;
        b
    }

    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 {
                return v;
            }
            shift += 7;
        }
    }

    fn signed(&mut self) -> i64 {
        let v = self.varint();
        ((v >> 1) as i64) ^ -((v & 1) as i64)
    }

    fn head(&mut self) -> (u64, LogTime, i64) {
        let line_no = self.varint();
        let time = match self.byte() {
            0 => LogTime::Local(self.signed()),
            _ => LogTime::Utc(self.signed()),
        };
        (line_no, time, self.signed())
    }
}

fn set(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (None, Some(v)) => *slot = Some(v.to_string()),
        (_, None) => *slot = None,
    }
}

impl<'a> Decoder<'a> {
    fn new(strings: &'a [String]) -> Decoder<'a> {
        Decoder {
            strings,
            sample: Record::Sample(Sample::default()),
            event: Record::Event(Event {
                line_no: 0,
                time: LogTime::Local(0),
                pid: 0,
                worker: None,
                kind: EventKind::Dump,
                usage_bytes: None,
                limit_bytes: None,
                size_bytes: None,
                detail: String::new(),
            }),
        }
    }

    fn each(
        &mut self,
        bytes: &[u8],
        each: &mut impl FnMut(&Record) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut c = Cursor { bytes, at: 0 };
        while c.at < bytes.len() {
            let record = match c.byte() {
                SAMPLE => self.sample(&mut c),
                _ => self.event(&mut c),
            };
            each(record)?;
        }
        Ok(())
    }

    fn sample(&mut self, c: &mut Cursor<'_>) -> &Record {
        let Record::Sample(s) = &mut self.sample else {
            unreachable!("the sample slot holds a sample")
        };
        (s.line_no, s.time, s.pid) = c.head();
        s.worker.clear();
        s.worker.push_str(&self.strings[c.varint() as usize]);
        s.kind = if c.byte() == 0 {
            SampleKind::Patch
        } else {
            SampleKind::Status
        };
        let present = u16::from_le_bytes([c.byte(), c.byte()]);
        let slots = [
            &mut s.rss_bytes,
            &mut s.pss_bytes,
            &mut s.uss_bytes,
            &mut s.vsz_bytes,
            &mut s.live_slots,
            &mut s.old_objects,
            &mut s.msg_id,
            &mut s.heartbeat_utc_us,
        ];
        for (i, slot) in slots.into_iter().enumerate() {
            *slot = (present & (1 << i) != 0).then(|| c.signed());
        }
        let class = (present & (1 << 8) != 0).then(|| self.strings[c.varint() as usize].as_str());
        set(&mut s.msg_class, class);
        let method = (present & (1 << 9) != 0).then(|| self.strings[c.varint() as usize].as_str());
        set(&mut s.msg_method, method);
        &self.sample
    }

    fn event(&mut self, c: &mut Cursor<'_>) -> &Record {
        let Record::Event(e) = &mut self.event else {
            unreachable!("the event slot holds an event")
        };
        (e.line_no, e.time, e.pid) = c.head();
        e.kind = match c.byte() {
            0 => EventKind::MemoryExceeded,
            1 => EventKind::WorkerStarted,
            _ => EventKind::Dump,
        };
        let present = c.byte();
        for (i, slot) in [&mut e.usage_bytes, &mut e.limit_bytes, &mut e.size_bytes]
            .into_iter()
            .enumerate()
        {
            *slot = (present & (1 << i) != 0).then(|| c.signed());
        }
        let worker = (present & (1 << 3) != 0).then(|| self.strings[c.varint() as usize].as_str());
        set(&mut e.worker, worker);
        let len = c.varint() as usize;
        e.detail.clear();
        e.detail
            .push_str(&String::from_utf8_lossy(&c.bytes[c.at..c.at + len]));
        c.at += len;
        &self.event
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| {
                let i64 = i as i64;
                if i % 7 == 3 {
                    Record::Event(Event {
                        line_no: i as u64 + 1,
                        time: LogTime::Utc(1_488_326_400_000_000 + i64),
                        pid: -i64,
                        worker: (i % 2 == 0).then(|| format!("W{}", i % 5)),
                        kind: [
                            EventKind::MemoryExceeded,
                            EventKind::WorkerStarted,
                            EventKind::Dump,
                        ][i % 3],
                        usage_bytes: (i % 3 == 0).then_some(i64 << 20),
                        limit_bytes: Some(i64::MAX - i64),
                        size_bytes: None,
                        detail: format!("usage={i} ünïcode"),
                    })
                } else {
                    Record::Sample(Sample {
                        line_no: i as u64 + 1,
                        time: LogTime::Local(i64 * 1_000_003),
                        pid: 1000 + (i % 11) as i64,
                        worker: format!("Miq{}Worker", i % 4),
                        kind: if i % 2 == 0 {
                            SampleKind::Patch
                        } else {
                            SampleKind::Status
                        },
                        rss_bytes: Some(i64 * 4096),
                        pss_bytes: (i % 5 != 0).then_some(i64),
                        uss_bytes: None,
                        vsz_bytes: (i % 3 == 0).then_some(i64::MIN + 1),
                        live_slots: Some(0),
                        old_objects: (i % 4 == 1).then_some(7),
                        msg_id: (i % 6 != 0).then_some(i64 * 31),
                        msg_class: (i % 6 != 0).then(|| format!("C{}", i % 9)),
                        msg_method: (i % 3 != 0).then(|| "perf_process".to_string()),
                        heartbeat_utc_us: (i % 10 == 0).then_some(-5),
                    })
                }
            })
            .collect()
    }

    fn round_trip(input: &[Record]) -> Vec<Record> {
        let mut buffer = RecordBuffer::default();
        for r in input {
            buffer.push(r).unwrap();
        }
        let mut out = Vec::new();
        buffer
            .for_each(|r| {
                out.push(r.clone());
                Ok(())
            })
            .unwrap();
        out
    }

    #[test]
    fn records_come_back_exactly_in_order() {
        let input = records(1000);
        assert_eq!(round_trip(&input), input);
        assert!(round_trip(&[]).is_empty());
    }

    #[test]
    fn a_large_file_spills_and_still_comes_back_exactly() {
        let input = records(200_000);
        let mut buffer = RecordBuffer::default();
        for r in &input {
            buffer.push(r).unwrap();
        }
        assert!(buffer.spill.is_some(), "200 000 records spill");
        assert!(buffer.bytes.len() < SPILL_BYTES);
        assert_eq!(round_trip(&input), input);
    }
}
