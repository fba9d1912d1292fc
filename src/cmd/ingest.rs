//! `ingest`: files -> parse (one thread per file, up to the core count) -> one
//! writer (this thread) that stages records and commits each file whole.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::parse::line::parse_line;
use crate::parse::scan::{Candidate, Scanner, MAX_CANDIDATE_LINE};
use crate::parse::{Parsed, Record};
use crate::source::{content_hash, discover, quick_key, InputFile, InputKind, LogBytes};
use crate::store::{Access, DumpFile, FileMeta, FileOutcome, Store};
use crate::zone::{OffsetVotes, ZoneChoice, UTC};

/// The host name used when `--host` is not given.
pub const DEFAULT_HOST: &str = "appliance";
/// Records handed to the writer at a time.
const BATCH: usize = 4096;
/// Batches waiting for the writer; parsing waits beyond that, which bounds memory
/// (a batch is about 1.5 MB) however far the writer falls behind.
const BATCHES_IN_FLIGHT: usize = 8;
/// Rejected lines shown per file; all are counted.
const SHOWN_REJECTS: usize = 5;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Label for everything read in this run: the appliance the files came from.
    /// PIDs of different hosts never mix.
    #[arg(long, default_value = DEFAULT_HOST, conflicts_with = "host_from_folder")]
    pub host: String,
    /// Label each PATH with its own name when it is a folder (one folder per
    /// appliance), or with its parent folder's name when it is a file.
    #[arg(long)]
    pub host_from_folder: bool,
    /// The appliance's time zone: auto (infer each file's offset from its
    /// `Last Heartbeat [.. UTC]` fields), UTC, +HH:MM / -HH:MM, or an IANA name
    /// such as America/New_York (daylight saving included).
    #[arg(long, default_value = "auto", value_name = "ZONE")]
    pub tz: ZoneChoice,
    /// Keep the readable part of a truncated gzip file, marked partial; a later
    /// complete copy adds the rest.
    #[arg(long)]
    pub accept_truncated: bool,
    /// No progress bar and no per-file report; errors and warnings still show.
    #[arg(long, short)]
    pub quiet: bool,
    /// Files to parse at once (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Log files, heap dumps (<prefix>_<epoch>_<pid>.dump[.gz]) and folders of
    /// them, plain or gzip. Folders are walked recursively for names holding
    /// `.log` and heap-dump names.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// A line that was not stored, with where it is and why.
struct Reject {
    line_no: u64,
    reason: &'static str,
}

/// All that parsing one log file found, apart from the records themselves.
struct Parsed1 {
    lines: u64,
    torn_last_line: bool,
    rejected: u64,
    shown_rejects: Vec<Reject>,
    votes: OffsetVotes,
    hash: String,
    quick_key: String,
    compressed: bool,
    truncated: bool,
}

enum Message {
    Records {
        seq: usize,
        records: Vec<Record>,
    },
    Parsed {
        seq: usize,
        result: Result<Parsed1>,
    },
    Known {
        seq: usize,
        earlier_path: String,
        earlier_host: String,
    },
}

/// The database's knowledge of files, read once before parsing starts.
struct Known {
    quick_keys: HashSet<String>,
    /// Content hash -> (path, host) of the files ingested before.
    hashes: HashMap<String, (String, String)>,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let (inputs, walk_errors) = discover(&args.paths);
    let mut failed = walk_errors.len();
    for e in &walk_errors {
        eprintln!("miq-memlog: cannot read {e}");
    }
    let mut store = Store::open(db, Access::ReadWrite)?;
    let (dumps, logs): (Vec<InputFile>, Vec<InputFile>) = inputs
        .into_iter()
        .partition(|f| matches!(f.kind, InputKind::Dump(_)));
    let mut out = io::stdout().lock();

    let dump_files: Vec<DumpFile> = dumps
        .iter()
        .filter_map(|f| match &f.kind {
            InputKind::Dump(name) => Some(DumpFile {
                host: host_of(&args, f),
                pid: name.pid,
                utc_us: name.utc_us,
                size_bytes: f.size,
                file_name: f.file_name(),
            }),
            InputKind::Log => None,
        })
        .collect();
    let dumps_new = if dump_files.is_empty() {
        0
    } else {
        store.add_dumps(&dump_files)?
    };

    let (quick_keys, hashes) = store.ingested_files()?;
    let known = Known { quick_keys, hashes };
    let progress = progress_bar(&logs, args.quiet);
    let totals = ingest_logs(&mut store, &args, &logs, &known, &progress, &mut out)?;
    progress.finish_and_clear();
    failed += totals.failed;

    if !args.quiet {
        writeln!(
            out,
            "{} {} ingested, {} already ingested, {} failed; {} new samples ({} already present), {} new events; {} heap {} ({} new)",
            totals.ingested,
            plural(totals.ingested, "file", "files"),
            totals.skipped,
            failed,
            totals.samples_new,
            totals.samples_present,
            totals.events_new,
            dump_files.len(),
            plural(dump_files.len(), "dump", "dumps"),
            dumps_new,
        )?;
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The host a file is stored under: `--host`, or with `--host-from-folder` the
/// name of the folder given (or of a given file's folder).
fn host_of(args: &Args, file: &InputFile) -> String {
    if !args.host_from_folder {
        return args.host.clone();
    }
    let given = &args.paths[file.root];
    let folder = if given.is_dir() {
        Some(given.as_path())
    } else {
        given.parent()
    };
    folder
        .and_then(|f| std::fs::canonicalize(f).ok())
        .and_then(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| DEFAULT_HOST.to_string())
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

fn progress_bar(logs: &[InputFile], quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total: u64 = logs.iter().map(|f| f.size).sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[derive(Default)]
struct Totals {
    ingested: usize,
    skipped: usize,
    failed: usize,
    samples_new: u64,
    samples_present: u64,
    events_new: u64,
}

fn ingest_logs(
    store: &mut Store,
    args: &Args,
    logs: &[InputFile],
    known: &Known,
    progress: &ProgressBar,
    out: &mut impl Write,
) -> Result<Totals> {
    let mut totals = Totals::default();
    if logs.is_empty() {
        return Ok(totals);
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, logs.len());
    let next = AtomicUsize::new(0);
    let scanner = Scanner::new();
    let (tx, rx) = sync_channel::<Message>(BATCHES_IN_FLIGHT);
    thread::scope(|scope| -> Result<()> {
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, scanner) = (&next, &scanner);
            // Named, so a profile tells parsing from reading and writing.
            let parse = thread::Builder::new().name("parse".into());
            parse.spawn_scoped(scope, move || loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = logs.get(seq) else { break };
                if !parse_one(
                    seq,
                    file,
                    args.accept_truncated,
                    known,
                    scanner,
                    progress,
                    &tx,
                ) {
                    break;
                }
            })?;
        }
        drop(tx);
        // Reports come out in input order, whatever order files finish in.
        let mut reports: BTreeMap<usize, String> = BTreeMap::new();
        let mut next_report = 0;
        let mut failed_seqs: HashSet<usize> = HashSet::new();
        for message in rx {
            let (seq, report) = match message {
                Message::Records { seq, records } => {
                    if !failed_seqs.contains(&seq) {
                        if let Err(e) = store.stage(seq as u64, &records) {
                            return Err(e.context(format!("staging {}", logs[seq].shown())));
                        }
                    }
                    continue;
                }
                Message::Known {
                    seq,
                    earlier_path,
                    earlier_host,
                } => {
                    totals.skipped += 1;
                    let report = format!(
                        "skipped   {}: already ingested (same bytes as {earlier_path}, host {earlier_host})",
                        logs[seq].shown()
                    );
                    (seq, report)
                }
                Message::Parsed {
                    seq,
                    result: Err(e),
                } => {
                    failed_seqs.insert(seq);
                    store.abort_file(seq as u64)?;
                    totals.failed += 1;
                    progress.suspend(|| {
                        eprintln!(
                            "miq-memlog: {}: {e:#} (nothing from this file was stored)",
                            logs[seq].shown()
                        )
                    });
                    (seq, String::new())
                }
                Message::Parsed {
                    seq,
                    result: Ok(parsed),
                } => {
                    let report =
                        finish_file(store, args, &logs[seq], seq, parsed, &mut totals, progress)?;
                    (seq, report)
                }
            };
            reports.insert(seq, report);
            while let Some(report) = reports.remove(&next_report) {
                if !args.quiet && !report.is_empty() {
                    progress.suspend(|| writeln!(out, "{report}"))?;
                }
                next_report += 1;
            }
        }
        Ok(())
    })?;
    Ok(totals)
}

/// Commits one parsed file and describes the outcome.
fn finish_file(
    store: &mut Store,
    args: &Args,
    file: &InputFile,
    seq: usize,
    parsed: Parsed1,
    totals: &mut Totals,
    progress: &ProgressBar,
) -> Result<String> {
    let shown = file.shown();
    let (zone, zone_note, inferred) = match args.tz {
        ZoneChoice::Given(zone) => (zone, format!("{zone} (given)"), false),
        ZoneChoice::Auto => match parsed.votes.winner() {
            Some((zone, votes)) => (
                zone,
                format!(
                    "{zone} (inferred from {votes} of {} heartbeats)",
                    parsed.votes.total()
                ),
                true,
            ),
            None => {
                progress.suspend(|| {
                    eprintln!("miq-memlog: warning: {shown}: no Last Heartbeat to infer the zone from; times taken as UTC (set --tz to change)")
                });
                (UTC, "UTC (no heartbeats: assumed)".to_string(), false)
            }
        },
    };
    let meta = FileMeta {
        path: shown.clone(),
        hash: parsed.hash,
        quick_key: parsed.quick_key,
        size_bytes: file.size,
        compressed: parsed.compressed,
        host: host_of(args, file),
        zone,
        zone_inferred: inferred,
        partial: parsed.truncated,
        lines: parsed.lines,
        rejected: parsed.rejected,
    };
    let outcome = store
        .finish_file(seq as u64, &meta)
        .with_context(|| format!("storing {shown}"))?;
    let mut report = match outcome {
        FileOutcome::AlreadyIngested { path, host } => {
            totals.skipped += 1;
            return Ok(format!(
                "skipped   {shown}: already ingested (same bytes as {path}, host {host})"
            ));
        }
        FileOutcome::Ingested {
            samples_new,
            samples_present,
            events_new,
            events_present,
        } => {
            totals.ingested += 1;
            totals.samples_new += samples_new;
            totals.samples_present += samples_present;
            totals.events_new += events_new;
            format!(
                "ingested  {shown}: {samples_new} new samples, {samples_present} already present, \
                 {events_new} new events ({events_present} already present), {} rejected lines, zone {zone_note}",
                parsed.rejected
            )
        }
    };
    if parsed.truncated {
        report.push_str("; PARTIAL: the gzip data ends early, the readable part was kept");
    }
    if parsed.torn_last_line {
        report.push_str("; the last line is cut off and was not read");
    }
    for reject in &parsed.shown_rejects {
        report.push_str(&format!(
            "\n  rejected {shown}:{}: {}",
            reject.line_no, reject.reason
        ));
    }
    if parsed.rejected > parsed.shown_rejects.len() as u64 {
        report.push_str(&format!(
            "\n  ... and {} more rejected lines",
            parsed.rejected - parsed.shown_rejects.len() as u64
        ));
    }
    Ok(report)
}

/// Parses one log file on a worker thread, handing records to the writer.
/// Returns false once the writer has gone away.
fn parse_one(
    seq: usize,
    file: &InputFile,
    accept_truncated: bool,
    known: &Known,
    scanner: &Scanner,
    progress: &ProgressBar,
    tx: &SyncSender<Message>,
) -> bool {
    let message = match identify(file, known) {
        Ok(Identity::Known {
            earlier_path,
            earlier_host,
        }) => {
            progress.inc(file.size);
            Message::Known {
                seq,
                earlier_path,
                earlier_host,
            }
        }
        Ok(Identity::New { quick_key }) => {
            let result = parse_log(
                seq,
                file,
                quick_key,
                accept_truncated,
                scanner,
                progress,
                tx,
            );
            Message::Parsed { seq, result }
        }
        Err(e) => Message::Parsed {
            seq,
            result: Err(e),
        },
    };
    tx.send(message).is_ok()
}

enum Identity {
    Known {
        earlier_path: String,
        earlier_host: String,
    },
    New {
        quick_key: String,
    },
}

fn identify(file: &InputFile, known: &Known) -> Result<Identity> {
    let quick_key =
        quick_key(&file.path).with_context(|| format!("cannot read {}", file.shown()))?;
    if known.quick_keys.contains(&quick_key) {
        // Probably seen before: make sure by the whole content.
        let hash =
            content_hash(&file.path).with_context(|| format!("cannot read {}", file.shown()))?;
        if let Some((earlier_path, earlier_host)) = known.hashes.get(&hash).cloned() {
            return Ok(Identity::Known {
                earlier_path,
                earlier_host,
            });
        }
    }
    Ok(Identity::New { quick_key })
}

fn parse_log(
    seq: usize,
    file: &InputFile,
    quick_key: String,
    accept_truncated: bool,
    scanner: &Scanner,
    progress: &ProgressBar,
    tx: &SyncSender<Message>,
) -> Result<Parsed1> {
    let bar = progress.clone();
    let mut bytes = LogBytes::open(&file.path, accept_truncated, move |n| bar.inc(n))?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut votes = OffsetVotes::default();
    let mut rejected = 0u64;
    let mut shown_rejects = Vec::new();
    let mut reject = |line_no, reason| {
        rejected += 1;
        if shown_rejects.len() < SHOWN_REJECTS {
            shown_rejects.push(Reject { line_no, reason });
        }
    };
    let scanned = scanner.scan(&mut bytes, |candidate| match candidate {
        Candidate::Line { line_no, bytes } => match parse_line(bytes, line_no) {
            Parsed::Sample(sample) => {
                if let Some(heartbeat) = sample.heartbeat_utc_us {
                    votes.add(sample.local_us, heartbeat);
                }
                batch.push(Record::Sample(sample));
                if batch.len() == BATCH {
                    let records = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    let _ = tx.send(Message::Records { seq, records });
                }
            }
            Parsed::Event(event) => batch.push(Record::Event(event)),
            Parsed::Rejected(reason) => reject(line_no, reason),
            Parsed::Ignored => {}
        },
        Candidate::TooLong { line_no } => reject(line_no, too_long()),
    });
    let read = bytes.finish();
    let stats = scanned?;
    let read = read?;
    if !batch.is_empty() {
        let _ = tx.send(Message::Records {
            seq,
            records: batch,
        });
    }
    Ok(Parsed1 {
        lines: stats.lines,
        torn_last_line: stats.torn_last_line,
        rejected,
        shown_rejects,
        votes,
        hash: read.hash,
        quick_key,
        compressed: read.compressed,
        truncated: read.truncated,
    })
}

fn too_long() -> &'static str {
    const _: () = assert!(MAX_CANDIDATE_LINE == 16 << 20);
    "line longer than 16 MiB"
}
