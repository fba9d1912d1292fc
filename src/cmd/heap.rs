//! `heap`: the leak finding over each process's heap dumps: what every window
//! between consecutive dumps retained, the sites retaining window after window
//! first, who holds them, a path from a ROOT, and a verdict per process.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cmd::select_args::Selectors;
use crate::export::table::{print_table, write_table, TableFormat};
use crate::report::heap::{
    flat_table, heap_report, holders_table, json_report, paths_table, sites_table, windows_table,
};
use crate::report::leak::iso_seconds;
use crate::store::{Access, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: Selectors,
    /// Output format: table (sections per process), csv (a row per process,
    /// window and site), json (one document).
    #[arg(long, value_enum, default_value = "table")]
    pub format: TableFormat,
    /// Sites shown per process.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    let zone = args.select.tz;
    let processes = heap_report(&store, &selection)?;
    match args.format {
        TableFormat::Csv => print_table(&flat_table(&processes, zone, args.top), args.format)?,
        TableFormat::Json => {
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &json_report(&processes, zone, args.top))?;
            writeln!(out)?;
        }
        TableFormat::Table => {
            let mut out = std::io::stdout().lock();
            if processes.is_empty() {
                writeln!(
                    out,
                    "no process with two or more heap dumps read (dumps lists them)"
                )?;
            }
            for (i, p) in processes.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                let (first, last) = (&p.dumps[0], &p.dumps[p.dumps.len() - 1]);
                let worker = if p.worker.is_empty() {
                    "worker unknown"
                } else {
                    &p.worker
                };
                writeln!(
                    out,
                    "{} pid {} ({worker}): {} dumps, {} .. {}",
                    p.host,
                    p.pid,
                    p.dumps.len(),
                    iso_seconds(zone, first.ts_us),
                    iso_seconds(zone, last.ts_us)
                )?;
                writeln!(
                    out,
                    "verdict: {}: {}",
                    p.analysis.verdict.as_str(),
                    p.analysis.reason
                )?;
                let sections = [
                    ("retained per window (allocated in it, still live at the dump after it)", windows_table(p, zone)),
                    ("sites, retaining in the most windows first", sites_table(p, args.top)),
                    ("held by (the first object older than the window on the shortest path from a ROOT)", holders_table(p, args.top)),
                    ("one shortest path from a ROOT", paths_table(p, args.top)),
                ];
                for (title, table) in sections {
                    if table.rows.is_empty() {
                        continue;
                    }
                    writeln!(out, "\n{title}")?;
                    write_table(&mut out, &table, TableFormat::Table)?;
                }
            }
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
