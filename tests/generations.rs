//! Logs of every ManageIQ generation (`fixtures/generations/`: classic evm.log
//! of five releases, journald exports, pods' JSON, a New York appliance across
//! both 2017 clock changes), each ingested without `--tz` and compared byte for
//! byte with the rows its independent oracle (`fixtures/generations/make.py`)
//! wrote: no quoted text becomes an event, no real line is rejected.

use std::fs;
use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

mod fixture_db;
use fixture_db::{fixture, records, FixtureDb};

fn expected(name: &str) -> String {
    fs::read_to_string(fixture("generations/expected").join(name)).unwrap()
}

/// Ingests `files` (under fixtures/generations) into a new database with
/// `options`; returns the database and the ingest report.
fn ingest(options: &[&str], files: &[&str]) -> (FixtureDb, String) {
    let db = FixtureDb::empty();
    let paths: Vec<String> = files
        .iter()
        .map(|f| fixture("generations").join(f).display().to_string())
        .collect();
    let mut args = vec!["ingest"];
    args.extend(options);
    args.extend(paths.iter().map(String::as_str));
    let out = db.run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing to warn of: every zone is inferred or known.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{files:?}");
    (db, String::from_utf8(out.stdout).unwrap())
}

/// The export and the events are the oracle's; every file of them has 0
/// rejected lines and `cut` lines cut by the 8 KB limit.
fn same_rows(name: &str, options: &[&str], files: &[&str], cut: u64) -> (FixtureDb, String) {
    let (db, report) = ingest(options, files);
    assert_eq!(
        db.ok(&["export", "--format", "csv"]),
        expected(&format!("{name}-export.csv")),
        "{name}: {files:?}"
    );
    assert_eq!(
        db.ok(&["events", "--format", "csv"]),
        expected(&format!("{name}-events.csv")),
        "{name}: {files:?}"
    );
    let listed = records(&db.ok(&["files", "--format", "csv"]));
    assert_eq!(listed.len(), files.len());
    for file in &listed {
        assert_eq!(file["rejected"], "0", "{file:?}");
    }
    let total_cut: u64 = listed
        .iter()
        .map(|f| f["truncated"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(total_cut, cut, "{name}");
    (db, report)
}

#[test]
fn classic_logs_of_every_release() {
    for (name, file, zone) in [
        ("euwe", "euwe/evm.log-20161215.gz", "-05:00"),
        (
            "gaprindashvili",
            "gaprindashvili/evm.log-20180315.gz",
            "UTC",
        ),
        ("jansa", "jansa/evm.log-20210115.gz", "+05:30"),
        ("radjabov", "radjabov/evm.log-20240301.gz", "UTC"),
    ] {
        let cut = u64::from(name == "radjabov");
        let (db, report) = same_rows(name, &["--host", name], &[file], cut);
        assert!(
            report.contains(&format!("zone {zone} (inferred from ")),
            "{report}"
        );
        let tz = db.ok(&["files", "--format", "csv"]);
        assert!(tz.contains(&format!(",classic,{zone},")), "{tz}");
    }
}

#[test]
fn the_server_stopping_itself_is_its_own_kind_of_restart() {
    let (db, _) = ingest(&["--host", "g"], &["gaprindashvili/evm.log-20180315.gz"]);
    let events = records(&db.ok(&["events", "--format", "csv"]));
    let exits: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "server_memory_exceeded")
        .collect();
    assert_eq!(exits.len(), 1);
    assert_eq!(exits[0]["worker"], "MiqServer");
    let pids = records(&db.ok(&["pids", "--format", "csv", "--worker", "^MiqServer$"]));
    let restarted: Vec<&str> = pids
        .iter()
        .filter(|p| p["restarts"] == "1")
        .map(|p| p["pid"].as_str())
        .collect();
    assert_eq!(restarted, [exits[0]["pid"].as_str()]);
}

#[test]
fn one_appliance_three_ways_is_one_set_of_rows() {
    let najdorf = [
        (
            vec!["--host", "najdorf"],
            "najdorf/evm.log-20211216.gz",
            "classic",
        ),
        (vec![], "najdorf/journal.json", "journal-json"),
        (vec![], "najdorf/journal.short-iso-precise", "journal-text"),
    ];
    for (options, file, format) in &najdorf {
        let (db, _) = same_rows("najdorf", options, &[file], 0);
        let listed = records(&db.ok(&["files", "--format", "csv"]));
        assert_eq!(listed[0]["format"], *format);
        assert_eq!(listed[0]["host"], "najdorf", "the journal names its host");
    }
    // A gzip copy of the journal export reads the same.
    let db = FixtureDb::empty();
    let gz = db.path().join("najdorf-journal.json.gz");
    let mut encoder = GzEncoder::new(fs::File::create(&gz).unwrap(), Compression::fast());
    encoder
        .write_all(&fs::read(fixture("generations/najdorf/journal.json")).unwrap())
        .unwrap();
    encoder.finish().unwrap();
    db.ok(&["ingest", "-q", gz.to_str().unwrap()]);
    assert_eq!(
        db.ok(&["export", "--format", "csv"]),
        expected("najdorf-export.csv")
    );
}

#[test]
fn pods_old_and_new_keep_every_pid_7_apart() {
    same_rows("pods-old", &[], &["pods/old.log"], 0);
    let (db, report) = same_rows("pods-new", &[], &["pods/new.log"], 0);
    assert!(
        report.contains("zone UTC (container clock: assumed)"),
        "{report}"
    );
    let pids = records(&db.ok(&["pids", "--format", "csv"]));
    let hosts: Vec<&str> = pids.iter().map(|p| p["host"].as_str()).collect();
    assert!(hosts.len() >= 3, "{hosts:?}");
    assert!(pids.iter().all(|p| p["pid"] == "7"));
    // Named by the run, a pod stays a host of its own.
    let (named, _) = ingest(&["--host", "ocp"], &["pods/new.log"]);
    let named_hosts: Vec<String> = records(&named.ok(&["pids", "--format", "csv"]))
        .into_iter()
        .map(|p| p["host"].clone())
        .collect();
    let prefixed: Vec<String> = hosts.iter().map(|h| format!("ocp/{h}")).collect();
    assert_eq!(named_hosts, prefixed);
}

#[test]
fn daylight_saving_changes_need_no_zone() {
    let files = ["dst/evm.log-20170313.gz", "dst/evm.log-20171106.gz"];
    let (_, report) = same_rows("dst", &["--host", "dst"], &files, 0);
    assert!(
        report.contains(
            "zone -05:00 then -04:00 (inferred from 2099 of 2099 heartbeats), -04:00 from line "
        ),
        "{report}"
    );
    assert!(
        report.contains(
            "zone -04:00 then -05:00 (inferred from 2161 of 2161 heartbeats), -05:00 from line "
        ),
        "{report}"
    );
}
