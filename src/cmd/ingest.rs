//! `ingest`: the paths given -> the input files under them -> the ingest
//! pipeline (`crate::ingest`) -> a report line per file and the totals.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::ingest::{self, FileReport, HostRule, Options};
use crate::input::{discover, InputFile};
use crate::store::{Access, Store};
use crate::zone::ZoneChoice;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Label for everything read in this run: the appliance the files came from.
    /// PIDs of different hosts never mix. Without it, a journal export's
    /// records are their machine's (`_HOSTNAME`), a pod's its pod's, anything
    /// else the host "appliance"; with it, pods are named HOST/POD.
    #[arg(long, value_name = "NAME", conflicts_with = "host_from_folder")]
    pub host: Option<String>,
    /// Label each PATH with its own name when it is a folder (one folder per
    /// appliance), or with its parent folder's name when it is a file.
    #[arg(long)]
    pub host_from_folder: bool,
    /// The appliance's time zone for log times without one: auto (infer the
    /// offset from each file's `Last Heartbeat [.. UTC]` fields, per stretch of
    /// the file where daylight saving changes it), UTC, +HH:MM / -HH:MM, or an
    /// IANA name such as America/New_York (daylight saving included).
    #[arg(
        long,
        default_value = "auto",
        value_name = "ZONE",
        allow_hyphen_values = true
    )]
    pub tz: ZoneChoice,
    /// The year of the first line of journal text without years (`journalctl
    /// -o short`, `-o short-precise`, `/var/log/messages`); default: the year of
    /// the file's modification time (the year before for a file begun in a
    /// later month than it was modified in).
    #[arg(long, value_name = "YYYY", value_parser = clap::value_parser!(i64).range(1970..=9999))]
    pub year: Option<i64>,
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
    /// Log files, journal exports, pod output, heap dumps
    /// (<prefix>_<epoch>_<pid>.dump[.gz]) and folders of them, plain or gzip,
    /// each read for what its content is. Folders are walked recursively for
    /// names holding `.log`, `journal`, `messages` or `.json`, and heap-dump names.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    few_malloc_arenas();
    let (inputs, walk_errors) = discover(&args.paths);
    for e in &walk_errors {
        eprintln!("miq-memlog: cannot read {e}");
    }
    let mut store = Store::open(db, Access::ReadWrite)?;
    let options = Options {
        hosts: match (&args.host, args.host_from_folder) {
            (Some(host), _) => HostRule::Given(host.clone()),
            (None, true) => HostRule::FromFolder(args.paths.clone()),
            (None, false) => HostRule::FromFile,
        },
        zone: args.tz,
        accept_truncated: args.accept_truncated,
        jobs: args.jobs,
        year: args.year,
    };
    let bar = progress_bar(&inputs, args.quiet);
    let progress = {
        let bar = bar.clone();
        Arc::new(move |n| bar.inc(n))
    };
    let mut out = io::stdout().lock();
    let totals = ingest::run(&mut store, &inputs, &options, progress, |report| {
        bar.suspend(|| print_report(&mut out, report, args.quiet))
    })?;
    bar.finish_and_clear();
    let failed = totals.failed + walk_errors.len();
    if !args.quiet {
        let totals = ingest::Totals { failed, ..totals };
        writeln!(out, "{totals}")?;
    }
    out.flush()?;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(out: &mut impl Write, report: &FileReport, quiet: bool) -> Result<()> {
    match report {
        FileReport::Log(log) => {
            for warning in &log.warnings {
                eprintln!("miq-memlog: warning: {}: {warning}", log.path);
            }
            if !quiet {
                writeln!(out, "{log}")?;
            }
        }
        FileReport::Skipped { path, earlier } if !quiet => writeln!(
            out,
            "skipped   {path}: already ingested (same bytes as {}, host {})",
            earlier.path, earlier.host
        )?,
        FileReport::Failed { path, error } => {
            eprintln!("miq-memlog: {path}: {error:#} (nothing from this file was stored)")
        }
        FileReport::Dump {
            path,
            content: Some(content),
            ..
        } => {
            if let Some(first) = content.first_bad_line {
                eprintln!(
                    "miq-memlog: warning: {path}: {} bad lines skipped (first: line {first})",
                    content.bad_lines
                );
            }
            if !quiet {
                writeln!(out, "dump      {path}: {content}")?;
            }
        }
        FileReport::Skipped { .. } | FileReport::Dump { .. } => {}
    }
    Ok(())
}

fn progress_bar(inputs: &[InputFile], quiet: bool) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let total: u64 = inputs.iter().map(|f| f.size).sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// glibc gives each thread that allocates a malloc arena of its own, and an
/// ingest's reading, parsing and writing threads each keep freed blocks in
/// theirs: with two arenas the peak memory of a many-file ingest fell by a
/// fifth (60 MB to 49 MB on the patched-fleet benchmark) at the same speed.
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it is called before the
    // ingest starts any thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
