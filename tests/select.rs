//! Selectors on `export --format csv`, `events`, `pids` and `workers`, checked
//! against rows filtered out of `fixtures/expected/export.csv`.

mod fixture_db;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use fixture_db::{expected_rows, fixture, golden, FixtureDb, BIN};

const HEADER: &str =
    "time,host,pid,worker,source,rss,pss,uss,vsz,live,old,msg_id,msg_class,msg_method\n";

fn csv_of(rows: &[Vec<String>]) -> String {
    let mut text = HEADER.to_string();
    for r in rows {
        text.push_str(&r.join(","));
        text.push('\n');
    }
    text
}

#[test]
fn default_export_and_events_match_the_fixtures() {
    let db = FixtureDb::new();
    let csv = db.ok(&["export", "--format", "csv"]);
    assert_eq!(
        csv,
        std::fs::read_to_string(fixture("expected/export.csv")).unwrap()
    );
    let events = db.ok(&["events", "--format", "csv"]);
    assert_eq!(
        events,
        std::fs::read_to_string(fixture("expected/events.csv")).unwrap()
    );
    // --source all is the default for CSV.
    assert_eq!(
        db.ok(&["export", "--format", "csv", "--source", "all"]),
        csv
    );
}

#[test]
fn selectors_narrow_csv_rows() {
    let db = FixtureDb::new();
    let rows = expected_rows();
    let got = db.ok(&[
        "export",
        "--format",
        "csv",
        "--host",
        "appliance-a",
        "--worker",
        "Metrics.*Processor",
        "--from",
        "2017-03-01T12:00",
        "--to",
        "2017-03-02T00:00:00Z",
        "--source",
        "patch",
    ]);
    let want: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| r[1] == "appliance-a" && r[3].contains("MetricsProcessor") && r[4] == "patch")
        .filter(|r| {
            r[0].as_str() >= "2017-03-01T12:00:00.000000Z"
                && r[0].as_str() <= "2017-03-02T00:00:00.000000Z"
        })
        .cloned()
        .collect();
    assert!(want.len() > 50, "the selection holds rows");
    assert_eq!(got, csv_of(&want));
    golden("export-window.csv", got.as_bytes());

    // --pid repeats; pids are per host, so 2922 comes from both appliances.
    let got = db.ok(&[
        "export", "--format", "csv", "--pid", "2922", "--pid", "3105", "--source", "status",
    ]);
    let want: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| (r[2] == "2922" || r[2] == "3105") && r[4] == "status")
        .cloned()
        .collect();
    assert!(want.iter().any(|r| r[1] == "appliance-b" && r[2] == "2922"));
    assert!(want.iter().any(|r| r[1] == "appliance-a" && r[2] == "2922"));
    assert_eq!(got, csv_of(&want));

    // The old script's patterns name the class with ::Runner; they still match.
    let runner = db.ok(&[
        "export",
        "--format",
        "csv",
        "--worker",
        ".*MetricsCollectorWorker::Runner",
    ]);
    let want: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| r[3].ends_with("MetricsCollectorWorker"))
        .cloned()
        .collect();
    assert_eq!(runner, csv_of(&want));
}

#[test]
fn window_edges_are_inclusive() {
    let db = FixtureDb::new();
    // Exactly one sample at this instant: from == to selects it.
    let t = "2017-03-01T00:02:42.000629";
    let got = db.ok(&["export", "--format", "csv", "--from", t, "--to", t]);
    let want: Vec<Vec<String>> = expected_rows()
        .into_iter()
        .filter(|r| r[0] == format!("{t}Z"))
        .collect();
    assert_eq!(want.len(), 1);
    assert_eq!(got, csv_of(&want));
    // One microsecond later selects nothing.
    let got = db.ok(&[
        "export",
        "--format",
        "csv",
        "--from",
        "2017-03-01T00:02:42.000630",
        "--to",
        "2017-03-01T00:02:42.000630",
    ]);
    assert_eq!(got, HEADER);
}

#[test]
fn zone_less_times_are_read_in_tz() {
    let db = FixtureDb::new();
    // appliance-b's clock is New York (EDT): 14:30:04.067885 local is 18:30:04.067885Z,
    // the last sample of pid 3105 before it was stopped for memory.
    let local = db.ok(&[
        "export",
        "--format",
        "csv",
        "--host",
        "appliance-b",
        "--tz",
        "America/New_York",
        "--from",
        "2017-08-11T14:30:04.067885",
        "--to",
        "2017-08-11T14:30:04.067885",
    ]);
    let utc = db.ok(&[
        "export",
        "--format",
        "csv",
        "--host",
        "appliance-b",
        "--from",
        "2017-08-11T18:30:04.067885Z",
        "--to",
        "2017-08-11T14:30:04.067885-04:00",
    ]);
    assert_eq!(local, utc);
    let lines: Vec<&str> = local.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].starts_with("2017-08-11T18:30:04.067885Z,appliance-b,3105,"),
        "{}",
        lines[1]
    );
    // A date alone is its midnight, in --tz: 00:00 EDT = 04:00Z; the first status lines of the day follow.
    let day = db.ok(&[
        "pids",
        "--host",
        "appliance-b",
        "--tz",
        "America/New_York",
        "--to",
        "2017-08-11",
        "--format",
        "csv",
    ]);
    assert_eq!(
        day.lines().count(),
        1,
        "nothing before local midnight: {day}"
    );
}

#[test]
fn pids_workers_and_events_listings() {
    let db = FixtureDb::new();
    golden("pids.csv", db.ok(&["pids", "--format", "csv"]).as_bytes());
    golden(
        "pids-window.table",
        db.ok(&[
            "pids",
            "--worker",
            "MetricsProcessor",
            "--from",
            "2017-03-01T06:00",
            "--to",
            "2017-03-02 18:00",
        ])
        .as_bytes(),
    );
    golden(
        "workers.csv",
        db.ok(&["workers", "--format", "csv"]).as_bytes(),
    );
    golden(
        "workers.json",
        db.ok(&["workers", "--format", "json", "--host", "appliance-b"])
            .as_bytes(),
    );
    golden(
        "events-window.csv",
        db.ok(&[
            "events",
            "--format",
            "csv",
            "--worker",
            "MetricsProcessor",
            "--from",
            "2017-03-01T13:00",
            "--to",
            "2017-03-02T16:41",
        ])
        .as_bytes(),
    );
    // Event times follow --tz: 18:37:12Z is 14:37:12 in New York (EDT).
    let local = db.ok(&[
        "events",
        "--host",
        "appliance-b",
        "--tz",
        "America/New_York",
        "--format",
        "csv",
    ]);
    assert!(
        local.contains(",2017-08-11T14:37:12.402118-04:00,memory_exceeded,"),
        "{local}"
    );
    // Sample counts per source add up to the fixture's rows.
    let pids = db.ok(&["pids", "--format", "csv"]);
    let total: usize = pids
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[5].parse::<usize>().unwrap() + f[6].parse::<usize>().unwrap()
        })
        .sum();
    assert_eq!(total, expected_rows().len());
}

#[test]
fn bad_selectors_are_clear_errors() {
    let db = FixtureDb::new();
    let err = db.fails(&["pids", "--worker", "Metrics("]);
    assert!(err.contains("invalid --worker regex 'Metrics('"), "{err}");
    let err = db.fails(&["export", "--format", "csv", "--from", "2017-02-30"]);
    assert!(
        err.contains("invalid --from: '2017-02-30' is not a time"),
        "{err}"
    );
    let err = db.fails(&["events", "--to", "tomorrow"]);
    assert!(err.contains("invalid --to"), "{err}");
    let err = db.fails(&["pids", "--from", "2017-03-02", "--to", "2017-03-01"]);
    assert!(err.contains("is after --to"), "{err}");
    let err = db.fails(&["pids", "--tz", "Mars/Base"]);
    assert!(err.contains("unknown time zone"), "{err}");
}

#[test]
fn closing_the_pipe_early_is_success() {
    let db = FixtureDb::new();
    for args in [
        &["export", "--format", "csv"][..],
        &["pids"],
        &["sql", "SELECT * FROM samples"],
    ] {
        let mut child = Command::new(BIN)
            .current_dir(db.path())
            .arg("--db")
            .arg(&db.db)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{args:?}: quiet: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
