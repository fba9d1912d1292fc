//! The SQLite write path alone: what storing one new sample costs, against the
//! floor of the same rows inserted by a bare prepared statement.
//!
//! Both sides write the same rows (a patched fleet's shape: 20 processes
//! interleaved line by line, a sample every 10 s each, message class and
//! method on every row) into a new database of the same schema, one
//! transaction per file of 13 000 samples (the size of one day of the
//! patched-fleet benchmark's logs). The store side goes through
//! `LogWrite::sample` and `commit` as an ingest does; the floor inserts rows
//! already in key order with one single-row `INSERT` prepared once, their
//! message names' ids known before it starts, and nothing else (no
//! per-process summaries, no duplicate accounting).
//!
//!   cargo bench --bench write_path [-- SAMPLES ROUNDS [store|floor]]
//!
//! Prints the median µs per sample of each side over the rounds (the two run
//! alternately, so load from other users of the machine falls on both) and
//! their ratio.

use std::path::Path;
use std::time::Instant;

use miq_memlog::parse::{LogTime, Sample, SampleKind};
use miq_memlog::store::{Access, FileMeta, Store};

const PROCESSES: i64 = 20;
const PER_FILE: usize = 13_000;
const START_US: i64 = 1_488_326_400_000_000;

const CLASSES: [(&str, &str); 4] = [
    (
        "ManageIQ::Providers::Vmware::InfraManager::Vm",
        "perf_rollup",
    ),
    ("Storage", "perf_process"),
    ("Host", "perf_process"),
    ("MiqServer", "status_update"),
];

fn sample(i: usize) -> Sample {
    let pid = 10_000 + (i as i64 % PROCESSES);
    let tick = i as i64 / PROCESSES;
    let worker = format!("MiqWorker{}", pid % 5);
    let mut s = Sample::new(
        i as u64 + 1,
        LogTime::Utc(START_US + tick * 10_000_000 + pid),
        pid,
        worker,
        SampleKind::Patch,
    );
    let grow = tick * 4096 + (i as i64 * 7919) % 65_536;
    s.rss_bytes = Some(300_000_000 + grow);
    s.pss_bytes = Some(280_000_000 + grow);
    s.live_slots = Some(1_500_000 + tick);
    s.old_objects = Some(1_200_000 + tick / 2);
    s.msg_id = Some(9_000_000 + i as i64);
    let (class, method) = CLASSES[i % CLASSES.len()];
    s.msg_class = Some(class.to_string());
    s.msg_method = Some(method.to_string());
    s
}

fn meta(file: usize) -> FileMeta {
    FileMeta {
        path: format!("evm.log-{file}"),
        hash: format!("{file:032x}"),
        quick_key: format!("q{file}"),
        size_bytes: 1,
        compressed: false,
        host: "appliance".to_string(),
        format: "classic",
        zone: "UTC".to_string(),
        zone_inferred: false,
        partial: false,
        lines: PER_FILE as u64,
        rejected: 0,
        cut: 0,
    }
}

fn fresh(path: &Path) {
    for end in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{end}", path.display()));
    }
}

/// Seconds to store `samples` through the store's log writer.
fn store_side(path: &Path, samples: &[Sample]) -> f64 {
    fresh(path);
    let mut store = Store::open(path, Access::ReadWrite).expect("open");
    let started = Instant::now();
    for (file, rows) in samples.chunks(PER_FILE).enumerate() {
        let mut write = store.begin_log(&meta(file)).expect("begin").expect("new");
        for s in rows {
            let utc = s.time.us();
            write.sample(s.clone(), utc).expect("sample");
        }
        let counts = write.commit().expect("commit");
        assert_eq!(counts.samples_new as usize, rows.len());
    }
    started.elapsed().as_secs_f64()
}

/// Seconds to insert the same rows with one prepared single-row INSERT, in key
/// order, one transaction per file.
fn floor_side(path: &Path, samples: &[Sample]) -> f64 {
    fresh(path);
    drop(Store::open(path, Access::ReadWrite).expect("open"));
    let mut conn = rusqlite::Connection::open(path).expect("open");
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    for pid in 0..PROCESSES {
        conn.execute(
            "INSERT INTO process (host, pid, worker) VALUES ('appliance', ?1, 'w')",
            [10_000 + pid],
        )
        .unwrap();
    }
    let mut names = std::collections::HashMap::new();
    for name in CLASSES.iter().flat_map(|&(class, method)| [class, method]) {
        if !names.contains_key(name) {
            conn.execute("INSERT INTO msg_name (name) VALUES (?1)", [name])
                .unwrap();
            names.insert(name, conn.last_insert_rowid());
        }
    }
    let id = |name: &Option<String>| name.as_deref().map(|n| names[n]);
    let started = Instant::now();
    for (file, rows) in samples.chunks(PER_FILE).enumerate() {
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO source_file (path, hash, quick_key, size_bytes, compressed, host, format, tz,
                 tz_inferred, status, lines, samples_new, samples_dup, events_new, rejected, ingested_us)
             VALUES (?1, ?2, ?3, 1, 0, 'appliance', 'classic', 'UTC', 0, 'complete', 1, 0, 0, 0, 0, 0)",
            (format!("f{file}"), format!("h{file}"), format!("q{file}")),
        )
        .unwrap();
        let file_id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO sample (process_id, ts_us, source, rss_bytes, pss_bytes, uss_bytes,
                         vsz_bytes, live_slots, old_objects, msg_id, msg_class_id, msg_method_id,
                         file_id, line_no, swap_bytes, gc_ms, msg_ms, msgs)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                )
                .unwrap();
            let mut file_rows: Vec<&Sample> = rows.iter().collect();
            file_rows.sort_by_key(|s| (s.pid, s.time.us()));
            for s in file_rows {
                insert
                    .execute(rusqlite::params![
                        s.pid - 10_000 + 1,
                        s.time.us(),
                        s.kind.as_str(),
                        s.rss_bytes,
                        s.pss_bytes,
                        s.uss_bytes,
                        s.vsz_bytes,
                        s.live_slots,
                        s.old_objects,
                        s.msg_id,
                        id(&s.msg_class),
                        id(&s.msg_method),
                        file_id,
                        s.line_no as i64,
                        s.swap_bytes,
                        s.gc_ms,
                        s.msg_ms,
                        s.msgs,
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; the numbers are the arguments that parse.
    let numbers: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = numbers.first().copied().unwrap_or(520_000);
    let rounds = numbers.get(1).copied().unwrap_or(5);
    let samples: Vec<Sample> = (0..n).map(sample).collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("write.db");
    // `store` or `floor` as a further argument runs that side alone (for a
    // profiler or an instruction count).
    let only = std::env::args().find(|a| a == "store" || a == "floor");
    if let Some(side) = only {
        let seconds = if side == "store" {
            store_side(&db, &samples)
        } else {
            floor_side(&db, &samples)
        };
        println!("{side} {:.3} µs/sample", seconds / n as f64 * 1e6);
        return;
    }
    let (mut store, mut floor) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            store.push(store_side(&db, &samples));
            floor.push(floor_side(&db, &samples));
        } else {
            floor.push(floor_side(&db, &samples));
            store.push(store_side(&db, &samples));
        }
    }
    let per = |s: f64| s / n as f64 * 1e6;
    let (store, floor) = (per(median(store)), per(median(floor)));
    println!("samples {n}, rounds {rounds}");
    println!("store write path   {store:.3} µs/sample");
    println!("bare INSERT floor  {floor:.3} µs/sample");
    println!("ratio              {:.2} x", store / floor);
}
