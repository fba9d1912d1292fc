//! Heap dumps written by real Ruby for the tests (scripts in tests/heap/):
//! running a script, the dumps of leak.rb with its account of what it
//! planted, and a patched log of the same process for its memory series.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::fixture_db::repo;

pub const PID: &str = "4242";
/// 2023-11-14T22:13:20Z; dumps are an hour apart from it.
pub const EPOCH: i64 = 1_700_000_000;

pub fn script(name: &str) -> PathBuf {
    repo().join("tests/heap").join(name)
}

/// Runs a test script with real Ruby; returns its standard output.
pub fn ruby(name: &str, args: &[&str]) -> String {
    let out = Command::new("ruby")
        .arg(script(name))
        .args(args)
        .output()
        .expect("ruby must be installed to test heap dumps (apt-get install ruby)");
    assert!(
        out.status.success(),
        "ruby {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A classic log of `pid`: a patched Memory Info line (one queue message)
/// every 6 minutes from 3 minutes after `EPOCH` for `hours`, RSS starting at
/// 200 MB and growing by `rss_mb_per_hour`.
pub fn memory_log(path: &Path, pid: &str, hours: i64, rss_mb_per_hour: i64) {
    let mut text = String::new();
    for i in 0..hours * 10 {
        let t = EPOCH + 180 + 360 * i;
        let time = chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.6f");
        let rss = 200 * 1_048_576 + rss_mb_per_hour * 1_048_576 * (t - EPOCH) / 3600;
        text.push_str(&format!(
            "[----] I, [{time} #{pid}:2b0c]  INFO -- : MIQ(MiqGenericWorker::Runner#do_work) Memory Info XXXX \
             (#<MiqQueue id: {}, method_name: \"perform\", class_name: \"Job\">) => \
             {{Live: 400000, Old: 300000, RSS: {rss}, PSS: {}}}\n",
            1000 + i,
            rss / 2
        ));
    }
    fs::write(path, text).unwrap();
}

/// Dumps made by leak.rb (`mode` "leak" or "steady") in `tmp/dumps`, with the
/// script's own account of what it planted.
pub fn leak_dumps(tmp: &Path, mode: &str) -> (PathBuf, Value) {
    let dumps = tmp.join("dumps");
    fs::create_dir_all(&dumps).unwrap();
    ruby(
        "leak.rb",
        &[dumps.to_str().unwrap(), PID, &EPOCH.to_string(), mode],
    );
    let expected = json(&fs::read_to_string(tmp.join("dumps.expected.json")).unwrap());
    (dumps, expected)
}
