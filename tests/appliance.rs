//! The appliance side: the plain-Ruby tests of `appliance/miq_memlog.rb`, and
//! the file run for real by stand-in workers (real Ruby, real heap dumps), its
//! output ingested and checked against what the workers reported writing.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

mod fixture_db;
use fixture_db::{records, repo, FixtureDb};

fn ruby(args: &[&str]) -> std::process::Output {
    Command::new("ruby")
        .current_dir(repo())
        .args(args)
        .output()
        .expect("ruby (Debian's ruby package) runs")
}

#[test]
fn the_appliance_file_passes_its_ruby_tests() {
    let out = ruby(&["appliance/test/run.rb"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains(" 0 failures, 0 errors"), "{report}");
}

/// The stand-in workers run with the file; their output in `dir`.
fn run_workers(dir: &Path) {
    let out = ruby(&["appliance/test/run_workers.rb", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn expected(dir: &Path, name: &str) -> Vec<BTreeMap<String, String>> {
    records(&fs::read_to_string(dir.join("expected").join(name)).unwrap())
}

#[test]
fn what_the_enrichment_writes_is_ingested_exactly_and_checked() {
    let db = FixtureDb::empty();
    let out = db.path().join("appliance");
    run_workers(&out);
    let report = db.ok(&["ingest", "--host", "appliance-01", out.to_str().unwrap()]);
    let samples = expected(&out, "samples.csv");
    let dumps = expected(&out, "dumps.csv");
    let processes = expected(&out, "processes.csv");
    assert!(samples.len() >= 20 && dumps.len() >= 5 && processes.len() >= 3);
    assert!(
        report.contains(&format!(
            "1 file ingested, 0 already ingested, 0 failed; {} new samples (0 already present)",
            samples.len()
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("{} heap dumps ({0} new)", dumps.len())),
        "{report}"
    );
    // Its times carry their zone: no zone guessed, nothing rejected.
    assert!(
        report.contains(", 0 rejected lines, zone UTC (no local times in the file)"),
        "{report}"
    );
    let files = records(&db.ok(&["files", "--format", "csv"]));
    assert!(
        files
            .iter()
            .all(|f| f["rejected"] == "0" && f["truncated"] == "0"),
        "{files:?}"
    );

    // Every sample with exactly the values written, as the enrichment's source.
    let exported = records(&db.ok(&["export", "--format", "csv", "--wide"]));
    assert_eq!(exported.len(), samples.len());
    for (got, want) in exported.iter().zip(&samples) {
        assert_eq!(got["host"], "appliance-01");
        assert_eq!(got["source"], "memlog", "{got:?}");
        assert_eq!(got["vsz"], "");
        for column in [
            "time",
            "pid",
            "worker",
            "rss",
            "pss",
            "uss",
            "swap",
            "live",
            "old",
            "gc_ms",
            "msg_ms",
            "msgs",
            "msg_id",
            "msg_class",
            "msg_method",
        ] {
            assert_eq!(got[column], want[column], "{column} of {want:?}");
        }
    }
    let types: BTreeSet<&str> = samples.iter().map(|s| s["worker"].as_str()).collect();
    let listed = records(&db.ok(&["workers", "--format", "csv"]));
    let listed: BTreeSet<&str> = listed.iter().map(|w| w["worker"].as_str()).collect();
    assert_eq!(listed, types);

    // Every dump file, at the time its name says, under its worker.
    let events = records(&db.ok(&["events", "--format", "csv"]));
    let dump_events: BTreeSet<(String, String, String)> = events
        .iter()
        .filter(|e| e["kind"] == "dump")
        .map(|e| (e["pid"].clone(), e["worker"].clone(), e["detail"].clone()))
        .collect();
    let written: BTreeSet<(String, String, String)> = dumps
        .iter()
        .map(|d| {
            let detail = format!("file={} size={}", d["file"], d["bytes"]);
            (d["pid"].clone(), d["worker"].clone(), detail)
        })
        .collect();
    assert_eq!(dump_events, written);
    for e in events.iter().filter(|e| e["kind"] == "dump") {
        let epoch = e["detail"].split('_').nth(2).unwrap();
        let named = chrono::DateTime::from_timestamp(epoch.parse().unwrap(), 0).unwrap();
        assert_eq!(
            e["time"],
            named.format("%Y-%m-%dT%H:%M:%S.000000Z").to_string()
        );
    }

    // check: what every worker type carries, with the settings its processes ran with.
    let check = db.run(&["check", "--format", "csv"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let rows = records(&String::from_utf8(check.stdout).unwrap());
    assert_eq!(rows.len(), processes.len());
    for p in &processes {
        let row = rows.iter().find(|r| r["worker"] == p["worker"]).unwrap();
        assert_eq!(row["carries"], "enrichment");
        for setting in [
            "version",
            "every",
            "gc",
            "dump_every",
            "dump_max",
            "trace",
            "sinks",
        ] {
            assert_eq!(row[setting], p[setting], "{setting} of {}", p["worker"]);
        }
        let own: Vec<_> = samples.iter().filter(|s| s["pid"] == p["pid"]).collect();
        assert_eq!(row["samples"], own.len().to_string());
        let delivered = own
            .iter()
            .map(|s| s["msgs"].parse::<i64>().unwrap())
            .max()
            .unwrap();
        assert_eq!(row["delivered"], delivered.to_string());
        assert_eq!(row["lost"], "0");
        let dumped = dumps
            .iter()
            .filter(|d| d["pid"] == p["pid"])
            .count()
            .to_string();
        assert_eq!(
            (&row["dumps_announced"], &row["dumps_ingested"]),
            (&dumped, &dumped)
        );
        assert_eq!(row["disabled"], "0");
    }

    // A dump left behind on the appliance: announced, not ingested.
    let left = &dumps[0];
    let again = FixtureDb::empty();
    for d in &dumps[1..] {
        let path = out.join("tmp").join(&d["file"]);
        again.ok(&[
            "ingest",
            "-q",
            "--host",
            "appliance-01",
            path.to_str().unwrap(),
        ]);
    }
    let log = out.join("log/memlog.log");
    again.ok(&[
        "ingest",
        "-q",
        "--host",
        "appliance-01",
        log.to_str().unwrap(),
    ]);
    let check = again.run(&["check"]);
    assert!(!check.status.success(), "a missing dump is a problem");
    let text = String::from_utf8(check.stdout).unwrap();
    let problems: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("problem: "))
        .collect();
    let announced = dumps.iter().filter(|d| d["pid"] == left["pid"]).count();
    assert_eq!(
        problems,
        [format!(
            "problem: {} on appliance-01: {announced} heap dumps announced, {} ingested (ingest tmp/memlog_*.dump* too)",
            left["worker"],
            announced - 1
        )],
        "{text}"
    );
}

#[test]
fn check_tells_stock_logs_from_enriched_ones() {
    let db = FixtureDb::new();
    let out = db.run(&["check", "--host", "appliance-b"]);
    assert!(!out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let problems: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("problem: "))
        .collect();
    // appliance-b is stock: every queue worker is status only; the server is not a queue worker.
    assert_eq!(
        problems,
        [
            "problem: ManageIQ::Providers::Redhat::InfraManager::RefreshWorker on appliance-b: status only (a sample every few minutes; `miq-memlog appliance` makes it log after each message)",
            "problem: MiqEventHandler on appliance-b: status only (a sample every few minutes; `miq-memlog appliance` makes it log after each message)",
            "problem: MiqGenericWorker on appliance-b: status only (a sample every few minutes; `miq-memlog appliance` makes it log after each message)",
            "problem: MiqPriorityWorker on appliance-b: status only (a sample every few minutes; `miq-memlog appliance` makes it log after each message)",
        ],
        "{text}"
    );
    let patched = db.run(&[
        "check",
        "--format",
        "csv",
        "--host",
        "appliance-a",
        "--worker",
        "Processor",
    ]);
    let rows = records(&String::from_utf8(patched.stdout).unwrap());
    // The seed's patch: per-message samples, no enrichment settings.
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["carries"].as_str(), rows[0]["every"].as_str()),
        ("patch", "")
    );
    assert_eq!(rows[0]["samples"], "433");
}

#[test]
fn the_binary_carries_the_appliance_file_and_its_steps() {
    let db = FixtureDb::empty();
    let shipped = fs::read(repo().join("appliance/miq_memlog.rb")).unwrap();
    assert_eq!(db.run(&["appliance"]).stdout, shipped);
    let target = db.path().join("zz_miq_memlog.rb");
    let steps = db.ok(&["appliance", "--out", target.to_str().unwrap()]);
    assert_eq!(fs::read(&target).unwrap(), shipped);
    for family in [
        "/etc/default/evm",
        "/etc/default/manageiq-memlog.properties",
        "FROM <the release's manageiq image>",
        "cp zz_miq_memlog.rb /var/www/miq/vmdb/config/initializers/zz_miq_memlog.rb",
        "systemctl restart evmserverd",
        "log/memlog.log*",
        "tmp/memlog_*.dump.gz",
        "oc logs",
    ] {
        assert!(steps.contains(family), "{family} in {steps}");
    }
    assert!(steps.starts_with(&format!(
        "wrote {}\n\nInstall: copy zz_miq_memlog.rb ",
        target.display()
    )));
    let only = db.ok(&["appliance", "--steps"]);
    assert!(
        only.starts_with("Install: copy miq_memlog.rb to config/initializers/zz_miq_memlog.rb"),
        "{only}"
    );
    assert_eq!(only.lines().count(), steps.lines().count() - 2);
}

#[test]
fn the_readme_shows_real_check_output() {
    let db = FixtureDb::new();
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let block = readme
        .split("```console\n$ miq-memlog check --host appliance-a\n")
        .nth(1)
        .expect("the README shows check");
    let shown = block.split("```").next().unwrap();
    let out = db.run(&["check", "--host", "appliance-a"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shown);
}
