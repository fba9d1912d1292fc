//! `plot`: native PNG and SVG charts of the stated size, per process or overlaid.

mod fixture_db;

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
