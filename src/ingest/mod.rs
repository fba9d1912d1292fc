//! The ingest pipeline, written once for every input format: files are read on
//! parse threads (one per core at most, each file with a reading thread of its
//! own), and one writer, the calling thread, stores each file whole in one
//! transaction once it is read to its end.
//!
//! Per file: its identity is checked against the database first (`store::files`),
//! its format told from its first bytes (`input::sniff`); a log's candidate
//! lines are found by the scanner, framed by the format's reader and parsed by
//! the one message parser; records wait in a bounded buffer (`buffer`) until
//! the file's zone is decided (`zone::decide`), then go to the store.

mod buffer;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::heap::DumpReader;
use crate::input::{sniff, Format, InputFile, LogBytes};
use crate::parse::dump_name::parse_dump_name;
use crate::parse::journal::YearStart;
use crate::parse::reader::{Reader, ReaderState, Scanners};
use crate::parse::scan::{Candidate, MAX_CANDIDATE_LINE};
use crate::parse::{LogTime, Parsed, Record};
use crate::store::{
    DumpMeta, DumpOutcome, Earlier, FileMeta, FileOutcome, Identity, KnownFiles, Store,
};
use crate::zone::{decide, Clock, Heartbeats, ZoneChoice, ZoneDecision, UTC};
use buffer::{RecordBuffer, SPILL_BYTES};
pub use report::{DumpSummary, FileReport, LogReport, Reject, Totals};

/// The host name used when none is given.
pub const DEFAULT_HOST: &str = "appliance";
/// What files read and not yet stored may hold in memory; parsing waits
/// beyond that, which bounds memory however far the writer falls behind. A log
/// holds its records up to `buffer::SPILL_BYTES` in memory, a heap dump
/// what its content holds.
const HELD_BYTES: u64 = 2 * SPILL_BYTES as u64;
/// The least a file read is counted as holding: at most a batch of small
/// files waits for the writer at once. Counted only at what their vectors
/// hold, nearly two thousand small dumps had piled up behind a log being
/// stored, their many small allocations holding several times that.
const MIN_HELD_BYTES: u64 = HELD_BYTES / BATCH_DUMPS as u64;
/// Heap dumps up to this size on disk are read on one thread.
const SERIAL_DUMP_BYTES: u64 = 1 << 20;
/// Small dumps stored in one transaction at most.
const BATCH_DUMPS: usize = 256;
/// How long a batch of small dumps waits for the next file before it is
/// stored: dumps come a few hundred µs apart, and a transaction each time
/// nothing was ready right away (one in five or six dumps) cost more than
/// reading them.
const BATCH_WAIT: Duration = Duration::from_millis(5);
/// Dumps up to this size on disk are stored in batches.
const SMALL_FILE_BYTES: u64 = 1 << 20;
/// Rejected lines shown per file; all are counted.
const SHOWN_REJECTS: usize = 5;

/// How the host of each input file is named.
#[derive(Debug, Clone)]
pub enum HostRule {
    /// The host each file names (journald's `_HOSTNAME`, a pod's name), else
    /// [`DEFAULT_HOST`].
    FromFile,
    /// One name for everything read in the run (`--host`).
    Given(String),
    /// Each path given names its files: a folder by its own name, a file by its
    /// folder's (the paths as given, in order).
    FromFolder(Vec<PathBuf>),
}

impl HostRule {
    /// The host named by the run for `file`, if the run names one.
    fn named(&self, file: &InputFile) -> Option<String> {
        let paths = match self {
            HostRule::FromFile => return None,
            HostRule::Given(host) => return Some(host.clone()),
            HostRule::FromFolder(paths) => paths,
        };
        let given = &paths[file.root];
        let folder = if given.is_dir() {
            Some(given.as_path())
        } else {
            given.parent()
        };
        let name = folder
            .and_then(|f| std::fs::canonicalize(f).ok())
            .and_then(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()));
        Some(name.unwrap_or_else(|| DEFAULT_HOST.to_string()))
    }

    /// The host of a record whose line names `line_host`: a journald record
    /// is its machine's unless the run names one; a pod is a host of its own,
    /// under the run's name when it names one (two pods' pid 7 never merge).
    fn of_record(
        &self,
        named: Option<&str>,
        format: Format,
        line_host: Option<String>,
    ) -> Option<String> {
        let line_host = line_host?;
        match (format, named) {
            (Format::ContainerJson, Some(named)) => Some(format!("{named}/{line_host}")),
            (_, Some(_)) => None,
            (_, None) => Some(line_host),
        }
    }
}

/// What an ingest run is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub hosts: HostRule,
    pub zone: ZoneChoice,
    /// Keep the readable part of a truncated gzip file, marked partial.
    pub accept_truncated: bool,
    /// Files parsed at once (default: one per core).
    pub jobs: Option<usize>,
    /// The year of the first line of text forms without years (journalctl
    /// `short`, `/var/log/messages`); default: from the file's modification time.
    pub year: Option<i64>,
}

/// Bytes read, for a progress bar.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// One file read whole, ready for the writer.
enum Read {
    Known(Earlier),
    Log(Box<ReadLog>),
    Dump(DumpMeta),
}

/// All that reading one log file found.
struct ReadLog {
    format: Format,
    records: RecordBuffer,
    /// The run's name for the file's host, else the first one its lines name.
    host: String,
    lines: u64,
    torn_last_line: bool,
    rejected: u64,
    /// Lines cut by ManageIQ's message limit before their values.
    cut: u64,
    /// Records whose time is the machine's wall clock (no zone in the line).
    local_records: u64,
    /// The first year-less line's year, and how it was chosen.
    years: Option<(i64, YearStart)>,
    shown_rejects: Vec<Reject>,
    heartbeats: Heartbeats,
    hash: String,
    quick_key: String,
    compressed: bool,
    truncated: bool,
}

/// Ingests `files` into `store`, handing each file's report to `on_report` in
/// input order (whatever order files finish in).
pub fn run(
    store: &mut Store,
    files: &[InputFile],
    options: &Options,
    progress: Progress,
    mut on_report: impl FnMut(&FileReport) -> Result<()>,
) -> Result<Totals> {
    let mut totals = Totals::default();
    if files.is_empty() {
        return Ok(totals);
    }
    let known = store.known_files()?;
    let jobs = options
        .jobs
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, files.len());
    let next = AtomicUsize::new(0);
    let scanners = Scanners::default();
    let (tx, rx) = channel::<(usize, Result<Read>, u64)>();
    let budget = Budget::new(HELD_BYTES);
    let checkpoints = store.background_checkpoints()?;
    let ran = thread::scope(|scope| -> Result<()> {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, scanners, known, progress) = (&next, &scanners, &known, &progress);
            let budget = &budget;
            // Named, so a profile tells parsing from reading and writing.
            let parse = thread::Builder::new().name("parse".into());
            parse.spawn_scoped(scope, move || loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(seq) else { break };
                let read = read_file(file, options, known, scanners, progress);
                let held = held_bytes(&read);
                if !budget.reserve(held) || tx.send((seq, read, held)).is_err() {
                    break;
                }
            })?;
        }
        drop(tx);
        // Should the writer stop early, parsing stops too.
        let _stop = budget.closed_on_drop();
        let mut reports: BTreeMap<usize, FileReport> = BTreeMap::new();
        let mut next_report = 0;
        let mut done = |seq: usize, report: FileReport| -> Result<()> {
            totals.add(&report);
            reports.insert(seq, report);
            while let Some(report) = reports.remove(&next_report) {
                on_report(&report)?;
                next_report += 1;
            }
            Ok(())
        };
        let committed = || {
            if let Some(checkpoints) = &checkpoints {
                checkpoints.committed();
            }
        };
        // Small dumps are stored together, a batch once it is full, once
        // another kind of file comes, or once nothing has come for a while
        // (parsing may be waiting for the batch's share of the budget).
        let mut batch = DumpBatch::default();
        loop {
            let next = if batch.dumps.is_empty() {
                rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                rx.recv_timeout(BATCH_WAIT)
            };
            let (seq, read, held) = match next {
                Ok(next) => next,
                Err(RecvTimeoutError::Timeout) => {
                    if batch.store(store, files, &budget, &mut done)? {
                        committed();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let file = &files[seq];
            match read {
                Ok(read) if DumpBatch::takes(&read, file) => {
                    let Read::Dump(meta) = read else {
                        unreachable!("a batch takes dumps")
                    };
                    batch.held += held;
                    batch.dumps.push((seq, meta));
                    if batch.dumps.len() >= BATCH_DUMPS
                        && batch.store(store, files, &budget, &mut done)?
                    {
                        committed();
                    }
                }
                read => {
                    if batch.store(store, files, &budget, &mut done)? {
                        committed();
                    }
                    let report = match read {
                        Ok(read) => store_file(store, file, options, read)?,
                        Err(error) => FileReport::Failed {
                            path: file.shown(),
                            error,
                        },
                    };
                    committed();
                    budget.free(held);
                    done(seq, report)?;
                }
            }
        }
        if batch.store(store, files, &budget, &mut done)? {
            committed();
        }
        Ok(())
    });
    store.end_background_checkpoints(checkpoints)?;
    ran?;
    Ok(totals)
}

/// Reads one file on a parse thread: identity, format, records.
fn read_file(
    file: &InputFile,
    options: &Options,
    known: &KnownFiles,
    scanners: &Scanners,
    progress: &Progress,
) -> Result<Read> {
    let cannot_read = || format!("cannot read {}", file.shown());
    let quick_key = match known.identify(&file.path).with_context(cannot_read)? {
        Identity::Known(earlier) => {
            progress(file.size);
            return Ok(Read::Known(earlier));
        }
        Identity::New { quick_key } => quick_key,
    };
    let bar = progress.clone();
    let mut bytes = LogBytes::open(&file.path, options.accept_truncated, move |n| bar(n))?;
    let format = sniff(bytes.peek()?);
    let reader = match format {
        Format::Classic => Reader::Classic,
        Format::JournalJson => Reader::JournalJson,
        Format::JournalText => Reader::JournalText,
        Format::ContainerJson => Reader::Container,
        Format::HeapDump => return read_dump(file, bytes, quick_key, options),
    };
    let scanner = scanners.get(reader);
    let mut state = ReaderState::new(match options.year {
        Some(year) => YearStart::Given(year),
        None => modified(&file.path).with_context(cannot_read)?,
    });
    let named = options.hosts.named(file);
    let mut first_host: Option<String> = None;
    let mut cut = 0u64;
    let mut local_records = 0u64;
    let mut records = RecordBuffer::default();
    let mut heartbeats = Heartbeats::default();
    let mut rejected = 0u64;
    let mut shown_rejects = Vec::new();
    let mut reject = |line_no, reason| {
        rejected += 1;
        if shown_rejects.len() < SHOWN_REJECTS {
            shown_rejects.push(Reject { line_no, reason });
        }
    };
    let mut kept: std::io::Result<()> = Ok(());
    let scanned = scanner.scan(&mut bytes, |candidate| {
        let parsed = match candidate {
            Candidate::Line { line_no, bytes } => reader.parse(bytes, line_no, &mut state),
            Candidate::TooLong { line_no } => {
                return reject(line_no, too_long());
            }
        };
        let mut record = match parsed {
            Parsed::Sample(sample) => {
                if let (Some(beat), LogTime::Local(local)) = (sample.heartbeat_utc_us, sample.time)
                {
                    heartbeats.add(sample.line_no, local, beat);
                }
                Record::Sample(sample)
            }
            Parsed::Event(event) => Record::Event(event),
            Parsed::Enrichment(said) => Record::Enrichment(said),
            Parsed::Rejected(reason) => {
                if let Candidate::Line { line_no, .. } = candidate {
                    reject(line_no, reason);
                }
                return;
            }
            Parsed::Truncated => {
                cut += 1;
                return;
            }
            Parsed::Ignored => return,
        };
        local_records += matches!(record.time(), LogTime::Local(_)) as u64;
        let host = record.host_mut();
        if first_host.is_none() {
            first_host = host.clone();
        }
        *host = options
            .hosts
            .of_record(named.as_deref(), format, host.take());
        if kept.is_ok() {
            kept = records.push(&record);
        }
    });
    let read = bytes.finish();
    let stats = scanned?;
    let read = read?;
    kept.context("keeping the records while the file is read")?;
    let host = named
        .or(first_host)
        .unwrap_or_else(|| DEFAULT_HOST.to_string());
    Ok(Read::Log(Box::new(ReadLog {
        format,
        records,
        host,
        lines: stats.lines,
        torn_last_line: stats.torn_last_line,
        rejected,
        cut,
        local_records,
        years: state.years.first_year(),
        shown_rejects,
        heartbeats,
        hash: read.hash,
        quick_key,
        compressed: read.compressed,
        truncated: read.truncated,
    })))
}

/// A heap dump: its identity, what its name says and what it holds, read
/// as it streams (inflated on the reading thread, hashed as it passes).
fn read_dump(
    file: &InputFile,
    mut bytes: LogBytes,
    quick_key: String,
    options: &Options,
) -> Result<Read> {
    let file_name = file.file_name();
    let name = parse_dump_name(&file_name).ok_or_else(|| {
        anyhow!("a heap dump, but its name does not say its time and pid (<prefix>_<epoch>_<pid>.dump[.gz])")
    })?;
    // Two parse threads pay off only for a large dump: a small one (most of
    // a run's dumps, a few hundred KB) costs less read on this thread alone
    // than the threads cost to start, and other files keep the cores busy.
    let content = if file.size <= SERIAL_DUMP_BYTES {
        DumpReader::read_serial(&mut bytes)
    } else {
        DumpReader::read_owned(&mut bytes)
    };
    let read = bytes.finish();
    let content = content.with_context(|| format!("reading heap dump {}", file.shown()))?;
    let read = read.with_context(|| format!("reading heap dump {}", file.shown()))?;
    // A dump is stored whole or not at all, `--accept-truncated` or not.
    if read.truncated {
        bail!(
            "reading heap dump {}: gzip: the file is truncated (a heap dump is read whole or not at all)",
            file.shown()
        );
    }
    let meta = FileMeta {
        path: file.shown(),
        hash: read.hash,
        quick_key,
        size_bytes: file.size,
        compressed: read.compressed,
        host: options
            .hosts
            .named(file)
            .unwrap_or_else(|| DEFAULT_HOST.to_string()),
        format: Format::HeapDump.as_str(),
        zone: UTC.to_string(),
        zone_inferred: false,
        partial: false,
        lines: content.totals.lines,
        rejected: content.totals.bad_lines,
        cut: 0,
    };
    Ok(Read::Dump(DumpMeta {
        file: meta,
        file_name,
        name,
        content: Some(Box::new(content)),
    }))
}

/// Stores one file read whole, on the writer thread.
fn store_file(
    store: &mut Store,
    file: &InputFile,
    options: &Options,
    read: Read,
) -> Result<FileReport> {
    let path = file.shown();
    match read {
        Read::Known(earlier) if earlier.format == Format::HeapDump.as_str() => {
            Ok(FileReport::Dump {
                path,
                new_dump: false,
                content: None,
            })
        }
        Read::Known(earlier) => Ok(FileReport::Skipped { path, earlier }),
        Read::Dump(meta) => {
            let outcome = store
                .write_dump(&meta)
                .with_context(|| format!("storing {path}"))?;
            Ok(dump_report(path, &meta, outcome))
        }
        Read::Log(log) => store_log(store, file, options, *log),
    }
}

/// What the files read and not yet stored hold in memory, against a limit. A
/// parse thread reserves a file's share before it hands the file over, and
/// the writer frees it once the file is stored; a file larger than the whole
/// budget waits until nothing else is held.
struct Budget {
    /// `None` once the writer has stopped: nothing more is wanted.
    held: Mutex<Option<u64>>,
    freed: Condvar,
    limit: u64,
}

impl Budget {
    fn new(limit: u64) -> Budget {
        Budget {
            held: Mutex::new(Some(0)),
            freed: Condvar::new(),
            limit,
        }
    }

    /// Waits until `bytes` fit; false when the writer has stopped.
    fn reserve(&self, bytes: u64) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match *held {
                None => return false,
                Some(h) if h == 0 || h + bytes <= self.limit => {
                    *held = Some(h + bytes);
                    return true;
                }
                Some(_) => held = self.freed.wait(held).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }

    fn free(&self, bytes: u64) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = held.as_mut() {
            *h = h.saturating_sub(bytes);
        }
        self.freed.notify_all();
    }

    /// A guard that, dropped, tells every waiting parse thread to stop.
    fn closed_on_drop(&self) -> impl Drop + '_ {
        struct Close<'b>(&'b Budget);
        impl Drop for Close<'_> {
            fn drop(&mut self) {
                *self.0.held.lock().unwrap_or_else(|e| e.into_inner()) = None;
                self.0.freed.notify_all();
            }
        }
        Close(self)
    }
}

/// A file read's share of the [`Budget`].
fn held_bytes(read: &Result<Read>) -> u64 {
    let held = match read {
        Ok(Read::Log(log)) => log.records.memory_bytes() as u64,
        // What its content holds in memory: a small dump's tables are
        // several times its size on disk.
        Ok(Read::Dump(dump)) => dump.content.as_ref().map_or(0, |c| c.memory_bytes()),
        Ok(Read::Known(_)) | Err(_) => 0,
    };
    held.max(MIN_HELD_BYTES)
}

/// Small heap dumps waiting to be stored together, by their place in the input.
#[derive(Default)]
struct DumpBatch {
    dumps: Vec<(usize, DumpMeta)>,
    /// Their share of the budget, given back once they are stored.
    held: u64,
}

impl DumpBatch {
    fn takes(read: &Read, file: &InputFile) -> bool {
        matches!(read, Read::Dump(_)) && file.size <= SMALL_FILE_BYTES
    }

    /// Stores the dumps waiting, in one transaction; should that fail, one at a
    /// time, so that the error names its file and the others are stored.
    /// Whether there were any.
    fn store(
        &mut self,
        store: &mut Store,
        files: &[InputFile],
        budget: &Budget,
        done: &mut impl FnMut(usize, FileReport) -> Result<()>,
    ) -> Result<bool> {
        if self.dumps.is_empty() {
            return Ok(false);
        }
        let dumps = std::mem::take(&mut self.dumps);
        let metas: Vec<&DumpMeta> = dumps.iter().map(|(_, meta)| meta).collect();
        match store.write_dumps(&metas) {
            Ok(outcomes) => {
                for ((seq, meta), outcome) in dumps.iter().zip(outcomes) {
                    done(*seq, dump_report(files[*seq].shown(), meta, outcome))?;
                }
            }
            Err(_) => {
                for (seq, meta) in dumps {
                    let path = files[seq].shown();
                    let outcome = store
                        .write_dump(&meta)
                        .with_context(|| format!("storing {path}"))?;
                    done(seq, dump_report(path, &meta, outcome))?;
                }
            }
        }
        budget.free(std::mem::take(&mut self.held));
        Ok(true)
    }
}

fn dump_report(path: String, meta: &DumpMeta, outcome: DumpOutcome) -> FileReport {
    let summary = meta.content.as_ref().map(|c| DumpSummary {
        objects: c.totals.objects,
        bytes: c.totals.bytes,
        garbage_objects: c.totals.garbage_objects,
        bad_lines: c.totals.bad_lines,
        first_bad_line: c.totals.first_bad_line,
    });
    match outcome {
        DumpOutcome::AlreadyIngested(earlier) => FileReport::Skipped { path, earlier },
        DumpOutcome::Stored {
            new_dump,
            new_content,
        } => FileReport::Dump {
            path,
            new_dump,
            content: summary.filter(|_| new_content),
        },
    }
}

fn store_log(
    store: &mut Store,
    file: &InputFile,
    options: &Options,
    log: ReadLog,
) -> Result<FileReport> {
    let path = file.shown();
    let clock = match log.format {
        _ if log.local_records == 0 && log.heartbeats.total() == 0 => Clock::Zoned,
        Format::ContainerJson => Clock::Container,
        _ => Clock::Appliance,
    };
    let mut zone = decide(options.zone, &log.heartbeats, clock);
    let meta = FileMeta {
        path: path.clone(),
        hash: log.hash,
        quick_key: log.quick_key,
        size_bytes: file.size,
        compressed: log.compressed,
        host: log.host,
        format: log.format.as_str(),
        zone: zone.stored(),
        zone_inferred: zone.inferred,
        partial: log.truncated,
        lines: log.lines,
        rejected: log.rejected,
        cut: log.cut,
    };
    let write = |store: &mut Store, zone: &mut ZoneDecision| -> Result<FileOutcome> {
        let mut writer = match store.begin_log(&meta)? {
            Ok(writer) => writer,
            Err(earlier) => return Ok(FileOutcome::AlreadyIngested(earlier)),
        };
        log.records.for_each(|record| {
            let utc_us = zone.utc_us(record.time(), record.line_no());
            match record {
                Record::Sample(s) => writer.sample(s, utc_us),
                Record::Event(e) => writer.event(&e, utc_us),
                Record::Enrichment(n) => writer.enrichment(&n, utc_us),
            }
        })?;
        Ok(FileOutcome::Ingested(writer.commit()?))
    };
    let counts = match write(store, &mut zone).with_context(|| format!("storing {path}"))? {
        FileOutcome::AlreadyIngested(earlier) => return Ok(FileReport::Skipped { path, earlier }),
        FileOutcome::Ingested(counts) => counts,
    };
    let mut notes = Vec::new();
    if log.cut > 0 {
        notes.push(format!(
            "{} lines cut by the log's message limit before their values (not stored)",
            log.cut
        ));
    }
    if let Some((year, start)) = log.years {
        notes.push(match start {
            YearStart::Given(_) => format!("lines without a year read as of {year} (given)"),
            YearStart::Modified { .. } => format!(
                "lines without a year read as of {year}, from the file's modification time (--year sets it)"
            ),
        });
    }
    Ok(FileReport::Log(LogReport {
        path,
        counts,
        rejected: log.rejected,
        shown_rejects: log.shown_rejects,
        zone_note: zone.report_note(),
        warnings: zone.warnings,
        notes,
        truncated: log.truncated,
        torn_last_line: log.torn_last_line,
    }))
}

/// The year and month of a file's modification time, for the years of text
/// forms without them.
fn modified(path: &std::path::Path) -> std::io::Result<YearStart> {
    let modified = std::fs::metadata(path)?.modified()?;
    let at = chrono::DateTime::<chrono::Utc>::from(modified);
    use chrono::Datelike;
    Ok(YearStart::Modified {
        year: at.year() as i64,
        month: at.month(),
    })
}

fn too_long() -> &'static str {
    const _: () = assert!(MAX_CANDIDATE_LINE == 16 << 20);
    "line longer than 16 MiB"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_holds_parsing_until_the_writer_frees_and_lets_it_go_when_closed() {
        let budget = Budget::new(10);
        assert!(budget.reserve(6));
        assert!(budget.reserve(4));
        let (tx, rx) = std::sync::mpsc::channel();
        thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                let got = budget.reserve(3);
                tx.send(()).unwrap();
                got
            });
            // Full: the third reservation waits for the writer.
            assert!(rx
                .recv_timeout(std::time::Duration::from_millis(100))
                .is_err());
            budget.free(6);
            rx.recv().unwrap();
            assert!(waiting.join().unwrap());
        });
        // 4 + 3 held; a file larger than the whole budget waits for nothing
        // to be held, then goes alone.
        budget.free(7);
        assert!(budget.reserve(25));
        thread::scope(|scope| {
            let waiting = scope.spawn(|| budget.reserve(1));
            thread::sleep(std::time::Duration::from_millis(50));
            drop(budget.closed_on_drop());
            assert!(!waiting.join().unwrap(), "a closed budget stops parsing");
        });
        assert!(!budget.reserve(1));
    }
}
