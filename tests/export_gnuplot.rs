//! `export --format gnuplot`: golden files, repeatability, empty windows, safe
//! names, and the real gnuplot drawing what was written.

mod fixture_db;

use std::fs;
use std::path::Path;
use std::process::Command;

use fixture_db::{files_in, fixture, golden, ok, png_size, FixtureDb};

/// A stock-only process, in its appliance's own zone.
const NEW_YORK_3105: [&str; 6] = [
    "--host",
    "appliance-b",
    "--pid",
    "3105",
    "--tz",
    "America/New_York",
];

const WINDOW: [&str; 8] = [
    "--host",
    "appliance-a",
    "--worker",
    "MetricsProcessor",
    "--from",
    "2017-03-01T06:00",
    "--to",
    "2017-03-02 18:00",
];

fn export(db: &FixtureDb, out: &str, selectors: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut args = vec!["export", "--format", "gnuplot", "--out", out];
    args.extend_from_slice(selectors);
    db.ok(&args);
    files_in(&db.path().join(out))
}

#[test]
fn windowed_export_matches_golden_files() {
    let db = FixtureDb::new();
    let files = export(&db, "window", &WINDOW);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let stems = [
        "appliance-a_20170301_54823_from_201703010600_to_201703021800",
        "appliance-a_20170301_55012_from_201703010600_to_201703021800",
        "appliance-a_20170302_57231_from_201703010600_to_201703021800",
    ];
    let mut want: Vec<String> = stems
        .iter()
        .flat_map(|s| ["data", "gp", "impulses"].map(|e| format!("{s}.{e}")))
        .collect();
    want.sort();
    assert_eq!(names, want);
    for (name, bytes) in &files {
        golden(&format!("gnuplot/window/{name}"), bytes);
    }
}

#[test]
fn status_only_process_in_its_own_zone_matches_golden_files() {
    let db = FixtureDb::new();
    let files = export(&db, "b", &NEW_YORK_3105);
    assert_eq!(files.len(), 3);
    for (name, bytes) in &files {
        assert!(name.starts_with("appliance-b_20170811_3105."), "{name}");
        golden(&format!("gnuplot/status-only/{name}"), bytes);
    }
    // Live and Old are not in log_status lines: NaN, which gnuplot skips.
    let data = String::from_utf8(files[0].1.clone()).unwrap();
    let row = data.lines().find(|l| !l.starts_with('#')).unwrap();
    // 04:00:15.181786Z in the fixture is 00:00:15.181786 in New York (EDT).
    let first = fixture_db::expected_rows()
        .into_iter()
        .find(|r| r[1] == "appliance-b" && r[2] == "3105")
        .unwrap();
    assert_eq!(first[0], "2017-08-11T04:00:15.181786Z");
    assert_eq!(
        row,
        format!(
            "2017-08-11T00:00:15.181786 {} {} NaN NaN",
            first[6], first[5]
        )
    );
}

#[test]
fn patched_samples_win_and_sources_never_mix() {
    let db = FixtureDb::new();
    let data = |files: &[(String, Vec<u8>)]| {
        let (_, bytes) = files.iter().find(|(n, _)| n.ends_with(".data")).unwrap();
        String::from_utf8(bytes.clone()).unwrap()
    };
    let default = data(&export(
        &db,
        "d",
        &["--host", "appliance-a", "--pid", "2922"],
    ));
    let rows = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count()
    };
    assert_eq!(rows(&default), 434, "patched samples only");
    assert!(default.contains("# source: patch\n") && !default.contains("# source: status"));
    let status = data(&export(
        &db,
        "s",
        &[
            "--host",
            "appliance-a",
            "--pid",
            "2922",
            "--source",
            "status",
        ],
    ));
    assert_eq!(rows(&status), 144);
    // Both: two gnuplot data sets (separated by two blank lines), each named.
    let both = data(&export(
        &db,
        "a",
        &["--host", "appliance-a", "--pid", "2922", "--source", "all"],
    ));
    assert_eq!(rows(&both), 578);
    let status_at = both.find("# source: status\n").unwrap();
    let patch_at = both.find("\n\n\n# source: patch\n").unwrap();
    assert!(status_at < patch_at);
}

#[test]
fn re_export_is_byte_identical() {
    let db = FixtureDb::new();
    let first = export(&db, "one", &WINDOW);
    let second = export(&db, "one", &WINDOW);
    assert_eq!(first, second);
    // The same logs ingested into another database, under other paths, give the same files.
    let other = tempfile::tempdir().unwrap();
    let copy = other.path().join("logs");
    fs::create_dir_all(copy.join("a")).unwrap();
    for f in ["evm.log-20170302.gz", "evm.log-20170303.gz"] {
        fs::copy(fixture("appliance-a").join(f), copy.join("a").join(f)).unwrap();
    }
    let tmp = copy.join("a/tmp");
    fs::create_dir_all(&tmp).unwrap();
    for e in fs::read_dir(fixture("appliance-a/tmp")).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), tmp.join(e.file_name())).unwrap();
    }
    let db2 = other.path().join("other.db");
    ok(
        other.path(),
        &db2,
        &[
            "ingest",
            "-q",
            "--host",
            "appliance-b",
            fixture("appliance-b").to_str().unwrap(),
        ],
    );
    ok(
        other.path(),
        &db2,
        &[
            "ingest",
            "-q",
            "--host",
            "appliance-a",
            fixture("trip2/appliance-a").to_str().unwrap(),
            "logs/a",
        ],
    );
    let mut args = vec!["export", "--format", "gnuplot", "--out", "again"];
    args.extend_from_slice(&WINDOW);
    ok(other.path(), &db2, &args);
    assert_eq!(files_in(&other.path().join("again")), first);
}

#[test]
fn an_empty_window_writes_nothing() {
    let db = FixtureDb::new();
    let err = db.fails(&[
        "export",
        "--format",
        "gnuplot",
        "--out",
        "none",
        "--from",
        "2017-03-05",
        "--to",
        "2017-03-06",
    ]);
    assert_eq!(
        err,
        "miq-memlog: no samples match the selection --from 2017-03-05 --to 2017-03-06 (zone UTC): nothing written\n"
    );
    assert!(!db.path().join("none").exists());
    // Between two samples of the only process selected.
    let err = db.fails(&[
        "export",
        "--format",
        "gnuplot",
        "--out",
        "none",
        "--host",
        "appliance-b",
        "--pid",
        "3105",
        "--from",
        "2017-08-11T18:30:05Z",
        "--to",
        "2017-08-11T18:40:00Z",
    ]);
    assert!(err.contains("no samples match the selection"), "{err}");
    assert!(!db.path().join("none").exists());
}

#[test]
fn file_names_never_leave_the_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let log = fixture("edge/malformed.log");
    let host = r#"../../up "here"\ /.."#;
    let ingest = ["ingest", "-q", "--host", host, log.to_str().unwrap()];
    ok(dir.path(), &db, &ingest);
    let export = ["export", "--format", "gnuplot", "--out", "out/inner"];
    ok(dir.path(), &db, &export);
    let files = files_in(&dir.path().join("out/inner"));
    assert!(!files.is_empty());
    for (name, _) in &files {
        assert!(name.starts_with("_.._.._up__here____.._"), "{name}");
    }
    // Quotes and backslashes in the title do not break the script.
    let gp = files.iter().find(|(n, _)| n.ends_with(".gp")).unwrap();
    gnuplot(&dir.path().join("out/inner"), &[&gp.0]);
    let png = gp.0.replace(".gp", ".png");
    assert!(dir.path().join("out/inner").join(&png).exists());
    let mut everything = Vec::new();
    walk(dir.path(), &mut everything);
    for path in everything {
        let rel = path.strip_prefix(dir.path()).unwrap();
        let inside = rel.starts_with("out/inner") || rel.to_string_lossy().starts_with("x.db");
        assert!(inside, "{}", rel.display());
    }
}

fn walk(dir: &Path, into: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, into);
        } else {
            into.push(p);
        }
    }
}

fn gnuplot(cwd: &Path, args: &[&str]) {
    let out = Command::new("gnuplot")
        .current_dir(cwd)
        .args(args)
        .output()
        .expect("gnuplot is installed (.ci/run installs gnuplot-nox)");
    assert!(
        out.status.success(),
        "gnuplot {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "gnuplot {args:?} warned: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gnuplot_renders_the_exported_scripts() {
    let db = FixtureDb::new();
    export(&db, "w", &WINDOW);
    export(&db, "b", &NEW_YORK_3105);
    for (dir, stem) in [
        (
            "w",
            "appliance-a_20170301_55012_from_201703010600_to_201703021800",
        ),
        (
            "w",
            "appliance-a_20170301_54823_from_201703010600_to_201703021800",
        ),
        ("b", "appliance-b_20170811_3105"),
    ] {
        // Run from elsewhere: the script finds its data beside itself.
        gnuplot(db.path(), &[&format!("{dir}/{stem}.gp")]);
        let png = fs::read(db.path().join(dir).join(format!("{stem}.png"))).unwrap();
        assert_eq!(png_size(&png), (1280, 720));
        assert!(png.len() > 20_000, "a real chart, not a blank image");
    }
    gnuplot(
        db.path(),
        &[
            "-e",
            "width = 1600; height = 900",
            "b/appliance-b_20170811_3105.gp",
        ],
    );
    let png = fs::read(db.path().join("b/appliance-b_20170811_3105.png")).unwrap();
    assert_eq!(png_size(&png), (1600, 900));
}

#[test]
fn a_plain_gnuplot_script_plots_data_and_impulses() {
    // The way the old plot_worker_memleak_data.gnup read X.data and X.impulses.
    let db = FixtureDb::new();
    export(&db, "w", &WINDOW);
    let stem = "w/appliance-a_20170301_55012_from_201703010600_to_201703021800";
    let script = format!(
        "set terminal png size 1280,720\n\
         set output '{stem}.plain.png'\n\
         set xdata time\n\
         set timefmt \"%Y-%m-%dT%H:%M:%S\"\n\
         set format x \"%m/%d %H:%M\"\n\
         set y2tics\n\
         plot '{stem}.data' using 1:2 title 'PSS' with lines, \
              '{stem}.data' using 1:3 title 'RSS' with lines, \
              '{stem}.data' using 1:4 axes x1y2 title 'Live' with lines, \
              '{stem}.data' using 1:5 axes x1y2 title 'Old' with lines, \
              '{stem}.impulses' using 1:2 title 'dump' with impulses\n"
    );
    fs::write(db.path().join("plain.gnup"), script).unwrap();
    gnuplot(db.path(), &["plain.gnup"]);
    let png = fs::read(db.path().join(format!("{stem}.plain.png"))).unwrap();
    assert_eq!(png_size(&png), (1280, 720));
    // gnuplot reads every data row (comments skipped): count them and their largest RSS.
    let count = Command::new("gnuplot")
        .current_dir(db.path())
        .args([
            "-e",
            &format!(
                "stats '{stem}.data' using 3 nooutput; print STATS_records, STATS_max; \
             stats '{stem}.impulses' using 2 nooutput; print STATS_records, STATS_max"
            ),
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&count.stderr).to_string();
    assert_eq!(printed, "165 628793344.0\n1 2000000000.0\n");
}

/// `report --format csv` for the selectors: pid -> rss_mb_per_hour.
fn report_rss_slopes(db: &FixtureDb, selectors: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["report", "--format", "csv"];
    args.extend_from_slice(selectors);
    let text = db.ok(&args);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let mut slopes: Vec<(String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[col("pid")].to_string(),
                f[col("rss_mb_per_hour")].to_string(),
            )
        })
        .collect();
    slopes.sort();
    slopes
}

/// The value of `name = VALUE` in a script.
fn assigned(script: &str, name: &str) -> f64 {
    let prefix = format!("{name} = ");
    let line = script
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("{name} in the script"));
    line[prefix.len()..].parse().unwrap()
}

#[test]
fn trend_scripts_draw_the_report_fits() {
    let db = FixtureDb::new();
    let plain = export(&db, "plain", &WINDOW);
    let mut with_trend = WINDOW.to_vec();
    with_trend.push("--trend");
    let trend = export(&db, "trend", &with_trend);
    assert_eq!(trend.len(), plain.len());
    let report = report_rss_slopes(&db, &WINDOW);
    let mut drawn = Vec::new();
    for ((name, bytes), (plain_name, plain_bytes)) in trend.iter().zip(&plain) {
        assert_eq!(name, plain_name);
        if !name.ends_with(".gp") {
            assert_eq!(
                bytes, plain_bytes,
                "{name}: the same with or without --trend"
            );
            continue;
        }
        let script = String::from_utf8(bytes.clone()).unwrap();
        assert!(script.starts_with(std::str::from_utf8(&plain_bytes[..400]).unwrap()));
        let pid = name.split('_').nth(2).unwrap().to_string();
        // The fitted slope to the report's three decimals, and shown in the key.
        let slope = assigned(&script, "rss_b");
        drawn.push((pid, format!("{}", (slope * 1000.0).round() / 1000.0)));
        let title = script
            .split("title \"RSS trend ")
            .nth(1)
            .and_then(|t| t.split_once(" MiB/h\""))
            .unwrap_or_else(|| panic!("{name}: the slope in the key"))
            .0;
        let decimals = title.split_once('.').map_or(0, |(_, d)| d.len());
        let shown: f64 = title.parse().unwrap();
        assert!(title.starts_with('+') && decimals >= 1, "{title}");
        assert!(
            (shown - slope).abs() <= 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9,
            "{name}: {title} vs {slope}"
        );
    }
    drawn.sort();
    assert_eq!(drawn, report);
    golden(
        "gnuplot/trend/appliance-a_20170301_55012_from_201703010600_to_201703021800.gp",
        &trend
            .iter()
            .find(|(n, _)| n.contains("55012") && n.ends_with(".gp"))
            .unwrap()
            .1,
    );
    // The README shows these very lines.
    let script = String::from_utf8(
        trend
            .iter()
            .find(|(n, _)| n.contains("55012") && n.ends_with(".gp"))
            .unwrap()
            .1
            .clone(),
    )
    .unwrap();
    let from = script.find("trend_t0 = ").unwrap();
    let to = script.find("\nplot ").unwrap() + 1;
    let readme = fs::read_to_string(fixture_db::repo().join("README.md")).unwrap();
    assert!(readme.contains(&script[from..to]), "{}", &script[from..to]);
    // The real gnuplot draws every script, trend lines included.
    for (name, _) in trend.iter().filter(|(n, _)| n.ends_with(".gp")) {
        gnuplot(db.path(), &[&format!("trend/{name}")]);
        let png = fs::read(db.path().join("trend").join(name.replace(".gp", ".png"))).unwrap();
        assert_eq!(png_size(&png), (1280, 720));
    }
    // gnuplot's own value of the line at the first and last sample: the fit's.
    let stem = "trend/appliance-a_20170301_55012_from_201703010600_to_201703021800";
    let script = fs::read_to_string(db.path().join(format!("{stem}.gp"))).unwrap();
    let out = Command::new("gnuplot")
        .current_dir(db.path())
        .args([
            &format!("{stem}.gp"),
            "-e",
            "print rss_trend(rss_from), rss_trend(rss_to), (rss_to - rss_from) / 3600",
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stderr);
    let values: Vec<f64> = printed
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let (a, b) = (assigned(&script, "rss_a"), assigned(&script, "rss_b"));
    let hours = values[2];
    assert!((values[0] - a * 1_048_576.0).abs() < 1.0, "{printed}");
    assert!(
        (values[1] - (a + b * hours) * 1_048_576.0).abs() < 1.0,
        "{printed}"
    );
    // Re-export with --trend is byte-identical; CSV has no lines to draw.
    assert!(export(&db, "again", &with_trend) == trend);
    let err = db.fails(&["export", "--format", "csv", "--trend"]);
    assert!(err.contains("--trend"), "{err}");
}
