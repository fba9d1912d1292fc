use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::ValueEnum;

use crate::cmd::select_args::Selectors;
use crate::export::csv::SampleCsv;
use crate::export::files::{ensure_dir, write_whole, FileNamer};
use crate::export::gnuplot::{write_data, write_impulses, write_script, ScriptSpec};
use crate::report::{for_each_process_files, provenance, selected_processes};
use crate::store::{Access, Selection, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One row per sample: time,host,pid,worker,source,rss,pss,uss,vsz,live,old,msg_id,msg_class,msg_method
    /// (and swap,gc_ms,msg_ms,msgs with --wide).
    Csv,
    /// Per process <name>.data (TIME PSS RSS Live Old), <name>.impulses (heap dumps)
    /// and <name>.gp (a gnuplot script drawing them to <name>.png).
    Gnuplot,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to write.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    #[command(flatten)]
    pub select: Selectors,
    /// csv: write this file instead of standard output (replaced whole, never
    /// half-written). gnuplot: the folder for the files [default: output/].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// gnuplot: the `.gp` also draws each process's RSS trend, the Theil–Sen
    /// line of `report` (same selectors, same samples), as a function with its
    /// slope in MB/h in the key (and the old-objects trend when old objects decide
    /// the verdict). The `.data` and `.impulses` files are the same either way.
    #[arg(long)]
    pub trend: bool,
    /// csv: also the columns only the appliance enrichment fills: swap (bytes),
    /// gc_ms (its forced GC), msg_ms (the message's delivery), msgs (messages
    /// the process had delivered).
    #[arg(long)]
    pub wide: bool,
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    match args.format {
        ExportFormat::Csv if args.trend => {
            bail!("--trend draws lines in gnuplot scripts: use it with --format gnuplot")
        }
        ExportFormat::Csv => export_csv(&store, &selection, args.out.as_deref(), args.wide),
        ExportFormat::Gnuplot if args.wide => {
            bail!("--wide adds CSV columns: use it with --format csv")
        }
        ExportFormat::Gnuplot => {
            let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("output"));
            export_gnuplot(&store, &selection, &args.select, &dir, args.trend)
        }
    }
}

fn export_csv(
    store: &Store,
    selection: &Selection,
    out: Option<&Path>,
    wide: bool,
) -> Result<ExitCode> {
    let write_csv = |out: &mut dyn Write| -> Result<()> {
        let mut csv = SampleCsv::new(out, wide)?;
        store.for_each_sample(selection, |row| csv.write_row(row))?;
        csv.finish()
    };
    match out {
        None => write_csv(&mut BufWriter::with_capacity(1 << 16, io::stdout().lock()))?,
        Some(path) => write_whole(path, write_csv)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn export_gnuplot(
    store: &Store,
    selection: &Selection,
    select: &Selectors,
    dir: &Path,
    trend: bool,
) -> Result<ExitCode> {
    let zone = select.tz;
    let described = select.describe();
    let processes = selected_processes(store, selection, &described, zone)?;
    let base_header = provenance(store, &described, zone)?;
    ensure_dir(dir)?;
    let mut namer = FileNamer::new(selection.from_us, selection.to_us, zone);
    let mut stderr = io::stderr().lock();
    let draw = select.draw_options(trend);
    for_each_process_files(store, selection, &processes, &draw, |files| {
        let process = files.process;
        let key = files.key();
        let stem = namer.name(&key.host, &key.label, key.first_us, &key.worker);
        let mut header = base_header.clone();
        header.push(format!(
            "process: host {} pid {} worker {}",
            process.host, process.pid, process.worker
        ));
        write_whole(&dir.join(format!("{stem}.data")), |w| {
            write_data(&mut *w, &header, &files.blocks, zone)
        })?;
        write_whole(&dir.join(format!("{stem}.impulses")), |w| {
            write_impulses(&mut *w, &header, &files.events, zone)
        })?;
        let spec = ScriptSpec {
            stem: &stem,
            process,
            blocks: &files.blocks,
            events: &files.events,
            zone,
            window: files.span_text(zone),
            trend: files.trend.as_ref(),
        };
        write_whole(&dir.join(format!("{stem}.gp")), |w| {
            write_script(&mut *w, &header, &spec)
        })?;
        writeln!(
            stderr,
            "wrote {}",
            dir.join(format!("{stem}.{{data,impulses,gp}}")).display()
        )?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
