//! The whole command-line interface at a glance. Each subcommand's arguments
//! live with its code in `src/cmd/`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cmd;

/// Turns ManageIQ / CloudForms appliance logs into a SQLite database of
/// per-process memory samples, and gets CSV and answers back out of it.
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
    /// List lifecycle events: memory limit exceeded, worker started, heap dump.
    Events(cmd::events::Args),
    /// Write selected samples out as CSV.
    Export(cmd::export::Args),
    /// Which processes and worker types leak, how fast, and after which messages.
    Report(cmd::report::Args),
    /// Print a shell completion script.
    Completions(cmd::completions::Args),
}
