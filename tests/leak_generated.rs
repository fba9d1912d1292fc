//! `report` on a generated multi-day appliance whose leak rates and causes are
//! known from the generator's `truth.csv`.

use std::collections::BTreeMap;

mod fixture_db;
use fixture_db::{records, FixtureDb};

const WORKERS: [&str; 5] = [
    // Leaks 6 MB/h, only while delivering Storage.perf_process, up to 400 MB.
    "MiqEmsMetricsProcessorWorker:leak=6,old=15000,cause=Storage.perf_process,limit=400,base=220,kinds=Storage.perf_process+Vm.perf_process+Host.perf_process",
    // The sawtooth: 150 MB/h to its 500 MB limit, restarted every 100 minutes.
    "MiqPriorityWorker:leak=150,old=60000,limit=500,base=250,kinds=MiqEvent.raise_evm_event+MiqServer.ntp_reload",
    "MiqGenericWorker:leak=0,noise=4,base=300,kinds=MiqReport.generate_table+MiqTask.destroy",
    // Stock logs only: judged on RSS.
    "MiqEventHandler:patched=no,leak=1.5,base=280,limit=800",
    "MiqScheduleWorker:patched=no,leak=0,base=250",
];

#[test]
fn report_finds_the_generated_leaks_their_rates_and_their_cause() {
    let db = FixtureDb::empty();
    let out = db.path().join("gen");
    let mut args = vec![
        "generate",
        "--seed",
        "11",
        "--days",
        "4",
        "--out",
        out.to_str().unwrap(),
    ];
    for w in WORKERS {
        args.extend(["--worker", w]);
    }
    db.ok(&args);
    let appliance = out.join("appliance-01");
    db.ok(&[
        "ingest",
        "--quiet",
        "--host-from-folder",
        appliance.to_str().unwrap(),
    ]);

    let truth: BTreeMap<String, (f64, String)> =
        records(&std::fs::read_to_string(out.join("truth.csv")).unwrap())
            .into_iter()
            .map(|t| {
                (
                    t["worker"].clone(),
                    (t["rss_mb_per_hour"].parse().unwrap(), t["cause"].clone()),
                )
            })
            .collect();
    // Every worker given, and the server, which the generator always writes.
    assert_eq!(truth.len(), WORKERS.len() + 1);
    assert_eq!(truth["MiqServer"].0, 0.0);

    // Leaking worker types come first, each with its true rate within 20 %; flat ones are stable.
    let workers = records(&db.ok(&["report", "--by", "worker", "--format", "csv"]));
    let leaking: Vec<&str> = truth
        .iter()
        .filter(|t| t.1 .0 > 0.0)
        .map(|t| t.0.as_str())
        .collect();
    let mut ranked: Vec<&str> = workers[..leaking.len()]
        .iter()
        .map(|w| w["worker"].as_str())
        .collect();
    ranked.sort();
    assert_eq!(ranked, leaking, "leaking types first: {workers:?}");
    for w in &workers {
        let (rate, _) = truth[&w["worker"]];
        let slope: f64 = w["median_rss_mb_per_hour"].parse().unwrap();
        if rate > 0.0 {
            assert_eq!(w["verdict"], "leaking", "{w:?}");
            assert!((slope - rate).abs() <= 0.2 * rate, "{w:?}: truth {rate}");
        } else {
            assert_eq!(w["verdict"], "stable", "{w:?}");
            assert!(slope.abs() < 0.1, "{w:?}");
        }
    }
    // The sawtooth: every process is too short to judge alone, the type is leaking.
    let sawtooth = workers
        .iter()
        .find(|w| w["worker"] == "MiqPriorityWorker")
        .unwrap();
    assert!(
        sawtooth["restarts"].parse::<u32>().unwrap() >= 50,
        "{sawtooth:?}"
    );
    assert_eq!(
        sawtooth["leaking"], "0",
        "each process too short alone: {sawtooth:?}"
    );

    // The message kind that causes the growth, and only it, is named.
    let messages = records(&db.ok(&["report", "--by", "message", "--format", "csv"]));
    for (worker, (_, cause)) in truth.iter().filter(|t| !t.1 .1.is_empty()) {
        let growing: Vec<&str> = messages
            .iter()
            .filter(|m| &m["worker"] == worker && m["grows"] == "yes")
            .map(|m| m["message"].as_str())
            .collect();
        assert_eq!(growing, [cause.as_str()], "{worker}");
    }
}
