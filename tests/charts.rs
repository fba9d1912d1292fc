//! The trend lines `plot --trend` draws are the leak report's own fits: the
//! chart model built through the library agrees with `report` to the digit.

use std::collections::BTreeMap;

use clap::Parser;
use miq_memlog::analysis::{BYTES_PER_MB, US_PER_HOUR};
use miq_memlog::cmd::{plot, report};
use miq_memlog::export::table::{write_table, TableFormat};
use miq_memlog::report::chart::{Axis, Chart, LineStyle};
use miq_memlog::report::leak::{self, ReportBy};
use miq_memlog::report::{for_each_chart, selected_processes};
use miq_memlog::store::{Access, Store};
use miq_memlog::zone::Zone;

mod fixture_db;
use fixture_db::FixtureDb;

#[derive(Parser)]
struct Command<A: clap::Args> {
    #[command(flatten)]
    args: A,
}

fn parse<A: clap::Args>(args: &[&str]) -> A {
    Command::<A>::parse_from(std::iter::once("miq-memlog").chain(args.iter().copied())).args
}

/// The fixture appliances ingested as the integration tests do.
fn fixture_store() -> (FixtureDb, Store) {
    let fixtures = FixtureDb::new();
    let store = Store::open(&fixtures.db, Access::ReadOnly).unwrap();
    (fixtures, store)
}

/// `report --format csv` for the selectors: rss_mb_per_hour and start by pid.
/// pid -> (rss_mb_per_hour, start, old_per_hour when the basis is old).
type ReportRow = (f64, String, Option<f64>);

fn report_slopes(store: &Store, selectors: &[&str]) -> BTreeMap<i64, ReportRow> {
    let args: report::Args = parse(selectors);
    let selection = args.select.selection().unwrap();
    let table = leak::table(store, &selection, ReportBy::Process, args.select.tz).unwrap();
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
    let args: plot::Args = parse(args);
    let selection = args.select.selection().unwrap();
    let zone = args.select.tz;
    let processes = selected_processes(store, &selection, &args.select.describe(), zone).unwrap();
    let draw = args.select.draw_options(args.trend);
    let mut charts = Vec::new();
    for_each_chart(
        store,
        &selection,
        &processes,
        &draw,
        args.overlay,
        |key, chart| {
            charts.push((format!("{}_{}", key.host, key.label), chart));
            Ok(())
        },
    )
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

fn args_zone(selectors: &[&str]) -> Zone {
    let args: plot::Args = parse(selectors);
    args.select.tz
}
