//! The synthetic-log generator against the real ingest: every sample it writes is
//! stored, under the process it names, and the same seed gives the same bytes.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

fn miq(db: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_miq-memlog"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("miq-memlog runs");
    assert!(
        out.status.success(),
        "miq-memlog {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn sqlite(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("sqlite3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const GENERATE: [&str; 13] = [
    "generate",
    "--seed",
    "42",
    "--appliances",
    "2",
    "--days",
    "2",
    "--tz=-05:00",
    "--interval",
    "90",
    "--dump-every",
    "100",
    "--long-lines=2",
];

const WORKERS: [&str; 6] = [
    "--worker",
    "MiqGenericWorker:leak=40,old=20000,cause=MiqReport.generate_table,kinds=MiqReport.generate_table+MiqTask.destroy_older_by_condition+VmOrTemplate.post_refresh_ems,limit=500,base=250",
    "--worker",
    "ManageIQ::Providers::Vmware::InfraManager::MetricsCollectorWorker:noise=5",
    "--worker",
    "MiqEventHandler:patched=no,leak=30,limit=600",
];

fn generate(out: &Path) -> String {
    let mut args: Vec<&str> = GENERATE.to_vec();
    args.extend(WORKERS);
    args.extend(["--max-line", "300K", "--out", out.to_str().unwrap()]);
    miq(&out.with_extension("unused.db"), &args)
}

fn tree(dir: &Path, into: &mut BTreeMap<String, Vec<u8>>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            tree(&path, into);
        } else {
            into.insert(path.display().to_string(), fs::read(&path).unwrap());
        }
    }
}

#[test]
fn every_generated_sample_is_stored_under_its_process() {
    let tmp = tempfile::tempdir().unwrap();
    let gen = tmp.path().join("gen");
    let summary = generate(&gen);
    assert!(summary.starts_with("generated 4 log files"), "{summary}");

    // truth.csv: one row per simulated process.
    let truth = fs::read_to_string(gen.join("truth.csv")).unwrap();
    let mut lines = truth.lines();
    assert_eq!(
        lines.next(),
        Some("host,pid,worker,patched,rss_mb_per_hour,old_per_hour,cause,noise_mb,limit_mb,started,ended,end_reason,patch_samples,status_samples,dumps")
    );
    let mut expected = Vec::new();
    let (mut restarts, mut dumps) = (0, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 15, "{line}");
        let samples: u64 = f[12].parse::<u64>().unwrap() + f[13].parse::<u64>().unwrap();
        expected.push(format!("{}|{}|{}|{samples}", f[0], f[1], f[2]));
        if f[11] == "memory_exceeded" {
            restarts += 1;
        }
        dumps += f[14].parse::<u64>().unwrap();
    }
    expected.sort();
    assert!(
        restarts >= 4,
        "the leaking workers cross their limits: {truth}"
    );

    let db = tmp.path().join("gen.db");
    let report = miq(
        &db,
        &[
            "ingest",
            "--host-from-folder",
            gen.join("appliance-01").to_str().unwrap(),
            gen.join("appliance-02").to_str().unwrap(),
        ],
    );
    assert!(
        report.contains("4 files ingested, 0 already ingested, 0 failed"),
        "{report}"
    );
    assert!(report.contains("zone -05:00 (inferred"), "{report}");
    for line in report.lines().filter(|l| l.starts_with("ingested ")) {
        assert!(line.contains(", 0 rejected lines"), "{line}");
    }

    let stored = sqlite(
        &db,
        "SELECT host || '|' || pid || '|' || worker || '|' || COUNT(*) FROM samples GROUP BY host, pid, worker ORDER BY 1",
    );
    let mut stored: Vec<String> = stored.lines().map(String::from).collect();
    stored.sort();
    assert_eq!(stored, expected);

    let events = sqlite(
        &db,
        "SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind",
    );
    assert_eq!(
        events,
        format!("dump|{dumps}\nmemory_exceeded|{restarts}\nworker_started|{restarts}\n")
    );

    // The growth-causing kind is what the patched lines name.
    let kinds = sqlite(
        &db,
        "SELECT DISTINCT msg_class || '.' || msg_method FROM samples WHERE worker = 'MiqGenericWorker' AND msg_class IS NOT NULL ORDER BY 1",
    );
    assert_eq!(
        kinds,
        "MiqReport.generate_table\nMiqTask.destroy_older_by_condition\nVmOrTemplate.post_refresh_ems\n"
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    generate(&a);
    generate(&b);
    let (mut ta, mut tb) = (BTreeMap::new(), BTreeMap::new());
    tree(&a, &mut ta);
    tree(&b, &mut tb);
    assert!(ta.len() > 10);
    let strip = |m: BTreeMap<String, Vec<u8>>, root: &Path| -> Vec<(String, Vec<u8>)> {
        let root = root.display().to_string();
        m.into_iter()
            .map(|(k, v)| (k.trim_start_matches(&root).to_string(), v))
            .collect()
    };
    assert!(strip(ta, &a) == strip(tb, &b), "same seed, different bytes");

    let c = tmp.path().join("c");
    let mut args: Vec<&str> = GENERATE.to_vec();
    args[2] = "43";
    args.extend(["--plain", "--out", c.to_str().unwrap()]);
    miq(&c.with_extension("unused.db"), &args);
    let first = fs::read(c.join("appliance-01/evm.log-20170302")).unwrap();
    assert!(first.starts_with(b"[----] "));
    assert_ne!(
        first,
        flate2_free_gunzip(&a.join("appliance-01/evm.log-20170302.gz"))
    );
}

/// Inflates with the gzip tool, as a user would.
fn flate2_free_gunzip(path: &Path) -> Vec<u8> {
    Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .expect("gzip runs")
        .stdout
}
