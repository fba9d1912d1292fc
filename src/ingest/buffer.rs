//! The records of one file, held from parsing until the file is read whole and
//! its zone is decided: encoded compactly (postcard) in memory, spilled to an
//! unnamed temporary file beyond [`SPILL_BYTES`], so memory stays bounded
//! however many samples and events a file holds.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use anyhow::{Context, Result};

use crate::parse::Record;

/// Encoded bytes kept in memory before they go to the temporary file.
pub const SPILL_BYTES: usize = 4 << 20;

/// Records in arrival (line) order.
#[derive(Default)]
pub struct RecordBuffer {
    bytes: Vec<u8>,
    spill: Option<BufWriter<File>>,
}

impl RecordBuffer {
    pub fn push(&mut self, record: &Record) -> io::Result<()> {
        postcard::to_io(record, &mut self.bytes).map_err(io::Error::other)?;
        if self.bytes.len() >= SPILL_BYTES {
            self.spill_bytes()?;
        }
        Ok(())
    }

    /// Moves the bytes in memory to the temporary file, as one chunk of whole
    /// records headed by its length.
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

    /// The bytes held in memory (the rest wait in the temporary file).
    pub fn memory_bytes(&self) -> usize {
        self.bytes.capacity()
    }

    /// Hands every record, in the order pushed, to `each`.
    pub fn for_each(self, mut each: impl FnMut(Record) -> Result<()>) -> Result<()> {
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
                decode(&chunk, &mut each)?;
            }
        }
        decode(&self.bytes, &mut each)
    }
}

fn decode(mut bytes: &[u8], each: &mut impl FnMut(Record) -> Result<()>) -> Result<()> {
    while !bytes.is_empty() {
        let (record, rest) =
            postcard::take_from_bytes::<Record>(bytes).context("reading back a kept record")?;
        each(record)?;
        bytes = rest;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Event, EventKind, LogTime, Sample, SampleKind};

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| {
                let i64 = i as i64;
                if i % 7 == 3 {
                    Record::Event(Event {
                        line_no: i as u64 + 1,
                        time: LogTime::Utc(1_488_326_400_000_000 + i64),
                        host: (i % 5 == 1).then(|| format!("pod-{i}")),
                        pid: -i64,
                        worker: (i % 2 == 0).then(|| format!("W{}", i % 5)),
                        kind: [
                            EventKind::MemoryExceeded,
                            EventKind::WorkerStarted,
                            EventKind::ServerMemoryExceeded,
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
                        host: (i % 3 == 1).then(|| "miq".to_string()),
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
                        swap_bytes: (i % 7 == 2).then_some(4096),
                        gc_ms: Some(i64 % 13),
                        msg_ms: None,
                        msgs: (i % 2 == 0).then_some(i64),
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
                out.push(r);
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
