use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::analysis::process::ProcessReport;
use crate::cmd::report::reports_by_process;
use crate::cmd::select_args::{selected_processes, sources_for, Selectors};
use crate::export::chart::{overlay_chart, process_chart, render, ImageFormat, ProcessData};
use crate::export::files::ensure_dir;
use crate::export::gnuplot::{file_stem, unique_stem};
use crate::store::{Access, ProcessSummary, Selection, Store};
use crate::zone::Zone;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlotFormat {
    Png,
    Svg,
}

/// Draws memory charts without any external program: per process RSS and PSS
/// (bytes, left axis), live and old objects (right axis, patched samples only),
/// heap dumps (brown lines with a triangle) and restarts (dashed red lines:
/// memory_exceeded events). Files are named like the gnuplot export. With
/// --trend, the leak report's fitted RSS line too.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub select: Selectors,
    /// Image format.
    #[arg(long, value_enum, default_value = "png")]
    pub format: PlotFormat,
    /// Folder for the images.
    #[arg(long, value_name = "DIR", default_value = "output")]
    pub out: PathBuf,
    /// One chart per host and worker type with all its selected processes
    /// (the sawtooth of restarts across pids), instead of one per process.
    #[arg(long)]
    pub overlay: bool,
    /// Image size in pixels, WIDTHxHEIGHT.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Draw each process's RSS trend, the Theil–Sen line of `report` (same
    /// selectors, same samples), with its slope in MB/h in the legend; and its
    /// old-objects trend when old objects decide its verdict (not with --overlay).
    #[arg(long)]
    pub trend: bool,
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("'{text}' is not WIDTHxHEIGHT"))?;
    let w: u32 = w
        .parse()
        .map_err(|_| format!("'{text}' is not WIDTHxHEIGHT"))?;
    let h: u32 = h
        .parse()
        .map_err(|_| format!("'{text}' is not WIDTHxHEIGHT"))?;
    if !(200..=10000).contains(&w) || !(150..=10000).contains(&h) {
        return Err(format!("{text}: width 200 to 10000, height 150 to 10000"));
    }
    Ok((w, h))
}

fn window_text(first_us: i64, last_us: i64, zone: Zone, sel: &Selection) -> String {
    let fmt = |us| zone.format_local(us, "%Y-%m-%d %H:%M");
    let mut text = format!("{} to {} ({zone})", fmt(first_us), fmt(last_us));
    if sel.from_us.is_some() || sel.to_us.is_some() {
        text.push_str(&format!(
            "; window {} to {}",
            sel.from_us.map_or("start".to_string(), fmt),
            sel.to_us.map_or("end".to_string(), fmt)
        ));
    }
    text
}

pub fn run(db: &Path, args: Args) -> Result<ExitCode> {
    let selection = args.select.selection()?;
    let store = Store::open(db, Access::ReadOnly)?;
    let processes = selected_processes(&store, &selection, &args.select)?;
    let zone = args.select.tz;
    let (format, ext) = match args.format {
        PlotFormat::Png => (ImageFormat::Png, "png"),
        PlotFormat::Svg => (ImageFormat::Svg, "svg"),
    };
    ensure_dir(&args.out)?;
    let all = args.select.source.is_some();
    let mut reports = if args.trend {
        reports_by_process(&store, &selection)?
    } else {
        HashMap::new()
    };
    let mut used = HashSet::new();
    let mut stderr = io::stderr().lock();
    if args.overlay {
        let mut groups: BTreeMap<(&str, &str), Vec<&ProcessSummary>> = BTreeMap::new();
        for p in &processes {
            groups.entry((&p.host, &p.worker)).or_default().push(p);
        }
        for ((host, worker), members) in groups {
            let mut drawn = Vec::new();
            for process in members {
                drawn.push(load(&store, &selection, all, process, &mut reports)?);
            }
            let first_us = drawn
                .iter()
                .map(|d| d.process.first_us)
                .min()
                .unwrap_or_default();
            let last_us = drawn
                .iter()
                .map(|d| d.process.last_us)
                .max()
                .unwrap_or_default();
            let chart = overlay_chart(
                host,
                worker,
                &drawn,
                zone,
                &window_text(first_us, last_us, zone, &selection),
            );
            let short = worker.rsplit("::").next().unwrap_or(worker);
            let stem = unique_stem(
                &mut used,
                file_stem(
                    host,
                    &format!("{short}_overlay"),
                    first_us,
                    selection.from_us,
                    selection.to_us,
                    zone,
                ),
                worker,
            );
            let path = args.out.join(format!("{stem}.{ext}"));
            draw_to(&chart, &path, format, args.size)?;
            writeln!(stderr, "wrote {}", path.display())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    for process in &processes {
        let data = load(&store, &selection, all, process, &mut reports)?;
        let first_us = data
            .sources
            .iter()
            .filter_map(|(_, s)| s.first().map(|s| s.ts_us))
            .min()
            .unwrap_or(process.first_us);
        let chart = process_chart(
            &data,
            zone,
            &window_text(first_us, process.last_us, zone, &selection),
        );
        let stem = unique_stem(
            &mut used,
            file_stem(
                &process.host,
                &process.pid.to_string(),
                first_us,
                selection.from_us,
                selection.to_us,
                zone,
            ),
            &process.worker,
        );
        let path = args.out.join(format!("{stem}.{ext}"));
        draw_to(&chart, &path, format, args.size)?;
        writeln!(stderr, "wrote {}", path.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A process's samples per source, never merged (the sources differ in rate and
/// fields), its dumps and restarts, and its report when trends are drawn.
fn load<'a>(
    store: &Store,
    selection: &Selection,
    all: bool,
    process: &'a ProcessSummary,
    reports: &mut HashMap<i64, ProcessReport>,
) -> Result<ProcessData<'a>> {
    let mut sources = Vec::new();
    for source in sources_for(process, selection, all) {
        sources.push((source, store.process_samples(process, selection, source)?));
    }
    Ok(ProcessData {
        process,
        sources,
        events: store.process_events(process, selection)?,
        trend: reports.remove(&process.process_id),
    })
}

/// Renders through a `.partial` file renamed into place, like every other output.
fn draw_to(
    chart: &crate::export::chart::Chart,
    path: &Path,
    format: ImageFormat,
    size: (u32, u32),
) -> Result<()> {
    // The image encoder goes by the extension, so it stays last.
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("png");
    let tmp = path.with_extension(format!("partial.{ext}"));
    if let Err(e) = render(chart, &tmp, format, size) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("drawing {}", path.display())));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
