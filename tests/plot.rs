//! `plot`: native PNG and SVG charts of the stated size, per process or overlaid.

mod fixture_db;

use std::collections::BTreeMap;
use std::fs;

use fixture_db::{files_in, png_size, FixtureDb};

#[test]
fn png_per_process_at_the_default_size() {
    let db = FixtureDb::new();
    db.ok(&["plot", "--worker", "MetricsProcessor", "--out", "charts"]);
    let files = files_in(&db.path().join("charts"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "appliance-a_20170301_54823.png",
            "appliance-a_20170301_55012.png",
            "appliance-a_20170302_57231.png"
        ]
    );
    for (name, bytes) in &files {
        assert_eq!(png_size(bytes), (1280, 720), "{name}");
        assert!(bytes.len() > 50_000, "{name}: lines and text were drawn");
    }
}

#[test]
fn svg_and_other_sizes() {
    let db = FixtureDb::new();
    db.ok(&[
        "plot",
        "--host",
        "appliance-b",
        "--pid",
        "3105",
        "--format",
        "svg",
        "--tz",
        "America/New_York",
        "--out",
        "svg",
    ]);
    let svg = fs::read_to_string(db.path().join("svg/appliance-b_20170811_3105.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..60]);
    assert!(
        svg.contains(r#"width="1280" height="720""#),
        "{}",
        &svg[..200]
    );
    assert!(svg.contains(
        "appliance-b  ManageIQ::Providers::Redhat::InfraManager::RefreshWorker  pid 3105"
    ));
    assert!(svg.contains("restart (limit exceeded)"));
    assert!(svg.contains("time (America/New_York)"));
    assert!(
        svg.contains("08/11 10:00"),
        "tick labels in the chosen zone"
    );

    db.ok(&[
        "plot",
        "--host",
        "appliance-b",
        "--pid",
        "3105",
        "--size",
        "800x600",
        "--out",
        "small",
    ]);
    let png = fs::read(db.path().join("small/appliance-b_20170811_3105.png")).unwrap();
    assert_eq!(png_size(&png), (800, 600));
    let err = db.fails(&["plot", "--size", "huge"]);
    assert!(err.contains("not WIDTHxHEIGHT"), "{err}");
}

#[test]
fn overlay_draws_one_chart_per_worker_type() {
    let db = FixtureDb::new();
    db.ok(&[
        "plot",
        "--worker",
        "MetricsProcessor|RefreshWorker",
        "--overlay",
        "--format",
        "svg",
        "--out",
        "o",
    ]);
    let files = files_in(&db.path().join("o"));
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "appliance-a_20170301_MiqEmsMetricsProcessorWorker_overlay.svg",
            "appliance-b_20170811_RefreshWorker_overlay.svg"
        ]
    );
    let svg = String::from_utf8(files[0].1.clone()).unwrap();
    for label in [
        "pid 54823 RSS",
        "pid 55012 RSS",
        "pid 57231 RSS",
        "heap dump",
        "restart (limit exceeded)",
        "3 processes",
    ] {
        assert!(svg.contains(label), "{label}");
    }
}

#[test]
fn an_empty_selection_draws_nothing() {
    let db = FixtureDb::new();
    let err = db.fails(&["plot", "--worker", "NoSuchWorker", "--out", "none"]);
    assert!(
        err.contains("no samples match the selection --worker NoSuchWorker"),
        "{err}"
    );
    assert!(!db.path().join("none").exists());
}

#[test]
fn both_sources_are_separate_lines() {
    let db = FixtureDb::new();
    let select = ["--host", "appliance-a", "--pid", "2922", "--source", "all"];
    let mut args = vec!["plot", "--format", "svg", "--out", "one"];
    args.extend_from_slice(&select);
    db.ok(&args);
    let svg = fs::read_to_string(db.path().join("one/appliance-a_20170301_2922.svg")).unwrap();
    for label in [
        "RSS (status)",
        "PSS (status)",
        "RSS (patch)",
        "live objects (patch) (right)",
    ] {
        assert!(svg.contains(label), "{label}");
    }
    let mut args = vec!["plot", "--format", "svg", "--out", "over", "--overlay"];
    args.extend_from_slice(&select);
    db.ok(&args);
    let svg = fs::read_to_string(
        db.path()
            .join("over/appliance-a_20170301_MetricsCollectorWorker_overlay.svg"),
    )
    .unwrap();
    assert!(svg.contains("pid 2922 RSS (status)") && svg.contains("pid 2922 RSS (patch)"));
    // Without --source, the patched samples only.
    db.ok(&[
        "plot",
        "--format",
        "svg",
        "--out",
        "d",
        "--host",
        "appliance-a",
        "--pid",
        "2922",
    ]);
    let svg = fs::read_to_string(db.path().join("d/appliance-a_20170301_2922.svg")).unwrap();
    assert!(svg.contains("\nRSS\n") && !svg.contains("(status)"));
}

/// `report --format csv` rows for the selectors, by pid: (rss_mb_per_hour, old_per_hour, basis).
fn report_by_pid(db: &FixtureDb, selectors: &[&str]) -> BTreeMap<String, (f64, String, String)> {
    let mut args = vec!["report", "--format", "csv"];
    args.extend_from_slice(selectors);
    let text = db.ok(&args);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    lines
        .map(|l| {
            // Worker names hold no commas in the fixtures.
            let f: Vec<&str> = l.split(',').collect();
            (
                f[col("pid")].to_string(),
                (
                    f[col("rss_mb_per_hour")].parse().unwrap(),
                    f[col("old_per_hour")].to_string(),
                    f[col("basis")].to_string(),
                ),
            )
        })
        .collect()
}

/// The number after `label` in the SVG text, its decimals, and what follows it
/// up to the end of the text element.
fn legend_number<'a>(svg: &'a str, label: &str) -> (f64, usize, &'a str) {
    let at = svg
        .find(label)
        .unwrap_or_else(|| panic!("{label} in the legend"))
        + label.len();
    let rest = &svg[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || "+-.".contains(c)))
        .unwrap();
    let number = &rest[..end];
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
    let tail = rest[end..rest.find('<').unwrap()].trim_end();
    (number.parse().unwrap(), decimals, tail)
}

/// The legend shows the report's slope to its own precision.
fn agrees(shown: f64, decimals: usize, report: f64, report_step: f64) {
    let tolerance = 0.5 * 10f64.powi(-(decimals as i32)) + report_step / 2.0 + 1e-9;
    assert!(
        (shown - report).abs() <= tolerance,
        "legend {shown} vs report {report}"
    );
}

#[test]
fn trend_lines_carry_the_report_slopes_in_the_legend() {
    let db = FixtureDb::new();
    let window = [
        "--worker",
        "MetricsProcessor",
        "--from",
        "2017-03-01T06:00",
        "--to",
        "2017-03-02 18:00",
    ];
    let report = report_by_pid(&db, &window);
    let mut args = vec!["plot", "--trend", "--format", "svg", "--out", "t"];
    args.extend_from_slice(&window);
    db.ok(&args);
    let files = files_in(&db.path().join("t"));
    assert_eq!(files.len(), 3);
    for (name, bytes) in &files {
        let svg = String::from_utf8(bytes.clone()).unwrap();
        assert!(svg.contains(r#"width="1280" height="720""#), "{name}");
        let pid = name.split('_').nth(2).unwrap();
        let (rss, old, basis) = &report[pid];
        let (shown, decimals, unit) = legend_number(&svg, "RSS trend ");
        assert_eq!(unit, " MiB/h", "{name}");
        agrees(shown, decimals, *rss, 0.001);
        // When old objects decided the verdict, their trend is drawn too.
        if basis == "old" {
            let (shown, decimals, unit) = legend_number(&svg, "old objects trend ");
            assert_eq!(unit, " k/h (right)", "{name}");
            let old: f64 = old.parse().unwrap();
            agrees(shown, decimals, old / 1000.0, 1.0 / 1000.0);
        } else {
            assert!(!svg.contains("old objects trend"), "{name}");
            assert!(svg.contains("old objects (right)"), "{name}");
        }
    }
    let bases: Vec<&str> = report.values().map(|r| r.2.as_str()).collect();
    assert!(
        bases.contains(&"old") && bases.contains(&"rss"),
        "{bases:?}"
    );
    // A stock-only process: RSS trend only, in its own zone, as a PNG at another size.
    let b = [
        "--host",
        "appliance-b",
        "--pid",
        "41877",
        "--tz",
        "America/New_York",
    ];
    let mut args = vec!["plot", "--trend", "--size", "1600x900", "--out", "b"];
    args.extend_from_slice(&b);
    db.ok(&args);
    let png = fs::read(db.path().join("b/appliance-b_20170811_41877.png")).unwrap();
    assert_eq!(png_size(&png), (1600, 900));
    let mut args = vec!["plot", "--trend", "--format", "svg", "--out", "bs"];
    args.extend_from_slice(&b);
    db.ok(&args);
    let svg = fs::read_to_string(db.path().join("bs/appliance-b_20170811_41877.svg")).unwrap();
    let (shown, decimals, _) = legend_number(&svg, "RSS trend ");
    agrees(shown, decimals, report_by_pid(&db, &b)["41877"].0, 0.001);
    assert!(!svg.contains("old objects"));

    // Overlay: one trend per pid.
    db.ok(&[
        "plot",
        "--trend",
        "--overlay",
        "--worker",
        "MetricsProcessor",
        "--format",
        "svg",
        "--out",
        "o",
    ]);
    let report = report_by_pid(&db, &["--worker", "MetricsProcessor"]);
    let files = files_in(&db.path().join("o"));
    let svg = String::from_utf8(files[0].1.clone()).unwrap();
    for pid in ["54823", "55012", "57231"] {
        let (shown, decimals, unit) = legend_number(&svg, &format!("pid {pid} RSS trend "));
        assert_eq!(unit, " MiB/h");
        agrees(shown, decimals, report[pid].0, 0.001);
    }
}
