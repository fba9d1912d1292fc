//! Heap dumps written by real Ruby (`ruby` with `objspace`, scripts in
//! tests/heap/), ingested and read back: the planted leaks found exactly, the
//! churn and the garbage kept out, the tracer apart, bad lines counted, a
//! compaction marked, an RSS growth outside the heap told as such, copies of
//! one dump stored once. Expected values come from the scripts (they know
//! what they planted) or from tests/heap/oracle.rb (JSON.parse on every line).

mod fixture_db;
mod heap_dumps;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use fixture_db::{fails, ok, repo, run};
use heap_dumps::{json, leak_dumps, memory_log, ruby, EPOCH, PID};
use serde_json::Value;
use tempfile::TempDir;

fn oracle(dump: &Path) -> Value {
    serde_json::from_str(&ruby("oracle.rb", &[dump.to_str().unwrap()])).unwrap()
}

fn sql(db: &Path, query: &str) -> String {
    let out = Command::new("sqlite3").arg(db).arg(query).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn ingest(tmp: &Path, db: &Path, paths: &[&Path]) -> String {
    let mut args = vec!["ingest", "--tz", "UTC"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    ok(tmp, db, &args)
}

fn heap_json(tmp: &Path, db: &Path) -> Vec<Value> {
    let out = ok(tmp, db, &["heap", "--format", "json", "--top", "100"]);
    json(&out).as_array().unwrap().clone()
}

fn site_name(expected: &Value, site: &str) -> String {
    format!(
        "{}:{}",
        expected["file"].as_str().unwrap(),
        expected["sites"][site].as_i64().unwrap()
    )
}

#[test]
fn planted_leaks_are_found_exactly_with_their_growth_per_hour_and_per_message() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let (dumps, expected) = leak_dumps(tmp.path(), "leak");
    let log = tmp.path().join("evm.log");
    memory_log(&log, PID, 4, 0);
    ingest(tmp.path(), &db, &[&dumps, &log]);

    let processes = heap_json(tmp.path(), &db);
    assert_eq!(processes.len(), 1);
    let p = &processes[0];
    assert_eq!(p["pid"], 4242);
    assert_eq!(p["worker"], "MiqGenericWorker");
    assert_eq!(p["verdict"], "heap grows", "{}", p["reason"]);
    let file = expected["file"].as_str().unwrap();
    let windows = p["windows"].as_array().unwrap();
    let planted = expected["windows"].as_array().unwrap();
    assert_eq!(windows.len(), planted.len());
    for w in windows {
        assert_eq!(w["hours"], 1.0);
        assert_eq!(w["messages"], 10, "a message every 6 minutes");
        assert!(w["unreliable"].is_null());
    }
    let sites = p["sites"].as_array().unwrap();
    // Per window, the script's sites holding retained objects (Ruby's own call
    // caches, IMEMO, aside) are exactly the planted ones, with their counts.
    for (w, planted) in planted.iter().enumerate() {
        let mut found = serde_json::Map::new();
        for s in sites {
            let n = s["per_window"][w]["objects"].as_u64().unwrap();
            if s["file"] == file && s["type"] != "IMEMO" && n > 0 {
                found.insert(s["site"].as_str().unwrap().to_string(), n.into());
            }
        }
        assert_eq!(&Value::Object(found), planted, "window {}", w + 1);
    }
    // The sites retaining in every window come first, and are the planted ones.
    let every: Vec<&str> = sites
        .iter()
        .filter(|s| s["windows_retaining"] == planted.len())
        .map(|s| s["site"].as_str().unwrap())
        .collect();
    let mut planted_sites: Vec<&str> = planted[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut every_sorted = every.clone();
    every_sorted.sort();
    planted_sites.sort();
    assert_eq!(every_sorted, planted_sites);
    assert_eq!(
        sites[..every.len()]
            .iter()
            .map(|s| s["site"].as_str().unwrap())
            .collect::<Vec<_>>(),
        every
    );
    let leaked = site_name(&expected, "leaked");
    for s in &sites[..every.len()] {
        let per_window = planted[0][s["site"].as_str().unwrap()].as_f64().unwrap();
        assert_eq!(s["objects_per_hour"], per_window, "{}", s["site"]);
        assert_eq!(s["objects_per_message"], per_window / 10.0, "{}", s["site"]);
        assert_eq!(s["held_by"][0]["holder"], format!("Array ({leaked})"));
        let path = s["root_path"].as_array().unwrap();
        assert!(path[0].as_str().unwrap().starts_with("ROOT "), "{path:?}");
        assert!(path
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .ends_with(&format!("({})", s["site"].as_str().unwrap())));
    }
    let kinds: Vec<(&str, &str)> = sites[..every.len()]
        .iter()
        .map(|s| (s["type"].as_str().unwrap(), s["class"].as_str().unwrap()))
        .collect();
    for kind in [("OBJECT", "Order"), ("STRING", "String"), ("HASH", "Hash")] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    // Nothing of the churn, nothing of the garbage.
    for quiet in ["churn", "garbage"] {
        let line = site_name(&expected, quiet);
        assert!(
            sites.iter().all(|s| s["site"] != line.as_str()),
            "{quiet} ({line}) reported"
        );
    }

    // The table and the CSV say the same.
    let table = ok(tmp.path(), &db, &["heap"]);
    assert!(table.contains("verdict: heap grows"), "{table}");
    for site in &planted_sites {
        assert!(table.contains(site), "{table}");
    }
    let csv = ok(tmp.path(), &db, &["heap", "--format", "csv"]);
    let rows: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(planted_sites[0]))
        .collect();
    assert_eq!(rows.len(), planted.len(), "{csv}");

    // report points at heap for the process.
    let report = ok(tmp.path(), &db, &["report", "--format", "json"]);
    let report = json(&report);
    assert_eq!(report[0]["heap"], "heap --host appliance --pid 4242");
}

#[test]
fn garbage_is_counted_apart_and_the_tracer_left_out() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let (dumps, expected) = leak_dumps(tmp.path(), "leak");
    ingest(tmp.path(), &db, &[&dumps]);
    let garbage = expected["garbage_per_dump"].as_u64().unwrap();
    let line = expected["sites"]["garbage"].as_i64().unwrap();
    let rows = json(&ok(tmp.path(), &db, &["dumps", "--format", "json"]));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for (row, name) in rows.iter().zip(expected["dumps"].as_array().unwrap()) {
        assert_eq!(&row["file"], name);
        let truth = oracle(&dumps.join(name.as_str().unwrap()));
        let objects = row["objects"].as_u64().unwrap() + row["garbage_objects"].as_u64().unwrap();
        assert_eq!(objects, truth["objects"].as_u64().unwrap(), "{name}");
        assert_eq!(truth["tracer_objects"], 1);
        let stored: Vec<u64> = sql(
            &db,
            &format!(
                "SELECT h.bytes + h.garbage_bytes, h.tracer_bytes, h.tracer_objects,
                        (SELECT SUM(garbage_objects) FROM heap_site s WHERE s.dump_id = h.dump_id
                           AND s.line = {line} AND s.file = '{}'),
                        (SELECT SUM(objects) FROM heap_site s WHERE s.dump_id = h.dump_id
                           AND s.line = {line} AND s.file = '{}')
                 FROM heap_dump h JOIN dump d ON d.id = h.dump_id WHERE d.file_name = '{}'",
                expected["file"].as_str().unwrap(),
                expected["file"].as_str().unwrap(),
                name.as_str().unwrap()
            ),
        )
        .split('|')
        .map(|v| v.parse().unwrap())
        .collect();
        assert_eq!(
            stored[0],
            truth["bytes"].as_u64().unwrap(),
            "{name}: bytes without the tracer"
        );
        assert_eq!(stored[1], truth["tracer_bytes"].as_u64().unwrap(), "{name}");
        assert_eq!(stored[2], 1);
        // The arrays made with the GC off are garbage (a conservative stack
        // scan may keep the last one or two alive).
        assert!(
            stored[3] + 2 >= garbage && stored[3] <= garbage,
            "{name}: {stored:?}"
        );
        assert!(stored[4] <= 2, "{name}: {stored:?}");
    }
}

#[test]
fn bad_lines_are_skipped_and_counted_torn_last_line_and_nul_bytes() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let nonascii = tmp.path().join("nonascii_1700000000_11.dump");
    ruby("nonascii.rb", &[nonascii.to_str().unwrap()]);
    let bytes = fs::read(&nonascii).unwrap();
    let with_nul = bytes
        .split(|&b| b == b'\n')
        .filter(|l| l.contains(&0))
        .count() as u64;
    let ruby_3_1 = ruby_version().starts_with("3.1");
    if ruby_3_1 {
        assert!(
            with_nul > 0,
            "Ruby 3.1 writes NUL bytes for a non-ASCII method name"
        );
    }
    // A garbled name can also hold a newline: the line's rest is a line of its own.
    let truth = oracle(&nonascii);
    let bad = truth["bad_lines"].as_u64().unwrap();
    assert!(bad >= with_nul);

    // The same dump, its last line torn (the file was not closed).
    let torn = tmp.path().join("torn_1700000000_12.dump");
    let cut = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap();
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    fs::write(&torn, &bytes[..cut + 20]).unwrap();
    let last = tmp.path().join("last-line");
    fs::write(&last, &bytes[cut + 1..]).unwrap();
    let last_was_bad = oracle(&last)["bad_lines"].as_u64().unwrap();

    let out = run(
        tmp.path(),
        &db,
        &["ingest", nonascii.to_str().unwrap(), torn.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    if with_nul > 0 {
        assert!(stderr.contains("bad lines skipped"), "{stderr}");
    }
    let counted = |file: &str| -> Vec<u64> {
        sql(
            &db,
            &format!(
                "SELECT h.lines, h.bad_lines, coalesce(h.first_bad_line, 0), h.objects + h.garbage_objects
                 FROM heap_dump h JOIN dump d ON d.id = h.dump_id WHERE d.file_name = '{file}'"
            ),
        )
        .split('|')
        .map(|v| v.parse().unwrap())
        .collect()
    };
    let whole = counted("nonascii_1700000000_11.dump");
    assert_eq!(whole[0], lines);
    assert_eq!(whole[1], bad);
    assert_eq!(whole[3], truth["objects"].as_u64().unwrap());
    let torn_counts = counted("torn_1700000000_12.dump");
    assert_eq!(torn_counts[0], lines);
    assert_eq!(
        torn_counts[1],
        bad - last_was_bad + 1,
        "{whole:?} {torn_counts:?}"
    );
    if bad == 0 {
        assert_eq!(torn_counts[2], lines, "the torn line is the last");
    }
    assert_eq!(torn_counts[3], whole[3] - (1 - last_was_bad));
}

fn ruby_version() -> String {
    let out = Command::new("ruby")
        .args(["-e", "print RUBY_VERSION"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_5_mb_line_is_read_whole() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let dump = tmp.path().join("big_1700000000_13.dump");
    let line: i64 = ruby("big_line.rb", &[dump.to_str().unwrap()])
        .trim()
        .parse()
        .unwrap();
    let bytes = fs::read(&dump).unwrap();
    let longest = bytes.split(|&b| b == b'\n').map(<[u8]>::len).max().unwrap();
    assert!(longest > 5_000_000, "{longest}");
    ingest(tmp.path(), &db, &[&dump]);
    // The objects are reachable only through the long line's references.
    let found = sql(
        &db,
        &format!(
            "SELECT s.objects, s.garbage_objects, h.bad_lines FROM heap_site s JOIN heap_dump h USING (dump_id)
             WHERE s.type = 'OBJECT' AND s.class = 'Object' AND s.line = {line} AND s.file LIKE '%big_line.rb'"
        ),
    );
    assert_eq!(found, "300000|0|0");
}

#[test]
fn compaction_between_two_dumps_marks_the_window_unreliable() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let dumps = tmp.path().join("dumps");
    fs::create_dir(&dumps).unwrap();
    ruby(
        "compact.rb",
        &[dumps.to_str().unwrap(), "77", &EPOCH.to_string()],
    );
    ingest(tmp.path(), &db, &[&dumps]);
    let untraced: Vec<u64> = sql(
        &db,
        "SELECT h.untraced_objects FROM heap_dump h JOIN dump d ON d.id = h.dump_id ORDER BY d.ts_us",
    )
    .lines()
    .map(|l| l.parse().unwrap())
    .collect();
    assert!(untraced[1] > untraced[0], "{untraced:?}");
    let p = &heap_json(tmp.path(), &db)[0];
    let window = &p["windows"][0];
    assert!(
        window["unreliable"]
            .as_str()
            .unwrap()
            .contains("compaction"),
        "{window}"
    );
    assert_ne!(p["verdict"], "heap grows");
    let table = ok(tmp.path(), &db, &["heap"]);
    assert!(table.contains("compaction moved objects"), "{table}");
}

#[test]
fn rss_growing_while_the_heap_does_not_is_a_leak_outside_the_heap() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let (dumps, expected) = leak_dumps(tmp.path(), "steady");
    let log = tmp.path().join("evm.log");
    memory_log(&log, PID, 4, 30);
    ingest(tmp.path(), &db, &[&dumps, &log]);
    let p = &heap_json(tmp.path(), &db)[0];
    assert_eq!(
        p["verdict"], "RSS grows outside the heap",
        "{}",
        p["reason"]
    );
    assert!(p["reason"]
        .as_str()
        .unwrap()
        .contains("outside the Ruby heap"));
    // No site of the script retains window after window.
    let file = expected["file"].as_str().unwrap();
    for s in p["sites"].as_array().unwrap() {
        assert!(
            !(s["file"] == file && s["type"] != "IMEMO" && s["windows_retaining"] == 2),
            "{s}"
        );
    }
    // dumps joins each dump to the RSS series: the nearest sample is 3 minutes
    // after it, RSS 200 MB + 30 MB per hour.
    let rows = json(&ok(tmp.path(), &db, &["dumps", "--format", "json"]));
    for (k, row) in rows.as_array().unwrap().iter().enumerate() {
        // Samples 3 minutes either side: the earlier one is taken.
        let distance = if k == 0 { 180 } else { -180 };
        assert_eq!(row["sample_distance_s"], distance, "{row}");
        let rss = 200.0 + 30.0 * (k as f64 + distance as f64 / 3600.0);
        assert_eq!(row["rss_mb"], (rss * 10.0f64).round() / 10.0, "{row}");
        assert_eq!(row["worker"], "MiqGenericWorker");
        let pct = row["heap_pct_of_rss"].as_f64().unwrap();
        let heap = row["heap_mb"].as_f64().unwrap();
        assert!((pct - 100.0 * heap / rss).abs() < 0.2, "{row}");
    }
}

#[test]
fn gzip_and_plain_copies_of_one_dump_are_stored_once_and_reingest_adds_nothing() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let (dumps, expected) = leak_dumps(tmp.path(), "leak");
    let first = dumps.join(expected["dumps"][0].as_str().unwrap());
    let copies = tmp.path().join("copies");
    fs::create_dir(&copies).unwrap();
    let plain = copies.join(first.file_name().unwrap());
    fs::copy(&first, &plain).unwrap();
    let gz = copies.join(format!(
        "{}.gz",
        first.file_name().unwrap().to_str().unwrap()
    ));
    let mut enc =
        flate2::write::GzEncoder::new(fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    enc.write_all(&fs::read(&first).unwrap()).unwrap();
    enc.finish().unwrap();

    let out = ingest(tmp.path(), &db, &[&copies]);
    assert!(out.contains("2 heap dumps (1 new)"), "{out}");
    let counts = "SELECT (SELECT COUNT(*) FROM dump), (SELECT COUNT(*) FROM heap_dump),
                         (SELECT COUNT(*) FROM heap_site), (SELECT COUNT(*) FROM source_file)";
    assert_eq!(
        sql(&db, counts).split('|').take(2).collect::<Vec<_>>(),
        ["1", "1"]
    );
    let before = sql(&db, counts);
    let out = ingest(tmp.path(), &db, &[&copies]);
    assert!(out.contains("2 heap dumps (0 new)"), "{out}");
    assert_eq!(sql(&db, counts), before);
    // The other dumps join it; the first is not read again.
    let out = ingest(tmp.path(), &db, &[&dumps]);
    assert!(out.contains("4 heap dumps (3 new)"), "{out}");
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM heap_dump"), "4");
    // Every reference the dumps' rows make is to a row that exists.
    assert_eq!(sql(&db, "PRAGMA integrity_check"), "ok");
    assert_eq!(sql(&db, "PRAGMA foreign_key_check"), "");
}

#[test]
fn a_truncated_gzip_dump_fails_alone_naming_the_file() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("m.db");
    let (dumps, expected) = leak_dumps(tmp.path(), "leak");
    let first = dumps.join(expected["dumps"][0].as_str().unwrap());
    let mut gz = Vec::new();
    let mut enc = flate2::write::GzEncoder::new(&mut gz, flate2::Compression::fast());
    enc.write_all(&fs::read(&first).unwrap()).unwrap();
    enc.finish().unwrap();
    let cut = dumps.join("cut_1700000000_99.dump.gz");
    fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let out = run(tmp.path(), &db, &["ingest", dumps.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut_1700000000_99.dump.gz"), "{stderr}");
    assert!(stderr.contains("truncated"), "{stderr}");
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM heap_dump"), "4");
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM dump WHERE pid = 99"), "0");
    // `--accept-truncated` keeps the readable part of a log, never of a dump.
    let out = run(
        tmp.path(),
        &db,
        &["ingest", "--accept-truncated", dumps.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cut_1700000000_99.dump.gz") && stderr.contains("read whole or not at all"),
        "{stderr}"
    );
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM dump WHERE pid = 99"), "0");
    assert_eq!(
        sql(
            &db,
            "SELECT COUNT(*) FROM source_file WHERE path LIKE '%cut_1700000000_99%'"
        ),
        "0"
    );
}

/// A database of schema version 3 (dumps recorded by name only) migrates
/// forward with its data, gains the heap tables, and the next ingest of the
/// same dump files reads their content into the dumps it already has.
#[test]
fn an_older_database_migrates_forward_and_reads_its_dumps_content() {
    let tmp = TempDir::new().unwrap();
    let db = tmp.path().join("v3.db");
    let dump = fs::read_to_string(repo().join("fixtures/db/v3.sql")).unwrap();
    let mut shell = Command::new("sqlite3")
        .arg(&db)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(dump.as_bytes())
        .unwrap();
    assert!(shell.wait().unwrap().success());
    let before = sql(&db, "SELECT COUNT(*), group_concat(file_name) FROM dump");
    let files_before = sql(&db, "SELECT COUNT(*) FROM source_file");

    let listed = ok(tmp.path(), &db, &["dumps", "--format", "csv"]);
    assert_eq!(listed.lines().count(), 1 + 5, "{listed}");
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM heap_dump"), "0");
    assert_eq!(
        before,
        sql(&db, "SELECT COUNT(*), group_concat(file_name) FROM dump")
    );

    let out = ok(
        repo().as_path(),
        &db,
        &[
            "ingest",
            "--host",
            "appliance-a",
            "fixtures/appliance-a/tmp",
        ],
    );
    assert!(out.contains("5 heap dumps (0 new)"), "{out}");
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM heap_dump"), "5");
    assert_eq!(
        before,
        sql(&db, "SELECT COUNT(*), group_concat(file_name) FROM dump")
    );
    assert_eq!(files_before, sql(&db, "SELECT COUNT(*) FROM source_file"));
    let out = ok(
        repo().as_path(),
        &db,
        &[
            "ingest",
            "--host",
            "appliance-a",
            "fixtures/appliance-a/tmp",
        ],
    );
    assert!(out.contains("5 heap dumps (0 new)"), "{out}");
    assert!(!out.contains("dump      "), "not read again: {out}");
    assert_eq!(sql(&db, "SELECT COUNT(*) FROM heap_dump"), "5");
    let _ = fails;
}
