//! `generate`: synthetic appliance logs with a known truth, for tests, benchmarks
//! and trying the tool out without real logs.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::synth::{self, parse_size, Plan, WorkerSpec};
use crate::zone::Zone;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write into: one folder per appliance (appliance-01, ...) holding
    /// rotated logs evm.log-YYYYMMDD[.gz] and tmp/ heap dumps, and truth.csv.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Same seed and options, byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of appliances.
    #[arg(long, default_value_t = 1, value_name = "K")]
    pub appliances: usize,
    /// Days of logs per appliance, one file per day.
    #[arg(long, default_value_t = 1, value_name = "D")]
    pub days: u32,
    /// The first day (local date of the appliance).
    #[arg(long, default_value = "2017-03-01", value_name = "YYYY-MM-DD")]
    pub start: String,
    /// The appliances' clock: UTC, +HH:MM / -HH:MM or an IANA name.
    #[arg(
        long,
        default_value = "UTC",
        value_name = "ZONE",
        allow_hyphen_values = true
    )]
    pub tz: Zone,
    /// Approximate uncompressed size of each log file (e.g. 256M, 1G), filled with
    /// noise lines; 0 for a natural mix (about 3 noise lines per memory line).
    #[arg(long, default_value = "0", value_parser = parse_size, value_name = "BYTES")]
    pub size: u64,
    /// Write plain text instead of gzip.
    #[arg(long)]
    pub plain: bool,
    /// gzip compression level, 1 (fast) to 9 (small).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9))]
    pub level: u32,
    /// Long noise lines (10 KB up to --max-line bytes) per file; default one per 64 MiB of --size.
    #[arg(long, value_name = "N")]
    pub long_lines: Option<u32>,
    /// The longest long line.
    #[arg(long, default_value = "4M", value_parser = parse_size, value_name = "BYTES")]
    pub max_line: u64,
    /// Make every noise line this long (e.g. 200 or 5M), to compare line lengths.
    #[arg(long, value_parser = parse_size, value_name = "BYTES")]
    pub line_bytes: Option<u64>,
    /// Seconds between log_status rounds of the server.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub status_every: u64,
    /// A patched worker writes a heap dump every N queue messages (0: never).
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub dump_every: u64,
    /// Seconds between queue messages of every worker (overrides each spec's interval).
    #[arg(long, value_name = "SECS")]
    pub interval: Option<f64>,
    /// A worker kind, replacing the default set when given (repeat for several):
    /// CLASS[:key=value,...] with keys patched=yes|no, base (MB), leak (MB/h of RSS),
    /// old (old objects/h), noise (MB), limit (MB), interval (s), kinds
    /// (Class.method+Class.method) and cause (the message kind that causes all growth).
    /// E.g. MiqGenericWorker:leak=8,old=20000,cause=MiqReport.generate_table,limit=500
    #[arg(long = "worker", value_name = "SPEC", value_parser = parse_worker)]
    pub workers: Vec<WorkerSpec>,
}

fn parse_worker(s: &str) -> Result<WorkerSpec, String> {
    WorkerSpec::parse(s).map_err(|e| format!("{e:#}"))
}

fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 {
        return None;
    }
    let mut padded = s.as_bytes().to_vec();
    padded.extend_from_slice(b"T00:00:00");
    crate::parse::time::parse_datetime(&padded).map(|(us, _)| us)
}

pub fn run(args: Args) -> Result<ExitCode> {
    let Some(start_local_us) = parse_date(&args.start) else {
        bail!("--start {:?} is not a date YYYY-MM-DD", args.start);
    };
    if args.appliances == 0 || args.days == 0 {
        bail!("--appliances and --days must be at least 1");
    }
    let mut workers = if args.workers.is_empty() {
        WorkerSpec::defaults()
    } else {
        args.workers
    };
    if let Some(interval) = args.interval {
        if !(interval.is_finite() && interval >= 0.01) {
            bail!("--interval must be at least 0.01 seconds");
        }
        for w in &mut workers {
            w.interval_s = interval;
        }
    }
    let plan = Plan {
        seed: args.seed,
        out: args.out,
        appliances: args.appliances,
        days: args.days,
        start_local_us,
        zone: args.tz,
        size: args.size,
        gzip: !args.plain,
        level: args.level,
        long_lines: args.long_lines,
        max_line: args.max_line,
        line_bytes: args.line_bytes,
        status_every_s: args.status_every.max(1),
        dump_every: args.dump_every,
        workers,
    };
    let written = synth::generate(&plan)?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "generated {} log files ({} bytes uncompressed, {} lines) in {}: {} patched and {} status samples, {} memory_exceeded, {} worker_started, {} heap dumps; truth in {}",
        written.files,
        written.bytes,
        written.lines,
        plan.out.display(),
        written.patch_samples,
        written.status_samples,
        written.exceeded,
        written.started,
        written.dumps,
        plan.out.join("truth.csv").display(),
    )?;
    Ok(ExitCode::SUCCESS)
}
