use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::analysis::process::ProcessReport;
use crate::cmd::report::reports_by_process;
use crate::cmd::select_args::{selected_processes, sources_for, Selectors};
use crate::export::chart::{overlay_chart, process_chart, render, Chart, ImageFormat, ProcessData};
use crate::export::files::ensure_dir;
use crate::export::gnuplot::FileNamer;
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
    let (format, ext) = match args.format {
        PlotFormat::Png => (ImageFormat::Png, "png"),
        PlotFormat::Svg => (ImageFormat::Svg, "svg"),
    };
    ensure_dir(&args.out)?;
    let mut stderr = io::stderr().lock();
    for_each_chart(&store, &selection, &args, &processes, |stem, chart| {
        let path = args.out.join(format!("{stem}.{ext}"));
        draw_to(&chart, &path, format, args.size)?;
        writeln!(stderr, "wrote {}", path.display())?;
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Builds the charts one at a time (a chart holds its samples) and hands each to
/// `draw` with its file stem.
fn for_each_chart(
    store: &Store,
    selection: &Selection,
    args: &Args,
    processes: &[ProcessSummary],
    mut draw: impl FnMut(String, Chart) -> Result<()>,
) -> Result<()> {
    let zone = args.select.tz;
    let all = args.select.source.is_some();
    let mut reports = if args.trend {
        reports_by_process(store, selection)?
    } else {
        HashMap::new()
    };
    let mut namer = FileNamer::new(selection.from_us, selection.to_us, zone);
    if args.overlay {
        let mut groups: BTreeMap<(&str, &str), Vec<&ProcessSummary>> = BTreeMap::new();
        for p in processes {
            groups.entry((&p.host, &p.worker)).or_default().push(p);
        }
        for ((host, worker), members) in groups {
            let mut drawn = Vec::new();
            for process in members {
                drawn.push(load(store, selection, all, process, &mut reports)?);
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
                &window_text(first_us, last_us, zone, selection),
            );
            let short = worker.rsplit("::").next().unwrap_or(worker);
            let stem = namer.name(host, &format!("{short}_overlay"), first_us, worker);
            draw(stem, chart)?;
        }
        return Ok(());
    }
    for process in processes {
        let data = load(store, selection, all, process, &mut reports)?;
        let first_us = data
            .sources
            .iter()
            .filter_map(|(_, s)| s.first().map(|s| s.ts_us))
            .min()
            .unwrap_or(process.first_us);
        let chart = process_chart(
            &data,
            zone,
            &window_text(first_us, process.last_us, zone, selection),
        );
        let stem = namer.name(
            &process.host,
            &process.pid.to_string(),
            first_us,
            &process.worker,
        );
        draw(stem, chart)?;
    }
    Ok(())
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
fn draw_to(chart: &Chart, path: &Path, format: ImageFormat, size: (u32, u32)) -> Result<()> {
    // The image encoder goes by the extension, so it stays last.
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("png");
    let tmp = path.with_extension(format!("partial.{ext}"));
    if let Err(e) = render(chart, &tmp, format, size) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("drawing {}", path.display())));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{BYTES_PER_MB, US_PER_HOUR};
    use crate::cmd::report::{analyse_all, process_table};
    use crate::export::chart::{Axis, LineStyle};
    use crate::export::table::{write_table, TableFormat};
    use clap::Parser;

    #[derive(Parser)]
    struct Command<A: clap::Args> {
        #[command(flatten)]
        args: A,
    }

    fn parse<A: clap::Args>(args: &[&str]) -> A {
        Command::<A>::parse_from(std::iter::once("miq-memlog").chain(args.iter().copied())).args
    }

    /// The fixture appliances ingested as the integration tests do.
    fn fixture_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let fixture = |rel: &str| format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
        let a = [fixture("appliance-a"), fixture("trip2/appliance-a")];
        let b = fixture("appliance-b");
        for (host, paths) in [("appliance-a", &a[..]), ("appliance-b", &[b][..])] {
            let mut args = vec!["-q", "--host", host];
            args.extend(paths.iter().map(String::as_str));
            crate::cmd::ingest::run(&db, parse(&args)).unwrap();
        }
        let store = Store::open(&db, Access::ReadOnly).unwrap();
        (dir, store)
    }

    /// `report --format csv` for the selectors: rss_mb_per_hour and start by pid.
    /// pid -> (rss_mb_per_hour, start, old_per_hour when the basis is old).
    type ReportRow = (f64, String, Option<f64>);

    fn report_slopes(store: &Store, selectors: &[&str]) -> BTreeMap<i64, ReportRow> {
        let args: crate::cmd::report::Args = parse(selectors);
        let selection = args.select.selection().unwrap();
        let processes = store.report_processes(&selection).unwrap();
        let table = process_table(
            &analyse_all(store, &processes, &selection).unwrap(),
            args.select.tz,
        );
        let mut csv = Vec::new();
        write_table(&mut csv, &table, TableFormat::Csv).unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_slice());
        let header = reader.headers().unwrap().clone();
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let (pid, slope, start) = (column("pid"), column("rss_mb_per_hour"), column("start"));
        let (old, basis) = (column("old_per_hour"), column("basis"));
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (
                    r[pid].parse().unwrap(),
                    (
                        r[slope].parse().unwrap(),
                        r[start].to_string(),
                        (&r[basis] == "old").then(|| r[old].parse().unwrap()),
                    ),
                )
            })
            .collect()
    }

    fn charts(store: &Store, args: &[&str]) -> Vec<(String, Chart)> {
        let args: Args = parse(args);
        let selection = args.select.selection().unwrap();
        let processes = selected_processes(store, &selection, &args.select).unwrap();
        let mut charts = Vec::new();
        for_each_chart(store, &selection, &args, &processes, |stem, chart| {
            charts.push((stem, chart));
            Ok(())
        })
        .unwrap();
        charts
    }

    /// The slope (MB/h) and start of a drawn trend line, read back from its points.
    fn drawn_slope(points: &[(i64, f64)]) -> (f64, i64) {
        let (first, last) = (points[0], points[points.len() - 1]);
        let hours = (last.0 - first.0) as f64 / US_PER_HOUR;
        ((last.1 - first.1) / BYTES_PER_MB / hours, first.0)
    }

    #[test]
    fn trend_lines_are_the_reports_fits() {
        let (_dir, store) = fixture_store();
        let mut checked_old = 0;
        for selectors in [
            &["--worker", "MetricsProcessor"][..],
            &[
                "--worker",
                "MetricsProcessor",
                "--from",
                "2017-03-01T06:00",
                "--to",
                "2017-03-02 18:00",
            ],
            &[
                "--host",
                "appliance-a",
                "--pid",
                "2922",
                "--source",
                "status",
            ],
            &["--host", "appliance-b", "--tz", "America/New_York"],
        ] {
            let report = report_slopes(&store, selectors);
            let mut plot_args = vec!["--trend"];
            plot_args.extend_from_slice(selectors);
            let drawn = charts(&store, &plot_args);
            assert_eq!(drawn.len(), report.len(), "{selectors:?}");
            for (stem, chart) in &drawn {
                let trends: Vec<_> = chart
                    .series
                    .iter()
                    .filter(|s| s.style == LineStyle::Trend && s.axis == Axis::Bytes)
                    .collect();
                assert_eq!(trends.len(), 1, "{stem}");
                let pid: i64 = chart.title.rsplit(' ').next().unwrap().parse().unwrap();
                let (slope, start, old) = &report[&pid];
                let (rss_slope, drawn_start) = drawn_slope(&trends[0].points);
                assert_eq!((rss_slope * 1000.0).round() / 1000.0, *slope, "{stem}");
                let zone = args_zone(selectors);
                assert_eq!(
                    zone.format_iso(drawn_start)[..19],
                    start[..19],
                    "{stem}: drawn from the report's first sample"
                );
                assert!(
                    trends[0].label.starts_with("RSS trend +"),
                    "{}",
                    trends[0].label
                );
                // Old objects decided the verdict: their line too, objects/h.
                let old_trend = chart
                    .series
                    .iter()
                    .find(|s| s.style == LineStyle::Trend && s.axis == Axis::Objects);
                match (old, old_trend) {
                    (Some(per_hour), Some(series)) => {
                        let (slope, _) = drawn_slope(&series.points);
                        assert_eq!((slope * BYTES_PER_MB).round(), *per_hour, "{stem}");
                        assert!(series.label.starts_with("old objects trend +"));
                        checked_old += 1;
                    }
                    (None, None) => {}
                    other => panic!("{stem}: {other:?}"),
                }
            }
            // Without --trend, no trend line.
            for (_, chart) in charts(&store, selectors) {
                assert!(chart.series.iter().all(|s| s.style != LineStyle::Trend));
            }
        }
        assert!(checked_old >= 3, "{checked_old}");
        // Overlay: one trend per process, in a shade of its own colour.
        let overlay = charts(
            &store,
            &["--worker", "MetricsProcessor", "--overlay", "--trend"],
        );
        let report = report_slopes(&store, &["--worker", "MetricsProcessor"]);
        assert_eq!(overlay.len(), 1);
        let trends: Vec<_> = overlay[0]
            .1
            .series
            .iter()
            .filter(|s| s.style == LineStyle::Trend)
            .collect();
        assert_eq!(trends.len(), 3);
        for trend in trends {
            let pid: i64 = trend.label[4..9].parse().unwrap();
            let (slope, _) = drawn_slope(&trend.points);
            assert_eq!((slope * 1000.0).round() / 1000.0, report[&pid].0);
            assert_eq!(trend.axis, Axis::Bytes);
            assert!(trend.label.starts_with(&format!("pid {pid} RSS trend +")));
        }
    }

    fn args_zone(selectors: &[&str]) -> crate::zone::Zone {
        let args: Args = parse(selectors);
        args.select.tz
    }
}
