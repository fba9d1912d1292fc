//! `report` on the fixtures, checked against figures computed here, independently,
//! from `fixtures/expected/export.csv` and `fixtures/expected/events.csv`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const MIB: f64 = 1_048_576.0;
const US_PER_HOUR: f64 = 3_600_000_000.0;

mod fixture_db;
use fixture_db::{fixture, records, FixtureDb};

fn expected(name: &str) -> Vec<BTreeMap<String, String>> {
    records(&std::fs::read_to_string(fixture(&format!("expected/{name}"))).unwrap())
}

/// `2017-03-01T00:00:16.725188Z` as µs since 1970.
fn micros(iso: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(iso)
        .unwrap()
        .timestamp_micros()
}

fn num(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?} in {row:?}", row[column]))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Theil–Sen the plain way: every pair, sorted.
fn theil_sen(points: &[(f64, f64)]) -> (f64, f64) {
    let mut slopes = Vec::new();
    for i in 0..points.len() {
        for j in i + 1..points.len() {
            if points[j].0 != points[i].0 {
                slopes.push((points[j].1 - points[i].1) / (points[j].0 - points[i].0));
            }
        }
    }
    let slope = median(slopes);
    let intercept = median(points.iter().map(|p| p.1 - slope * p.0).collect());
    (slope, intercept)
}

/// The export rows of one process (host, pid), in time order.
type Key = (String, i64);

fn processes() -> BTreeMap<Key, Vec<BTreeMap<String, String>>> {
    let mut by: BTreeMap<Key, Vec<_>> = BTreeMap::new();
    for row in expected("export.csv") {
        let key = (row["host"].clone(), row["pid"].parse().unwrap());
        by.entry(key).or_default().push(row);
    }
    by
}

fn series(
    rows: &[BTreeMap<String, String>],
    column: &str,
    scale: f64,
    patch_only: bool,
) -> Vec<(f64, f64)> {
    let t0 = micros(&rows[0]["time"]);
    rows.iter()
        .filter(|r| !patch_only || r["source"] == "patch")
        .filter(|r| !r[column].is_empty())
        .map(|r| {
            let h = (micros(&r["time"]) - t0) as f64 / US_PER_HOUR;
            (h, r[column].parse::<f64>().unwrap() / scale)
        })
        .collect()
}

fn close(actual: f64, want: f64, tolerance: f64) -> bool {
    (actual - want).abs() <= tolerance
}

#[test]
fn process_rows_match_figures_computed_from_the_export() {
    let db = FixtureDb::new();
    let report = records(&db.ok(&["report", "--format", "csv"]));
    let truth = processes();
    let events = expected("events.csv");
    // Every process of the export, once; 51377 has a dump but no samples.
    assert_eq!(report.len(), truth.len());

    for row in &report {
        let key = (row["host"].clone(), row["pid"].parse::<i64>().unwrap());
        let rows = &truth[&key];
        let ctx = format!("{key:?}");
        assert_eq!(row["worker"], rows[0]["worker"], "{ctx}");
        assert_eq!(num(row, "samples") as usize, rows.len(), "{ctx}");
        let (start, end) = (&rows[0]["time"], &rows[rows.len() - 1]["time"]);
        assert_eq!(row["start"], format!("{}Z", &start[..19]), "{ctx}");
        assert_eq!(row["end"], format!("{}Z", &end[..19]), "{ctx}");
        let hours = (micros(end) - micros(start)) as f64 / US_PER_HOUR;
        assert!(close(num(row, "hours"), hours, 0.005), "{ctx}");

        let rss: Vec<f64> = rows
            .iter()
            .map(|r| r["rss"].parse::<f64>().unwrap())
            .collect();
        let max = rss.iter().copied().fold(0.0, f64::max);
        for (column, bytes) in [
            ("rss_start", rss[0]),
            ("rss_end", rss[rss.len() - 1]),
            ("rss_max", max),
        ] {
            assert!(close(num(row, column), bytes / MIB, 0.05), "{ctx} {column}");
        }

        let (slope, intercept) = theil_sen(&series(rows, "rss", MIB, false));
        assert!(
            close(num(row, "rss_mb_per_hour"), slope, 0.0005),
            "{ctx}: {slope}"
        );
        let (pss_slope, _) = theil_sen(&series(rows, "pss", MIB, false));
        assert!(
            close(num(row, "pss_mb_per_hour"), pss_slope, 0.0005),
            "{ctx}"
        );
        let old = series(rows, "old", 1.0, true);
        if old.is_empty() {
            assert_eq!(
                (row["old_per_hour"].as_str(), row["live_per_hour"].as_str()),
                ("", ""),
                "{ctx}"
            );
        } else {
            assert!(
                close(num(row, "old_per_hour"), theil_sen(&old).0, 0.5),
                "{ctx}"
            );
            let live = series(rows, "live", 1.0, true);
            assert!(
                close(num(row, "live_per_hour"), theil_sen(&live).0, 0.5),
                "{ctx}"
            );
        }

        let of_kind = |kind: &str| {
            events
                .iter()
                .filter(|e| {
                    e["host"] == key.0 && e["pid"] == key.1.to_string() && e["kind"] == kind
                })
                .filter(|e| micros(&e["time"]) >= micros(start))
                .count()
        };
        assert_eq!(num(row, "dumps") as usize, of_kind("dump"), "{ctx}");
        let restarts = of_kind("memory_exceeded");
        assert_eq!(num(row, "restarts") as usize, restarts, "{ctx}");

        // The limit of the worker type, where one of its processes was restarted.
        let limit = events
            .iter()
            .filter(|e| {
                e["host"] == key.0
                    && e["worker"] == rows[0]["worker"]
                    && e["kind"] == "memory_exceeded"
            })
            .map(|e| {
                e["detail"]
                    .rsplit("limit=")
                    .next()
                    .unwrap()
                    .parse::<f64>()
                    .unwrap()
                    / MIB
            })
            .next_back();
        match limit {
            None => assert_eq!(row["hours_to_limit"], "", "{ctx}"),
            Some(_) if restarts > 0 => assert_eq!(num(row, "hours_to_limit"), 0.0, "{ctx}"),
            Some(limit) => {
                let left = (limit - (intercept + slope * hours)) / slope;
                assert!(
                    close(num(row, "hours_to_limit"), left, 0.05),
                    "{ctx}: {left}"
                );
            }
        }
    }
}

#[test]
fn the_leaking_workers_lead_with_the_right_verdicts() {
    let db = FixtureDb::new();
    let report = records(&db.ok(&["report", "--format", "csv"]));
    let leaking: Vec<(String, String)> = report
        .iter()
        .take_while(|r| r["verdict"] == "leaking")
        .map(|r| (r["host"].clone(), r["pid"].clone()))
        .collect();
    // The metrics processors climb to their limit again and again; the RHEV
    // refresh worker exceeds its limit and its successor climbs at once.
    let mut want = vec![
        ("appliance-a", "54823"),
        ("appliance-a", "55012"),
        ("appliance-a", "57231"),
        ("appliance-b", "3105"),
        ("appliance-b", "41877"),
    ];
    let mut got: Vec<(&str, &str)> = leaking
        .iter()
        .map(|(h, p)| (h.as_str(), p.as_str()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert!(report[5..].iter().all(|r| r["verdict"] != "leaking"));
    // Processes with patched samples are judged on their old objects.
    let collector = report
        .iter()
        .find(|r| r["pid"] == "2922" && r["host"] == "appliance-a")
        .unwrap();
    assert_eq!(
        (collector["verdict"].as_str(), collector["basis"].as_str()),
        ("stable", "old")
    );
    let generic = report.iter().find(|r| r["pid"] == "2931").unwrap();
    assert_eq!(generic["basis"], "rss");
    // Within a verdict, the fastest growth first.
    let rank = |v: &str| {
        ["leaking", "growing", "stable", "too-short"]
            .iter()
            .position(|x| *x == v)
            .unwrap()
    };
    for pair in report.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            rank(&a["verdict"]) <= rank(&b["verdict"]),
            "{a:?} before {b:?}"
        );
        if a["verdict"] == b["verdict"] {
            assert!(
                num(a, "rss_mb_per_hour") >= num(b, "rss_mb_per_hour"),
                "{a:?} before {b:?}"
            );
        }
    }
}

#[test]
fn worker_types_sum_their_processes() {
    let db = FixtureDb::new();
    let workers = records(&db.ok(&["report", "--by", "worker", "--format", "csv"]));
    let processes = records(&db.ok(&["report", "--format", "csv"]));
    let types: Vec<(&str, &str, &str)> = workers
        .iter()
        .map(|w| {
            (
                w["host"].as_str(),
                w["worker"].as_str(),
                w["verdict"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        types[..2],
        [
            (
                "appliance-b",
                "ManageIQ::Providers::Redhat::InfraManager::RefreshWorker",
                "leaking"
            ),
            ("appliance-a", "MiqEmsMetricsProcessorWorker", "leaking"),
        ]
    );
    assert!(types[2..].iter().all(|t| t.2 != "leaking"), "{types:?}");
    assert_eq!(workers.len(), 9);
    for w in &workers {
        let mine: Vec<_> = processes
            .iter()
            .filter(|p| p["host"] == w["host"] && p["worker"] == w["worker"])
            .collect();
        let sum = |c: &str| mine.iter().map(|p| num(p, c)).sum::<f64>();
        assert_eq!(num(w, "processes") as usize, mine.len());
        assert_eq!(num(w, "samples"), sum("samples"));
        assert_eq!(num(w, "restarts"), sum("restarts"));
        assert_eq!(num(w, "dumps"), sum("dumps"));
        let slopes = mine.iter().map(|p| num(p, "rss_mb_per_hour")).collect();
        assert!(
            close(num(w, "median_rss_mb_per_hour"), median(slopes), 0.0011),
            "{w:?}"
        );
    }
    let processor = &workers[1];
    assert_eq!(
        ["processes", "restarts", "dumps", "limit", "leaking"].map(|c| processor[c].as_str()),
        ["3", "2", "3", "600", "3"]
    );
}

/// Per worker type and message kind: count, RSS changes, old-object changes.
type Changes = (usize, Vec<f64>, Vec<i64>);

#[test]
fn message_growth_matches_deltas_of_the_export() {
    let db = FixtureDb::new();
    let got = records(&db.ok(&["report", "--by", "message", "--format", "csv"]));
    // Deltas between consecutive patched samples of each process, by the message
    // named in the later one.
    let mut want: BTreeMap<(String, String), Changes> = BTreeMap::new();
    for rows in processes().values() {
        let patched: Vec<_> = rows.iter().filter(|r| r["source"] == "patch").collect();
        for pair in patched.windows(2) {
            let (before, after) = (pair[0], pair[1]);
            let kind = if after["msg_id"].is_empty() {
                "nil".to_string()
            } else {
                let part = |s: &str| {
                    if s.is_empty() {
                        "nil".to_string()
                    } else {
                        s.to_string()
                    }
                };
                format!(
                    "{}.{}",
                    part(&after["msg_class"]),
                    part(&after["msg_method"])
                )
            };
            let e = want.entry((after["worker"].clone(), kind)).or_default();
            e.0 += 1;
            e.1.push(num(after, "rss") - num(before, "rss"));
            e.2.push(after["old"].parse::<i64>().unwrap() - before["old"].parse::<i64>().unwrap());
        }
    }
    assert_eq!(got.len(), want.len());
    let mut growth: BTreeMap<&str, i64> = BTreeMap::new();
    for ((worker, _), (_, _, old)) in &want {
        *growth.entry(worker).or_default() += old.iter().sum::<i64>().max(0);
    }
    for row in &got {
        let (count, rsss, olds) = &want[&(row["worker"].clone(), row["message"].clone())];
        let (count, old) = (*count, olds.iter().sum::<i64>());
        let rss: f64 = rsss.iter().sum();
        let olds: Vec<f64> = olds.iter().map(|d| *d as f64).collect();
        let mut grows = false;
        for (column, deltas) in [("old_t", &olds), ("rss_t", rsss)] {
            // Mean change over its standard error, two-pass.
            let n = deltas.len() as f64;
            let mean = deltas.iter().sum::<f64>() / n;
            let var = deltas.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let t = mean / (var / n).sqrt();
            if deltas.len() >= 2 && var > 0.0 {
                assert!(close(num(row, column), t, 0.051), "{row:?}: {column} {t}");
                grows |= t >= 3.0;
            } else {
                assert_eq!(row[column], "", "{row:?}");
            }
        }
        assert_eq!(row["grows"], if grows { "yes" } else { "no" }, "{row:?}");
        assert_eq!(num(row, "count") as usize, count, "{row:?}");
        assert!(
            close(num(row, "rss_total_mb"), rss / MIB, 0.0005),
            "{row:?}"
        );
        assert_eq!(row["old_total"], old.to_string(), "{row:?}");
        let share = old.max(0) as f64 * 100.0 / growth[row["worker"].as_str()] as f64;
        assert!(close(num(row, "old_share_pct"), share, 0.05), "{row:?}");
    }
    // The kinds that make their worker grow first, each group largest first.
    let order: Vec<(bool, i64)> = got
        .iter()
        .map(|r| (r["grows"] == "yes", r["old_total"].parse().unwrap()))
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] >= w[1]),
        "largest first: {order:?}"
    );
    assert!(order[0].0, "some kind grows: {order:?}");
}

/// A patched `Memory Info` line of worker pid 7777.
fn memory_line(second: u32, message: Option<(&str, &str)>, id: u64, rss: i64, old: i64) -> String {
    let msg = match message {
        None => "nil".to_string(),
        Some((class, method)) => format!(
            "#<MiqQueue id: {id}, priority: 100, method_name: \"{method}\", args: [], state: \"dequeue\", class_name: \"{class}\", instance_id: 5>"
        ),
    };
    format!(
        "[----] I, [2017-05-01T{:02}:{:02}:{:02}.000000 #7777:a1]  INFO -- : MIQ(MiqReportingWorker::Runner#do_work) Memory Info XXXX ({msg}) => {{Live: {}, Old: {old}, RSS: {rss}, PSS: {}}}\n",
        second / 3600,
        second / 60 % 60,
        second % 60,
        old + 50_000,
        rss / 2,
    )
}

#[test]
fn the_message_kind_that_causes_all_growth_is_named() {
    // Reports grow the worker 3 MB and 4 000 old objects each; the other
    // messages go up and down by turns and add nothing.
    let kinds = [
        Some(("MiqReport", "generate_table")),
        Some(("MiqWidget", "generate_content")),
        Some(("MiqSchedule", "invoke_actions")),
        None,
    ];
    let (mut rss, mut old) = (300_i64 << 20, 700_000_i64);
    let mut seen = [0usize; 4];
    let mut log = String::new();
    for i in 0..81u32 {
        let k = (i % 4) as usize;
        if i > 0 {
            if k == 0 {
                rss += 3 << 20;
                old += 4_000;
            } else {
                let sign = if seen[k] % 2 == 0 { 1 } else { -1 };
                rss += sign * 250_000;
                old += sign * 900;
            }
            seen[k] += 1;
        }
        log.push_str(&memory_line(i * 300, kinds[k], 1000 + i as u64, rss, old));
    }
    let db = FixtureDb::empty();
    let file = db.path().join("evm.log");
    std::fs::write(&file, log).unwrap();
    db.ok(&[
        "ingest",
        "--quiet",
        "--host",
        "synth",
        "--tz",
        "UTC",
        file.to_str().unwrap(),
    ]);

    let json: serde_json::Value =
        serde_json::from_str(&db.ok(&["report", "--by", "message", "--format", "json"])).unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[0],
        serde_json::json!({
            "worker": "MiqReportingWorker", "message": "MiqReport.generate_table", "count": 20,
            "rss_total_mb": 60.0, "rss_mean_mb": 3.0, "rss_share_pct": 100.0, "rss_t": null,
            "old_total": 80000, "old_mean": 4000.0, "old_share_pct": 100.0, "old_t": null,
            "grows": "yes"
        })
    );
    for row in &rows[1..] {
        assert_eq!(
            (
                row["old_total"].as_i64(),
                row["old_share_pct"].as_f64(),
                row["old_t"].as_f64(),
                row["grows"].as_str()
            ),
            (Some(0), Some(0.0), Some(0.0), Some("no"))
        );
    }
    // Nearly seven hours of a heap that keeps 12 000 more old objects an hour: a leak.
    let process = records(&db.ok(&["report", "--format", "csv"]));
    assert_eq!(process.len(), 1);
    assert_eq!(
        (process[0]["verdict"].as_str(), process[0]["basis"].as_str()),
        ("leaking", "old")
    );
    assert!(
        close(num(&process[0], "old_per_hour"), 12_000.0, 1200.0),
        "{process:?}"
    );
}

#[test]
fn selectors_narrow_the_report() {
    let db = FixtureDb::new();
    let pids = |args: &[&str]| -> Vec<String> {
        let mut args = args.to_vec();
        args.extend(["--format", "csv"]);
        let mut v: Vec<String> = records(&db.ok(&args))
            .iter()
            .map(|r| format!("{}:{}", r["host"], r["pid"]))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        pids(&["report", "--pid", "2922", "--pid", "3105"]),
        ["appliance-a:2922", "appliance-b:2922", "appliance-b:3105"]
    );
    assert_eq!(
        pids(&["report", "--host", "appliance-b", "--worker", "Refresh"]),
        ["appliance-b:3105", "appliance-b:41877"]
    );
    assert_eq!(pids(&["report", "--worker", "^Miq.*Processor"]).len(), 3);
    assert_eq!(pids(&["report", "--host", "nowhere"]), Vec::<String>::new());

    let bad = db.run(&["report", "--worker", "(unclosed"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--worker"));

    let table = db.ok(&["report", "--by", "worker", "--host", "appliance-a"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header[..3], ["host", "worker", "processes"]);
    assert_eq!(table.lines().count(), 5);
}

#[test]
fn windows_and_sources_narrow_the_fitted_samples() {
    let db = FixtureDb::new();
    let truth = processes();
    let one = |args: &[&str]| {
        let mut args = args.to_vec();
        args.extend(["--format", "csv"]);
        let rows = records(&db.ok(&args));
        assert_eq!(rows.len(), 1, "{args:?}");
        rows.into_iter().next().unwrap()
    };

    // 55012 on 2017-03-02 until noon: its dump at 09:03 falls inside, its
    // restart at 16:40 does not.
    let (from, to) = ("2017-03-02T00:00:00.000000Z", "2017-03-02T12:00:00.000000Z");
    let inside: Vec<_> = truth[&("appliance-a".to_string(), 55012)]
        .iter()
        .filter(|r| r["time"].as_str() >= from && r["time"].as_str() <= to)
        .cloned()
        .collect();
    let row = one(&[
        "report",
        "--pid",
        "55012",
        "--from",
        "2017-03-02",
        "--to",
        "2017-03-02T12:00",
    ]);
    assert_eq!(num(&row, "samples") as usize, inside.len());
    assert_eq!(row["start"], format!("{}Z", &inside[0]["time"][..19]));
    let (slope, _) = theil_sen(&series(&inside, "rss", MIB, false));
    assert!(
        close(num(&row, "rss_mb_per_hour"), slope, 0.0005),
        "{row:?}: {slope}"
    );
    assert_eq!(
        (row["dumps"].as_str(), row["restarts"].as_str()),
        ("1", "0")
    );
    let row = one(&[
        "report",
        "--pid",
        "55012",
        "--from",
        "2017-03-02",
        "--to",
        "2017-03-02T23:59",
    ]);
    assert_eq!(
        (row["dumps"].as_str(), row["restarts"].as_str()),
        ("1", "1")
    );

    // Status samples alone: no objects, so the verdict rests on RSS.
    let status: Vec<_> = truth[&("appliance-a".to_string(), 57231)]
        .iter()
        .filter(|r| r["source"] == "status")
        .cloned()
        .collect();
    let row = one(&["report", "--pid", "57231", "--source", "status"]);
    assert_eq!(num(&row, "samples") as usize, status.len());
    let (slope, _) = theil_sen(&series(&status, "rss", MIB, false));
    assert!(
        close(num(&row, "rss_mb_per_hour"), slope, 0.0005),
        "{row:?}: {slope}"
    );
    assert_eq!(
        (row["old_per_hour"].as_str(), row["basis"].as_str()),
        ("", "rss")
    );
    assert_eq!(row["verdict"], "leaking");

    // Times in the zone asked for (EST on that day).
    let row = one(&["report", "--pid", "57231", "--tz", "America/New_York"]);
    assert_eq!(row["start"], "2017-03-02T11:46:50-05:00");
    // Status samples name no message.
    let messages = db.ok(&[
        "report", "--by", "message", "--source", "status", "--format", "csv",
    ]);
    assert_eq!(messages.lines().count(), 1, "{messages}");
}

#[test]
fn the_report_query_runs_in_the_sqlite3_shell() {
    let db = FixtureDb::new();
    let script =
        format!(
        ".param set :host 'appliance-a'\n.param set :pids '[55012,57231]'\n.mode csv\n.read {}\n",
        Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/report_processes.sql").display()
    );
    let out = Command::new("sqlite3")
        .arg(&db.db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    let rows: Vec<Vec<String>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split(',').skip(1).map(String::from).collect())
        .collect();
    // The last column, the process's samples, counted by the shell itself.
    let samples = |pid: &str| {
        let out = Command::new("sqlite3")
            .arg(&db.db)
            .arg(format!(
                "SELECT COUNT(*) FROM sample s JOIN process p ON p.id = s.process_id
                 WHERE p.host = 'appliance-a' AND p.pid = {pid}"
            ))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    assert_eq!(
        rows,
        [
            [
                "appliance-a".to_string(),
                "55012".into(),
                "MiqEmsMetricsProcessorWorker".into(),
                "1".into(),
                "1".into(),
                "629145600".into(),
                samples("55012"),
            ],
            [
                "appliance-a".to_string(),
                "57231".into(),
                "MiqEmsMetricsProcessorWorker".into(),
                "1".into(),
                "0".into(),
                "629145600".into(),
                samples("57231"),
            ],
        ]
    );
    assert_ne!(samples("55012"), "0");
}

#[test]
fn the_readme_shows_real_output() {
    let db = FixtureDb::new();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut shown = 0;
    for block in readme.split("```console\n$ miq-memlog report").skip(1) {
        let (command, rest) = block.split_once('\n').unwrap();
        let output = rest.split("```").next().unwrap();
        let mut args = vec!["report"];
        args.extend(command.split_whitespace());
        assert_eq!(
            db.ok(&args),
            output,
            "README: miq-memlog {}",
            args.join(" ")
        );
        shown += 1;
    }
    assert_eq!(shown, 3);
}
