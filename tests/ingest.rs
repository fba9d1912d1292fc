//! `ingest`, `files`, `events` and `export --format csv` driven through the built
//! binary over the shipped fixtures, compared with the expected outputs in
//! `fixtures/expected/`.

use std::fs;
use std::ops::Deref;
use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

mod fixture_db;
use fixture_db::{fixture, FixtureDb};

fn expected(name: &str) -> String {
    fs::read_to_string(fixture("expected").join(name)).unwrap()
}

/// A database not yet created, in a temporary folder, with ingest helpers.
struct Db(FixtureDb);

impl Deref for Db {
    type Target = FixtureDb;

    fn deref(&self) -> &FixtureDb {
        &self.0
    }
}

impl Db {
    fn new() -> Db {
        Db(FixtureDb::empty())
    }

    /// Ingests fixture paths quietly; returns stdout.
    fn ingest(&self, host: &str, paths: &[&str]) -> String {
        self.ingest_with(&["--quiet"], host, paths)
    }

    /// Ingests fixture paths; returns the per-file report.
    fn ingest_report(&self, host: &str, paths: &[&str]) -> String {
        self.ingest_with(&[], host, paths)
    }

    fn ingest_with(&self, options: &[&str], host: &str, paths: &[&str]) -> String {
        let paths: Vec<String> = paths
            .iter()
            .map(|p| fixture(p).display().to_string())
            .collect();
        let mut args = vec!["ingest", "--host", host];
        args.extend(options);
        args.extend(paths.iter().map(String::as_str));
        self.ok(&args)
    }

    fn export_csv(&self) -> String {
        self.ok(&["export", "--format", "csv"])
    }

    fn sqlite3(&self, sql: &str) -> String {
        let out = Command::new("sqlite3")
            .arg(&self.db)
            .arg(sql)
            .output()
            .expect("the sqlite3 CLI");
        assert!(
            out.status.success(),
            "sqlite3: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn both_appliances(&self) {
        self.ingest("appliance-a", &["appliance-a", "trip2/appliance-a"]);
        self.ingest("appliance-b", &["appliance-b"]);
    }
}

#[test]
fn two_appliances_export_exactly_the_expected_samples_and_events() {
    let db = Db::new();
    db.both_appliances();
    // Not a terminal: no progress bar, no warnings for these clean logs.
    let out = db.run(&[
        "ingest",
        "--host",
        "appliance-b",
        fixture("appliance-b").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(db.export_csv(), expected("export.csv"));
    assert_eq!(
        db.ok(&["events", "--format", "csv"]),
        expected("events.csv")
    );
}

#[test]
fn a_second_ingest_changes_nothing_and_skips_without_parsing() {
    let db = Db::new();
    db.both_appliances();
    let before = db.sqlite3("SELECT COUNT(*), SUM(rss) FROM samples; SELECT COUNT(*) FROM event; SELECT COUNT(*) FROM source_file;");
    let report = db.ingest_report("appliance-a", &["appliance-a", "trip2/appliance-a"]);
    let skipped: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("skipped"))
        .collect();
    assert_eq!(skipped.len(), 3, "{report}");
    assert!(
        skipped[0].contains("already ingested (same bytes as"),
        "{report}"
    );
    assert!(report.ends_with(
        "0 files ingested, 3 already ingested, 0 failed; 0 new samples (0 already present), 0 new events; 5 heap dumps (0 new)\n"
    ), "{report}");
    // The same bytes under another name are recognised too.
    let copy = db.dir.path().join("renamed-copy.gz");
    fs::copy(fixture("appliance-b/evm.log-20170812.gz"), &copy).unwrap();
    let report = db.ok(&["ingest", "--host", "appliance-b", copy.to_str().unwrap()]);
    assert!(report.starts_with("skipped"), "{report}");
    assert_eq!(db.sqlite3("SELECT COUNT(*), SUM(rss) FROM samples; SELECT COUNT(*) FROM event; SELECT COUNT(*) FROM source_file;"), before);
    assert_eq!(db.export_csv(), expected("export.csv"));
}

#[test]
fn partial_copy_then_complete_copy_adds_exactly_the_rest() {
    let db = Db::new();
    let report = db.ingest_report("appliance-a", &["trip1/appliance-a"]);
    assert!(
        report.contains("245 new samples, 0 already present"),
        "{report}"
    );
    assert!(
        report.contains("the last line is cut off and was not read"),
        "{report}"
    );
    assert_eq!(db.export_csv(), expected("trip1-export.csv"));

    let report = db.ingest_report("appliance-a", &["trip2/appliance-a"]);
    assert!(
        report.contains("234 new samples, 245 already present"),
        "{report}"
    );
    db.ingest("appliance-a", &["appliance-a"]);
    db.ingest("appliance-b", &["appliance-b"]);
    assert_eq!(db.export_csv(), expected("export.csv"));
}

#[test]
fn plain_and_gzip_copies_of_one_log_store_each_sample_once() {
    let db = Db::new();
    let plain = db.dir.path().join("evm.log");
    let gz = fs::read(fixture("appliance-b/evm.log-20170812.gz")).unwrap();
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&gz[..]), &mut text).unwrap();
    fs::write(&plain, &text).unwrap();
    let first = db.ok(&["ingest", "--host", "appliance-b", plain.to_str().unwrap()]);
    assert!(
        first.contains("240 new samples, 0 already present, 2 new events"),
        "{first}"
    );
    let second = db.ingest_report("appliance-b", &["appliance-b"]);
    assert!(
        second.contains("0 new samples, 240 already present, 0 new events (2 already present)"),
        "{second}"
    );
    assert_eq!(
        db.sqlite3("SELECT COUNT(*) FROM sample; SELECT COUNT(*) FROM source_file;"),
        "240\n2\n"
    );
}

#[test]
fn edge_cases_are_read_or_rejected_line_by_line() {
    let db = Db::new();
    let report = db.ingest_report(
        "edge",
        &[
            "edge/invalid-utf8.log",
            "edge/long-line.log.gz",
            "edge/malformed.log",
        ],
    );
    assert_eq!(db.export_csv(), expected("edge-export.csv"));
    let malformed = fixture("edge/malformed.log").display().to_string();
    for (line, reason) in [
        (3, "non-numeric value"),
        (5, "negative value"),
        (6, "value out of range"),
        (8, "impossible or malformed time"),
        (
            9,
            "no {Live:, Old:, RSS:, PSS:} block at the end of the line",
        ),
    ] {
        assert!(
            report.contains(&format!("  rejected {malformed}:{line}: {reason}\n")),
            "{report}"
        );
    }
    assert!(
        report.contains("  ... and 2 more rejected lines\n"),
        "{report}"
    );
    assert_eq!(
        db.sqlite3("SELECT replace(path, rtrim(path, replace(path, '/', '')), '') AS name, lines, samples_new, rejected, tz, status FROM source_file ORDER BY name"),
        "invalid-utf8.log|14|6|0|UTC|complete\nlong-line.log.gz|5|2|0|UTC|complete\nmalformed.log|16|7|7|UTC|complete\n"
    );
}

#[test]
fn a_truncated_or_corrupt_gzip_leaves_nothing_and_the_others_go_on() {
    let db = Db::new();
    let args: Vec<String> = [
        "edge/truncated.log.gz",
        "edge/corrupt.log.gz",
        "edge/malformed.log",
    ]
    .iter()
    .map(|p| fixture(p).display().to_string())
    .collect();
    let mut cmd = vec!["ingest", "--host", "edge"];
    cmd.extend(args.iter().map(String::as_str));
    let out = db.run(&cmd);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{}: gzip: ", args[0])), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: gzip: invalid gzip header (nothing from this file was stored)",
            args[1]
        )),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 file ingested, 0 already ingested, 2 failed"),
        "{stdout}"
    );
    assert_eq!(
        db.sqlite3("SELECT COUNT(*) FROM source_file; SELECT COUNT(*) FROM sample;"),
        "1\n7\n"
    );

    // Keeping the readable part: marked partial, holds exactly what can be read.
    let out = db.ok(&["ingest", "--host", "edge", "--accept-truncated", &args[0]]);
    assert!(
        out.contains("7 new samples") && out.contains("PARTIAL"),
        "{out}"
    );
    assert_eq!(
        db.sqlite3("SELECT status FROM source_file WHERE path LIKE '%truncated.log.gz'"),
        "partial\n"
    );
    let truncated_rows: Vec<String> = db
        .export_csv()
        .lines()
        .filter(|l| l.contains(",7401,"))
        .map(|l| format!("{l}\n"))
        .collect();
    let expect = expected("truncated-accepted.csv");
    assert_eq!(truncated_rows.concat(), expect.split_once('\n').unwrap().1);
}

#[test]
fn the_zone_is_inferred_per_file_given_or_assumed() {
    let db = Db::new();
    let report = db.ingest_report("appliance-b", &["appliance-b"]);
    assert!(
        report.contains("zone -04:00 (inferred from 192 of 192 heartbeats)"),
        "{report}"
    );
    assert_eq!(
        db.sqlite3("SELECT tz, tz_inferred FROM source_file"),
        "-04:00|1\n"
    );

    // The IANA zone gives the same UTC times in summer; a wrong fixed zone shifts them.
    let named = Db::new();
    let report = named.ok(&[
        "ingest",
        "--host",
        "appliance-b",
        "--tz",
        "America/New_York",
        fixture("appliance-b").to_str().unwrap(),
    ]);
    assert!(report.contains("zone America/New_York (given)"), "{report}");
    assert_eq!(named.export_csv(), db.export_csv());
    let utc = Db::new();
    utc.ok(&[
        "ingest",
        "--host",
        "appliance-b",
        "--tz",
        "UTC",
        fixture("appliance-b").to_str().unwrap(),
    ]);
    let first = |db: &Db| {
        db.sqlite3("SELECT MIN(ts_us) FROM sample")
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    assert_eq!(first(&db) - first(&utc), 4 * 3600 * 1_000_000);

    // Offsets as the README writes them, a leading '-' included.
    for (tz, expected_shift_h) in [("-04:00", 0.0), ("+05:30", 9.5)] {
        let fixed = Db::new();
        let report = fixed.ok(&[
            "ingest",
            "--host",
            "appliance-b",
            "--tz",
            tz,
            fixture("appliance-b").to_str().unwrap(),
        ]);
        assert!(report.contains(&format!("zone {tz} (given)")), "{report}");
        let shift = first(&db) - first(&fixed);
        assert_eq!(shift, (expected_shift_h * 3600e6) as i64, "{tz}");
        let listed = fixed.ok(&["pids", "--tz", tz, "--from", "2017-08-11T00:00"]);
        assert!(listed.contains("appliance-b"), "{listed}");
    }

    let bad = db.run(&["ingest", "--tz", "Mars/Olympus", "x.log"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown time zone 'Mars/Olympus'"));

    let edge = Db::new();
    let out = edge.run(&[
        "ingest",
        "--host",
        "edge",
        fixture("edge/invalid-utf8.log").to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no Last Heartbeat to infer the zone from; times taken as UTC"));
}

#[test]
fn hosts_from_folders_keep_equal_pids_apart() {
    let db = Db::new();
    db.ok(&[
        "ingest",
        "--quiet",
        "--host-from-folder",
        fixture("appliance-a").to_str().unwrap(),
        fixture("trip2/appliance-a").to_str().unwrap(),
        fixture("appliance-b").to_str().unwrap(),
    ]);
    assert_eq!(db.export_csv(), expected("export.csv"));
    assert_eq!(
        db.sqlite3("SELECT host, worker FROM process WHERE pid = 2922 ORDER BY host"),
        "appliance-a|ManageIQ::Providers::Vmware::InfraManager::MetricsCollectorWorker\nappliance-b|MiqEventHandler\n"
    );
}

#[test]
fn the_sqlite3_cli_reads_the_database_and_answers_the_readme_query() {
    let db = Db::new();
    db.both_appliances();
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let query = readme
        .lines()
        .find_map(|l| l.strip_prefix("$ sqlite3 -header -column miq-memlog.db \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("the README shows a sqlite3 query");
    let answer = db.sqlite3(query);
    // Check the answer against the expected CSV, computed here independently.
    let csv = expected("export.csv");
    let mut groups: std::collections::BTreeMap<(String, String), (u64, i64)> = Default::default();
    for row in csv.lines().skip(1) {
        let f: Vec<&str> = row.split(',').collect();
        let g = groups
            .entry((f[1].to_string(), f[3].to_string()))
            .or_default();
        g.0 += 1;
        g.1 = g.1.max(f[5].parse().unwrap());
    }
    let expect: String = groups
        .iter()
        .map(|((h, w), (n, max))| format!("{h}|{w}|{n}|{max}\n"))
        .collect();
    assert_eq!(answer, expect);
    assert_eq!(
        db.sqlite3("PRAGMA integrity_check; PRAGMA journal_mode;"),
        "ok\nwal\n"
    );
}

#[test]
fn files_lists_what_was_ingested() {
    let db = Db::new();
    db.ingest("appliance-b", &["appliance-b"]);
    let csv = db.ok(&["files", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "path,hash,host,format,tz,status,lines,samples_new,samples_dup,events_new,rejected,truncated,first,last,ingested"
    );
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert!(row[0].ends_with("appliance-b/evm.log-20170812.gz"));
    assert_eq!(row[1].len(), 16);
    // The file's time span is that of its samples and events.
    let (export, events) = (expected("export.csv"), expected("events.csv"));
    let mut times: Vec<&str> = export
        .lines()
        .skip(1)
        .filter(|l| l.contains(",appliance-b,"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    times.extend(
        events
            .lines()
            .skip(1)
            .filter(|l| l.starts_with("appliance-b,"))
            .map(|l| l.split(',').nth(3).unwrap()),
    );
    times.sort();
    let second = |t: &str| format!("{}Z", &t[..19]);
    let (first, last) = (second(times[0]), second(times[times.len() - 1]));
    assert_eq!(
        &row[2..12],
        [
            "appliance-b",
            "classic",
            "-04:00",
            "complete",
            "430",
            "240",
            "0",
            "2",
            "0",
            "0"
        ]
    );
    assert_eq!((row[12], row[13]), (first.as_str(), last.as_str()));
    assert!(lines.next().is_none());
    let json: serde_json::Value =
        serde_json::from_str(&db.ok(&["files", "--format", "json"])).unwrap();
    assert_eq!(json[0]["samples_new"], 240);
    assert_eq!(json[0]["tz"], "-04:00");
}

#[test]
fn files_times_are_those_sqlite_formats_from_the_stored_microseconds() {
    let db = Db::new();
    db.both_appliances();
    let listed: String = db
        .ok(&["files", "--format", "csv"])
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            format!("{}|{}|{}\n", fields[12], fields[13], fields[14])
        })
        .collect();
    let shell = db.sqlite3(
        "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', first_ts_us / 1000000, 'unixepoch'), \
                strftime('%Y-%m-%dT%H:%M:%SZ', last_ts_us / 1000000, 'unixepoch'), \
                strftime('%Y-%m-%dT%H:%M:%SZ', ingested_us / 1000000, 'unixepoch') \
         FROM source_file ORDER BY id",
    );
    assert!(shell.lines().count() >= 3, "{shell}");
    assert_eq!(listed, shell);
}

#[test]
fn events_filter_by_host_and_pid() {
    let db = Db::new();
    db.both_appliances();
    let csv = db.ok(&[
        "events",
        "--host",
        "appliance-a",
        "--pid",
        "54823",
        "--format",
        "csv",
    ]);
    let all = expected("events.csv");
    let expect: Vec<&str> = all
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.starts_with("appliance-a,54823,"))
        .map(|(_, l)| l)
        .collect();
    assert_eq!(csv, expect.join("\n") + "\n");
    assert_eq!(expect.len(), 3);
}

#[test]
fn reading_commands_need_an_existing_database() {
    let db = Db::new();
    let out = db.run(&["export", "--format", "csv"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database at"));
    assert!(!db.db.exists());
}

#[test]
fn the_database_path_comes_from_the_environment_too() {
    let dir = TempDir::new().unwrap();
    let db = dir.path().join("from-env.db");
    let out = Command::new(fixture_db::BIN)
        .env("MIQ_MEMLOG_DB", &db)
        .args(["ingest", "--quiet", "--host", "appliance-b"])
        .arg(fixture("appliance-b"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(db.exists());
    assert!(!dir.path().join("miq-memlog.db").exists());
}

#[test]
fn export_to_a_file_writes_it_whole() {
    let db = Db::new();
    db.both_appliances();
    let out = db.dir.path().join("samples.csv");
    db.ok(&[
        "export",
        "--format",
        "csv",
        "--host",
        "appliance-b",
        "--out",
        out.to_str().unwrap(),
    ]);
    let all = expected("export.csv");
    let expect: Vec<&str> = all
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.contains(",appliance-b,"))
        .map(|(_, l)| l)
        .collect();
    assert_eq!(fs::read_to_string(&out).unwrap(), expect.join("\n") + "\n");
    assert_eq!(expect.len(), 241);
}
