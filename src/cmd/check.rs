//! `check`: whether the selected logs carry what a leak hunt needs.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cmd::select_args::ListArgs;
use crate::export::table::{write_table, TableFormat};
use crate::report::check::check;
use crate::store::{Access, Store};

/// Per host and worker type: whether the logs carry the appliance enrichment,
/// the seed's patch or only stock log_status lines, with which settings,
/// messages sampled against delivered, gaps, heap dumps announced against
/// those ingested; then a line for each problem found. The exit status is 1
/// when there is one.
pub type Args = ListArgs;

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    let found = check(&store, &selection, args.select.tz)?;
    let mut out = io::stdout().lock();
    write_table(&mut out, &found.table(), args.format)?;
    // Problems follow a table for people; beside CSV or JSON they go to stderr.
    for problem in &found.problems {
        if args.format == TableFormat::Table {
            writeln!(out, "problem: {problem}")?;
        } else {
            eprintln!("miq-memlog: problem: {problem}");
        }
    }
    out.flush()?;
    Ok(if found.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
