//! `sql` is read-only; every named query runs and answers what it says.

mod fixture_db;

use std::collections::BTreeMap;
use std::process::Command;

use fixture_db::{expected_rows, golden, FixtureDb};

fn sqlite_count(db: &FixtureDb, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(&db.db)
        .arg(sql)
        .output()
        .expect("sqlite3 is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sql_refuses_writes() {
    let db = FixtureDb::new();
    let before = sqlite_count(
        &db,
        "SELECT COUNT(*) FROM sample; SELECT COUNT(*) FROM events;",
    );
    for write in [
        "DELETE FROM sample",
        "INSERT INTO event (host, pid, ts_us, kind, detail) VALUES ('x', 1, 1, 'dump', '')",
        "UPDATE process SET worker = 'x'",
        "DROP TABLE sample",
        "CREATE TABLE t (a)",
        "PRAGMA user_version = 7",
    ] {
        let err = db.fails(&["sql", write]);
        assert!(
            err.contains("refusing a statement that writes"),
            "{write}: {err}"
        );
    }
    let err = db.fails(&["sql", "SELECT 1; DELETE FROM sample"]);
    assert!(err.contains("only one SQL statement"), "{err}");
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT COUNT(*) FROM sample; SELECT COUNT(*) FROM events;"
        ),
        before
    );
    assert_eq!(before, "1683\n11\n");
    assert_eq!(sqlite_count(&db, "PRAGMA user_version"), "0\n");
}

#[test]
fn sql_reads_in_every_format_with_regexp() {
    let db = FixtureDb::new();
    let q = "SELECT worker, COUNT(*) AS samples FROM samples WHERE worker REGEXP 'Metrics' GROUP BY worker ORDER BY worker";
    assert_eq!(
        db.ok(&["sql", q, "--format", "csv"]),
        "worker,samples\nManageIQ::Providers::Vmware::InfraManager::MetricsCollectorWorker,578\nMiqEmsMetricsProcessorWorker,577\n"
    );
    assert_eq!(
        db.ok(&["sql", q]),
        "worker                                                             samples\n\
         ManageIQ::Providers::Vmware::InfraManager::MetricsCollectorWorker      578\n\
         MiqEmsMetricsProcessorWorker                                           577\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&db.ok(&["sql", q, "--format", "json"])).unwrap();
    assert_eq!(json[1]["samples"], 577);
    let err = db.fails(&["sql", " ; "]);
    assert!(err.contains("no SQL statement given"), "{err}");
    let err = db.fails(&["sql", "SELECT * FROM nowhere"]);
    assert!(err.contains("no such table: nowhere"), "{err}");
}

#[test]
fn every_named_query_runs() {
    let db = FixtureDb::new();
    let list = db.ok(&["query", "--list"]);
    let names: Vec<&str> = list.lines().filter(|l| !l.starts_with(' ')).collect();
    for wanted in [
        "rss_growth",
        "samples_per_hour",
        "dumps_per_process",
        "restarts_per_worker",
        "rss_jumps",
        "export_samples",
        "pids",
        "events",
    ] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
    assert_eq!(
        names.len(),
        list.lines().count() / 2,
        "each name has its description line"
    );
    for name in &names {
        let csv = db.ok(&["query", name, "--format", "csv"]);
        // These take one process or one dump, and no parameter selects none; the fixtures
        // hold no enrichment lines.
        let takes_one = [
            "process_samples",
            "process_events",
            "report_series",
            "check_series",
            "heap_nearest_sample",
            "heap_sites",
            "heap_messages",
            "heap_table",
        ];
        if !takes_one.contains(name) && *name != "enrichment" {
            assert!(
                csv.lines().count() > 1,
                "{name} answers on the fixtures: {csv}"
            );
        }
    }
    // The internal selects are the ones the commands run (events adds the UTC µs time).
    let events = db.ok(&["query", "events", "--format", "csv"]);
    let expected = std::fs::read_to_string(fixture_db::fixture("expected/events.csv")).unwrap();
    assert_eq!(events.lines().count(), expected.lines().count());
    for (got, want) in events.lines().zip(expected.lines()) {
        assert!(got.starts_with(&format!("{want},")), "{got}");
    }
    let err = db.fails(&["query", "rss_growth", "--param", "nope=1"]);
    assert!(
        err.contains("unknown parameter 'nope' (this query takes: host, worker, limit)"),
        "{err}"
    );
    let err = db.fails(&["query", "no_such_query"]);
    assert!(err.contains("no query named 'no_such_query'"), "{err}");
}

#[test]
fn rss_growth_agrees_with_the_fixture_rows() {
    let db = FixtureDb::new();
    // Oracle: last RSS minus first RSS per process, from the expected export.
    let mut ends: BTreeMap<(String, String), (String, i64, i64)> = BTreeMap::new();
    for r in expected_rows() {
        let rss: i64 = r[5].parse().unwrap();
        let e = ends
            .entry((r[1].clone(), r[2].clone()))
            .or_insert((r[3].clone(), rss, rss));
        e.2 = rss;
    }
    let mut growth: Vec<(i64, String, String)> = ends
        .iter()
        .map(|((h, p), (_, first, last))| (last - first, h.clone(), p.clone()))
        .collect();
    growth.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let csv = db.ok(&[
        "query",
        "rss_growth",
        "--param",
        "limit=3",
        "--format",
        "csv",
    ]);
    let got: Vec<(i64, String, String)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[7].parse().unwrap(), f[0].to_string(), f[1].to_string())
        })
        .collect();
    assert_eq!(got, growth[..3].to_vec());
    golden(
        "query-rss_growth.table",
        db.ok(&["query", "rss_growth", "--param", "limit=5"])
            .as_bytes(),
    );
}

#[test]
fn event_queries_agree_with_the_fixture_events() {
    let db = FixtureDb::new();
    golden(
        "query-restarts_per_worker.csv",
        db.ok(&["query", "restarts_per_worker", "--format", "csv"])
            .as_bytes(),
    );
    golden(
        "query-dumps_per_process.csv",
        db.ok(&["query", "dumps_per_process", "--format", "csv"])
            .as_bytes(),
    );
    golden(
        "query-rss_jumps.csv",
        db.ok(&[
            "query",
            "rss_jumps",
            "--param",
            "host=appliance-a",
            "--param",
            "limit=5",
            "--format",
            "csv",
        ])
        .as_bytes(),
    );
    golden(
        "query-samples_per_hour.csv",
        db.ok(&[
            "query",
            "samples_per_hour",
            "--param",
            "worker=MetricsProcessor",
            "--format",
            "csv",
        ])
        .as_bytes(),
    );
    // Samples per hour add up to the fixture's rows of that worker type.
    let per_hour = db.ok(&["query", "samples_per_hour", "--format", "csv"]);
    let total: usize = per_hour
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, expected_rows().len());
}
