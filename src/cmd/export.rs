use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::ValueEnum;

use crate::cmd::report::reports_by_process;
use crate::cmd::select_args::{selected_processes, sources_for, Selectors};
use crate::export::csv::SampleCsv;
use crate::export::files::{ensure_dir, write_whole};
use crate::export::gnuplot::{
    write_data, write_impulses, write_script, FileNamer, SampleBlock, ScriptSpec,
};
use crate::store::{Access, Selection, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One row per sample: time,host,pid,worker,source,rss,pss,uss,vsz,live,old,msg_id,msg_class,msg_method.
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
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    match args.format {
        ExportFormat::Csv if args.trend => {
            bail!("--trend draws lines in gnuplot scripts: use it with --format gnuplot")
        }
        ExportFormat::Csv => export_csv(&store, &selection, args.out.as_deref()),
        ExportFormat::Gnuplot => {
            let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("output"));
            export_gnuplot(&store, &selection, &args.select, &dir, args.trend)
        }
    }
}

fn export_csv(store: &Store, selection: &Selection, out: Option<&Path>) -> Result<ExitCode> {
    let write_csv = |out: &mut dyn Write| -> Result<()> {
        let mut csv = SampleCsv::new(out)?;
        store.for_each_sample(selection, |row| csv.write_row(row))?;
        csv.finish()
    };
    match out {
        None => write_csv(&mut BufWriter::with_capacity(1 << 16, io::stdout().lock()))?,
        Some(path) => write_whole(path, write_csv)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The `#` lines heading every exported file: enough to tell how it was made, and
/// nothing that changes between two runs over the same database.
pub fn provenance(store: &Store, select: &Selectors) -> Result<Vec<String>> {
    let (files, digest) = store.source_set()?;
    Ok(vec![
        format!("miq-memlog {}", env!("CARGO_PKG_VERSION")),
        format!("selection: {}", select.describe()),
        format!("zone: {}", select.tz),
        format!("database: {files} ingested log files, content digest {digest}"),
    ])
}

fn export_gnuplot(
    store: &Store,
    selection: &Selection,
    select: &Selectors,
    dir: &Path,
    trend: bool,
) -> Result<ExitCode> {
    let processes = selected_processes(store, selection, select)?;
    let reports = if trend {
        reports_by_process(store, selection)?
    } else {
        Default::default()
    };
    let zone = select.tz;
    let base_header = provenance(store, select)?;
    ensure_dir(dir)?;
    let mut namer = FileNamer::new(selection.from_us, selection.to_us, zone);
    let mut stderr = io::stderr().lock();
    for process in &processes {
        let blocks: Vec<SampleBlock> = sources_for(process, selection, select.source.is_some())
            .into_iter()
            .map(|source| {
                Ok(SampleBlock {
                    source,
                    samples: store.process_samples(process, selection, source)?,
                })
            })
            .collect::<Result<_>>()?;
        let first_us = blocks
            .iter()
            .filter_map(|b| b.samples.first().map(|s| s.ts_us))
            .min()
            .unwrap_or(process.first_us);
        let last_us = blocks
            .iter()
            .filter_map(|b| b.samples.last().map(|s| s.ts_us))
            .max()
            .unwrap_or(process.last_us);
        let events = store.process_events(process, selection)?;
        let stem = namer.name(
            &process.host,
            &process.pid.to_string(),
            first_us,
            &process.worker,
        );
        let mut header = base_header.clone();
        header.push(format!(
            "process: host {} pid {} worker {}",
            process.host, process.pid, process.worker
        ));
        let window = format!(
            "{} to {} ({zone})",
            zone.format_local(first_us, "%Y-%m-%d %H:%M"),
            zone.format_local(last_us, "%Y-%m-%d %H:%M")
        );
        write_whole(&dir.join(format!("{stem}.data")), |w| {
            write_data(&mut *w, &header, &blocks, zone)
        })?;
        write_whole(&dir.join(format!("{stem}.impulses")), |w| {
            write_impulses(&mut *w, &header, &events, zone)
        })?;
        let spec = ScriptSpec {
            stem: &stem,
            process,
            blocks: &blocks,
            events: &events,
            zone,
            window,
            trend: reports.get(&process.process_id),
        };
        write_whole(&dir.join(format!("{stem}.gp")), |w| {
            write_script(&mut *w, &header, &spec)
        })?;
        writeln!(
            stderr,
            "wrote {}",
            dir.join(format!("{stem}.{{data,impulses,gp}}")).display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
