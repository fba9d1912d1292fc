//! The whole command-line interface at a glance. Each subcommand's arguments
//! live with its code in `src/cmd/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cmd;

/// Turns ManageIQ / CloudForms appliance logs into a SQLite database of
/// per-process memory samples, and gets CSV, gnuplot files, charts and answers
/// back out of it.
#[derive(Debug, Parser)]
#[command(
    name = "miq-memlog",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The SQLite database file.
    #[arg(
        long,
        global = true,
        env = "MIQ_MEMLOG_DB",
        default_value = "miq-memlog.db",
        value_name = "PATH"
    )]
    pub db: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read log files, heap dumps and folders of them into the database.
    Ingest(cmd::ingest::Args),
    /// List the log files ingested so far.
    Files(cmd::files::Args),
    /// List worker types: hosts, processes, samples, first and last time.
    Workers(cmd::workers::Args),
    /// List selected processes: samples per source, dumps, restarts, RSS.
    Pids(cmd::pids::Args),
    /// List lifecycle events: memory limit exceeded, worker started, heap dump.
    Events(cmd::events::Args),
    /// List heap dumps: what each holds beside the process's RSS and PSS at its time.
    Dumps(cmd::dumps::Args),
    /// What each process's heap dumps retained window after window, where and held by what.
    Heap(cmd::heap::Args),
    /// Write selected samples out as CSV, or as gnuplot data files and scripts.
    Export(cmd::export::Args),
    /// Which processes and worker types leak, how fast, and after which messages.
    Report(cmd::report::Args),
    /// Draw memory charts (PNG or SVG), one per process or one per worker type.
    Plot(cmd::plot::Args),
    /// Write one self-contained HTML report: verdicts, interactive charts, messages, dumps.
    Html(cmd::html::Args),
    /// Run one read-only SQL statement against the database.
    Sql(cmd::sql::Args),
    /// Run a named query from queries/ (query --list shows them).
    Query(cmd::query::Args),
    /// Print a shell completion script.
    Completions(cmd::completions::Args),
    /// Write synthetic appliance logs with a known truth (for tests and benchmarks).
    Generate(cmd::generate::Args),
    /// Print the appliance enrichment (miq_memlog.rb) and how to install it.
    Appliance(cmd::appliance::Args),
    /// Whether the logs carry per-message samples, with which settings, and what is missing.
    Check(cmd::check::Args),
}
