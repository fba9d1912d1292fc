use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;

use crate::cmd::select_args::Selectors;
use crate::export::table::{print_table, TableFormat};
use crate::report::leak::{self, ReportBy as By};
use crate::store::{Access, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportBy {
    /// One row per process: trends, restarts, time to the limit, verdict.
    Process,
    /// One row per worker type of each host.
    Worker,
    /// One row per worker type and queue message kind: growth after those messages.
    Message,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: Selectors,
    /// What one row stands for.
    #[arg(long, value_enum, default_value = "process")]
    pub by: ReportBy,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    let by = match args.by {
        ReportBy::Process => By::Process,
        ReportBy::Worker => By::Worker,
        ReportBy::Message => By::Message,
    };
    print_table(
        &leak::table(&store, &selection, by, args.select.tz)?,
        args.format,
    )?;
    Ok(ExitCode::SUCCESS)
}
